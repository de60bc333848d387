//! The demo session lifecycle: `pending → ready → expired → destroyed`, or
//! `pending → failed` with everything it created removed.
//!
//! PostgreSQL (`demo_sessions`) is the truth; Redis holds the fast copy the gateway reads.
//! Creating a session is a small saga across the tenant and inventory databases: both
//! steps run concurrently, and if either fails, whatever the other created is removed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use bakery_config::auth::{SESSION_AUDIENCE, TokenKeys};
use bakery_config::client::ClientAddress;
use bakery_config::db::PgPool;
use bakery_config::demo::{
    AccountType, CachedSession, SessionClaims, SessionId, SessionIdKey, SessionStatus,
};
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use serde::Serialize;
use tokio::sync::RwLock;
use uuid::Uuid;

use crate::client::client_hash;
use crate::cloner::{self, ClonePlan, CloneRequest};
use crate::error::DemoError;
use crate::jobs::JobCloner;
use crate::pool;
use crate::redis_copy::SessionCache;
use crate::sessions::{self, DemoSession, NewDemoSession};
use crate::settings::{CloneStrategy, Settings};

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
    pub session_id: String,
    pub virtual_tenant_id: Uuid,
    pub demo_account_type: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub seconds_left: i64,
    pub extensions_used: i32,
    pub extensions_left: i32,
    pub max_extensions: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_token: Option<String>,
}

/// What one removal took away.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Removal {
    pub session_id: String,
    pub virtual_tenant_id: Uuid,
    pub tenant_rows: i64,
    pub inventory_rows: HashMap<String, i64>,
    pub redis_keys: u64,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct CleanupReport {
    /// Sessions that passed their end in this run.
    pub expired: Vec<String>,
    /// Sessions whose data this run removed.
    pub cleaned: Vec<Removal>,
    /// Virtual tenants without a session that this run removed.
    pub orphans_removed: Vec<Uuid>,
    /// Warm pool tenants of an earlier day (or whose clone got stuck) this run removed.
    pub warm_removed: Vec<Uuid>,
    /// Removals that failed; retried by a later run.
    pub failures: Vec<CleanupFailure>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CleanupFailure {
    pub session_id: String,
    pub error: String,
}

pub struct DemoSessions {
    pools: Pools,
    cache: SessionCache,
    settings: Arc<Settings>,
    plan: ClonePlan,
    templates: RwLock<HashMap<AccountType, Uuid>>,
    token_keys: TokenKeys,
    /// Tags new session ids, so the gateway refuses made-up ones without a lookup.
    id_key: SessionIdKey,
    jobs: Option<JobCloner>,
    /// Wakes the pool refiller (a slot was claimed).
    refill: tokio::sync::Notify,
}

impl DemoSessions {
    /// Reads the clone plan from the inventory schema (so the inventory database must be
    /// migrated) and prepares the Kubernetes client when that strategy is on.
    pub async fn new(
        settings: Arc<Settings>,
        pools: Pools,
        cache: SessionCache,
    ) -> anyhow::Result<Self> {
        let plan = {
            let mut conn = pools.inventory.get().await?;
            ClonePlan::load(&mut conn).await?
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
        Ok(DemoSessions {
            token_keys: TokenKeys::new(&settings.session_secret, SESSION_AUDIENCE),
            id_key: SessionIdKey::new(&settings.session_secret),
            pools,
            cache,
            settings,
            plan,
            templates: RwLock::new(HashMap::new()),
            jobs,
            refill: tokio::sync::Notify::new(),
        })
    }

    pub fn plan(&self) -> &ClonePlan {
        &self.plan
    }

    fn max_extensions(&self) -> i32 {
        i32::try_from(self.settings.demo.max_extensions).unwrap_or(i32::MAX)
    }

    fn view(&self, s: &DemoSession, token: Option<String>) -> SessionView {
        let now = Utc::now();
        let status = if s.status == "ready" && s.expires_at <= now {
            "expired".to_owned()
        } else {
            s.status.clone()
        };
        SessionView {
            session_id: s.id.clone(),
            virtual_tenant_id: s.virtual_tenant_id,
            demo_account_type: s.demo_account_type.clone(),
            status,
            created_at: s.created_at,
            expires_at: s.expires_at,
            seconds_left: (s.expires_at - now).num_seconds().max(0),
            extensions_used: s.extensions_used,
            extensions_left: (self.max_extensions() - s.extensions_used).max(0),
            max_extensions: self.max_extensions(),
            session_token: token,
        }
    }

    fn cached(s: &DemoSession) -> Option<CachedSession> {
        Some(CachedSession {
            session_id: s.id.clone(),
            virtual_tenant_id: s.virtual_tenant_id,
            demo_account_type: s.demo_account_type.parse().ok()?,
            status: s.status.parse::<SessionStatus>().ok()?,
            expires_at: s.expires_at,
        })
    }

    async fn template_for(&self, account: AccountType) -> Result<Uuid, DemoError> {
        if let Some(id) = self.templates.read().await.get(&account) {
            return Ok(*id);
        }
        let mut conn = self.pools.tenant.get().await.map_err(db_pool)?;
        let id = cloner::find_template(&mut conn, account.as_str())
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
                let mut conn = self.pools.sessions.get().await.map_err(db_pool)?;
                let recent = sessions::count_recent_for_client(&mut conn, client).await?;
                if recent >= i64::from(limit) {
                    Err(DemoError::RateLimited { retry_after: 600 })
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Creates a session: limits, pending row, clone, ready, Redis copy, token.
    pub async fn create(
        &self,
        account: AccountType,
        client: ClientAddress,
    ) -> Result<SessionView, DemoError> {
        let ip_hash = client_hash(&self.settings.ip_hash_key, client);
        self.check_rate_limit(&ip_hash).await?;
        let template_id = self.template_for(account).await?;
        let id = SessionId::generate(&self.id_key);
        let duration = chrono::Duration::from_std(self.settings.demo.session_duration)
            .map_err(|e| DemoError::Internal(e.to_string()))?;
        let expires_at = Utc::now() + duration;
        let virtual_tenant_id = Uuid::new_v4();
        let new_session = NewDemoSession {
            id: id.as_str(),
            virtual_tenant_id,
            base_tenant_id: template_id,
            demo_account_type: account.as_str(),
            status: "pending",
            clone_strategy: self.settings.clone_strategy.as_str(),
            client_ip_hash: Some(&ip_hash),
            expires_at,
        };
        let started = Instant::now();
        let mut conn = self.pools.sessions.get().await.map_err(db_pool)?;
        let warm = self.admit(&mut conn, account, &new_session).await?;
        if let Some(session) = warm {
            let answer = self.hand_over(conn, session, account, started).await;
            // refill only once the prospect has their answer: a clone running alongside
            // would compete with the hand-over for the CPU
            self.refill.notify_one();
            return answer;
        }
        if self.pool_enabled() {
            self.refill.notify_one();
            tracing::info!(%account, "warm pool empty: cloning on demand");
        }

        let request = CloneRequest {
            template_id,
            virtual_tenant_id,
            session_id: id.to_string(),
            account_type: account.as_str().to_owned(),
            expires_at,
        };
        let started = Instant::now();
        let cloned = match &self.jobs {
            None => self.clone_inline(&request).await,
            Some(jobs) => jobs.run(&request).await.map_err(DemoError::CloneFailed),
        };
        if let Err(e) = cloned {
            tracing::error!(session_id = %id, error = %e, "clone failed");
            sessions::mark_failed(&mut conn, id.as_str(), &e.to_string()).await?;
            if self
                .remove_data(Some(&request.session_id), virtual_tenant_id)
                .await
                .is_ok()
            {
                sessions::mark_removed(&mut conn, id.as_str()).await?;
            }
            return Err(e);
        }
        let clone_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
        let Some(ready) = sessions::mark_ready(&mut conn, id.as_str(), clone_ms).await? else {
            // cleanup gave up on it while we were cloning
            return Err(DemoError::CloneFailed(
                "session no longer pending".to_owned(),
            ));
        };
        drop(conn);
        if let Some(c) = Self::cached(&ready) {
            self.cache.store(&c).await;
        }
        let token = self.sign_token(&ready, account)?;
        tracing::info!(session_id = %id, %virtual_tenant_id, clone_ms, "demo session ready");
        Ok(self.view(&ready, Some(token)))
    }

    fn pool_enabled(&self) -> bool {
        self.settings.warm_pool_size > 0 && self.jobs.is_none()
    }

    /// Admits a new session under the global cap: a warm pool tenant when one is ready
    /// (`Some`), otherwise a `pending` row to clone for (`None`). Admissions are
    /// serialised by a transaction-scoped advisory lock, so a burst of concurrent creates
    /// can never go past `DEMO_MAX_ACTIVE_SESSIONS` (a count and an insert in separate
    /// statements would let every one of them see room for itself).
    async fn admit(
        &self,
        conn: &mut bakery_config::db::PgConn,
        account: AccountType,
        new: &NewDemoSession<'_>,
    ) -> Result<Option<DemoSession>, DemoError> {
        let cap = i64::from(self.settings.max_active_sessions);
        let pool_enabled = self.pool_enabled();
        conn.transaction::<_, DemoError, _>(async |c| {
            sessions::lock_admissions(c).await?;
            if sessions::count_active(c).await? >= cap {
                return Err(DemoError::CapacityReached { retry_after: 60 });
            }
            if pool_enabled
                && let Some(warm) =
                    pool::claim(c, account, new.id, new.client_ip_hash, new.expires_at).await?
            {
                return Ok(Some(warm));
            }
            sessions::insert(c, new).await?;
            Ok(None)
        })
        .await
    }

    /// Turns a claimed pool tenant into the session's: its tenant row takes the session id
    /// and end, then the session is ready.
    async fn hand_over(
        &self,
        mut conn: bakery_config::db::PgConn,
        session: DemoSession,
        account: AccountType,
        started: Instant,
    ) -> Result<SessionView, DemoError> {
        let adopted = {
            let mut tenant = self.pools.tenant.get().await.map_err(db_pool)?;
            cloner::adopt_virtual_tenant(
                &mut tenant,
                session.virtual_tenant_id,
                &session.id,
                session.expires_at,
            )
            .await
        };
        if let Err(e) = adopted {
            // the session row owns the tenant now: failing it lets cleanup remove it
            sessions::mark_failed(&mut conn, &session.id, &e.to_string()).await?;
            return Err(e.into());
        }
        let clone_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
        let ready = sessions::mark_ready(&mut conn, &session.id, clone_ms)
            .await?
            .ok_or_else(|| DemoError::CloneFailed("session no longer pending".to_owned()))?;
        drop(conn);
        if let Some(c) = Self::cached(&ready) {
            self.cache.store(&c).await;
        }
        let token = self.sign_token(&ready, account)?;
        tracing::info!(session_id = %ready.id, virtual_tenant_id = %ready.virtual_tenant_id, clone_ms, "demo session ready (warm pool)");
        Ok(self.view(&ready, Some(token)))
    }

    /// Tops the warm pool up to `DEMO_WARM_POOL_SIZE` per account type; answers how many
    /// tenants it cloned.
    pub async fn refill_pool(&self) -> Result<usize, DemoError> {
        if !self.pool_enabled() {
            return Ok(0);
        }
        let mut cloned = 0;
        for account in AccountType::ALL {
            let template = match self.template_for(account).await {
                Ok(t) => t,
                Err(DemoError::TemplateMissing) => continue,
                Err(e) => return Err(e),
            };
            let slots = {
                let mut conn = self.pools.sessions.get().await.map_err(db_pool)?;
                pool::reserve(&mut conn, account, template, self.settings.warm_pool_size).await?
            };
            for tenant in slots {
                let request = CloneRequest {
                    template_id: template,
                    virtual_tenant_id: tenant,
                    session_id: pool::placeholder_session_id(tenant),
                    account_type: account.as_str().to_owned(),
                    // a placeholder until a session adopts it; cleanup removes stale slots
                    expires_at: Utc::now() + chrono::Duration::days(1),
                };
                let result = self.clone_inline(&request).await;
                let mut conn = self.pools.sessions.get().await.map_err(db_pool)?;
                match result {
                    Ok(()) => {
                        pool::mark_warm(&mut conn, tenant).await?;
                        cloned += 1;
                    }
                    Err(e) => {
                        tracing::warn!(%tenant, error = %e, "warm pool clone failed");
                        if self.remove_data(None, tenant).await.is_ok() {
                            pool::release(&mut conn, tenant).await?;
                        }
                    }
                }
            }
        }
        Ok(cloned)
    }

    /// Waits until a slot was claimed (or `max_wait` passed).
    pub async fn refill_wanted(&self, max_wait: std::time::Duration) {
        let _ = tokio::time::timeout(max_wait, self.refill.notified()).await;
    }

    fn sign_token(&self, s: &DemoSession, account: AccountType) -> Result<String, DemoError> {
        let claims = SessionClaims {
            sub: s.id.clone(),
            virtual_tenant_id: s.virtual_tenant_id,
            demo_account_type: account,
            aud: SESSION_AUDIENCE.to_owned(),
            iat: Utc::now().timestamp(),
            exp: s.expires_at.timestamp(),
        };
        self.token_keys
            .sign(&claims)
            .map_err(|e| DemoError::Internal(e.to_string()))
    }

    /// Both databases at once; on any failure, whatever was created is removed.
    async fn clone_inline(&self, req: &CloneRequest) -> Result<(), DemoError> {
        let (mut tenant, mut inventory) =
            tokio::try_join!(self.pools.tenant.get(), self.pools.inventory.get())
                .map_err(|e| DemoError::CloneFailed(e.to_string()))?;
        let (t, i) = tokio::join!(
            cloner::create_virtual_tenant(&mut tenant, req),
            cloner::copy_inventory(&mut inventory, &self.plan, req)
        );
        t?;
        i?;
        Ok(())
    }

    async fn find(&self, id: &SessionId) -> Result<DemoSession, DemoError> {
        let mut conn = self.pools.sessions.get().await.map_err(db_pool)?;
        sessions::find(&mut conn, id.as_str())
            .await?
            .ok_or(DemoError::NotFound)
    }

    /// The session as it is now; ended sessions answer `session_expired`.
    pub async fn get(&self, id: &SessionId) -> Result<SessionView, DemoError> {
        let s = self.find(id).await?;
        let view = self.view(&s, None);
        match view.status.as_str() {
            "ready" | "pending" => Ok(view),
            _ => Err(DemoError::Expired),
        }
    }

    /// Adds one session duration, at most `DEMO_SESSION_MAX_EXTENSIONS` times.
    pub async fn extend(&self, id: &SessionId) -> Result<SessionView, DemoError> {
        let mut conn = self.pools.sessions.get().await.map_err(db_pool)?;
        let extended = sessions::extend(
            &mut conn,
            id.as_str(),
            self.settings.demo.session_duration,
            self.max_extensions(),
        )
        .await?;
        let Some(s) = extended else {
            let current = sessions::find(&mut conn, id.as_str())
                .await?
                .ok_or(DemoError::NotFound)?;
            let view = self.view(&current, None);
            return Err(match view.status.as_str() {
                "pending" => DemoError::NotReady,
                "ready" => DemoError::NoExtensionsLeft,
                _ => DemoError::Expired,
            });
        };
        drop(conn);
        let mut tenant = self.pools.tenant.get().await.map_err(db_pool)?;
        cloner::set_tenant_expiry(&mut tenant, s.virtual_tenant_id, s.expires_at).await?;
        if let Some(c) = Self::cached(&s) {
            self.cache.store(&c).await;
        }
        self.cache.announce(&s.id).await;
        let account: AccountType = s
            .demo_account_type
            .parse()
            .map_err(|_| DemoError::Internal("bad account type in database".to_owned()))?;
        let token = self.sign_token(&s, account)?;
        Ok(self.view(&s, Some(token)))
    }

    /// Ends a session now and removes its data. `Ok(None)` when the session has ended
    /// but its data is still being removed (a sweeper holds it, or the removal failed and
    /// is retried): the gateway already refuses it either way.
    pub async fn destroy(&self, id: &SessionId) -> Result<Option<Removal>, DemoError> {
        let mut conn = self.pools.sessions.get().await.map_err(db_pool)?;
        let ended = sessions::end_now(&mut conn, id.as_str()).await?;
        drop(conn);
        let Some(s) = ended else {
            // unknown, or already ended: report which
            self.find(id).await?;
            return Err(DemoError::Expired);
        };
        self.cache.forget(&s.id).await;
        self.clean_one(&s.id).await
    }

    /// Removes one session's data if nobody else is cleaning it.
    async fn clean_one(&self, id: &str) -> Result<Option<Removal>, DemoError> {
        let mut conn = self.pools.sessions.get().await.map_err(db_pool)?;
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
        conn: &mut bakery_config::db::AsyncPgConnection,
        s: &DemoSession,
    ) -> Result<Option<Removal>, DemoError> {
        match self.remove_data(Some(&s.id), s.virtual_tenant_id).await {
            Ok(removal) => {
                sessions::mark_cleaned(conn, &s.id).await?;
                Ok(Some(removal))
            }
            Err(e) => {
                tracing::warn!(session_id = %s.id, error = %e, "cleanup failed; will retry");
                sessions::record_cleanup_failure(conn, &s.id, &e).await?;
                Ok(None)
            }
        }
    }

    /// Removes a virtual tenant's rows from every database and its Redis keys.
    async fn remove_data(&self, session_id: Option<&str>, tenant: Uuid) -> Result<Removal, String> {
        let (mut inv, mut ten) =
            tokio::try_join!(self.pools.inventory.get(), self.pools.tenant.get())
                .map_err(|e| e.to_string())?;
        let inventory_rows = cloner::remove_inventory(&mut inv, &self.plan, tenant)
            .await
            .map_err(|e| e.to_string())?;
        let tenant_rows = cloner::remove_virtual_tenant(&mut ten, tenant)
            .await
            .map_err(|e| e.to_string())?;
        let redis_keys = self.cache.remove_tenant_keys(tenant).await?;
        if let Some(id) = session_id {
            self.cache.forget(id).await;
        }
        Ok(Removal {
            session_id: session_id.unwrap_or_default().to_owned(),
            virtual_tenant_id: tenant,
            tenant_rows,
            inventory_rows,
            redis_keys,
        })
    }

    /// One cleanup pass: expire, remove what ended or got stuck, remove orphans. Safe to
    /// run on several replicas at once: rows are claimed with `FOR UPDATE SKIP LOCKED`.
    pub async fn cleanup(&self) -> Result<CleanupReport, DemoError> {
        let mut report = CleanupReport::default();
        let mut conn = self.pools.sessions.get().await.map_err(db_pool)?;
        report.expired = sessions::expire_due(&mut conn).await?;
        for id in &report.expired {
            self.cache.forget(id).await;
        }
        loop {
            let pending_timeout = self.settings.pending_timeout;
            let batch = conn
                .transaction::<_, DemoError, _>(async |c| {
                    let claimed = sessions::claim_for_cleanup(c, pending_timeout, 20).await?;
                    let mut done = Vec::new();
                    for s in &claimed {
                        match self.clean_claimed(c, s).await? {
                            Some(r) => done.push(Ok(r)),
                            None => done.push(Err(CleanupFailure {
                                session_id: s.id.clone(),
                                error: "removal failed; retried later".to_owned(),
                            })),
                        }
                    }
                    Ok(done)
                })
                .await?;
            if batch.is_empty() {
                break;
            }
            let all_failed = batch.iter().all(Result::is_err);
            for r in batch {
                match r {
                    Ok(removal) => report.cleaned.push(removal),
                    Err(f) => report.failures.push(f),
                }
            }
            if all_failed {
                break;
            }
        }
        let stuck_after = self.settings.pending_timeout;
        report.warm_removed = conn
            .transaction::<_, DemoError, _>(async |c| {
                let stale = pool::claim_stale(c, stuck_after).await?;
                let mut removed = Vec::new();
                for tenant in stale {
                    match self.remove_data(None, tenant).await {
                        Ok(_) => {
                            pool::release(c, tenant).await?;
                            removed.push(tenant);
                        }
                        Err(e) => {
                            tracing::warn!(%tenant, error = %e, "stale pool slot not removed")
                        }
                    }
                }
                Ok(removed)
            })
            .await?;
        drop(conn);
        report.orphans_removed = self.remove_orphans().await?;
        Ok(report)
    }

    /// Virtual tenants whose session row is gone or already removed.
    async fn remove_orphans(&self) -> Result<Vec<Uuid>, DemoError> {
        let candidates = {
            let mut ten = self.pools.tenant.get().await.map_err(db_pool)?;
            cloner::virtual_tenants(&mut ten).await?
        };
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let owned = {
            let mut conn = self.pools.sessions.get().await.map_err(db_pool)?;
            let mut owned = sessions::tenants_with_sessions(&mut conn, &candidates).await?;
            owned.extend(pool::owned(&mut conn, &candidates).await?);
            owned
        };
        let mut removed = Vec::new();
        for tenant in candidates.into_iter().filter(|t| !owned.contains(t)) {
            match self.remove_data(None, tenant).await {
                Ok(_) => removed.push(tenant),
                Err(e) => tracing::warn!(%tenant, error = %e, "orphan removal failed"),
            }
        }
        Ok(removed)
    }

    /// Sessions by status and account type, created per hour, extensions, durations.
    pub async fn stats(&self) -> Result<serde_json::Value, DemoError> {
        let mut conn = self.pools.sessions.get().await.map_err(db_pool)?;
        crate::stats::collect(&mut conn, self.max_extensions()).await
    }
}

fn db_pool(e: impl std::fmt::Display) -> DemoError {
    DemoError::Internal(format!("database pool: {e}"))
}
