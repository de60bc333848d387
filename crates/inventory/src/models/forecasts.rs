//! Demand forecasts and the forecasting model records.
//!
//! Method (also in `docs/forecasting.md`): a seasonal-by-weekday average.
//! - Days are the bakery's calendar days in its time zone (`bakery_config::clock`; the
//!   identity carries it): a sale at 00:30 in Madrid counts on that Madrid day.
//! - History window: the 8 full weeks (56 days) ending yesterday, shortened to start at
//!   the tenant's first recorded sale when the history is shorter.
//! - Daily demand of the product: Σ `sale_lines.quantity` of sales whose `sold_at` falls on
//!   that day; days in the window without sales count as 0.
//! - Forecast for a day D: the mean daily demand over the window's days with D's weekday,
//!   rounded to 2 decimals (0 when the window has no such day).

use bakery_config::db::{self, AsyncPgConnection};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use diesel::prelude::*;
use diesel::sql_types::{Array, Date, Numeric, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, RunQueryDsl};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::InventoryError;
use crate::models::BakeryTimeZone;
use crate::models::history::SalesSources;
use crate::pagination::{Page, Paginated};
use crate::schema::{forecast_models, products, sales};

pub const METHOD: &str = "weekday_average";
pub const WINDOW_DAYS: i64 = 56;
pub const MAX_DAYS: u32 = 30;

/// `?days=` (1..=30, default 7).
#[derive(Debug, Clone, Copy, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ForecastParams {
    /// 1..=30 (`MAX_DAYS`), default 7.
    #[param(minimum = 1, maximum = 30)]
    pub days: Option<u32>,
}

impl ForecastParams {
    pub fn days(self) -> Result<u32, InventoryError> {
        let days = self.days.unwrap_or(7);
        if !(1..=MAX_DAYS).contains(&days) {
            return Err(InventoryError::InvalidQuery(format!(
                "days debe estar entre 1 y {MAX_DAYS}"
            )));
        }
        Ok(days)
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ForecastDay {
    pub date: NaiveDate,
    pub weekday: String,
    pub quantity: Decimal,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Forecast {
    pub product_id: Uuid,
    pub product_name: String,
    pub method: &'static str,
    /// First and last day of the history window (None when there is no history).
    pub history_from: Option<NaiveDate>,
    pub history_to: Option<NaiveDate>,
    pub history_days: i64,
    pub days: u32,
    pub forecast: Vec<ForecastDay>,
    pub total: Decimal,
}

#[derive(QueryableByName)]
struct DailyDemand {
    #[diesel(sql_type = Date)]
    day: NaiveDate,
    #[diesel(sql_type = Numeric)]
    quantity: Decimal,
}

fn weekday_name(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "lunes",
        Weekday::Tue => "martes",
        Weekday::Wed => "miércoles",
        Weekday::Thu => "jueves",
        Weekday::Fri => "viernes",
        Weekday::Sat => "sábado",
        Weekday::Sun => "domingo",
    }
}

/// The forecast itself, from daily demand over `[from, to]` (pure; see the module docs).
pub fn weekday_average(
    daily: &[(NaiveDate, Decimal)],
    from: NaiveDate,
    to: NaiveDate,
    start: NaiveDate,
    days: u32,
) -> Vec<ForecastDay> {
    // per weekday, Monday first: the demand over `[from, to]` and how many such days it has
    let slot = |day: NaiveDate| day.weekday().num_days_from_monday() as usize;
    let mut sums = [Decimal::ZERO; 7];
    let mut counts = [0u32; 7];
    let mut d = from;
    while d <= to {
        if let Some(count) = counts.get_mut(slot(d)) {
            *count += 1;
        }
        d += Duration::days(1);
    }
    for (day, q) in daily {
        if *day >= from
            && *day <= to
            && let Some(sum) = sums.get_mut(slot(*day))
        {
            *sum += *q;
        }
    }
    (0..i64::from(days))
        .map(|i| {
            let date = start + Duration::days(i);
            let w = slot(date);
            let quantity = match (sums.get(w), counts.get(w)) {
                (Some(sum), Some(&count)) if count > 0 => (*sum / Decimal::from(count)).round_dp(2),
                _ => Decimal::ZERO,
            };
            ForecastDay {
                date,
                weekday: weekday_name(date.weekday()).to_owned(),
                quantity,
            }
        })
        .collect()
}

/// Forecast of `product_id` for `days` days starting today; the days (those learnt from
/// and those forecast) are the bakery's, in `time_zone`.
pub async fn forecast(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    time_zone: BakeryTimeZone,
    product_id: Uuid,
    days: u32,
) -> Result<Forecast, InventoryError> {
    let today = time_zone.today();
    conn.transaction(async |c| {
        db::scope_to_tenant(c, tenant).await?;
        let name: String = products::table
            .filter(products::tenant_id.eq(tenant))
            .filter(products::id.eq(product_id))
            .select(products::name)
            .first(c)
            .await
            .optional()?
            .ok_or(InventoryError::NotFound("product"))?;
        let sources = SalesSources::of(c, tenant).await?;
        let (from, to) = history_window(c, &sources, time_zone, today).await?;
        let (daily, history_days) = if from > to {
            (Vec::new(), 0)
        } else {
            let daily = daily_demand(c, &sources, time_zone, product_id, from, today).await?;
            (daily, (to - from).num_days() + 1)
        };
        let forecast = weekday_average(&daily, from, to, today, days);
        Ok(Forecast {
            product_id,
            product_name: name,
            method: METHOD,
            history_from: (history_days > 0).then_some(from),
            history_to: (history_days > 0).then_some(to),
            history_days,
            days,
            total: forecast.iter().map(|d| d.quantity).sum(),
            forecast,
        })
    })
    .await
}

/// The history window `[from, to]` (see the module docs); empty (`from > to`) when the
/// tenant has no sales before today (its own or its template's shared history). Inside a
/// scoped transaction.
async fn history_window(
    c: &mut AsyncPgConnection,
    sources: &SalesSources,
    time_zone: BakeryTimeZone,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), InventoryError> {
    let mut first_sale: Option<DateTime<Utc>> = None;
    // one index probe per source (`min` over `tenant_id = ANY(…)` would scan)
    for source in sources.tenants() {
        let first: Option<DateTime<Utc>> = sales::table
            .filter(sales::tenant_id.eq(source))
            .select(diesel::dsl::min(sales::sold_at))
            .first(c)
            .await?;
        first_sale = first_sale.into_iter().chain(first).min();
    }
    let to = today - Duration::days(1);
    let window_start = today - Duration::days(WINDOW_DAYS);
    let from = match first_sale {
        Some(first) => time_zone.day_of(first).max(window_start),
        None => today,
    };
    Ok((from, to))
}

/// The product's demand on each of the bakery's days from `from` up to (not including)
/// `until` that had sales. Inside a scoped transaction.
async fn daily_demand(
    c: &mut AsyncPgConnection,
    sources: &SalesSources,
    time_zone: BakeryTimeZone,
    product_id: Uuid,
    from: NaiveDate,
    until: NaiveDate,
) -> Result<Vec<(NaiveDate, Decimal)>, InventoryError> {
    let rows: Vec<DailyDemand> = diesel::sql_query(
        "SELECT (s.sold_at AT TIME ZONE $5)::date AS day, sum(l.quantity) AS quantity \
         FROM sale_lines l \
         JOIN sales s ON s.tenant_id = l.tenant_id AND s.id = l.sale_id \
         WHERE l.tenant_id = ANY($1) AND l.product_id = $2 \
           AND s.sold_at >= $3 AND s.sold_at < $4 \
         GROUP BY 1",
    )
    .bind::<Array<SqlUuid>, _>(sources.tenants())
    .bind::<SqlUuid, _>(product_id)
    .bind::<Timestamptz, _>(time_zone.start_of(from))
    .bind::<Timestamptz, _>(time_zone.start_of(until))
    .bind::<Text, _>(time_zone.name())
    .load(c)
    .await?;
    Ok(rows.into_iter().map(|r| (r.day, r.quantity)).collect())
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = forecast_models, check_for_backend(diesel::pg::Pg))]
pub struct ForecastModel {
    #[serde(skip)]
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub product_id: Uuid,
    pub algorithm: String,
    pub status: String,
    pub is_fake: bool,
    pub model_uri: Option<String>,
    pub metrics: serde_json::Value,
    pub trained_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ForecastModelView {
    #[serde(flatten)]
    pub model: ForecastModel,
    pub product_name: String,
}

/// One page of the tenant's model records, newest first.
pub async fn list_models(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    page: Page,
) -> Result<Paginated<ForecastModelView>, InventoryError> {
    conn.transaction(async |c| {
        db::scope_to_tenant(c, tenant).await?;
        let total: i64 = forecast_models::table
            .filter(forecast_models::tenant_id.eq(tenant))
            .count()
            .get_result(c)
            .await?;
        let rows: Vec<(ForecastModel, String)> = forecast_models::table
            .inner_join(
                products::table.on(products::tenant_id
                    .eq(forecast_models::tenant_id)
                    .and(products::id.eq(forecast_models::product_id))),
            )
            .filter(forecast_models::tenant_id.eq(tenant))
            .order((
                forecast_models::trained_at.desc(),
                forecast_models::id.asc(),
            ))
            .limit(page.limit)
            .offset(page.offset)
            .select((ForecastModel::as_select(), products::name))
            .load(c)
            .await?;
        let items = rows
            .into_iter()
            .map(|(model, product_name)| ForecastModelView {
                model,
                product_name,
            })
            .collect();
        Ok(Paginated::new(items, page, total))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekday_average_by_hand() {
        // 2026-11-02 is a Monday; a two-week window with Mondays 10 and 20, Tuesday 3
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        let daily = vec![
            (d("2026-11-02"), Decimal::from(10)),
            (d("2026-11-09"), Decimal::from(20)),
            (d("2026-11-03"), Decimal::from(3)),
        ];
        let f = weekday_average(&daily, d("2026-11-02"), d("2026-11-15"), d("2026-11-16"), 3);
        let q: Vec<Decimal> = f.iter().map(|x| x.quantity).collect();
        assert_eq!(
            q,
            vec![Decimal::from(15), Decimal::new(15, 1), Decimal::ZERO]
        );
        assert_eq!(f[0].weekday, "lunes");
    }
}
