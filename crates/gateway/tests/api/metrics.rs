//! The gateway's metrics: served on `GATEWAY_METRICS_ADDR` only, never on (nor through) the
//! public port; refusals, throttling, the session cache, upstream durations and routes move.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on what it cannot set up"
)]

use crate::common::*;
use bakery_test_support::metrics::Scrape;
use uuid::Uuid;

const REFUSALS: &str = "bakery_gateway_demo_refusals_total";
const CACHE: &str = "bakery_gateway_session_cache_total";
const THROTTLED: &str = "bakery_gateway_throttled_total";
const UPSTREAM_COUNT: &str = "bakery_gateway_upstream_request_duration_seconds_count";
const HTTP_COUNT: &str = "http_server_request_duration_seconds_count";

async fn scrape(app: &TestApp) -> Scrape {
    Scrape::get(&app.client, &format!("{}/metrics", app.metrics_address)).await
}

fn moved(before: &Scrape, after: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    after.sum(name, labels) - before.sum(name, labels)
}

#[tokio::test]
async fn metrics_are_on_their_own_listener_and_the_public_port_answers_404() {
    let app = spawn_app().await;
    for path in ["/metrics", "/METRICS", "/metrics/", "/static/metrics"] {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    assert_eq!(app.upstream_hits(), 0, "never forwarded");
    let r = app
        .client
        .get(format!("{}/metrics", app.metrics_address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = r.text().await.unwrap();
    assert!(text.contains("http_server_request_duration_seconds"));
    // the metrics listener serves nothing else
    let r = app
        .client
        .get(format!("{}/api/products", app.metrics_address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn demo_refusals_count_the_rule_and_routes_are_prefixes_never_raw_paths() {
    let app = spawn_app().await;
    let s = app.ready_session().await;
    let before = scrape(&app).await;
    let ingredient = Uuid::new_v4();
    let send = |method: reqwest::Method, path: String| {
        app.client
            .request(method, app.url(&path))
            .header(DEMO_HEADER, s.id.as_str())
            .send()
    };
    let r = send(
        reqwest::Method::GET,
        format!("/api/inventory/ingredients/{ingredient}"),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let r = send(
        reqwest::Method::DELETE,
        format!("/api/inventory/ingredients/{ingredient}"),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 403);
    let r = send(reqwest::Method::GET, "/api/forecasts/models".into())
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let after = scrape(&app).await;

    assert_eq!(
        moved(&before, &after, REFUSALS, &[("rule", "not_allowed")]),
        1.0,
        "{}",
        after.text
    );
    assert_eq!(
        moved(
            &before,
            &after,
            REFUSALS,
            &[("rule", "deny /api/forecasts/**")]
        ),
        1.0
    );
    // the first request looked the session up, the next two found it in process
    assert_eq!(moved(&before, &after, CACHE, &[("result", "miss")]), 1.0);
    assert_eq!(moved(&before, &after, CACHE, &[("result", "hit")]), 2.0);
    assert_eq!(
        moved(
            &before,
            &after,
            UPSTREAM_COUNT,
            &[("upstream", "inventory")]
        ),
        1.0
    );
    let inventory = [
        ("http_route", "/api/inventory"),
        ("http_request_method", "GET"),
    ];
    assert_eq!(moved(&before, &after, HTTP_COUNT, &inventory), 1.0);
    assert_eq!(
        moved(
            &before,
            &after,
            HTTP_COUNT,
            &[
                ("http_route", "/api/forecasts"),
                ("http_response_status_code", "403")
            ]
        ),
        1.0
    );
    for raw in [
        ingredient.to_string(),
        s.id.to_string(),
        "/ingredients".into(),
    ] {
        assert!(!after.text.contains(&raw), "{raw} in the exposition");
    }
}

#[tokio::test]
async fn refused_credentials_and_upstream_429s_are_counted_as_throttled() {
    let app = spawn_app_with(Options {
        failures_per_minute: 2,
        ..Options::default()
    })
    .await;
    let before = scrape(&app).await;
    let mut throttled = 0;
    for _ in 0..4 {
        let r = app
            .client
            .get(app.url("/api/products"))
            .bearer_auth("not-a-token")
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            throttled += 1;
        }
    }
    assert!(throttled > 0);
    let after = scrape(&app).await;
    assert_eq!(
        moved(
            &before,
            &after,
            THROTTLED,
            &[("kind", "refused_credentials")]
        ),
        f64::from(throttled)
    );
    let routes = |s: &Scrape| s.sum(HTTP_COUNT, &[("http_route", "/api/products")]);
    assert_eq!(routes(&after) - routes(&before), 4.0);
}
