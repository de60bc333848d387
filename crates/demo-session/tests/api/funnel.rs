//! The demo funnel in demo-session: milestones recorded once, page events with a closed
//! vocabulary, the checklist, the funnel in the stats, retention.
#![allow(
    clippy::expect_used,
    reason = "a test fails loudly on what it cannot set up"
)]

use crate::common::*;
use bakery_config::auth::{INTERNAL_AUDIENCE, Identity, ROLE_DEMO, TokenKeys};
use bakery_test_support::metrics::Scrape;
use diesel::sql_types::Text;
use diesel::{QueryableByName, sql_query};
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use serde_json::{Value, json};
use uuid::Uuid;

fn keys(app: &TestApp) -> TokenKeys {
    TokenKeys::new(&app.settings.internal_secret, INTERNAL_AUDIENCE)
}

/// The identity the gateway forwards for a demo session.
fn session_identity(app: &TestApp, id: &str) -> String {
    let identity = Identity::new(id, Uuid::new_v4(), ROLE_DEMO, 60).for_demo_session(id);
    keys(app).sign(&identity).expect("sign")
}

/// The identity of a service (the gateway delivering milestones).
fn service_identity(app: &TestApp) -> String {
    keys(app)
        .sign(&Identity::service("gateway", 60))
        .expect("sign")
}

async fn post_events(app: &TestApp, path_id: &str, bearer: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/demo/session/{path_id}/events")))
        .bearer_auth(bearer)
        .json(&body)
        .send()
        .await
        .expect("events")
}

async fn checklist(app: &TestApp, path_id: &str, bearer: &str) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/api/demo/session/{path_id}/checklist")))
        .bearer_auth(bearer)
        .send()
        .await
        .expect("checklist")
}

async fn internal(app: &TestApp, bearer: &str, events: Value) -> reqwest::Response {
    app.client
        .post(app.url("/internal/demo/milestones"))
        .bearer_auth(bearer)
        .json(&json!({ "events": events }))
        .send()
        .await
        .expect("internal")
}

async fn code(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let body: Value = r.json().await.expect("json error");
    (
        status,
        body.get("error")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
    )
}

#[derive(QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Row {
    #[diesel(sql_type = Text)]
    milestone: String,
    #[diesel(sql_type = Text)]
    detail: String,
}

async fn milestones(app: &TestApp, id: &str) -> Vec<(String, String)> {
    let mut conn = app.sessions_conn().await;
    let mut rows: Vec<Row> =
        sql_query("SELECT milestone, detail FROM demo_milestones WHERE session_id = $1")
            .bind::<Text, _>(id)
            .load(&mut conn)
            .await
            .expect("milestones");
    rows.sort();
    rows.into_iter().map(|r| (r.milestone, r.detail)).collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<_> = expected
        .iter()
        .map(|(m, d)| ((*m).to_owned(), (*d).to_owned()))
        .collect();
    v.sort();
    v
}

async fn stats(app: &TestApp, query: &str) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/api/demo/stats{query}")))
        .header("x-admin-key", ADMIN_KEY)
        .send()
        .await
        .expect("stats")
}

#[tokio::test]
async fn a_scripted_demo_records_each_milestone_once_ticks_the_checklist_and_fills_the_funnel() {
    let app = spawn_app().await;
    let before = Scrape::get(&app.client, &app.url("/metrics")).await;
    let body = app.create("individual_bakery").await;
    let id = body["session_id"].as_str().expect("id").to_owned();
    let me = session_identity(&app, &id);

    // the page: two screens, one of them twice; then the same call again
    let events = json!({"events": [
        {"milestone": "screen_viewed", "detail": "panel"},
        {"milestone": "screen_viewed", "detail": "venta"},
        {"milestone": "screen_viewed", "detail": "panel"},
    ]});
    let r = post_events(&app, &id, &me, events.clone()).await;
    assert_eq!(r.status().as_u16(), 202);
    assert_eq!(r.json::<Value>().await.expect("json")["recorded"], 2);
    let r = post_events(&app, &id, &me, events).await;
    assert_eq!(r.json::<Value>().await.expect("json")["recorded"], 0);

    // nothing ticked yet
    let r = checklist(&app, &id, &me).await;
    assert_eq!(r.status().as_u16(), 200);
    let list: Value = r.json().await.expect("json");
    assert_eq!(list["done"], 0);
    assert_eq!(list["total"], 4);
    assert_eq!(list["next_step"]["id"], "sale");

    // the gateway: a refused action, a sale (twice), a recipe's costing
    let service = service_identity(&app);
    let r = internal(
        &app,
        &service,
        json!([
            {"session_id": id, "milestone": "blocked_action", "detail": "not_allowed"},
            {"session_id": id, "milestone": "first_write", "detail": "sale"},
            {"session_id": id, "milestone": "first_write", "detail": "sale"},
            {"session_id": id, "milestone": "screen_viewed", "detail": "recipe_costing"},
            // outside the vocabulary, or of no session: skipped
            {"session_id": id, "milestone": "first_write", "detail": "refund"},
            {"session_id": "demo_nosuchsessionnosuchsession0000", "milestone": "created"},
        ]),
    )
    .await;
    assert_eq!(r.status().as_u16(), 202);
    assert_eq!(r.json::<Value>().await.expect("json")["recorded"], 3);

    let list: Value = checklist(&app, &id, &me).await.json().await.expect("json");
    assert_eq!(list["done"], 2, "{list}");
    let done: Vec<(&str, bool)> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["id"].as_str().expect("id"),
                i["done"].as_bool().expect("done"),
            )
        })
        .collect();
    assert_eq!(
        done,
        [
            ("sale", true),
            ("order", false),
            ("adjustment", false),
            ("recipe_costing", true)
        ]
    );
    assert_eq!(list["items"][0]["title"], "Registra una venta en el TPV");
    assert_eq!(list["next_step"]["id"], "order");

    assert_eq!(app.extend_session(&id).await.status().as_u16(), 200);
    assert_eq!(app.extend_session(&id).await.status().as_u16(), 200);
    assert!(app.end_session(&id).await.status().is_success());

    assert_eq!(
        milestones(&app, &id).await,
        pairs(&[
            ("created", ""),
            ("screen_viewed", "panel"),
            ("screen_viewed", "venta"),
            ("blocked_action", "not_allowed"),
            ("first_write", "sale"),
            ("screen_viewed", "recipe_costing"),
            ("extended", ""),
            ("ended_by_user", ""),
        ])
    );

    // the funnel of today's sessions
    let r = stats(&app, "").await;
    assert_eq!(r.status().as_u16(), 200);
    let stats: Value = r.json().await.expect("json");
    let funnel = &stats["funnel"];
    assert_eq!(funnel["time_zone"], "Europe/Madrid");
    let ib = &funnel["by_account_type"]["individual_bakery"];
    assert_eq!(
        ib["sessions"],
        json!({"created": 1, "screen_viewed": 1, "first_write": 1, "extended": 1,
               "signup_started": 0, "converted": 0})
    );
    assert_eq!(ib["conversion"]["first_write"], 1.0);
    assert_eq!(ib["conversion"]["signup_started"], 0.0);
    assert_eq!(ib["conversion"]["converted"], Value::Null);
    assert_eq!(
        funnel["by_account_type"]["central_baker_satellite"]["sessions"]["created"],
        0
    );
    assert_eq!(funnel["by_day"].as_array().map(Vec::len), Some(1));
    assert_eq!(funnel["by_day"][0]["account_type"], "individual_bakery");
    assert_eq!(funnel["by_day"][0]["sessions"]["first_write"], 1);
    assert_eq!(
        funnel["blocked_actions"],
        json!([{"account_type": "individual_bakery", "rule": "not_allowed", "sessions": 1}])
    );

    // the counter counts new milestones, not repeats
    let after = Scrape::get(&app.client, &app.url("/metrics")).await;
    let moved = |milestone: &str| {
        after.sum(
            "bakery_demo_funnel_milestones_total",
            &[
                ("milestone", milestone),
                ("account_type", "individual_bakery"),
            ],
        ) - before.sum(
            "bakery_demo_funnel_milestones_total",
            &[
                ("milestone", milestone),
                ("account_type", "individual_bakery"),
            ],
        )
    };
    assert_eq!(moved("created"), 1.0, "{}", after.text);
    assert_eq!(moved("screen_viewed"), 3.0);
    assert_eq!(moved("first_write"), 1.0);
    assert_eq!(moved("extended"), 1.0);
    assert_eq!(moved("ended_by_user"), 1.0);
}

#[tokio::test]
async fn the_page_reports_only_screens_and_sign_ups_from_a_closed_vocabulary() {
    let app = spawn_app().await;
    let body = app.create("central_baker_satellite").await;
    let id = body["session_id"].as_str().expect("id").to_owned();
    let me = session_identity(&app, &id);
    let one = |milestone: &str, detail: &str| json!({"events": [{"milestone": milestone, "detail": detail}]});
    for (milestone, detail, expected) in [
        ("first_write", "sale", "event_not_allowed"),
        ("converted", "", "event_not_allowed"),
        ("created", "", "event_not_allowed"),
        ("blocked_action", "not_allowed", "event_not_allowed"),
        // ticks the checklist: only the gateway, which served it, says so
        ("screen_viewed", "recipe_costing", "event_not_allowed"),
        ("screen_viewed", "dashboard", "invalid_event"),
        ("screen_viewed", "", "invalid_event"),
        ("clicked", "", "invalid_event"),
        ("signup_started", "now", "invalid_event"),
    ] {
        let r = post_events(&app, &id, &me, one(milestone, detail)).await;
        assert_eq!(
            code(r).await,
            (422, expected.to_owned()),
            "{milestone} {detail}"
        );
    }
    let many: Vec<Value> = (0..21)
        .map(|_| json!({"milestone": "screen_viewed", "detail": "panel"}))
        .collect();
    let r = post_events(&app, &id, &me, json!({ "events": many })).await;
    assert_eq!(code(r).await, (422, "too_many_events".to_owned()));
    let r = post_events(&app, &id, &me, json!({"events": []})).await;
    assert_eq!(code(r).await, (422, "too_many_events".to_owned()));
    // one bad event refuses the whole call
    let r = post_events(
        &app,
        &id,
        &me,
        json!({"events": [{"milestone": "screen_viewed", "detail": "panel"},
                          {"milestone": "first_write", "detail": "order"}]}),
    )
    .await;
    assert_eq!(r.status().as_u16(), 422);
    let r = post_events(&app, &id, &me, one("signup_started", "")).await;
    assert_eq!(r.status().as_u16(), 202);
    assert_eq!(
        milestones(&app, &id).await,
        pairs(&[("created", ""), ("signup_started", "")])
    );
}

#[tokio::test]
async fn page_events_are_rate_limited_per_session() {
    let app = spawn_app_with(|s| s.events_per_minute = 3).await;
    let body = app.create("individual_bakery").await;
    let id = body["session_id"].as_str().expect("id").to_owned();
    let me = session_identity(&app, &id);
    let event = json!({"events": [{"milestone": "screen_viewed", "detail": "panel"}]});
    for _ in 0..3 {
        let r = post_events(&app, &id, &me, event.clone()).await;
        assert_eq!(r.status().as_u16(), 202);
    }
    let r = post_events(&app, &id, &me, event.clone()).await;
    assert_eq!(r.status().as_u16(), 429);
    let retry: u64 = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=60).contains(&retry));
    assert_eq!(code(r).await.1, "rate_limited");
    // another session has its own minute
    let other = app.create("individual_bakery").await;
    let other = other["session_id"].as_str().expect("id").to_owned();
    let r = post_events(&app, &other, &session_identity(&app, &other), event).await;
    assert_eq!(r.status().as_u16(), 202);
}

#[tokio::test]
async fn only_the_session_itself_posts_its_events_and_reads_its_checklist() {
    let app = spawn_app().await;
    let a = app.create("individual_bakery").await["session_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let b = app.create("individual_bakery").await["session_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let event = json!({"events": [{"milestone": "screen_viewed", "detail": "panel"}]});
    let b_credential = session_identity(&app, &b);
    let r = post_events(&app, &a, &b_credential, event.clone()).await;
    assert_eq!(code(r).await, (403, "session_mismatch".to_owned()));
    let r = checklist(&app, &a, &b_credential).await;
    assert_eq!(code(r).await, (403, "session_mismatch".to_owned()));
    // a customer's identity, or a service's, is not a session's
    let customer = keys(&app)
        .sign(&Identity::new("user", Uuid::new_v4(), "owner", 60))
        .expect("sign");
    let r = checklist(&app, &a, &customer).await;
    assert_eq!(code(r).await, (403, "session_mismatch".to_owned()));
    // no credential, or one that does not verify
    let r = app
        .client
        .get(app.url(&format!("/api/demo/session/{a}/checklist")))
        .send()
        .await
        .expect("checklist");
    assert_eq!(code(r).await, (401, "missing_credentials".to_owned()));
    let r = checklist(&app, &a, "not-a-token").await;
    assert_eq!(code(r).await, (401, "invalid_credentials".to_owned()));
    // unknown, and ended
    let unknown = "demo_nosuchsessionnosuchsession0000";
    let r = checklist(&app, unknown, &session_identity(&app, unknown)).await;
    assert_eq!(code(r).await, (404, "session_not_found".to_owned()));
    assert!(app.end_session(&a).await.status().is_success());
    let r = post_events(&app, &a, &session_identity(&app, &a), event).await;
    assert_eq!(code(r).await, (401, "session_expired".to_owned()));
    assert_eq!(
        milestones(&app, &a).await,
        pairs(&[("created", ""), ("ended_by_user", "")])
    );
}

#[tokio::test]
async fn the_internal_endpoint_takes_only_a_service_identity() {
    let app = spawn_app().await;
    let id = app.create("individual_bakery").await["session_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let events = json!([{"session_id": id, "milestone": "first_write", "detail": "order"}]);
    let r = internal(&app, &session_identity(&app, &id), events.clone()).await;
    assert_eq!(code(r).await, (401, "service_required".to_owned()));
    let r = app
        .client
        .post(app.url("/internal/demo/milestones"))
        .json(&json!({ "events": events }))
        .send()
        .await
        .expect("internal");
    assert_eq!(code(r).await, (401, "missing_credentials".to_owned()));
    assert_eq!(milestones(&app, &id).await, pairs(&[("created", "")]));
}

#[tokio::test]
async fn expiry_is_a_milestone_and_old_milestones_are_deleted() {
    let app = spawn_app_with(|s| s.funnel_retention_days = 30).await;
    let old = app.create("individual_bakery").await["session_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let recent = app.create("individual_bakery").await["session_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let mut conn = app.sessions_conn().await;
    conn.batch_execute(&format!(
        "UPDATE demo_sessions SET expires_at = now() - interval '1 minute' WHERE id = '{recent}';
         UPDATE demo_milestones SET occurred_at = now() - interval '31 days' WHERE session_id = '{old}';"
    ))
    .await
    .expect("age");
    app.sessions.cleanup().await.expect("cleanup");
    assert_eq!(
        milestones(&app, &recent).await,
        pairs(&[("created", ""), ("expired", "")])
    );
    assert_eq!(milestones(&app, &old).await, Vec::new());
}

#[tokio::test]
async fn the_funnel_range_is_checked() {
    let app = spawn_app().await;
    for query in [
        "?from=2026-13-01",
        "?from=yesterday",
        "?from=2026-12-02&to=2026-12-01",
        "?from=2026-01-01&to=2026-12-01",
    ] {
        let r = stats(&app, query).await;
        assert_eq!(code(r).await, (400, "invalid_range".to_owned()), "{query}");
    }
    let r = stats(&app, "?from=2026-09-01&to=2026-12-01").await;
    assert_eq!(r.status().as_u16(), 200);
    let stats: Value = r.json().await.expect("json");
    assert_eq!(stats["funnel"]["from"], "2026-09-01");
    assert_eq!(stats["funnel"]["to"], "2026-12-01");
    assert_eq!(stats["funnel"]["by_day"], json!([]));
}
