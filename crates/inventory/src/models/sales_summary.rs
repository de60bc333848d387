//! `GET /api/sales/summary`: a range of the bakery's days summed up in the bakery's clock —
//! tickets and takings per day, per hour of the day and per payment method — so a
//! dashboard shows "hoy", the last week, the average ticket and the busy hours without
//! fetching every ticket (a neighbourhood bakery rings up hundreds a day).
//!
//! Days and hours are those of the bakery's time zone (the identity's: the tenant's
//! `timezone`, Europe/Madrid by default), or of the one asked for (`tz`, an IANA name): a
//! ticket at 00:30 in Madrid belongs
//! to that Madrid day, whatever the UTC date says. The range is bounded
//! ([`MAX_SUMMARY_DAYS`]), and each sum reads one index range per source of sales
//! ([`SalesSources`]: a virtual tenant's own and its template's shared history).

use bakery_config::db::{self, AsyncPgConnection};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::sql_types::{
    Array, BigInt, Date, Integer, Numeric, Text, Timestamptz, Uuid as SqlUuid,
};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncConnection, RunQueryDsl};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::InventoryError;
use crate::models::BakeryTimeZone;
use crate::models::history::SalesSources;

/// The longest range one summary covers (a quarter, as the history the templates keep).
pub const MAX_SUMMARY_DAYS: i64 = 92;

/// `?from=&to=&tz=`: the bakery's days, both inclusive, in `tz`.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryParams {
    /// First day, `YYYY-MM-DD`.
    pub from: NaiveDate,
    /// Last day, `YYYY-MM-DD`; at most 92 days after `from`'s start (`MAX_SUMMARY_DAYS`).
    pub to: NaiveDate,
    /// IANA time zone whose days and hours are used (default: the bakery's, its tenant's
    /// `timezone`).
    #[param(example = "Europe/Madrid")]
    pub tz: Option<String>,
}

/// A validated summary request.
#[derive(Debug, Clone, Copy)]
pub struct SummaryRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub zone: BakeryTimeZone,
}

impl SummaryRange {
    /// `p` checked, in `p.tz` or else in `bakery` (the caller's bakery's zone).
    pub fn parse(p: &SummaryParams, bakery: BakeryTimeZone) -> Result<Self, InventoryError> {
        let zone = match p.tz.as_deref() {
            None => bakery,
            Some(name) => BakeryTimeZone::parse(name).map_err(|_| {
                InventoryError::InvalidQuery(format!(
                    "tz debe ser una zona horaria IANA, como {}",
                    BakeryTimeZone::MADRID
                ))
            })?,
        };
        if p.from > p.to {
            return Err(InventoryError::InvalidQuery(
                "from no puede ser posterior a to".to_owned(),
            ));
        }
        if (p.to - p.from).num_days() >= MAX_SUMMARY_DAYS {
            return Err(InventoryError::InvalidQuery(format!(
                "un resumen abarca como mucho {MAX_SUMMARY_DAYS} días"
            )));
        }
        Ok(SummaryRange {
            from: p.from,
            to: p.to,
            zone,
        })
    }

    /// `[start of from, start of the day after to)`; `None` outside the calendar chrono
    /// and PostgreSQL share.
    fn instants(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        self.zone.days(self.from, self.to)
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SalesSummary {
    /// The zone of `days` and `hours`.
    pub time_zone: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub tickets: i64,
    pub total: Decimal,
    /// `total / tickets`, 2 decimals; `null` without tickets.
    pub average_ticket: Option<Decimal>,
    /// Every day of the range, oldest first (days without sales count 0).
    pub days: Vec<DaySummary>,
    /// The hours of the day (0–23, local) that had sales, in order.
    pub hours: Vec<HourSummary>,
    /// Per payment method, most tickets first.
    pub payment_methods: Vec<PaymentSummary>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DaySummary {
    pub day: NaiveDate,
    pub tickets: i64,
    pub total: Decimal,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HourSummary {
    /// 0–23 in the zone.
    pub hour: i32,
    pub tickets: i64,
    pub total: Decimal,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PaymentSummary {
    pub payment_method: String,
    pub tickets: i64,
    pub total: Decimal,
}

#[derive(QueryableByName)]
struct DayRow {
    #[diesel(sql_type = Date)]
    day: NaiveDate,
    #[diesel(sql_type = BigInt)]
    tickets: i64,
    #[diesel(sql_type = Numeric)]
    total: Decimal,
}

#[derive(QueryableByName)]
struct HourRow {
    #[diesel(sql_type = Integer)]
    hour: i32,
    #[diesel(sql_type = BigInt)]
    tickets: i64,
    #[diesel(sql_type = Numeric)]
    total: Decimal,
}

#[derive(QueryableByName)]
struct PaymentRow {
    #[diesel(sql_type = Text)]
    payment_method: String,
    #[diesel(sql_type = BigInt)]
    tickets: i64,
    #[diesel(sql_type = Numeric)]
    total: Decimal,
}

/// The sales a summary reads: the sources' tickets in the range, a shared template's only
/// once sold (row-level security says the same).
const SCOPE: &str = "FROM sales WHERE tenant_id = ANY($1) AND (tenant_id = $2 OR sold_at <= now()) \
                     AND sold_at >= $3 AND sold_at < $4";

/// The summary of `range` for `tenant`.
pub async fn summary(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    range: SummaryRange,
) -> Result<SalesSummary, InventoryError> {
    let (start, end) = range.instants().ok_or_else(|| {
        InventoryError::InvalidQuery("las fechas están fuera del calendario".to_owned())
    })?;
    let zone = range.zone.name();
    conn.transaction(async |c| {
        db::scope_to_tenant(c, tenant).await?;
        let sources = SalesSources::of(c, tenant).await?;
        // `$1` sources, `$2` own, `$3`..`$4` the range (SCOPE); `$5` the zone, where used
        macro_rules! grouped {
            ($row:ty, $select:literal, $rest:literal $(, $zone:expr)?) => {
                sql_query(format!(concat!("SELECT ", $select, " {} ", $rest), SCOPE))
                    .bind::<Array<SqlUuid>, _>(sources.tenants())
                    .bind::<SqlUuid, _>(sources.own)
                    .bind::<Timestamptz, _>(start)
                    .bind::<Timestamptz, _>(end)
                    $(.bind::<Text, _>($zone))?
                    .load::<$row>(c)
                    .await?
            };
        }
        let days = grouped!(
            DayRow,
            "(sold_at AT TIME ZONE $5)::date AS day, count(*) AS tickets, \
             coalesce(sum(total), 0) AS total",
            "GROUP BY 1 ORDER BY 1",
            zone
        );
        let hours = grouped!(
            HourRow,
            "extract(hour FROM sold_at AT TIME ZONE $5)::int AS hour, count(*) AS tickets, \
             coalesce(sum(total), 0) AS total",
            "GROUP BY 1 ORDER BY 1",
            zone
        );
        let payments = grouped!(
            PaymentRow,
            "payment_method, count(*) AS tickets, coalesce(sum(total), 0) AS total",
            "GROUP BY 1 ORDER BY 2 DESC, 1"
        );
        Ok(assemble(range, days, hours, payments))
    })
    .await
}

fn assemble(
    range: SummaryRange,
    days: Vec<DayRow>,
    hours: Vec<HourRow>,
    payments: Vec<PaymentRow>,
) -> SalesSummary {
    let tickets: i64 = days.iter().map(|d| d.tickets).sum();
    let total: Decimal = days.iter().map(|d| d.total).sum();
    let mut by_day: std::collections::HashMap<NaiveDate, DayRow> =
        days.into_iter().map(|d| (d.day, d)).collect();
    let every_day = range
        .from
        .iter_days()
        .take_while(|d| *d <= range.to)
        .map(|day| match by_day.remove(&day) {
            Some(d) => DaySummary {
                day,
                tickets: d.tickets,
                total: d.total,
            },
            None => DaySummary {
                day,
                tickets: 0,
                total: Decimal::ZERO,
            },
        })
        .collect();
    SalesSummary {
        time_zone: range.zone.name().to_owned(),
        from: range.from,
        to: range.to,
        tickets,
        total,
        average_ticket: (tickets > 0).then(|| (total / Decimal::from(tickets)).round_dp(2)),
        days: every_day,
        hours: hours
            .into_iter()
            .map(|h| HourSummary {
                hour: h.hour,
                tickets: h.tickets,
                total: h.total,
            })
            .collect(),
        payment_methods: payments
            .into_iter()
            .map(|p| PaymentSummary {
                payment_method: p.payment_method,
                tickets: p.tickets,
                total: p.total,
            })
            .collect(),
    }
}
