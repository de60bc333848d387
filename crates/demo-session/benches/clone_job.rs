//! Benchmark: what a clone Job costs apart from the cluster — the `clone-demo-tenant`
//! process itself (start, connect to the three databases, load the clone plan, clone one
//! San Pablo session, exit), run as the real binary, next to the same clone in-process
//! (what `CLONE_ON_DEMAND=inline` and the inline strategy do). docs/deploy.md ("Job or
//! inline cloning") adds the cluster's part — API calls, scheduling, container start —
//! which cannot be measured without a cluster. Needs the local PostgreSQL and Redis
//! (`scripts/dev.sh` or `scripts/test.sh` start them); run with:
//!
//!     cargo bench -p bakery-demo-session --bench clone_job
//!
//! Results are printed as Markdown.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a benchmark fails loudly on what it cannot set up"
)]
#![allow(clippy::print_stdout, reason = "a benchmark prints its results")]

#[path = "../tests/api/common.rs"]
mod common;

use std::time::Instant;

use bakery_demo_session::clone_job::{self, CloneOutcome, CloneWork};
use bakery_test_support::bench::percentile;
use diesel_async::SimpleAsyncConnection;

const RUNS: usize = 30;

/// A pending San Pablo session, as admission leaves it for a Job.
async fn pending_session(app: &common::TestApp) -> bakery_config::demo::SessionId {
    let session = bakery_test_support::session_id();
    let tenant = uuid::Uuid::new_v4();
    let mut s = app.sessions_conn().await;
    s.batch_execute(&format!(
        "INSERT INTO demo_sessions (id, virtual_tenant_id, base_tenant_id, demo_account_type, status, \
           clone_strategy, expires_at) VALUES ('{session}', '{tenant}', '{}', \
           'individual_bakery', 'pending', 'k8s-job', now() + interval '30 minutes')",
        common::SAN_PABLO
    ))
    .await
    .expect("pending session");
    session
}

fn row(name: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    println!(
        "| {name} | {RUNS} | {:.1} | {:.1} | {:.1} |",
        percentile(&ms, 0.5),
        percentile(&ms, 0.95),
        percentile(&ms, 0.99)
    );
}

#[tokio::main]
async fn main() {
    let app = common::spawn_app().await;
    let settings = app.settings.clone_job_settings();
    let binary = env!("CARGO_BIN_EXE_clone-demo-tenant");

    // warm-up: the first clone of a template pays for cold caches
    let warm = pending_session(&app).await;
    clone_job::run(&settings, &CloneWork::Session(warm))
        .await
        .expect("warm-up");

    let mut in_process = Vec::new();
    for _ in 0..RUNS {
        let work = CloneWork::Session(pending_session(&app).await);
        let started = Instant::now();
        let outcome = clone_job::run(&settings, &work).await.expect("clone");
        in_process.push(started.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(outcome, CloneOutcome::Cloned);
    }

    let mut process = Vec::new();
    for _ in 0..RUNS {
        let work = CloneWork::Session(pending_session(&app).await);
        let started = Instant::now();
        let mut command = std::process::Command::new(binary);
        command
            .args(work.to_args())
            .env_clear()
            .env("DEMO_SESSION_DATABASE_URL", &settings.database.url)
            .env("TENANT_DATABASE_URL", &settings.tenant_database.url)
            .env("INVENTORY_DATABASE_URL", &settings.inventory_database.url)
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "warn");
        let status = tokio::task::spawn_blocking(move || command.status())
            .await
            .expect("join")
            .expect("run clone-demo-tenant");
        process.push(started.elapsed().as_secs_f64() * 1000.0);
        assert!(status.success(), "clone-demo-tenant failed");
    }

    println!("| clone of one San Pablo session | runs | p50 ms | p95 ms | p99 ms |");
    println!("|---|---:|---:|---:|---:|");
    row(
        "in-process (`clone_job::run`: 3 connections, plan, copy)",
        in_process,
    );
    row(
        "`clone-demo-tenant --session-id` process (what a Job's pod runs)",
        process,
    );
}
