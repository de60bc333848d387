//! The demo session lifecycle: `pending → ready → expired → destroyed`, or
//! `pending → failed` with everything it created removed.
//!
//! PostgreSQL (`demo_sessions`) is the truth; Redis holds the fast copy the gateway reads.
//! Creating a session is a small saga across the tenant and inventory databases: both
//! steps run concurrently, and if either fails, whatever the other created is removed.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use bakery_config::auth::{SESSION_AUDIENCE, TokenKeys};
use bakery_config::cache::CacheError;
use bakery_config::client::ClientAddress;
use bakery_config::clock::BakeryTimeZone;
use bakery_config::db::{AsyncPgConnection, PgConn, PgPool};
use bakery_config::demo::{
    AccountType, CachedSession, SessionClaims, SessionId, SessionIdKey, SessionStatus,
};
use bakery_config::funnel::{Event, Milestone};
use bakery_config::http::chain;
use bakery_config::tenants::template_time_zone;
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use diesel_async::pooled_connection::deadpool::PoolError;
use serde::Serialize;
use tokio::sync::RwLock;
use uuid::Uuid;

use crate::client::client_hash;
use crate::cloner::{self, CloneError, CloneFor, ClonePlan, CloneRequest};
use crate::error::{CloneFailure, DemoError, InternalError};
use crate::funnel;
use crate::jobs::{CloneTarget, JobCloner};
use crate::metrics::{DemoMetrics, RefusalReason, RemovedKind, Source};
use crate::pool;
use crate::queue::{self, Place};
use crate::redis_copy::SessionCache;
use crate::sessions::{self, DemoSession, NewDemoSession};
use crate::settings::{CloneStrategy, OnDemand, Settings};

mod preview;
mod signup;
mod waiting_room;
mod warm_pool;
pub use signup::{ConvertForm, Converted};
pub use waiting_room::QueueView;
pub use warm_pool::PoolSizing;

/// `POST …/reset` calls a session may make a minute (each is a whole clone).
const RESETS_PER_MINUTE: u32 = 3;

/// The three databases demo-session works across.
#[derive(Clone)]
pub struct Pools {
    pub sessions: PgPool,
    pub tenant: PgPool,
    pub inventory: PgPool,
}

/// What a prospect (and the gateway's fallback) sees of a session.
#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    pub session_id: SessionId,
    pub virtual_tenant_id: Uuid,
    pub demo_account_type: AccountType,
    pub status: SessionStatus,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub seconds_left: i64,
    pub extensions_used: i32,
    pub extensions_left: i32,
    pub max_extensions: i32,
    /// The bakery's time zone (its template's): where its days begin and end.
    pub time_zone: BakeryTimeZone,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_token: Option<String>,
}

/// What a create (or a poll of a place in line) answers: the session, or a place in line.
#[derive(Debug, Clone)]
pub enum Created {
    Session(SessionView),
    Queued(QueueView),
}

/// Where an admission puts a create: a warm tenant, a `pending` row to clone for, or a
/// place in line.
enum Admitted {
    Warm(DemoSession),
    Pending,
    Queued(Place),
}

/// Who is being admitted: a new create, or the holder of a place in line (its token).
#[derive(Clone, Copy)]
enum Line<'a> {
    New,
    Place(&'a str),
}

/// What removing one virtual tenant's data took away.
#[derive(Debug, Clone, Serialize, Default, utoipa::ToSchema)]
#[schema(as = DemoRemoved)]
pub struct Removed {
    pub tenant_rows: i64,
    /// Rows per inventory table.
    pub inventory_rows: HashMap<String, i64>,
    pub redis_keys: u64,
}

/// What one session's removal took away.
#[derive(Debug, Clone, Serialize)]
pub struct Removal {
    pub session_id: SessionId,
    pub virtual_tenant_id: Uuid,
    #[serde(flatten)]
    pub removed: Removed,
}

/// Why a virtual tenant's data could not (all) be removed; cleanup retries.
#[derive(Debug, thiserror::Error)]
pub enum RemovalError {
    #[error("no database connection")]
    Pool(#[source] PoolError),
    #[error("removing the inventory rows")]
    Inventory(#[source] CloneError),
    #[error("removing the tenant row")]
    Tenant(#[source] CloneError),
    #[error("removing the Redis keys")]
    Redis(#[source] CacheError),
}

/// How many sessions one cleanup statement removes at a time: bounds a transaction's
/// size and how long its locks are held (250 sessions ≈ 640,000 rows).
const CLEANUP_BATCH: u16 = 250;
/// How many batches one cleanup run removes side by side (each holds a connection to each
/// database while it runs).
const CLEANUP_WORKERS: usize = 2;

/// A session whose data a cleanup run removed (the rows are counted for the whole run).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = DemoCleaned)]
pub struct CleanedSession {
    #[schema(value_type = String)]
    pub session_id: SessionId,
    pub virtual_tenant_id: Uuid,
}

impl From<&DemoSession> for CleanedSession {
    fn from(s: &DemoSession) -> Self {
        CleanedSession {
            session_id: s.id.clone(),
            virtual_tenant_id: s.virtual_tenant_id,
        }
    }
}

impl Removed {
    fn add(&mut self, other: Removed) {
        self.tenant_rows += other.tenant_rows;
        self.redis_keys += other.redis_keys;
        for (table, n) in other.inventory_rows {
            *self.inventory_rows.entry(table).or_default() += n;
        }
    }
}

/// `POST /api/demo/cleanup/run`: what one cleanup pass removed (the wire shape: the
/// document is derived from this type).
#[derive(Debug, Clone, Serialize, Default, utoipa::ToSchema)]
#[schema(as = DemoCleanupReport)]
pub struct CleanupReport {
    /// Sessions that passed their end in this run.
    #[schema(value_type = Vec<String>)]
    pub expired: Vec<SessionId>,
    /// Sessions whose data this run removed.
    pub cleaned: Vec<CleanedSession>,
    /// Everything this run removed (sessions' and orphans' data).
    pub removed: Removed,
    /// Virtual tenants without a session that this run removed.
    pub orphans_removed: Vec<Uuid>,
    /// Warm pool tenants of an earlier day (or whose clone got stuck) this run removed.
    pub warm_removed: Vec<Uuid>,
    /// Removals that failed; retried by a later run.
    pub failures: Vec<CleanupFailure>,
}

impl CleanupReport {
    fn add(&mut self, other: CleanupReport) {
        self.expired.extend(other.expired);
        self.cleaned.extend(other.cleaned);
        self.removed.add(other.removed);
        self.orphans_removed.extend(other.orphans_removed);
        self.warm_removed.extend(other.warm_removed);
        self.failures.extend(other.failures);
    }

    fn add_removal(&mut self, r: Removal) {
        self.cleaned.push(CleanedSession {
            session_id: r.session_id,
            virtual_tenant_id: r.virtual_tenant_id,
        });
        self.removed.add(r.removed);
    }
}

/// A session a cleanup run could not remove (a later run retries).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = DemoCleanupFailure)]
pub struct CleanupFailure {
    #[schema(value_type = String)]
    pub session_id: SessionId,
    pub error: String,
}

/// A session create has decided on, before it is admitted.
struct Admission {
    id: SessionId,
    account: AccountType,
    template_id: Uuid,
    virtual_tenant_id: Uuid,
    ip_hash: String,
    expires_at: DateTime<Utc>,
}

pub struct DemoSessions {
    pools: Pools,
    cache: SessionCache,
    settings: Arc<Settings>,
    plan: ClonePlan,
    /// What a conversion copies (`crate::convert`).
    convert_plan: crate::convert::ConvertPlan,
    /// Signs the access token a conversion answers.
    access_tokens: bakery_tenant::access::AccessTokens,
    templates: RwLock<HashMap<AccountType, Uuid>>,
    token_keys: TokenKeys,
    /// Tags new session ids, so the gateway refuses made-up ones without a lookup.
    id_key: SessionIdKey,
    jobs: Option<JobCloner>,
    /// Wakes the pool refiller (a slot was claimed).
    refill: tokio::sync::Notify,
    /// Asks for the shared history's statistics to be refreshed (a conversion kept a
    /// history: [`crate::convert::refresh_statistics`]). A `Notify` holds one permit, so
    /// the requests of a burst coalesce into one more run.
    statistics: tokio::sync::Notify,
    /// The warm pool's target per account type, from the arrival rate (`warm_pool`).
    pool_sizing: PoolSizing,
    metrics: DemoMetrics,
    /// The last cleanup passes this process ran, newest first (the operator view's
    /// "cleanup health"); at most [`RECENT_PASSES`].
    recent_passes: std::sync::Mutex<std::collections::VecDeque<CleanupPass>>,
    /// The bakery day the templates were found current for (`crate::templates`).
    template_day: crate::templates::TemplateDay,
}

/// How many of its last cleanup passes a process remembers for `GET /api/demo/stats`.
pub const RECENT_PASSES: usize = 10;

/// One cleanup pass, as `GET /api/demo/stats` shows it (`cleanup.recent_passes`).
#[derive(Debug, Clone, Serialize)]
pub struct CleanupPass {
    pub finished_at: DateTime<Utc>,
    pub duration_ms: u64,
    /// `ok`, or `failed` (the pass errored, or a removal in it failed).
    pub outcome: &'static str,
    /// Virtual tenants removed: sessions', orphans and stale warm ones.
    pub removed: usize,
    /// Session removals that failed (retried by a later pass).
    pub failures: usize,
}

impl DemoSessions {
    /// Reads the clone plan from the inventory schema (so the inventory database must be
    /// migrated) and prepares the Kubernetes client when that strategy is on. Session
    /// copies in Redis live at most `REDIS_SESSION_TTL`.
    pub async fn new(
        settings: Arc<Settings>,
        pools: Pools,
        cache: SessionCache,
    ) -> anyhow::Result<Self> {
        let (plan, convert_plan) = {
            let mut conn = pools.inventory.get().await?;
            let plan = ClonePlan::load(&mut conn).await?;
            let convert = crate::convert::ConvertPlan::load(&mut conn, &plan).await?;
            (plan, convert)
        };
        tracing::info!(
            tables = plan.tables().len(),
            foreign_key_checks = ?plan.foreign_key_checks(),
            "clone plan loaded"
        );
        let jobs = match settings.clone_strategy {
            CloneStrategy::Inline => None,
            CloneStrategy::KubernetesJob => Some(JobCloner::new(&settings.job).await?),
        };
        let pool_sizing = PoolSizing::new(settings.warm_pool);
        Ok(DemoSessions {
            token_keys: TokenKeys::new(&settings.session_secret, SESSION_AUDIENCE),
            id_key: SessionIdKey::new(&settings.session_secret),
            pools,
            cache: cache.with_ttl_cap(settings.demo.redis_session_ttl),
            access_tokens: bakery_tenant::access::AccessTokens::new(
                &settings.access_secret,
                settings.access_ttl,
            ),
            settings,
            plan,
            convert_plan,
            templates: RwLock::new(HashMap::new()),
            jobs,
            refill: tokio::sync::Notify::new(),
            statistics: tokio::sync::Notify::new(),
            pool_sizing,
            metrics: DemoMetrics::default(),
            recent_passes: std::sync::Mutex::new(std::collections::VecDeque::with_capacity(
                RECENT_PASSES,
            )),
            template_day: crate::templates::TemplateDay::default(),
        })
    }

    /// Seeds the templates again when the bakery's day changed since they were seeded
    /// (`crate::templates`). A failure is logged, not returned: a clone still works from
    /// yesterday's template (its copied rows move to today; the shared history ends a day
    /// early), and the next clone or cleanup pass tries again.
    pub async fn keep_templates_current(&self) -> Option<crate::templates::Refresh> {
        match self
            .template_day
            .ensure(&self.pools.inventory, Utc::now())
            .await
        {
            Ok(refresh) => Some(refresh),
            Err(e) => {
                tracing::warn!(error = %chain(&e), "templates not seeded for the new day");
                None
            }
        }
    }

    pub fn plan(&self) -> &ClonePlan {
        &self.plan
    }

    /// What this process counts (registered by `Application::build`).
    pub fn metrics(&self) -> &DemoMetrics {
        &self.metrics
    }

    /// The `demo_session` database (the metrics' scrape-time gauges read it).
    pub fn sessions_pool(&self) -> &PgPool {
        &self.pools.sessions
    }

    fn max_extensions(&self) -> i32 {
        i32::try_from(self.settings.demo.max_extensions).unwrap_or(i32::MAX)
    }

    fn view(&self, s: &DemoSession, token: Option<String>) -> SessionView {
        let now = Utc::now();
        // past its end it is over, even before the sweeper marks it
        let status = if s.status == SessionStatus::Ready && s.expires_at <= now {
            SessionStatus::Expired
        } else {
            s.status
        };
        SessionView {
            session_id: s.id.clone(),
            virtual_tenant_id: s.virtual_tenant_id,
            demo_account_type: s.demo_account_type,
            status,
            created_at: s.created_at,
            expires_at: s.expires_at,
            seconds_left: (s.expires_at - now).num_seconds().max(0),
            extensions_used: s.extensions_used,
            extensions_left: (self.max_extensions() - s.extensions_used).max(0),
            max_extensions: self.max_extensions(),
            time_zone: template_time_zone(s.demo_account_type),
            session_token: token,
        }
    }

    fn cached(s: &DemoSession) -> CachedSession {
        CachedSession {
            session_id: s.id.to_string(),
            virtual_tenant_id: s.virtual_tenant_id,
            demo_account_type: s.demo_account_type,
            status: s.status,
            expires_at: s.expires_at,
            time_zone: template_time_zone(s.demo_account_type),
        }
    }

    async fn template_for(&self, account: AccountType) -> Result<Uuid, DemoError> {
        if let Some(id) = self.templates.read().await.get(&account) {
            return Ok(*id);
        }
        let mut conn = self.pools.tenant.get().await?;
        let id = cloner::find_template(&mut conn, account)
            .await?
            .ok_or(DemoError::TemplateMissing)?;
        self.templates.write().await.insert(account, id);
        Ok(id)
    }

    async fn check_rate_limit(&self, client: &str) -> Result<(), DemoError> {
        let limit = self.settings.rate_limit_per_hour;
        match self.cache.hit_rate_limit(client, limit).await {
            Ok(None) => Ok(()),
            Ok(Some(retry_after)) => Err(DemoError::RateLimited { retry_after }),
            Err(e) => {
                // Redis is down: fall back to counting in PostgreSQL
                tracing::warn!(error = %e, "rate limit falls back to PostgreSQL");
                let mut conn = self.pools.sessions.get().await?;
                let recent = sessions::count_recent_for_client(&mut conn, client).await?;
                if recent >= i64::from(limit) {
                    Err(DemoError::RateLimited { retry_after: 600 })
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Creates a session in three steps: admit it (rate limit, template, global cap, then
    /// a warm pool tenant or a `pending` row), clone for it (only without a warm tenant),
    /// finish it (`ready`, the Redis copy, the token). At the cap (or while others wait)
    /// the create takes a place in line instead (`crate::queue`).
    pub async fn create(
        &self,
        account: AccountType,
        client: ClientAddress,
    ) -> Result<Created, DemoError> {
        let created = match self.prepare(account, client).await {
            Ok(admission) => self.admit_and_make(admission, Line::New).await,
            Err(e) => Err(e),
        };
        self.count_create(account, &created);
        created
    }

    /// Metrics for what a create (or a poll) answered; a session made was counted, with its
    /// funnel milestone, when it was marked ready ([`Self::finish`]).
    fn count_create(&self, account: AccountType, created: &Result<Created, DemoError>) {
        match created {
            Err(DemoError::CapacityReached { .. }) => self.metrics.refused(RefusalReason::capacity),
            Err(DemoError::RateLimited { .. }) => self.metrics.refused(RefusalReason::rate_limit),
            Ok(Created::Queued(_)) => self.metrics.queued(account),
            Ok(Created::Session(_)) | Err(_) => {}
        }
    }

    /// Admits `admission` (a new create, or a place in line whose turn came) and makes its
    /// session: a warm tenant handed over, or a clone on demand; or answers its place.
    async fn admit_and_make(
        &self,
        admission: Admission,
        line: Line<'_>,
    ) -> Result<Created, DemoError> {
        let account = admission.account;
        let started = Instant::now();
        let mut conn = self.pools.sessions.get().await?;
        let warm = match self.admit(&mut conn, &admission, line).await? {
            Admitted::Queued(place) => {
                return Ok(Created::Queued(self.queue_view(&mut conn, &place).await?));
            }
            Admitted::Warm(warm) => Some(warm),
            Admitted::Pending => None,
        };
        if self.pool_enabled() {
            self.metrics.warm_pool(account, warm.is_some());
        }
        if let Some(warm) = warm {
            let answer = self.hand_over(conn, warm, started).await;
            // refill only once the prospect has their answer: a clone running alongside
            // would compete with the hand-over for the CPU
            self.refill.notify_one();
            if answer.is_ok() {
                self.metrics.created(account, Source::warm_pool);
            }
            return answer.map(Created::Session);
        }
        if self.pool_enabled() {
            self.refill.notify_one();
            tracing::info!(%account, "warm pool empty: cloning on demand");
        }
        let started = Instant::now();
        self.clone_for(&mut conn, &admission).await?;
        let answer = self.finish(conn, &admission.id, started, false).await;
        if answer.is_ok() {
            self.metrics.created(account, Source::on_demand);
        }
        answer.map(Created::Session)
    }

    fn pool_enabled(&self) -> bool {
        self.settings.warm_pool.enabled()
    }

    /// The Job runner for an on-demand clone, if this one runs as a Job (`k8s-job` with
    /// `CLONE_ON_DEMAND=job`); `None`: in-process.
    fn on_demand_job(&self) -> Option<&JobCloner> {
        self.jobs
            .as_ref()
            .filter(|_| self.settings.job.on_demand == OnDemand::Job)
    }

    /// What admission needs, decided before it: the client is under its rate limit, the
    /// template, a fresh id and tenant, the end.
    async fn prepare(
        &self,
        account: AccountType,
        client: ClientAddress,
    ) -> Result<Admission, DemoError> {
        let ip_hash = client_hash(&self.settings.ip_hash_key, client);
        self.check_rate_limit(&ip_hash).await?;
        self.admission_for(account, ip_hash).await
    }

    /// An admission for `account` and a client (hash) whose rate limit was checked.
    async fn admission_for(
        &self,
        account: AccountType,
        ip_hash: String,
    ) -> Result<Admission, DemoError> {
        let template_id = self.template_for(account).await?;
        let id = SessionId::generate(&self.id_key);
        let duration = chrono::Duration::from_std(self.settings.demo.session_duration)
            .map_err(InternalError::Duration)?;
        Ok(Admission {
            id,
            account,
            template_id,
            virtual_tenant_id: Uuid::new_v4(),
            ip_hash,
            expires_at: Utc::now() + duration,
        })
    }

    /// Admits a new session under the global cap: a warm pool tenant when one is ready
    /// ([`Admitted::Warm`]), otherwise a `pending` row to clone for. Admissions are
    /// serialised by a transaction-scoped advisory lock, so a burst of concurrent creates
    /// can never go past `DEMO_MAX_ACTIVE_SESSIONS` (a count and an insert in separate
    /// statements would let every one of them see room for itself).
    ///
    /// The line (`crate::queue`): a new create is admitted only while the active sessions
    /// and everyone waiting fit under the cap (nobody jumps the line), otherwise it takes a
    /// place ([`Admitted::Queued`]; `503 capacity_reached` when the line is full or off).
    /// A place is admitted when the active sessions and the places ahead of it leave room,
    /// and records its session in the same transaction.
    async fn admit(
        &self,
        conn: &mut AsyncPgConnection,
        a: &Admission,
        line: Line<'_>,
    ) -> Result<Admitted, DemoError> {
        let cap = i64::from(self.settings.max_active_sessions);
        let queue_max = self.settings.queue_max;
        let pool_enabled = self.pool_enabled();
        // what made the tenant: the pool's refills follow CLONE_STRATEGY, an on-demand
        // clone CLONE_ON_DEMAND
        let pool_strategy = self.settings.clone_strategy.as_str();
        let on_demand_strategy = match self.on_demand_job() {
            Some(_) => CloneStrategy::KubernetesJob,
            None => CloneStrategy::Inline,
        };
        let new = NewDemoSession {
            id: &a.id,
            virtual_tenant_id: a.virtual_tenant_id,
            base_tenant_id: a.template_id,
            demo_account_type: a.account,
            status: SessionStatus::Pending,
            clone_strategy: on_demand_strategy.as_str(),
            client_ip_hash: Some(&a.ip_hash),
            expires_at: a.expires_at,
        };
        conn.transaction::<_, DemoError, _>(async |c| {
            sessions::lock_admissions(c).await?;
            let active = sessions::count_active(c).await?;
            match line {
                Line::New => {
                    let waiting = if queue_max > 0 {
                        queue::waiting(c).await?
                    } else {
                        0
                    };
                    if active + waiting >= cap {
                        if queue_max == 0 {
                            return Err(DemoError::CapacityReached { retry_after: 60 });
                        }
                        return match queue::enqueue(c, a.account, &a.ip_hash, queue_max).await {
                            Ok(place) => Ok(Admitted::Queued(place)),
                            Err(queue::Refused::Full) => {
                                Err(DemoError::CapacityReached { retry_after: 60 })
                            }
                            Err(queue::Refused::Db(e)) => Err(e.into()),
                        };
                    }
                }
                Line::Place(token) => {
                    let place = queue::find(c, token)
                        .await?
                        .ok_or(DemoError::QueuePlaceUnknown)?;
                    if place.session_id.is_some() || active + place.ahead >= cap {
                        // admitted by a poll alongside, or not its turn after all
                        return Ok(Admitted::Queued(place));
                    }
                }
            }
            let admitted = match pool_enabled {
                true => pool::claim(
                    c,
                    a.account,
                    pool_strategy,
                    &a.id,
                    Some(&a.ip_hash),
                    a.expires_at,
                )
                .await?
                .map(Admitted::Warm),
                false => None,
            };
            let admitted = match admitted {
                Some(warm) => warm,
                None => {
                    sessions::insert(c, &new).await?;
                    Admitted::Pending
                }
            };
            if let Line::Place(token) = line {
                queue::admitted(c, token, a.id.as_str()).await?;
            }
            Ok(admitted)
        })
        .await
    }

    /// Clones the template into the admitted session's tenant (in-process, or as a Job).
    /// On failure the session is `failed` with the reason, and whatever the clone created
    /// is removed; if that removal fails too, cleanup finishes it.
    async fn clone_for(
        &self,
        conn: &mut AsyncPgConnection,
        a: &Admission,
    ) -> Result<(), DemoError> {
        self.keep_templates_current().await;
        let started = Instant::now();
        let strategy = match self.on_demand_job() {
            Some(_) => CloneStrategy::KubernetesJob,
            None => CloneStrategy::Inline,
        };
        let cloned = match self.on_demand_job() {
            None => {
                self.clone_inline(&CloneRequest {
                    template_id: a.template_id,
                    virtual_tenant_id: a.virtual_tenant_id,
                    owner: CloneFor::Session(a.id.clone()),
                    expires_at: a.expires_at,
                })
                .await
            }
            Some(jobs) => jobs
                .run(&CloneTarget::Session {
                    id: a.id.clone(),
                    virtual_tenant: a.virtual_tenant_id,
                })
                .await
                .map_err(CloneFailure::Job),
        };
        let Err(failure) = cloned else {
            self.metrics.cloned(strategy, started);
            return Ok(());
        };
        self.metrics.failed(a.account);
        let e = DemoError::from(failure);
        let reason = chain(&e);
        tracing::error!(session_id = %a.id, error = %reason, "clone failed");
        sessions::mark_failed(conn, &a.id, &reason).await?;
        match self.remove_session_data(&a.id, a.virtual_tenant_id).await {
            Ok(_) => sessions::mark_removed(conn, &a.id).await?,
            Err(removal) => tracing::warn!(
                session_id = %a.id,
                error = %chain(&removal),
                "failed clone not removed yet; cleanup removes it"
            ),
        }
        Err(e)
    }

    /// Turns a claimed pool tenant into the session's: its tenant row takes the session id
    /// and end, then the session is finished.
    async fn hand_over(
        &self,
        mut conn: PgConn,
        session: DemoSession,
        started: Instant,
    ) -> Result<SessionView, DemoError> {
        let adopted = {
            let mut tenant = self.pools.tenant.get().await?;
            cloner::adopt_virtual_tenant(
                &mut tenant,
                session.virtual_tenant_id,
                &session.id,
                session.expires_at,
            )
            .await
        };
        if let Err(e) = adopted {
            self.metrics.failed(session.demo_account_type);
            // the session row owns the tenant now: failing it lets cleanup remove it
            sessions::mark_failed(&mut conn, &session.id, &chain(&e)).await?;
            return Err(e.into());
        }
        self.finish(conn, &session.id, started, true).await
    }

    /// `pending → ready` (with the funnel's `created`), the Redis copy and the token: the
    /// end of every create.
    /// `clone_ms` is the time since `started`.
    async fn finish(
        &self,
        mut conn: PgConn,
        id: &SessionId,
        started: Instant,
        warm_pool: bool,
    ) -> Result<SessionView, DemoError> {
        let clone_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
        let ready = sessions::mark_ready(&mut conn, id, clone_ms)
            .await?
            // cleanup gave up on it while it was being prepared
            .ok_or(DemoError::CloneFailed(CloneFailure::NoLongerPending))?;
        drop(conn);
        // the statement that marked it ready recorded the funnel's `created`
        self.metrics
            .milestone(Milestone::Created, ready.demo_account_type);
        self.cache.store(&Self::cached(&ready)).await;
        let token = self.sign_token(&ready)?;
        tracing::info!(
            session_id = %ready.id,
            virtual_tenant_id = %ready.virtual_tenant_id,
            clone_ms,
            warm_pool,
            "demo session ready"
        );
        Ok(self.view(&ready, Some(token)))
    }

    /// Sizes and fills the warm pool per account type: the target follows the arrival rate
    /// (`warm_pool`); missing slots are cloned (in-process, or one clone Job per account
    /// type for all of them), surplus ones removed. Answers how many tenants it cloned.
    pub async fn refill_pool(&self) -> Result<usize, DemoError> {
        if !self.pool_enabled() {
            return Ok(0);
        }
        // the refill time the pool is sized with runs from here: reading the rates, reserving,
        // and every type's clones one after another are all time a claimed slot waits
        let pass_started = Instant::now();
        self.keep_templates_current().await;
        let mut reserved = 0;
        let targets = self.pool_targets().await?;
        let mut cloned = 0;
        for account in AccountType::ALL {
            let template = match self.template_for(account).await {
                Ok(t) => t,
                Err(DemoError::TemplateMissing) => continue,
                Err(e) => return Err(e),
            };
            let target = targets.get(&account).copied().unwrap_or(0);
            let slots = {
                let mut conn = self.pools.sessions.get().await?;
                pool::reserve(&mut conn, account, template, target).await?
            };
            if slots.is_empty() {
                self.shrink_pool(account, target).await?;
                continue;
            }
            reserved += slots.len();
            if let Some(jobs) = &self.jobs {
                cloned += self.warm_by_job(jobs, slots).await?;
            } else {
                for tenant in slots {
                    if self.warm(template, tenant).await? {
                        cloned += 1;
                    }
                }
            }
        }
        self.pool_sizing
            .observe_refill(pass_started.elapsed(), reserved);
        Ok(cloned)
    }

    /// The warm pool's target per account type, from the arrival rates (read again at
    /// most once per `warm_pool::TARGET_TTL`).
    pub async fn pool_targets(&self) -> Result<HashMap<AccountType, u32>, DemoError> {
        let fresh: HashMap<AccountType, u32> = AccountType::ALL
            .iter()
            .filter_map(|a| self.pool_sizing.fresh_target(*a).map(|t| (*a, t)))
            .collect();
        if fresh.len() == AccountType::ALL.len() {
            return Ok(fresh);
        }
        let rates = {
            let mut conn = self.pools.sessions.get().await?;
            pool::arrival_rates(&mut conn).await?
        };
        Ok(AccountType::ALL
            .iter()
            .map(|account| {
                let rate = rates
                    .iter()
                    .find(|(a, _)| a == account)
                    .map(|(_, r)| *r)
                    .unwrap_or_default();
                let target = self.pool_sizing.size_for(*account, rate);
                self.metrics.pool_target(*account, target);
                (*account, target)
            })
            .collect())
    }

    /// The pool's sizing as this process last computed it: per account type, the target,
    /// the arrival rate it came from, and the measured refill time.
    pub fn pool_sizing(&self) -> &PoolSizing {
        &self.pool_sizing
    }

    /// Removes `account`'s ready slots beyond `target` (the newest first): an idle pool
    /// costs rows and memory. A slot a claim is taking is skipped (`SKIP LOCKED`); one
    /// whose data cannot be removed now stays, and the next pass tries again.
    async fn shrink_pool(&self, account: AccountType, target: u32) -> Result<(), DemoError> {
        let mut conn = self.pools.sessions.get().await?;
        let surplus = pool::ready_today(&mut conn, account).await? - i64::from(target);
        if surplus <= 0 {
            return Ok(());
        }
        conn.transaction::<_, DemoError, _>(async |c| {
            let slots = pool::claim_surplus(c, account, surplus).await?;
            if slots.is_empty() {
                return Ok(());
            }
            match self.remove_tenants_data(&slots).await {
                Ok(_) => {
                    pool::release(c, &slots).await?;
                    tracing::info!(%account, removed = slots.len(), target, "warm pool shrunk");
                }
                Err(e) => tracing::warn!(
                    %account,
                    slots = slots.len(),
                    error = %chain(&e),
                    "surplus warm tenants not removed yet"
                ),
            }
            Ok(())
        })
        .await
    }

    /// Fills reserved slots with one Job; answers how many are warm after it. A slot the Job
    /// did not finish (it failed, timed out, or died half-way) has whatever it wrote removed
    /// and is released, so the next refill tries again; if that removal fails, cleanup
    /// removes it.
    async fn warm_by_job(&self, jobs: &JobCloner, slots: Vec<Uuid>) -> Result<usize, DemoError> {
        let started = Instant::now();
        let outcome = jobs.run(&CloneTarget::PoolSlots(slots.clone())).await;
        if outcome.is_ok() {
            self.metrics.cloned(CloneStrategy::KubernetesJob, started);
        }
        let mut conn = self.pools.sessions.get().await?;
        let warm = pool::ready_among(&mut conn, &slots).await?;
        let unfinished: Vec<Uuid> = slots.into_iter().filter(|s| !warm.contains(s)).collect();
        if let Err(e) = &outcome {
            tracing::warn!(
                warm = warm.len(),
                unfinished = unfinished.len(),
                error = %chain(e),
                "warm pool clone Job failed"
            );
        }
        if !unfinished.is_empty() {
            match self.remove_tenants_data(&unfinished).await {
                Ok(_) => pool::release(&mut conn, &unfinished).await?,
                Err(removal) => tracing::warn!(
                    error = %chain(&removal),
                    "unfinished warm clones not removed yet; cleanup removes them"
                ),
            }
        }
        Ok(warm.len())
    }

    /// Clones one reserved pool slot; `false` when the clone failed (its slot is then
    /// released once whatever it wrote is removed; cleanup removes it otherwise).
    async fn warm(&self, template: Uuid, tenant: Uuid) -> Result<bool, DemoError> {
        let request = CloneRequest {
            template_id: template,
            virtual_tenant_id: tenant,
            owner: CloneFor::WarmPool,
            expires_at: pool::placeholder_expiry(),
        };
        let started = Instant::now();
        let result = self.clone_inline(&request).await;
        let mut conn = self.pools.sessions.get().await?;
        match result {
            Ok(()) => {
                self.metrics.cloned(CloneStrategy::Inline, started);
                pool::mark_warm(&mut conn, tenant).await?;
                Ok(true)
            }
            Err(e) => {
                tracing::warn!(%tenant, error = %chain(&e), "warm pool clone failed");
                match self.remove_tenants_data(&[tenant]).await {
                    Ok(_) => pool::release(&mut conn, &[tenant]).await?,
                    Err(removal) => tracing::warn!(
                        %tenant,
                        error = %chain(&removal),
                        "failed warm clone not removed yet; cleanup removes it"
                    ),
                }
                Ok(false)
            }
        }
    }

    /// Waits until a slot was claimed (or `max_wait` passed).
    pub async fn refill_wanted(&self, max_wait: std::time::Duration) {
        let _ = tokio::time::timeout(max_wait, self.refill.notified()).await;
    }

    /// Waits until a conversion kept a history since the last refresh of the shared
    /// history's statistics.
    pub async fn statistics_wanted(&self) {
        self.statistics.notified().await;
    }

    /// `ANALYZE` of the shared history tables (one at a time: the caller is one task).
    pub async fn refresh_statistics(&self) -> Result<(), DemoError> {
        let started = Instant::now();
        let mut inv = self.pools.inventory.get().await?;
        crate::convert::refresh_statistics(&mut inv, &self.convert_plan).await?;
        tracing::info!(
            ms = started.elapsed().as_millis(),
            "shared history statistics refreshed after a conversion"
        );
        Ok(())
    }

    fn sign_token(&self, s: &DemoSession) -> Result<String, DemoError> {
        let claims = SessionClaims {
            sub: s.id.to_string(),
            virtual_tenant_id: s.virtual_tenant_id,
            demo_account_type: s.demo_account_type,
            aud: SESSION_AUDIENCE.to_owned(),
            iat: Utc::now().timestamp(),
            exp: s.expires_at.timestamp(),
        };
        Ok(self
            .token_keys
            .sign(&claims)
            .map_err(InternalError::Token)?)
    }

    /// Both databases at once; on any failure, whatever was created is removed.
    async fn clone_inline(&self, req: &CloneRequest) -> Result<(), CloneFailure> {
        let (mut tenant, mut inventory) =
            tokio::try_join!(self.pools.tenant.get(), self.pools.inventory.get())
                .map_err(CloneFailure::Pool)?;
        let (t, i) = tokio::join!(
            cloner::create_virtual_tenant(&mut tenant, req),
            cloner::copy_inventory(&mut inventory, &self.plan, req)
        );
        t?;
        i?;
        Ok(())
    }

    async fn find(&self, id: &SessionId) -> Result<DemoSession, DemoError> {
        let mut conn = self.pools.sessions.get().await?;
        sessions::find(&mut conn, id)
            .await?
            .ok_or(DemoError::NotFound)
    }

    /// The session as it is now; ended sessions answer `session_expired`.
    pub async fn get(&self, id: &SessionId) -> Result<SessionView, DemoError> {
        let s = self.find(id).await?;
        let view = self.view(&s, None);
        match view.status {
            SessionStatus::Ready | SessionStatus::Pending => Ok(view),
            SessionStatus::Expired | SessionStatus::Destroyed | SessionStatus::Failed => {
                Err(DemoError::Expired)
            }
        }
    }

    /// Adds one session duration, at most `DEMO_SESSION_MAX_EXTENSIONS` times.
    pub async fn extend(&self, id: &SessionId) -> Result<SessionView, DemoError> {
        let mut conn = self.pools.sessions.get().await?;
        let extended = sessions::extend(
            &mut conn,
            id,
            self.settings.demo.session_duration,
            self.max_extensions(),
        )
        .await?;
        let Some(s) = extended else {
            let current = sessions::find(&mut conn, id)
                .await?
                .ok_or(DemoError::NotFound)?;
            return Err(match self.view(&current, None).status {
                SessionStatus::Pending => DemoError::NotReady,
                SessionStatus::Ready => DemoError::NoExtensionsLeft,
                SessionStatus::Expired | SessionStatus::Destroyed | SessionStatus::Failed => {
                    DemoError::Expired
                }
            });
        };
        drop(conn);
        let mut tenant = self.pools.tenant.get().await?;
        cloner::set_tenant_expiry(&mut tenant, s.virtual_tenant_id, s.expires_at).await?;
        self.metrics.extended(s.demo_account_type);
        self.milestones(&[(s.id.clone(), Event::plain(Milestone::Extended))])
            .await;
        self.cache.store(&Self::cached(&s)).await;
        self.cache.announce(s.id.as_str()).await;
        let token = self.sign_token(&s)?;
        Ok(self.view(&s, Some(token)))
    }

    /// Ends a session now and removes its data. `Ok(None)` when the session has ended
    /// but its data is still being removed (a sweeper holds it, or the removal failed and
    /// is retried): the gateway already refuses it either way.
    pub async fn destroy(&self, id: &SessionId) -> Result<Option<Removal>, DemoError> {
        let mut conn = self.pools.sessions.get().await?;
        let ended = sessions::end_now(&mut conn, id).await?;
        drop(conn);
        let Some(s) = ended else {
            // unknown, or already ended: report which
            self.find(id).await?;
            return Err(DemoError::Expired);
        };
        self.metrics.ended(s.demo_account_type);
        self.cache.forget(s.id.as_str()).await;
        self.milestones(&[(s.id.clone(), Event::plain(Milestone::EndedByUser))])
            .await;
        self.clean_one(&s.id).await
    }

    /// Removes one session's data if nobody else is cleaning it.
    async fn clean_one(&self, id: &SessionId) -> Result<Option<Removal>, DemoError> {
        let mut conn = self.pools.sessions.get().await?;
        let result = conn
            .transaction::<_, DemoError, _>(async |c| {
                let Some(s) = sessions::claim_one(c, id).await? else {
                    return Ok(None);
                };
                self.clean_claimed(c, &s).await.map(Some)
            })
            .await;
        result.map(Option::flatten)
    }

    /// Removes a claimed session's data and records the outcome (on the claiming
    /// transaction's connection, so the row stays locked until it is recorded).
    async fn clean_claimed(
        &self,
        conn: &mut AsyncPgConnection,
        s: &DemoSession,
    ) -> Result<Option<Removal>, DemoError> {
        match self.remove_session_data(&s.id, s.virtual_tenant_id).await {
            Ok(removed) => {
                sessions::mark_cleaned(conn, std::slice::from_ref(&s.id)).await?;
                self.count_stuck_as_failed(std::slice::from_ref(s));
                Ok(Some(Removal {
                    session_id: s.id.clone(),
                    virtual_tenant_id: s.virtual_tenant_id,
                    removed,
                }))
            }
            Err(e) => {
                let error = chain(&e);
                tracing::warn!(session_id = %s.id, %error, "cleanup failed; will retry");
                sessions::record_cleanup_failure(conn, &s.id, &error).await?;
                Ok(None)
            }
        }
    }

    /// Removes a session's virtual tenant ([`Self::remove_tenants_data`]) and its copy in
    /// Redis.
    async fn remove_session_data(
        &self,
        id: &SessionId,
        tenant: Uuid,
    ) -> Result<Removed, RemovalError> {
        let removed = self.remove_tenants_data(&[tenant]).await?;
        self.cache.forget(id.as_str()).await;
        Ok(removed)
    }

    /// Removes virtual tenants' rows from every database and their Redis keys: a set-based
    /// statement per table for all of them, one pass over the tenant keys. The tenant rows
    /// go last: until then [`Self::remove_orphans`] can still find what a failure left.
    async fn remove_tenants_data(&self, tenants: &[Uuid]) -> Result<Removed, RemovalError> {
        if tenants.is_empty() {
            return Ok(Removed::default());
        }
        let inventory_rows = {
            let mut inv = self
                .pools
                .inventory
                .get()
                .await
                .map_err(RemovalError::Pool)?;
            cloner::remove_inventory(&mut inv, &self.plan, tenants)
                .await
                .map_err(RemovalError::Inventory)?
        };
        let tenant_rows = {
            let mut ten = self.pools.tenant.get().await.map_err(RemovalError::Pool)?;
            cloner::remove_virtual_tenants(&mut ten, tenants)
                .await
                .map_err(RemovalError::Tenant)?
        };
        let redis_keys = self
            .cache
            .remove_tenant_keys(tenants)
            .await
            .map_err(RemovalError::Redis)?;
        Ok(Removed {
            tenant_rows,
            inventory_rows,
            redis_keys,
        })
    }

    /// One cleanup run, pass by pass: expire, remove what ended or got stuck, remove stale
    /// pool slots, remove orphans, undo conversions a crash left half-done. Safe to run on several replicas at once: rows are
    /// claimed with `FOR UPDATE SKIP LOCKED`.
    pub async fn cleanup(&self) -> Result<CleanupReport, DemoError> {
        self.keep_templates_current().await;
        let started = Instant::now();
        let result = self.cleanup_pass().await;
        match &result {
            Ok(r) => {
                self.metrics
                    .cleanup_pass(started, !r.failures.is_empty(), r.failures.len());
                self.metrics.removed(RemovedKind::session, r.cleaned.len());
                self.metrics
                    .removed(RemovedKind::orphan, r.orphans_removed.len());
                self.metrics
                    .removed(RemovedKind::warm, r.warm_removed.len());
            }
            Err(_) => self.metrics.cleanup_pass(started, true, 0),
        }
        let (removed, failures, failed) = match &result {
            Ok(r) => (
                r.cleaned.len() + r.orphans_removed.len() + r.warm_removed.len(),
                r.failures.len(),
                !r.failures.is_empty(),
            ),
            Err(_) => (0, 0, true),
        };
        self.remember_pass(CleanupPass {
            finished_at: Utc::now(),
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            outcome: if failed { "failed" } else { "ok" },
            removed,
            failures,
        });
        result
    }

    fn remember_pass(&self, pass: CleanupPass) {
        // a poisoned lock only means another thread panicked while pushing: the list is
        // still a list
        let mut passes = self
            .recent_passes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        passes.push_front(pass);
        passes.truncate(RECENT_PASSES);
    }

    /// This process's last cleanup passes, newest first.
    pub fn recent_passes(&self) -> Vec<CleanupPass> {
        self.recent_passes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }

    async fn cleanup_pass(&self) -> Result<CleanupReport, DemoError> {
        let mut report = CleanupReport::default();
        let mut conn = self.pools.sessions.get().await?;
        report.expired = self.expire_due(&mut conn).await?;
        self.clean_ended(&mut report).await?;
        report.warm_removed = self.remove_stale_slots(&mut conn).await?;
        match funnel::apply_retention(&mut conn, self.settings.funnel_retention_days).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(rows = n, "old funnel milestones removed"),
            // the funnel's retention never holds a cleanup pass back
            Err(e) => tracing::warn!(error = %chain(&e), "funnel retention failed"),
        }
        match queue::forget_abandoned(&mut conn).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(places = n, "abandoned places in the waiting room removed"),
            Err(e) => tracing::warn!(error = %chain(&e), "waiting room not tidied"),
        }
        drop(conn);
        report.orphans_removed = self.remove_orphans(&mut report.removed).await?;
        match self.undo_stale_conversions().await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(conversions = n, "stale conversions undone"),
            // like the funnel's retention, never holds a cleanup pass back
            Err(e) => tracing::warn!(error = %chain(&e), "stale conversions not undone"),
        }
        Ok(report)
    }

    /// Pass 1: ready sessions past their end become `expired`; gateways are told.
    async fn expire_due(&self, conn: &mut AsyncPgConnection) -> Result<Vec<SessionId>, DemoError> {
        let expired = sessions::expire_due(conn).await?;
        let ids: Vec<SessionId> = expired
            .into_iter()
            .map(|(id, account)| {
                self.metrics.expired(account);
                id
            })
            .collect();
        self.cache.forget_all(&ids).await;
        let events: Vec<_> = ids
            .iter()
            .map(|id| (id.clone(), Event::plain(Milestone::Expired)))
            .collect();
        self.milestones(&events).await;
        Ok(ids)
    }

    /// Pass 2: removes the data of sessions that ended or got stuck, a claimed batch at a
    /// time, until none is left or a whole batch failed (those wait for their back-off).
    /// [`CLEANUP_WORKERS`] claim and remove batches side by side (`SKIP LOCKED` keeps
    /// their batches apart), so a database with several cores deletes on all of them.
    async fn clean_ended(&self, report: &mut CleanupReport) -> Result<(), DemoError> {
        let workers = (0..CLEANUP_WORKERS).map(|_| self.clean_until_done());
        for done in futures_util::future::join_all(workers).await {
            report.add(done?);
        }
        Ok(())
    }

    /// One cleanup worker: batch after batch on its own connection.
    async fn clean_until_done(&self) -> Result<CleanupReport, DemoError> {
        let mut conn = self.pools.sessions.get().await?;
        let mut report = CleanupReport::default();
        while let Some(batch) = self.clean_batch(&mut conn).await? {
            let all_failed = batch.cleaned.is_empty();
            report.add(batch);
            if all_failed {
                break;
            }
        }
        Ok(report)
    }

    /// Claims up to [`CLEANUP_BATCH`] sessions and removes their data set-based, in one
    /// transaction (the claims last until the outcome is recorded). If the batch removal
    /// fails, each session is retried alone, so one bad tenant cannot hold the others
    /// back and each failure is recorded on its own session. `None` when nothing is due.
    async fn clean_batch(
        &self,
        conn: &mut AsyncPgConnection,
    ) -> Result<Option<CleanupReport>, DemoError> {
        let pending_timeout = self.settings.pending_timeout;
        conn.transaction::<_, DemoError, _>(async |c| {
            let claimed = sessions::claim_for_cleanup(c, pending_timeout, i64::from(CLEANUP_BATCH)).await?;
            if claimed.is_empty() {
                return Ok(None);
            }
            let mut batch = CleanupReport::default();
            let tenants: Vec<Uuid> = claimed.iter().map(|s| s.virtual_tenant_id).collect();
            match self.remove_tenants_data(&tenants).await {
                Ok(removed) => {
                    let ids: Vec<SessionId> = claimed.iter().map(|s| s.id.clone()).collect();
                    sessions::mark_cleaned(c, &ids).await?;
                    self.count_stuck_as_failed(&claimed);
                    self.cache.forget_all(&ids).await;
                    batch.removed = removed;
                    batch.cleaned = claimed.iter().map(CleanedSession::from).collect();
                }
                Err(e) => {
                    tracing::warn!(sessions = claimed.len(), error = %chain(&e), "batch removal failed; removing one at a time");
                    for s in &claimed {
                        match self.clean_claimed(c, s).await? {
                            Some(removal) => batch.add_removal(removal),
                            None => batch.failures.push(CleanupFailure {
                                session_id: s.id.clone(),
                                error: "removal failed; retried later".to_owned(),
                            }),
                        }
                    }
                }
            }
            Ok(Some(batch))
        })
        .await
    }

    /// Stuck `pending` sessions cleanup just marked `failed` (their create never finished).
    fn count_stuck_as_failed(&self, cleaned: &[DemoSession]) {
        for s in cleaned
            .iter()
            .filter(|s| s.status == SessionStatus::Pending)
        {
            self.metrics.failed(s.demo_account_type);
        }
    }

    /// Pass 3: warm pool tenants of an earlier day, or whose clone got stuck.
    async fn remove_stale_slots(
        &self,
        conn: &mut AsyncPgConnection,
    ) -> Result<Vec<Uuid>, DemoError> {
        let stuck_after = self.settings.pending_timeout;
        conn.transaction::<_, DemoError, _>(async |c| {
            let stale = pool::claim_stale(c, stuck_after, i64::from(CLEANUP_BATCH)).await?;
            match self.remove_tenants_data(&stale).await {
                Ok(_) => {
                    pool::release(c, &stale).await?;
                    Ok(stale)
                }
                Err(e) => {
                    tracing::warn!(slots = stale.len(), error = %chain(&e), "stale pool slots not removed");
                    Ok(Vec::new())
                }
            }
        })
        .await
    }

    /// Pass 4: virtual tenants whose session row is gone or already removed, and that no
    /// pool slot owns (at most [`CLEANUP_BATCH`] a run).
    async fn remove_orphans(&self, removed: &mut Removed) -> Result<Vec<Uuid>, DemoError> {
        let candidates = {
            let mut ten = self.pools.tenant.get().await?;
            cloner::virtual_tenants(&mut ten).await?
        };
        if candidates.is_empty() {
            self.metrics.orphans_found(0);
            return Ok(Vec::new());
        }
        let owned: HashSet<Uuid> = {
            let mut conn = self.pools.sessions.get().await?;
            let mut owned = sessions::tenants_with_sessions(&mut conn, &candidates).await?;
            owned.extend(pool::owned(&mut conn, &candidates).await?);
            owned.into_iter().collect()
        };
        let orphans: Vec<Uuid> = candidates
            .into_iter()
            .filter(|t| !owned.contains(t))
            .collect();
        self.metrics.orphans_found(orphans.len());
        let orphans: Vec<Uuid> = orphans
            .into_iter()
            .take(usize::from(CLEANUP_BATCH))
            .collect();
        match self.remove_tenants_data(&orphans).await {
            Ok(r) => {
                removed.add(r);
                Ok(orphans)
            }
            Err(e) => {
                tracing::warn!(tenants = orphans.len(), error = %chain(&e), "orphan removal failed");
                Ok(Vec::new())
            }
        }
    }

    /// Sessions by status and account type, created per hour, extensions, durations, and
    /// the funnel over `from..=to` (`YYYY-MM-DD`, days in Europe/Madrid; the last 7 days
    /// by default).
    pub async fn stats(
        &self,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<serde_json::Value, DemoError> {
        let mut conn = self.pools.sessions.get().await?;
        let today = funnel::today(&mut conn).await?;
        let (from, to) = funnel::range(from, to, today).map_err(|_| DemoError::InvalidRange)?;
        let pool_target = AccountType::ALL
            .iter()
            .map(|a| i32::try_from(self.pool_sizing.current(*a).0).unwrap_or(i32::MAX))
            .max()
            .unwrap_or(0);
        let capacity = crate::stats::Capacity {
            max_active_sessions: i32::try_from(self.settings.max_active_sessions)
                .unwrap_or(i32::MAX),
            queue_max: i32::try_from(self.settings.queue_max).unwrap_or(i32::MAX),
        };
        let mut stats =
            crate::stats::collect(&mut conn, self.max_extensions(), pool_target, capacity).await?;
        let funnel = funnel::funnel(&mut conn, from, to).await?;
        let passes = self.recent_passes();
        let failed_in_a_row = passes.iter().take_while(|p| p.outcome == "failed").count();
        if let Some(object) = stats.as_object_mut() {
            object.insert(
                "funnel".to_owned(),
                serde_json::to_value(funnel).map_err(InternalError::Stats)?,
            );
            if let Some(cleanup) = object.get_mut("cleanup").and_then(|c| c.as_object_mut()) {
                cleanup.insert(
                    "recent_passes".to_owned(),
                    serde_json::to_value(passes).map_err(InternalError::Stats)?,
                );
                cleanup.insert(
                    "consecutive_failed_passes".to_owned(),
                    failed_in_a_row.into(),
                );
            }
        }
        Ok(stats)
    }

    /// Records server-side milestones; a failure is logged and counted, never returned (the
    /// request it belongs to goes on).
    async fn milestones(&self, events: &[(SessionId, Event)]) {
        let events: Vec<(String, Event)> = events
            .iter()
            .map(|(id, e)| (id.as_str().to_owned(), e.clone()))
            .collect();
        if let Err(e) = self.record_milestones(&events).await {
            tracing::warn!(error = %chain(&e), events = events.len(), "funnel milestones not recorded");
            self.metrics.milestones_lost(events.len());
        }
    }

    /// Records milestones (first occurrences only); answers how many were new.
    pub async fn record_milestones(&self, events: &[(String, Event)]) -> Result<usize, DemoError> {
        if events.is_empty() {
            return Ok(0);
        }
        let mut conn = self.pools.sessions.get().await?;
        let recorded = funnel::record(&mut conn, events).await?;
        for (milestone, account) in &recorded {
            self.metrics.milestone(*milestone, *account);
        }
        Ok(recorded.len())
    }

    /// What the demo page reports for its own session (screens viewed, sign-up started):
    /// rate-limited per session (`DEMO_EVENTS_PER_MINUTE`), only for a session still
    /// active. Answers how many were new.
    pub async fn page_events(
        &self,
        id: &SessionId,
        events: Vec<Event>,
    ) -> Result<usize, DemoError> {
        match self
            .cache
            .hit_event_limit(id.as_str(), self.settings.events_per_minute)
            .await
        {
            Ok(None) => {}
            Ok(Some(retry_after)) => return Err(DemoError::TooManyEvents { retry_after }),
            // Redis down: the events are bounded by the vocabulary anyway
            Err(e) => tracing::warn!(error = %e, "event rate limit unavailable"),
        }
        self.get(id).await?;
        let events: Vec<(String, Event)> = events
            .into_iter()
            .map(|e| (id.as_str().to_owned(), e))
            .collect();
        self.record_milestones(&events).await
    }

    /// The session's guided checklist, ticked from server-recorded milestones.
    pub async fn checklist(&self, id: &SessionId) -> Result<funnel::Checklist, DemoError> {
        self.get(id).await?;
        let mut conn = self.pools.sessions.get().await?;
        Ok(funnel::checklist(&mut conn, id.as_str()).await?)
    }
}
