//! The warm pool: tenants cloned ahead of demand, handed out by a single claim.
#![allow(
    clippy::expect_used,
    reason = "a test fails loudly on what it cannot set up"
)]

use bakery_demo_session::settings::WarmPoolSizing;
use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::common::*;
use bakery_config::demo::AccountType;
use bakery_demo_session::pool;
use diesel_async::SimpleAsyncConnection;
use uuid::Uuid;

async fn wait_for_pool(app: &TestApp, per_type: usize) -> Vec<pool::WarmTenant> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut conn = app.sessions_conn().await;
        let slots = pool::all(&mut conn).await.expect("pool");
        let ready = slots.iter().filter(|s| s.ready).count();
        if ready == per_type * 2 && slots.len() == per_type * 2 {
            return slots;
        }
        assert!(
            Instant::now() < deadline,
            "pool never filled: {} ready of {}",
            ready,
            slots.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_session_is_handed_a_prewarmed_copy_and_the_pool_refills() {
    let app = spawn_app_with(|s| s.warm_pool = WarmPoolSizing::fixed(2)).await;
    let slots = wait_for_pool(&app, 2).await;
    let warm: HashSet<Uuid> = slots.iter().map(|s| s.virtual_tenant_id).collect();

    let body = app.create("individual_bakery").await;
    assert_eq!(body["status"], "ready");
    let tenant: Uuid = body["virtual_tenant_id"]
        .as_str()
        .expect("vt")
        .parse()
        .expect("uuid");
    assert!(warm.contains(&tenant), "the session got a pooled tenant");
    // a full copy of the template, now owned by the session
    let mut inv = app.inventory_conn().await;
    assert_eq!(
        inventory_counts(&mut inv, tenant).await,
        clone_counts(&mut inv, SAN_PABLO.parse().expect("uuid")).await
    );
    #[derive(diesel::QueryableByName)]
    struct T {
        #[diesel(sql_type = diesel::sql_types::Text)]
        demo_session_id: String,
    }
    let mut ten = app.tenant_conn().await;
    let t: T = diesel_async::AsyncConnection::transaction::<_, diesel::result::Error, _>(
        &mut ten,
        async |c| {
            bakery_config::db::scope_to_tenant(c, tenant).await?;
            diesel_async::RunQueryDsl::get_result(
                diesel::sql_query("SELECT demo_session_id FROM tenants WHERE id = $1")
                    .bind::<diesel::sql_types::Uuid, _>(tenant),
                c,
            )
            .await
        },
    )
    .await
    .expect("tenant row");
    assert_eq!(t.demo_session_id, body["session_id"].as_str().expect("id"));

    // the pool is topped up again, without the claimed tenant
    let after = wait_for_pool(&app, 2).await;
    assert!(after.iter().all(|s| s.virtual_tenant_id != tenant));

    // cleanup leaves pooled tenants alone: they are owned, not orphans
    let report = app.sessions.cleanup().await.expect("cleanup");
    assert!(report.orphans_removed.is_empty() && report.warm_removed.is_empty());
    assert_eq!(wait_for_pool(&app, 2).await.len(), 4);
}

#[tokio::test]
async fn yesterdays_clones_are_never_handed_out_and_cleanup_removes_them() {
    let app = spawn_app_with(|s| s.warm_pool = WarmPoolSizing::fixed(1)).await;
    let slots = wait_for_pool(&app, 1).await;
    let stale: HashSet<Uuid> = slots.iter().map(|s| s.virtual_tenant_id).collect();
    let mut conn = app.sessions_conn().await;
    conn.batch_execute("UPDATE warm_tenants SET cloned_for = demo_today() - 1")
        .await
        .expect("age the pool");

    let body = app.create("central_baker_satellite").await;
    let tenant: Uuid = body["virtual_tenant_id"]
        .as_str()
        .expect("vt")
        .parse()
        .expect("uuid");
    assert!(!stale.contains(&tenant), "a stale clone was handed out");

    let report = app.sessions.cleanup().await.expect("cleanup");
    let removed: HashSet<Uuid> = report.warm_removed.iter().copied().collect();
    assert_eq!(removed, stale);
    let mut inv = app.inventory_conn().await;
    for t in stale {
        assert!(
            inventory_counts(&mut inv, t)
                .await
                .values()
                .all(|n| *n == 0)
        );
    }
}

#[tokio::test]
async fn stats_show_the_warm_pool_and_the_last_cleanup_passes() {
    let app = spawn_app_with(|s| s.warm_pool = WarmPoolSizing::fixed(2)).await;
    wait_for_pool(&app, 2).await;
    let stats = |app: &TestApp| {
        let request = app
            .client
            .get(app.url("/api/demo/stats"))
            .header("X-Admin-Key", ADMIN_KEY);
        async move {
            let r = request.send().await.expect("stats");
            assert_eq!(r.status().as_u16(), 200);
            r.json::<serde_json::Value>().await.expect("json")
        }
    };
    let before = stats(&app).await;
    assert_eq!(before["warm_pool"]["target"], 2);
    assert_eq!(before["warm_pool"]["ready"]["individual_bakery"], 2);
    assert_eq!(before["warm_pool"]["ready"]["central_baker_satellite"], 2);
    assert_eq!(before["cleanup"]["recent_passes"], serde_json::json!([]));
    assert_eq!(before["cleanup"]["consecutive_failed_passes"], 0);

    // a claimed slot leaves the pool one short until the refiller tops it up
    app.create("individual_bakery").await;
    let ready = stats(&app).await["warm_pool"]["ready"]["individual_bakery"]
        .as_i64()
        .expect("a count");
    assert!((1..=2).contains(&ready), "{ready}");

    // the passes this process ran, newest first, at most 10
    for _ in 0..12 {
        app.sessions.cleanup().await.expect("cleanup");
    }
    let after = stats(&app).await;
    let passes = after["cleanup"]["recent_passes"]
        .as_array()
        .expect("passes");
    assert_eq!(passes.len(), bakery_demo_session::lifecycle::RECENT_PASSES);
    for p in passes {
        assert_eq!(p["outcome"], "ok");
        assert_eq!(p["failures"], 0);
        assert!(p["duration_ms"].as_u64().is_some());
        assert!(p["finished_at"].as_str().is_some());
    }
    assert!(
        passes[0]["finished_at"].as_str() >= passes[9]["finished_at"].as_str(),
        "newest first"
    );
    assert_eq!(after["cleanup"]["consecutive_failed_passes"], 0);
}

/// `n` arrivals of `account` spread over the last `within_secs` seconds, as session rows
/// that hold no place (already removed): what the pool's arrival rate reads.
async fn arrivals(app: &TestApp, account: &str, n: u32, within_secs: u32) {
    app.sessions_conn()
        .await
        .batch_execute(&format!(
            "INSERT INTO demo_sessions (id, virtual_tenant_id, base_tenant_id, demo_account_type, \
                                        status, clone_strategy, created_at, expires_at, destroyed_at) \
             SELECT 'demo_' || md5(random()::text || i::text), gen_random_uuid(), gen_random_uuid(), \
                    '{account}', 'destroyed', 'inline', now() - (i % {within_secs}) * interval '1 second', \
                    now(), now() \
             FROM generate_series(1, {n}) AS i"
        ))
        .await
        .expect("arrivals");
}

/// Today's ready slots per account type, waiting (bounded) until they are `expected`.
async fn wait_for_ready(
    app: &TestApp,
    expected: [(AccountType, usize); 2],
) -> Vec<pool::WarmTenant> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut conn = app.sessions_conn().await;
        let slots = pool::all(&mut conn).await.expect("pool");
        let count = |a: AccountType| {
            slots
                .iter()
                .filter(|s| s.ready && s.demo_account_type == a)
                .count()
        };
        if expected.iter().all(|(a, n)| count(*a) == *n) && slots.iter().all(|s| s.ready) {
            return slots;
        }
        assert!(
            Instant::now() < deadline,
            "pool never reached {expected:?}: {slots:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_pool_grows_with_the_arrival_rate_and_shrinks_when_demand_falls() {
    use AccountType::{CentralBakerSatellite as CB, IndividualBakery as IB};
    let app = spawn_app_with(|s| s.warm_pool = WarmPoolSizing { min: 1, max: 8 }).await;
    wait_for_pool(&app, 1).await;

    // a campaign for the individual bakery: 300 arrivals in the last 10 s
    arrivals(&app, "individual_bakery", 300, 10).await;
    // (a target is reused for a second before the rate is read again)
    tokio::time::sleep(Duration::from_millis(1100)).await;
    app.sessions.refill_pool().await.expect("refill");
    let targets = app.sessions.pool_targets().await.expect("targets");
    let (grown, rate) = app.sessions.pool_sizing().current(IB);
    assert_eq!(targets[&IB], grown);
    assert!(
        grown > 2,
        "about 20 arrivals/s must grow the pool past its idle size: {rate:?}"
    );
    assert!(rate.fast > 10.0 && rate.fast < 45.0, "{rate:?}");
    assert_eq!(targets[&CB], 1, "the other bakery saw no arrivals");
    let big = wait_for_ready(&app, [(IB, grown as usize), (CB, 1)]).await;

    // the campaign is over: an hour later nothing arrives
    app.sessions_conn()
        .await
        .batch_execute("UPDATE demo_sessions SET created_at = now() - interval '1 hour'")
        .await
        .expect("age the arrivals");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    app.sessions.refill_pool().await.expect("refill");
    assert_eq!(app.sessions.pool_sizing().current(IB).0, 1);
    let small = wait_for_ready(&app, [(IB, 1), (CB, 1)]).await;

    // the surplus tenants are gone from the tenant and inventory databases
    let kept: HashSet<Uuid> = small.iter().map(|s| s.virtual_tenant_id).collect();
    let removed: Vec<Uuid> = big
        .iter()
        .map(|s| s.virtual_tenant_id)
        .filter(|t| !kept.contains(t))
        .collect();
    assert_eq!(removed.len(), grown as usize - 1);
    let mut tenant = app.tenant_conn().await;
    let still_there = bakery_demo_session::cloner::virtual_tenants(&mut tenant)
        .await
        .expect("virtual tenants");
    for t in &removed {
        assert!(!still_there.contains(t), "tenant {t} was not removed");
        let mut inventory = app.inventory_conn().await;
        let rows: i64 = inventory_counts(&mut inventory, *t).await.values().sum();
        assert_eq!(rows, 0, "inventory rows of {t} left behind");
    }
}

#[tokio::test]
async fn replicas_refilling_at_once_never_overfill_the_pool() {
    let app = spawn_app_with(|s| s.warm_pool = WarmPoolSizing::fixed(3)).await;
    let other = app.replica().await;
    for _ in 0..3 {
        let (a, b) = tokio::join!(app.sessions.refill_pool(), other.sessions.refill_pool());
        a.expect("refill");
        b.expect("refill");
    }
    let slots = wait_for_pool(&app, 3).await;
    assert_eq!(slots.len(), 6);
}

/// A pool hit calls the tenant database's `adopt_demo_tenant`: during an upgrade,
/// demo-session is not ready until tenant-service's migration Job has run as well.
#[tokio::test]
async fn demo_session_is_not_ready_until_the_tenant_schema_it_calls_is_there() {
    use diesel::sql_types::Text;
    use diesel_async::RunQueryDsl;
    let app = spawn_app().await;
    let ready = async || {
        let response = app
            .client
            .get(app.url("/ready"))
            .send()
            .await
            .expect("GET /ready");
        let status = response.status();
        (
            status,
            response.json::<serde_json::Value>().await.expect("json"),
        )
    };
    let (status, body) = ready().await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    assert_eq!(body["checks"]["tenant_schema"], "ok");

    // as if tenant-service's newest migration had not run yet
    let mut ten = app.tenant_conn().await;
    #[derive(diesel::QueryableByName)]
    struct V {
        #[diesel(sql_type = Text)]
        version: String,
    }
    let newest: V = diesel::sql_query(
        "DELETE FROM __diesel_schema_migrations \
         WHERE version = (SELECT max(version) FROM __diesel_schema_migrations) RETURNING version",
    )
    .get_result(&mut ten)
    .await
    .expect("forget the newest tenant migration");
    // a fresh instance (a schema once current is not asked again)
    let fresh = app.replica().await;
    let response = reqwest::get(format!("{}/ready", fresh.address))
        .await
        .expect("GET /ready");
    assert_eq!(response.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["checks"]["schema"], "ok", "its own schema is there");
    let why = body["checks"]["tenant_schema"].as_str().expect("a reason");
    assert!(why.contains(&newest.version), "names the version: {why}");
    assert!(
        why.contains("tenant-service migrate"),
        "says what to run: {why}"
    );
}
