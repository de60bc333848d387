//! The procurement run drafts orders for a customer tenant and none for a demo tenant.
//! tenant-service's internal API is served by a stand-in HTTP server speaking the same
//! contract (`GET /internal/tenants?demo=false`, service identity required).

use std::sync::{Arc, Mutex};

use actix_web::{App, HttpResponse, HttpServer, web};
use bakery_config::auth::{Identity, IdentityVerifier};
use bakery_inventory::procurement::{self, HttpTenantDirectory, ProcurementReport};
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;

/// The first template tenant of `data/demo/accounts.toml`.
fn template() -> Uuid {
    bakery_config::tenants::template_tenant_ids()
        .ok()
        .and_then(|ids| ids.first().copied())
        .expect("the template tenants")
}

#[derive(Default)]
struct Seen {
    queries: Vec<String>,
}

/// A stand-in for tenant-service's `GET /internal/tenants`. It (wrongly) lists the demo
/// tenant even with `demo=false`, flagged `is_demo`, and a template without its flags,
/// so the inventory side's own checks are what keeps them out.
fn stand_in(customer: Uuid, demo: Uuid) -> (String, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let data = web::Data::new(seen.clone());
    let verifier = web::Data::new(IdentityVerifier::new(
        &bakery_test_support::internal_secret(),
    ));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(verifier.clone())
            .route(
                "/internal/tenants",
                web::get().to(
                    move |identity: Identity,
                          req: actix_web::HttpRequest,
                          seen: web::Data<Arc<Mutex<Seen>>>| async move {
                        if !identity.is_service() {
                            return HttpResponse::Forbidden()
                                .json(json!({"error": "forbidden", "message": "solo servicios"}));
                        }
                        if let Ok(mut s) = seen.lock() {
                            s.queries.push(req.query_string().to_owned());
                        }
                        let tenant = |id: Uuid, name: &str, is_demo: bool| {
                            json!({"id": id, "name": name, "slug": name.to_lowercase(),
                                   "business_model": "individual_bakery", "city": "Madrid",
                                   "is_demo": is_demo, "is_demo_template": false})
                        };
                        HttpResponse::Ok().json(json!({"tenants": [
                            tenant(customer, "Cliente", false),
                            tenant(demo, "Demo", true),
                            tenant(template(), "Plantilla", false),
                        ]}))
                    },
                ),
            )
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .expect("bind stand-in");
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    (format!("http://127.0.0.1:{port}"), seen)
}

#[tokio::test]
async fn procurement_drafts_for_customers_only_and_only_once() {
    let app = spawn_app().await;
    let (customer, demo) = (Uuid::new_v4(), Uuid::new_v4());
    for t in [customer, demo, template()] {
        app.seed(t).await;
    }
    let (url, seen) = stand_in(customer, demo);
    let mut settings = app.settings.clone();
    settings.common.services.tenant = url;
    let directory = HttpTenantDirectory::new(&settings).expect("directory");
    let pool = bakery_config::db::build_pool(&settings.common.database).expect("pool");

    let report = procurement::run_once(&pool, &directory)
        .await
        .expect("procurement run");
    assert_eq!(
        report,
        ProcurementReport {
            tenants: 1,
            skipped_demo: 2,
            orders_drafted: 1,
            lines_drafted: 2,
            failed: 0,
        }
    );
    assert_eq!(
        seen.lock().map(|s| s.queries.clone()).unwrap_or_default(),
        vec!["demo=false&limit=500&offset=0".to_owned()]
    );

    // the customer: one draft for the supplier, levadura (1.5 ≤ 2: 5 kg) and sal
    // (0.5 ≤ 1, no reorder quantity: up to twice the reorder point, 1.5 kg); harina is
    // above its point and mantequilla has no supplier
    let drafts = app.get("/api/orders?status=draft", customer).await;
    assert_eq!(drafts.total(), 1, "{}", drafts.body);
    let order = &drafts.items()[0];
    assert_eq!(order["source"], "procurement");
    assert_eq!(order["supplier_id"], json!(SUPPLIER));
    let mut lines: Vec<(String, f64)> = order["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| {
            (
                l["ingredient_id"].as_str().unwrap_or("").to_owned(),
                num(&l["quantity"]),
            )
        })
        .collect();
    lines.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        lines,
        vec![(LEVADURA.to_string(), 5.0), (SAL.to_string(), 1.5)]
    );
    assert_eq!(num(&order["total"]), 20.6); // 5 × 4.00 + 1.5 × 0.40

    // demo and template tenants: nothing
    for t in [demo, template()] {
        assert_eq!(app.get("/api/orders", t).await.total(), 2);
        assert_eq!(app.count(t, "purchase_orders").await, 2);
    }

    // a second run finds the open drafts and drafts nothing
    let again = procurement::run_once(&pool, &directory)
        .await
        .expect("second run");
    assert_eq!((again.orders_drafted, again.lines_drafted), (0, 0));
    assert_eq!(
        app.get("/api/orders?status=draft", customer).await.total(),
        1
    );

    // the SQL refuses excluded tenants even when asked directly
    let mut conn = pool.get().await.expect("conn");
    let none = bakery_inventory::models::purchasing::draft_reorders(&mut conn, demo, &[demo])
        .await
        .expect("draft");
    assert_eq!(none.orders, 0);
    assert_eq!(app.count(demo, "purchase_orders").await, 2);
}

#[tokio::test]
async fn procurement_reports_an_unreachable_tenant_service() {
    let app = spawn_app().await;
    let directory = HttpTenantDirectory::new(&app.settings).expect("directory");
    let pool = bakery_config::db::build_pool(&app.settings.common.database).expect("pool");
    let err = procurement::run_once(&pool, &directory).await;
    assert!(err.is_err());
    assert_eq!(
        app.get("/api/orders", Uuid::new_v4()).await.status,
        StatusCode::OK
    );
}

/// The real tenant-service on port 0, configured from an environment map as its binary
/// is, over a private tenant database.
async fn spawn_tenant_service(database: &bakery_test_support::TestDatabase) -> String {
    let redis = bakery_test_support::redis_settings();
    let secret = |label: &str| bakery_test_support::secret(label).expose().to_owned();
    let vars: std::collections::HashMap<String, String> = [
        ("PORT", "0".to_owned()),
        ("TENANT_DATABASE_URL", database.url.clone()),
        ("DATABASE_POOL_SIZE", "4".to_owned()),
        ("REDIS_URL", redis.url.clone()),
        ("REDIS_KEY_PREFIX", redis.key_prefix.clone()),
        ("INTERNAL_TOKEN_SECRET", secret("internal")),
        ("ACCESS_TOKEN_SECRET", secret("access")),
        ("SESSION_TOKEN_SECRET", secret("session")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let mut env = bakery_config::Env::from_map(&vars);
    let settings = bakery_tenant::settings::Settings::from_env(&mut env);
    let settings = env.finish(settings).expect("tenant-service settings");
    let app = bakery_tenant::startup::Application::build(settings)
        .await
        .expect("tenant-service");
    let url = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    url
}

#[tokio::test]
async fn procurement_with_the_real_tenant_service_skips_the_virtual_and_template_tenants() {
    let app = spawn_app().await;
    let tenant_db =
        bakery_test_support::TestDatabase::migrated(bakery_test_support::MigrationSet {
            name: "tenant",
            migrations: || bakery_tenant::MIGRATIONS,
        })
        .await;
    let (customer, virtual_tenant) = (Uuid::new_v4(), Uuid::new_v4());
    let template = template();
    {
        use diesel_async::{AsyncConnection, SimpleAsyncConnection};
        let mut conn = diesel_async::AsyncPgConnection::establish(&tenant_db.url)
            .await
            .expect("connect tenant db");
        let sql = format!(
            "INSERT INTO tenants (id, name, slug, business_model, city, is_demo_template, demo_account_type) VALUES \
               ('{template}', 'Panadería San Pablo - Demo', 'san-pablo-demo', 'individual_bakery', 'Madrid', true, 'individual_bakery'); \
             INSERT INTO tenants (id, name, slug, business_model, city) VALUES \
               ('{customer}', 'Horno de Ana', 'horno-de-ana', 'individual_bakery', 'Madrid'); \
             INSERT INTO tenants (id, name, slug, business_model, city, is_demo, demo_account_type, \
                                  base_demo_tenant_id, demo_session_id, demo_expires_at) VALUES \
               ('{virtual_tenant}', 'Panadería San Pablo - Demo', 'demo-copia', 'individual_bakery', 'Madrid', \
                true, 'individual_bakery', '{template}', 'demo_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', \
                now() + interval '30 minutes');"
        );
        conn.transaction::<_, diesel::result::Error, _>(async |c| {
            bakery_config::db::allow_all_tenants(c).await?;
            c.batch_execute(&sql).await
        })
        .await
        .expect("seed tenants");
    }
    for t in [customer, virtual_tenant, template] {
        app.seed(t).await;
    }
    let mut settings = app.settings.clone();
    settings.common.services.tenant = spawn_tenant_service(&tenant_db).await;
    let directory = HttpTenantDirectory::new(&settings).expect("directory");
    let pool = bakery_config::db::build_pool(&settings.common.database).expect("pool");

    let report = procurement::run_once(&pool, &directory)
        .await
        .expect("procurement run");
    assert_eq!(
        (report.tenants, report.orders_drafted, report.failed),
        (1, 1, 0)
    );
    assert_eq!(
        app.get("/api/orders?status=draft", customer).await.total(),
        1
    );
    for t in [virtual_tenant, template] {
        assert_eq!(app.get("/api/orders?status=draft", t).await.total(), 0);
    }
}

#[tokio::test]
async fn the_background_scheduler_runs_on_its_interval() {
    let app = spawn_app().await;
    let (customer, demo) = (Uuid::new_v4(), Uuid::new_v4());
    app.seed(customer).await;
    app.seed(demo).await;
    let (url, _) = stand_in(customer, demo);
    let mut settings = app.settings.clone();
    settings.common.services.tenant = url;
    let directory = Arc::new(HttpTenantDirectory::new(&settings).expect("directory"));
    let pool = bakery_config::db::build_pool(&settings.common.database).expect("pool");
    let metrics = bakery_inventory::metrics::InventoryMetrics::default();
    let scheduler = procurement::spawn_scheduler(
        pool,
        directory,
        std::time::Duration::from_millis(200),
        metrics.clone(),
    );
    let mut drafted = 0;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        drafted = app.get("/api/orders?status=draft", customer).await.total();
        if drafted > 0 {
            break;
        }
    }
    // a few more ticks change nothing: the run is idempotent
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    scheduler.abort();
    assert_eq!(drafted, 1);
    assert_eq!(
        app.get("/api/orders?status=draft", customer).await.total(),
        1
    );
    assert_eq!(app.get("/api/orders?status=draft", demo).await.total(), 0);
}

/// The environment the `inventory-service` binary needs to reach this test's database,
/// Redis and tenant-service stand-in.
fn binary_env(app: &TestApp, tenant_url: &str) -> Vec<(&'static str, String)> {
    let mut env = bakery_test_support::binary_env(&app.settings.common.redis);
    env.extend([
        (
            "INVENTORY_DATABASE_URL",
            app.settings.common.database.url.clone(),
        ),
        ("TENANT_SERVICE_URL", tenant_url.to_owned()),
        ("LOG_FORMAT", "json".to_owned()),
    ]);
    env
}

/// `inventory-service procurement-run` with only `env` (off the test's runtime thread,
/// which keeps serving the stand-in).
async fn run_binary(env: &[(&'static str, String)]) -> std::process::Output {
    let env = env.to_vec();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_inventory-service"))
            .arg("procurement-run")
            .env_clear()
            .envs(env)
            .output()
    })
    .await
    .expect("join")
    .expect("run inventory-service procurement-run")
}

#[tokio::test]
async fn the_procurement_run_subcommand_drafts_once_and_prints_its_report() {
    let app = spawn_app().await;
    let (customer, demo) = (Uuid::new_v4(), Uuid::new_v4());
    for t in [customer, demo] {
        app.seed(t).await;
    }
    let (url, _) = stand_in(customer, demo);
    let env = binary_env(&app, &url);
    for run in 0..2 {
        let out = run_binary(&env).await;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // logs go to stdout too; the report is the last line
        let stdout = String::from_utf8_lossy(&out.stdout);
        let report: serde_json::Value = stdout
            .lines()
            .last()
            .and_then(|l| serde_json::from_str(l).ok())
            .expect("the report as the last line of stdout");
        assert_eq!(report["tenants"], 1);
        assert_eq!(report["skipped_demo"], 2);
        // the second run finds the draft of the first and adds nothing
        assert_eq!(report["orders_drafted"], if run == 0 { 1 } else { 0 });
    }
    assert_eq!(
        app.get("/api/orders?status=draft", customer).await.total(),
        1
    );
    assert_eq!(app.get("/api/orders?status=draft", demo).await.total(), 0);
}

#[tokio::test]
async fn a_bad_setting_stops_the_binary_naming_the_variable() {
    let app = spawn_app().await;
    let mut env = binary_env(&app, "http://127.0.0.1:9");
    env.push(("PROCUREMENT_INTERVAL_SECONDS", "forever".to_owned()));
    env.push(("INVENTORY_CACHE_TTL_SECONDS", "0".to_owned()));
    let out = run_binary(&env).await;
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("PROCUREMENT_INTERVAL_SECONDS"), "{stderr}");
    assert!(stderr.contains("INVENTORY_CACHE_TTL_SECONDS"), "{stderr}");
    // nothing ran
    assert_eq!(
        app.get("/api/orders?status=draft", Uuid::new_v4())
            .await
            .total(),
        0
    );
}

#[tokio::test]
async fn recorded_runs_count_their_outcome_and_the_skipped_demo_tenants() {
    use bakery_config::metrics::Metrics;
    use bakery_config::metrics::prometheus_client::registry::Registry;
    use bakery_inventory::metrics::InventoryMetrics;
    use bakery_test_support::metrics::Scrape;

    let app = spawn_app().await;
    let (customer, demo) = (Uuid::new_v4(), Uuid::new_v4());
    app.seed(customer).await;
    let (url, _) = stand_in(customer, demo);
    let mut settings = app.settings.clone();
    settings.common.services.tenant = url;
    let directory = HttpTenantDirectory::new(&settings).expect("directory");
    let pool = bakery_config::db::build_pool(&settings.common.database).expect("pool");
    let metrics = InventoryMetrics::default();
    let mut registry = Registry::default();
    metrics.register(&mut registry);
    let exposition = Metrics::new(registry);

    procurement::run_recorded(&pool, &directory, &metrics)
        .await
        .expect("procurement run");
    let mut unreachable = settings.clone();
    unreachable.common.services.tenant = "http://127.0.0.1:9".to_owned();
    let down = HttpTenantDirectory::new(&unreachable).expect("directory");
    assert!(
        procurement::run_recorded(&pool, &down, &metrics)
            .await
            .is_err()
    );

    let scrape = Scrape::parse(&exposition.render().await.expect("encodes"));
    assert_eq!(
        scrape.value("bakery_procurement_runs_total", &[("outcome", "ok")]),
        1.0
    );
    assert_eq!(
        scrape.value("bakery_procurement_runs_total", &[("outcome", "failed")]),
        1.0
    );
    // the demo tenant and the template the stand-in directory lists
    assert_eq!(
        scrape.value("bakery_procurement_skipped_demo_tenants_total", &[]),
        2.0
    );
}
