//! `GET /api/sales` pages: keyset pages (`after` = the page's `next_cursor`) walk a long
//! history once each, in order, ties included; offsets are bounded; bad cursors are a
//! clear 400.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::*;

/// `n` sales of `tenant`, three to a minute (so `sold_at` ties), the newest a minute ago.
async fn sales(app: &TestApp, tenant: Uuid, n: u32) {
    app.sql(&format!(
        "INSERT INTO sales (tenant_id, id, sold_at, payment_method, total) \
         SELECT '{tenant}', gen_random_uuid(), \
                date_trunc('minute', now()) - make_interval(mins => 1 + i / 3), 'card', 1 \
         FROM generate_series(0, {n} - 1) AS i"
    ))
    .await;
}

/// Every page of `query`, following `next_cursor`: (the pages' items, the totals seen).
async fn walk(app: &TestApp, tenant: Uuid, query: &str) -> (Vec<Value>, Vec<i64>) {
    let (mut items, mut totals) = (Vec::new(), Vec::new());
    let mut after: Option<String> = None;
    for _ in 0..100 {
        let path = match &after {
            Some(cursor) => format!("/api/sales?{query}&after={cursor}"),
            None => format!("/api/sales?{query}"),
        };
        let page = app.get(&path, tenant).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        items.extend(page.items().iter().cloned());
        totals.push(page.total());
        match page.body["next_cursor"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => {
                assert!(page.body["next_cursor"].is_null(), "{}", page.body);
                return (items, totals);
            }
        }
    }
    panic!("more than 100 pages");
}

fn key(sale: &Value) -> (String, String) {
    let text = |k: &str| sale[k].as_str().expect("a string").to_owned();
    (text("sold_at"), text("id"))
}

#[tokio::test]
async fn keyset_pages_walk_the_whole_history_once_in_order() {
    let app = spawn_app().await;
    let (t, other) = (Uuid::new_v4(), Uuid::new_v4());
    sales(&app, t, 503).await;
    // another bakery's sales at the very same times: never on t's pages
    sales(&app, other, 60).await;

    let (items, totals) = walk(&app, t, "limit=200").await;
    assert_eq!(totals, vec![503, 503, 503]);
    assert_eq!(items.len(), 503);
    let ids: HashSet<String> = items.iter().map(|s| key(s).1).collect();
    assert_eq!(ids.len(), 503, "a sale shown twice");
    // newest first; a tie on sold_at is broken by id, the same way on every page
    let mut expected: Vec<(String, String)> = items.iter().map(key).collect();
    let shown = expected.clone();
    expected.sort_by(|a, b| b.cmp(a));
    assert_eq!(shown, expected);

    // small pages too: the cursor of a page that ends inside a tie
    let (small, totals) = walk(&app, t, "limit=7").await;
    assert_eq!(small.len(), 503);
    assert_eq!(totals.len(), 72);
    assert_eq!(small.iter().map(key).collect::<Vec<_>>(), shown);
}

#[tokio::test]
async fn a_cursor_keeps_the_date_filter() {
    let app = spawn_app().await;
    let t = Uuid::new_v4();
    app.seed(t).await;
    let range = format!(
        "from={}&to={}&limit=1",
        today() - chrono::Duration::days(13),
        today() - chrono::Duration::days(7)
    );
    let (items, totals) = walk(&app, t, &range).await;
    assert_eq!(items.len(), 3);
    assert_eq!(totals, vec![3, 3, 3]);
}

#[tokio::test]
async fn offsets_are_bounded_and_bad_cursors_refused_in_spanish() {
    let app = spawn_app().await;
    let t = Uuid::new_v4();
    sales(&app, t, 5).await;
    let first = app.get("/api/sales?limit=2", t).await;
    let cursor = first.body["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    assert_eq!(first.body["offset"], 0);

    let deep = app.get("/api/sales?offset=1000", t).await;
    assert_eq!((deep.status, deep.items().len()), (StatusCode::OK, 0));
    assert!(deep.body["next_cursor"].is_null());

    for (query, says) in [
        ("offset=1001", "offset no puede pasar de 1000"),
        ("after=ayer", "after no es válido"),
        ("after=1700000000000000.no-es-un-id", "after no es válido"),
        ("after=99999999999999999999.x", "after no es válido"),
        (
            &format!("after={cursor}&offset=2"),
            "no se pueden usar juntos",
        ),
    ] {
        let refused = app.get(&format!("/api/sales?{query}"), t).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(refused.error(), "invalid_query", "{query}");
        let message = refused.body["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{query}: {message}");
    }
    // a cursor is only a position: another bakery's cursor shows this bakery's sales
    let other = Uuid::new_v4();
    sales(&app, other, 5).await;
    let mine = app
        .get(&format!("/api/sales?after={cursor}&limit=50"), other)
        .await;
    assert_eq!(mine.status, StatusCode::OK);
    assert_eq!(mine.total(), 5);
}

#[tokio::test]
async fn the_total_is_counted_up_to_ten_thousand_and_says_so() {
    let app = spawn_app().await;
    let t = Uuid::new_v4();
    // three to a minute: 10,050 sales span the last 3,350 minutes (about 2.3 days)
    sales(&app, t, 10_050).await;
    let all = app.get("/api/sales?limit=5", t).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    assert_eq!(all.total(), 10_000, "counted no further");
    assert_eq!(all.body["total_capped"], true);
    assert_eq!(all.items().len(), 5);
    // the pages themselves go on past the count
    assert!(all.body["next_cursor"].is_string());
    let oldest_day = today() - chrono::Duration::days(2);
    let tail = app
        .get(&format!("/api/sales?to={oldest_day}&limit=5"), t)
        .await;
    assert!(tail.total() > 0 && tail.total() < 10_000, "{}", tail.body);
    assert_eq!(tail.body["total_capped"], false);

    // a narrower filter is counted exactly
    let day = today() - chrono::Duration::days(30);
    let few = app
        .get(&format!("/api/sales?from={day}&to={day}&limit=5"), t)
        .await;
    assert_eq!(
        (few.total(), few.body["total_capped"].clone()),
        (0, Value::Bool(false))
    );
    let some = app.get("/api/sales?limit=5", Uuid::new_v4()).await;
    assert_eq!(some.body["total_capped"], false);
}
