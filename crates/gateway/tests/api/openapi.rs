//! `GET /api/openapi.json`: a valid OpenAPI 3.1 document whose references all resolve,
//! whose every operation the gateway routes, and whose security follows the gateway's
//! access rules and demo policy. (Each service's tests compare its route table with its
//! own document; `scripts/fuzz-api.sh` checks real answers against it.)
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a test fails loudly on what it cannot set up, and reads JSON by key"
)]

use crate::common::*;
use actix_web::http::Method;
use bakery_gateway::openapi::{render, sample_path};
use bakery_gateway::policy::Policy;
use bakery_gateway::routes;
use serde_json::Value;

fn doc() -> Value {
    let policy = Policy::default_policy().expect("default policy");
    render(&policy).expect("renders")
}

/// Every `"$ref"` string in `v`.
fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            ops.push((method.to_ascii_uppercase(), path.clone(), op));
        }
    }
    ops
}

fn security(op: &Value) -> Vec<String> {
    op.get("security")
        .and_then(Value::as_array)
        .map(|reqs| {
            reqs.iter()
                .flat_map(|r| r.as_object().expect("requirement").keys().cloned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn is_openapi_3_1_and_every_reference_resolves() {
    let doc = doc();
    assert!(doc["openapi"].as_str().expect("openapi").starts_with("3.1"));
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(found.len() > 20, "{} references", found.len());
    for r in found {
        let pointer = r.strip_prefix('#').expect("a local reference");
        assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
    }
    for (method, path, op) in operations(&doc) {
        let responses = op["responses"].as_object().expect("responses");
        assert!(!responses.is_empty(), "{method} {path} answers nothing");
        for (status, answer) in responses {
            if status.starts_with('4') || status.starts_with('5') {
                let schema = &answer["content"]["application/json"]["schema"];
                assert!(schema.is_object(), "{method} {path} {status}: not JSON");
            }
        }
        for scheme in security(op) {
            assert!(
                doc["components"]["securitySchemes"][&scheme].is_object(),
                "{scheme} is not a security scheme"
            );
        }
    }
}

#[test]
fn documents_every_service_and_only_what_the_gateway_serves() {
    let doc = doc();
    let ops = operations(&doc);
    for expected in [
        ("POST", "/api/demo/session/create"),
        ("POST", "/api/auth/login"),
        ("GET", "/api/inventory/ingredients"),
        ("GET", "/api/demo/policy"),
        ("GET", "/api/openapi.json"),
        ("GET", "/health"),
    ] {
        assert!(
            ops.iter()
                .any(|(m, p, _)| (m.as_str(), p.as_str()) == expected),
            "{expected:?} missing"
        );
    }
    let own = ["/health", "/ready", "/api/demo/policy", "/api/openapi.json"];
    for (method, path, _) in &ops {
        assert!(
            own.contains(&path.as_str()) || routes::upstream(&sample_path(path)).is_some(),
            "{method} {path} is documented but the gateway does not route it"
        );
        assert!(!path.starts_with("/internal"), "{path} is internal");
    }
}

#[test]
fn security_follows_access_rules_and_the_demo_policy() {
    let doc = doc();
    let policy = Policy::default_policy().expect("default policy");
    for (method, path, op) in operations(&doc) {
        let sample = sample_path(&path);
        let security = security(op);
        let Some(_) = routes::upstream(&sample).filter(|_| !routes::answered_by_gateway(&sample))
        else {
            assert!(
                security.is_empty(),
                "{method} {path}: the gateway's own routes are public"
            );
            continue;
        };
        let m: Method = method.parse().expect("method");
        let expected: Vec<&str> = match routes::access(&m, &sample) {
            routes::Access::Public => vec![],
            routes::Access::Admin => vec!["admin_key"],
            routes::Access::Authenticated if policy.check(&method, &sample).is_ok() => {
                vec!["bearer", "demo_session"]
            }
            routes::Access::Authenticated => vec!["bearer"],
        };
        assert_eq!(security, expected, "{method} {path}");
    }
    // the contract's default policy, spelled out
    let sec = |m: &str, p: &str| security(&doc["paths"][p][m]);
    assert_eq!(sec("get", "/api/products"), ["bearer", "demo_session"]);
    assert_eq!(sec("post", "/api/pos/sales"), ["bearer", "demo_session"]);
    assert_eq!(sec("post", "/api/inventory/ingredients"), ["bearer"]);
    assert_eq!(sec("get", "/api/forecasts/{product_id}"), ["bearer"]);
    assert_eq!(sec("post", "/api/demo/cleanup/run"), ["admin_key"]);
    assert!(sec("post", "/api/demo/session/create").is_empty());
}

#[test]
fn a_created_session_links_to_what_can_be_done_with_it() {
    let doc = doc();
    let links = doc["paths"]["/api/demo/session/create"]["post"]["responses"]["201"]["links"]
        .as_object()
        .expect("links");
    let ids: Vec<&str> = doc["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().expect("item").values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    assert_eq!(links.len(), 3);
    for link in links.values() {
        let id = link["operationId"].as_str().expect("operationId");
        assert!(ids.contains(&id), "{id} is not an operation");
    }
}

#[tokio::test]
async fn the_gateway_serves_it() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let served: Value = r.json().await.unwrap();
    assert_eq!(served, doc());
    let r = app
        .client
        .post(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
}
