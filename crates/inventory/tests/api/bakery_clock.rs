//! The bakery's clock: inventory-service draws every day boundary in the time zone the
//! gateway's identity carries (the tenant's `timezone`), not in UTC — the sales list's
//! `from`/`to`, the summary's days by default, the days a forecast learns from and
//! forecasts, and the dates a write stamps (an order's reference and expected day).

use bakery_config::clock::BakeryTimeZone;
use chrono::{Duration, NaiveTime};
use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;

fn zone(name: &str) -> BakeryTimeZone {
    BakeryTimeZone::parse(name).expect("an IANA zone")
}

impl TestApp {
    /// `GET path` as the owner of `tenant`, a bakery in `time_zone`.
    async fn get_in(&self, path: &str, tenant: Uuid, time_zone: BakeryTimeZone) -> Answer {
        let token = bakery_test_support::identity_token_in(tenant, "owner", time_zone);
        self.request_with(Method::GET, path, &token, None).await
    }
}

/// 23:30 UTC on 30 November 2025 — 00:30 on 1 December in Madrid (UTC+1), still
/// 30 November in the Canaries (UTC+0 in winter) — and 07:05 UTC on 1 December, the same
/// day in both.
async fn two_sales_around_midnight(app: &TestApp, tenant: Uuid) {
    app.sql(&format!(
        "INSERT INTO sales (tenant_id, id, sold_at, payment_method, total) VALUES \
         ('{tenant}', gen_random_uuid(), '2025-11-30 23:30:00+00', 'cash', 3.10), \
         ('{tenant}', gen_random_uuid(), '2025-12-01 07:05:00+00', 'card', 4.40)"
    ))
    .await;
}

fn ticket_count(a: &Answer) -> usize {
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    a.body["items"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn the_sales_list_counts_a_day_from_the_bakerys_midnight() {
    let app = spawn_app().await;
    let tenant = Uuid::new_v4();
    two_sales_around_midnight(&app, tenant).await;
    let (madrid, canary) = (BakeryTimeZone::MADRID, zone("Atlantic/Canary"));
    let first_of_december = "/api/sales?from=2025-12-01&to=2025-12-01";
    let last_of_november = "/api/sales?from=2025-11-30&to=2025-11-30";

    let a = app.get_in(first_of_december, tenant, madrid).await;
    assert_eq!(
        ticket_count(&a),
        2,
        "the night's ticket is Madrid's 1 December"
    );
    assert_eq!(a.body["total"], 2);
    let a = app.get_in(last_of_november, tenant, madrid).await;
    assert_eq!(ticket_count(&a), 0);

    let a = app.get_in(first_of_december, tenant, canary).await;
    assert_eq!(
        ticket_count(&a),
        1,
        "in the Canaries it was still 30 November"
    );
    let a = app.get_in(last_of_november, tenant, canary).await;
    assert_eq!(ticket_count(&a), 1);

    // an identity without a zone (minted before zones existed) reads as Madrid
    let a = app.get(first_of_december, tenant).await;
    assert_eq!(ticket_count(&a), 2);
}

#[tokio::test]
async fn the_summary_uses_the_bakerys_zone_unless_asked_for_another() {
    let app = spawn_app().await;
    let tenant = Uuid::new_v4();
    two_sales_around_midnight(&app, tenant).await;
    let canary = zone("Atlantic/Canary");
    let a = app
        .get_in(
            "/api/sales/summary?from=2025-12-01&to=2025-12-01",
            tenant,
            canary,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["time_zone"], "Atlantic/Canary");
    assert_eq!(a.body["tickets"], 1);
    assert_eq!(a.body["hours"][0]["hour"], 7);
    // `tz` still wins when given
    let a = app
        .get_in(
            "/api/sales/summary?from=2025-12-01&to=2025-12-01&tz=Europe/Madrid",
            tenant,
            canary,
        )
        .await;
    assert_eq!(a.body["time_zone"], "Europe/Madrid");
    assert_eq!(a.body["tickets"], 2);
}

#[tokio::test]
async fn a_forecast_learns_and_forecasts_the_bakerys_days() {
    let app = spawn_app().await;
    let tenant = Uuid::new_v4();
    // Kiritimati is UTC+14: a sale at 00:30 there is 10:30 of the day before in UTC, so
    // reading UTC days would put it on the wrong weekday
    let kiritimati = zone("Pacific/Kiritimati");
    let today = kiritimati.today();
    let week_ago = today - Duration::days(7);
    let sold_at = kiritimati.instant(week_ago, NaiveTime::from_hms_opt(0, 30, 0).expect("time"));
    app.sql(&format!(
        "INSERT INTO products (tenant_id, id, name, kind, sale_price) VALUES \
           ('{tenant}', '{BARRA}', 'Barra de pan', 'finished', 1.20); \
         INSERT INTO sales (tenant_id, id, sold_at, total) VALUES \
           ('{tenant}', '00000000-0000-0000-0000-000000009001', '{}', 12); \
         INSERT INTO sale_lines (tenant_id, id, sale_id, product_id, quantity, unit_price, line_total) VALUES \
           ('{tenant}', '00000000-0000-0000-0000-000000009101', '00000000-0000-0000-0000-000000009001', '{BARRA}', 10, 1.2, 12);",
        sold_at.to_rfc3339()
    ))
    .await;

    let f = app
        .get_in(
            &format!("/api/forecasts/{BARRA}?days=7"),
            tenant,
            kiritimati,
        )
        .await;
    assert_eq!(f.status, StatusCode::OK, "{}", f.body);
    assert_eq!(f.body["history_from"], json!(week_ago.to_string()));
    assert_eq!(f.body["history_days"], 7);
    assert_eq!(f.body["forecast"][0]["date"], json!(today.to_string()));
    // the week-old sale falls on today's weekday, one such day in the window
    let quantities: Vec<f64> = f.body["forecast"]
        .as_array()
        .expect("forecast days")
        .iter()
        .map(|d| num(&d["quantity"]))
        .collect();
    assert_eq!(quantities, vec![10.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
}

#[tokio::test]
async fn an_order_is_dated_by_the_bakerys_day() {
    let app = spawn_app().await;
    let tenant = Uuid::new_v4();
    app.seed(tenant).await;
    let kiritimati = zone("Pacific/Kiritimati");
    let token = bakery_test_support::identity_token_in(tenant, "owner", kiritimati);
    let before = kiritimati.today();
    let a = app
        .request_with(
            Method::POST,
            "/api/orders",
            &token,
            Some(json!({
                "supplier_id": SUPPLIER,
                "lines": [{"ingredient_id": HARINA, "quantity": 25}],
            })),
        )
        .await;
    let after = kiritimati.today();
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let reference = a.body["reference"].as_str().unwrap_or_default();
    let expected_at = a.body["expected_at"].as_str().unwrap_or_default();
    // the seeded supplier delivers in 2 days; `before`/`after` differ only if the test ran
    // across Kiritimati's midnight
    assert!(
        [before, after].iter().any(|d| {
            reference.starts_with(&format!("PO-{}-", d.format("%Y%m%d")))
                && expected_at == (*d + Duration::days(2)).to_string()
        }),
        "{reference} {expected_at}, Kiritimati's day {before}"
    );
}
