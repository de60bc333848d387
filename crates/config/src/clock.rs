//! The bakery's clock. A bakery's day is its own calendar day, not UTC's: in Madrid a
//! ticket rung up at 00:30 belongs to that Madrid day, and "hoy" starts at local midnight
//! (between midnight and 01:00 or 02:00 the UTC date is still yesterday's). Every day
//! boundary a service draws — "hoy", a day filter, the days a forecast learns from, the
//! date on a purchase order — is drawn in the tenant's time zone (the tenant directory's
//! `timezone`, carried to the services in the gateway's [`Identity`](crate::auth::Identity)).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A tenant's time zone: an IANA name from the tz database (`Europe/Madrid`,
/// `Atlantic/Canary`). Serialized as that name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BakeryTimeZone(Tz);

/// A name that is not in the tz database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an IANA time zone")]
pub struct UnknownTimeZone(pub String);

impl BakeryTimeZone {
    /// Both demo bakeries' zone (Madrid and Barcelona share it), and a tenant's default.
    pub const MADRID: BakeryTimeZone = BakeryTimeZone(chrono_tz::Europe::Madrid);

    pub fn parse(name: &str) -> Result<Self, UnknownTimeZone> {
        Tz::from_str(name)
            .map(BakeryTimeZone)
            .map_err(|_| UnknownTimeZone(name.chars().take(64).collect()))
    }

    /// The IANA name.
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    pub fn tz(self) -> Tz {
        self.0
    }

    /// The bakery's calendar day at `now`.
    pub fn day_of(self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.0).date_naive()
    }

    /// The bakery's calendar day right now.
    pub fn today(self) -> NaiveDate {
        self.day_of(Utc::now())
    }

    /// The instant of the local `time` on the local `day`. A time that does not exist (the
    /// hour skipped when summer time begins) is read an hour later, as a clock put forward
    /// shows it; one that happens twice (the hour repeated in October) is the first.
    pub fn instant(self, day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        let local = day.and_time(time);
        self.0
            .from_local_datetime(&local)
            .earliest()
            .or_else(|| {
                self.0
                    .from_local_datetime(&(local + Duration::hours(1)))
                    .earliest()
            })
            // no zone skips two hours; UTC's reading keeps this total all the same
            .map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc))
    }

    /// The instant the local `day` starts (its first midnight, or the end of a gap at
    /// midnight, as in zones that once moved their clocks at 00:00).
    pub fn start_of(self, day: NaiveDate) -> DateTime<Utc> {
        self.instant(day, NaiveTime::MIN)
    }

    /// `[start of first, start of the day after last)`; `None` if `last` is chrono's
    /// last day (callers bound the days they accept well before that).
    pub fn days(self, first: NaiveDate, last: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        Some((self.start_of(first), self.start_of(last.succ_opt()?)))
    }
}

impl Default for BakeryTimeZone {
    fn default() -> Self {
        BakeryTimeZone::MADRID
    }
}

impl fmt::Display for BakeryTimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for BakeryTimeZone {
    type Err = UnknownTimeZone;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BakeryTimeZone::parse(s)
    }
}

impl Serialize for BakeryTimeZone {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for BakeryTimeZone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        BakeryTimeZone::parse(&name).map_err(serde::de::Error::custom)
    }
}

/// A day of the year, `"MM-DD"` (any year; 29 February included). Stored as that text.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct MonthDay {
    month: u32,
    day: u32,
}

impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for MonthDay {
    fn to_sql<'b>(
        &'b self,
        out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
    ) -> diesel::serialize::Result {
        use std::io::Write;
        write!(out, "{self}")?;
        Ok(diesel::serialize::IsNull::No)
    }
}

impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for MonthDay {
    fn from_sql(bytes: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
        let text = <String as diesel::deserialize::FromSql<
            diesel::sql_types::Text,
            diesel::pg::Pg,
        >>::from_sql(bytes)?;
        Ok(text.parse::<MonthDay>()?)
    }
}

/// Not a day of the year (`"MM-DD"`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a day of the year (MM-DD)")]
pub struct NotADayOfTheYear(pub String);

impl MonthDay {
    pub fn of(day: NaiveDate) -> Self {
        use chrono::Datelike;
        MonthDay {
            month: day.month(),
            day: day.day(),
        }
    }
}

impl FromStr for MonthDay {
    type Err = NotADayOfTheYear;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // exactly MM-DD, checked in a leap year so 29 February is a day of the year too
        let well_formed = s.len() == 5 && s.as_bytes().get(2) == Some(&b'-');
        well_formed
            .then(|| NaiveDate::parse_from_str(&format!("2024-{s}"), "%Y-%m-%d").ok())
            .flatten()
            .map(MonthDay::of)
            .ok_or_else(|| NotADayOfTheYear(s.to_owned()))
    }
}

impl fmt::Display for MonthDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}-{:02}", self.month, self.day)
    }
}

impl Serialize for MonthDay {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MonthDay {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The days of the year a seasonal product is on sale: `from` to `to`, both included; a
/// season may run over New Year (`12-20` to `01-06`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Season {
    /// First day on sale, `MM-DD`.
    #[schema(value_type = String, example = "12-20")]
    pub from: MonthDay,
    /// Last day on sale, `MM-DD`.
    #[schema(value_type = String, example = "01-06")]
    pub to: MonthDay,
}

impl Season {
    pub fn contains(&self, day: MonthDay) -> bool {
        if self.from <= self.to {
            self.from <= day && day <= self.to
        } else {
            day >= self.from || day <= self.to
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{MonthDay, Season};

    fn d(s: &str) -> chrono::NaiveDate {
        s.parse().expect("a date")
    }

    fn on(day: &str) -> MonthDay {
        MonthDay::of(d(day))
    }

    #[test]
    fn a_day_of_the_year_is_exactly_mm_dd() {
        assert_eq!(
            "02-29".parse::<MonthDay>().map(|m| m.to_string()),
            Ok("02-29".to_owned())
        );
        for bad in [
            "2-29", "02-30", "13-01", "00-10", "12-1", "12/20", "12-200", "", "aa-bb",
        ] {
            assert!(bad.parse::<MonthDay>().is_err(), "{bad}");
        }
        let json = serde_json::to_string(&MonthDay::of(d("2026-01-06"))).expect("json");
        assert_eq!(json, "\"01-06\"");
    }

    #[test]
    fn a_season_may_run_over_new_year() {
        let md = |s: &str| s.parse::<MonthDay>().expect("MM-DD");
        let reyes = Season {
            from: md("12-20"),
            to: md("01-06"),
        };
        for day in ["2026-12-20", "2026-12-31", "2027-01-01", "2027-01-06"] {
            assert!(reyes.contains(on(day)), "{day}");
        }
        for day in ["2026-12-19", "2027-01-07", "2026-07-01"] {
            assert!(!reyes.contains(on(day)), "{day}");
        }
        let santos = Season {
            from: md("10-22"),
            to: md("11-02"),
        };
        assert!(santos.contains(on("2026-11-02")) && !santos.contains(on("2026-12-01")));
    }

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

    const MADRID: BakeryTimeZone = BakeryTimeZone::MADRID;

    #[test]
    fn madrid_is_utc_plus_one_in_winter_and_plus_two_in_summer() {
        assert_eq!(
            MADRID.instant(day(2026, 12, 1), hm(8, 0)),
            utc(2026, 12, 1, 7, 0)
        );
        assert_eq!(
            MADRID.instant(day(2026, 7, 1), hm(8, 0)),
            utc(2026, 7, 1, 6, 0)
        );
        // 25 October 2026: 03:00 summer time becomes 02:00 winter time
        assert_eq!(
            MADRID.instant(day(2026, 10, 24), hm(9, 0)),
            utc(2026, 10, 24, 7, 0)
        );
        assert_eq!(
            MADRID.instant(day(2026, 10, 25), hm(9, 0)),
            utc(2026, 10, 25, 8, 0)
        );
        // the repeated hour is the first one, the skipped hour (29 March) reads an hour on
        assert_eq!(
            MADRID.instant(day(2026, 10, 25), hm(2, 30)),
            utc(2026, 10, 25, 0, 30)
        );
        assert_eq!(
            MADRID.instant(day(2026, 3, 29), hm(2, 30)),
            utc(2026, 3, 29, 1, 30)
        );
    }

    #[test]
    fn a_madrid_day_starts_at_its_midnight_and_the_utc_date_lags_behind() {
        assert_eq!(MADRID.start_of(day(2026, 12, 1)), utc(2026, 11, 30, 23, 0));
        assert_eq!(MADRID.start_of(day(2026, 7, 1)), utc(2026, 6, 30, 22, 0));
        assert_eq!(MADRID.day_of(utc(2026, 11, 30, 23, 30)), day(2026, 12, 1));
        assert_eq!(MADRID.day_of(utc(2026, 11, 30, 22, 59)), day(2026, 11, 30));
        // the day summer time ends has 25 hours
        let (start, end) = MADRID
            .days(day(2026, 10, 25), day(2026, 10, 25))
            .unwrap_or_default();
        assert_eq!((end - start).num_hours(), 25);
    }

    #[test]
    fn a_day_that_skips_midnight_starts_when_the_clock_shows_one() {
        // Santiago de Chile moved its clocks forward at 00:00 on 8 September 2024
        let santiago = BakeryTimeZone::parse("America/Santiago").unwrap_or_default();
        let start = santiago.start_of(day(2024, 9, 8));
        assert_eq!(santiago.day_of(start), day(2024, 9, 8));
        assert_eq!(start, utc(2024, 9, 8, 4, 0));
    }

    #[test]
    fn names_round_trip_and_unknown_ones_are_refused() {
        let canary: BakeryTimeZone = "Atlantic/Canary".parse().unwrap_or_default();
        assert_eq!(canary.name(), "Atlantic/Canary");
        assert_eq!(
            serde_json::to_string(&canary).unwrap_or_default(),
            "\"Atlantic/Canary\""
        );
        assert_eq!(
            serde_json::from_str::<BakeryTimeZone>("\"Europe/Madrid\"").ok(),
            Some(MADRID)
        );
        assert!(serde_json::from_str::<BakeryTimeZone>("\"Mars/Olympus\"").is_err());
        assert!(BakeryTimeZone::parse("UTC+1").is_err());
        assert_eq!(BakeryTimeZone::default(), MADRID);
    }
}
