//! A virtual tenant's sales are its own and its template's shared history
//! (docs/tenancy.md, "Shared history"): the list, the summary and the forecasts read
//! both; a template's ticket shows once its time has come; a customer sees only its own;
//! a sale of the prospect lands in its own rows.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

struct Shared {
    template: Uuid,
    virtual_tenant: Uuid,
    customer: Uuid,
}

/// A template with the seeded bakery's 4 tickets, `past` more over the last hours (the
/// newest with a line) and 5 still to come today; a virtual tenant sharing its history,
/// with the same catalogue (same ids) but none of the template's tickets, as a clone, and
/// 3 tickets of its own; a customer with 2.
async fn shared(app: &TestApp, past: u32) -> Shared {
    let s = Shared {
        template: Uuid::new_v4(),
        virtual_tenant: Uuid::new_v4(),
        customer: Uuid::new_v4(),
    };
    app.seed(s.template).await;
    app.seed(s.virtual_tenant).await;
    let (t, v, c) = (s.template, s.virtual_tenant, s.customer);
    app.sql(&format!(
        "DELETE FROM sale_lines WHERE tenant_id = '{v}';
         DELETE FROM sales WHERE tenant_id = '{v}';
         INSERT INTO sales (tenant_id, id, sold_at, payment_method, total) \
         SELECT '{t}', gen_random_uuid(), \
                date_trunc('minute', now()) - make_interval(mins => 10 + 7 * i), \
                (ARRAY['card', 'cash', 'bizum'])[1 + i % 3], 2.50 \
         FROM generate_series(0, {past} - 1) AS i;
         INSERT INTO sales (tenant_id, id, sold_at, payment_method, total) \
         SELECT '{t}', gen_random_uuid(), now() + make_interval(mins => 30 * i), 'card', 99 \
         FROM generate_series(1, 5) AS i;
         INSERT INTO sales (tenant_id, id, sold_at, payment_method, total) \
         SELECT '{v}', gen_random_uuid(), now() - make_interval(mins => 12 + 7 * i), 'cash', 4 \
         FROM generate_series(0, 2) AS i;
         INSERT INTO sales (tenant_id, id, sold_at, payment_method, total) \
         SELECT '{c}', gen_random_uuid(), now() - make_interval(mins => 5 * i), 'card', 7 \
         FROM generate_series(1, 2) AS i;
         INSERT INTO sale_lines (tenant_id, id, sale_id, product_id, quantity, unit_price, line_total) \
         SELECT '{t}', gen_random_uuid(), s.id, p.id, 2, 1.25, 2.50 \
         FROM (SELECT id FROM sales WHERE tenant_id = '{t}' AND sold_at < now() \
               ORDER BY sold_at DESC LIMIT 1) s, \
              (SELECT id FROM products WHERE tenant_id = '{t}' ORDER BY name LIMIT 1) p;
         INSERT INTO history_shares (tenant_id, template_id) VALUES ('{v}', '{t}');"
    ))
    .await;
    s
}

/// Every sale on `tenant`'s pages (following `next_cursor`) and the totals they announced.
async fn every_sale(app: &TestApp, tenant: Uuid, limit: u32) -> (Vec<Value>, i64) {
    let mut items = Vec::new();
    let mut path = format!("/api/sales?limit={limit}");
    for _ in 0..100 {
        let page = app.get(&path, tenant).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        items.extend(page.items().iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(next) => path = format!("/api/sales?limit={limit}&after={next}"),
            None => return (items, page.total()),
        }
    }
    panic!("more than 100 pages");
}

#[tokio::test]
async fn a_virtual_tenant_pages_through_its_own_sales_and_its_templates_past_ones() {
    let app = spawn_app().await;
    let s = shared(&app, 120).await;

    let (items, total) = every_sale(&app, s.virtual_tenant, 25).await;
    assert_eq!(
        total, 127,
        "4 + 120 of the template sold by now, 3 of its own"
    );
    assert_eq!(items.len(), 127);
    let ids: HashSet<&str> = items.iter().filter_map(|i| i["id"].as_str()).collect();
    assert_eq!(ids.len(), 127, "each sale once");
    // newest first across both sources
    let times: Vec<&str> = items.iter().filter_map(|i| i["sold_at"].as_str()).collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted);
    assert!(
        items.iter().all(|i| num(&i["total"]) != 99.0),
        "no ticket of the template still to come"
    );
    // the template's tickets come with their lines
    let with_lines = items
        .iter()
        .filter(|i| i["lines"].as_array().is_some_and(|l| !l.is_empty()))
        .count();
    let template_with_lines = app
        .count_where(
            s.template,
            "sales",
            &format!(
                "sold_at <= now() AND id IN (SELECT sale_id FROM sale_lines WHERE tenant_id = '{}')",
                s.template
            ),
        )
        .await;
    assert!(template_with_lines >= 2);
    assert_eq!(i64::try_from(with_lines).ok(), Some(template_with_lines));

    // an offset page merges the two sources the same way
    let page = app
        .get("/api/sales?limit=10&offset=20", s.virtual_tenant)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let offset_ids: Vec<&str> = page
        .items()
        .iter()
        .filter_map(|i| i["id"].as_str())
        .collect();
    let walked: Vec<&str> = items[20..30]
        .iter()
        .filter_map(|i| i["id"].as_str())
        .collect();
    assert_eq!(offset_ids, walked);

    // a customer sees its own two, nothing of the template
    let (customer, total) = every_sale(&app, s.customer, 50).await;
    assert_eq!((customer.len(), total), (2, 2));
}

#[tokio::test]
async fn a_prospects_sale_is_its_own_and_the_template_stays_as_it_was() {
    let app = spawn_app().await;
    let s = shared(&app, 30).await;
    let products = app.get("/api/products?limit=200", s.virtual_tenant).await;
    let product = products
        .items()
        .iter()
        .find(|p| num(&p["on_hand"]) >= 1.0)
        .expect("a product in stock")["id"]
        .clone();
    let sold = app
        .demo_post(
            "/api/pos/sales",
            s.virtual_tenant,
            "s_shared",
            json!({"lines": [{"product_id": product, "quantity": 1}], "payment_method": "card"}),
        )
        .await;
    assert_eq!(sold.status, StatusCode::CREATED, "{}", sold.body);

    let (items, total) = every_sale(&app, s.virtual_tenant, 200).await;
    assert_eq!((items.len(), total), (38, 38));
    assert_eq!(
        app.count(s.virtual_tenant, "sales").await,
        4,
        "3 + the new one"
    );
    assert_eq!(
        app.count(s.template, "sales").await,
        39,
        "the template's 34 past and 5 to come, untouched"
    );
}

#[tokio::test]
async fn the_summary_counts_days_hours_and_payments_in_the_bakerys_time_zone() {
    let app = spawn_app().await;
    let tenant = Uuid::new_v4();
    // 23:30 UTC on 30 November is 00:30 on 1 December in Madrid; 08:05 and 08:50 Madrid
    // on 1 December; one sale on 28 November; one on 3 December (outside the range)
    app.sql(&format!(
        "INSERT INTO sales (tenant_id, id, sold_at, payment_method, total) VALUES \
         ('{tenant}', gen_random_uuid(), '2025-11-30 23:30:00+00', 'cash', 3.10), \
         ('{tenant}', gen_random_uuid(), '2025-12-01 07:05:00+00', 'card', 4.40), \
         ('{tenant}', gen_random_uuid(), '2025-12-01 07:50:00+00', 'card', 2.50), \
         ('{tenant}', gen_random_uuid(), '2025-11-28 10:00:00+00', 'bizum', 12.00), \
         ('{tenant}', gen_random_uuid(), '2025-12-03 10:00:00+00', 'card', 50.00)"
    ))
    .await;

    let madrid = app
        .get(
            "/api/sales/summary?from=2025-11-27&to=2025-12-01&tz=Europe/Madrid",
            tenant,
        )
        .await;
    assert_eq!(madrid.status, StatusCode::OK, "{}", madrid.body);
    let b = &madrid.body;
    assert_eq!(b["time_zone"], "Europe/Madrid");
    assert_eq!(b["tickets"], 4);
    assert_eq!(num(&b["total"]), 22.0);
    assert_eq!(num(&b["average_ticket"]), 5.5);
    let days: Vec<(String, i64)> = b["days"]
        .as_array()
        .expect("days")
        .iter()
        .map(|d| {
            (
                d["day"].as_str().unwrap_or("").to_owned(),
                d["tickets"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(
        days,
        [
            ("2025-11-27", 0),
            ("2025-11-28", 1),
            ("2025-11-29", 0),
            ("2025-11-30", 0),
            ("2025-12-01", 3),
        ]
        .map(|(d, n)| (d.to_owned(), n))
    );
    let hours: Vec<(i64, i64)> = b["hours"]
        .as_array()
        .expect("hours")
        .iter()
        .map(|h| {
            (
                h["hour"].as_i64().unwrap_or(-1),
                h["tickets"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(hours, [(0, 1), (8, 2), (11, 1)]);
    assert_eq!(b["payment_methods"][0]["payment_method"], "card");
    assert_eq!(b["payment_methods"][0]["tickets"], 2);

    // the same sales in UTC: the night's ticket is on 30 November
    let utc = app
        .get(
            "/api/sales/summary?from=2025-11-30&to=2025-12-01&tz=UTC",
            tenant,
        )
        .await;
    assert_eq!(utc.status, StatusCode::OK);
    assert_eq!(utc.body["days"][0]["tickets"], 1);
    assert_eq!(utc.body["days"][1]["tickets"], 2);
    // and by default, Madrid's
    let default = app
        .get("/api/sales/summary?from=2025-12-01&to=2025-12-01", tenant)
        .await;
    assert_eq!(default.body["time_zone"], "Europe/Madrid");
    assert_eq!(default.body["tickets"], 3);
    // another tenant's summary is empty
    let other = app
        .get(
            "/api/sales/summary?from=2025-11-27&to=2025-12-01",
            Uuid::new_v4(),
        )
        .await;
    assert_eq!(
        (
            other.body["tickets"].as_i64(),
            other.body["average_ticket"].is_null()
        ),
        (Some(0), true)
    );
}

#[tokio::test]
async fn the_summary_reads_the_shared_history_up_to_now() {
    let app = spawn_app().await;
    let s = shared(&app, 40).await;
    let today = chrono::Utc::now().date_naive();
    let path = format!(
        "/api/sales/summary?from={}&to={}&tz=UTC",
        today - chrono::Duration::days(2),
        today + chrono::Duration::days(1)
    );
    let v = app.get(&path, s.virtual_tenant).await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.body);
    assert_eq!(v.body["tickets"], 43, "40 shared + 3 own, none to come");
    assert_eq!(num(&v.body["total"]), 40.0 * 2.5 + 3.0 * 4.0);
    let c = app.get(&path, s.customer).await;
    assert_eq!(c.body["tickets"], 2);
}

#[tokio::test]
async fn a_bad_summary_request_is_a_clear_400() {
    let app = spawn_app().await;
    let t = Uuid::new_v4();
    for path in [
        "/api/sales/summary?from=2026-12-01&to=2026-11-01",
        "/api/sales/summary?from=2026-01-01&to=2026-12-31",
        "/api/sales/summary?from=2026-12-01&to=2026-12-01&tz=Mars/Olympus",
        "/api/sales/summary?from=2026-12-01",
        "/api/sales/summary?from=hoy&to=2026-12-01",
    ] {
        let a = app.get(path, t).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{path}: {}", a.body);
        assert_eq!(a.error(), "invalid_query", "{path}");
    }
}
