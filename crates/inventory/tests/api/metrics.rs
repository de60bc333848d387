//! `GET /metrics` on the service port: the numbers move, under route templates only.

use bakery_test_support::metrics::Scrape;
use uuid::Uuid;

use crate::helpers::*;

const HTTP_COUNT: &str = "http_server_request_duration_seconds_count";
const CACHE: &str = "bakery_cache_requests_total";

#[tokio::test]
async fn requests_are_recorded_under_their_route_template_and_no_id_is_exposed() {
    let app = spawn_app().await;
    let tenant = Uuid::new_v4();
    app.seed(tenant).await;
    let url = format!("{}/metrics", app.address);
    let before = Scrape::get(&app.client, &url).await;

    let one = app
        .get(&format!("/api/inventory/ingredients/{HARINA}"), tenant)
        .await;
    assert_eq!(one.status, 200, "{}", one.body);
    let missing = app
        .get(
            &format!("/api/inventory/ingredients/{}", Uuid::new_v4()),
            tenant,
        )
        .await;
    assert_eq!(missing.status, 404);
    app.get("/api/inventory/ingredients", tenant).await;
    app.get("/api/inventory/ingredients", tenant).await;
    app.get("/no/such/route/12345", tenant).await;

    let after = Scrape::get(&app.client, &url).await;
    let moved =
        |labels: &[(&str, &str)]| after.sum(HTTP_COUNT, labels) - before.sum(HTTP_COUNT, labels);
    let by_id = [
        ("http_request_method", "GET"),
        ("http_route", "/api/inventory/ingredients/{id}"),
    ];
    assert_eq!(
        moved(&[by_id[0], by_id[1], ("http_response_status_code", "200")]),
        1.0
    );
    assert_eq!(
        moved(&[by_id[0], by_id[1], ("http_response_status_code", "404")]),
        1.0
    );
    assert_eq!(
        moved(&[
            ("http_route", "unmatched"),
            ("http_response_status_code", "404")
        ]),
        1.0
    );
    // the first list read loads and caches the page, the second is served from memory
    let cache = |s: &Scrape, result| {
        s.value(
            CACHE,
            &[("cache", "inventory_ingredients"), ("result", result)],
        )
    };
    assert_eq!(cache(&after, "miss") - cache(&before, "miss"), 1.0);
    assert_eq!(cache(&after, "hit") - cache(&before, "hit"), 1.0);

    let text = after.text.to_lowercase();
    for raw in [HARINA.to_string(), tenant.to_string(), "12345".to_owned()] {
        assert!(
            !text.contains(&raw),
            "{raw} in the exposition:\n{}",
            after.text
        );
    }
    assert!(!text.contains("/no/such/route"));
}

#[tokio::test]
async fn metrics_are_text_and_read_only() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .expect("scrape");
    assert_eq!(response.status(), 200);
    assert!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/openmetrics-text"))
    );
    let post = app
        .client
        .post(format!("{}/metrics", app.address))
        .send()
        .await
        .expect("post");
    assert_eq!(post.status(), 405);
}
