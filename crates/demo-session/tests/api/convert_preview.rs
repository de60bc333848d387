//! `GET /api/demo/session/{id}/convert`: what signing up would keep, counted with the
//! conversion's own plan (the sign-up form's counts).
#![allow(
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a test fails loudly on what it cannot set up, and reads JSON answers by key"
)]

use std::collections::BTreeMap;

use crate::common::*;
use bakery_config::auth::{INTERNAL_AUDIENCE, Identity, ROLE_DEMO, TokenKeys};
use serde_json::{Value, json};
use uuid::Uuid;

fn identity(app: &TestApp, id: &str) -> String {
    let identity = Identity::new(id, Uuid::new_v4(), ROLE_DEMO, 60).for_demo_session(id);
    TokenKeys::new(&app.settings.internal_secret, INTERNAL_AUDIENCE)
        .sign(&identity)
        .expect("sign")
}

async fn preview_as(app: &TestApp, path_id: &str, credential: &str) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/api/demo/session/{path_id}/convert")))
        .bearer_auth(identity(app, credential))
        .send()
        .await
        .expect("preview")
}

async fn session(app: &TestApp) -> String {
    let body = app.create("individual_bakery").await;
    body["session_id"].as_str().expect("id").to_owned()
}

/// The preview's data sets by id.
fn by_set(body: &Value) -> BTreeMap<String, Value> {
    body["data_sets"]
        .as_array()
        .expect("data_sets")
        .iter()
        .map(|d| (d["id"].as_str().expect("id").to_owned(), d.clone()))
        .collect()
}

#[tokio::test]
async fn the_counts_are_what_a_conversion_then_keeps() {
    let app = spawn_app().await;
    let id = session(&app).await;
    let r = preview_as(&app, &id, &id).await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let body: Value = r.json().await.expect("json");
    let sets = by_set(&body);
    assert_eq!(
        sets.keys().map(String::as_str).collect::<Vec<_>>(),
        ["catalog", "orders", "sales", "stock", "suppliers"]
    );
    assert_eq!(body["count_limit"], 100_000);
    // dependencies, as keep resolves them
    assert_eq!(sets["orders"]["needs"], json!(["catalog", "suppliers"]));
    assert_eq!(sets["stock"]["needs"], json!(["catalog"]));
    assert_eq!(sets["catalog"]["needs"], json!([]));
    // San Pablo's catalog: 30 ingredients; every set has rows; demo-only tables never listed
    assert_eq!(sets["catalog"]["tables"]["ingredients"], 30);
    for (name, set) in &sets {
        assert!(set["rows"].as_i64().expect("rows") > 0, "{name}: {set}");
        assert_eq!(set["capped"], false);
        let tables = set["tables"].as_object().expect("tables");
        let sum: i64 = tables.values().filter_map(Value::as_i64).sum();
        assert_eq!(set["rows"].as_i64(), Some(sum), "{name}");
        assert!(!tables.contains_key("forecast_models") && !tables.contains_key("demo_row_usage"));
    }

    // converting with catalog + suppliers + stock keeps exactly the counted rows
    let r = app
        .client
        .post(app.url(&format!("/api/demo/session/{id}/convert")))
        .bearer_auth(identity(&app, &id))
        .header(
            bakery_config::client::CLIENT_HEADER,
            bakery_test_support::client_assertion("203.0.113.21"),
        )
        .json(&json!({
            "bakery_name": "Horno Contado", "owner_name": "Marta Ruiz",
            "email": "marta@horno-contado.es", "password": "MasaMadre2026",
            "keep": ["suppliers", "stock"],
        }))
        .send()
        .await
        .expect("convert");
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let converted: Value = r.json().await.expect("json");
    let kept = converted["kept"].as_object().expect("kept");
    for set in ["catalog", "suppliers", "stock"] {
        for (table, n) in sets[set]["tables"].as_object().expect("tables") {
            assert_eq!(kept[table], *n, "{set}.{table}");
        }
    }
    for set in ["orders", "sales"] {
        for table in sets[set]["tables"].as_object().expect("tables").keys() {
            assert_eq!(kept[table], 0, "{set}.{table} not kept");
        }
    }

    // the session is over: no more previews
    let r = preview_as(&app, &id, &id).await;
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn only_the_session_itself_may_ask() {
    let app = spawn_app().await;
    let id = session(&app).await;
    let other = session(&app).await;
    let r = preview_as(&app, &id, &other).await;
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"], "session_mismatch");
    let r = app
        .client
        .get(app.url(&format!("/api/demo/session/{id}/convert")))
        .send()
        .await
        .expect("no credential");
    assert_eq!(r.status(), 401);
    let unknown = "demo_00000000000000000000000000000000";
    let r = preview_as(&app, unknown, unknown).await;
    assert!(matches!(r.status().as_u16(), 404), "{}", r.status());
}
