//! The demo bakeries' clock. Both are in Spain (Madrid and Barcelona share a time zone),
//! so every time of day in the data files — opening hours, the till's tickets, the bake at
//! 04:30, deliveries — is Europe/Madrid local time, and the templates' "today" is Madrid's
//! calendar day, not UTC's (between midnight and 01:00 or 02:00 in Madrid they differ).
//! The arithmetic is `bakery_config::clock`'s, which every service draws its days with.

use bakery_config::clock::BakeryTimeZone;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

/// The time zone of both demo bakeries (`data/demo/accounts.toml` must say the same).
pub const BAKERY_TIME_ZONE: BakeryTimeZone = BakeryTimeZone::MADRID;

/// The templates' calendar day at `now`: the day the seed treats as "today" (its tickets
/// are the day in progress, the history ends the day before).
pub fn bakery_today(now: DateTime<Utc>) -> NaiveDate {
    BAKERY_TIME_ZONE.day_of(now)
}

/// The instant of `time` (local) on `day` (local), in UTC ([`BakeryTimeZone::instant`]:
/// a skipped time reads an hour later, a repeated one is the first).
pub fn local_instant(day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    BAKERY_TIME_ZONE.instant(day, time)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        day(y, mo, d)
            .and_hms_opt(h, mi, 0)
            .unwrap_or_default()
            .and_utc()
    }

    #[test]
    fn the_bakery_day_turns_at_madrid_midnight() {
        // 23:30 UTC on 30 November is already 1 December in Madrid
        assert_eq!(bakery_today(utc(2026, 11, 30, 23, 30)), day(2026, 12, 1));
        assert_eq!(bakery_today(utc(2026, 11, 30, 22, 59)), day(2026, 11, 30));
        // in summer, from 22:00 UTC
        assert_eq!(bakery_today(utc(2026, 7, 1, 22, 0)), day(2026, 7, 2));
        assert_eq!(bakery_today(utc(2026, 7, 1, 21, 59)), day(2026, 7, 1));
    }
}
