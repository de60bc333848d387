//! A service's route table as actix built it, for comparing with its OpenAPI document:
//! every resource pattern in the app's resource map, and every method a resource answers
//! with something other than `405` (its `method_not_allowed` default) or the app's default
//! service. Handlers run without their app data, so they fail fast; only *that* something
//! answered matters.

use std::collections::BTreeSet;

use actix_web::http::Method;
use actix_web::{App, HttpRequest, HttpResponse, test, web};

const MARKER: &str = "x-route-table-default";
const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

/// `{(METHOD, "/path/{param}")}` of every route `configure` registers (flat resources; a
/// scope's children would show up relative to it and fail the comparison loudly).
pub async fn route_table(configure: fn(&mut web::ServiceConfig)) -> BTreeSet<(String, String)> {
    let app = test::init_service(App::new().configure(configure).default_service(web::to(
        |req: HttpRequest| async move {
            HttpResponse::NotFound()
                .insert_header((MARKER, "1"))
                .body(format!("{:?}", req.resource_map()))
        },
    )))
    .await;
    let dump = test::call_and_read_body(
        &app,
        test::TestRequest::get()
            .uri("/__route_table__")
            .to_request(),
    )
    .await;
    let mut table = BTreeSet::new();
    for path in patterns(&String::from_utf8_lossy(&dump)) {
        let sample = sample_path(&path);
        let mut answered = BTreeSet::new();
        for method in METHODS {
            let req = test::TestRequest::default()
                .method(method.clone())
                .uri(&sample)
                .to_request();
            let res = test::call_service(&app, req).await;
            if res.status() != 405 && !res.headers().contains_key(MARKER) {
                answered.insert(method.to_string());
                table.insert((method.to_string(), path.clone()));
            }
        }
        if !answered.is_empty() {
            let trace = test::TestRequest::default()
                .method(Method::TRACE)
                .uri(&sample)
                .to_request();
            assert_allow(&test::call_service(&app, trace).await, &path, &answered);
        }
    }
    table
}

/// A method no resource routes (`TRACE`) is `405` with an `Allow` that lists exactly the
/// methods the resource answers.
fn assert_allow(res: &actix_web::dev::ServiceResponse, path: &str, answered: &BTreeSet<String>) {
    assert_eq!(res.status(), 405, "TRACE {path}");
    let allow: BTreeSet<String> = res
        .headers()
        .get("allow")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .split(',')
        .map(|m| m.trim().to_owned())
        .filter(|m| !m.is_empty())
        .collect();
    assert_eq!(&allow, answered, "the `Allow` of a 405 on {path}");
}

/// The patterns in a resource map's `Debug` (`Single("/api/…")`), the root's `""` left out.
fn patterns(dump: &str) -> BTreeSet<String> {
    dump.split("Single(\"")
        .skip(1)
        .filter_map(|rest| rest.split_once("\")").map(|(p, _)| p.to_owned()))
        .filter(|p| !p.is_empty())
        .collect()
}

/// A concrete path for a pattern: every `{param}` a UUID (valid for any id extractor).
fn sample_path(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|s| {
            if s.starts_with('{') {
                "00000000-0000-0000-0000-000000000000"
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Fails unless `configure`'s route table and `documented` (a document's
/// `bakery_config::openapi::operation_keys`) name the same operations, in both directions.
/// `undocumented` lists routes deliberately left out of the document (internal ones); each
/// must be a route.
pub async fn assert_routes_documented(
    configure: fn(&mut web::ServiceConfig),
    documented: Vec<(String, String)>,
    undocumented: &[(&str, &str)],
) {
    let mut routes = route_table(configure).await;
    for (method, path) in undocumented {
        assert!(
            routes.remove(&((*method).to_owned(), (*path).to_owned())),
            "{method} {path} is listed as undocumented but is not a route"
        );
    }
    let documented: BTreeSet<_> = documented.into_iter().collect();
    assert_eq!(
        routes, documented,
        "route table (left) vs OpenAPI document (right)"
    );
}

#[cfg(test)]
mod tests {
    use super::{patterns, sample_path};

    #[test]
    fn reads_patterns_from_the_debug_dump() {
        let dump = r#"ResourceMap { pattern: ResourceDef { patterns: Single("") }, nodes: Some([ResourceMap { pattern: ResourceDef { patterns: Single("/api/x/{id}") } }]) }"#;
        assert_eq!(
            patterns(dump).into_iter().collect::<Vec<_>>(),
            vec!["/api/x/{id}".to_owned()]
        );
        assert_eq!(
            sample_path("/a/{id}/b"),
            "/a/00000000-0000-0000-0000-000000000000/b"
        );
    }
}
