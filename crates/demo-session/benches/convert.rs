//! Benchmark (issue 15): converting a San Pablo demo into a customer account with every
//! data set kept (`BENCH_KEEP=catalog,suppliers,stock`: the sign-up page's default
//! instead), through the real HTTP API on loopback — `POST …/convert` latency, one
//! prospect at a time (a fresh session each, created outside the timing). Also times the
//! argon2id hash alone, which every conversion pays. Needs the local PostgreSQL and Redis
//! (`scripts/dev.sh` or `scripts/test.sh` start them); run with:
//!
//!     cargo bench -p bakery-demo-session --bench convert
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

use bakery_config::auth::{INTERNAL_AUDIENCE, Identity, ROLE_DEMO, TokenKeys};
use bakery_test_support::bench::percentile;
use uuid::Uuid;

const RUNS: usize = 60;
const HASHES: usize = 20;
/// Every data set; `BENCH_KEEP=catalog,suppliers,stock` measures the page's default instead.
const EVERYTHING: &str = "catalog,suppliers,stock,orders,sales";

fn kept_sets() -> Vec<String> {
    std::env::var("BENCH_KEEP")
        .unwrap_or_else(|_| EVERYTHING.to_owned())
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let app = common::spawn_app().await;
    let keys = TokenKeys::new(&app.settings.internal_secret, INTERNAL_AUDIENCE);
    let mut latencies = Vec::with_capacity(RUNS);
    let mut rows = 0;
    let keep = kept_sets();
    for run in 0..RUNS {
        let created = app.create("individual_bakery").await;
        let id = created["session_id"].as_str().unwrap().to_owned();
        let identity = Identity::new(&id, Uuid::new_v4(), ROLE_DEMO, 60).for_demo_session(&id);
        let bearer = keys.sign(&identity).unwrap();
        let body = serde_json::json!({
            "bakery_name": format!("Panadería de prueba {run}"),
            "owner_name": "Lucía Martín",
            "email": format!("bench-{run}-{}@horno.es", Uuid::new_v4().simple()),
            "password": "MasaMadre2026",
            "keep": keep,
        });
        let started = Instant::now();
        let r = app
            .client
            .post(app.url(&format!("/api/demo/session/{id}/convert")))
            .bearer_auth(bearer)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let answer: serde_json::Value = r.json().await.unwrap();
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(status, 201, "{answer}");
        rows = answer["kept"]
            .as_object()
            .unwrap()
            .values()
            .filter_map(serde_json::Value::as_i64)
            .sum::<i64>();
    }
    let mut hashes = Vec::with_capacity(HASHES);
    for _ in 0..HASHES {
        let started = Instant::now();
        let hash = tokio::task::spawn_blocking(|| bakery_tenant::password::hash("MasaMadre2026"))
            .await
            .unwrap()
            .unwrap();
        hashes.push(started.elapsed().as_secs_f64() * 1000.0);
        assert!(hash.starts_with("$argon2id$"));
    }
    let latencies = sorted(latencies);
    let hashes = sorted(hashes);
    println!(
        "| convert, San Pablo, keeping {} ({rows} rows), {RUNS} runs | value | goal |",
        keep.join(", ")
    );
    println!("|---|---|---|");
    println!("| p50 | {:.1} ms | ≤ 100 ms |", percentile(&latencies, 0.5));
    println!("| p90 | {:.1} ms | |", percentile(&latencies, 0.9));
    println!("| p99 | {:.1} ms | |", percentile(&latencies, 0.99));
    println!(
        "| of which the argon2id hash alone: p50 | {:.1} ms | |",
        percentile(&hashes, 0.5)
    );
}
