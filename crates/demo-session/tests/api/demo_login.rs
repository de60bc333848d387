//! Logging in to tenant-service with a published demo account answers with a fresh demo
//! session from the real demo-session service — never a token for the template.

use crate::common::*;
use bakery_tenant::settings::{LoginSettings, Settings as TenantSettings};
use bakery_tenant::startup::Application as TenantService;
use serde_json::Value;

#[tokio::test]
async fn a_demo_login_gets_its_own_virtual_tenant_not_the_template() {
    let demo = spawn_app().await;
    // the same tenant database demo-session clones into
    let mut service = bakery_test_support::service_settings(
        &demo.tenant_db.url,
        bakery_test_support::redis_settings(),
    );
    service.services.demo_session = demo.address.clone();
    let tenant_service = TenantService::build(TenantSettings {
        common: service,
        login: LoginSettings::default(),
    })
    .await
    .expect("tenant-service");
    let login_url = format!("http://127.0.0.1:{}/api/auth/login", tenant_service.port());
    tokio::spawn(tenant_service.run_until_stopped());

    let r = demo
        .client
        .post(&login_url)
        .header(
            bakery_config::client::CLIENT_HEADER,
            bakery_test_support::client_assertion("203.0.113.200"),
        )
        .json(&serde_json::json!({
            "email": "demo.individual@panaderiasanpablo.com",
            "password": "DemoSanPablo2024!"
        }))
        .send()
        .await
        .expect("login");
    assert_eq!(r.status().as_u16(), 200);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["demo"], true);
    assert!(
        body.get("access_token").is_none(),
        "no token for the template"
    );
    let session = &body["session"];
    assert_eq!(session["status"], "ready");
    assert_eq!(session["demo_account_type"], "individual_bakery");
    assert_ne!(session["virtual_tenant_id"], SAN_PABLO);

    // the session is real: demo-session knows it, and its copy holds the template's data
    let id = session["session_id"].as_str().expect("id");
    let got: Value = demo
        .client
        .get(demo.url(&format!("/api/demo/session/{id}")))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(got["virtual_tenant_id"], session["virtual_tenant_id"]);
    let tenant: uuid::Uuid = got["virtual_tenant_id"]
        .as_str()
        .expect("vt")
        .parse()
        .expect("uuid");
    let mut inv = demo.inventory_conn().await;
    assert_eq!(
        inventory_counts(&mut inv, tenant).await,
        clone_counts(&mut inv, SAN_PABLO.parse().expect("uuid")).await
    );
}
