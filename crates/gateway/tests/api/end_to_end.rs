//! The gateway in front of the real inventory-service (its router, PostgreSQL with
//! row-level security, Redis): customers and demo sessions see their own tenant's data
//! only, and the demo policy holds.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a test fails loudly on what it cannot set up, and reads JSON answers by key"
)]

use std::collections::HashMap;

use crate::common::*;
use bakery_config::demo::SessionStatus;
use bakery_test_support::{self as support, MigrationSet, TestDatabase};
use uuid::Uuid;

const INVENTORY: MigrationSet = MigrationSet {
    name: "inventory",
    migrations: || bakery_inventory::MIGRATIONS,
};

/// The real inventory-service on port 0, configured the way its binary is (from the
/// environment), against a private database.
async fn spawn_inventory(database: &TestDatabase) -> String {
    let redis = support::redis_settings();
    let secret = |label: &str| support::secret(label).expose().to_owned();
    let vars: HashMap<String, String> = [
        ("PORT", "0".to_owned()),
        ("INVENTORY_DATABASE_URL", database.url.clone()),
        ("DATABASE_POOL_SIZE", "4".to_owned()),
        ("REDIS_URL", redis.url.clone()),
        ("REDIS_KEY_PREFIX", redis.key_prefix.clone()),
        ("INTERNAL_TOKEN_SECRET", secret("internal")),
        ("ACCESS_TOKEN_SECRET", secret("access")),
        ("SESSION_TOKEN_SECRET", secret("session")),
        ("PROCUREMENT_INTERVAL_SECONDS", "0".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let mut env = bakery_config::Env::from_map(&vars);
    let settings = bakery_inventory::settings::Settings::from_env(&mut env);
    let settings = env.finish(settings).expect("inventory settings");
    let app = bakery_inventory::startup::Application::build(settings)
        .await
        .expect("inventory-service");
    let url = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    url
}

fn ingredient(name: &str) -> serde_json::Value {
    serde_json::json!({"name": name, "unit": "kg", "unit_cost": 1.25})
}

async fn names(response: reqwest::Response) -> Vec<String> {
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    let mut names: Vec<String> = body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn demo_sessions_and_customers_see_their_own_ingredients_only() {
    let database = TestDatabase::migrated(INVENTORY).await;
    let inventory = spawn_inventory(&database).await;
    let app = spawn_app_with(Options {
        inventory_url: Some(inventory),
        ..Default::default()
    })
    .await;

    // a customer bakery and a prospect's virtual tenant, each with its own ingredients
    let customer = Uuid::new_v4();
    let s = session(SessionStatus::Ready, 1800);
    app.store_session(&s.cached).await;
    let customer_token = customer_token(customer, "owner", 600);
    // the virtual tenant's data is what the cloner would have copied: put it there as
    // an owner of that tenant would
    let virtual_owner = customer_token_for(s.tenant);
    for (token, name) in [
        (&customer_token, "Harina de fuerza (cliente)"),
        (&virtual_owner, "Harina de trigo (demo)"),
        (&virtual_owner, "Levadura fresca (demo)"),
    ] {
        let r = app
            .client
            .post(app.url("/api/inventory/ingredients"))
            .bearer_auth(token)
            .json(&ingredient(name))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{:?}", r.text().await);
    }

    let demo_view = app
        .client
        .get(app.url("/api/inventory/ingredients"))
        .header(DEMO_HEADER, s.id.as_str())
        .header("X-Tenant-Id", customer.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(
        names(demo_view).await,
        vec!["Harina de trigo (demo)", "Levadura fresca (demo)"]
    );
    let customer_view = app
        .client
        .get(app.url("/api/inventory/ingredients/"))
        .bearer_auth(&customer_token)
        .header("X-Tenant-Id", s.tenant.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(
        names(customer_view).await,
        vec!["Harina de fuerza (cliente)"]
    );

    // the demo session cannot write ingredients, nor reach forecasts
    let r = app
        .client
        .post(app.url("/api/inventory/ingredients"))
        .header(DEMO_HEADER, s.id.as_str())
        .json(&ingredient("Sal"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await.1, "demo_restriction");
    let r = app
        .client
        .get(app.url("/api/forecasts/models"))
        .header(DEMO_HEADER, s.id.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await.1, "demo_restriction");
    // …while the customer reaches them
    let r = app
        .client
        .get(app.url("/api/forecasts/models"))
        .bearer_auth(&customer_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

fn customer_token_for(tenant: Uuid) -> String {
    customer_token(tenant, "owner", 600)
}
