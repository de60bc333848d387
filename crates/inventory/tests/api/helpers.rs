//! `spawn_app()`: the real inventory-service router on a private database and Redis
//! prefix, plus a bakery seeded identically (same ids) for any number of tenants.
#![allow(
    dead_code,
    reason = "each test module uses its own part of these helpers"
)]

use bakery_config::db;
use bakery_config::settings::RedisSettings;
use bakery_inventory::settings::Settings;
use bakery_inventory::startup::Application;
use bakery_test_support::{MigrationSet, TestDatabase};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

pub const INVENTORY: MigrationSet = MigrationSet {
    name: "inventory",
    migrations: || bakery_inventory::MIGRATIONS,
};

// The seeded bakery's ids: identical in every tenant, as a clone would be.
pub const SUPPLIER: Uuid = Uuid::from_u128(0x5001);
pub const HARINA: Uuid = Uuid::from_u128(0x1001);
pub const LEVADURA: Uuid = Uuid::from_u128(0x1002);
pub const SAL: Uuid = Uuid::from_u128(0x1003);
pub const MANTEQUILLA: Uuid = Uuid::from_u128(0x1004);
pub const LOT_H1: Uuid = Uuid::from_u128(0x2001);
pub const LOT_H2: Uuid = Uuid::from_u128(0x2002);
pub const LOT_L: Uuid = Uuid::from_u128(0x2003);
pub const LOT_S: Uuid = Uuid::from_u128(0x2004);
pub const LOT_BA: Uuid = Uuid::from_u128(0x2005);
pub const LOT_BB: Uuid = Uuid::from_u128(0x2006);
pub const BARRA: Uuid = Uuid::from_u128(0x3001);
pub const CROISSANT: Uuid = Uuid::from_u128(0x3002);
pub const RECIPE: Uuid = Uuid::from_u128(0x4001);
pub const PO_LATE: Uuid = Uuid::from_u128(0x6001);
pub const PO_DONE: Uuid = Uuid::from_u128(0x6002);

/// What the seed holds, per tenant.
pub const SEEDED: [(&str, i64); 10] = [
    ("/api/inventory/ingredients", 4),
    ("/api/inventory/stock-lots", 6),
    ("/api/products", 2),
    ("/api/recipes", 1),
    ("/api/production/batches", 0),
    ("/api/suppliers", 1),
    ("/api/orders", 2),
    ("/api/sales", 4),
    ("/api/forecasts/models", 1),
    (
        "/api/inventory/stock-lots?ingredient_id=00000000-0000-0000-0000-000000001001",
        2,
    ),
];

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub settings: Settings,
    pub database: TestDatabase,
}

pub fn settings_for(database: &TestDatabase, redis: RedisSettings) -> Settings {
    Settings {
        common: bakery_test_support::service_settings(&database.url, redis),
        cache_ttl_secs: 60,
        cache_max_mb: 32,
        demo_writes_per_minute: 30,
        demo_max_rows_per_table: 500,
        procurement_interval_secs: 0,
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(bakery_test_support::redis_settings()).await
}

pub async fn spawn_app_with(redis: RedisSettings) -> TestApp {
    spawn_app_configured(redis, |_| {}).await
}

/// A service whose settings `configure` changes first (limits, quotas…).
pub async fn spawn_app_configured(
    redis: RedisSettings,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    let database = TestDatabase::migrated(INVENTORY).await;
    let mut settings = settings_for(&database, redis);
    configure(&mut settings);
    let app = Application::build(settings.clone())
        .await
        .expect("build application");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::new(),
        settings,
        database,
    }
}

pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    /// The `Retry-After` header, in seconds, when there is one.
    pub retry_after: Option<u64>,
    /// The body's length in bytes, as sent.
    pub bytes: usize,
}

impl Answer {
    pub fn total(&self) -> i64 {
        self.body["total"].as_i64().expect("a page with a total")
    }
    pub fn items(&self) -> &Vec<Value> {
        self.body["items"].as_array().expect("a page with items")
    }
    /// The envelope's error code.
    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or("<no error code>")
    }
}

pub fn num(v: &Value) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("expected a JSON number, got {v}"))
}

impl TestApp {
    pub async fn connect(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.database.url)
            .await
            .expect("connect")
    }

    /// Runs `sql` across tenants (test set-up only).
    pub async fn sql(&self, sql: &str) {
        let mut conn = self.connect().await;
        conn.transaction::<_, diesel::result::Error, _>(async |c| {
            db::allow_all_tenants(c).await?;
            c.batch_execute(sql).await
        })
        .await
        .unwrap_or_else(|e| panic!("test SQL failed: {e}\n{sql}"));
    }

    /// Seeds the same bakery (same ids) into `tenant`.
    pub async fn seed(&self, tenant: Uuid) {
        self.sql(&seed_sql(tenant)).await;
    }

    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        tenant: Uuid,
        body: Option<Value>,
    ) -> Answer {
        self.request_as(method, path, tenant, "owner", body).await
    }

    pub async fn request_as(
        &self,
        method: reqwest::Method,
        path: &str,
        tenant: Uuid,
        role: &str,
        body: Option<Value>,
    ) -> Answer {
        let token = bakery_test_support::identity_token(tenant, role);
        self.request_with(method, path, &token, body).await
    }

    /// A request as the demo session `session` of virtual tenant `tenant` (role `demo`, the
    /// identity the gateway forwards for a demo session).
    pub async fn demo_request(
        &self,
        method: reqwest::Method,
        path: &str,
        tenant: Uuid,
        session: &str,
        body: Option<Value>,
    ) -> Answer {
        self.request_with(method, path, &demo_token(tenant, session), body)
            .await
    }

    pub async fn demo_post(&self, path: &str, tenant: Uuid, session: &str, body: Value) -> Answer {
        self.demo_request(reqwest::Method::POST, path, tenant, session, Some(body))
            .await
    }

    pub async fn request_with(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Answer {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.address, path))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let retry_after = res
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let text = res.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"))
        };
        Answer {
            status,
            body,
            retry_after,
            bytes: text.len(),
        }
    }

    pub async fn get(&self, path: &str, tenant: Uuid) -> Answer {
        self.request(reqwest::Method::GET, path, tenant, None).await
    }

    pub async fn post(&self, path: &str, tenant: Uuid, body: Value) -> Answer {
        self.request(reqwest::Method::POST, path, tenant, Some(body))
            .await
    }

    /// Stock on hand of an ingredient, through the API.
    pub async fn ingredient_on_hand(&self, tenant: Uuid, id: Uuid) -> f64 {
        let a = self
            .get(&format!("/api/inventory/ingredients/{id}"), tenant)
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        num(&a.body["on_hand"])
    }

    /// Stock on hand of a product, through the API.
    pub async fn product_on_hand(&self, tenant: Uuid, id: Uuid) -> f64 {
        let a = self.get(&format!("/api/products/{id}"), tenant).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        num(&a.body["on_hand"])
    }

    /// Quantity left in one lot (direct SQL, across tenants).
    pub async fn lot_quantity(&self, tenant: Uuid, lot: Uuid) -> f64 {
        #[derive(diesel::QueryableByName)]
        struct Q {
            #[diesel(sql_type = diesel::sql_types::Double)]
            q: f64,
        }
        let mut conn = self.connect().await;
        conn.transaction::<_, diesel::result::Error, _>(async |c| {
            db::scope_to_tenant(c, tenant).await?;
            use diesel_async::RunQueryDsl;
            diesel::sql_query(format!(
                "SELECT quantity::float8 AS q FROM stock_lots WHERE tenant_id = '{tenant}' AND id = '{lot}'"
            ))
            .get_result::<Q>(c)
            .await
            .map(|r| r.q)
        })
        .await
        .expect("lot quantity")
    }

    /// Rows of `table` for `tenant` (direct SQL).
    pub async fn count(&self, tenant: Uuid, table: &str) -> i64 {
        self.count_where(tenant, table, "true").await
    }

    /// The tenant's rows of `table` that meet `condition` (SQL).
    pub async fn count_where(&self, tenant: Uuid, table: &str, condition: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = self.connect().await;
        conn.transaction::<_, diesel::result::Error, _>(async |c| {
            db::scope_to_tenant(c, tenant).await?;
            use diesel_async::RunQueryDsl;
            diesel::sql_query(format!(
                "SELECT count(*) AS n FROM {table} WHERE tenant_id = '{tenant}' AND ({condition})"
            ))
            .get_result::<N>(c)
            .await
            .map(|r| r.n)
        })
        .await
        .expect("count")
    }
}

/// The identity the gateway forwards for demo session `session` of virtual tenant `tenant`.
pub fn demo_token(tenant: Uuid, session: &str) -> String {
    use bakery_config::auth::{INTERNAL_AUDIENCE, Identity, ROLE_DEMO, TokenKeys};
    let identity = Identity::new(session, tenant, ROLE_DEMO, 300).for_demo_session(session);
    TokenKeys::new(&bakery_test_support::internal_secret(), INTERNAL_AUDIENCE)
        .sign(&identity)
        .expect("sign demo identity")
}

/// The test bakeries' today: Madrid's (the identities the tests sign carry the default zone).
pub fn today() -> chrono::NaiveDate {
    bakery_config::clock::BakeryTimeZone::MADRID.today()
}

fn seed_sql(t: Uuid) -> String {
    let d = today();
    format!(
        r#"
INSERT INTO suppliers (tenant_id, id, name, kind, lead_time_days) VALUES
  ('{t}', '{SUPPLIER}', 'Harinera La Meseta', 'wholesaler', 2);
INSERT INTO ingredients (tenant_id, id, name, unit, unit_cost, reorder_point, reorder_quantity, supplier_id) VALUES
  ('{t}', '{HARINA}', 'Harina de trigo T55', 'kg', 0.85, 50, 100, '{SUPPLIER}'),
  ('{t}', '{LEVADURA}', 'Levadura fresca', 'kg', 4.00, 2, 5, '{SUPPLIER}'),
  ('{t}', '{SAL}', 'Sal marina', 'kg', 0.40, 1, 0, '{SUPPLIER}'),
  ('{t}', '{MANTEQUILLA}', 'Mantequilla', 'kg', 7.50, 5, 10, NULL);
INSERT INTO stock_lots (tenant_id, id, ingredient_id, lot_code, quantity, initial_quantity, unit_cost, received_at, expires_at) VALUES
  ('{t}', '{LOT_H1}', '{HARINA}', 'H-1', 30, 30, 0.85, now() - interval '3 days', DATE '{d}' + 10),
  ('{t}', '{LOT_H2}', '{HARINA}', 'H-2', 40, 40, 0.85, now() - interval '2 days', DATE '{d}' + 5),
  ('{t}', '{LOT_L}', '{LEVADURA}', 'L-1', 1.5, 2, 4.00, now(), DATE '{d}' + 20),
  ('{t}', '{LOT_S}', '{SAL}', 'S-1', 0.5, 1, 0.40, now(), NULL);
INSERT INTO products (tenant_id, id, name, kind, sale_price, shelf_life_days) VALUES
  ('{t}', '{BARRA}', 'Barra de pan', 'finished', 1.20, 1),
  ('{t}', '{CROISSANT}', 'Croissant', 'finished', 1.50, 2);
INSERT INTO stock_lots (tenant_id, id, product_id, lot_code, quantity, initial_quantity, unit_cost, received_at, expires_at) VALUES
  ('{t}', '{LOT_BA}', '{BARRA}', 'B-A', 10, 10, 0.47, now(), DATE '{d}' + 1),
  ('{t}', '{LOT_BB}', '{BARRA}', 'B-B', 5, 5, 0.47, now() - interval '1 day', DATE '{d}');
INSERT INTO recipes (tenant_id, id, product_id, name, yield_quantity) VALUES
  ('{t}', '{RECIPE}', '{BARRA}', 'Barra tradicional', 10);
INSERT INTO recipe_lines (tenant_id, id, recipe_id, ingredient_id, quantity) VALUES
  ('{t}', '00000000-0000-0000-0000-000000004101', '{RECIPE}', '{HARINA}', 5),
  ('{t}', '00000000-0000-0000-0000-000000004102', '{RECIPE}', '{LEVADURA}', 0.1),
  ('{t}', '00000000-0000-0000-0000-000000004103', '{RECIPE}', '{SAL}', 0.1);
INSERT INTO sales (tenant_id, id, sold_at, payment_method, total) VALUES
  ('{t}', '00000000-0000-0000-0000-000000007001', (DATE '{d}' - 14 + TIME '12:00') AT TIME ZONE 'UTC', 'cash', 12.00),
  ('{t}', '00000000-0000-0000-0000-000000007002', (DATE '{d}' - 13 + TIME '09:30') AT TIME ZONE 'UTC', 'card', 6.60),
  ('{t}', '00000000-0000-0000-0000-000000007003', (DATE '{d}' - 7 + TIME '08:00') AT TIME ZONE 'UTC', 'card', 14.40),
  ('{t}', '00000000-0000-0000-0000-000000007004', (DATE '{d}' - 7 + TIME '19:00') AT TIME ZONE 'UTC', 'bizum', 9.60);
INSERT INTO sale_lines (tenant_id, id, sale_id, product_id, quantity, unit_price, line_total) VALUES
  ('{t}', '00000000-0000-0000-0000-000000007101', '00000000-0000-0000-0000-000000007001', '{BARRA}', 10, 1.20, 12.00),
  ('{t}', '00000000-0000-0000-0000-000000007102', '00000000-0000-0000-0000-000000007002', '{BARRA}', 3, 1.20, 3.60),
  ('{t}', '00000000-0000-0000-0000-000000007103', '00000000-0000-0000-0000-000000007002', '{CROISSANT}', 2, 1.50, 3.00),
  ('{t}', '00000000-0000-0000-0000-000000007104', '00000000-0000-0000-0000-000000007003', '{BARRA}', 12, 1.20, 14.40),
  ('{t}', '00000000-0000-0000-0000-000000007105', '00000000-0000-0000-0000-000000007004', '{BARRA}', 8, 1.20, 9.60);
INSERT INTO purchase_orders (tenant_id, id, supplier_id, reference, status, ordered_at, expected_at, delivered_at, total) VALUES
  ('{t}', '{PO_LATE}', '{SUPPLIER}', 'PO-LATE', 'pending', now() - interval '6 days', DATE '{d}' - 3, NULL, 85.00),
  ('{t}', '{PO_DONE}', '{SUPPLIER}', 'PO-DONE', 'delivered', now() - interval '10 days', DATE '{d}' - 8, now() - interval '8 days', 40.00);
INSERT INTO purchase_order_lines (tenant_id, id, order_id, ingredient_id, quantity, unit_cost) VALUES
  ('{t}', '00000000-0000-0000-0000-000000006101', '{PO_LATE}', '{HARINA}', 100, 0.85),
  ('{t}', '00000000-0000-0000-0000-000000006102', '{PO_DONE}', '{LEVADURA}', 10, 4.00);
INSERT INTO forecast_models (tenant_id, id, product_id, algorithm, is_fake, metrics, trained_at) VALUES
  ('{t}', '00000000-0000-0000-0000-000000008001', '{BARRA}', 'prophet', true, '{{"mape": 12.5}}', now());
"#
    )
}
