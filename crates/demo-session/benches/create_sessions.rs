//! Benchmark: demo session creation, San Pablo template, inline strategy, through the real
//! HTTP API on loopback — latency percentiles for one prospect at a time (cloning on
//! demand, and claiming from the warm pool), throughput for sustained creation by several
//! at once, and a naive row-by-row copy of the same data for comparison. Needs the local
//! PostgreSQL and Redis (`scripts/dev.sh` or `scripts/test.sh` start them); run with:
//!
//!     cargo bench -p bakery-demo-session --bench create_sessions
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

use bakery_demo_session::settings::WarmPoolSizing;
use std::time::{Duration, Instant};

use bakery_config::db;
use bakery_test_support::bench::percentile;
use diesel::sql_types::{Jsonb, Text, Uuid as SqlUuid};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

const SEQUENTIAL: usize = 200;
const CONCURRENCY: usize = 4;
const SUSTAINED: Duration = Duration::from_secs(10);
const NAIVE_RUNS: usize = 3;
const POOLED: usize = 100;
const ACTIVE: usize = 50;

#[derive(QueryableByName)]
struct JsonRow {
    #[diesel(sql_type = Jsonb)]
    row: serde_json::Value,
}

/// What an ORM-style clone does: read every row, write it back one INSERT at a time.
async fn naive_copy(conn: &mut AsyncPgConnection, tables: &[String], template: Uuid, target: Uuid) {
    conn.transaction::<_, diesel::result::Error, _>(async |c| {
        db::allow_all_tenants(c).await?;
        for table in tables {
            let rows: Vec<JsonRow> = sql_query(format!(
                "SELECT to_jsonb(t) AS row FROM {table} t WHERE tenant_id = $1"
            ))
            .bind::<SqlUuid, _>(template)
            .load(c)
            .await?;
            for mut r in rows {
                r.row["tenant_id"] = serde_json::json!(target.to_string());
                sql_query(format!(
                    "INSERT INTO {table} SELECT * FROM jsonb_populate_record(NULL::{table}, $1)"
                ))
                .bind::<Jsonb, _>(r.row)
                .execute(c)
                .await?;
            }
        }
        Ok(())
    })
    .await
    .expect("naive copy");
}

/// The account type to create (`BENCH_ACCOUNT`, default `individual_bakery`, San Pablo).
fn account() -> String {
    std::env::var("BENCH_ACCOUNT").unwrap_or_else(|_| "individual_bakery".to_owned())
}

#[derive(QueryableByName)]
struct Bytes {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Bytes of row data of `tenant` in `tables` (`pg_column_size` of each row: the tuples as
/// stored, without their indexes).
async fn row_bytes(conn: &mut AsyncPgConnection, tables: &[String], tenant: Uuid) -> i64 {
    let sql = tables
        .iter()
        .map(|t| {
            format!(
                "SELECT coalesce(sum(pg_column_size(t.*)), 0)::bigint AS n FROM {t} t \
                 WHERE tenant_id = $1"
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    conn.transaction::<_, diesel::result::Error, _>(async |c| {
        db::allow_all_tenants(c).await?;
        let rows: Vec<Bytes> = sql_query(format!("SELECT sum(n)::bigint AS n FROM ({sql}) b"))
            .bind::<SqlUuid, _>(tenant)
            .load(c)
            .await?;
        Ok(<[Bytes]>::first(&rows).map_or(0, |r| r.n))
    })
    .await
    .expect("row bytes")
}

/// The design not taken: copying the template's history into the session too (set-based,
/// foreign-key triggers skipped as the clone does), rolled back. Milliseconds.
async fn copy_history_too(conn: &mut AsyncPgConnection, template: Uuid) -> f64 {
    let started = Instant::now();
    let result = conn
        .transaction::<(), diesel::result::Error, _>(async |c| {
            db::allow_all_tenants(c).await?;
            sql_query("SELECT set_config('session_replication_role', 'replica', true)")
                .execute(c)
                .await?;
            let target = Uuid::new_v4();
            sql_query(
                "INSERT INTO sales (tenant_id, id, sold_at, channel, payment_method, total, created_at) \
                 SELECT $2, id, sold_at, channel, payment_method, total, created_at \
                 FROM sales WHERE tenant_id = $1",
            )
            .bind::<SqlUuid, _>(template)
            .bind::<SqlUuid, _>(target)
            .execute(c)
            .await?;
            sql_query(
                "INSERT INTO sale_lines (tenant_id, id, sale_id, product_id, quantity, unit_price, line_total) \
                 SELECT $2, id, sale_id, product_id, quantity, unit_price, line_total \
                 FROM sale_lines WHERE tenant_id = $1",
            )
            .bind::<SqlUuid, _>(template)
            .bind::<SqlUuid, _>(target)
            .execute(c)
            .await?;
            // measured, then undone
            Err(diesel::result::Error::RollbackTransaction)
        })
        .await;
    assert!(matches!(
        result,
        Err(diesel::result::Error::RollbackTransaction)
    ));
    started.elapsed().as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let app = common::spawn_app_with(|s| {
        s.max_active_sessions = 1_000_000;
        s.rate_limit_per_hour = 1_000_000;
        s.database.pool_size = 16;
        s.tenant_database.pool_size = 16;
        s.inventory_database.pool_size = 16;
    })
    .await;
    let template: Uuid = common::SAN_PABLO.parse().expect("uuid");
    let shared_tables = app.sessions.plan().shared().to_vec();
    let (rows, shared_rows): (i64, i64) = {
        let mut inv = app.inventory_conn().await;
        let counts = common::inventory_counts(&mut inv, template).await;
        let shared = counts
            .iter()
            .filter(|(t, _)| shared_tables.contains(t))
            .map(|(_, n)| n)
            .sum();
        (counts.values().sum(), shared)
    };
    let client = reqwest::Client::new();
    let url = app.url("/api/demo/session/create");
    let create = |client: reqwest::Client, url: String| async move {
        let started = Instant::now();
        let r = client
            .post(&url)
            .json(&serde_json::json!({"demo_account_type": account()}))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status().as_u16(), 201);
        let body: serde_json::Value = r.json().await.expect("json");
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        (
            ms,
            body["session_id"].as_str().unwrap_or_default().to_owned(),
        )
    };
    // warm up pools and caches
    for _ in 0..10 {
        create(client.clone(), url.clone()).await;
    }

    // steady state: about ACTIVE sessions live, the oldest ending as each new one starts
    // (as expiry does), so the tables stay the size a running deployment keeps them at
    let mut latencies = Vec::with_capacity(SEQUENTIAL);
    let mut live = std::collections::VecDeque::new();
    for _ in 0..SEQUENTIAL {
        let (ms, id) = create(client.clone(), url.clone()).await;
        latencies.push(ms);
        live.push_back(id);
        if live.len() > ACTIVE {
            let oldest = live.pop_front().unwrap_or_default();
            let r = client
                .delete(app.url(&format!("/api/demo/session/{oldest}")))
                .send()
                .await
                .expect("end");
            assert_eq!(r.status().as_u16(), 200);
        }
    }
    latencies.sort_by(f64::total_cmp);

    // storage: what one live session holds, against what its template shares
    let all_tables = app.sessions.plan().tables().to_vec();
    let (session_bytes, template_shared_bytes) = {
        let newest = live.back().cloned().unwrap_or_default();
        let r: serde_json::Value = client
            .get(app.url(&format!("/api/demo/session/{newest}")))
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        let tenant: Uuid = r["virtual_tenant_id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("the session's virtual tenant");
        let mut inv = app.inventory_conn().await;
        (
            row_bytes(&mut inv, &all_tables, tenant).await,
            row_bytes(&mut inv, &shared_tables, template).await,
        )
    };

    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..CONCURRENCY {
        let (client, url) = (client.clone(), url.clone());
        workers.push(tokio::spawn(async move {
            let mut done = Vec::new();
            while started.elapsed() < SUSTAINED {
                done.push(create(client.clone(), url.clone()).await.0);
            }
            done
        }));
    }
    let mut sustained = Vec::new();
    for w in workers {
        sustained.extend(w.await.expect("worker"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    sustained.sort_by(f64::total_cmp);

    // the naive copy copies what the clone copies (not the shared history)
    let tables: Vec<String> = all_tables
        .iter()
        .filter(|t| !shared_tables.contains(t) && *t != "history_shares")
        .cloned()
        .collect();
    let mut naive = Vec::new();
    let mut history_too = Vec::new();
    let mut inv = app.inventory_conn().await;
    for _ in 0..NAIVE_RUNS {
        let started = Instant::now();
        naive_copy(&mut inv, &tables, template, Uuid::new_v4()).await;
        naive.push(started.elapsed().as_secs_f64() * 1000.0);
        history_too.push(copy_history_too(&mut inv, template).await);
    }
    naive.sort_by(f64::total_cmp);
    history_too.sort_by(f64::total_cmp);
    let naive_p50 = percentile(&naive, 0.5);
    let p50 = percentile(&latencies, 0.5);

    // the warm pool: a second instance keeping POOLED tenants per type cloned ahead
    let pooled_app = common::spawn_app_with(|s| {
        s.max_active_sessions = 1_000_000;
        s.rate_limit_per_hour = 1_000_000;
        s.warm_pool = WarmPoolSizing::fixed(u32::try_from(POOLED).expect("a small pool"));
    })
    .await;
    let fill_started = Instant::now();
    loop {
        let mut conn = pooled_app.sessions_conn().await;
        let slots = bakery_demo_session::pool::all(&mut conn)
            .await
            .expect("pool");
        if slots.iter().filter(|s| s.ready).count() >= 2 * POOLED {
            break;
        }
        assert!(
            fill_started.elapsed() < Duration::from_secs(300),
            "pool never filled"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let fill_secs = fill_started.elapsed().as_secs_f64();
    let pooled_url = pooled_app.url("/api/demo/session/create");
    let mut pooled = Vec::with_capacity(POOLED);
    for _ in 0..POOLED / 2 {
        pooled.push(create(client.clone(), pooled_url.clone()).await.0);
        // pace like real prospects so the refill keeps up (the measure is the claim)
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    pooled.sort_by(f64::total_cmp);

    #[derive(QueryableByName)]
    struct V {
        #[diesel(sql_type = Text)]
        v: String,
    }
    let pg: V = sql_query("SELECT version() AS v")
        .get_result(&mut inv)
        .await
        .expect("version");

    println!("### Session creation (San Pablo template, inline strategy)\n");
    println!(
        "Template: {rows} inventory rows in {} tables + 1 tenant row, of which {shared_rows} \
         in the shared history ({}), read by every session and never copied. {}.",
        all_tables.len(),
        shared_tables.join(", "),
        pg.v.split(" on ").next().unwrap_or("")
    );
    println!(
        "Machine: {} cores; PostgreSQL and Redis on loopback (private instances of scripts/lib.sh).\n",
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get)
    );
    println!("| measure | result | target |\n|---|---|---|");
    println!(
        "| one at a time, {SEQUENTIAL} creates ({ACTIVE} sessions live): p50 | {p50:.1} ms | ≤ 30 ms |"
    );
    println!("| p90 | {:.1} ms | |", percentile(&latencies, 0.9));
    println!(
        "| p99 | {:.1} ms | ≤ 100 ms |",
        percentile(&latencies, 0.99)
    );
    println!("| max | {:.1} ms | |", latencies[latencies.len() - 1]);
    println!(
        "| sustained, {CONCURRENCY} concurrent clients for {}s: throughput | {:.1} sessions/s ({} sessions) | |",
        SUSTAINED.as_secs(),
        sustained.len() as f64 / elapsed,
        sustained.len()
    );
    println!(
        "| sustained: p50 / p99 | {:.1} / {:.1} ms | |",
        percentile(&sustained, 0.5),
        percentile(&sustained, 0.99)
    );
    println!(
        "| warm pool hit, {} creates: p50 / p99 | {:.1} / {:.1} ms | |",
        pooled.len(),
        percentile(&pooled, 0.5),
        percentile(&pooled, 0.99)
    );
    println!(
        "| warm pool fill: {} tenants cloned in the background | {fill_secs:.1} s ({:.0} clones/s) | |",
        2 * POOLED,
        2.0 * POOLED as f64 / fill_secs
    );
    println!(
        "| naive row-by-row copy of the same inventory (median of {NAIVE_RUNS}) | {naive_p50:.0} ms | |"
    );
    println!(
        "| ratio naive copy / whole set-based create (p50) | {:.0}× | |",
        naive_p50 / p50
    );
    println!(
        "| the design not taken: copying the shared history too, set-based (median of {NAIVE_RUNS}) | +{:.0} ms per clone | |",
        percentile(&history_too, 0.5)
    );
    println!(
        "| storage per live session (row data, without indexes) | {:.0} KB | |",
        session_bytes as f64 / 1024.0
    );
    println!(
        "| the template's shared history, stored once (row data) | {:.0} KB | |",
        template_shared_bytes as f64 / 1024.0
    );
}
