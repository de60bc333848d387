//! Snapshots of what clients parse from the gateway itself: the JSON error envelope of each
//! refusal (status, `Retry-After`, body) and the demo policy document the page reads.
//! A change here is a change of contract: review the `.snap` diff (`cargo insta review`, or
//! rerun with `INSTA_UPDATE=always` and read `git diff`).
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "tests fail loudly on what they set up"
)]

use crate::common::*;
use bakery_test_support as support;
use serde_json::{Value, json};

/// Status, the headers a client acts on, and the body, as one JSON value.
async fn answer(response: reqwest::Response) -> Value {
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: Value = response.json().await.unwrap_or(Value::Null);
    json!({"status": status, "retry_after": retry_after, "content_type": content_type, "body": body})
}

#[tokio::test]
async fn the_error_envelope_of_every_gateway_refusal() {
    let app = spawn_app_with(Options {
        failures_per_minute: 2,
        max_body: 16,
        ..Default::default()
    })
    .await;
    let session = app.ready_session().await;
    let get = |path: &str| app.client.get(app.url(path));
    let mut answers = serde_json::Map::new();
    let mut record = |name: &str, value: Value| {
        answers.insert(name.to_owned(), value);
    };

    record(
        "missing_credentials",
        answer(get("/api/products").send().await.unwrap()).await,
    );
    record(
        "invalid_credentials",
        answer(
            get("/api/products")
                .header("Authorization", "Bearer not-a-token")
                .send()
                .await
                .unwrap(),
        )
        .await,
    );
    record(
        "credentials_expired",
        answer(
            get("/api/products")
                .bearer_auth(customer_token(uuid::Uuid::new_v4(), "owner", -600))
                .send()
                .await
                .unwrap(),
        )
        .await,
    );
    record(
        "route_not_found",
        answer(get("/api/nothing").send().await.unwrap()).await,
    );
    record(
        "method_not_allowed",
        answer(
            app.client
                .post(app.url("/api/demo/policy"))
                .send()
                .await
                .unwrap(),
        )
        .await,
    );
    record(
        "ambiguous_request",
        // an encoded separator (reqwest would resolve an encoded `..` itself)
        answer(get("/api/pos%2fsales").send().await.unwrap()).await,
    );
    record(
        "demo_restriction",
        answer(
            app.client
                .delete(app.url("/api/inventory/ingredients/1"))
                .header(DEMO_HEADER, session.id.as_str())
                .send()
                .await
                .unwrap(),
        )
        .await,
    );
    record(
        "template_tenant",
        answer(
            get("/api/products")
                .bearer_auth(customer_token(some_template(), "owner", 600))
                .send()
                .await
                .unwrap(),
        )
        .await,
    );
    record(
        "payload_too_large",
        answer(
            app.client
                .post(app.url("/api/orders"))
                .bearer_auth(customer_token(uuid::Uuid::new_v4(), "owner", 600))
                .body("x".repeat(64))
                .send()
                .await
                .unwrap(),
        )
        .await,
    );
    // an id demo-session never issued; then the client is over its refused credentials
    let made_up = |_| {
        get("/api/products")
            .header(DEMO_HEADER, support::session_id().as_str())
            .send()
    };
    record("session_not_found", answer(made_up(0).await.unwrap()).await);
    made_up(1).await.unwrap();
    let mut too_many = answer(made_up(2).await.unwrap()).await;
    // the seconds left in the client's window depend on when the test ran
    too_many["retry_after"] = json!("[seconds]");
    record("too_many_failures", too_many);

    insta::assert_json_snapshot!("gateway_error_envelopes", answers);
}

#[tokio::test]
async fn the_demo_policy_document() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(app.url("/api/demo/policy"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let policy: Value = r.json().await.unwrap();
    insta::assert_json_snapshot!("demo_policy", policy);
}
