//! `GET /metrics` on demo-session's port: a scripted demo moves the numbers.
#![allow(
    clippy::expect_used,
    reason = "a test fails loudly on what it cannot set up"
)]

use crate::common::*;
use bakery_demo_session::settings::WarmPoolSizing;
use bakery_test_support::metrics::Scrape;
use diesel_async::SimpleAsyncConnection;
use uuid::Uuid;

const IB: (&str, &str) = ("account_type", "individual_bakery");

async fn scrape(app: &TestApp) -> Scrape {
    Scrape::get(&app.client, &app.url("/metrics")).await
}

fn moved(before: &Scrape, after: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    after.sum(name, labels) - before.sum(name, labels)
}

#[tokio::test]
async fn a_scripted_demo_moves_the_session_counters_the_clone_histogram_and_the_gauges() {
    let app = spawn_app().await;
    let before = scrape(&app).await;

    let body = app.create("individual_bakery").await;
    let id = body["session_id"].as_str().expect("id").to_owned();
    let created = scrape(&app).await;
    assert_eq!(
        moved(
            &before,
            &created,
            "bakery_demo_sessions_created_total",
            &[IB, ("source", "on_demand")]
        ),
        1.0,
        "{}",
        created.text
    );
    assert_eq!(
        moved(
            &before,
            &created,
            "bakery_demo_clone_duration_seconds_count",
            &[("strategy", "inline")]
        ),
        1.0
    );
    assert_eq!(
        created.value("bakery_demo_sessions", &[("status", "ready"), IB]),
        1.0
    );
    assert_eq!(created.value("bakery_demo_warm_pool_size", &[IB]), 0.0);

    assert_eq!(app.extend_session(&id).await.status().as_u16(), 200);
    assert!(app.end_session(&id).await.status().is_success());
    let ended = scrape(&app).await;
    for name in [
        "bakery_demo_sessions_extended_total",
        "bakery_demo_sessions_ended_total",
    ] {
        assert_eq!(moved(&before, &ended, name, &[IB]), 1.0, "{name}");
    }
    assert_eq!(
        moved(
            &before,
            &ended,
            "http_server_request_duration_seconds_count",
            &[
                ("http_route", "/api/demo/session/{id}/extend"),
                ("http_request_method", "POST"),
                ("http_response_status_code", "200"),
            ]
        ),
        1.0
    );
    // the data went with the end: no session holds data any more
    assert_eq!(ended.sum("bakery_demo_sessions", &[]), 0.0);
    assert!(!ended.text.contains(&id), "a session id in the exposition");
}

#[tokio::test]
async fn cleanup_passes_count_expiries_removals_orphans_and_overdue_sessions() {
    let app = spawn_app().await;
    let before = scrape(&app).await;
    let body = app.create("individual_bakery").await;
    let id = body["session_id"].as_str().expect("id").to_owned();
    let orphan = app.create("individual_bakery").await;
    let mut s = app.sessions_conn().await;
    // the first ended three hours ago and its data is still there: overdue
    s.batch_execute(&format!(
        "UPDATE demo_sessions SET expires_at = now() - interval '3 hours' WHERE id = '{id}'"
    ))
    .await
    .expect("expire");
    // the second loses its row: its tenant is an orphan
    s.batch_execute(&format!(
        "DELETE FROM demo_sessions WHERE id = '{}'",
        orphan["session_id"].as_str().expect("id")
    ))
    .await
    .expect("lose the row");
    // a third got stuck cloning ten minutes ago
    s.batch_execute(&format!(
        "INSERT INTO demo_sessions (id, virtual_tenant_id, base_tenant_id, demo_account_type, status, \
            clone_strategy, created_at, expires_at) VALUES ('{}', '{}', '{SAN_PABLO}', \
            'individual_bakery', 'pending', 'inline', now() - interval '10 minutes', now() + interval '20 minutes')",
        bakery_test_support::session_id(),
        Uuid::new_v4()
    ))
    .await
    .expect("stuck session");
    let overdue = scrape(&app).await;
    assert_eq!(overdue.value("bakery_demo_sessions_overdue", &[]), 1.0);

    let report = app.sessions.cleanup().await.expect("cleanup");
    assert_eq!(report.orphans_removed.len(), 1);
    let after = scrape(&app).await;
    assert_eq!(
        moved(&before, &after, "bakery_demo_sessions_expired_total", &[IB]),
        1.0
    );
    assert_eq!(
        moved(
            &before,
            &after,
            "bakery_demo_cleanup_passes_total",
            &[("outcome", "ok")]
        ),
        1.0
    );
    assert_eq!(
        moved(
            &before,
            &after,
            "bakery_demo_cleanup_duration_seconds_count",
            &[]
        ),
        1.0
    );
    for (kind, n) in [("session", 2.0), ("orphan", 1.0)] {
        assert_eq!(
            moved(
                &before,
                &after,
                "bakery_demo_cleanup_removed_total",
                &[("kind", kind)]
            ),
            n,
            "{kind}"
        );
    }
    assert_eq!(
        moved(&before, &after, "bakery_demo_sessions_failed_total", &[IB]),
        1.0,
        "the stuck create"
    );
    assert_eq!(after.value("bakery_demo_orphan_tenants", &[]), 1.0);
    assert_eq!(after.value("bakery_demo_sessions_overdue", &[]), 0.0);
    assert_eq!(
        after.value("bakery_demo_cleanup_consecutive_failed_passes", &[]),
        0.0
    );
    for tenant in [&body["virtual_tenant_id"], &orphan["virtual_tenant_id"]] {
        let tenant: Uuid = serde_json::from_value(tenant.clone()).expect("uuid");
        assert!(
            !after.text.contains(&tenant.to_string()),
            "a tenant id exposed"
        );
    }
}

#[tokio::test]
async fn capacity_and_rate_limit_refusals_are_counted() {
    let app = spawn_app_with(|s| {
        s.max_active_sessions = 1;
        // no waiting room: the cap refuses
        s.queue_max = 0;
        s.rate_limit_per_hour = 2;
    })
    .await;
    let before = scrape(&app).await;
    app.create("individual_bakery").await;
    // the cap: one active session
    let r = app.create_as("individual_bakery", "203.0.113.10").await;
    assert_eq!(r.status().as_u16(), 503);
    // the same client's third create in the hour
    let r = app.create_as("individual_bakery", "203.0.113.10").await;
    assert_eq!(r.status().as_u16(), 429);
    let after = scrape(&app).await;
    for reason in ["capacity", "rate_limit"] {
        assert_eq!(
            moved(
                &before,
                &after,
                "bakery_demo_refusals_total",
                &[("reason", reason)]
            ),
            1.0,
            "{reason}"
        );
    }
}

#[tokio::test]
async fn counters_alerts_rely_on_are_exported_at_zero_from_the_start() {
    // `increase()` needs a sample before the first event: a series born at 1 is invisible
    // to BakeryDemoCapacityRefusals (k8s/components/monitoring)
    let app = spawn_app().await;
    let fresh = scrape(&app).await;
    for reason in ["capacity", "rate_limit"] {
        let series: Vec<f64> = fresh
            .series("bakery_demo_refusals_total")
            .filter(|(l, _)| l.get("reason").is_some_and(|r| r == reason))
            .map(|(_, v)| v)
            .collect();
        assert_eq!(series, vec![0.0], "{reason}: {}", fresh.text);
    }
    for name in [
        "bakery_demo_sessions_expired_total",
        "bakery_demo_sessions_failed_total",
        "bakery_demo_warm_pool_misses_total",
    ] {
        assert_eq!(
            fresh.series(name).count(),
            2,
            "{name}: one per account type"
        );
    }
}

#[tokio::test]
async fn the_warm_pool_counts_hits_misses_and_its_size() {
    let app = spawn_app_with(|s| s.warm_pool = WarmPoolSizing::fixed(1)).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut full = scrape(&app).await;
    while full.sum("bakery_demo_warm_pool_size", &[]) < 2.0 {
        assert!(std::time::Instant::now() < deadline, "pool never filled");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        full = scrape(&app).await;
    }
    app.create("individual_bakery").await;
    let after = scrape(&app).await;
    assert_eq!(
        moved(&full, &after, "bakery_demo_warm_pool_hits_total", &[IB]),
        1.0
    );
    assert_eq!(
        moved(
            &full,
            &after,
            "bakery_demo_sessions_created_total",
            &[IB, ("source", "warm_pool")]
        ),
        1.0
    );
    assert!(after.sum("bakery_demo_clone_duration_seconds_count", &[]) >= 2.0);
}

#[tokio::test]
async fn the_waiting_room_counts_places_admissions_waits_and_the_line() {
    let app = spawn_app_with(|s| s.max_active_sessions = 1).await;
    let before = scrape(&app).await;
    assert_eq!(before.value("bakery_demo_queue_waiting", &[]), 0.0);
    let first = app.create("individual_bakery").await;
    let r = app.create_as("individual_bakery", "203.0.113.50").await;
    assert_eq!(r.status().as_u16(), 202);
    let place: serde_json::Value = r.json().await.expect("json");
    let waiting = scrape(&app).await;
    assert_eq!(
        moved(&before, &waiting, "bakery_demo_queued_total", &[IB]),
        1.0
    );
    assert_eq!(waiting.value("bakery_demo_queue_waiting", &[]), 1.0);
    // a place is not a refusal
    assert_eq!(
        moved(&before, &waiting, "bakery_demo_refusals_total", &[]),
        0.0
    );

    app.end_session(first["session_id"].as_str().expect("id"))
        .await;
    let token = place["queue_token"].as_str().expect("token");
    let r = app
        .client
        .get(app.url(&format!("/api/demo/queue/{token}")))
        .send()
        .await
        .expect("poll");
    let session: serde_json::Value = r.json().await.expect("json");
    assert_eq!(session["status"], "ready");
    let after = scrape(&app).await;
    assert_eq!(
        moved(&before, &after, "bakery_demo_queue_admitted_total", &[IB]),
        1.0
    );
    assert_eq!(
        moved(&before, &after, "bakery_demo_queue_wait_seconds_count", &[]),
        1.0
    );
    assert_eq!(after.value("bakery_demo_queue_waiting", &[]), 0.0);
    assert_eq!(
        moved(&before, &after, "bakery_demo_sessions_created_total", &[IB]),
        2.0
    );
}
