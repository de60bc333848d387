//! demo-session's own metrics (`bakery_demo_…`), registered next to the shared HTTP
//! histogram and served at `/metrics` on the service port. Every label comes from a closed
//! set: account types, statuses and strategies are enums (docs/observability.md).
//!
//! Counters and histograms are counted where the thing happens (create, extend, destroy,
//! the cleanup pass). The gauges of what the database holds — sessions by status and account
//! type, sessions overdue, the warm pool's size — are read at scrape time ([`Snapshot`]):
//! one bounded `GROUP BY` query, so they are right on every replica and right after a
//! restart, whichever replica ran the last cleanup pass. The orphan and failed-pass gauges
//! describe the last cleanup pass this process ran.

use std::sync::Arc;
use std::time::Instant;

use bakery_config::db::PgPool;
use bakery_config::demo::{AccountType, SessionStatus};
use bakery_config::funnel::Milestone;
use bakery_config::metrics::prometheus_client::metrics::counter::Counter;
use bakery_config::metrics::prometheus_client::metrics::gauge::Gauge;
use bakery_config::metrics::prometheus_client::metrics::histogram::Histogram;
use bakery_config::metrics::prometheus_client::registry::{Registry, Unit};
use bakery_config::metrics::{
    CounterFamily, GaugeFamily, HistogramFamily, Refresh, gauge_value, seconds_since,
    slow_histogram, slow_histograms,
};
use diesel::sql_query;
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};

use crate::settings::CloneStrategy;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct AccountLabels {
    account_type: AccountType,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct StatusLabels {
    status: SessionStatus,
    account_type: AccountType,
}

/// Where a new session's tenant came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EncodeLabelValue)]
#[allow(
    non_camel_case_types,
    reason = "the variant names are the label values, as operators read them"
)]
pub enum Source {
    warm_pool,
    on_demand,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct CreatedLabels {
    account_type: AccountType,
    source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct StrategyLabels {
    strategy: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EncodeLabelValue)]
#[allow(
    non_camel_case_types,
    reason = "the variant names are the label values, as operators read them"
)]
enum PassOutcome {
    ok,
    failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct PassLabels {
    outcome: PassOutcome,
}

/// What a cleanup pass removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EncodeLabelValue)]
#[allow(
    non_camel_case_types,
    reason = "the variant names are the label values, as operators read them"
)]
pub enum RemovedKind {
    session,
    orphan,
    warm,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RemovedLabels {
    kind: RemovedKind,
}

/// Why a create was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EncodeLabelValue)]
#[allow(
    non_camel_case_types,
    reason = "the variant names are the label values, as operators read them"
)]
pub enum RefusalReason {
    capacity,
    rate_limit,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RefusalLabels {
    reason: RefusalReason,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct MilestoneLabels {
    milestone: Milestone,
    account_type: AccountType,
}

/// Cheap to clone: every metric is shared.
#[derive(Clone)]
pub struct DemoMetrics {
    sessions: GaugeFamily<StatusLabels>,
    created: CounterFamily<CreatedLabels>,
    extended: CounterFamily<AccountLabels>,
    ended: CounterFamily<AccountLabels>,
    expired: CounterFamily<AccountLabels>,
    failed: CounterFamily<AccountLabels>,
    clone_duration: HistogramFamily<StrategyLabels>,
    warm_pool_size: GaugeFamily<AccountLabels>,
    warm_pool_target: GaugeFamily<AccountLabels>,
    queued: CounterFamily<AccountLabels>,
    queue_admitted: CounterFamily<AccountLabels>,
    queue_wait: Histogram,
    queue_waiting: Gauge,
    warm_pool_hits: CounterFamily<AccountLabels>,
    warm_pool_misses: CounterFamily<AccountLabels>,
    cleanup_passes: CounterFamily<PassLabels>,
    cleanup_duration: Histogram,
    cleanup_removed: CounterFamily<RemovedLabels>,
    cleanup_failures: Counter,
    consecutive_failed_passes: Gauge,
    overdue: Gauge,
    orphans: Gauge,
    refusals: CounterFamily<RefusalLabels>,
    funnel_milestones: CounterFamily<MilestoneLabels>,
    funnel_record_failures: Counter,
}

impl Default for DemoMetrics {
    fn default() -> Self {
        let metrics = DemoMetrics {
            sessions: GaugeFamily::default(),
            created: CounterFamily::default(),
            extended: CounterFamily::default(),
            ended: CounterFamily::default(),
            expired: CounterFamily::default(),
            failed: CounterFamily::default(),
            clone_duration: slow_histograms(),
            warm_pool_size: GaugeFamily::default(),
            warm_pool_target: GaugeFamily::default(),
            queued: CounterFamily::default(),
            queue_admitted: CounterFamily::default(),
            queue_wait: slow_histogram(),
            queue_waiting: Gauge::default(),
            warm_pool_hits: CounterFamily::default(),
            warm_pool_misses: CounterFamily::default(),
            cleanup_passes: CounterFamily::default(),
            cleanup_duration: slow_histogram(),
            cleanup_removed: CounterFamily::default(),
            cleanup_failures: Counter::default(),
            consecutive_failed_passes: Gauge::default(),
            overdue: Gauge::default(),
            orphans: Gauge::default(),
            refusals: CounterFamily::default(),
            funnel_milestones: CounterFamily::default(),
            funnel_record_failures: Counter::default(),
        };
        metrics.start_at_zero();
        metrics
    }
}

impl DemoMetrics {
    /// Every counter of a bounded label set is exported from the start, at 0. A series
    /// born at 1 has no earlier sample, so `increase()` and `rate()` miss its first event:
    /// without this, the first capacity refusals after a start would never fire
    /// BakeryDemoCapacityRefusals (seen on the local stack with `dev.sh --with-monitoring`).
    fn start_at_zero(&self) {
        for reason in [RefusalReason::capacity, RefusalReason::rate_limit] {
            self.refusals
                .get_or_create(&RefusalLabels { reason })
                .inc_by(0);
        }
        for outcome in [PassOutcome::ok, PassOutcome::failed] {
            self.cleanup_passes
                .get_or_create(&PassLabels { outcome })
                .inc_by(0);
        }
        for kind in [RemovedKind::session, RemovedKind::orphan, RemovedKind::warm] {
            self.cleanup_removed
                .get_or_create(&RemovedLabels { kind })
                .inc_by(0);
        }
        for account_type in AccountType::ALL {
            for source in [Source::warm_pool, Source::on_demand] {
                self.created
                    .get_or_create(&CreatedLabels {
                        account_type,
                        source,
                    })
                    .inc_by(0);
            }
            for family in [
                &self.extended,
                &self.ended,
                &self.expired,
                &self.failed,
                &self.warm_pool_hits,
                &self.warm_pool_misses,
                &self.queued,
                &self.queue_admitted,
            ] {
                family
                    .get_or_create(&AccountLabels { account_type })
                    .inc_by(0);
            }
        }
    }

    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("bakery_demo");
        r.register(
            "sessions",
            "Sessions whose data is still there, by status and account type (read at scrape time)",
            self.sessions.clone(),
        );
        r.register(
            "sessions_created",
            "Sessions created, by account type and where the tenant came from",
            self.created.clone(),
        );
        r.register(
            "sessions_extended",
            "Sessions extended",
            self.extended.clone(),
        );
        r.register(
            "sessions_ended",
            "Sessions ended by the prospect",
            self.ended.clone(),
        );
        r.register(
            "sessions_expired",
            "Sessions expired by a cleanup pass",
            self.expired.clone(),
        );
        r.register(
            "sessions_failed",
            "Sessions whose preparation failed",
            self.failed.clone(),
        );
        r.register_with_unit(
            "clone_duration",
            "Time to clone a template into a virtual tenant, by strategy",
            Unit::Seconds,
            self.clone_duration.clone(),
        );
        r.register(
            "warm_pool_size",
            "Warm pool tenants ready to hand out today (read at scrape time)",
            self.warm_pool_size.clone(),
        );
        r.register(
            "warm_pool_target",
            "The warm pool's target, from the arrival rate (this process's last sizing)",
            self.warm_pool_target.clone(),
        );
        r.register(
            "queued",
            "Creates that took a place in the waiting room (at the cap)",
            self.queued.clone(),
        );
        r.register(
            "queue_admitted",
            "Places in the waiting room whose turn came (a session was made for them)",
            self.queue_admitted.clone(),
        );
        r.register_with_unit(
            "queue_wait",
            "Time from taking a place in the waiting room to its session",
            Unit::Seconds,
            self.queue_wait.clone(),
        );
        r.register(
            "queue_waiting",
            "Live places in the waiting room (read at scrape time)",
            self.queue_waiting.clone(),
        );
        r.register(
            "warm_pool_hits",
            "Creates served from the warm pool",
            self.warm_pool_hits.clone(),
        );
        r.register(
            "warm_pool_misses",
            "Creates that found the warm pool empty and cloned on demand",
            self.warm_pool_misses.clone(),
        );
        r.register(
            "cleanup_passes",
            "Cleanup passes, by outcome (failed: the pass errored or a removal failed)",
            self.cleanup_passes.clone(),
        );
        r.register_with_unit(
            "cleanup_duration",
            "Time one cleanup pass took",
            Unit::Seconds,
            self.cleanup_duration.clone(),
        );
        r.register(
            "cleanup_removed",
            "Virtual tenants removed by cleanup, by kind",
            self.cleanup_removed.clone(),
        );
        r.register(
            "cleanup_failures",
            "Removals a cleanup pass could not finish (retried later)",
            self.cleanup_failures.clone(),
        );
        r.register(
            "cleanup_consecutive_failed_passes",
            "Cleanup passes in a row that failed (this process)",
            self.consecutive_failed_passes.clone(),
        );
        r.register(
            "sessions_overdue",
            "Sessions whose data is still there 2 h after they ended (read at scrape time)",
            self.overdue.clone(),
        );
        r.register(
            "orphan_tenants",
            "Virtual tenants without a session or pool slot found by the last cleanup pass",
            self.orphans.clone(),
        );
        r.register(
            "refusals",
            "Creates refused, by reason",
            self.refusals.clone(),
        );
        r.register(
            "funnel_milestones",
            "Demo funnel milestones newly recorded (duplicates are not counted), by milestone and account type",
            self.funnel_milestones.clone(),
        );
        r.register(
            "funnel_record_failures",
            "Milestones that could not be recorded (the request they belonged to went on)",
            self.funnel_record_failures.clone(),
        );
    }

    /// A milestone was recorded for the first time in its session.
    pub fn milestone(&self, milestone: Milestone, account_type: AccountType) {
        self.funnel_milestones
            .get_or_create(&MilestoneLabels {
                milestone,
                account_type,
            })
            .inc();
    }

    /// Milestones that could not be stored.
    pub fn milestones_lost(&self, n: usize) {
        self.funnel_record_failures
            .inc_by(u64::try_from(n).unwrap_or(u64::MAX));
    }

    pub fn created(&self, account_type: AccountType, source: Source) {
        self.created
            .get_or_create(&CreatedLabels {
                account_type,
                source,
            })
            .inc();
    }

    pub fn extended(&self, account_type: AccountType) {
        self.extended
            .get_or_create(&AccountLabels { account_type })
            .inc();
    }

    pub fn ended(&self, account_type: AccountType) {
        self.ended
            .get_or_create(&AccountLabels { account_type })
            .inc();
    }

    pub fn expired(&self, account_type: AccountType) {
        self.expired
            .get_or_create(&AccountLabels { account_type })
            .inc();
    }

    pub fn failed(&self, account_type: AccountType) {
        self.failed
            .get_or_create(&AccountLabels { account_type })
            .inc();
    }

    pub fn cloned(&self, strategy: CloneStrategy, started: Instant) {
        self.clone_duration
            .get_or_create(&StrategyLabels {
                strategy: strategy.as_str(),
            })
            .observe(seconds_since(started));
    }

    /// A create found a warm tenant (`hit`) or not.
    pub fn warm_pool(&self, account_type: AccountType, hit: bool) {
        let family = if hit {
            &self.warm_pool_hits
        } else {
            &self.warm_pool_misses
        };
        family.get_or_create(&AccountLabels { account_type }).inc();
    }

    /// The pool's target for `account_type` was sized.
    pub fn pool_target(&self, account_type: AccountType, target: u32) {
        self.warm_pool_target
            .get_or_create(&AccountLabels { account_type })
            .set(i64::from(target));
    }

    /// A create took a place in the waiting room.
    pub fn queued(&self, account_type: AccountType) {
        self.queued
            .get_or_create(&AccountLabels { account_type })
            .inc();
    }

    /// A place's turn came after `waited`.
    pub fn queue_admitted(&self, account_type: AccountType, waited: std::time::Duration) {
        self.queue_admitted
            .get_or_create(&AccountLabels { account_type })
            .inc();
        self.queue_wait.observe(waited.as_secs_f64());
    }

    pub fn refused(&self, reason: RefusalReason) {
        self.refusals.get_or_create(&RefusalLabels { reason }).inc();
    }

    /// One cleanup pass ended: `failed` when it errored or a removal failed.
    pub fn cleanup_pass(&self, started: Instant, failed: bool, failures: usize) {
        self.cleanup_duration.observe(seconds_since(started));
        let outcome = if failed {
            PassOutcome::failed
        } else {
            PassOutcome::ok
        };
        self.cleanup_passes
            .get_or_create(&PassLabels { outcome })
            .inc();
        self.cleanup_failures
            .inc_by(u64::try_from(failures).unwrap_or(u64::MAX));
        if failed {
            self.consecutive_failed_passes.inc();
        } else {
            self.consecutive_failed_passes.set(0);
        }
    }

    pub fn removed(&self, kind: RemovedKind, n: usize) {
        if n > 0 {
            self.cleanup_removed
                .get_or_create(&RemovedLabels { kind })
                .inc_by(u64::try_from(n).unwrap_or(u64::MAX));
        }
    }

    pub fn orphans_found(&self, n: usize) {
        self.orphans.set(gauge_value(n));
    }
}

#[derive(diesel::QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    status: Option<SessionStatus>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    account_type: Option<AccountType>,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The scrape-time gauges: sessions by status and account type (those whose data is still
/// there), sessions overdue, warm tenants ready today, live places in the waiting room;
/// one query, a handful of rows.
const SNAPSHOT: &str = "\
    SELECT 'sessions' AS kind, status, demo_account_type AS account_type, count(*) AS n \
      FROM demo_sessions WHERE destroyed_at IS NULL GROUP BY status, demo_account_type \
    UNION ALL \
    SELECT 'overdue', NULL, NULL, count(*) FROM demo_sessions \
     WHERE destroyed_at IS NULL AND status IN ('expired', 'failed', 'ready', 'pending') \
       AND coalesce(ended_at, expires_at) < now() - interval '2 hours' \
    UNION ALL \
    SELECT 'warm', NULL, demo_account_type, count(*) FROM warm_tenants \
     WHERE ready AND cloned_for = demo_today() GROUP BY demo_account_type \
    UNION ALL \
    SELECT 'queue', NULL, NULL, count(*) FROM demo_queue \
     WHERE session_id IS NULL AND last_polled_at > clock_timestamp() - make_interval(secs => 30)";

/// Reads the scrape-time gauges from the `demo_session` database.
pub struct Snapshot {
    pub pool: PgPool,
    pub metrics: DemoMetrics,
}

#[async_trait::async_trait]
impl Refresh for Snapshot {
    async fn refresh(&self) {
        let rows: Result<Vec<Row>, String> = async {
            let mut conn = self.pool.get().await.map_err(|e| e.to_string())?;
            sql_query(SNAPSHOT)
                .load(&mut conn)
                .await
                .map_err(|e| e.to_string())
        }
        .await;
        let rows = match rows {
            Ok(rows) => rows,
            Err(error) => {
                tracing::warn!(%error, "metrics snapshot failed; serving the last values");
                return;
            }
        };
        let m = &self.metrics;
        m.sessions.clear();
        m.warm_pool_size.clear();
        m.overdue.set(0);
        for account_type in AccountType::ALL {
            // an empty pool reads 0, not absent (alerts watch for it)
            m.warm_pool_size
                .get_or_create(&AccountLabels { account_type })
                .set(0);
        }
        for row in rows {
            match (row.kind.as_str(), row.status, row.account_type) {
                ("sessions", Some(status), Some(account_type)) => {
                    m.sessions
                        .get_or_create(&StatusLabels {
                            status,
                            account_type,
                        })
                        .set(row.n);
                }
                ("overdue", _, _) => {
                    m.overdue.set(row.n);
                }
                ("queue", _, _) => {
                    m.queue_waiting.set(row.n);
                }
                ("warm", _, Some(account_type)) => {
                    m.warm_pool_size
                        .get_or_create(&AccountLabels { account_type })
                        .set(row.n);
                }
                _ => {}
            }
        }
    }
}

/// The hook [`bakery_config::metrics::Metrics::refresh_on_scrape`] takes.
pub fn snapshot(pool: PgPool, metrics: DemoMetrics) -> Arc<dyn Refresh> {
    Arc::new(Snapshot { pool, metrics })
}
