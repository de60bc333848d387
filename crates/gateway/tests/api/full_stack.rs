//! The prospect's path through the real services: the gateway in front of the real
//! demo-session (cloning the seeded templates inline) and inventory-service, sharing one
//! Redis prefix. Create a session through the gateway, read the virtual tenant's cloned
//! data, get refused what the policy refuses, extend (an invalidation message), end the
//! session, and be refused afterwards.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on what it cannot set up"
)]

use std::collections::HashMap;
use std::time::Duration;

use crate::common::*;
use bakery_config::db::AsyncPgConnection;
use bakery_test_support::{self as support, MigrationSet, TestDatabase};
use diesel_async::AsyncConnection;
use uuid::Uuid;

const TENANT: MigrationSet = MigrationSet {
    name: "tenant",
    migrations: || bakery_tenant::MIGRATIONS,
};
const INVENTORY: MigrationSet = MigrationSet {
    name: "inventory",
    migrations: || bakery_inventory::MIGRATIONS,
};
const DEMO_SESSION: MigrationSet = MigrationSet {
    name: "demo_session",
    migrations: || bakery_demo_session::MIGRATIONS,
};

/// The templates' day (Madrid's): what the demo-session keeps them seeded for.
fn today() -> chrono::NaiveDate {
    bakery_demo_data::clock::bakery_today(chrono::Utc::now())
}

/// Tenant and inventory databases holding the two seeded demo templates.
async fn seeded_databases() -> (TestDatabase, TestDatabase) {
    let day = today().to_string();
    let inputs = ["data/demo", "crates/demo-data/src"];
    let tenant = TestDatabase::prepared(TENANT, "demo", &inputs, &day, |url| async move {
        let mut conn = AsyncPgConnection::establish(&url).await.expect("connect");
        bakery_demo_data::seed_tenants(&mut conn)
            .await
            .expect("seed tenants");
        bakery_demo_data::seed_users(&mut conn)
            .await
            .expect("seed users");
    })
    .await;
    let inventory = TestDatabase::prepared(INVENTORY, "demo", &inputs, &day, |url| async move {
        let mut conn = AsyncPgConnection::establish(&url).await.expect("connect");
        bakery_demo_data::seed_inventory(&mut conn, today())
            .await
            .expect("seed inventory");
    })
    .await;
    (tenant, inventory)
}

fn environment(pairs: &[(&str, String)]) -> HashMap<String, String> {
    let secret = |label: &str| support::secret(label).expose().to_owned();
    let mut vars: HashMap<String, String> = [
        ("PORT", "0".to_owned()),
        ("DATABASE_POOL_SIZE", "4".to_owned()),
        ("INTERNAL_TOKEN_SECRET", secret("internal")),
        ("ACCESS_TOKEN_SECRET", secret("access")),
        ("SESSION_TOKEN_SECRET", secret("session")),
        (
            "ADMIN_API_KEY",
            "gateway-test-admin-key-0123456789".to_owned(),
        ),
        ("IP_HASH_KEY", secret("ip")),
        ("CLEANUP_INTERVAL_SECONDS", "0".to_owned()),
        ("DEMO_WARM_POOL_SIZE", "0".to_owned()),
        ("PROCUREMENT_INTERVAL_SECONDS", "0".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (k, v) in pairs {
        vars.insert((*k).to_owned(), v.clone());
    }
    vars
}

#[tokio::test]
async fn a_prospect_creates_uses_extends_and_ends_a_session_through_the_gateway() {
    let (app, _sessions_db, _databases) = stack().await;

    // the landing page lists both demo bakeries
    let r = app
        .client
        .get(app.url("/api/demo/accounts"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let accounts: serde_json::Value = r.json().await.unwrap();
    assert_eq!(accounts["accounts"].as_array().map(Vec::len), Some(2));

    // "Probar demo"
    let r = app
        .client
        .post(app.url("/api/demo/session/create"))
        .json(&serde_json::json!({"demo_account_type": "individual_bakery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let created: serde_json::Value = r.json().await.unwrap();
    let id = created["session_id"]
        .as_str()
        .expect("session_id")
        .to_owned();
    let token = created["session_token"].as_str().expect("token").to_owned();
    let tenant: Uuid = created["virtual_tenant_id"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("virtual tenant");
    assert!(!bakery_config::tenants::is_template_tenant(tenant));

    // the virtual tenant's copy of the template, by session id and by session token
    let list = |auth: (&'static str, String)| {
        app.client
            .get(app.url("/api/inventory/ingredients"))
            .header(auth.0, auth.1)
            .send()
    };
    let r = list((DEMO_HEADER, id.clone())).await.unwrap();
    assert_eq!(r.status(), 200);
    let by_id: serde_json::Value = r.json().await.unwrap();
    let total = by_id["total"].as_i64().expect("total");
    assert!(total > 0, "the clone has the template's ingredients");
    let r = list(("Authorization", format!("Bearer {token}")))
        .await
        .unwrap();
    let by_token: serde_json::Value = r.json().await.unwrap();
    assert_eq!(by_token["total"].as_i64(), Some(total));

    // what the policy refuses never reaches inventory-service
    let ingredient = by_id["items"][0]["id"].as_str().expect("an ingredient id");
    for (method, path) in [
        (
            reqwest::Method::DELETE,
            format!("/api/inventory/ingredients/{ingredient}"),
        ),
        (
            reqwest::Method::PUT,
            format!("/api/inventory/ingredients/{ingredient}"),
        ),
        (reqwest::Method::GET, "/api/forecasts/models".to_owned()),
    ] {
        let r = app
            .client
            .request(method, app.url(&path))
            .header(DEMO_HEADER, &id)
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(r).await.1, "demo_restriction", "{path}");
    }

    // the three writes the policy allows reach inventory-service and change the clone:
    // a waste adjustment, a sale at the point of sale, an order to a supplier
    let get = |path: String| {
        let request = app.client.get(app.url(&path)).header(DEMO_HEADER, &id);
        async move {
            let r = request.send().await.unwrap();
            assert_eq!(r.status(), 200, "{path}");
            r.json::<serde_json::Value>().await.unwrap()
        }
    };
    let post = |path: &'static str, body: serde_json::Value| {
        app.client
            .post(app.url(path))
            .header(DEMO_HEADER, &id)
            .json(&body)
            .send()
    };
    let stocked = by_id["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["on_hand"].as_f64().unwrap_or(0.0) >= 1.0)
        .expect("an ingredient in stock");
    let r = post(
        "/api/inventory/adjustments",
        serde_json::json!({"ingredient_id": stocked["id"], "quantity_delta": -1,
                           "reason": "waste", "note": "se cayó un saco"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let adjusted: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        adjusted["on_hand"].as_f64().unwrap() + 1.0,
        stocked["on_hand"].as_f64().unwrap()
    );

    let products = get("/api/products?limit=200".to_owned()).await;
    let on_shelf = products["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|p| p["kind"] == "finished" && p["on_hand"].as_f64().unwrap_or(0.0) >= 2.0)
        .expect("a finished product on the shelf");
    let r = post(
        "/api/pos/sales",
        serde_json::json!({"lines": [{"product_id": on_shelf["id"], "quantity": 2}],
                           "payment_method": "card"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let product = get(format!(
        "/api/products/{}",
        on_shelf["id"].as_str().unwrap()
    ))
    .await;
    assert_eq!(
        product["on_hand"].as_f64().unwrap() + 2.0,
        on_shelf["on_hand"].as_f64().unwrap()
    );

    let suppliers = get("/api/suppliers".to_owned()).await;
    let r = post(
        "/api/orders",
        serde_json::json!({"supplier_id": suppliers["items"][0]["id"],
                           "lines": [{"ingredient_id": stocked["id"], "quantity": 5}]}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201, "{:?}", r.text().await);

    // the session bar: status and one extension (demo-session publishes an invalidation)
    let r = app
        .client
        .get(app.url(&format!("/api/demo/session/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .client
        .post(app.url(&format!("/api/demo/session/{id}/extend")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    assert_eq!(list((DEMO_HEADER, id.clone())).await.unwrap().status(), 200);

    // "Terminar demo": afterwards the same id and token are refused
    let r = app
        .client
        .delete(app.url(&format!("/api/demo/session/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let mut refused = false;
    for _ in 0..50 {
        let r = list((DEMO_HEADER, id.clone())).await.unwrap();
        if r.status() == 401 {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(refused, "an ended session still works through the gateway");
    let r = list(("Authorization", format!("Bearer {token}")))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

/// The real `gateway` binary, killed when the test ends.
struct GatewayProcess(std::process::Child, String);

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn gateway_binary(
    demo_url: &str,
    redis: &bakery_config::settings::RedisSettings,
    trusted_proxies: &str,
) -> GatewayProcess {
    let port = closed_port();
    let mut env = support::binary_env(redis);
    env.extend([
        ("HOST", "127.0.0.1".to_owned()),
        ("PORT", port.to_string()),
        ("DEMO_SESSION_URL", demo_url.to_owned()),
        (
            "TENANT_SERVICE_URL",
            format!("http://127.0.0.1:{}", closed_port()),
        ),
        (
            "INVENTORY_SERVICE_URL",
            format!("http://127.0.0.1:{}", closed_port()),
        ),
        ("GATEWAY_TRUSTED_PROXIES", trusted_proxies.to_owned()),
        ("LOG_LEVEL", "warn".to_owned()),
    ]);
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_gateway"))
        .env_clear()
        .envs(env)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start the gateway binary");
    let base = format!("http://127.0.0.1:{port}");
    let process = GatewayProcess(child, base.clone());
    for _ in 0..200 {
        if let Ok(r) = reqwest::get(format!("{base}/health")).await
            && r.status() == 200
        {
            return process;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the gateway binary did not start");
}

#[tokio::test]
async fn the_client_is_who_the_trusted_proxy_says_never_who_the_client_says() {
    let sessions_db = TestDatabase::migrated(DEMO_SESSION).await;
    let (tenant_db, inventory_db) = seeded_databases().await;
    let redis = support::redis_settings();
    let vars = environment(&[
        ("DEMO_SESSION_DATABASE_URL", sessions_db.url.clone()),
        ("TENANT_DATABASE_URL", tenant_db.url.clone()),
        ("INVENTORY_DATABASE_URL", inventory_db.url.clone()),
        ("REDIS_URL", redis.url.clone()),
        ("REDIS_KEY_PREFIX", redis.key_prefix.clone()),
        // one session per client per hour: every second create of a client is refused
        ("DEMO_RATE_LIMIT_PER_HOUR", "1".to_owned()),
    ]);
    let mut env = bakery_config::Env::from_map(&vars);
    let settings = bakery_demo_session::settings::Settings::from_env(&mut env);
    let settings = env.finish(settings).expect("demo-session settings");
    let demo = bakery_demo_session::startup::Application::build(settings)
        .await
        .expect("demo-session");
    let demo_url = format!("http://127.0.0.1:{}", demo.port());
    tokio::spawn(demo.run_until_stopped());
    let client = reqwest::Client::new();
    let create = |base: &str, forwarded_for: &'static [u8]| {
        client
            .post(format!("{base}/api/demo/session/create"))
            .header(
                "X-Forwarded-For",
                reqwest::header::HeaderValue::from_bytes(forwarded_for).unwrap(),
            )
            .json(&serde_json::json!({"demo_account_type": "individual_bakery"}))
            .send()
    };
    let status = |r: reqwest::Response| r.status().as_u16();

    // behind the Ingress: the gateway trusts the proxy in front of it (here, loopback)
    let behind_ingress = gateway_binary(&demo_url, &redis, "127.0.0.1/32").await;
    let base = behind_ingress.1.clone();
    assert_eq!(
        status(create(&base, b"1.1.1.1, 203.0.113.1").await.unwrap()),
        201
    );
    // the same visitor again, whatever it writes to the left of the proxy's entry
    assert_eq!(
        status(create(&base, b"9.9.9.9, 203.0.113.1").await.unwrap()),
        429
    );
    // another visitor is not in the first one's bucket
    assert_eq!(status(create(&base, b"203.0.113.2").await.unwrap()), 201);
    // IPv6: one /64, one visitor
    assert_eq!(
        status(create(&base, b"2001:db8:7:7::1").await.unwrap()),
        201
    );
    assert_eq!(
        status(create(&base, b"2001:db8:7:7::2").await.unwrap()),
        429
    );
    // garbage or a non-ASCII byte stops at the trusted hop, never a fresh bucket: the
    // proxy itself (127.0.0.1) is the client, once
    assert_eq!(status(create(&base, b"203.0.113.\xe9").await.unwrap()), 201);
    assert_eq!(status(create(&base, b"bogus").await.unwrap()), 429);
    assert_eq!(
        status(create(&base, b"203.0.113.3, nope").await.unwrap()),
        429
    );

    // a gateway that trusts nobody: every X-Forwarded-For is the client's say, so the peer
    // (127.0.0.1, its bucket used above) is the client
    let exposed = gateway_binary(&demo_url, &redis, "").await;
    assert_eq!(
        status(create(&exposed.1, b"203.0.113.4").await.unwrap()),
        429
    );
    assert_eq!(
        status(create(&exposed.1, b"203.0.113.5").await.unwrap()),
        429
    );

    // straight to demo-session, X-Forwarded-For changes nothing either
    let r = client
        .post(format!("{demo_url}/api/demo/session/create"))
        .header("X-Forwarded-For", "203.0.113.6")
        .json(&serde_json::json!({"demo_account_type": "individual_bakery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(status(r), 429);
}

/// The real demo-session and inventory-service behind the gateway; the databases live as
/// long as the answer.
async fn stack() -> (TestApp, TestDatabase, (TestDatabase, TestDatabase)) {
    let sessions_db = TestDatabase::migrated(DEMO_SESSION).await;
    let (tenant_db, inventory_db) = seeded_databases().await;
    let redis = support::redis_settings();
    let vars = environment(&[
        ("DEMO_SESSION_DATABASE_URL", sessions_db.url.clone()),
        ("TENANT_DATABASE_URL", tenant_db.url.clone()),
        ("INVENTORY_DATABASE_URL", inventory_db.url.clone()),
        ("REDIS_URL", redis.url.clone()),
        ("REDIS_KEY_PREFIX", redis.key_prefix.clone()),
    ]);
    let mut env = bakery_config::Env::from_map(&vars);
    let settings = bakery_inventory::settings::Settings::from_env(&mut env);
    let settings = env.finish(settings).expect("inventory settings");
    let inventory = bakery_inventory::startup::Application::build(settings)
        .await
        .expect("inventory-service");
    let inventory_url = format!("http://127.0.0.1:{}", inventory.port());
    tokio::spawn(inventory.run_until_stopped());
    let mut env = bakery_config::Env::from_map(&vars);
    let settings = bakery_demo_session::settings::Settings::from_env(&mut env);
    let settings = env.finish(settings).expect("demo-session settings");
    let demo = bakery_demo_session::startup::Application::build(settings)
        .await
        .expect("demo-session");
    let demo_url = format!("http://127.0.0.1:{}", demo.port());
    tokio::spawn(demo.run_until_stopped());
    let app = spawn_app_with(Options {
        inventory_url: Some(inventory_url),
        demo_session_url: Some(demo_url),
        redis: Some(redis),
        cache_ttl: Duration::from_secs(600),
        ..Default::default()
    })
    .await;
    app.wait_for_subscriber().await;
    (app, sessions_db, (tenant_db, inventory_db))
}

#[derive(diesel::QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct MilestoneRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    milestone: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    detail: String,
}

async fn milestone_rows(db: &TestDatabase, id: &str) -> Vec<(String, String)> {
    use diesel_async::RunQueryDsl;
    let mut conn = AsyncPgConnection::establish(&db.url)
        .await
        .expect("connect");
    let mut rows: Vec<MilestoneRow> =
        diesel::sql_query("SELECT milestone, detail FROM demo_milestones WHERE session_id = $1")
            .bind::<diesel::sql_types::Text, _>(id)
            .load(&mut conn)
            .await
            .expect("milestones");
    rows.sort();
    rows.into_iter().map(|r| (r.milestone, r.detail)).collect()
}

#[tokio::test]
async fn a_scripted_demo_through_the_gateway_leaves_its_funnel_and_ticks_its_checklist() {
    let (app, sessions_db, _databases) = stack().await;
    let create = || {
        app.client
            .post(app.url("/api/demo/session/create"))
            .json(&serde_json::json!({"demo_account_type": "individual_bakery"}))
            .send()
    };
    let created: serde_json::Value = create().await.unwrap().json().await.unwrap();
    let id = created["session_id"].as_str().expect("id").to_owned();
    let other: serde_json::Value = create().await.unwrap().json().await.unwrap();
    let other = other["session_id"].as_str().expect("id").to_owned();
    let send = |method: reqwest::Method, path: String, body: Option<serde_json::Value>| {
        let mut request = app
            .client
            .request(method, app.url(&path))
            .header(DEMO_HEADER, &id);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send()
    };

    // the page reports two screens through the gateway (the policy lets the session do it)
    let events = serde_json::json!({"events": [
        {"milestone": "screen_viewed", "detail": "panel"},
        {"milestone": "screen_viewed", "detail": "venta"}]});
    let r = send(
        reqwest::Method::POST,
        format!("/api/demo/session/{id}/events"),
        Some(events.clone()),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 202, "{:?}", r.text().await);
    // …but not claim a write
    let r = send(
        reqwest::Method::POST,
        format!("/api/demo/session/{id}/events"),
        Some(serde_json::json!({"events": [{"milestone": "first_write", "detail": "sale"}]})),
    )
    .await
    .unwrap();
    assert_eq!(error_code(r).await.1, "event_not_allowed");
    // another session's credential cannot post this session's events or read its checklist
    for (method, path) in [
        (
            reqwest::Method::POST,
            format!("/api/demo/session/{id}/events"),
        ),
        (
            reqwest::Method::GET,
            format!("/api/demo/session/{id}/checklist"),
        ),
    ] {
        let r = app
            .client
            .request(method, app.url(&path))
            .header(DEMO_HEADER, &other)
            .json(&events)
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(r).await.1, "session_mismatch", "{path}");
    }

    // a refused write, a recipe's costing, a sale (twice: one milestone)
    let ingredients = send(
        reqwest::Method::GET,
        "/api/inventory/ingredients".into(),
        None,
    )
    .await
    .unwrap()
    .json::<serde_json::Value>()
    .await
    .unwrap();
    let ingredient = ingredients["items"][0]["id"].as_str().expect("ingredient");
    let r = send(
        reqwest::Method::DELETE,
        format!("/api/inventory/ingredients/{ingredient}"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(error_code(r).await.1, "demo_restriction");
    let r = send(reqwest::Method::GET, "/api/recipes".into(), None)
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let products = send(reqwest::Method::GET, "/api/products?limit=200".into(), None)
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let on_shelf = products["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|p| p["kind"] == "finished" && p["on_hand"].as_f64().unwrap_or(0.0) >= 2.0)
        .expect("a finished product on the shelf");
    for _ in 0..2 {
        let r = send(
            reqwest::Method::POST,
            "/api/pos/sales".into(),
            Some(
                serde_json::json!({"lines": [{"product_id": on_shelf["id"], "quantity": 1}],
                                    "payment_method": "card"}),
            ),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 201, "{:?}", r.text().await);
    }

    // the checklist ticks once the gateway's background task delivered the milestones
    let mut list = serde_json::Value::Null;
    for _ in 0..100 {
        let r = send(
            reqwest::Method::GET,
            format!("/api/demo/session/{id}/checklist"),
            None,
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 200);
        list = r.json().await.unwrap();
        if list["done"] == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(list["done"], 2, "{list}");
    assert_eq!(list["items"][0]["id"], "sale");
    assert_eq!(list["items"][0]["done"], true);
    assert_eq!(list["items"][3]["id"], "recipe_costing");
    assert_eq!(list["items"][3]["done"], true);
    assert_eq!(list["next_step"]["id"], "order");

    // the internal endpoint is not reachable through the public port
    let r = app
        .client
        .post(app.url("/internal/demo/milestones"))
        .json(&serde_json::json!({"events": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await.1, "route_not_found");

    let r = app
        .client
        .post(app.url(&format!("/api/demo/session/{id}/extend")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .client
        .delete(app.url(&format!("/api/demo/session/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let expected: Vec<(String, String)> = {
        let mut v: Vec<(String, String)> = [
            ("created", ""),
            ("screen_viewed", "panel"),
            ("screen_viewed", "venta"),
            ("blocked_action", "not_allowed"),
            ("screen_viewed", "recipe_costing"),
            ("first_write", "sale"),
            ("extended", ""),
            ("ended_by_user", ""),
        ]
        .into_iter()
        .map(|(m, d)| (m.to_owned(), d.to_owned()))
        .collect();
        v.sort();
        v
    };
    assert_eq!(milestone_rows(&sessions_db, &id).await, expected);

    // the funnel in the stats, through the gateway (admin)
    let r = app
        .client
        .get(app.url("/api/demo/stats"))
        .header("X-Admin-Key", "gateway-test-admin-key-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let stats: serde_json::Value = r.json().await.unwrap();
    let ib = &stats["funnel"]["by_account_type"]["individual_bakery"]["sessions"];
    assert_eq!(ib["created"], 2, "{stats}");
    assert_eq!(ib["screen_viewed"], 1);
    assert_eq!(ib["first_write"], 1);
    assert_eq!(ib["extended"], 1);
    assert_eq!(stats["funnel"]["blocked_actions"][0]["rule"], "not_allowed");
    let metrics = app
        .client
        .get(format!("{}/metrics", app.metrics_address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("bakery_gateway_milestones_dropped_total 0"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_session_may_reset_and_convert_itself_and_nothing_more() {
    let (app, _sessions_db, _databases) = stack().await;
    let create = || async {
        let created: serde_json::Value = app
            .client
            .post(app.url("/api/demo/session/create"))
            .json(&serde_json::json!({"demo_account_type": "individual_bakery"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        created["session_id"].as_str().expect("id").to_owned()
    };
    let (id, other) = (create().await, create().await);
    let post = |credential: &str, path: String, body: serde_json::Value| {
        app.client
            .post(app.url(&path))
            .header(DEMO_HEADER, credential)
            .json(&body)
            .send()
    };
    let form = serde_json::json!({
        "bakery_name": "Horno de Prueba", "owner_name": "Ana Prueba",
        "email": "ana@horno-prueba.es", "password": "PanDeMasaMadre1", "keep": ["catalog"]});

    // the policy lets a session reach both for itself…
    let r = post(
        &id,
        format!("/api/demo/session/{id}/reset"),
        serde_json::json!({}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    // …never for another session (demo-session checks the forwarded identity)
    for action in ["reset", "convert"] {
        let r = post(
            &other,
            format!("/api/demo/session/{id}/{action}"),
            form.clone(),
        )
        .await
        .unwrap();
        assert_eq!(error_code(r).await.1, "session_mismatch", "{action}");
    }
    // nothing else under the session is writable
    let r = post(
        &id,
        format!("/api/demo/session/{id}/anything"),
        serde_json::json!({}),
    )
    .await
    .unwrap();
    assert_eq!(error_code(r).await.1, "demo_restriction");

    let r = post(&id, format!("/api/demo/session/{id}/convert"), form)
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let converted: serde_json::Value = r.json().await.unwrap();
    // the access token is one the gateway accepts as a customer's: the new tenant's data
    let token = converted["access_token"].as_str().expect("token");
    let r = app
        .client
        .get(app.url("/api/inventory/ingredients?limit=200"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ingredients: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        ingredients["items"].as_array().map(Vec::len),
        Some(30),
        "San Pablo's catalog was kept"
    );
    // the demo session is over
    let r = app
        .client
        .get(app.url("/api/inventory/ingredients"))
        .header(DEMO_HEADER, &id)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await.1, "session_expired");
}

#[tokio::test]
async fn a_session_reads_what_signing_up_would_keep_and_no_other_session_may() {
    let (app, _sessions_db, _databases) = stack().await;
    let create = || async {
        let created: serde_json::Value = app
            .client
            .post(app.url("/api/demo/session/create"))
            .json(&serde_json::json!({"demo_account_type": "individual_bakery"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        created["session_id"].as_str().expect("id").to_owned()
    };
    let (id, other) = (create().await, create().await);
    let preview = |credential: &str| {
        app.client
            .get(app.url(&format!("/api/demo/session/{id}/convert")))
            .header(DEMO_HEADER, credential)
            .send()
    };
    // the policy's GET /** lets the session read it; demo-session answers the counts
    let r = preview(&id).await.unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    let sets = body["data_sets"].as_array().expect("data sets");
    assert_eq!(sets.len(), 5);
    let catalog = sets.iter().find(|s| s["id"] == "catalog").expect("catalog");
    assert_eq!(catalog["tables"]["ingredients"], 30);
    // another session's credential is refused by demo-session
    let r = preview(&other).await.unwrap();
    assert_eq!(error_code(r).await.1, "session_mismatch");
}
