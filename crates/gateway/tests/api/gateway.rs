//! The gateway in front of real upstream servers: routing, authentication, the demo
//! policy, header hygiene, limits, upstream failures, Redis fallback and invalidation.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on what it cannot set up"
)]

use std::time::Duration;

use crate::common::*;
use bakery_config::auth::ROLE_DEMO;
use bakery_config::clock::BakeryTimeZone;
use bakery_config::demo::SessionStatus;
use uuid::Uuid;

const RESTRICTION: &str = "Esta operación no está permitida en cuentas demo";

#[tokio::test]
async fn health_ready_page_and_policy_are_served() {
    let app = spawn_app().await;
    let r = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = app.client.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(r.status(), 200, "{:?}", r.text().await);

    let r = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let index = r.text().await.unwrap();
    assert!(index.contains("Bakery-IA"));

    // the operator view is the same page (its data needs the admin key, the page does not)
    let r = app.client.get(app.url("/admin")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), index);
    let r = app.client.post(app.url("/admin")).send().await.unwrap();
    assert_eq!(error_code(r).await.0, 405);
    let r = app
        .client
        .get(app.url("/static/admin.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let r = app
        .client
        .get(app.url("/api/demo/policy"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let policy: serde_json::Value = r.json().await.unwrap();
    assert_eq!(policy["deny"][0]["path"], "/api/forecasts/**");
    assert!(policy["message"].as_str().unwrap().starts_with(RESTRICTION));

    let r = app
        .client
        .post(app.url("/api/demo/policy"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await.0, 405);
    assert_eq!(app.upstream_hits(), 0);
}

#[tokio::test]
async fn readiness_reports_an_upstream_that_is_down() {
    let app = spawn_app_with(Options {
        inventory_down: true,
        ..Default::default()
    })
    .await;
    let r = app.client.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["checks"]["demo-session"], "ok");
    assert_ne!(body["checks"]["inventory-service"], "ok");
}

#[tokio::test]
async fn a_demo_session_reads_its_virtual_tenant_only() {
    let app = spawn_app().await;
    let s = app.ready_session().await;
    let other = Uuid::new_v4();
    let r = app
        .client
        .get(app.url("/api/inventory/ingredients?page=2"))
        .header(DEMO_HEADER, s.id.as_str())
        .header("X-Tenant-Id", other.to_string())
        .header("X-User-Id", "admin")
        .header("X-Internal-Token", "forged")
        .send()
        .await
        .unwrap();
    let e = echo(r).await;
    assert_eq!(e.service, "inventory-service");
    assert_eq!(e.method, "GET");
    assert_eq!(e.path, "/api/inventory/ingredients?page=2");
    let identity = e.identity.clone().expect("a gateway identity");
    assert_eq!(identity.tenant_id, s.tenant);
    assert_eq!(identity.role, ROLE_DEMO);
    assert_eq!(identity.demo_session_id.as_deref(), Some(s.id.as_str()));
    assert_eq!(
        identity.time_zone,
        BakeryTimeZone::MADRID,
        "its template's zone"
    );
    for h in [
        "x-tenant-id",
        "x-user-id",
        "x-internal-token",
        "x-demo-session-id",
    ] {
        assert!(e.header(h).is_none(), "{h} reached the upstream");
    }

    // the session token as a bearer token works the same way
    let r = app
        .client
        .get(app.url("/api/products"))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    let e = echo(r).await;
    let identity = e.identity.clone().expect("identity");
    assert_eq!(identity.tenant_id, s.tenant);
    assert_ne!(
        e.header("authorization"),
        Some(format!("Bearer {}", s.token).as_str())
    );
}

#[tokio::test]
async fn allowed_posts_pass_with_their_body() {
    let app = spawn_app().await;
    let s = app.ready_session().await;
    for path in [
        "/api/pos/sales",
        "/api/orders",
        "/api/inventory/adjustments",
        "/api/orders/",
    ] {
        let r = app
            .client
            .post(app.url(path))
            .header(DEMO_HEADER, s.id.as_str())
            .json(&serde_json::json!({"product": "barra", "quantity": 3}))
            .send()
            .await
            .unwrap();
        let e = echo(r).await;
        assert_eq!(e.method, "POST");
        assert_eq!(e.path, path.trim_end_matches('/'));
        assert!(e.body.contains("barra"));
        assert_eq!(e.identity.expect("identity").tenant_id, s.tenant);
    }
}

#[tokio::test]
async fn blocked_operations_get_the_demo_restriction() {
    let app = spawn_app().await;
    let s = app.ready_session().await;
    let cases = [
        (reqwest::Method::DELETE, "/api/inventory/ingredients/1"),
        (reqwest::Method::PUT, "/api/inventory/ingredients/1"),
        (reqwest::Method::PUT, "/api/recipes/1"),
        (reqwest::Method::POST, "/api/production/batches"),
        (reqwest::Method::POST, "/api/inventory/ingredients"),
        (reqwest::Method::POST, "/api/orders/1/cancel"),
        (reqwest::Method::POST, "/api/tenants"),
        (reqwest::Method::GET, "/api/forecasts"),
        (reqwest::Method::GET, "/api/forecasts/products/1"),
        (reqwest::Method::GET, "/api/forecasts/models"),
        (reqwest::Method::DELETE, "/api/demo/whatever"),
    ];
    for (method, path) in cases {
        let r = app
            .client
            .request(method.clone(), app.url(path))
            .header(DEMO_HEADER, s.id.as_str())
            .send()
            .await
            .unwrap();
        let (status, code, message) = error_code(r).await;
        assert_eq!(
            (status, code.as_str()),
            (403, "demo_restriction"),
            "{method} {path}"
        );
        assert!(message.starts_with(RESTRICTION), "{message}");
    }
    assert_eq!(app.upstream_hits(), 0);
}

#[tokio::test]
async fn unknown_expired_and_template_sessions_are_refused() {
    let app = spawn_app().await;
    let expired = session(SessionStatus::Ready, -5);
    app.store_session(&expired.cached).await;
    let destroyed = session(SessionStatus::Destroyed, 600);
    app.store_session(&destroyed.cached).await;
    let pending = session(SessionStatus::Pending, 600);
    app.store_session(&pending.cached).await;
    let template = session_for_tenant(some_template(), SessionStatus::Ready, 600);
    app.store_session(&template.cached).await;
    let unknown = session(SessionStatus::Ready, 600);

    let get = |id: String| {
        app.client
            .get(app.url("/api/products"))
            .header(DEMO_HEADER, id)
            .send()
    };
    let cases = [
        (expired.id.to_string(), 401, "session_expired"),
        (destroyed.id.to_string(), 401, "session_expired"),
        (pending.id.to_string(), 409, "session_not_ready"),
        (template.id.to_string(), 403, "template_tenant"),
        (unknown.id.to_string(), 401, "session_not_found"),
        ("demo_../../x".to_owned(), 401, "session_not_found"),
    ];
    for (id, status, code) in cases {
        let (s, c, message) = error_code(get(id.clone()).await.unwrap()).await;
        assert_eq!((s, c.as_str()), (status, code), "{id}");
        assert!(!message.is_empty());
    }
    // an expired session token
    let r = app
        .client
        .get(app.url("/api/products"))
        .bearer_auth(&expired.token)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await.1, "session_expired");
    // only the unknown session reached demo-session (its lookup); nothing else went upstream
    assert_eq!(app.inventory.hits(), 0);
}

#[tokio::test]
async fn a_customer_token_reaches_its_own_tenant_only() {
    let app = spawn_app().await;
    let (mine, theirs) = (Uuid::new_v4(), Uuid::new_v4());
    let token = customer_token(mine, "owner", 600);
    let r = app
        .client
        .delete(app.url("/api/inventory/ingredients/7"))
        .bearer_auth(&token)
        .header("X-Tenant-Id", theirs.to_string())
        .send()
        .await
        .unwrap();
    let e = echo(r).await;
    assert_eq!(e.method, "DELETE");
    let identity = e.identity.clone().expect("identity");
    assert_eq!(identity.tenant_id, mine);
    assert_eq!(identity.role, "owner");
    assert!(identity.demo_session_id.is_none());
    assert!(e.header("x-tenant-id").is_none());
    assert_eq!(identity.time_zone, BakeryTimeZone::MADRID);

    // a bakery in the Canaries: its days are drawn in its own zone upstream
    let canary = BakeryTimeZone::parse("Atlantic/Canary").unwrap();
    let r = app
        .client
        .get(app.url("/api/sales"))
        .bearer_auth(customer_token_in(mine, "owner", 600, canary))
        .send()
        .await
        .unwrap();
    let identity = echo(r).await.identity.expect("identity");
    assert_eq!((identity.tenant_id, identity.time_zone), (mine, canary));

    let r = app
        .client
        .get(app.url("/api/forecasts"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(echo(r).await.service, "inventory-service");

    let forged_with_own_key = {
        use bakery_config::auth::{INTERNAL_AUDIENCE, Identity, TokenKeys};
        TokenKeys::new(&bakery_test_support::internal_secret(), INTERNAL_AUDIENCE)
            .sign(&Identity::new("x", theirs, "owner", 60))
            .unwrap()
    };
    let cases = [
        (
            customer_token(mine, "owner", -60),
            401,
            "credentials_expired",
        ),
        (
            customer_token(mine, "superuser", 600),
            401,
            "invalid_credentials",
        ),
        (
            customer_token(some_template(), "owner", 600),
            403,
            "template_tenant",
        ),
        ("not-a-token".to_owned(), 401, "invalid_credentials"),
        // an identity token is for services, not a credential clients can present
        (forged_with_own_key, 401, "invalid_credentials"),
    ];
    for (token, status, code) in cases {
        let r = app
            .client
            .get(app.url("/api/products"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let (s, c, _) = error_code(r).await;
        assert_eq!((s, c.as_str()), (status, code));
    }
    let r = app
        .client
        .get(app.url("/api/products"))
        .header("X-Tenant-Id", theirs.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await.1, "missing_credentials");
}

#[tokio::test]
async fn public_and_admin_routes_forward_no_identity() {
    let app = spawn_app().await;
    let r = app
        .client
        .post(app.url("/api/auth/login"))
        .bearer_auth("junk")
        .header("X-Admin-Key", "k")
        .json(&serde_json::json!({"email": "a@b.es", "password": "x"}))
        .send()
        .await
        .unwrap();
    let e = echo(r).await;
    assert_eq!(e.service, "tenant-service");
    assert!(e.header("authorization").is_none());
    assert!(e.header("x-admin-key").is_none());

    for (method, path) in [
        (reqwest::Method::GET, "/api/demo/accounts"),
        (reqwest::Method::POST, "/api/demo/session/create"),
        (reqwest::Method::POST, "/api/demo/session/demo_abc/extend"),
        (reqwest::Method::DELETE, "/api/demo/session/demo_abc"),
    ] {
        let r = app
            .client
            .request(method, app.url(path))
            .send()
            .await
            .unwrap();
        let e = echo(r).await;
        assert_eq!(
            (e.service.as_str(), e.path.as_str()),
            ("demo-session", path)
        );
    }

    let r = app
        .client
        .get(app.url("/api/demo/stats"))
        .header("X-Admin-Key", "the-key")
        .send()
        .await
        .unwrap();
    let e = echo(r).await;
    assert_eq!(e.header("x-admin-key"), Some("the-key"));
    assert!(e.identity.is_none());

    let r = app
        .client
        .get(app.url("/internal/tenants"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await.0, 404);
    let r = app
        .client
        .get(app.url("/api/unknown"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await.1, "route_not_found");
}

#[tokio::test]
async fn headers_are_cleaned_and_forwarding_headers_set() {
    let app = spawn_app().await;
    let s = app.ready_session().await;
    let (status, body) = app
        .raw(
            &format!(
                "GET /api/products HTTP/1.1\r\nHost: {{host}}\r\nX-Demo-Session-Id: {}\r\n\
                 X-Forwarded-For: 203.0.113.9\r\nX-Request-Id: req-123\r\n\
                 Connection: close, X-Secret\r\nX-Secret: s\r\nKeep-Alive: timeout=5\r\n\
                 TE: trailers\r\nProxy-Authorization: Basic eA==\r\nAccept: application/json",
                s.id
            ),
            "",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let e: Echo = serde_json::from_str(&body).expect("echo");
    assert_eq!(e.header("x-forwarded-for"), Some("203.0.113.9, 127.0.0.1"));
    assert_eq!(e.header("x-request-id"), Some("req-123"));
    assert_eq!(e.header("accept"), Some("application/json"));
    for h in ["x-secret", "keep-alive", "te", "proxy-authorization"] {
        assert!(e.header(h).is_none(), "{h} forwarded");
    }

    // a request id is made when none is sent, and answered
    let r = app
        .client
        .get(app.url("/api/products"))
        .header(DEMO_HEADER, s.id.as_str())
        .send()
        .await
        .unwrap();
    let answered = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(r.headers()["x-echo"], "inventory-service");
    let e = echo(r).await;
    assert_eq!(e.header("x-request-id"), Some(answered.as_str()));
    assert_eq!(e.header("x-forwarded-for"), Some("127.0.0.1"));
}

/// One click, one trace: the gateway continues the browser's `traceparent` (same trace, the
/// gateway's span as the upstream's parent) or starts a trace when none (or a malformed
/// one) is sent; the upstream always receives a valid one.
#[tokio::test]
async fn the_trace_context_is_continued_or_started_and_forwarded() {
    let app = spawn_app().await;
    let s = app.ready_session().await;
    let sent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let r = app
        .client
        .get(app.url("/api/products"))
        .header(DEMO_HEADER, s.id.as_str())
        .header("traceparent", sent)
        .send()
        .await
        .unwrap();
    let e = echo(r).await;
    let forwarded = e.header("traceparent").expect("forwarded").to_owned();
    let parts: Vec<&str> = forwarded.split('-').collect();
    assert_eq!(parts.len(), 4, "{forwarded}");
    assert_eq!(parts[0], "00");
    assert_eq!(parts[1], "4bf92f3577b34da6a3ce929d0e0e4736", "same trace");
    assert_ne!(
        parts[2], "00f067aa0ba902b7",
        "the gateway's own span is the parent"
    );
    assert_eq!(parts[3], "01");

    for bad in [None, Some("00-zz-yy-01")] {
        let mut request = app
            .client
            .get(app.url("/api/products"))
            .header(DEMO_HEADER, s.id.as_str());
        if let Some(bad) = bad {
            request = request.header("traceparent", bad);
        }
        let e = echo(request.send().await.unwrap()).await;
        let started = e.header("traceparent").expect("a trace is started");
        let trace = bakery_config::telemetry::TraceContext::parse(started).expect("valid");
        assert_ne!(trace.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
    }
}

#[tokio::test]
async fn bodies_over_the_limit_get_413() {
    let app = spawn_app_with(Options {
        max_body: 1024,
        ..Default::default()
    })
    .await;
    let s = app.ready_session().await;
    let big = "x".repeat(4096);
    let r = app
        .client
        .post(app.url("/api/pos/sales"))
        .header(DEMO_HEADER, s.id.as_str())
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await.1, "payload_too_large");
    // chunked, so the size is only known while streaming
    let chunks: Vec<Result<String, std::io::Error>> = (0..8).map(|_| Ok("y".repeat(512))).collect();
    let r = app
        .client
        .post(app.url("/api/pos/sales"))
        .header(DEMO_HEADER, s.id.as_str())
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(r).await,
        (
            413,
            "payload_too_large".to_owned(),
            "El cuerpo de la petición es demasiado grande.".to_owned()
        )
    );
    // under the limit, chunked, passes whole
    let chunks: Vec<Result<String, std::io::Error>> = (0..3).map(|_| Ok("z".repeat(300))).collect();
    let r = app
        .client
        .post(app.url("/api/pos/sales"))
        .header(DEMO_HEADER, s.id.as_str())
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(echo(r).await.body.len(), 900);
    // big answers stream back with their length
    let r = app
        .client
        .get(app.url("/api/products/big"))
        .header(DEMO_HEADER, s.id.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-length"], "300000");
    assert_eq!(r.bytes().await.unwrap().len(), 300_000);
}

#[tokio::test]
async fn upstream_down_is_502_and_slow_is_504() {
    let app = spawn_app_with(Options {
        inventory_down: true,
        ..Default::default()
    })
    .await;
    let token = customer_token(Uuid::new_v4(), "owner", 600);
    let r = app
        .client
        .get(app.url("/api/products"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await.0, 502);

    let app = spawn_app_with(Options {
        upstream_timeout: Duration::from_secs(1),
        ..Default::default()
    })
    .await;
    let r = app
        .client
        .get(app.url("/api/products/slow"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_code(r).await;
    assert_eq!((status, code.as_str()), (504, "upstream_timeout"));
}

#[tokio::test]
async fn with_redis_down_sessions_resolve_through_demo_session() {
    let app = spawn_app_with(Options {
        redis_down: true,
        ..Default::default()
    })
    .await;
    let s = session(SessionStatus::Ready, 600);
    app.demo
        .state
        .sessions
        .lock()
        .unwrap()
        .insert(s.id.to_string(), s.cached.clone());
    for _ in 0..3 {
        let r = app
            .client
            .get(app.url("/api/inventory/ingredients"))
            .header(DEMO_HEADER, s.id.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(
            echo(r).await.identity.expect("identity").tenant_id,
            s.tenant
        );
    }
    // asked once, then served from the in-process cache
    assert_eq!(
        app.demo
            .state
            .session_lookups
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );

    let expired = session(SessionStatus::Expired, -10);
    app.demo
        .state
        .sessions
        .lock()
        .unwrap()
        .insert(expired.id.to_string(), expired.cached.clone());
    let r = app
        .client
        .get(app.url("/api/products"))
        .bearer_auth(&expired.token)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await.0, 401);
    let unknown = session(SessionStatus::Ready, 600);
    let r = app
        .client
        .get(app.url("/api/products"))
        .header(DEMO_HEADER, unknown.id.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await.1, "session_not_found");
}

#[tokio::test]
async fn an_invalidation_message_drops_the_cached_session() {
    let app = spawn_app_with(Options {
        cache_ttl: Duration::from_secs(600),
        ..Default::default()
    })
    .await;
    let mut s = app.ready_session().await;
    let get = || {
        app.client
            .get(app.url("/api/products"))
            .header(DEMO_HEADER, s.id.as_str())
            .send()
    };
    app.wait_for_subscriber().await;
    assert_eq!(get().await.unwrap().status(), 200);

    // demo-session ends the session: Redis changes, the cached copy does not
    s.cached.status = SessionStatus::Destroyed;
    app.store_session(&s.cached).await;
    assert_eq!(
        get().await.unwrap().status(),
        200,
        "served from the in-process cache"
    );

    app.publish_invalidation(s.id.as_str()).await;
    let mut refused = false;
    for _ in 0..50 {
        let r = get().await.unwrap();
        if r.status() == 401 {
            assert_eq!(error_code(r).await.1, "session_expired");
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        refused,
        "the invalidation message did not drop the cached session"
    );
}

/// A connection idle for longer than actix-web's default keep-alive (5 s) is still open:
/// servers keep idle connections `KEEP_ALIVE` (75 s), longer than callers keep them in
/// their pools (30 s), so a caller never reuses a connection the server is closing.
#[tokio::test]
async fn an_idle_keep_alive_connection_outlives_the_callers_pools() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    assert!(bakery_config::server::CLIENT_POOL_IDLE < bakery_config::server::KEEP_ALIVE);
    let app = spawn_app().await;
    let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .expect("connect");
    let request = b"GET /health HTTP/1.1\r\nHost: gateway\r\n\r\n";
    let mut answer = vec![0u8; 4096];
    for round in 0..2 {
        if round == 1 {
            tokio::time::sleep(std::time::Duration::from_secs(6)).await;
        }
        socket.write_all(request).await.expect("write");
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), socket.read(&mut answer))
            .await
            .expect("an answer in time")
            .expect("read");
        let head = String::from_utf8_lossy(&answer[..n]);
        assert!(head.starts_with("HTTP/1.1 200"), "round {round}: {head}");
    }
}
