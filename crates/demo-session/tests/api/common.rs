//! `spawn_app()`: the real demo-session (router, middleware, sweeper off) on port 0, over
//! three private databases whose tenant and inventory ones hold the seeded demo templates.
#![allow(
    dead_code,
    reason = "the benchmarks include these helpers too, and use only part of them"
)]
#![allow(
    clippy::expect_used,
    reason = "a test fails loudly on what it cannot set up"
)]

use bakery_demo_session::settings::WarmPoolSizing;
use std::sync::Arc;
use std::time::Duration;

use bakery_config::db::{self, AsyncPgConnection};
use bakery_config::env::Secret;
use bakery_config::settings::{DatabaseSettings, DemoSettings};
use bakery_demo_session::lifecycle::DemoSessions;
use bakery_demo_session::settings::{CloneStrategy, JobSettings, OnDemand, Settings};
use bakery_demo_session::startup::Application;
use bakery_test_support::{MigrationSet, TestDatabase};
use diesel_async::AsyncConnection;

pub const ADMIN_KEY: &str = "test-admin-key-0123456789abcdef";

pub const TENANT: MigrationSet = MigrationSet {
    name: "tenant",
    migrations: || bakery_tenant::MIGRATIONS,
};
pub const INVENTORY: MigrationSet = MigrationSet {
    name: "inventory",
    migrations: || bakery_inventory::MIGRATIONS,
};
pub const DEMO_SESSION: MigrationSet = MigrationSet {
    name: "demo_session",
    migrations: || bakery_demo_session::MIGRATIONS,
};

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub settings: Settings,
    pub sessions: Arc<DemoSessions>,
    pub sessions_db: TestDatabase,
    pub tenant_db: TestDatabase,
    pub inventory_db: TestDatabase,
}

/// The templates' day (Madrid's): what the demo-session keeps them seeded for.
fn today() -> chrono::NaiveDate {
    bakery_demo_data::clock::bakery_today(chrono::Utc::now())
}

/// The tenant and inventory databases with both demo templates seeded (built once a day
/// per data version, then copied per test).
pub async fn seeded_databases() -> (TestDatabase, TestDatabase) {
    let day = today().to_string();
    let tenant = TestDatabase::prepared(
        TENANT,
        "demo",
        &["data/demo", "crates/demo-data/src"],
        &day,
        |url| async move {
            let mut conn = AsyncPgConnection::establish(&url).await.expect("connect");
            bakery_demo_data::seed_tenants(&mut conn)
                .await
                .expect("seed tenants");
            bakery_demo_data::seed_users(&mut conn)
                .await
                .expect("seed users");
        },
    )
    .await;
    let inventory = TestDatabase::prepared(
        INVENTORY,
        "demo",
        &["data/demo", "crates/demo-data/src"],
        &day,
        |url| async move {
            let mut conn = AsyncPgConnection::establish(&url).await.expect("connect");
            bakery_demo_data::seed_inventory(&mut conn, today())
                .await
                .expect("seed inventory");
        },
    )
    .await;
    (tenant, inventory)
}

fn database(url: &str) -> DatabaseSettings {
    DatabaseSettings {
        url: url.to_owned(),
        pool_size: 8,
        limits: bakery_config::settings::DatabaseLimits::default(),
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(customise: impl FnOnce(&mut Settings)) -> TestApp {
    let sessions_db = TestDatabase::migrated(DEMO_SESSION).await;
    let (tenant_db, inventory_db) = seeded_databases().await;
    let mut settings = Settings {
        server: bakery_test_support::server_settings(),
        database: database(&sessions_db.url),
        tenant_database: database(&tenant_db.url),
        inventory_database: database(&inventory_db.url),
        redis: bakery_test_support::redis_settings(),
        demo: DemoSettings {
            session_duration: Duration::from_secs(30 * 60),
            max_extensions: 3,
            redis_session_ttl: Duration::from_secs(1800),
        },
        telemetry: bakery_test_support::telemetry_settings(),
        session_secret: bakery_test_support::secret("session"),
        internal_secret: bakery_test_support::internal_secret(),
        admin_api_key: Secret::new(ADMIN_KEY),
        ip_hash_key: bakery_test_support::secret("ip"),
        rate_limit_per_hour: 1000,
        max_active_sessions: 1000,
        clone_strategy: CloneStrategy::Inline,
        job: JobSettings {
            image: None,
            namespace: "bakery-ia-clones".to_owned(),
            timeout: Duration::from_secs(10),
            secret_name: "bakery-ia-clone-job".to_owned(),
            config_map: "bakery-ia-clone-config".to_owned(),
            service_account: "clone-demo-tenant".to_owned(),
            on_demand: OnDemand::Job,
            api_url: None,
        },
        cleanup_interval: Duration::ZERO,
        pending_timeout: Duration::from_secs(300),
        warm_pool: WarmPoolSizing::OFF,
        queue_max: 1000,
        funnel_retention_days: 90,
        events_per_minute: 30,
        access_secret: bakery_test_support::token_settings().access_secret,
        access_ttl: Duration::from_secs(3600),
        conversions_per_hour: 1000,
    };
    customise(&mut settings);
    let app = Application::build(settings.clone())
        .await
        .expect("build demo-session");
    let address = format!("http://127.0.0.1:{}", app.port());
    let sessions = app.sessions();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::new(),
        settings,
        sessions,
        sessions_db,
        tenant_db,
        inventory_db,
    }
}

/// A second demo-session process over the same three databases (and Redis): what another
/// replica sees and does.
pub struct Replica {
    pub address: String,
    pub sessions: Arc<DemoSessions>,
}

impl TestApp {
    /// Starts another replica of this app, with the same settings and databases.
    pub async fn replica(&self) -> Replica {
        let app = Application::build(self.settings.clone())
            .await
            .expect("build a replica");
        let address = format!("http://127.0.0.1:{}", app.port());
        let sessions = app.sessions();
        tokio::spawn(app.run_until_stopped());
        Replica { address, sessions }
    }

    /// `GET /api/demo/queue/{token}` on the replica at `address`.
    pub async fn poll_queue_at(&self, address: &str, token: &str) -> reqwest::Response {
        self.client
            .get(format!("{address}/api/demo/queue/{token}"))
            .send()
            .await
            .expect("poll the queue")
    }

    /// `GET /api/demo/queue/{token}`
    pub async fn poll_queue(&self, token: &str) -> reqwest::Response {
        self.poll_queue_at(&self.address, token).await
    }

    /// Creates a session as client `ip` on the replica at `address`.
    pub async fn create_at(&self, address: &str, account: &str, ip: &str) -> reqwest::Response {
        self.client
            .post(format!("{address}/api/demo/session/create"))
            .header(
                bakery_config::client::CLIENT_HEADER,
                bakery_test_support::client_assertion(ip),
            )
            .json(&serde_json::json!({ "demo_account_type": account }))
            .send()
            .await
            .expect("create request")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Creates a session as client `ip` (asserted the way the gateway asserts it).
    pub async fn create_as(&self, account: &str, ip: &str) -> reqwest::Response {
        self.create_at(&self.address, account, ip).await
    }

    pub async fn create(&self, account: &str) -> serde_json::Value {
        let response = self.create_as(account, "203.0.113.10").await;
        assert_eq!(response.status().as_u16(), 201, "create failed");
        response.json().await.expect("json")
    }

    /// `GET /api/demo/session/{id}`
    pub async fn get_session(&self, id: &str) -> reqwest::Response {
        self.client
            .get(self.url(&format!("/api/demo/session/{id}")))
            .send()
            .await
            .expect("get session")
    }

    /// `POST /api/demo/session/{id}/extend`
    pub async fn extend_session(&self, id: &str) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/api/demo/session/{id}/extend")))
            .send()
            .await
            .expect("extend session")
    }

    /// `DELETE /api/demo/session/{id}`
    pub async fn end_session(&self, id: &str) -> reqwest::Response {
        self.client
            .delete(self.url(&format!("/api/demo/session/{id}")))
            .send()
            .await
            .expect("end session")
    }

    pub async fn tenant_conn(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.tenant_db.url)
            .await
            .expect("connect tenant")
    }

    pub async fn inventory_conn(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.inventory_db.url)
            .await
            .expect("connect inventory")
    }

    pub async fn sessions_conn(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.sessions_db.url)
            .await
            .expect("connect sessions")
    }

    pub async fn redis(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.settings.redis.url.as_str())
            .expect("redis url")
            .get_multiplexed_async_connection()
            .await
            .expect("redis")
    }
}

/// The tables a virtual tenant reads from its template instead of copying them (the clone
/// plan finds them in the catalog; `lifecycle` checks it finds these).
pub const SHARED: [&str; 2] = ["sale_lines", "sales"];

/// What a clone of `template` holds per table: the template's rows, except the shared
/// history (none of it copied), and the one `history_shares` row pointing at the template.
pub async fn clone_counts(
    conn: &mut AsyncPgConnection,
    template: uuid::Uuid,
) -> std::collections::BTreeMap<String, i64> {
    let mut counts = inventory_counts(conn, template).await;
    for table in SHARED {
        counts.insert(table.to_owned(), 0);
    }
    counts.insert("history_shares".to_owned(), 1);
    counts
}

/// Rows per tenant-owned table for one tenant, read across tenants.
pub async fn inventory_counts(
    conn: &mut AsyncPgConnection,
    tenant: uuid::Uuid,
) -> std::collections::BTreeMap<String, i64> {
    use diesel::sql_types::{BigInt, Text, Uuid as SqlUuid};
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        table_name: String,
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let tables = bakery_inventory::schema::TABLES_IN_FK_ORDER;
    let sql = tables
        .iter()
        .map(|t| format!("SELECT '{t}' AS table_name, count(*) AS n FROM {t} WHERE tenant_id = $1"))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    conn.transaction::<_, diesel::result::Error, _>(async |c| {
        db::allow_all_tenants(c).await?;
        use diesel_async::RunQueryDsl;
        diesel::sql_query(&sql)
            .bind::<SqlUuid, _>(tenant)
            .load::<Row>(c)
            .await
    })
    .await
    .expect("count rows")
    .into_iter()
    .map(|r| (r.table_name, r.n))
    .collect()
}

pub const SAN_PABLO: &str = "00000000-0000-4000-a000-000000000001";
pub const LA_ESPIGA: &str = "00000000-0000-4000-a000-000000000002";
