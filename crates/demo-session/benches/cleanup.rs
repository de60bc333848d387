//! Benchmark: cleanup at campaign scale. Creates `SESSIONS` demo sessions through the real
//! HTTP API (both templates, alternating), gives every virtual tenant a few cache keys in
//! Redis as the services would, leaves `LIVE` other sessions running, ends them all at once
//! and times one `POST /api/demo/cleanup/run` (the admin call; the sweeper and the CronJob
//! run the same routine). Then checks nothing of the ended sessions is left: rows in the
//! tenant and inventory databases, Redis keys. Needs the local PostgreSQL and Redis
//! (`scripts/dev.sh` or `scripts/test.sh` start them); run with:
//!
//!     cargo bench -p bakery-demo-session --bench cleanup
//!
//! Results are printed as Markdown (docs/performance.md keeps the latest).
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a benchmark fails loudly on what it cannot set up, and reads JSON answers by key"
)]
#![allow(clippy::print_stdout, reason = "a benchmark prints its results")]

#[path = "../tests/api/common.rs"]
mod common;

use std::time::Instant;

use bakery_config::db;
use diesel::sql_query;
use diesel::sql_types::{Array, Text, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, RunQueryDsl, SimpleAsyncConnection};
use uuid::Uuid;

const SESSIONS: usize = 1000;
const LIVE: usize = 50;
const ROUNDS: usize = 3;
/// `BENCH_ROUNDS` overrides [`ROUNDS`] (quicker runs while tuning).
fn round_count() -> usize {
    std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(ROUNDS)
}
const CREATORS: usize = 4;
/// Cache keys per tenant (what inventory-service keeps: pages, counters).
const KEYS_PER_TENANT: usize = 3;

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Creates `n` sessions on `CREATORS` connections; answers their virtual tenants.
async fn create_many(app: &common::TestApp, n: usize) -> Vec<Uuid> {
    let mut workers = Vec::new();
    for w in 0..CREATORS {
        let url = app.url("/api/demo/session/create");
        let client = reqwest::Client::new();
        workers.push(tokio::spawn(async move {
            let mut tenants: Vec<Uuid> = Vec::new();
            for i in (w..n).step_by(CREATORS) {
                let account = if i % 2 == 0 {
                    "individual_bakery"
                } else {
                    "central_baker_satellite"
                };
                let r = client
                    .post(&url)
                    .header(
                        bakery_config::client::CLIENT_HEADER,
                        bakery_test_support::client_assertion(&format!("198.51.100.{}", i % 250)),
                    )
                    .json(&serde_json::json!({ "demo_account_type": account }))
                    .send()
                    .await
                    .expect("create");
                assert_eq!(r.status().as_u16(), 201);
                let body: serde_json::Value = r.json().await.expect("json");
                tenants.push(body["virtual_tenant_id"].as_str().unwrap().parse().unwrap());
            }
            tenants
        }));
    }
    let mut tenants = Vec::with_capacity(n);
    for w in workers {
        tenants.extend(w.await.expect("creator"));
    }
    tenants
}

async fn add_cache_keys(app: &common::TestApp, tenants: &[Uuid]) {
    let mut redis = app.redis().await;
    let mut pipe = redis::pipe();
    for t in tenants {
        for k in 0..KEYS_PER_TENANT {
            pipe.cmd("SET")
                .arg(format!(
                    "{}tenant:{t}:page:{k}",
                    app.settings.redis.key_prefix
                ))
                .arg("[]")
                .ignore();
        }
    }
    pipe.query_async::<()>(&mut redis).await.expect("keys");
}

/// Rows of `tenants` left in the inventory and tenant databases, and their Redis keys.
async fn left_of(app: &common::TestApp, tenants: &[Uuid]) -> (i64, i64, usize) {
    let tables = app.sessions.plan().tables().to_vec();
    let mut inv = app.inventory_conn().await;
    let inventory = inv
        .transaction::<_, diesel::result::Error, _>(async |c| {
            db::allow_all_tenants(c).await?;
            let mut n = 0;
            for t in &tables {
                n += sql_query(format!(
                    "SELECT count(*) AS n FROM {t} WHERE tenant_id = ANY($1)"
                ))
                .bind::<Array<SqlUuid>, _>(tenants)
                .get_result::<Count>(c)
                .await?
                .n;
            }
            Ok(n)
        })
        .await
        .expect("count inventory");
    let mut ten = app.tenant_conn().await;
    let tenant_rows = ten
        .transaction::<_, diesel::result::Error, _>(async |c| {
            db::allow_all_tenants(c).await?;
            sql_query("SELECT count(*) AS n FROM tenants WHERE id = ANY($1)")
                .bind::<Array<SqlUuid>, _>(tenants)
                .get_result::<Count>(c)
                .await
        })
        .await
        .expect("count tenants")
        .n;
    let mut redis = app.redis().await;
    let mut keys = 0;
    for t in tenants {
        let found: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}tenant:{t}:*", app.settings.redis.key_prefix))
            .query_async(&mut redis)
            .await
            .expect("keys");
        keys += found.len();
    }
    (inventory, tenant_rows, keys)
}

struct Round {
    secs: f64,
    cleaned: usize,
    rows: i64,
    keys: u64,
    answer_bytes: usize,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let app = common::spawn_app_with(|s| {
        s.max_active_sessions = 1_000_000;
        s.rate_limit_per_hour = 1_000_000;
    })
    .await;
    let client = reqwest::Client::new();
    let live = create_many(&app, LIVE).await;
    add_cache_keys(&app, &live).await;

    let mut rounds = Vec::new();
    for _ in 0..round_count() {
        let created = Instant::now();
        let tenants = create_many(&app, SESSIONS).await;
        let create_secs = created.elapsed().as_secs_f64();
        add_cache_keys(&app, &tenants).await;
        let (rows_before, _, _) = left_of(&app, &tenants).await;
        let mut s = app.sessions_conn().await;
        s.batch_execute(&format!(
            "UPDATE demo_sessions SET expires_at = now() - interval '1 second' \
             WHERE status = 'ready' AND virtual_tenant_id IN ({})",
            tenants
                .iter()
                .map(|t| format!("'{t}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .await
        .expect("end them");
        // what autovacuum would have done by now on a running deployment
        let mut inv = app.inventory_conn().await;
        inv.batch_execute("ANALYZE").await.expect("analyze");

        let started = Instant::now();
        let r = client
            .post(app.url("/api/demo/cleanup/run"))
            .header("X-Admin-Key", common::ADMIN_KEY)
            .send()
            .await
            .expect("cleanup");
        assert_eq!(r.status().as_u16(), 200);
        let body = r.bytes().await.expect("body");
        let secs = started.elapsed().as_secs_f64();
        let report: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(report["failures"], serde_json::json!([]));
        let cleaned = report["cleaned"].as_array().map_or(0, Vec::len);
        assert_eq!(cleaned, SESSIONS, "every ended session removed");
        let (rows, tenant_rows, keys) = left_of(&app, &tenants).await;
        assert_eq!((rows, tenant_rows, keys), (0, 0, 0), "nothing left");
        let (live_rows, live_tenants, live_keys) = left_of(&app, &live).await;
        assert!(live_rows > 0 && live_tenants == i64::try_from(LIVE).unwrap());
        assert_eq!(live_keys, LIVE * KEYS_PER_TENANT, "live sessions untouched");
        println!(
            "round: created {SESSIONS} in {create_secs:.1} s, {rows_before} rows; cleanup {secs:.2} s"
        );
        rounds.push(Round {
            secs,
            cleaned,
            rows: rows_before,
            keys: report["removed"]["redis_keys"].as_u64().unwrap_or(0),
            answer_bytes: body.len(),
        });
    }

    #[derive(diesel::QueryableByName)]
    struct V {
        #[diesel(sql_type = Text)]
        v: String,
    }
    let mut inv = app.inventory_conn().await;
    let pg: V = sql_query("SELECT version() AS v")
        .get_result(&mut inv)
        .await
        .expect("version");
    println!(
        "\n### Cleanup at campaign scale (`cargo bench -p bakery-demo-session --bench cleanup`)\n"
    );
    println!(
        "{SESSIONS} sessions ended at once (both templates alternating), {LIVE} others live, \
         {KEYS_PER_TENANT} cache keys per tenant; one `POST /api/demo/cleanup/run`. {}; {} cores.\n",
        pg.v.split(" on ").next().unwrap_or(""),
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get)
    );
    println!(
        "| round | sessions removed | inventory rows | Redis keys | time | sessions/s | answer |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (i, r) in rounds.iter().enumerate() {
        println!(
            "| {} | {} | {} | {} | **{:.2} s** | {:.0} | {} KB |",
            i + 1,
            r.cleaned,
            r.rows,
            r.keys,
            r.secs,
            r.cleaned as f64 / r.secs,
            r.answer_bytes / 1024
        );
    }
    println!(
        "\nGoal: ≤ 3 s for {SESSIONS} sessions, rows and keys included; nothing of them left after, the live sessions untouched (checked)."
    );
}
