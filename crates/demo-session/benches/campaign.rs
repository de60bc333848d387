//! Benchmark: a marketing campaign against the waiting room and the self-sizing warm pool
//! (issue 16). Simulated prospects arrive as a Poisson process — 2 a second for a minute
//! (steady), then 10 a second for a minute (the burst: 600 against a cap of 200) — each from
//! its own client address, 70 % `individual_bakery` and 30 % `central_baker_satellite`.
//! Each one drives the real demo-session over HTTP on loopback: `POST …/session/create`;
//! on `202 queued` it polls `GET /api/demo/queue/{token}` every second until its session
//! is ready; it keeps the session an exponentially distributed time (mean 40 s, cut at
//! 120 s) and ends it with `DELETE /api/demo/session/{id}`. A sampler records, every
//! second, the ready warm tenants per account type, the pool's target, the active sessions
//! and the line's length.
//!
//! Reported: the pool's hit rate per phase (the `/metrics` counters at the phase
//! boundaries), time to ready (from sending the create to holding a ready session) for
//! direct admissions, split into pool hits and clones on demand (each session is told
//! apart by its virtual tenant: one cloned before the session row existed came from the
//! pool), the wait in line, errors, and whether the line served prospects in arrival order.
//! Writes `docs/campaign.csv` (the time series) and `docs/campaign.svg` (its plot). Needs
//! the local PostgreSQL and Redis (`scripts/dev.sh` or `scripts/test.sh` start them); run
//! with:
//!
//!     cargo bench -p bakery-demo-session --bench campaign
//!
//! Results are printed as Markdown (docs/performance.md keeps the latest).
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a benchmark fails loudly on what it cannot set up, and reads JSON answers by key"
)]
#![allow(clippy::print_stdout, reason = "a benchmark prints its results")]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap,
    clippy::cast_lossless,
    reason = "counts and plot coordinates, small and non-negative by construction"
)]

#[path = "../tests/api/common.rs"]
mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bakery_config::db;
use bakery_config::demo::AccountType;
use bakery_demo_session::settings::WarmPoolSizing;
use bakery_demo_session::{pool, queue, sessions};
use bakery_test_support::bench::percentile;
use bakery_test_support::metrics::Scrape;
use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Timestamptz, Uuid as SqlUuid};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use rand::{Rng, SeedableRng};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

const SEED: u64 = 16;
const STEADY: f64 = 60.0;
const STEADY_RATE: f64 = 2.0;
const BURST: f64 = 60.0;
const BURST_RATE: f64 = 10.0;
/// Share of arrivals asking for `central_baker_satellite`.
const CENTRAL_SHARE: f64 = 0.3;
const CAP: u32 = 200;
const QUEUE_MAX: u32 = 1000;
const POOL: WarmPoolSizing = WarmPoolSizing { min: 1, max: 20 };
/// How long a prospect keeps its session: exponential with this mean, cut at `MAX_HOLD`.
const MEAN_HOLD: f64 = 40.0;
const MAX_HOLD: f64 = 120.0;
/// How often a queued prospect polls (the client's choice; the service says 2 s).
const POLL: Duration = Duration::from_secs(1);
/// Whoever has no session by then is counted unserved; sessions still held are ended.
const DEADLINE: f64 = 360.0;

const ACCOUNTS: [AccountType; 2] = AccountType::ALL;
const IB: &str = "individual_bakery";
const CB: &str = "central_baker_satellite";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Steady,
    Burst,
}

#[derive(Debug, Clone)]
struct Arrival {
    idx: usize,
    at: f64,
    account: &'static str,
    hold: f64,
    phase: Phase,
}

/// An exponentially distributed time with this `rate` (events a second).
fn exponential(rng: &mut impl Rng, rate: f64) -> f64 {
    -(1.0 - rng.random::<f64>()).ln() / rate
}

/// Poisson arrivals (exponential inter-arrival times) of both phases, from a fixed seed.
fn arrivals() -> Vec<Arrival> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(SEED);
    let mut out = Vec::new();
    for (phase, start, end, rate) in [
        (Phase::Steady, 0.0, STEADY, STEADY_RATE),
        (Phase::Burst, STEADY, STEADY + BURST, BURST_RATE),
    ] {
        let mut t = start;
        loop {
            t += exponential(&mut rng, rate);
            if t >= end {
                break;
            }
            let account = if rng.random::<f64>() < CENTRAL_SHARE {
                CB
            } else {
                IB
            };
            let hold = exponential(&mut rng, 1.0 / MEAN_HOLD).min(MAX_HOLD);
            out.push(Arrival {
                idx: out.len(),
                at: t,
                account,
                hold,
                phase,
            });
        }
    }
    out
}

/// Prospect `idx`'s own client address (10.0.0.1, 10.0.0.2, …).
fn address(idx: usize) -> String {
    let n = idx + 1;
    format!("10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255)
}

/// What happened to one prospect (times in seconds since the start).
#[derive(Debug, Default)]
struct Outcome {
    phase: Option<Phase>,
    sent: f64,
    /// The create's answer.
    status: u16,
    /// `202` received.
    queued_at: Option<f64>,
    /// The first estimated wait the line announced.
    estimated_wait: Option<f64>,
    /// The poll that answered the session was sent.
    admit_poll_sent: Option<f64>,
    /// A ready session in hand.
    ready_at: Option<f64>,
    /// Its tenant came from the warm pool (`None`: could not tell).
    hit: Option<bool>,
    poll_ms: Vec<f64>,
    errors: Vec<String>,
}

impl Outcome {
    fn time_to_ready_ms(&self) -> Option<f64> {
        self.ready_at.map(|r| (r - self.sent) * 1000.0)
    }
}

/// A question to the classifier: was this session's tenant cloned before the session row?
type Classify = (Uuid, DateTime<Utc>, oneshot::Sender<Option<bool>>);

struct Ctx {
    client: reqwest::Client,
    address: String,
    t0: Instant,
    classify: mpsc::UnboundedSender<Classify>,
}

impl Ctx {
    fn now(&self) -> f64 {
        self.t0.elapsed().as_secs_f64()
    }

    async fn sleep_until(&self, t: f64) {
        tokio::time::sleep_until((self.t0 + Duration::from_secs_f64(t.max(0.0))).into()).await;
    }
}

/// `status body` of an unexpected answer, shortened.
async fn unexpected(what: &str, r: reqwest::Response) -> String {
    let status = r.status().as_u16();
    let body = r.text().await.unwrap_or_default();
    let code = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned))
        .unwrap_or_else(|| body.chars().take(60).collect());
    format!("{what}: {status} {code}")
}

/// One prospect: create, wait in line if asked, keep the session a while, end it.
async fn prospect(ctx: Arc<Ctx>, a: Arrival) -> Outcome {
    let mut o = Outcome {
        phase: Some(a.phase),
        sent: ctx.now(),
        ..Outcome::default()
    };
    let sent = ctx
        .client
        .post(format!("{}/api/demo/session/create", ctx.address))
        .header(
            bakery_config::client::CLIENT_HEADER,
            bakery_test_support::client_assertion(&address(a.idx)),
        )
        .json(&serde_json::json!({ "demo_account_type": a.account }))
        .send()
        .await;
    let r = match sent {
        Ok(r) => r,
        Err(e) => {
            o.errors.push(format!("create: transport ({e})"));
            return o;
        }
    };
    o.status = r.status().as_u16();
    let session: serde_json::Value = match o.status {
        201 => {
            let body = r.json().await.unwrap_or_default();
            o.ready_at = Some(ctx.now());
            body
        }
        202 => {
            o.queued_at = Some(ctx.now());
            let place: serde_json::Value = r.json().await.unwrap_or_default();
            o.estimated_wait = place["estimated_wait_seconds"].as_f64();
            let Some(token) = place["queue_token"].as_str() else {
                o.errors
                    .push("create: 202 without a queue token".to_owned());
                return o;
            };
            match wait_in_line(&ctx, token, &mut o).await {
                Some(session) => session,
                None => return o,
            }
        }
        _ => {
            o.errors.push(unexpected("create", r).await);
            return o;
        }
    };
    let id = session["session_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let tenant = session["virtual_tenant_id"]
        .as_str()
        .and_then(|t| t.parse::<Uuid>().ok());
    let created = session["created_at"]
        .as_str()
        .and_then(|c| DateTime::parse_from_rfc3339(c).ok())
        .map(|c| c.with_timezone(&Utc));
    if let (Some(tenant), Some(created)) = (tenant, created) {
        let (tx, rx) = oneshot::channel();
        if ctx.classify.send((tenant, created, tx)).is_ok() {
            o.hit = rx.await.ok().flatten();
        }
    }
    // keep the session a while (ended at the deadline at the latest)
    let ready_at = o.ready_at.unwrap_or_default();
    ctx.sleep_until((ready_at + a.hold).min(DEADLINE)).await;
    match ctx
        .client
        .delete(format!("{}/api/demo/session/{id}", ctx.address))
        .send()
        .await
    {
        Ok(r) if matches!(r.status().as_u16(), 200 | 202) => {}
        Ok(r) => o.errors.push(unexpected("end", r).await),
        Err(e) => o.errors.push(format!("end: transport ({e})")),
    }
    o
}

/// Polls a place every [`POLL`] until it answers a ready session (`None`: an error, or the
/// deadline, recorded in `o`).
async fn wait_in_line(ctx: &Ctx, token: &str, o: &mut Outcome) -> Option<serde_json::Value> {
    let url = format!("{}/api/demo/queue/{token}", ctx.address);
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + POLL, POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if ctx.now() > DEADLINE {
            o.errors
                .push("unserved at the deadline (still in line)".to_owned());
            return None;
        }
        let started = Instant::now();
        let sent = ctx.now();
        let r = match ctx.client.get(&url).send().await {
            Ok(r) => r,
            Err(e) => {
                o.errors.push(format!("poll: transport ({e})"));
                return None;
            }
        };
        if r.status().as_u16() != 200 {
            o.errors.push(unexpected("poll", r).await);
            return None;
        }
        let body: serde_json::Value = r.json().await.unwrap_or_default();
        o.poll_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        match body["status"].as_str() {
            Some("queued") => {}
            Some("ready") => {
                o.admit_poll_sent = Some(sent);
                o.ready_at = Some(ctx.now());
                return Some(body);
            }
            other => {
                o.errors.push(format!("poll: 200 with status {other:?}"));
                return None;
            }
        }
    }
}

/// Answers, in batches, whether sessions' tenants were cloned before their session row
/// (a warm pool tenant) or after it (a clone on demand).
async fn classifier(tenant_url: String, mut rx: mpsc::UnboundedReceiver<Classify>) {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
        #[diesel(sql_type = Timestamptz)]
        created_at: DateTime<Utc>,
    }
    let mut conn = AsyncPgConnection::establish(&tenant_url)
        .await
        .expect("connect tenant");
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while let Ok(next) = rx.try_recv() {
            batch.push(next);
        }
        let ids: Vec<Uuid> = batch.iter().map(|(id, _, _)| *id).collect();
        let rows: Vec<Row> = conn
            .transaction::<_, diesel::result::Error, _>(async |c| {
                db::allow_all_tenants(c).await?;
                sql_query("SELECT id, created_at FROM tenants WHERE id = ANY($1)")
                    .bind::<Array<SqlUuid>, _>(&ids)
                    .load(c)
                    .await
            })
            .await
            .unwrap_or_default();
        for (id, session_created, reply) in batch {
            let tenant_created = rows.iter().find(|r| r.id == id).map(|r| r.created_at);
            let _ = reply.send(tenant_created.map(|t| t < session_created));
        }
    }
}

/// What the sampler sees once a second.
#[derive(Debug, Clone, Default)]
struct Sample {
    t: f64,
    /// Ready warm tenants, per account type ([`ACCOUNTS`] order).
    ready: [usize; 2],
    /// Slots reserved and still cloning.
    cloning: [usize; 2],
    target: [u32; 2],
    /// The rate the target came from (the higher of the fast and slow estimates).
    rate: [f64; 2],
    refill_ms: f64,
    active: i64,
    waiting: i64,
    hits: f64,
    misses: f64,
}

fn hits(s: &Scrape) -> (f64, f64) {
    (
        s.sum("bakery_demo_warm_pool_hits_total", &[]),
        s.sum("bakery_demo_warm_pool_misses_total", &[]),
    )
}

async fn sample(
    t: f64,
    conn: &mut AsyncPgConnection,
    app: &common::TestApp,
    client: &reqwest::Client,
    metrics_url: &str,
) -> Sample {
    let slots = pool::all(conn).await.expect("pool slots");
    let mut s = Sample {
        t,
        ..Sample::default()
    };
    for (i, account) in ACCOUNTS.iter().enumerate() {
        let of_type = slots.iter().filter(|w| w.demo_account_type == *account);
        s.ready[i] = of_type.clone().filter(|w| w.ready).count();
        s.cloning[i] = of_type.filter(|w| !w.ready).count();
        let (target, rate) = app.sessions.pool_sizing().current(*account);
        s.target[i] = target;
        s.rate[i] = rate.sizing();
    }
    s.refill_ms = app.sessions.pool_sizing().refill_secs() * 1000.0;
    s.active = sessions::count_active(conn).await.expect("active");
    s.waiting = queue::waiting(conn).await.expect("waiting");
    (s.hits, s.misses) = hits(&Scrape::get(client, metrics_url).await);
    s
}

fn pcts(values: &mut [f64]) -> String {
    if values.is_empty() {
        return "—".to_owned();
    }
    values.sort_by(f64::total_cmp);
    format!(
        "{:.1} / {:.1} / {:.1} ms (n = {})",
        percentile(values, 0.5),
        percentile(values, 0.95),
        percentile(values, 0.99),
        values.len()
    )
}

fn secs_pcts(values: &mut [f64]) -> String {
    if values.is_empty() {
        return "—".to_owned();
    }
    values.sort_by(f64::total_cmp);
    format!(
        "{:.1} / {:.1} / {:.1} s (max {:.1}, n = {})",
        percentile(values, 0.5),
        percentile(values, 0.95),
        percentile(values, 0.99),
        values[values.len() - 1],
        values.len()
    )
}

fn rate_of(hits: f64, misses: f64) -> String {
    let total = hits + misses;
    if total == 0.0 {
        return "— (no admission)".to_owned();
    }
    format!("{:.1} % ({hits:.0} of {total:.0})", 100.0 * hits / total)
}

/// `P(N ≤ k)` for `N` Poisson with `mean`.
fn poisson_cdf(mean: f64, k: u32) -> f64 {
    let mut term = (-mean).exp();
    let mut sum = term;
    for i in 1..=k {
        term *= mean / f64::from(i);
        sum += term;
    }
    sum
}

/// The machine's load average (1, 5, 15 min), as `/proc/loadavg` says.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "?".to_owned(),
        |l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

fn met(ok: bool) -> &'static str {
    if ok { "**met**" } else { "**NOT met**" }
}

/// Queued pairs served out of arrival order: `(any, beyond one poll interval)`, where `i`
/// came first if its place was taken before `j` asked (`earlier(i, j)`), and `admitted`
/// is when each was admitted.
fn inversions<T>(
    items: &[T],
    earlier: impl Fn(&T, &T) -> bool,
    admitted: impl Fn(&T) -> f64,
) -> (usize, usize, f64) {
    let (mut any, mut beyond, mut worst) = (0, 0, 0.0_f64);
    for i in items {
        for j in items {
            if earlier(i, j) {
                let lead = admitted(i) - admitted(j);
                if lead > 0.0 {
                    any += 1;
                    worst = worst.max(lead);
                    if lead > POLL.as_secs_f64() {
                        beyond += 1;
                    }
                }
            }
        }
    }
    (any, beyond, worst)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let app = common::spawn_app_with(|s| {
        s.max_active_sessions = CAP;
        s.queue_max = QUEUE_MAX;
        s.rate_limit_per_hour = 1_000_000;
        s.warm_pool = POOL;
        // prospects end their sessions themselves: no sweeper (the refiller runs: the app
        // starts it whenever the pool is on)
        s.cleanup_interval = Duration::ZERO;
        // the services' default DATABASE_POOL_SIZE
        s.database.pool_size = 10;
        s.tenant_database.pool_size = 10;
        s.inventory_database.pool_size = 10;
    })
    .await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let metrics_url = app.url("/metrics");

    // the pool's first fill (its minimum per account type)
    let filling = Instant::now();
    loop {
        let mut conn = app.sessions_conn().await;
        let slots = pool::all(&mut conn).await.expect("pool");
        if ACCOUNTS
            .iter()
            .all(|a| slots.iter().any(|w| w.ready && w.demo_account_type == *a))
        {
            break;
        }
        assert!(
            filling.elapsed() < Duration::from_secs(120),
            "pool never filled"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let plan = arrivals();
    let (classify_tx, classify_rx) = mpsc::unbounded_channel();
    tokio::spawn(classifier(app.tenant_db.url.clone(), classify_rx));
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        address: app.address.clone(),
        t0: Instant::now(),
        classify: classify_tx,
    });
    let start = Scrape::get(&client, &metrics_url).await;
    let load_before = load_average();

    // the sampler, once a second
    let app = Arc::new(app);
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (ctx, stop, client, metrics_url, app) = (
            ctx.clone(),
            stop.clone(),
            client.clone(),
            metrics_url.clone(),
            app.clone(),
        );
        tokio::spawn(async move {
            let mut conn = app.sessions_conn().await;
            let mut samples = Vec::new();
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while !AtomicBool::load(&stop, Ordering::Relaxed) {
                tick.tick().await;
                samples.push(sample(ctx.now(), &mut conn, &app, &client, &metrics_url).await);
            }
            samples
        })
    };

    // the arrivals
    let spawner = {
        let ctx = ctx.clone();
        let plan = plan.clone();
        tokio::spawn(async move {
            let mut prospects = Vec::with_capacity(plan.len());
            for a in plan {
                ctx.sleep_until(a.at).await;
                prospects.push(tokio::spawn(prospect(ctx.clone(), a)));
            }
            prospects
        })
    };
    ctx.sleep_until(STEADY / 2.0).await;
    let half = Scrape::get(&client, &metrics_url).await;
    ctx.sleep_until(STEADY).await;
    let steady_end = Scrape::get(&client, &metrics_url).await;
    let refill_secs = app.sessions.pool_sizing().refill_secs();
    ctx.sleep_until(STEADY + BURST).await;
    let burst_end = Scrape::get(&client, &metrics_url).await;

    let mut outcomes = Vec::with_capacity(plan.len());
    for p in spawner.await.expect("spawner") {
        outcomes.push(p.await.expect("prospect"));
    }
    let drained_at = ctx.now();
    let load_after = load_average();
    let end = Scrape::get(&client, &metrics_url).await;
    stop.store(true, Ordering::Relaxed);
    let samples = sampler.await.expect("sampler");

    // the line as the service ordered it: positions and admission times
    #[derive(QueryableByName)]
    struct Admitted {
        #[diesel(sql_type = BigInt)]
        position: i64,
        #[diesel(sql_type = Timestamptz)]
        admitted_at: DateTime<Utc>,
    }
    let places: Vec<Admitted> = {
        let mut conn = app.sessions_conn().await;
        sql_query("SELECT position, admitted_at FROM demo_queue WHERE admitted_at IS NOT NULL")
            .load(&mut conn)
            .await
            .expect("places")
    };
    let left = {
        let mut conn = app.sessions_conn().await;
        (
            sessions::count_active(&mut conn).await.expect("active"),
            queue::waiting(&mut conn).await.expect("waiting"),
        )
    };

    report(&Report {
        plan: &plan,
        outcomes: &outcomes,
        samples: &samples,
        scrapes: [&start, &half, &steady_end, &burst_end, &end],
        refill_secs,
        places: &places
            .iter()
            .map(|p| (p.position, p.admitted_at))
            .collect::<Vec<_>>(),
        drained_at,
        left,
        load: [load_before, load_after],
    });
}

struct Report<'a> {
    plan: &'a [Arrival],
    outcomes: &'a [Outcome],
    samples: &'a [Sample],
    /// At 0, half-way through the steady phase, at its end, at the burst's end, at the end.
    scrapes: [&'a Scrape; 5],
    refill_secs: f64,
    places: &'a [(i64, DateTime<Utc>)],
    drained_at: f64,
    /// Active sessions and waiting places once everyone left.
    left: (i64, i64),
    /// The load average when the first prospect came and when the last one left.
    load: [String; 2],
}

#[allow(
    clippy::too_many_lines,
    reason = "one report, printed in the order it is read"
)]
fn report(r: &Report<'_>) {
    let in_phase = |p: Phase| r.outcomes.iter().filter(move |o| o.phase == Some(p));
    let [start, half, steady_end, burst_end, end] = r.scrapes;
    let window = |a: &Scrape, b: &Scrape| {
        let (h0, m0) = hits(a);
        let (h1, m1) = hits(b);
        (h1 - h0, m1 - m0)
    };
    let (steady_hits, steady_misses) = window(start, steady_end);
    let (late_hits, late_misses) = window(half, steady_end);
    let (burst_hits, burst_misses) = window(steady_end, burst_end);
    let (after_hits, after_misses) = window(burst_end, end);
    let steady_rate = steady_hits / (steady_hits + steady_misses).max(1.0);

    // the pool against the average need, per account type, over the steady phase
    let lambda = [
        STEADY_RATE * (1.0 - CENTRAL_SHARE),
        STEADY_RATE * CENTRAL_SHARE,
    ];
    let need: Vec<f64> = lambda
        .iter()
        .map(|l| (l * r.refill_secs).ceil().max(1.0))
        .collect();
    let steady_samples: Vec<&Sample> = r.samples.iter().filter(|s| s.t <= STEADY).collect();
    let burst_samples: Vec<&Sample> = r
        .samples
        .iter()
        .filter(|s| s.t > STEADY && s.t <= STEADY + BURST)
        .collect();
    let average = |samples: &[&Sample], f: &dyn Fn(&Sample) -> f64| {
        samples.iter().map(|s| f(s)).sum::<f64>() / samples.len().max(1) as f64
    };
    let avg_pool: Vec<f64> = (0..2)
        .map(|i| average(&steady_samples, &|s| s.ready[i] as f64))
        .collect();
    let avg_target: Vec<f64> = (0..2)
        .map(|i| average(&steady_samples, &|s| f64::from(s.target[i])))
        .collect();
    let burst_pool: Vec<f64> = (0..2)
        .map(|i| average(&burst_samples, &|s| s.ready[i] as f64))
        .collect();
    let pool_ok = (0..2).all(|i| avg_pool[i] <= 2.0 * need[i]);
    // what Poisson arrivals predict for the pool the target gave: an arrival finds a slot
    // when fewer than P others of its type came within one refill time before it
    let expected_hit = |extra: u32| {
        (0..2)
            .map(|i| {
                let p = avg_target[i].round() as u32 + extra;
                lambda[i] * poisson_cdf(lambda[i] * r.refill_secs, p.saturating_sub(1))
            })
            .sum::<f64>()
            / STEADY_RATE
    };
    // and what the drawn arrivals say: steady arrivals less than one refill time after
    // the previous one of their type (a pool of one slot misses those)
    let close_calls = [IB, CB].map(|account| {
        let times: Vec<f64> = r
            .plan
            .iter()
            .filter(|a| a.phase == Phase::Steady && a.account == account)
            .map(|a| a.at)
            .collect();
        times
            .windows(2)
            .filter(|w| w[1] - w[0] < r.refill_secs)
            .count()
    });
    let steady_by_type = ACCOUNTS.map(|a| {
        let label = [("account_type", a.as_str())];
        (
            steady_end.value("bakery_demo_warm_pool_hits_total", &label)
                - start.value("bakery_demo_warm_pool_hits_total", &label),
            steady_end.value("bakery_demo_warm_pool_misses_total", &label)
                - start.value("bakery_demo_warm_pool_misses_total", &label),
        )
    });

    // time to ready of direct admissions (201), pool hits and clones on demand apart
    let direct = |p: Phase, hit: Option<bool>| -> Vec<f64> {
        in_phase(p)
            .filter(|o| o.status == 201 && o.hit == hit)
            .filter_map(Outcome::time_to_ready_ms)
            .collect()
    };
    let mut steady_hit_ms = direct(Phase::Steady, Some(true));
    let mut steady_miss_ms = direct(Phase::Steady, Some(false));
    let mut burst_hit_ms = direct(Phase::Burst, Some(true));
    let mut burst_miss_ms = direct(Phase::Burst, Some(false));
    let mut all_direct: Vec<f64> = r
        .outcomes
        .iter()
        .filter(|o| o.status == 201)
        .filter_map(Outcome::time_to_ready_ms)
        .collect();
    let unclassified = r
        .outcomes
        .iter()
        .filter(|o| o.ready_at.is_some() && o.hit.is_none())
        .count();
    steady_hit_ms.sort_by(f64::total_cmp);
    let hit_p95 = percentile(&steady_hit_ms, 0.95);

    let queued: Vec<&Outcome> = r.outcomes.iter().filter(|o| o.status == 202).collect();
    let served: Vec<&&Outcome> = queued.iter().filter(|o| o.ready_at.is_some()).collect();
    let mut queued_ready: Vec<f64> = served
        .iter()
        .filter_map(|o| o.time_to_ready_ms().map(|ms| ms / 1000.0))
        .collect();
    let mut waits: Vec<f64> = served
        .iter()
        .filter_map(|o| Some(o.ready_at? - o.queued_at?))
        .collect();
    let mut estimates: Vec<f64> = queued.iter().filter_map(|o| o.estimated_wait).collect();
    estimates.sort_by(f64::total_cmp);
    let mut poll_ms: Vec<f64> = r
        .outcomes
        .iter()
        .flat_map(|o| o.poll_ms.iter().copied())
        .collect();
    let queued_hits = served.iter().filter(|o| o.hit == Some(true)).count();

    // errors
    let mut errors: BTreeMap<String, usize> = BTreeMap::new();
    for o in r.outcomes {
        for e in &o.errors {
            *errors.entry(e.clone()).or_default() += 1;
        }
    }
    let errors_of = |p: Phase| in_phase(p).filter(|o| !o.errors.is_empty()).count();
    let unserved = r.outcomes.iter().filter(|o| o.ready_at.is_none()).count();

    // arrival order: i came first if its 202 arrived before j sent its create
    let (any_client, beyond_client, worst_client) = inversions(
        &served,
        |i, j| i.queued_at.unwrap_or(f64::MAX) < j.sent,
        |o| o.admit_poll_sent.unwrap_or_default(),
    );
    let (any_server, beyond_server, worst_server) = inversions(
        r.places,
        |i, j| i.0 < j.0,
        |p| p.1.timestamp_micros() as f64 / 1e6,
    );

    let count = |p: Phase, account: &str| {
        r.plan
            .iter()
            .filter(|a| a.phase == p && a.account == account)
            .count()
    };
    let answered = |p: Phase, status: u16| in_phase(p).filter(|o| o.status == status).count();
    let max_of = |samples: &[&Sample], f: &dyn Fn(&Sample) -> i64| {
        samples.iter().map(|s| f(s)).max().unwrap_or(0)
    };
    let all_samples: Vec<&Sample> = r.samples.iter().collect();

    println!("### Campaign bursts: waiting room and self-sizing warm pool (issue 16)\n");
    println!(
        "Cap {CAP} active sessions, line bound {QUEUE_MAX}, warm pool {}–{} per account type; \
         prospects arrive as a Poisson process (seed {SEED}): {STEADY_RATE}/s for {STEADY} s, \
         then {BURST_RATE}/s for {BURST} s; {:.0} % `{IB}`, {:.0} % `{CB}`; each keeps its \
         session Exp(mean {MEAN_HOLD} s, cut at {MAX_HOLD} s) then ends it; a queued prospect \
         polls every {} s. Machine: {} cores, everything on loopback.\n",
        POOL.min,
        POOL.max,
        100.0 * (1.0 - CENTRAL_SHARE),
        100.0 * CENTRAL_SHARE,
        POLL.as_secs(),
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
    );
    println!(
        "| measure | steady (0–{STEADY} s) | burst ({STEADY}–{} s) | after the burst |\n|---|---|---|---|",
        STEADY + BURST
    );
    println!(
        "| arrivals (`{IB}` / `{CB}`) | {} ({} / {}) | {} ({} / {}) | — |",
        count(Phase::Steady, IB) + count(Phase::Steady, CB),
        count(Phase::Steady, IB),
        count(Phase::Steady, CB),
        count(Phase::Burst, IB) + count(Phase::Burst, CB),
        count(Phase::Burst, IB),
        count(Phase::Burst, CB),
    );
    println!(
        "| answered 201 (session) / 202 (queued) | {} / {} | {} / {} | — |",
        answered(Phase::Steady, 201),
        answered(Phase::Steady, 202),
        answered(Phase::Burst, 201),
        answered(Phase::Burst, 202),
    );
    println!(
        "| warm pool hit rate (`/metrics`, every admission) | {} | {} | {} |",
        rate_of(steady_hits, steady_misses),
        rate_of(burst_hits, burst_misses),
        rate_of(after_hits, after_misses),
    );
    println!(
        "| — of which the steady phase's second half ({}–{STEADY} s) | {} | | |",
        STEADY / 2.0,
        rate_of(late_hits, late_misses)
    );
    println!(
        "| — `{IB}` / `{CB}` | {} / {} | | |",
        rate_of(steady_by_type[0].0, steady_by_type[0].1),
        rate_of(steady_by_type[1].0, steady_by_type[1].1),
    );
    println!(
        "| time to ready, 201 pool hits: p50 / p95 / p99 | {} | {} | — |",
        pcts(&mut steady_hit_ms),
        pcts(&mut burst_hit_ms)
    );
    println!(
        "| time to ready, 201 clones on demand: p50 / p95 / p99 | {} | {} | — |",
        pcts(&mut steady_miss_ms),
        pcts(&mut burst_miss_ms)
    );
    println!(
        "| ready warm tenants, average (`{IB}` / `{CB}`) | {:.2} / {:.2} | {:.2} / {:.2} | — |",
        avg_pool[0], avg_pool[1], burst_pool[0], burst_pool[1]
    );
    println!(
        "| pool target, average (`{IB}` / `{CB}`) | {:.2} / {:.2} | max {} / {} | — |",
        avg_target[0],
        avg_target[1],
        burst_samples.iter().map(|s| s.target[0]).max().unwrap_or(0),
        burst_samples.iter().map(|s| s.target[1]).max().unwrap_or(0),
    );
    println!(
        "| active sessions, max / line length, max | {} / {} | {} / {} | — |",
        max_of(&steady_samples, &|s| s.active),
        max_of(&steady_samples, &|s| s.waiting),
        max_of(&burst_samples, &|s| s.active),
        max_of(&burst_samples, &|s| s.waiting),
    );
    println!(
        "| prospects with an error | {} | {} | — |\n",
        errors_of(Phase::Steady),
        errors_of(Phase::Burst)
    );

    println!("| whole run | result |\n|---|---|");
    println!(
        "| time to ready, every 201: p50 / p95 / p99 | {} |",
        pcts(&mut all_direct)
    );
    println!(
        "| queued prospects: time to ready (create sent → session in hand) p50 / p95 / p99 | {} |",
        secs_pcts(&mut queued_ready)
    );
    println!(
        "| queued prospects: wait in line (202 → session in hand) p50 / p95 / p99 | {} |",
        secs_pcts(&mut waits)
    );
    println!(
        "| queued prospects admitted onto a warm tenant | {queued_hits} of {} |",
        served.len()
    );
    println!(
        "| first `estimated_wait_seconds` announced: median | {:.0} s (sessions last 30 min; prospects here leave after ~{MEAN_HOLD} s) |",
        percentile(&estimates, 0.5)
    );
    println!("| queue polls: p50 / p95 / p99 | {} |", pcts(&mut poll_ms));
    println!(
        "| measured refill time per slot (end of steady phase) | {:.1} ms |",
        r.refill_secs * 1000.0
    );
    println!(
        "| steady hit rate Poisson arrivals predict for the pool the target gave (P(N ≤ P − 1), N ~ Poisson(λT)) / with one slot more | {:.1} % / {:.1} % |",
        100.0 * expected_hit(0),
        100.0 * expected_hit(1)
    );
    println!(
        "| steady arrivals within one refill time of the previous one of their type (`{IB}` / `{CB}`) | {} / {} |",
        close_calls[0], close_calls[1]
    );
    println!(
        "| load average (1 / 5 / 15 min) at the first arrival / when the last prospect left | {} / {} |",
        r.load[0], r.load[1]
    );
    println!(
        "| average need ⌈λT⌉ (`{IB}` λ = {:.1}/s, `{CB}` λ = {:.1}/s) | {} / {} |",
        lambda[0], lambda[1], need[0], need[1]
    );
    println!(
        "| arrival order, by the client (202 before the other's create; admitting poll sent) | {any_client} pairs out of order, {beyond_client} by more than one poll interval (worst {worst_client:.2} s) |"
    );
    println!(
        "| arrival order, by the service (`demo_queue.position` vs `admitted_at`) | {any_server} pairs out of order, {beyond_server} by more than one poll interval (worst {worst_server:.2} s) |"
    );
    println!(
        "| everyone served and gone | {:.0} s after the start ({} unserved; {} active sessions and {} waiting places left) |",
        r.drained_at, unserved, r.left.0, r.left.1
    );
    println!("| sessions not told apart (hit or clone) | {unclassified} |");
    if errors.is_empty() {
        println!("| errors | none |\n");
    } else {
        let listed: Vec<String> = errors.iter().map(|(e, n)| format!("{n}× {e}")).collect();
        println!("| errors | {} |\n", listed.join("; "));
    }

    println!("| goal | result | |\n|---|---|---|");
    println!(
        "| steady phase: pool hit rate ≥ 95 % with the pool ≤ 2× the average need | {:.1} %; average ready {:.2} / {:.2} against need {} / {} | {} |",
        100.0 * steady_rate,
        avg_pool[0],
        avg_pool[1],
        need[0],
        need[1],
        met(steady_rate >= 0.95 && pool_ok)
    );
    println!(
        "| burst: 0 errors inside the line's bound | {} prospects with an error | {} |",
        errors_of(Phase::Burst),
        met(errors_of(Phase::Burst) == 0)
    );
    println!(
        "| pool hits (steady-phase 201): time to ready p95 ≤ 50 ms | {hit_p95:.1} ms | {} |",
        met(hit_p95 <= 50.0)
    );
    println!(
        "| every queued prospect served in arrival order (within one poll interval) | {} unserved, {beyond_client} / {beyond_server} inversions | {} |",
        queued.len() - served.len(),
        met(queued.len() == served.len() && beyond_client == 0 && beyond_server == 0)
    );

    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs");
    std::fs::write(format!("{dir}/campaign.csv"), csv(r.samples)).expect("write the CSV");
    std::fs::write(format!("{dir}/campaign.svg"), svg(&all_samples)).expect("write the SVG");
    println!("\n(time series: docs/campaign.csv; plot: docs/campaign.svg)");
}

fn csv(samples: &[Sample]) -> String {
    let mut out = String::from(
        "t_s,phase,ready_individual_bakery,ready_central_baker_satellite,cloning_individual_bakery,cloning_central_baker_satellite,target_individual_bakery,target_central_baker_satellite,rate_individual_bakery,rate_central_baker_satellite,refill_ms,active_sessions,queue_length,pool_hits_total,pool_misses_total\n",
    );
    for s in samples {
        let phase = if s.t <= STEADY {
            "steady"
        } else if s.t <= STEADY + BURST {
            "burst"
        } else {
            "drain"
        };
        let _ = writeln!(
            out,
            "{:.1},{phase},{},{},{},{},{},{},{:.3},{:.3},{:.1},{},{},{},{}",
            s.t,
            s.ready[0],
            s.ready[1],
            s.cloning[0],
            s.cloning[1],
            s.target[0],
            s.target[1],
            s.rate[0],
            s.rate[1],
            s.refill_ms,
            s.active,
            s.waiting,
            s.hits,
            s.misses
        );
    }
    out
}

/// A plotted series: label, colour, dashed, the value of a sample.
type Series<'a> = (&'a str, &'a str, bool, Box<dyn Fn(&Sample) -> f64 + 'a>);

/// One plot panel: series over time.
struct Panel<'a> {
    title: &'a str,
    y_label: &'a str,
    top: f64,
    series: Vec<Series<'a>>,
    /// A horizontal reference line: label and value.
    reference: Option<(&'a str, f64)>,
}

/// A round tick step giving about `ticks` ticks up to `max`.
fn nice_step(max: f64, ticks: f64) -> f64 {
    let raw = max / ticks;
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude)
}

fn svg(samples: &[&Sample]) -> String {
    const W: f64 = 900.0;
    const LEFT: f64 = 70.0;
    const RIGHT: f64 = 190.0;
    const PANEL_H: f64 = 220.0;
    const GAP: f64 = 80.0;
    const TOP: f64 = 50.0;
    let t_max = samples.iter().map(|s| s.t).fold(STEADY + BURST, f64::max);
    let x_step = nice_step(t_max, 10.0);
    let t_max = (t_max / x_step).ceil() * x_step;
    let sessions_top = samples
        .iter()
        .map(|s| s.active.max(s.waiting) as f64)
        .fold(f64::from(CAP), f64::max)
        * 1.1;
    let pool_top = samples
        .iter()
        .flat_map(|s| {
            [
                s.ready[0],
                s.ready[1],
                s.target[0] as usize,
                s.target[1] as usize,
            ]
        })
        .max()
        .unwrap_or(0)
        .max(4) as f64
        * 1.25;
    let panels = [
        Panel {
            title: "Sessions and the waiting room",
            y_label: "sessions / places",
            top: sessions_top,
            series: vec![
                (
                    "active sessions",
                    "#1f77b4",
                    false,
                    Box::new(|s| s.active as f64),
                ),
                (
                    "waiting in line",
                    "#ff7f0e",
                    false,
                    Box::new(|s| s.waiting as f64),
                ),
            ],
            reference: Some(("cap", f64::from(CAP))),
        },
        Panel {
            title: "Warm pool (bounds 1–20 per type): ready tenants and target per account type",
            y_label: "warm tenants",
            top: pool_top,
            series: vec![
                (
                    "ready, individual",
                    "#2ca02c",
                    false,
                    Box::new(|s| s.ready[0] as f64),
                ),
                (
                    "target, individual",
                    "#2ca02c",
                    true,
                    Box::new(|s| f64::from(s.target[0])),
                ),
                (
                    "ready, central",
                    "#9467bd",
                    false,
                    Box::new(|s| s.ready[1] as f64),
                ),
                (
                    "target, central",
                    "#9467bd",
                    true,
                    Box::new(|s| f64::from(s.target[1])),
                ),
            ],
            reference: None,
        },
    ];
    let height = TOP + 2.0 * PANEL_H + GAP + 60.0;
    let plot_w = W - LEFT - RIGHT;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{height}\" viewBox=\"0 0 {W} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"22\" font-size=\"15\" text-anchor=\"middle\">Campaign simulation: {STEADY_RATE}/s for {STEADY} s, then {BURST_RATE}/s for {BURST} s, cap {CAP}</text>\n",
        LEFT + plot_w / 2.0
    );
    for (n, panel) in panels.iter().enumerate() {
        let y0 = TOP + n as f64 * (PANEL_H + GAP);
        let x = |t: f64| LEFT + plot_w * t / t_max;
        let y = |v: f64| y0 + PANEL_H - PANEL_H * v / panel.top;
        let _ = writeln!(
            out,
            "<text x=\"{LEFT}\" y=\"{}\" font-size=\"13\" font-weight=\"bold\">{}</text>",
            y0 - 8.0,
            panel.title
        );
        let y_step = nice_step(panel.top, 5.0);
        let mut v = 0.0;
        while v <= panel.top {
            let _ = writeln!(
                out,
                "<line x1=\"{}\" y1=\"{:.1}\" x2=\"{}\" y2=\"{:.1}\" stroke=\"#ddd\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{v}</text>",
                LEFT,
                y(v),
                LEFT + plot_w,
                y(v),
                LEFT - 6.0,
                y(v) + 4.0
            );
            v += y_step;
        }
        let mut t = 0.0;
        while t <= t_max {
            let _ = writeln!(
                out,
                "<line x1=\"{:.1}\" y1=\"{}\" x2=\"{:.1}\" y2=\"{}\" stroke=\"black\"/><text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{t}</text>",
                x(t),
                y0 + PANEL_H,
                x(t),
                y0 + PANEL_H + 5.0,
                x(t),
                y0 + PANEL_H + 18.0
            );
            t += x_step;
        }
        // the axes, over the grid
        let _ = writeln!(
            out,
            "<line x1=\"{LEFT}\" y1=\"{y0}\" x2=\"{LEFT}\" y2=\"{}\" stroke=\"black\"/>\n<line x1=\"{LEFT}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>",
            y0 + PANEL_H,
            y0 + PANEL_H,
            LEFT + plot_w,
            y0 + PANEL_H
        );
        let _ = writeln!(
            out,
            "<text transform=\"translate({}, {}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">time since the first arrival (s)</text>",
            LEFT - 45.0,
            y0 + PANEL_H / 2.0,
            panel.y_label,
            LEFT + plot_w / 2.0,
            y0 + PANEL_H + 34.0
        );
        // phase boundaries
        for (t, label) in [
            (0.0, "steady"),
            (STEADY, "burst"),
            (STEADY + BURST, "after the burst"),
        ] {
            if t > 0.0 {
                let _ = writeln!(
                    out,
                    "<line x1=\"{:.1}\" y1=\"{y0}\" x2=\"{:.1}\" y2=\"{}\" stroke=\"#888\" stroke-dasharray=\"2,3\"/>",
                    x(t),
                    x(t),
                    y0 + PANEL_H,
                );
            }
            let _ = writeln!(
                out,
                "<text x=\"{:.1}\" y=\"{}\" fill=\"#888\">{label}</text>",
                x(t) + 3.0,
                y0 + 12.0
            );
        }
        if let Some((label, value)) = panel.reference {
            let _ = writeln!(
                out,
                "<line x1=\"{LEFT}\" y1=\"{:.1}\" x2=\"{}\" y2=\"{:.1}\" stroke=\"#d62728\" stroke-dasharray=\"6,4\"/><text x=\"{}\" y=\"{:.1}\" fill=\"#d62728\">{label} ({value})</text>",
                y(value),
                LEFT + plot_w,
                y(value),
                LEFT + plot_w + 8.0,
                y(value) + 4.0
            );
        }
        for (i, (label, colour, dashed, value)) in panel.series.iter().enumerate() {
            let points: Vec<String> = samples
                .iter()
                .map(|s| format!("{:.1},{:.1}", x(s.t), y(value(s))))
                .collect();
            let dash = if *dashed {
                " stroke-dasharray=\"5,3\""
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\"{dash} points=\"{}\"/>",
                points.join(" ")
            );
            let ly = y0 + 40.0 + 18.0 * i as f64;
            let _ = writeln!(
                out,
                "<line x1=\"{}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{colour}\" stroke-width=\"2\"{dash}/><text x=\"{}\" y=\"{}\">{label}</text>",
                LEFT + plot_w + 8.0,
                LEFT + plot_w + 30.0,
                LEFT + plot_w + 36.0,
                ly + 4.0
            );
        }
    }
    out.push_str("</svg>\n");
    out
}
