//! The demo bakeries' clock. Both are in Spain (Madrid and Barcelona share a time zone),
//! so every time of day in the data files — opening hours, the till's tickets, the bake at
//! 04:30, deliveries — is Europe/Madrid local time, and the templates' "today" is Madrid's
//! calendar day, not UTC's (between midnight and 01:00 or 02:00 in Madrid they differ).

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The time zone of both demo bakeries.
pub const BAKERY_TIME_ZONE: Tz = chrono_tz::Europe::Madrid;

/// The templates' calendar day at `now`: the day the seed treats as "today" (its tickets
/// are the day in progress, the history ends the day before).
pub fn bakery_today(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&BAKERY_TIME_ZONE).date_naive()
}

/// The instant of `time` (local) on `day` (local), in UTC. A time that does not exist (the
/// hour skipped when summer time begins) is read an hour later, as a clock put forward
/// shows it; one that happens twice (the hour repeated in October) is the first.
pub fn local_instant(day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let local = day.and_time(time);
    BAKERY_TIME_ZONE
        .from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            BAKERY_TIME_ZONE
                .from_local_datetime(&(local + Duration::hours(1)))
                .earliest()
        })
        .map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default()
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        day(y, mo, d).and_time(hm(h, mi)).and_utc()
    }

    #[test]
    fn madrid_is_utc_plus_one_in_winter_and_plus_two_in_summer() {
        assert_eq!(
            local_instant(day(2026, 12, 1), hm(8, 0)),
            utc(2026, 12, 1, 7, 0)
        );
        assert_eq!(
            local_instant(day(2026, 7, 1), hm(8, 0)),
            utc(2026, 7, 1, 6, 0)
        );
        // 25 October 2026: 03:00 summer time becomes 02:00 winter time
        assert_eq!(
            local_instant(day(2026, 10, 24), hm(9, 0)),
            utc(2026, 10, 24, 7, 0)
        );
        assert_eq!(
            local_instant(day(2026, 10, 25), hm(9, 0)),
            utc(2026, 10, 25, 8, 0)
        );
        // the repeated hour is the first one, the skipped hour (29 March) reads an hour on
        assert_eq!(
            local_instant(day(2026, 10, 25), hm(2, 30)),
            utc(2026, 10, 25, 0, 30)
        );
        assert_eq!(
            local_instant(day(2026, 3, 29), hm(2, 30)),
            utc(2026, 3, 29, 1, 30)
        );
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
