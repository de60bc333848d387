//! `spawn_app()`: tenant-service on port 0 with its own database and Redis prefix, seeded
//! with two customers, a demo template (with its published user) and a virtual tenant;
//! and a stand-in demo-session that records what it is asked.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use bakery_config::auth::{INTERNAL_AUDIENCE, Identity, TokenKeys};
use bakery_config::client::{CLIENT_HEADER, ClientAddress, ClientAssertions};
use bakery_config::db;
use bakery_tenant::models::{NewTenant, NewUser};
use bakery_tenant::schema::{tenants, users};
use bakery_tenant::settings::{LoginSettings, Settings};
use bakery_tenant::startup::Application;
use bakery_test_support::{MigrationSet, TestDatabase};
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

pub const TENANT: MigrationSet = MigrationSet {
    name: "tenant",
    migrations: || bakery_tenant::MIGRATIONS,
};

pub const TEMPLATE_ID: Uuid = Uuid::from_u128(0x00000000_0000_4000_a000_000000000001);
pub const DEMO_EMAIL: &str = "demo.sanpablo@panaderiaia.com";
pub const DEMO_PASSWORD: &str = "DemoSanPablo2024!";
pub const ANA_PASSWORD: &str = "Harina-de-fuerza-1";
pub const BEA_PASSWORD: &str = "Masa-madre-2";

/// A customer tenant and its one user.
#[derive(Debug, Clone)]
pub struct Customer {
    pub tenant_id: Uuid,
    pub name: &'static str,
    pub user_id: Uuid,
    pub email: &'static str,
    pub password: &'static str,
    pub role: &'static str,
}

#[derive(Debug, Clone)]
pub struct VirtualTenant {
    pub tenant_id: Uuid,
    pub session_id: String,
    pub expires_at: DateTime<Utc>,
}

pub struct TestApp {
    pub address: String,
    pub http: reqwest::Client,
    pub db: TestDatabase,
    pub ana: Customer,
    pub bea: Customer,
    pub virtual_tenant: VirtualTenant,
    pub settings: Settings,
}

/// Settings of a service under test: low limits so throttling shows quickly, a slow-down of
/// a few milliseconds (tests assert what is refused and what is let in, not how long the
/// waits are), and a demo-session URL where nothing listens (tests that need one pass their
/// own).
pub fn test_settings(db: &TestDatabase) -> Settings {
    let mut common =
        bakery_test_support::service_settings(&db.url, bakery_test_support::redis_settings());
    common.services.demo_session = closed_port_url();
    Settings {
        common,
        login: LoginSettings {
            max_failures_per_ip: 10,
            max_failures_per_email_and_ip: 3,
            slowdown_after_failures: 5,
            slowdown_base: Duration::from_millis(1),
            slowdown_max: Duration::from_millis(5),
            failure_window: Duration::from_secs(120),
            demo_session_timeout: Duration::from_secs(5),
        },
    }
}

/// `http://127.0.0.1:<a port nothing listens on>`.
pub fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let db = TestDatabase::migrated(TENANT).await;
    let mut settings = test_settings(&db);
    configure(&mut settings);
    let (ana, bea, virtual_tenant) = seed(&db).await;
    let app = Application::build(settings.clone())
        .await
        .expect("build application");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        http: reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("http client"),
        db,
        ana,
        bea,
        virtual_tenant,
        settings,
    }
}

fn tenant<'a>(id: Uuid, name: &'a str, slug: &'a str, city: &'a str) -> NewTenant<'a> {
    NewTenant {
        id,
        name,
        slug,
        business_model: "individual_bakery",
        city,
        timezone: "Europe/Madrid",
        is_demo: false,
        is_demo_template: false,
        demo_account_type: None,
        base_demo_tenant_id: None,
        demo_session_id: None,
        demo_expires_at: None,
    }
}

async fn seed(database: &TestDatabase) -> (Customer, Customer, VirtualTenant) {
    let ana = Customer {
        tenant_id: Uuid::new_v4(),
        name: "Horno de Ana",
        user_id: Uuid::new_v4(),
        email: "ana@horno-a.es",
        password: ANA_PASSWORD,
        role: "owner",
    };
    let bea = Customer {
        tenant_id: Uuid::new_v4(),
        name: "Obrador de Bea",
        user_id: Uuid::new_v4(),
        email: "bea@horno-b.es",
        password: BEA_PASSWORD,
        role: "admin",
    };
    let virtual_tenant = VirtualTenant {
        tenant_id: Uuid::new_v4(),
        session_id: "demo_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned(),
        expires_at: Utc::now() + chrono::Duration::minutes(30),
    };
    let hashes: Vec<String> = [ANA_PASSWORD, BEA_PASSWORD, DEMO_PASSWORD]
        .iter()
        .map(|p| bakery_tenant::password::hash(p).expect("hash"))
        .collect();
    let mut conn = AsyncPgConnection::establish(&database.url)
        .await
        .expect("connect");
    let (a, b, v) = (ana.clone(), bea.clone(), virtual_tenant.clone());
    conn.transaction::<_, diesel::result::Error, _>(async |c| {
        db::allow_all_tenants(c).await?;
        let mut template = tenant(
            TEMPLATE_ID,
            "Panadería San Pablo - Demo",
            "san-pablo-demo",
            "Madrid",
        );
        template.is_demo_template = true;
        template.demo_account_type = Some("individual_bakery");
        let mut copy = tenant(
            v.tenant_id,
            "Panadería San Pablo - Demo",
            "demo-aaaaaaaa",
            "Madrid",
        );
        copy.is_demo = true;
        copy.demo_account_type = Some("individual_bakery");
        copy.base_demo_tenant_id = Some(TEMPLATE_ID);
        copy.demo_session_id = Some(&v.session_id);
        copy.demo_expires_at = Some(v.expires_at);
        diesel::insert_into(tenants::table)
            .values(vec![
                tenant(a.tenant_id, a.name, "horno-a", "Madrid"),
                // Bea's obrador is in the Canaries: an hour behind Madrid
                NewTenant {
                    timezone: "Atlantic/Canary",
                    ..tenant(b.tenant_id, b.name, "horno-b", "Las Palmas")
                },
                template,
                copy,
            ])
            .execute(c)
            .await?;
        diesel::insert_into(users::table)
            .values(vec![
                NewUser {
                    tenant_id: a.tenant_id,
                    id: a.user_id,
                    email: a.email,
                    password_hash: &hashes[0],
                    full_name: "Ana García",
                    role: a.role,
                },
                NewUser {
                    tenant_id: b.tenant_id,
                    id: b.user_id,
                    email: b.email,
                    password_hash: &hashes[1],
                    full_name: "Bea López",
                    role: b.role,
                },
                NewUser {
                    tenant_id: TEMPLATE_ID,
                    id: Uuid::new_v4(),
                    email: DEMO_EMAIL,
                    password_hash: &hashes[2],
                    full_name: "Demo San Pablo",
                    role: "owner",
                },
            ])
            .execute(c)
            .await?;
        Ok(())
    })
    .await
    .expect("seed");
    (ana, bea, virtual_tenant)
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// `POST /api/auth/login` from client address `ip`, asserted as the gateway would.
    pub async fn login(&self, email: &str, password: &str, ip: &str) -> reqwest::Response {
        let assertion = client_assertion(ip);
        self.login_with(email, password, &[(CLIENT_HEADER, &assertion)])
            .await
    }

    /// `POST /api/auth/login` with these headers only (no assertion unless given): a direct
    /// call, whose client is the test's own address.
    pub async fn login_with(
        &self,
        email: &str,
        password: &str,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self
            .http
            .post(self.url("/api/auth/login"))
            .json(&serde_json::json!({"email": email, "password": password}));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("request")
    }

    /// Every key this app's limiter wrote in Redis, with its TTL in seconds.
    pub async fn limiter_keys(&self) -> Vec<(String, i64)> {
        let pool =
            bakery_config::cache::build_pool(&self.settings.common.redis).expect("redis pool");
        let mut conn = pool.get().await.expect("redis");
        let pattern = format!("{}login:*", self.settings.common.redis.key_prefix);
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(&pattern)
            .query_async(&mut conn)
            .await
            .expect("keys");
        let mut with_ttl = Vec::new();
        for key in keys {
            let ttl: i64 = redis::cmd("TTL")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .expect("ttl");
            with_ttl.push((key, ttl));
        }
        with_ttl
    }

    pub async fn get_with(&self, path: &str, bearer: Option<&str>) -> reqwest::Response {
        let mut req = self.http.get(self.url(path));
        if let Some(token) = bearer {
            req = req.bearer_auth(token);
        }
        req.send().await.expect("request")
    }

    /// Runs SQL on the test database with every tenant visible (test set-up only).
    pub async fn execute_all_tenants(&self, sql: &str) {
        let mut conn = AsyncPgConnection::establish(&self.db.url)
            .await
            .expect("connect");
        let sql = sql.to_owned();
        conn.transaction::<_, diesel::result::Error, _>(async move |c| {
            db::allow_all_tenants(c).await?;
            diesel::sql_query(sql).execute(c).await?;
            Ok(())
        })
        .await
        .expect("execute");
    }
}

/// Signs an identity as the gateway would.
pub fn sign(identity: &Identity) -> String {
    TokenKeys::new(&bakery_test_support::internal_secret(), INTERNAL_AUDIENCE)
        .sign(identity)
        .expect("sign")
}

/// A client assertion naming `ip`, signed as the gateway would (valid a minute).
pub fn client_assertion(ip: &str) -> String {
    let ip = ip.parse().expect("an IP address");
    ClientAssertions::new(&bakery_test_support::internal_secret())
        .sign(ClientAddress::new(ip), 60)
        .expect("sign")
}

pub fn service_token() -> String {
    sign(&Identity::service("inventory-service", 60))
}

pub fn demo_token(tenant_id: Uuid, session_id: &str) -> String {
    sign(&Identity::new(session_id, tenant_id, "demo", 60).for_demo_session(session_id))
}

pub async fn json(response: reqwest::Response) -> serde_json::Value {
    response.json().await.expect("JSON body")
}

/// What the stand-in demo-session received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub body: serde_json::Value,
    pub client_assertion: Option<String>,
    pub forwarded_for: Option<String>,
    pub request_id: Option<String>,
}

/// A stand-in for demo-session on port 0: records each create request and answers
/// `status` with `body` (and `Retry-After: 60` when refusing with 429).
pub struct StandIn {
    pub url: String,
    pub received: Arc<Mutex<Vec<Recorded>>>,
}

pub fn fixed_session_body() -> serde_json::Value {
    serde_json::json!({
        "session_id": "demo_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
        "virtual_tenant_id": "6f1c2b4e-1d2a-4c3b-9e8f-0a1b2c3d4e5f",
        "demo_account_type": "individual_bakery",
        "status": "ready",
        "expires_at": "2026-11-25T13:00:00Z",
        "session_token": "header.claims.signature",
        "extensions_used": 0,
        "extensions_left": 3,
        "max_extensions": 3,
        "seconds_left": 1800
    })
}

pub async fn stand_in_demo_session(status: u16, body: serde_json::Value) -> StandIn {
    let received: Arc<Mutex<Vec<Recorded>>> = Arc::default();
    let record = received.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = actix_web::HttpServer::new(move || {
        let record = record.clone();
        let body = body.clone();
        actix_web::App::new().route(
            "/api/demo/session/create",
            web::post().to(move |req: HttpRequest, payload: web::Bytes| {
                let record = record.clone();
                let body = body.clone();
                async move {
                    let header = |name: &str| {
                        req.headers()
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned)
                    };
                    record.lock().expect("lock").push(Recorded {
                        body: serde_json::from_slice(&payload).unwrap_or_default(),
                        client_assertion: header(CLIENT_HEADER),
                        forwarded_for: header("x-forwarded-for"),
                        request_id: header("x-request-id"),
                    });
                    let status = actix_web::http::StatusCode::from_u16(status).expect("status");
                    let mut answer = HttpResponse::build(status);
                    if status == actix_web::http::StatusCode::TOO_MANY_REQUESTS {
                        answer.insert_header(("Retry-After", "60"));
                    }
                    answer.json(body)
                }
            }),
        )
    })
    .workers(1)
    .listen(listener)
    .expect("listen")
    .run();
    tokio::spawn(server);
    StandIn {
        url: format!("http://127.0.0.1:{port}"),
        received,
    }
}
