//! Who the client of a login is: the address the gateway asserts (`x-bakery-client`), else
//! the TCP peer; never `X-Forwarded-For`, which anybody can write.

use bakery_config::auth::{INTERNAL_AUDIENCE, Identity, TokenKeys};
use bakery_config::client::{CLIENT_HEADER, ClientAddress, ClientAssertions};
use reqwest::StatusCode;

use crate::helpers::{client_assertion, json, spawn_app_with};

#[tokio::test]
async fn a_spoofed_forwarded_for_sent_directly_does_not_change_the_client() {
    let app = spawn_app_with(|s| s.login.max_failures_per_ip = 3).await;
    // a direct caller inventing a new X-Forwarded-For (and Forwarded) for every attempt is
    // still one client: its own address
    for i in 0..3 {
        let spoofed = format!("198.51.100.{i}");
        let response = app
            .login_with(
                &format!("prueba{i}@ninguna.es"),
                "mal",
                &[
                    ("X-Forwarded-For", &spoofed),
                    ("Forwarded", &format!("for={spoofed}")),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    for spoofed in ["198.51.100.99", "10.0.0.1, 203.0.113.7", "ñ"] {
        let response = app
            .login_with(
                app.ana.email,
                app.ana.password,
                &[("X-Forwarded-For", spoofed)],
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "{spoofed}"
        );
        assert_eq!(json(response).await["error"], "too_many_attempts");
    }
    // a client the gateway asserts is somebody else
    let asserted = app
        .login(app.ana.email, app.ana.password, "198.51.100.99")
        .await;
    assert_eq!(asserted.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_valid_assertion_names_the_client_whatever_the_peer() {
    let app = spawn_app_with(|s| s.login.max_failures_per_ip = 3).await;
    // every request comes from the same peer (the test); the assertions tell them apart
    for i in 0..3 {
        let response = app
            .login(&format!("prueba{i}@ninguna.es"), "mal", "192.0.2.44")
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let refused = app
        .login(app.ana.email, app.ana.password, "192.0.2.44")
        .await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    // X-Forwarded-For beside an assertion changes nothing either
    let assertion = client_assertion("192.0.2.44");
    let refused = app
        .login_with(
            app.ana.email,
            app.ana.password,
            &[
                (CLIENT_HEADER, &assertion),
                ("X-Forwarded-For", "203.0.113.200"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);

    let other = app
        .login(app.ana.email, app.ana.password, "192.0.2.45")
        .await;
    assert_eq!(other.status(), StatusCode::OK);
    // the peer itself never failed
    let direct = app.login_with(app.ana.email, app.ana.password, &[]).await;
    assert_eq!(direct.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_invalid_client_assertion_is_refused() {
    let app = spawn_app_with(|_| {}).await;
    let client = ClientAddress::new("198.51.100.7".parse().expect("ip"));
    let other_key = ClientAssertions::new(&bakery_test_support::secret("not-the-gateway"))
        .sign(client, 60)
        .expect("sign");
    let expired = ClientAssertions::new(&bakery_test_support::internal_secret())
        .sign(client, -120)
        .expect("sign");
    // the gateway's identity: the right key, but another audience
    let identity = TokenKeys::new(&bakery_test_support::internal_secret(), INTERNAL_AUDIENCE)
        .sign(&Identity::new("u", app.ana.tenant_id, "owner", 60))
        .expect("sign");
    let valid = client_assertion("198.51.100.7");
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("another key", vec![(CLIENT_HEADER, &other_key)]),
        ("expired", vec![(CLIENT_HEADER, &expired)]),
        ("an identity", vec![(CLIENT_HEADER, &identity)]),
        ("garbage", vec![(CLIENT_HEADER, "198.51.100.7")]),
        ("empty", vec![(CLIENT_HEADER, "")]),
        (
            "two assertions",
            vec![(CLIENT_HEADER, &valid), (CLIENT_HEADER, &valid)],
        ),
    ];
    for (what, headers) in cases {
        // the right password: only the assertion is wrong
        let response = app
            .login_with(app.ana.email, app.ana.password, &headers)
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{what}");
        let text = response.text().await.expect("body");
        assert!(!text.contains("access_token"), "{what}: {text}");
        let body: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(
            body,
            serde_json::json!({
                "error": "invalid_client",
                "message": "La petición no se puede atribuir a ningún cliente."
            }),
            "{what}"
        );
    }
}
