//! The demo funnel (docs/demo-sessions.md, "The funnel"): the `demo_milestones` table,
//! the checklist it ticks, the `funnel` part of `GET /api/demo/stats`, and its retention.
//!
//! A row is the FIRST occurrence of a (milestone, detail) in a session: inserts are
//! `ON CONFLICT DO NOTHING`, so a session holds at most the vocabulary's size in rows and
//! a client repeating itself costs no row. Every read here is bounded by that.

use std::collections::BTreeMap;

use bakery_config::demo::AccountType;
use bakery_config::funnel::{Event, Milestone, Screen, WriteKind};
use chrono::NaiveDate;
use diesel::sql_query;
use diesel::sql_types::{Array, BigInt, Date, Integer, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

/// Days are counted in the bakeries' time zone.
pub const TIME_ZONE: &str = "Europe/Madrid";
/// The longest range `GET /api/demo/stats?from=&to=` answers, in days.
pub const MAX_RANGE_DAYS: i64 = 92;
/// The range without `from`/`to`: the last 7 days, today included.
pub const DEFAULT_RANGE_DAYS: i64 = 7;
/// Rows one retention statement deletes, and statements per cleanup pass.
pub const RETENTION_BATCH: i64 = 5_000;
pub const RETENTION_BATCHES_PER_PASS: usize = 20;

/// The funnel's steps, in order: the sessions that reached each.
pub const STEPS: [&str; 6] = [
    "created",
    "screen_viewed",
    "first_write",
    "extended",
    "signup_started",
    "converted",
];

#[derive(diesel::QueryableByName)]
struct Recorded {
    #[diesel(sql_type = Text)]
    milestone: String,
    #[diesel(sql_type = Text)]
    demo_account_type: AccountType,
}

/// Records `events` (session id, event), keeping each session's first occurrence. Events
/// of sessions that do not exist are ignored. Answers what was newly recorded.
pub async fn record(
    conn: &mut AsyncPgConnection,
    events: &[(String, Event)],
) -> diesel::QueryResult<Vec<(Milestone, AccountType)>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = events.iter().map(|(id, _)| id.as_str()).collect();
    let milestones: Vec<&str> = events.iter().map(|(_, e)| e.milestone().as_str()).collect();
    let details: Vec<&str> = events.iter().map(|(_, e)| e.detail()).collect();
    let rows: Vec<Recorded> = sql_query(
        "INSERT INTO demo_milestones (session_id, demo_account_type, milestone, detail)
         SELECT s.id, s.demo_account_type, e.milestone, e.detail
         FROM unnest($1::text[], $2::text[], $3::text[]) AS e(session_id, milestone, detail)
         JOIN demo_sessions s ON s.id = e.session_id
         ON CONFLICT DO NOTHING
         RETURNING milestone, demo_account_type",
    )
    .bind::<Array<Text>, _>(ids)
    .bind::<Array<Text>, _>(milestones)
    .bind::<Array<Text>, _>(details)
    .get_results(conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            r.milestone
                .parse::<Milestone>()
                .ok()
                .map(|m| (m, r.demo_account_type))
        })
        .collect())
}

/// One item of the guided checklist.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ChecklistItem {
    /// `sale`, `order`, `adjustment`, `recipe_costing`.
    pub id: &'static str,
    pub title: &'static str,
    /// Where on the demo page to do it (`#/venta`…).
    pub screen: &'static str,
    pub done: bool,
}

/// `GET /api/demo/session/{id}/checklist`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[schema(as = DemoChecklist)]
pub struct Checklist {
    pub items: Vec<ChecklistItem>,
    pub done: usize,
    pub total: usize,
    /// The first item not done, or, once all are, the invitation to sign up.
    pub next_step: Option<NextStep>,
}

/// What the page offers next.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct NextStep {
    /// An item's id, or `signup` once every item is done.
    pub id: &'static str,
    pub title: &'static str,
    /// `#/venta`… for an item; `signup` for the sign-up.
    pub screen: &'static str,
}

/// The checklist's items: (id, title, screen of the page, the milestone that ticks it).
const ITEMS: [(&str, &str, &str, Milestone, &str); 4] = [
    (
        "sale",
        "Registra una venta en el TPV",
        "venta",
        Milestone::FirstWrite,
        "sale",
    ),
    (
        "order",
        "Haz un pedido a un proveedor",
        "pedidos",
        Milestone::FirstWrite,
        "order",
    ),
    (
        "adjustment",
        "Ajusta existencias",
        "ingredientes",
        Milestone::FirstWrite,
        "adjustment",
    ),
    (
        "recipe_costing",
        "Revisa el escandallo de una receta",
        "productos",
        Milestone::ScreenViewed,
        "recipe_costing",
    ),
];

#[derive(diesel::QueryableByName)]
struct Done {
    #[diesel(sql_type = Text)]
    milestone: String,
    #[diesel(sql_type = Text)]
    detail: String,
}

/// The session's checklist: ticks only from milestones the server recorded (the first
/// writes the gateway saw succeed, and the recipe costing it served — never page events,
/// which cannot carry those).
pub async fn checklist(
    conn: &mut AsyncPgConnection,
    session_id: &str,
) -> diesel::QueryResult<Checklist> {
    let done: Vec<Done> = sql_query(
        "SELECT milestone, detail FROM demo_milestones
         WHERE session_id = $1
           AND (milestone = 'first_write' OR (milestone = 'screen_viewed' AND detail = $2))",
    )
    .bind::<Text, _>(session_id)
    .bind::<Text, _>(Screen::RecipeCosting.as_str())
    .load(conn)
    .await?;
    debug_assert!(WriteKind::ALL.len() == 3);
    let items: Vec<ChecklistItem> = ITEMS
        .iter()
        .map(|(id, title, screen, milestone, detail)| ChecklistItem {
            id,
            title,
            screen,
            done: done
                .iter()
                .any(|d| d.milestone == milestone.as_str() && d.detail == *detail),
        })
        .collect();
    let done_count = items.iter().filter(|i| i.done).count();
    let next_step = match items.iter().find(|i| !i.done) {
        Some(item) => Some(NextStep {
            id: item.id,
            title: item.title,
            screen: item.screen,
        }),
        None => Some(NextStep {
            id: "signup",
            title: "Crea tu cuenta y empieza con tus propios datos",
            screen: "signup",
        }),
    };
    Ok(Checklist {
        total: items.len(),
        done: done_count,
        items,
        next_step,
    })
}

/// Deletes milestones older than `days`, [`RETENTION_BATCH`] rows per statement and at
/// most [`RETENTION_BATCHES_PER_PASS`] statements (the next pass goes on). Answers the rows
/// deleted.
pub async fn apply_retention(
    conn: &mut AsyncPgConnection,
    days: u32,
) -> diesel::QueryResult<usize> {
    let days = i32::try_from(days).unwrap_or(i32::MAX);
    let mut total = 0;
    for _ in 0..RETENTION_BATCHES_PER_PASS {
        let n = sql_query(
            "DELETE FROM demo_milestones WHERE ctid = ANY(ARRAY(
                SELECT ctid FROM demo_milestones
                WHERE occurred_at < now() - make_interval(days => $1)
                ORDER BY occurred_at LIMIT $2))",
        )
        .bind::<Integer, _>(days)
        .bind::<BigInt, _>(RETENTION_BATCH)
        .execute(conn)
        .await?;
        total += n;
        if i64::try_from(n).unwrap_or(i64::MAX) < RETENTION_BATCH {
            break;
        }
    }
    Ok(total)
}

/// A stats range that is not one (`400 invalid_range`).
#[derive(Debug, thiserror::Error)]
#[error("invalid funnel range")]
pub struct InvalidRange;

/// The range of days asked for: `from`/`to` (`YYYY-MM-DD`, both included) or the last
/// [`DEFAULT_RANGE_DAYS`] days up to `today`; at most [`MAX_RANGE_DAYS`].
pub fn range(
    from: Option<&str>,
    to: Option<&str>,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), InvalidRange> {
    let parse = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| InvalidRange);
    let to = to.map(parse).transpose()?.unwrap_or(today);
    let from = match from {
        Some(from) => parse(from)?,
        None => to - chrono::Duration::days(DEFAULT_RANGE_DAYS - 1),
    };
    let days = (to - from).num_days() + 1;
    if !(1..=MAX_RANGE_DAYS).contains(&days) {
        return Err(InvalidRange);
    }
    Ok((from, to))
}

#[derive(diesel::QueryableByName)]
struct Today {
    #[diesel(sql_type = Date)]
    today: NaiveDate,
}

/// Today in [`TIME_ZONE`], as the database's clock says.
pub async fn today(conn: &mut AsyncPgConnection) -> diesel::QueryResult<NaiveDate> {
    let row: Today = sql_query("SELECT (now() AT TIME ZONE 'Europe/Madrid')::date AS today")
        .get_result(conn)
        .await?;
    Ok(row.today)
}

#[derive(diesel::QueryableByName)]
struct DayRow {
    #[diesel(sql_type = Text)]
    demo_account_type: AccountType,
    #[diesel(sql_type = Date)]
    day: NaiveDate,
    #[diesel(sql_type = BigInt)]
    created: i64,
    #[diesel(sql_type = BigInt)]
    screen_viewed: i64,
    #[diesel(sql_type = BigInt)]
    first_write: i64,
    #[diesel(sql_type = BigInt)]
    extended: i64,
    #[diesel(sql_type = BigInt)]
    signup_started: i64,
    #[diesel(sql_type = BigInt)]
    converted: i64,
}

impl DayRow {
    fn counts(&self) -> [i64; 6] {
        [
            self.created,
            self.screen_viewed,
            self.first_write,
            self.extended,
            self.signup_started,
            self.converted,
        ]
    }
}

#[derive(diesel::QueryableByName)]
struct BlockedRow {
    #[diesel(sql_type = Text)]
    demo_account_type: AccountType,
    #[diesel(sql_type = Text)]
    rule: String,
    #[diesel(sql_type = BigInt)]
    sessions: i64,
}

/// Counts per step and step-to-step conversion.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StepCounts {
    /// Sessions that reached each step.
    pub sessions: BTreeMap<&'static str, i64>,
    /// Each step after `created`: its sessions over the previous step's (`null` when the
    /// previous step has none), 4 decimals.
    pub conversion: BTreeMap<&'static str, Option<f64>>,
}

impl StepCounts {
    fn new(counts: [i64; 6]) -> Self {
        let sessions = STEPS.iter().copied().zip(counts).collect();
        let conversion = STEPS
            .iter()
            .skip(1)
            .zip(counts.iter().zip(counts.iter().skip(1)))
            .map(|(step, (previous, reached))| {
                #[expect(
                    clippy::cast_precision_loss,
                    reason = "session counts are far below 2^52"
                )]
                let ratio = (*previous > 0)
                    .then(|| ((*reached as f64 / *previous as f64) * 10_000.0).round() / 10_000.0);
                (*step, ratio)
            })
            .collect();
        StepCounts {
            sessions,
            conversion,
        }
    }
}

/// One day of one account type.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FunnelDay {
    pub day: NaiveDate,
    pub account_type: AccountType,
    #[serde(flatten)]
    pub steps: StepCounts,
}

/// Sessions refused by one policy rule.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BlockedCount {
    pub account_type: AccountType,
    pub rule: String,
    pub sessions: i64,
}

/// The `funnel` of `GET /api/demo/stats`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Funnel {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub time_zone: &'static str,
    pub steps: [&'static str; 6],
    /// Each account type over the whole range (both always present).
    pub by_account_type: BTreeMap<&'static str, StepCounts>,
    /// Days with sessions, oldest first.
    pub by_day: Vec<FunnelDay>,
    /// Sessions of the range refused by each policy rule, most first (at most 100 rules).
    pub blocked_actions: Vec<BlockedCount>,
}

/// The funnel of the sessions created from `from` to `to` (days in [`TIME_ZONE`], both
/// included): one `GROUP BY` over the cohort's milestones (a bounded number per session,
/// so its cost does not depend on what a session sent), one over the refusals.
pub async fn funnel(
    conn: &mut AsyncPgConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> diesel::QueryResult<Funnel> {
    let days: Vec<DayRow> = sql_query(
        "WITH cohort AS (
            SELECT session_id, demo_account_type,
                   (occurred_at AT TIME ZONE 'Europe/Madrid')::date AS day
            FROM demo_milestones
            WHERE milestone = 'created'
              AND occurred_at >= $1::timestamp AT TIME ZONE 'Europe/Madrid'
              AND occurred_at < ($2 + 1)::timestamp AT TIME ZONE 'Europe/Madrid')
         SELECT c.demo_account_type, c.day,
                count(DISTINCT c.session_id) AS created,
                count(DISTINCT c.session_id) FILTER (WHERE m.milestone = 'screen_viewed') AS screen_viewed,
                count(DISTINCT c.session_id) FILTER (WHERE m.milestone = 'first_write') AS first_write,
                count(DISTINCT c.session_id) FILTER (WHERE m.milestone = 'extended') AS extended,
                count(DISTINCT c.session_id) FILTER (WHERE m.milestone = 'signup_started') AS signup_started,
                count(DISTINCT c.session_id) FILTER (WHERE m.milestone = 'converted') AS converted
         FROM cohort c JOIN demo_milestones m ON m.session_id = c.session_id
         GROUP BY 1, 2 ORDER BY 2, 1",
    )
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .load(conn)
    .await?;
    let blocked: Vec<BlockedRow> = sql_query(
        "SELECT demo_account_type, detail AS rule, count(*) AS sessions
         FROM demo_milestones
         WHERE milestone = 'blocked_action'
           AND occurred_at >= $1::timestamp AT TIME ZONE 'Europe/Madrid'
           AND occurred_at < ($2 + 1)::timestamp AT TIME ZONE 'Europe/Madrid'
         GROUP BY 1, 2 ORDER BY 3 DESC, 2, 1 LIMIT 100",
    )
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .load(conn)
    .await?;
    let mut totals: BTreeMap<&'static str, [i64; 6]> = AccountType::ALL
        .iter()
        .map(|a| (a.as_str(), [0; 6]))
        .collect();
    for row in &days {
        let total = totals
            .entry(row.demo_account_type.as_str())
            .or_insert([0; 6]);
        for (t, n) in total.iter_mut().zip(row.counts()) {
            *t += n;
        }
    }
    Ok(Funnel {
        from,
        to,
        time_zone: TIME_ZONE,
        steps: STEPS,
        by_account_type: totals
            .into_iter()
            .map(|(a, counts)| (a, StepCounts::new(counts)))
            .collect(),
        by_day: days
            .iter()
            .map(|row| FunnelDay {
                day: row.day,
                account_type: row.demo_account_type,
                steps: StepCounts::new(row.counts()),
            })
            .collect(),
        blocked_actions: blocked
            .into_iter()
            .map(|b| BlockedCount {
                account_type: b.demo_account_type,
                rule: b.rule,
                sessions: b.sessions,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn ranges_default_to_the_last_seven_days_and_are_bounded() {
        let today = day("2026-12-01");
        assert_eq!(
            range(None, None, today).expect("default"),
            (day("2026-11-25"), today)
        );
        assert!(range(Some("2026-12-02"), Some("2026-12-01"), today).is_err());
        assert!(range(Some("2026-01-01"), Some("2026-12-01"), today).is_err());
        assert!(range(Some("2026-13-01"), None, today).is_err());
        assert!(range(Some("yesterday"), None, today).is_err());
        assert_eq!(
            range(Some("2026-09-01"), Some("2026-12-01"), today).expect("92 days"),
            (day("2026-09-01"), today)
        );
    }

    #[test]
    fn conversion_is_step_over_previous_step() {
        let s = StepCounts::new([4, 2, 1, 0, 0, 0]);
        assert_eq!(s.conversion["screen_viewed"], Some(0.5));
        assert_eq!(s.conversion["first_write"], Some(0.5));
        assert_eq!(s.conversion["extended"], Some(0.0));
        assert_eq!(s.conversion["signup_started"], None);
        assert!(!s.conversion.contains_key("created"));
    }
}
