//! The forecast of a known sales history equals the hand-computed value.

use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;

#[tokio::test]
async fn the_weekday_average_of_a_known_history_is_what_we_compute_by_hand() {
    let app = spawn_app().await;
    let (t, other) = (Uuid::new_v4(), Uuid::new_v4());
    app.seed(t).await;
    app.seed(other).await;
    // another tenant's extra history must not count
    app.sql(&format!(
        "INSERT INTO sales (tenant_id, id, sold_at, total) VALUES \
           ('{other}', '00000000-0000-0000-0000-000000009001', now() - interval '7 days', 120); \
         INSERT INTO sale_lines (tenant_id, id, sale_id, product_id, quantity, unit_price, line_total) VALUES \
           ('{other}', '00000000-0000-0000-0000-000000009101', '00000000-0000-0000-0000-000000009001', '{BARRA}', 100, 1.2, 120);"
    ))
    .await;
    // today's sales are not history yet
    let sale = app
        .post(
            "/api/pos/sales",
            t,
            json!({"lines": [{"product_id": BARRA, "quantity": 5}], "payment_method": "cash"}),
        )
        .await;
    assert_eq!(sale.status, StatusCode::CREATED);

    // History of barra (first sale 14 days ago, so the window is the 14 days up to
    // yesterday, two of each weekday): today-14: 10, today-13: 3, today-7: 12 + 8.
    //   today's weekday:    (10 + 20) / 2 = 15
    //   tomorrow's weekday: (3 + 0) / 2   = 1.5
    //   the day after:      (0 + 0) / 2   = 0
    let f = app.get(&format!("/api/forecasts/{BARRA}?days=3"), t).await;
    assert_eq!(f.status, StatusCode::OK, "{}", f.body);
    assert_eq!(f.body["method"], "weekday_average");
    assert_eq!(f.body["history_days"], 14);
    assert_eq!(
        f.body["history_from"],
        json!((today() - chrono::Duration::days(14)).to_string())
    );
    let quantities: Vec<f64> = f.body["forecast"]
        .as_array()
        .expect("forecast days")
        .iter()
        .map(|d| num(&d["quantity"]))
        .collect();
    assert_eq!(quantities, vec![15.0, 1.5, 0.0]);
    assert_eq!(num(&f.body["total"]), 16.5);
    assert_eq!(f.body["forecast"][0]["date"], json!(today().to_string()));

    // croissant: 2 sold 13 days ago
    let c = app
        .get(&format!("/api/forecasts/{CROISSANT}?days=2"), t)
        .await;
    let q: Vec<f64> = c.body["forecast"]
        .as_array()
        .expect("forecast days")
        .iter()
        .map(|d| num(&d["quantity"]))
        .collect();
    assert_eq!(q, vec![0.0, 1.0]);

    // default 7 days; 1..=30 only
    let week = app.get(&format!("/api/forecasts/{BARRA}"), t).await;
    assert_eq!(week.body["forecast"].as_array().map(Vec::len), Some(7));
    for bad in ["days=0", "days=31", "days=siete"] {
        let a = app.get(&format!("/api/forecasts/{BARRA}?{bad}"), t).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let unknown = app
        .get(&format!("/api/forecasts/{}", Uuid::new_v4()), t)
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.error(), "product_not_found");
}

#[tokio::test]
async fn forecast_models_are_listed_with_the_fake_flag() {
    let app = spawn_app().await;
    let t = Uuid::new_v4();
    app.seed(t).await;
    let models = app.get("/api/forecasts/models", t).await;
    assert_eq!(models.status, StatusCode::OK, "{}", models.body);
    assert_eq!(models.total(), 1);
    let m = &models.items()[0];
    assert_eq!(m["is_fake"], json!(true));
    assert_eq!(m["product_name"], "Barra de pan");
    assert_eq!(m["algorithm"], "prophet");
    assert_eq!(num(&m["metrics"]["mape"]), 12.5);
}
