//! No request's cost grows with what a prospect created, and nothing waits without end:
//! set-based stock consumption with bounded answers, demo quotas (writes per minute, rows
//! per table), bounded caches, statement and lock timeouts, a bounded wait for a pooled
//! connection.

use std::time::Duration;

use bakery_config::cache::Keys;
use bakery_config::db;
use bakery_config::settings::{DatabaseLimits, DatabaseSettings};
use bakery_inventory::cache::{CACHED_LIMITS, CACHED_PAGES, Cache, CachedList};
use bakery_inventory::pagination::{LIMITS, Page};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// One number from `sql` (an `n` column), across tenants.
async fn scalar(app: &TestApp, sql: &str) -> i64 {
    let mut conn = app.connect().await;
    conn.transaction::<_, diesel::result::Error, _>(async |c| {
        db::allow_all_tenants(c).await?;
        diesel::sql_query(sql).get_result::<N>(c).await.map(|r| r.n)
    })
    .await
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn assert_demo_quota(answer: &Answer) {
    assert_eq!(
        answer.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        answer.body
    );
    assert_eq!(answer.error(), "demo_quota", "{}", answer.body);
    let message = answer.body["message"].as_str().unwrap_or("");
    assert!(
        message.contains("demo"),
        "a Spanish message about the demo: {message}"
    );
    assert!(
        answer.retry_after.is_some_and(|s| s >= 1),
        "Retry-After: {:?}",
        answer.retry_after
    );
}

#[tokio::test]
async fn taking_stock_from_5000_lots_is_one_statement_and_answers_totals() {
    let app = spawn_app().await;
    let t = Uuid::new_v4();
    app.seed(t).await;
    let d = today();
    // 5,000 small lots of harina, all expiring before the seeded H-2 (d+5) and H-1 (d+10),
    // as 5,000 positive adjustments would leave them; and a counter of the statements that
    // update lots or insert movements (statement-level triggers: test only)
    app.sql(&format!(
        "INSERT INTO stock_lots (tenant_id, id, ingredient_id, lot_code, quantity, \
                                 initial_quantity, unit_cost, received_at, expires_at) \
         SELECT '{t}', gen_random_uuid(), '{HARINA}', 'BULK-' || g, 1, 1, 0.5, \
                now() - make_interval(secs => 10000 - g), DATE '{d}' + 1 \
         FROM generate_series(1, 5000) g; \
         CREATE TABLE test_statements (name text PRIMARY KEY, n bigint NOT NULL); \
         INSERT INTO test_statements VALUES ('lot_updates', 0), ('movement_inserts', 0); \
         CREATE FUNCTION test_count_statement() RETURNS trigger LANGUAGE plpgsql AS \
           $$ BEGIN UPDATE test_statements SET n = n + 1 WHERE name = TG_ARGV[0]; \
                    RETURN NULL; END $$; \
         CREATE TRIGGER count_lot_updates AFTER UPDATE ON stock_lots \
           FOR EACH STATEMENT EXECUTE FUNCTION test_count_statement('lot_updates'); \
         CREATE TRIGGER count_movement_inserts AFTER INSERT ON stock_movements \
           FOR EACH STATEMENT EXECUTE FUNCTION test_count_statement('movement_inserts');"
    ))
    .await;
    assert_eq!(app.ingredient_on_hand(t, HARINA).await, 5070.0);

    // every bulk lot and 10 of H-2
    let waste = app
        .post(
            "/api/inventory/adjustments",
            t,
            json!({"ingredient_id": HARINA, "quantity_delta": -5010, "reason": "waste"}),
        )
        .await;
    assert_eq!(waste.status, StatusCode::CREATED, "{}", waste.body);
    assert_eq!(waste.body["lots_touched"], 5001);
    assert_eq!(num(&waste.body["on_hand_before"]), 5070.0);
    assert_eq!(num(&waste.body["on_hand"]), 60.0);
    assert!(
        waste.bytes < 1024,
        "the answer describes the change in totals, not lot by lot: {} bytes",
        waste.bytes
    );

    // first-expiring first: the bulk lots are empty, H-2 gave 10, H-1 nothing
    let empty_bulk = scalar(
        &app,
        &format!(
            "SELECT count(*) AS n FROM stock_lots WHERE tenant_id = '{t}' \
             AND lot_code LIKE 'BULK-%' AND quantity = 0"
        ),
    )
    .await;
    assert_eq!(empty_bulk, 5000);
    assert_eq!(app.lot_quantity(t, LOT_H2).await, 30.0);
    assert_eq!(app.lot_quantity(t, LOT_H1).await, 30.0);
    assert_eq!(app.count(t, "stock_movements").await, 5001);

    // one UPDATE and one INSERT, not one of each per lot
    let statements = async |name: &str| {
        scalar(
            &app,
            &format!("SELECT n FROM test_statements WHERE name = '{name}'"),
        )
        .await
    };
    assert_eq!(statements("lot_updates").await, 1);
    assert_eq!(statements("movement_inserts").await, 1);

    // asking for more than is left changes nothing, and still costs one statement
    let over = app
        .post(
            "/api/inventory/adjustments",
            t,
            json!({"ingredient_id": HARINA, "quantity_delta": -60.001, "reason": "waste"}),
        )
        .await;
    assert_eq!(over.error(), "insufficient_stock", "{}", over.body);
    assert_eq!(app.ingredient_on_hand(t, HARINA).await, 60.0);
    assert_eq!(app.count(t, "stock_movements").await, 5001);
}

#[tokio::test]
async fn a_demo_sessions_31st_write_in_a_minute_gets_429_and_customers_are_not_limited() {
    let app = spawn_app().await;
    let (demo, customer) = (Uuid::new_v4(), Uuid::new_v4());
    app.seed(demo).await;
    app.seed(customer).await;
    let add = json!({"ingredient_id": HARINA, "quantity_delta": 1, "reason": "count_correction"});

    // DEMO_WRITES_PER_MINUTE = 30 (the default); a minute is far longer than this loop
    for i in 0..30 {
        let a = app
            .demo_post("/api/inventory/adjustments", demo, "demo_a", add.clone())
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "write {i}: {}", a.body);
    }
    let refused = app
        .demo_post("/api/inventory/adjustments", demo, "demo_a", add.clone())
        .await;
    assert_demo_quota(&refused);
    assert!(
        refused.retry_after.is_some_and(|s| s <= 60),
        "what is left of the minute: {:?}",
        refused.retry_after
    );
    // refused before it touched anything
    assert_eq!(app.ingredient_on_hand(demo, HARINA).await, 100.0);
    // reads are not writes
    assert_eq!(
        app.demo_request(
            reqwest::Method::GET,
            "/api/inventory/ingredients",
            demo,
            "demo_a",
            None
        )
        .await
        .status,
        StatusCode::OK
    );

    // a customer of the same service is not limited
    for i in 0..40 {
        let a = app
            .post("/api/inventory/adjustments", customer, add.clone())
            .await;
        assert_eq!(
            a.status,
            StatusCode::CREATED,
            "customer write {i}: {}",
            a.body
        );
    }
    assert_eq!(app.ingredient_on_hand(customer, HARINA).await, 110.0);
}

#[tokio::test]
async fn a_demo_session_past_its_row_quota_gets_429_and_nothing_is_written() {
    let app = spawn_app_configured(bakery_test_support::redis_settings(), |s| {
        s.demo_max_rows_per_table = 3;
        s.demo_writes_per_minute = 1000;
    })
    .await;
    let (demo, customer) = (Uuid::new_v4(), Uuid::new_v4());
    app.seed(demo).await;
    app.seed(customer).await;
    let add = json!({"ingredient_id": HARINA, "quantity_delta": 1, "reason": "count_correction"});

    // each positive adjustment creates a lot and a movement: three fit
    for i in 0..3 {
        let a = app
            .demo_post("/api/inventory/adjustments", demo, "demo_rows", add.clone())
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "write {i}: {}", a.body);
    }
    let lots = app.count(demo, "stock_lots").await;
    let movements = app.count(demo, "stock_movements").await;
    let refused = app
        .demo_post("/api/inventory/adjustments", demo, "demo_rows", add.clone())
        .await;
    assert_demo_quota(&refused);
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap_or("")
            .contains("lotes de existencias"),
        "{}",
        refused.body
    );
    assert_eq!(app.count(demo, "stock_lots").await, lots);
    assert_eq!(app.count(demo, "stock_movements").await, movements);
    assert_eq!(app.ingredient_on_hand(demo, HARINA).await, 73.0);

    // a sale whose lines pass the quota: no sale, no line, no stock moved
    let sale = app
        .demo_post(
            "/api/pos/sales",
            demo,
            "demo_rows",
            json!({"lines": [{"product_id": BARRA, "quantity": 1}, {"product_id": BARRA, "quantity": 1},
                             {"product_id": BARRA, "quantity": 1}, {"product_id": BARRA, "quantity": 1}],
                   "payment_method": "cash"}),
        )
        .await;
    assert_demo_quota(&sale);
    assert_eq!(app.count(demo, "sales").await, 4);
    assert_eq!(app.count(demo, "sale_lines").await, 5);
    assert_eq!(app.product_on_hand(demo, BARRA).await, 15.0);

    // a recipe edit: lines kept in place are not new rows; new lines past the quota are
    // refused and the recipe stays as it was
    let recipe = format!("/api/recipes/{RECIPE}");
    let same_lines = json!({"yield_quantity": 11, "lines": [
        {"ingredient_id": HARINA, "quantity": 5.5}, {"ingredient_id": LEVADURA, "quantity": 0.1},
        {"ingredient_id": SAL, "quantity": 0.1}]});
    for i in 0..5 {
        let edit = app
            .demo_request(
                Method::PUT,
                &recipe,
                demo,
                "demo_rows",
                Some(same_lines.clone()),
            )
            .await;
        assert_eq!(edit.status, StatusCode::OK, "edit {i}: {}", edit.body);
    }
    let more_lines = json!({"yield_quantity": 9, "lines": [
        {"ingredient_id": HARINA, "quantity": 5}, {"ingredient_id": MANTEQUILLA, "quantity": 1}]});
    let swap = json!({"yield_quantity": 9, "lines": [{"ingredient_id": HARINA, "quantity": 5}]});
    for i in 0..3 {
        // a new line each time (butter added, then removed again)
        let added = app
            .demo_request(
                Method::PUT,
                &recipe,
                demo,
                "demo_rows",
                Some(more_lines.clone()),
            )
            .await;
        assert_eq!(added.status, StatusCode::OK, "add {i}: {}", added.body);
        let removed = app
            .demo_request(Method::PUT, &recipe, demo, "demo_rows", Some(swap.clone()))
            .await;
        assert_eq!(
            removed.status,
            StatusCode::OK,
            "remove {i}: {}",
            removed.body
        );
    }
    let refused = app
        .demo_request(Method::PUT, &recipe, demo, "demo_rows", Some(more_lines))
        .await;
    assert_demo_quota(&refused);
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap_or("")
            .contains("líneas de receta"),
        "{}",
        refused.body
    );
    let now = app.get("/api/recipes", demo).await;
    assert_eq!(
        num(&now.items()[0]["yield_quantity"]),
        9.0,
        "the refused edit changed nothing"
    );
    assert_eq!(now.items()[0]["lines"].as_array().map(Vec::len), Some(1));

    // the same writes of a customer are not counted
    for i in 0..5 {
        let a = app
            .post("/api/inventory/adjustments", customer, add.clone())
            .await;
        assert_eq!(
            a.status,
            StatusCode::CREATED,
            "customer write {i}: {}",
            a.body
        );
    }
    assert_eq!(app.count(customer, "demo_row_usage").await, 0);
    // stock_lots, stock_movements, recipe_lines (the refused sale counted nothing)
    assert_eq!(app.count(demo, "demo_row_usage").await, 3);
}

/// Keys under `pattern`, each hash counted by its fields.
async fn redis_entries(app: &TestApp, pattern: &str) -> usize {
    let client = redis::Client::open(app.settings.common.redis.url.as_str()).expect("redis client");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis connection");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(pattern)
        .query_async(&mut conn)
        .await
        .expect("KEYS");
    let mut entries = 0;
    for key in keys {
        let kind: String = redis::cmd("TYPE")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .expect("TYPE");
        entries += if kind == "hash" {
            redis::cmd("HLEN")
                .arg(&key)
                .query_async::<usize>(&mut conn)
                .await
                .expect("HLEN")
        } else {
            1
        };
    }
    entries
}

#[tokio::test]
async fn many_distinct_pages_leave_redis_and_the_page_cache_bounded() {
    let app = spawn_app().await;
    let t = Uuid::new_v4();
    app.seed(t).await;
    // 300 distinct limit/offset pairs of each cached list
    for limit in 1..=30 {
        for offset in 0..10 {
            for list in ["/api/inventory/ingredients", "/api/products"] {
                let a = app
                    .get(&format!("{list}?limit={limit}&offset={offset}"), t)
                    .await;
                assert_eq!(a.status, StatusCode::OK, "{}", a.body);
            }
        }
    }
    // Redis holds no page (and no version before the first write)
    let prefix = format!("{}*", app.settings.common.redis.key_prefix);
    assert_eq!(redis_entries(&app, &prefix).await, 0);
    // the answers are still right, cached or not
    let page = app
        .get("/api/inventory/ingredients?limit=2&offset=1", t)
        .await;
    assert_eq!(page.items()[0]["name"], "Levadura fresca");

    // in memory: only canonical pages, and never more bytes than allowed
    let keys = Keys::new(app.settings.common.redis.key_prefix.clone());
    let pool = bakery_config::cache::build_pool(&app.settings.common.redis).expect("pool");
    let max_bytes = 64 * 1024;
    let cache = Cache::new(pool, keys, 60, max_bytes);
    let body = bytes::Bytes::from(vec![b'x'; 1000]);
    for limit in 1..=200 {
        for k in 0..50 {
            let page = Page {
                limit,
                offset: k * limit,
            };
            cache.put(t, CachedList::Ingredients, 0, page, body.clone());
        }
    }
    let canonical = u64::try_from(CACHED_PAGES).expect("positive")
        * u64::try_from(CACHED_LIMITS.len()).expect("small");
    assert!(
        cache.entry_count() <= canonical,
        "{} pages kept of 10,000 distinct ones",
        cache.entry_count()
    );
    for _ in 0..1000 {
        cache.put(
            Uuid::new_v4(),
            CachedList::Products,
            0,
            Page::first(LIMITS),
            body.clone(),
        );
    }
    assert!(
        cache.weighted_size() <= max_bytes,
        "{} bytes held, {max_bytes} allowed",
        cache.weighted_size()
    );
}

/// Locks harina's lots of `t` in a transaction of its own, until the connection commits.
async fn hold_harina_lots(app: &TestApp, t: Uuid) -> AsyncPgConnection {
    let mut blocker = app.connect().await;
    blocker
        .batch_execute(&format!(
            "BEGIN; SELECT set_config('app.all_tenants', 'on', true); \
             SELECT 1 FROM stock_lots WHERE tenant_id = '{t}' AND ingredient_id = '{HARINA}' \
             FOR UPDATE;"
        ))
        .await
        .expect("lock the lots");
    blocker
}

/// Waits (a bounded number of polls) until some statement waits for a lock.
async fn until_a_statement_waits_for_a_lock(app: &TestApp) {
    for _ in 0..1000 {
        let waiting = scalar(
            app,
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .await;
        if waiting > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no statement ever waited for the lock");
}

#[tokio::test]
async fn waiting_for_a_busy_pool_ends_in_503_with_retry_after() {
    let app = spawn_app_configured(bakery_test_support::redis_settings(), |s| {
        s.common.database.pool_size = 1;
        s.common.database.limits.pool_wait = Duration::from_millis(200);
        s.common.database.limits.statement_timeout = Duration::from_secs(60);
        s.common.database.limits.lock_timeout = Duration::from_secs(60);
    })
    .await;
    let t = Uuid::new_v4();
    app.seed(t).await;
    let mut blocker = hold_harina_lots(&app, t).await;

    // the pool's one connection waits for the lock inside this adjustment ...
    let holding = app.post(
        "/api/inventory/adjustments",
        t,
        json!({"ingredient_id": HARINA, "quantity_delta": -1, "reason": "waste"}),
    );
    // ... so the next request cannot get a connection, and is told to come back
    let probe = async {
        until_a_statement_waits_for_a_lock(&app).await;
        let asked = std::time::Instant::now();
        let busy = app.get("/api/sales", t).await;
        let waited = asked.elapsed();
        blocker.batch_execute("COMMIT").await.expect("release");
        (busy, waited)
    };
    let (held, (busy, waited)) = tokio::join!(holding, probe);
    // DATABASE_POOL_WAIT_MS is 200 here: a generous bound, far from the 200 ms, only
    // says the configured wait is the one that applies
    assert!(waited < Duration::from_secs(4), "waited {waited:?}");
    assert_eq!(
        busy.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        busy.body
    );
    assert_eq!(busy.error(), "unavailable");
    assert!(
        busy.retry_after.is_some_and(|s| s >= 1),
        "{:?}",
        busy.retry_after
    );
    // the request that held the connection finishes once the lock is released
    assert_eq!(held.status, StatusCode::CREATED, "{}", held.body);
    assert_eq!(app.get("/api/sales", t).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_statement_cancelled_by_statement_timeout_answers_503_and_changes_nothing() {
    let app = spawn_app_configured(bakery_test_support::redis_settings(), |s| {
        s.common.database.limits.statement_timeout = Duration::from_millis(300);
        s.common.database.limits.lock_timeout = Duration::from_secs(60);
    })
    .await;
    let t = Uuid::new_v4();
    app.seed(t).await;
    let mut blocker = hold_harina_lots(&app, t).await;
    let waste = json!({"ingredient_id": HARINA, "quantity_delta": -1, "reason": "waste"});
    let cancelled = app
        .post("/api/inventory/adjustments", t, waste.clone())
        .await;
    blocker.batch_execute("ROLLBACK").await.expect("release");
    assert_eq!(
        cancelled.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        cancelled.body
    );
    assert_eq!(cancelled.error(), "unavailable");
    assert!(cancelled.retry_after.is_some());
    assert_eq!(app.ingredient_on_hand(t, HARINA).await, 70.0);
    // the connection is fine afterwards
    let again = app.post("/api/inventory/adjustments", t, waste).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
}

#[tokio::test]
async fn a_statement_cancelled_by_lock_timeout_answers_503() {
    let app = spawn_app_configured(bakery_test_support::redis_settings(), |s| {
        s.common.database.limits.statement_timeout = Duration::from_secs(60);
        s.common.database.limits.lock_timeout = Duration::from_millis(200);
    })
    .await;
    let t = Uuid::new_v4();
    app.seed(t).await;
    let mut blocker = hold_harina_lots(&app, t).await;
    // a sale of barra does not wait for harina's lots
    let sale = app
        .post(
            "/api/pos/sales",
            t,
            json!({"lines": [{"product_id": BARRA, "quantity": 1}], "payment_method": "cash"}),
        )
        .await;
    assert_eq!(sale.status, StatusCode::CREATED, "{}", sale.body);
    let cancelled = app
        .post(
            "/api/inventory/adjustments",
            t,
            json!({"ingredient_id": HARINA, "quantity_delta": -1, "reason": "waste"}),
        )
        .await;
    blocker.batch_execute("ROLLBACK").await.expect("release");
    assert_eq!(
        cancelled.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        cancelled.body
    );
    assert!(cancelled.retry_after.is_some());
    assert_eq!(app.ingredient_on_hand(t, HARINA).await, 70.0);
}

/// What a restart of PostgreSQL (`pg_ctl restart -m fast`) does to a request in flight:
/// the server ends its session mid-statement (SQLSTATE 57P01 there; the same answer for a
/// connection closed under it). Refused for a while, `503` with `Retry-After`, never a
/// `500`; the pool replaces the connection, so the next request works (scripts/faults.sh,
/// `pg-restart`).
#[tokio::test]
async fn a_statement_whose_session_postgresql_ends_answers_503_and_the_pool_recovers() {
    let app = spawn_app_configured(bakery_test_support::redis_settings(), |s| {
        s.common.database.pool_size = 1;
        s.common.database.limits.statement_timeout = Duration::from_secs(60);
        s.common.database.limits.lock_timeout = Duration::from_secs(60);
    })
    .await;
    let t = Uuid::new_v4();
    app.seed(t).await;
    let mut blocker = hold_harina_lots(&app, t).await;
    let waste = json!({"ingredient_id": HARINA, "quantity_delta": -1, "reason": "waste"});
    let waiting = app.post("/api/inventory/adjustments", t, waste.clone());
    let terminate = async {
        until_a_statement_waits_for_a_lock(&app).await;
        let ended = scalar(
            &app,
            "SELECT count(*) AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock') ended",
        )
        .await;
        blocker.batch_execute("ROLLBACK").await.expect("release");
        ended
    };
    let (ended_mid_statement, ended) = tokio::join!(waiting, terminate);
    assert_eq!(ended, 1);
    assert_eq!(
        ended_mid_statement.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        ended_mid_statement.body
    );
    assert_eq!(ended_mid_statement.error(), "unavailable");
    assert!(ended_mid_statement.retry_after.is_some_and(|s| s >= 1));
    assert_eq!(app.ingredient_on_hand(t, HARINA).await, 70.0);
    // the pool's only connection was the one ended: the next request gets a new one
    let again = app.post("/api/inventory/adjustments", t, waste).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
}

#[derive(QueryableByName)]
struct Limits {
    #[diesel(sql_type = Text)]
    statement_timeout: String,
    #[diesel(sql_type = Text)]
    lock_timeout: String,
    #[diesel(sql_type = Text)]
    idle_in_transaction_session_timeout: String,
}

#[tokio::test]
async fn pooled_connections_run_with_the_configured_limits() {
    let app = spawn_app().await;
    let show = async |limits: DatabaseLimits| {
        let pool = db::build_pool(&DatabaseSettings {
            url: app.database.url.clone(),
            pool_size: 1,
            limits,
        })
        .expect("pool");
        let mut conn = pool.get().await.expect("connection");
        let row: Limits = diesel::sql_query(
            "SELECT current_setting('statement_timeout') AS statement_timeout, \
                    current_setting('lock_timeout') AS lock_timeout, \
                    current_setting('idle_in_transaction_session_timeout') \
                      AS idle_in_transaction_session_timeout",
        )
        .get_result(&mut *conn)
        .await
        .expect("show");
        (
            row.statement_timeout,
            row.lock_timeout,
            row.idle_in_transaction_session_timeout,
        )
    };
    assert_eq!(
        show(DatabaseLimits::default()).await,
        ("5s".to_owned(), "2s".to_owned(), "10s".to_owned())
    );
    assert_eq!(
        show(DatabaseLimits {
            statement_timeout: Duration::from_millis(1234),
            lock_timeout: Duration::from_millis(567),
            idle_in_transaction_timeout: Duration::from_millis(8901),
            pool_wait: Duration::from_millis(100),
        })
        .await,
        ("1234ms".to_owned(), "567ms".to_owned(), "8901ms".to_owned())
    );
}
