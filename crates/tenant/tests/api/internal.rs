//! `GET /internal/tenants`: service identities only (docs/api-tenant.md).

use bakery_config::auth::Identity;
use bakery_test_support::identity_token;
use reqwest::StatusCode;
use uuid::Uuid;

use crate::helpers::{TEMPLATE_ID, demo_token, json, service_token, sign, spawn_app};

fn ids(body: &serde_json::Value) -> Vec<String> {
    body["tenants"]
        .as_array()
        .expect("tenants")
        .iter()
        .map(|t| t["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn customers_only_with_demo_false() {
    let app = spawn_app().await;
    let token = service_token();
    let response = app
        .get_with("/internal/tenants?demo=false", Some(&token))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = json(response).await;
    let mut got = ids(&body);
    got.sort();
    let mut want = vec![app.ana.tenant_id.to_string(), app.bea.tenant_id.to_string()];
    want.sort();
    assert_eq!(got, want);
    let first = &body["tenants"][0];
    for field in [
        "id",
        "name",
        "slug",
        "business_model",
        "city",
        "is_demo",
        "is_demo_template",
    ] {
        assert!(first.get(field).is_some(), "{field} missing: {first}");
    }
    assert_eq!(first["is_demo"], false);
    assert_eq!(first["is_demo_template"], false);

    let demo = json(
        app.get_with("/internal/tenants?demo=true", Some(&token))
            .await,
    )
    .await;
    let mut got = ids(&demo);
    got.sort();
    let mut want = vec![
        TEMPLATE_ID.to_string(),
        app.virtual_tenant.tenant_id.to_string(),
    ];
    want.sort();
    assert_eq!(got, want);

    let all = json(app.get_with("/internal/tenants", Some(&token)).await).await;
    assert_eq!(ids(&all).len(), 4);
}

#[tokio::test]
async fn pages_are_bounded() {
    let app = spawn_app().await;
    let token = service_token();
    let all = ids(&json(app.get_with("/internal/tenants", Some(&token)).await).await);
    let page = json(
        app.get_with("/internal/tenants?limit=2&offset=1", Some(&token))
            .await,
    )
    .await;
    assert_eq!(ids(&page), all[1..3].to_vec());
    assert_eq!(page["limit"], 2);
    assert_eq!(page["offset"], 1);
    assert_eq!(page["next_offset"], 3);
    let last = json(
        app.get_with("/internal/tenants?limit=2&offset=2", Some(&token))
            .await,
    )
    .await;
    assert_eq!(ids(&last), all[2..4].to_vec());
    assert!(last["next_offset"].is_null());
    let everything = json(app.get_with("/internal/tenants", Some(&token)).await).await;
    assert_eq!(everything["limit"], 500);
    assert!(everything["next_offset"].is_null());
    for query in [
        "limit=501",
        "limit=0",
        "offset=-1",
        "limit=abc",
        "demo=quizas",
    ] {
        let response = app
            .get_with(&format!("/internal/tenants?{query}"), Some(&token))
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(json(response).await["error"], "invalid_query", "{query}");
    }
}

#[tokio::test]
async fn other_identities_are_refused() {
    let app = spawn_app().await;
    let v = &app.virtual_tenant;
    for token in [
        identity_token(app.ana.tenant_id, "owner"),
        identity_token(app.bea.tenant_id, "admin"),
        demo_token(v.tenant_id, &v.session_id),
        // the service role is only a service's with no tenant
        sign(&Identity::new("x", app.ana.tenant_id, "service", 60)),
    ] {
        let response = app
            .get_with("/internal/tenants?demo=false", Some(&token))
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(json(response).await["error"], "forbidden");
    }
    let response = app
        .http
        .get(app.url("/internal/tenants?demo=false"))
        .header("X-Tenant-Id", Uuid::nil().to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}
