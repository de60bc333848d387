//! The real gateway (`Application::build`) in front of real upstream servers: small actix
//! servers that answer with what they received (method, path, headers, the decoded
//! identity, body), one per upstream, and a demo-session stand-in that serves
//! `GET /api/demo/session/{id}` from a map the test controls.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a test fails loudly on what it cannot set up, and reads JSON answers by key"
)]

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::net::TcpListener;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use bakery_config::auth::{
    ACCESS_AUDIENCE, AccessClaims, INTERNAL_AUDIENCE, Identity, SESSION_AUDIENCE, TokenKeys,
    bearer_token,
};
use bakery_config::cache::{self, Keys, RedisPool};
use bakery_config::clock::BakeryTimeZone;
use bakery_config::demo::{
    self, AccountType, CachedSession, SessionClaims, SessionId, SessionStatus,
};
use bakery_config::settings::{RedisSettings, ServiceUrls};
use bakery_gateway::client::{ForwardedHeader, TrustedProxies};
use bakery_gateway::refusals::RefusalSettings;
use bakery_gateway::settings::{DemoGatewaySettings, Limits, Settings, Timeouts};
use bakery_gateway::startup::Application;
use bakery_test_support as support;
use chrono::Utc;
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

/// What an upstream received.
#[derive(Debug, Deserialize)]
pub struct Echo {
    pub service: String,
    pub method: String,
    pub path: String,
    pub headers: BTreeMap<String, Vec<String>>,
    pub identity: Option<Identity>,
    pub body: String,
}

impl Echo {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|v| v.first())
            .map(String::as_str)
    }
}

#[derive(Default)]
pub struct EchoState {
    pub name: String,
    /// Requests other than `/health`.
    pub hits: AtomicUsize,
    /// `GET /api/demo/session/{id}` answers (demo-session stand-in).
    pub sessions: Mutex<HashMap<String, CachedSession>>,
    pub session_lookups: AtomicUsize,
    /// Funnel milestones the gateway delivered (`POST /internal/demo/milestones`, the
    /// gateway's own calls: not counted in `hits`).
    pub milestones: Mutex<Vec<serde_json::Value>>,
}

async fn echo_handler(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<EchoState>,
) -> HttpResponse {
    let path = req.path().to_owned();
    if path == "/health" {
        return HttpResponse::Ok().json(serde_json::json!({"status": "ok"}));
    }
    if path == bakery_config::funnel::INTERNAL_MILESTONES_PATH {
        let batch: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        if let Some(events) = batch["events"].as_array() {
            state
                .milestones
                .lock()
                .unwrap()
                .extend(events.iter().cloned());
        }
        return HttpResponse::Accepted().json(serde_json::json!({"recorded": 0}));
    }
    state.hits.fetch_add(1, Ordering::SeqCst);
    if state.name == "demo-session"
        && req.method() == actix_web::http::Method::GET
        && let Some(id) = path.strip_prefix("/api/demo/session/")
    {
        state.session_lookups.fetch_add(1, Ordering::SeqCst);
        let found = state.sessions.lock().unwrap().get(id).cloned();
        return match found {
            Some(s) if s.is_active(Utc::now()) || s.status == SessionStatus::Pending => {
                let mut value = serde_json::to_value(&s).unwrap();
                value["extensions_used"] = 0.into();
                value["seconds_left"] = 100.into();
                HttpResponse::Ok().json(value)
            }
            Some(_) => HttpResponse::Unauthorized().json(serde_json::json!({
                "error": "session_expired", "message": "La sesión demo ha caducado."})),
            None => HttpResponse::NotFound().json(serde_json::json!({
                "error": "not_found", "message": "No existe."})),
        };
    }
    // a test asks this upstream to refuse with 429 and this Retry-After (inventory-service's
    // write quota)
    if let Some(seconds) = req.headers().get("x-test-retry-after") {
        return HttpResponse::TooManyRequests()
            .insert_header(("retry-after", seconds.clone()))
            .json(serde_json::json!({"error": "demo_quota", "message": "Más despacio."}));
    }
    if path.starts_with("/api/products/slow") {
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    if path.starts_with("/api/products/big") {
        return HttpResponse::Ok()
            .insert_header(("x-upstream", "big"))
            .body(vec![b'x'; 300_000]);
    }
    let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in req.headers() {
        headers
            .entry(name.as_str().to_owned())
            .or_default()
            .push(String::from_utf8_lossy(value.as_bytes()).into_owned());
    }
    let identity = bearer_token(&req).and_then(|t| {
        TokenKeys::new(&support::internal_secret(), INTERNAL_AUDIENCE)
            .verify::<Identity>(t)
            .ok()
    });
    HttpResponse::Ok()
        .insert_header(("x-echo", state.name.as_str()))
        .json(serde_json::json!({
            "service": state.name,
            "method": req.method().as_str(),
            "path": req.uri().to_string(),
            "headers": headers,
            "identity": identity,
            "body": String::from_utf8_lossy(&body),
        }))
}

pub struct Upstream {
    pub url: String,
    pub state: web::Data<EchoState>,
}

impl Upstream {
    pub fn hits(&self) -> usize {
        self.state.hits.load(Ordering::SeqCst)
    }
}

pub fn spawn_upstream(name: &str) -> Upstream {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind upstream");
    let port = listener.local_addr().expect("addr").port();
    let state = web::Data::new(EchoState {
        name: name.to_owned(),
        ..Default::default()
    });
    let data = state.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(4 * 1024 * 1024))
            .default_service(web::to(echo_handler))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .expect("listen")
    .run();
    tokio::spawn(server);
    Upstream {
        url: format!("http://127.0.0.1:{port}"),
        state,
    }
}

/// A port nothing listens on.
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

pub struct Options {
    /// Forward inventory routes here instead of to an echo server.
    pub inventory_url: Option<String>,
    /// Forward demo routes here instead of to an echo server.
    pub demo_session_url: Option<String>,
    /// Share a Redis key prefix with real services.
    pub redis: Option<RedisSettings>,
    pub redis_down: bool,
    pub cache_ttl: Duration,
    pub max_body: u64,
    pub upstream_timeout: Duration,
    pub inventory_down: bool,
    /// `GATEWAY_TRUSTED_PROXIES` (none by default: the peer is the client).
    pub trusted_proxies: &'static str,
    pub forwarded_header: ForwardedHeader,
    /// `GATEWAY_CREDENTIAL_FAILURES_PER_MINUTE`.
    pub failures_per_minute: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            inventory_url: None,
            demo_session_url: None,
            redis: None,
            redis_down: false,
            cache_ttl: Duration::from_secs(5),
            max_body: 64 * 1024,
            upstream_timeout: Duration::from_secs(10),
            inventory_down: false,
            trusted_proxies: "",
            forwarded_header: ForwardedHeader::XForwardedFor,
            failures_per_minute: 10_000,
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub port: u16,
    /// `http://127.0.0.1:{GATEWAY_METRICS_ADDR's port}`.
    pub metrics_address: String,
    pub client: reqwest::Client,
    pub demo: Upstream,
    pub tenant: Upstream,
    pub inventory: Upstream,
    pub redis: RedisPool,
    pub keys: Keys,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    let demo = spawn_upstream("demo-session");
    let tenant = spawn_upstream("tenant-service");
    let inventory = spawn_upstream("inventory-service");
    let redis_settings = options
        .redis
        .clone()
        .unwrap_or_else(support::redis_settings);
    let mut gateway_redis = redis_settings.clone();
    if options.redis_down {
        gateway_redis.url = format!("redis://127.0.0.1:{}", closed_port());
    }
    let settings = Settings {
        server: support::server_settings(),
        services: ServiceUrls {
            demo_session: options
                .demo_session_url
                .clone()
                .unwrap_or_else(|| demo.url.clone()),
            tenant: tenant.url.clone(),
            inventory: match (&options.inventory_url, options.inventory_down) {
                (Some(url), _) => url.clone(),
                (None, true) => format!("http://127.0.0.1:{}", closed_port()),
                (None, false) => inventory.url.clone(),
            },
        },
        redis: gateway_redis,
        tokens: support::token_settings(),
        telemetry: support::telemetry_settings(),
        limits: Limits {
            max_request_body: options.max_body,
            max_response_body: 16 * 1024 * 1024,
        },
        timeouts: Timeouts {
            connect: Duration::from_millis(500),
            request: options.upstream_timeout,
            pool_idle_per_host: 8,
        },
        demo: DemoGatewaySettings {
            policy_file: None,
            session_cache_ttl: options.cache_ttl,
            template_tenant_ids: templates().to_vec(),
            identity_ttl_secs: 60,
        },
        trusted_proxies: TrustedProxies::new(
            options.trusted_proxies.parse().expect("trusted networks"),
            options.forwarded_header,
        ),
        refusals: RefusalSettings {
            remember_for: Duration::from_secs(30),
            max_entries: 10_000,
            failures_per_window: options.failures_per_minute,
            window: Duration::from_secs(60),
        },
        metrics_addr: "127.0.0.1:0".parse().expect("address"),
    };
    let app = Application::build(settings).await.expect("build gateway");
    let port = app.port();
    let metrics_port = app.metrics_port();
    tokio::spawn(app.run_until_stopped());
    let redis = cache::build_pool(&redis_settings).expect("redis pool");
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        metrics_address: format!("http://127.0.0.1:{metrics_port}"),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        demo,
        tenant,
        inventory,
        keys: Keys::new(redis_settings.key_prefix.clone()),
        redis,
    }
}

/// A demo session as demo-session would publish it.
pub struct DemoSession {
    pub id: SessionId,
    pub tenant: Uuid,
    pub token: String,
    pub cached: CachedSession,
}

pub fn session(status: SessionStatus, expires_in_secs: i64) -> DemoSession {
    session_for_tenant(Uuid::new_v4(), status, expires_in_secs)
}

pub fn session_for_tenant(
    tenant: Uuid,
    status: SessionStatus,
    expires_in_secs: i64,
) -> DemoSession {
    let id: SessionId = support::session_id();
    let now = Utc::now();
    let cached = CachedSession {
        session_id: id.to_string(),
        virtual_tenant_id: tenant,
        demo_account_type: AccountType::IndividualBakery,
        status,
        expires_at: now + chrono::Duration::seconds(expires_in_secs),
        time_zone: BakeryTimeZone::MADRID,
    };
    let claims = SessionClaims {
        sub: id.to_string(),
        virtual_tenant_id: tenant,
        demo_account_type: AccountType::IndividualBakery,
        aud: SESSION_AUDIENCE.to_owned(),
        iat: now.timestamp(),
        exp: now.timestamp() + expires_in_secs,
    };
    let token = TokenKeys::new(&support::secret("session"), SESSION_AUDIENCE)
        .sign(&claims)
        .expect("sign session");
    DemoSession {
        id,
        tenant,
        token,
        cached,
    }
}

/// A customer's access token, as tenant-service would issue it.
pub fn customer_token(tenant: Uuid, role: &str, expires_in_secs: i64) -> String {
    customer_token_in(tenant, role, expires_in_secs, BakeryTimeZone::MADRID)
}

/// A customer's access token for a bakery in `time_zone`.
pub fn customer_token_in(
    tenant: Uuid,
    role: &str,
    expires_in_secs: i64,
    time_zone: BakeryTimeZone,
) -> String {
    let now = Utc::now().timestamp();
    let claims = AccessClaims {
        sub: Uuid::new_v4(),
        tenant_id: tenant,
        role: role.to_owned(),
        email: "ana@horno.es".to_owned(),
        time_zone,
        aud: ACCESS_AUDIENCE.to_owned(),
        iat: now,
        exp: now + expires_in_secs,
    };
    TokenKeys::new(&support::secret("access"), ACCESS_AUDIENCE)
        .sign(&claims)
        .expect("sign access")
}

impl TestApp {
    /// Writes the session's copy into Redis (demo-session's job).
    pub async fn store_session(&self, s: &CachedSession) {
        let mut conn = self.redis.get().await.expect("redis");
        let _: () = redis::cmd("SET")
            .arg(demo::session_key(&self.keys, &s.session_id))
            .arg(serde_json::to_string(s).expect("json"))
            .arg("EX")
            .arg(600)
            .query_async(&mut conn)
            .await
            .expect("SET");
    }

    pub async fn publish_invalidation(&self, id: &str) {
        let mut conn = self.redis.get().await.expect("redis");
        let _: i64 = redis::cmd("PUBLISH")
            .arg(demo::invalidation_channel(&self.keys))
            .arg(id)
            .query_async(&mut conn)
            .await
            .expect("PUBLISH");
    }

    /// Waits until the gateway listens on the invalidation channel.
    pub async fn wait_for_subscriber(&self) {
        let channel = demo::invalidation_channel(&self.keys);
        for _ in 0..100 {
            let mut conn = self.redis.get().await.expect("redis");
            let (_, subscribers): (String, i64) = redis::cmd("PUBSUB")
                .arg("NUMSUB")
                .arg(&channel)
                .query_async(&mut conn)
                .await
                .expect("PUBSUB NUMSUB");
            if subscribers > 0 {
                // the gateway clears its cache right after subscribing
                tokio::time::sleep(Duration::from_millis(50)).await;
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the gateway never subscribed to {channel}");
    }

    /// A ready session stored in Redis.
    pub async fn ready_session(&self) -> DemoSession {
        let s = session(SessionStatus::Ready, 1800);
        self.store_session(&s.cached).await;
        s
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn upstream_hits(&self) -> usize {
        self.demo.hits() + self.tenant.hits() + self.inventory.hits()
    }

    /// Sends `head` (request line and headers, `\r\n`-separated, no final blank line)
    /// and `body` over a raw connection, so nothing normalises the request on the way.
    pub async fn raw(&self, head: &str, body: &str) -> (u16, String) {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .expect("connect");
        let mut request = head.replace("{host}", &format!("127.0.0.1:{}", self.port));
        if !request.contains("\r\nConnection:") {
            request.push_str("\r\nConnection: close");
        }
        if !body.is_empty() && !request.to_ascii_lowercase().contains("content-length") {
            write!(request, "\r\nContent-Length: {}", body.len()).expect("a String takes it");
        }
        request.push_str("\r\n\r\n");
        request.push_str(body);
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut response = Vec::new();
        let _ =
            tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response)).await;
        let text = String::from_utf8_lossy(&response).into_owned();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (status, body)
    }
}

/// The `error` code of a JSON error answer.
pub async fn error_code(response: reqwest::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    (
        status,
        body["error"].as_str().unwrap_or_default().to_owned(),
        body["message"].as_str().unwrap_or_default().to_owned(),
    )
}

pub async fn echo(response: reqwest::Response) -> Echo {
    assert_eq!(
        response.status().as_u16(),
        200,
        "expected the upstream's answer"
    );
    response.json().await.expect("echo body")
}

pub const DEMO_HEADER: &str = "X-Demo-Session-Id";

/// The template tenants of `data/demo/accounts.toml`.
pub fn templates() -> &'static [Uuid] {
    bakery_config::tenants::template_tenant_ids().expect("the template tenants")
}

pub fn some_template() -> Uuid {
    templates().first().copied().expect("a template tenant")
}
