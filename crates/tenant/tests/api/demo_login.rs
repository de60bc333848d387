//! Logging in with a published demo account gives a fresh demo session, never a token for
//! the template (docs/api-tenant.md, "`POST /api/auth/login`").

use std::time::{Duration, Instant};

use bakery_config::client::CLIENT_HEADER;
use bakery_tenant::access::AccessTokens;
use bakery_tenant::models::{Tenant, User};
use chrono::Utc;
use reqwest::StatusCode;
use uuid::Uuid;

use crate::helpers::{
    DEMO_EMAIL, DEMO_PASSWORD, TEMPLATE_ID, client_assertion, closed_port_url, fixed_session_body,
    json, spawn_app_with, stand_in_demo_session,
};

#[tokio::test]
async fn a_demo_account_login_answers_with_a_fresh_demo_session() {
    let stand_in = stand_in_demo_session(201, fixed_session_body()).await;
    let url = stand_in.url.clone();
    let app = spawn_app_with(|s| s.common.services.demo_session = url).await;

    let assertion = client_assertion("203.0.113.77");
    let response = app
        .login_with(
            DEMO_EMAIL,
            DEMO_PASSWORD,
            &[
                (CLIENT_HEADER, &assertion),
                ("X-Forwarded-For", "10.1.1.1, 203.0.113.99"),
                ("X-Request-Id", "req-demo-123"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.expect("body");
    let body: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        body,
        serde_json::json!({"demo": true, "session": fixed_session_body()})
    );
    assert!(!text.contains("access_token"), "no access token: {text}");
    assert!(
        !text.contains(&TEMPLATE_ID.to_string()),
        "template not named"
    );

    let received = stand_in.received.lock().expect("lock").clone();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].body,
        serde_json::json!({"demo_account_type": "individual_bakery"})
    );
    // demo-session gets the gateway's assertion as it came, to verify and rate-limit the
    // client it names; X-Forwarded-For is nobody's business any more
    assert_eq!(
        received[0].client_assertion.as_deref(),
        Some(assertion.as_str())
    );
    assert_eq!(received[0].forwarded_for, None);
    assert_eq!(received[0].request_id.as_deref(), Some("req-demo-123"));
}

#[tokio::test]
async fn a_direct_demo_login_forwards_no_client_assertion() {
    let stand_in = stand_in_demo_session(201, fixed_session_body()).await;
    let url = stand_in.url.clone();
    let app = spawn_app_with(|s| s.common.services.demo_session = url).await;
    let response = app
        .login_with(
            DEMO_EMAIL,
            DEMO_PASSWORD,
            &[("X-Forwarded-For", "203.0.113.77")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let received = stand_in.received.lock().expect("lock").clone();
    assert_eq!(received.len(), 1);
    // nothing to vouch for: demo-session sees tenant-service as the client
    assert_eq!(received[0].client_assertion, None);
    assert_eq!(received[0].forwarded_for, None);
    // the request id tenant-service gave the request still follows it
    assert!(
        received[0]
            .request_id
            .as_deref()
            .is_some_and(|id| !id.is_empty())
    );
}

#[tokio::test]
async fn a_wrong_demo_password_creates_no_session() {
    let stand_in = stand_in_demo_session(201, fixed_session_body()).await;
    let url = stand_in.url.clone();
    let app = spawn_app_with(|s| s.common.services.demo_session = url).await;
    let response = app.login(DEMO_EMAIL, "demosanpablo", "203.0.113.78").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(response).await["error"], "invalid_credentials");
    assert!(stand_in.received.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn demo_session_down_gives_503_and_no_token() {
    let app = spawn_app_with(|s| s.common.services.demo_session = closed_port_url()).await;
    let response = app.login(DEMO_EMAIL, DEMO_PASSWORD, "203.0.113.79").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().get("retry-after").is_some());
    let text = response.text().await.expect("body");
    assert!(!text.contains("access_token"));
    let body: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(body["error"], "demo_unavailable");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("no están disponibles"))
    );
}

#[tokio::test]
async fn demo_session_too_slow_gives_503() {
    // a listener that accepts and never answers
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!(
        "http://127.0.0.1:{}",
        silent.local_addr().expect("addr").port()
    );
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let app = spawn_app_with(|s| {
        s.common.services.demo_session = url;
        s.login.demo_session_timeout = Duration::from_secs(1);
    })
    .await;
    let response = app.login(DEMO_EMAIL, DEMO_PASSWORD, "203.0.113.80").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json(response).await["error"], "demo_unavailable");
}

#[tokio::test]
async fn demo_session_refusals_are_passed_through() {
    let refusal = serde_json::json!({
        "error": "too_many_sessions",
        "message": "Has creado demasiadas sesiones demo. Inténtalo más tarde."
    });
    let stand_in = stand_in_demo_session(429, refusal.clone()).await;
    let url = stand_in.url.clone();
    let app = spawn_app_with(|s| s.common.services.demo_session = url).await;
    let response = app.login(DEMO_EMAIL, DEMO_PASSWORD, "203.0.113.81").await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("60")
    );
    assert_eq!(json(response).await, refusal);
}

#[tokio::test]
async fn demo_session_answering_nonsense_gives_502() {
    let stand_in = stand_in_demo_session(201, serde_json::json!("not an object")).await;
    let url = stand_in.url.clone();
    let app = spawn_app_with(|s| s.common.services.demo_session = url).await;
    let response = app.login(DEMO_EMAIL, DEMO_PASSWORD, "203.0.113.82").await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(json(response).await["error"], "demo_unavailable");
}

fn tenant(is_demo: bool, is_demo_template: bool) -> Tenant {
    let now = Utc::now();
    Tenant {
        id: TEMPLATE_ID,
        name: "Panadería San Pablo - Demo".to_owned(),
        slug: "san-pablo-demo".to_owned(),
        business_model: "individual_bakery".to_owned(),
        city: "Madrid".to_owned(),
        country: "ES".to_owned(),
        timezone: "Europe/Madrid".to_owned(),
        is_demo,
        is_demo_template,
        demo_account_type: Some("individual_bakery".to_owned()),
        base_demo_tenant_id: None,
        demo_session_id: None,
        demo_expires_at: None,
        created_at: now,
        updated_at: now,
    }
}

#[test]
fn no_access_token_is_ever_signed_for_a_demo_tenant() {
    let tokens = AccessTokens::new(
        &bakery_test_support::secret("access"),
        Duration::from_secs(60),
    );
    let user = User {
        tenant_id: TEMPLATE_ID,
        id: Uuid::new_v4(),
        email: DEMO_EMAIL.to_owned(),
        password_hash: String::new(),
        full_name: "Demo".to_owned(),
        role: "owner".to_owned(),
        is_active: true,
        created_at: Utc::now(),
    };
    assert!(
        tokens.issue(&user, &tenant(false, true)).is_err(),
        "template"
    );
    assert!(
        tokens.issue(&user, &tenant(true, false)).is_err(),
        "virtual"
    );
    assert!(
        tokens.issue(&user, &tenant(false, false)).is_ok(),
        "customer"
    );
}

#[tokio::test]
async fn failing_on_purpose_does_not_lock_the_demo_account_for_everyone() {
    let stand_in = stand_in_demo_session(201, fixed_session_body()).await;
    let url = stand_in.url.clone();
    // test settings: 3 failures per address and client; the slow-down, which the demo
    // account never gets, would be 10 s from the first failure
    let app = spawn_app_with(|s| {
        s.common.services.demo_session = url;
        s.login.slowdown_after_failures = 1;
        s.login.slowdown_base = Duration::from_secs(10);
        s.login.slowdown_max = Duration::from_secs(10);
    })
    .await;
    // many clients failing a little
    for i in 0..6 {
        let response = app
            .login(DEMO_EMAIL, "adivinando", &format!("192.0.2.{i}"))
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    // one client failing a lot: refused on the demo account once it has failed 3 times
    for i in 0..5 {
        let response = app.login(DEMO_EMAIL, "adivinando", "192.0.2.200").await;
        let expected = if i < 3 {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(response.status(), expected, "attempt {i}");
    }
    let refused = app.login(DEMO_EMAIL, DEMO_PASSWORD, "192.0.2.200").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().get("retry-after").is_some());
    assert_eq!(json(refused).await["error"], "too_many_attempts");

    // meanwhile a clean client gets its demo at once (a generous bound: unslowed it takes
    // one password check, slowed it would take 10 s)
    let started = Instant::now();
    let response = app.login(DEMO_EMAIL, DEMO_PASSWORD, "192.0.2.100").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json(response).await["demo"], true);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "not slowed down"
    );
    // and so do the clients that failed a little
    let response = app.login(DEMO_EMAIL, DEMO_PASSWORD, "192.0.2.1").await;
    assert_eq!(response.status(), StatusCode::OK);
}
