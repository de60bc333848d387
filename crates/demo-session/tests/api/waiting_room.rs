//! The waiting room: at the global cap a create takes a place in line (`202`), polls
//! report the place, and the poll that finds its turn answers the session. First come,
//! first served; one place per client; places not polled for 30 s are given up; the line
//! is bounded; replicas share one line.
#![allow(
    clippy::expect_used,
    reason = "a test fails loudly on what it cannot set up"
)]

use std::collections::HashSet;

use crate::common::*;
use bakery_demo_session::sessions;
use diesel_async::SimpleAsyncConnection;
use serde_json::Value;

const IB: &str = "individual_bakery";
const CB: &str = "central_baker_satellite";

async fn json(r: reqwest::Response) -> Value {
    r.json().await.expect("json body")
}

/// Creates as `ip` and expects a place in line: answers the `202` body.
async fn queued(app: &TestApp, account: &str, ip: &str) -> Value {
    let r = app.create_as(account, ip).await;
    assert_eq!(
        r.status().as_u16(),
        202,
        "expected a place in line for {ip}"
    );
    json(r).await
}

async fn active(app: &TestApp) -> i64 {
    let mut conn = app.sessions_conn().await;
    sessions::count_active(&mut conn).await.expect("count")
}

fn token(place: &Value) -> &str {
    place["queue_token"].as_str().expect("a queue token")
}

#[tokio::test]
async fn at_the_cap_a_create_waits_in_line_and_its_poll_answers_the_session_when_its_turn_comes() {
    let app = spawn_app_with(|s| s.max_active_sessions = 1).await;
    let first = app.create_as(IB, "203.0.113.1").await;
    assert_eq!(first.status().as_u16(), 201);
    let first = json(first).await;

    let b = queued(&app, IB, "203.0.113.2").await;
    assert_eq!(b["status"], "queued");
    assert_eq!(b["queue_position"], 1);
    assert!(token(&b).starts_with("q_") && token(&b).len() == 34, "{b}");
    // the first session ends in 30 minutes: that is when b's turn comes at the latest
    let wait = b["estimated_wait_seconds"].as_i64().expect("a wait");
    assert!((1_700..=1_800).contains(&wait), "estimated wait {wait}");
    assert_eq!(b["poll_after_seconds"], 2);
    assert!(b.get("session_token").is_none());

    let c = queued(&app, CB, "203.0.113.3").await;
    assert_eq!(c["queue_position"], 2);
    // one place per client: asking again answers the same place
    let b_again = queued(&app, IB, "203.0.113.2").await;
    assert_eq!(b_again["queue_token"], b["queue_token"]);
    assert_eq!(b_again["queue_position"], 1);

    // polling while the cap is full: still waiting, nothing created
    let poll = app.poll_queue(token(&b)).await;
    assert_eq!(poll.status().as_u16(), 200);
    assert_eq!(json(poll).await["queue_position"], 1);
    assert_eq!(active(&app).await, 1);

    // the first prospect leaves: b's turn (c stays behind it)
    let id = first["session_id"].as_str().expect("id");
    assert_eq!(app.end_session(id).await.status().as_u16(), 200);
    let c_poll = json(app.poll_queue(token(&c)).await).await;
    assert_eq!(c_poll["status"], "queued");
    assert_eq!(c_poll["queue_position"], 2);
    let b_session = app.poll_queue(token(&b)).await;
    assert_eq!(b_session.status().as_u16(), 200);
    let b_session = json(b_session).await;
    assert_eq!(b_session["status"], "ready", "{b_session}");
    assert_eq!(b_session["demo_account_type"], IB);
    assert!(
        b_session["session_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    let b_id = b_session["session_id"].as_str().expect("session id");
    assert_eq!(app.get_session(b_id).await.status().as_u16(), 200);
    assert_eq!(active(&app).await, 1);

    // a poll whose answer was lost: the next one answers the same session
    let again = json(app.poll_queue(token(&b)).await).await;
    assert_eq!(again["session_id"], b_session["session_id"]);
    assert!(again["session_token"].is_string());

    // c is next now, and still waits for a free place; the line moved one place in the
    // last minute, so its estimate is a minute, not b's 30-minute session
    let c_poll = json(app.poll_queue(token(&c)).await).await;
    assert_eq!(c_poll["queue_position"], 1);
    assert_eq!(c_poll["estimated_wait_seconds"], 60, "{c_poll}");
    assert_eq!(active(&app).await, 1);
}

#[tokio::test]
async fn a_new_arrival_never_jumps_the_line() {
    let app = spawn_app_with(|s| s.max_active_sessions = 1).await;
    let first = json(app.create_as(IB, "203.0.113.1").await).await;
    let waiting = queued(&app, IB, "203.0.113.2").await;
    let id = first["session_id"].as_str().expect("id");
    app.end_session(id).await;
    // a place is free, but someone was waiting for it first
    let newcomer = queued(&app, IB, "203.0.113.9").await;
    assert_eq!(newcomer["queue_position"], 2);
    let turn = json(app.poll_queue(token(&waiting)).await).await;
    assert_eq!(turn["status"], "ready");
    let newcomer = json(app.poll_queue(token(&newcomer)).await).await;
    assert_eq!(newcomer["status"], "queued");
    assert_eq!(newcomer["queue_position"], 1);
}

#[tokio::test]
async fn a_place_not_polled_for_30_seconds_is_given_up_and_counts_for_no_one() {
    let app = spawn_app_with(|s| s.max_active_sessions = 1).await;
    app.create_as(IB, "203.0.113.1").await;
    let gone = queued(&app, IB, "203.0.113.2").await;
    let behind = queued(&app, IB, "203.0.113.3").await;
    assert_eq!(behind["queue_position"], 2);
    app.sessions_conn()
        .await
        .batch_execute(&format!(
            "UPDATE demo_queue SET last_polled_at = now() - interval '31 seconds' WHERE token = '{}'",
            token(&gone)
        ))
        .await
        .expect("age the place");

    let behind = json(app.poll_queue(token(&behind)).await).await;
    assert_eq!(behind["queue_position"], 1);
    let r = app.poll_queue(token(&gone)).await;
    assert_eq!(r.status().as_u16(), 404);
    let body = json(r).await;
    assert_eq!(body["error"], "queue_place_not_found", "{body}");
    assert!(body["message"].as_str().is_some_and(|m| m.contains("cola")));

    // the next cleanup pass deletes it
    let cleanup = app
        .client
        .post(app.url("/api/demo/cleanup/run"))
        .header("X-Admin-Key", ADMIN_KEY)
        .send()
        .await
        .expect("cleanup");
    assert_eq!(cleanup.status().as_u16(), 200);
    let mut conn = app.sessions_conn().await;
    let tokens = queue_tokens(&mut conn).await;
    assert!(!tokens.contains(token(&gone)));
    assert!(tokens.contains(token(&behind)));
}

async fn queue_tokens(conn: &mut bakery_config::db::AsyncPgConnection) -> HashSet<String> {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        token: String,
    }
    diesel::sql_query("SELECT token FROM demo_queue")
        .load::<Row>(conn)
        .await
        .expect("tokens")
        .into_iter()
        .map(|r| r.token)
        .collect()
}

#[tokio::test]
async fn beyond_the_lines_bound_a_create_is_refused_with_retry_after() {
    let app = spawn_app_with(|s| {
        s.max_active_sessions = 1;
        s.queue_max = 2;
    })
    .await;
    app.create_as(IB, "203.0.113.1").await;
    queued(&app, IB, "203.0.113.2").await;
    queued(&app, CB, "203.0.113.3").await;
    let r = app.create_as(IB, "203.0.113.4").await;
    assert_eq!(r.status().as_u16(), 503);
    assert!(r.headers().contains_key("retry-after"));
    let body = json(r).await;
    assert_eq!(body["error"], "capacity_reached");
    // and one already in line keeps its place
    assert_eq!(queued(&app, CB, "203.0.113.3").await["queue_position"], 2);
    // operators see the line against its bound
    let stats: Value = json(
        app.client
            .get(app.url("/api/demo/stats"))
            .header("X-Admin-Key", ADMIN_KEY)
            .send()
            .await
            .expect("stats"),
    )
    .await;
    assert_eq!(stats["capacity"]["max_active_sessions"], 1, "{stats}");
    assert_eq!(stats["capacity"]["queue_max"], 2);
    assert_eq!(stats["capacity"]["queue_waiting"], 2);
}

#[tokio::test]
async fn without_a_waiting_room_the_cap_refuses_as_before() {
    let app = spawn_app_with(|s| {
        s.max_active_sessions = 1;
        s.queue_max = 0;
    })
    .await;
    app.create_as(IB, "203.0.113.1").await;
    let r = app.create_as(IB, "203.0.113.2").await;
    assert_eq!(r.status().as_u16(), 503);
    assert_eq!(json(r).await["error"], "capacity_reached");
}

#[tokio::test]
async fn a_token_that_is_not_a_place_is_not_found() {
    let app = spawn_app().await;
    for token in [
        "q_0123456789abcdefghijklmnopqrstuv",
        "nope",
        "q_%27%20OR%201=1",
    ] {
        let r = app.poll_queue(token).await;
        assert_eq!(r.status().as_u16(), 404, "{token}");
        assert_eq!(json(r).await["error"], "queue_place_not_found");
    }
}

/// Two replicas, one line: places are served in arrival order whichever replica a poll
/// reaches, and concurrent polls never push the active sessions past the cap.
#[tokio::test]
async fn replicas_share_one_line_served_in_arrival_order_under_the_cap() {
    let app = spawn_app_with(|s| s.max_active_sessions = 2).await;
    let other = app.replica().await;
    let a1 = json(app.create_at(&app.address, IB, "203.0.113.1").await).await;
    let a2 = json(app.create_at(&other.address, CB, "203.0.113.2").await).await;
    let mut places = Vec::new();
    for (i, address) in [&app.address, &other.address, &app.address, &other.address]
        .into_iter()
        .enumerate()
    {
        let r = app
            .create_at(address, IB, &format!("198.51.100.{}", i + 1))
            .await;
        assert_eq!(r.status().as_u16(), 202);
        let place = json(r).await;
        assert_eq!(place["queue_position"], i + 1);
        places.push(token(&place).to_owned());
    }
    for s in [&a1, &a2] {
        app.end_session(s["session_id"].as_str().expect("id")).await;
    }
    // every place polls both replicas at once, several times
    let mut admitted: Vec<Option<String>> = vec![None; places.len()];
    for _ in 0..3 {
        let polls = places.iter().flat_map(|t| {
            [
                app.poll_queue_at(&app.address, t),
                app.poll_queue_at(&other.address, t),
            ]
        });
        let answers = futures_util::future::join_all(polls).await;
        for (i, r) in answers.into_iter().enumerate() {
            assert_eq!(r.status().as_u16(), 200);
            let body = json(r).await;
            if body["status"] == "ready" {
                let id = body["session_id"].as_str().expect("id").to_owned();
                let seen = admitted[i / 2].get_or_insert(id.clone());
                assert_eq!(*seen, id, "one place, one session");
            }
        }
        assert!(active(&app).await <= 2, "the cap holds");
    }
    // the first two in line were served, the other two wait at the head of the line
    assert!(
        admitted[0].is_some() && admitted[1].is_some(),
        "{admitted:?}"
    );
    assert!(
        admitted[2].is_none() && admitted[3].is_none(),
        "{admitted:?}"
    );
    assert_eq!(active(&app).await, 2);
    let third = json(app.poll_queue_at(&other.address, &places[2]).await).await;
    assert_eq!(third["queue_position"], 1);
}
