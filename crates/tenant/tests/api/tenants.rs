//! `GET /api/tenants/me`: the caller's tenant, taken only from the gateway's identity.

use bakery_config::auth::{INTERNAL_AUDIENCE, Identity, TokenKeys};
use bakery_test_support::identity_token;
use reqwest::StatusCode;
use uuid::Uuid;

use crate::helpers::{TEMPLATE_ID, demo_token, json, service_token, sign, spawn_app};

#[tokio::test]
async fn each_caller_sees_only_its_own_tenant() {
    let app = spawn_app().await;
    for customer in [&app.ana, &app.bea] {
        let token = identity_token(customer.tenant_id, customer.role);
        let response = app.get_with("/api/tenants/me", Some(&token)).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body = json(response).await;
        assert_eq!(body["id"], customer.tenant_id.to_string());
        assert_eq!(body["name"], customer.name);
        assert_eq!(body["is_demo"], false);
        assert!(body["demo_expires_at"].is_null());
        assert!(body.get("is_demo_template").is_none());
    }
}

#[tokio::test]
async fn a_forged_tenant_header_without_credentials_is_refused() {
    let app = spawn_app().await;
    let none = app.get_with("/api/tenants/me", None).await;
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(none).await["error"], "missing_credentials");

    let forged = app
        .http
        .get(app.url("/api/tenants/me"))
        .header("X-Tenant-Id", app.ana.tenant_id.to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    let text = forged.text().await.expect("body");
    assert!(!text.contains(app.ana.name));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&text).expect("json")["error"],
        "missing_credentials"
    );

    // a bearer signed with another key, even with the header, is refused too
    let other_key = TokenKeys::new(
        &bakery_test_support::secret("not-the-gateway"),
        INTERNAL_AUDIENCE,
    )
    .sign(&Identity::new("x", app.ana.tenant_id, "owner", 60))
    .expect("sign");
    let response = app
        .http
        .get(app.url("/api/tenants/me"))
        .bearer_auth(other_key)
        .header("X-Tenant-Id", app.ana.tenant_id.to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(response).await["error"], "invalid_credentials");

    // with a valid identity the header is ignored: the tenant comes from the identity
    let response = app
        .http
        .get(app.url("/api/tenants/me"))
        .bearer_auth(identity_token(app.bea.tenant_id, "admin"))
        .header("X-Tenant-Id", app.ana.tenant_id.to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(json(response).await["id"], app.bea.tenant_id.to_string());
}

#[tokio::test]
async fn a_demo_session_sees_its_virtual_tenant() {
    let app = spawn_app().await;
    let v = &app.virtual_tenant;
    let response = app
        .get_with(
            "/api/tenants/me",
            Some(&demo_token(v.tenant_id, &v.session_id)),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = json(response).await;
    assert_eq!(body["id"], v.tenant_id.to_string());
    assert_eq!(body["is_demo"], true);
    assert_eq!(body["demo_account_type"], "individual_bakery");
    let expires: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(body["demo_expires_at"].clone()).expect("expires_at");
    assert!((expires - v.expires_at).num_milliseconds().abs() < 1000);
}

#[tokio::test]
async fn templates_and_other_sessions_tenants_are_never_reachable() {
    let app = spawn_app().await;
    let v = &app.virtual_tenant;
    for token in [
        // an identity naming the template, as a user or as a demo session
        identity_token(TEMPLATE_ID, "owner"),
        demo_token(TEMPLATE_ID, &v.session_id),
        // a demo session naming a virtual tenant that is not its own
        demo_token(v.tenant_id, "demo_CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"),
        // a user identity naming a virtual tenant (they are reached through sessions only)
        identity_token(v.tenant_id, "owner"),
        // a demo session naming a customer
        demo_token(app.ana.tenant_id, &v.session_id),
        // a tenant that does not exist
        identity_token(Uuid::new_v4(), "owner"),
    ] {
        let response = app.get_with("/api/tenants/me", Some(&token)).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let text = response.text().await.expect("body");
        assert!(text.contains("tenant_not_found"), "{text}");
        assert!(!text.contains("San Pablo"), "{text}");
    }
}

#[tokio::test]
async fn an_expired_demo_tenant_answers_session_expired() {
    let app = spawn_app().await;
    let v = &app.virtual_tenant;
    app.execute_all_tenants(&format!(
        "UPDATE tenants SET demo_expires_at = now() - interval '1 minute' WHERE id = '{}'",
        v.tenant_id
    ))
    .await;
    let response = app
        .get_with(
            "/api/tenants/me",
            Some(&demo_token(v.tenant_id, &v.session_id)),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(response).await["error"], "session_expired");
}

#[tokio::test]
async fn a_service_identity_has_no_tenant() {
    let app = spawn_app().await;
    let response = app
        .get_with("/api/tenants/me", Some(&service_token()))
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(json(response).await["error"], "forbidden");
    let expired = sign(&Identity::new("u", app.ana.tenant_id, "owner", -120));
    let response = app.get_with("/api/tenants/me", Some(&expired)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(response).await["error"], "credentials_expired");
}
