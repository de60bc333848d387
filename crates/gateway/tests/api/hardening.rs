//! The gateway on the public internet: who the client is behind proxies, bad credentials
//! that cost nothing and are limited per client, `HEAD` and `OPTIONS` everywhere.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on what it cannot set up"
)]

use std::net::IpAddr;
use std::sync::atomic::Ordering;

use crate::common::*;
use bakery_config::client::{CLIENT_HEADER, ClientAddress, ClientAssertions};
use bakery_config::demo::SessionStatus;
use bakery_gateway::client::ForwardedHeader;
use bakery_test_support as support;

/// The client the upstream was told about, verified as a service verifies it.
fn asserted_client(e: &Echo) -> IpAddr {
    let assertion = e.header(CLIENT_HEADER).expect("a client assertion");
    ClientAssertions::new(&support::internal_secret())
        .verify(assertion)
        .map(ClientAddress::ip)
        .expect("the assertion verifies")
}

/// `GET /api/demo/accounts` (public) with these extra header lines, over a raw
/// connection so the bytes arrive exactly as written.
async fn public_echo(app: &TestApp, headers: &str) -> Echo {
    let head = format!("GET /api/demo/accounts HTTP/1.1\r\nHost: {{host}}{headers}");
    let (status, body) = app.raw(&head, "").await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("echo")
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[tokio::test]
async fn without_trusted_proxies_forwarding_headers_cannot_change_the_client() {
    let app = spawn_app().await;
    for headers in [
        "",
        "\r\nX-Forwarded-For: 203.0.113.9",
        "\r\nForwarded: for=203.0.113.9",
        "\r\nX-Forwarded-For: 203.0.113.9, 198.51.100.1",
    ] {
        let e = public_echo(&app, headers).await;
        assert_eq!(asserted_client(&e), ip("127.0.0.1"), "{headers:?}");
    }
    // a client's own assertion never reaches a service: the gateway's replaces it
    let forged = ClientAssertions::new(&support::internal_secret())
        .sign(ClientAddress::new(ip("203.0.113.66")), 60)
        .unwrap();
    let e = public_echo(&app, &format!("\r\n{CLIENT_HEADER}: {forged}")).await;
    assert_eq!(asserted_client(&e), ip("127.0.0.1"));
    assert_eq!(e.headers[CLIENT_HEADER].len(), 1);
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_rightmost_untrusted_address_is_the_client() {
    let app = spawn_app_with(Options {
        trusted_proxies: "127.0.0.1/32, 10.0.0.0/8",
        ..Default::default()
    })
    .await;
    let cases: [(&str, &str); 8] = [
        // the ingress appended the real peer; what the client wrote is to its left
        ("\r\nX-Forwarded-For: 1.1.1.1, 203.0.113.9", "203.0.113.9"),
        // a chain of trusted proxies is walked through
        (
            "\r\nX-Forwarded-For: 1.1.1.1, 203.0.113.9, 10.1.2.3",
            "203.0.113.9",
        ),
        // two header lines are one list
        (
            "\r\nX-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 2001:db8::5",
            "2001:db8::5",
        ),
        ("\r\nX-Forwarded-For: [2001:db8::6]:443", "2001:db8::6"),
        // garbage stops the walk at the last trusted hop: never a fresh bucket
        ("\r\nX-Forwarded-For: 1.1.1.1, bogus", "127.0.0.1"),
        (
            "\r\nX-Forwarded-For: 1.1.1.1, unknown, 10.9.9.9",
            "10.9.9.9",
        ),
        // no forwarding header: the trusted peer itself
        ("", "127.0.0.1"),
        // Forwarded is not the configured header here
        ("\r\nForwarded: for=203.0.113.77", "127.0.0.1"),
    ];
    for (headers, expected) in cases {
        let e = public_echo(&app, headers).await;
        assert_eq!(asserted_client(&e), ip(expected), "{headers:?}");
    }
    // a non-ASCII byte in the header stops the walk too (sent as raw bytes)
    let e = public_echo(&app, "\r\nX-Forwarded-For: 1.1.1.1, 203.0.113.\u{e9}").await;
    assert_eq!(asserted_client(&e), ip("127.0.0.1"));
}

#[tokio::test]
async fn rfc_7239_forwarded_can_be_the_trusted_header() {
    let app = spawn_app_with(Options {
        trusted_proxies: "127.0.0.1",
        forwarded_header: ForwardedHeader::Forwarded,
        ..Default::default()
    })
    .await;
    let e = public_echo(
        &app,
        "\r\nForwarded: for=1.1.1.1, for=\"[2001:db8:cafe::17]:4711\";proto=https\r\n\
         X-Forwarded-For: 198.51.100.1",
    )
    .await;
    assert_eq!(asserted_client(&e), ip("2001:db8:cafe::17"));
    let e = public_echo(&app, "\r\nForwarded: for=_hidden").await;
    assert_eq!(asserted_client(&e), ip("127.0.0.1"));
}

#[tokio::test]
async fn made_up_session_ids_are_refused_without_any_lookup() {
    let app = spawn_app().await;
    // well-formed ids that demo-session never issued: refused by their tag
    for made_up in [
        "demo_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "demo_abcdefghijklmnopqrstuvwxyz0123456789",
        "demo_0000000000000000000000000000000000000000",
    ] {
        let r = app
            .client
            .get(app.url("/api/products"))
            .header(DEMO_HEADER, made_up)
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(r).await.1, "session_not_found", "{made_up}");
    }
    assert_eq!(app.demo.state.session_lookups.load(Ordering::SeqCst), 0);
    assert_eq!(app.upstream_hits(), 0);
}

#[tokio::test]
async fn unknown_and_ended_sessions_are_looked_up_once_then_remembered() {
    let app = spawn_app().await;
    // issued by the session key, but unknown to demo-session (e.g. already removed)
    let unknown = support::session_id();
    // ended: demo-session answers 401 session_expired
    let ended = session(SessionStatus::Expired, -10);
    app.demo
        .state
        .sessions
        .lock()
        .unwrap()
        .insert(ended.id.to_string(), ended.cached.clone());
    for (id, code) in [
        (unknown.as_str(), "session_not_found"),
        (ended.id.as_str(), "session_expired"),
    ] {
        for _ in 0..20 {
            let r = app
                .client
                .get(app.url("/api/products"))
                .header(DEMO_HEADER, id)
                .send()
                .await
                .unwrap();
            assert_eq!(error_code(r).await.1, code);
        }
    }
    // one lookup each: the other 38 answers came from memory
    assert_eq!(app.demo.state.session_lookups.load(Ordering::SeqCst), 2);
    assert_eq!(app.inventory.hits(), 0);
}

#[tokio::test]
async fn a_client_sending_bad_credentials_is_limited_and_others_are_not() {
    let app = spawn_app_with(Options {
        trusted_proxies: "127.0.0.1",
        failures_per_minute: 5,
        ..Default::default()
    })
    .await;
    let real = app.ready_session().await;
    // the prospect's session is in use (and cached) before the attack starts
    let use_session = |from: &'static str| {
        app.client
            .get(app.url("/api/products"))
            .header(DEMO_HEADER, real.id.as_str())
            .header("X-Forwarded-For", from)
            .send()
    };
    assert_eq!(use_session("198.51.100.20").await.unwrap().status(), 200);

    let attack = |id: String| {
        app.client
            .get(app.url("/api/products"))
            .header(DEMO_HEADER, id)
            .header("X-Forwarded-For", "203.0.113.9")
            .send()
    };
    for _ in 0..5 {
        let r = attack(support::session_id().to_string()).await.unwrap();
        assert_eq!(error_code(r).await.0, 401);
    }
    let lookups = app.demo.state.session_lookups.load(Ordering::SeqCst);
    // over the limit: 429 with Retry-After, and no lookup at all any more
    for _ in 0..50 {
        let r = attack(support::session_id().to_string()).await.unwrap();
        assert_eq!(r.status(), 429);
        let retry: u64 = r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
        assert_eq!(error_code(r).await.1, "too_many_failures");
    }
    // invalid tokens count too
    let r = app
        .client
        .get(app.url("/api/products"))
        .header("Authorization", "Bearer not-a-token")
        .header("X-Forwarded-For", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(
        app.demo.state.session_lookups.load(Ordering::SeqCst),
        lookups
    );
    // the same /64 or address is the same client; another client is not limited
    let r = app
        .client
        .get(app.url("/api/products"))
        .header(DEMO_HEADER, support::session_id().as_str())
        .header("X-Forwarded-For", "198.51.100.21")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await.1, "session_not_found");
    // and the prospect's session, in the cache the flood could not touch, still works
    assert_eq!(use_session("198.51.100.20").await.unwrap().status(), 200);
}

#[tokio::test]
async fn a_flood_of_bad_ids_does_not_push_real_sessions_out_of_the_cache() {
    let app = spawn_app_with(Options {
        cache_ttl: std::time::Duration::from_secs(600),
        ..Default::default()
    })
    .await;
    let real = app.ready_session().await;
    let get = |id: String| {
        app.client
            .get(app.url("/api/products"))
            .header(DEMO_HEADER, id)
            .send()
    };
    assert_eq!(get(real.id.to_string()).await.unwrap().status(), 200);
    let lookups_before = app.demo.state.session_lookups.load(Ordering::SeqCst);
    // remove the Redis copy: if the session were evicted, it would need demo-session
    let mut conn = app.redis.get().await.unwrap();
    let _: () = redis::cmd("DEL")
        .arg(bakery_config::demo::session_key(
            &app.keys,
            real.id.as_str(),
        ))
        .query_async(&mut conn)
        .await
        .unwrap();
    for _ in 0..2_000 {
        let r = get(support::session_id().to_string()).await.unwrap();
        assert_eq!(r.status(), 401);
    }
    assert_eq!(get(real.id.to_string()).await.unwrap().status(), 200);
    // the 2,000 unknown (but authentic-looking) ids cost one lookup each, the real session none
    assert_eq!(
        app.demo.state.session_lookups.load(Ordering::SeqCst),
        lookups_before + 2_000
    );
}

#[tokio::test]
async fn head_answers_like_get_without_a_body_for_everyone() {
    let app = spawn_app().await;
    let s = app.ready_session().await;
    let customer = customer_token(uuid::Uuid::new_v4(), "owner", 600);
    let cases: [(&str, Option<(&str, String)>); 4] = [
        ("/api/products", Some((DEMO_HEADER, s.id.to_string()))),
        (
            "/api/inventory/ingredients",
            Some(("Authorization", format!("Bearer {customer}"))),
        ),
        ("/api/demo/accounts", None),
        ("/", None),
    ];
    for (path, credential) in cases {
        let request = |method: reqwest::Method| {
            let mut r = app.client.request(method, app.url(path));
            if let Some((name, value)) = &credential {
                r = r.header(*name, value);
            }
            r.send()
        };
        let get = request(reqwest::Method::GET).await.unwrap();
        let head = request(reqwest::Method::HEAD).await.unwrap();
        assert_eq!(head.status(), get.status(), "{path}");
        assert_eq!(head.status(), 200, "{path}");
        assert_eq!(
            head.headers().get("content-type"),
            get.headers().get("content-type"),
            "{path}"
        );
        assert!(head.bytes().await.unwrap().is_empty(), "{path}");
    }
    // the upstream saw a GET: its own router needs no HEAD route
    let r = app
        .client
        .head(app.url("/api/products"))
        .header(DEMO_HEADER, s.id.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // a refusal answers HEAD with the same status as GET
    let r = app
        .client
        .head(app.url("/api/products"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn options_answers_the_same_way_everywhere() {
    let app = spawn_app().await;
    let s = app.ready_session().await;
    for (path, allow) in [
        ("/", "GET, HEAD, OPTIONS"),
        ("/api/demo/policy", "GET, HEAD, OPTIONS"),
        // the documented methods of the path (plus HEAD with GET, and OPTIONS)
        ("/api/products", "GET, HEAD, OPTIONS"),
        ("/api/forecasts/models", "GET, HEAD, OPTIONS"),
        ("/api/demo/session/create", "POST, OPTIONS"),
        ("/api/demo/session/demo_x", "GET, HEAD, DELETE, OPTIONS"),
        (
            "/api/inventory/ingredients/7",
            "GET, HEAD, PUT, DELETE, OPTIONS",
        ),
        // under an API prefix but in no document: what the gateway forwards
        (
            "/api/recipes/7/lines",
            "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
        ),
    ] {
        for credential in [None, Some(s.id.to_string())] {
            let mut r = app.client.request(reqwest::Method::OPTIONS, app.url(path));
            if let Some(id) = &credential {
                r = r.header(DEMO_HEADER, id);
            }
            let r = r.send().await.unwrap();
            assert_eq!(r.status(), 204, "{path}");
            assert_eq!(r.headers()["allow"], allow, "{path}");
        }
    }
    let r = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await.1, "route_not_found");
    assert_eq!(app.upstream_hits(), 0);
}

#[tokio::test]
async fn a_demo_session_told_to_slow_its_writes_is_held_back_at_the_gateway() {
    let app = spawn_app().await;
    let fast = app.ready_session().await;
    let other = app.ready_session().await;
    let order = |id: &str| {
        app.client
            .post(app.url("/api/orders"))
            .header(DEMO_HEADER, id)
            .json(&serde_json::json!({}))
    };
    // inventory-service refuses a write: wait 30 s
    let r = order(fast.id.as_str())
        .header("x-test-retry-after", "30")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let hits = app.inventory.hits();
    // the session's next writes are refused by the gateway, never forwarded
    for _ in 0..20 {
        let r = order(fast.id.as_str()).send().await.unwrap();
        assert_eq!(r.status(), 429);
        let retry: u64 = r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=30).contains(&retry), "{retry}");
        let (_, code, message) = error_code(r).await;
        assert_eq!(code, "demo_quota");
        assert_eq!(message, bakery_config::demo::WRITE_QUOTA_MESSAGE);
    }
    assert_eq!(app.inventory.hits(), hits);
    // its reads go on, and another session writes as usual
    let r = app
        .client
        .get(app.url("/api/products"))
        .header(DEMO_HEADER, fast.id.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(order(other.id.as_str()).send().await.unwrap().status(), 200);
    // a refusal waiting does not lift (the row quota's hour) is not taken over
    let r = order(other.id.as_str())
        .header("x-test-retry-after", "3600")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(order(other.id.as_str()).send().await.unwrap().status(), 200);
    // nor is a customer's
    let customer = customer_token(uuid::Uuid::new_v4(), "owner", 600);
    let r = app
        .client
        .post(app.url("/api/orders"))
        .bearer_auth(&customer)
        .header("x-test-retry-after", "30")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let r = app
        .client
        .post(app.url("/api/orders"))
        .bearer_auth(&customer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_method_a_documented_path_does_not_answer_is_405_with_allow_before_credentials() {
    let app = spawn_app().await;
    for (method, path, allow) in [
        ("TRACE", "/api/auth/login", "POST, OPTIONS"),
        ("TRACE", "/api/products", "GET, HEAD, OPTIONS"),
        (
            "PATCH",
            "/api/inventory/ingredients/7",
            "GET, HEAD, PUT, DELETE, OPTIONS",
        ),
        ("POST", "/api/demo/policy", "GET, HEAD, OPTIONS"),
        (
            "TRACE",
            "/api/recipes/7/lines",
            "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
        ),
    ] {
        let r = app
            .client
            .request(method.parse().unwrap(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["allow"], allow, "{method} {path}");
        let (status, code, _) = error_code(r).await;
        assert_eq!(
            (status, code.as_str()),
            (405, "method_not_allowed"),
            "{method} {path}: no credential needed to learn it"
        );
    }
    assert_eq!(app.upstream_hits(), 0);
}
