//! Resolving demo sessions: a short-lived in-process cache, then the copy demo-session
//! keeps in Redis, then demo-session itself (`GET /api/demo/session/{id}`), so demo
//! sessions keep working while Redis is down. Cached entries are dropped when demo-session
//! publishes the session id on the invalidation channel (extended, destroyed, expired).
//!
//! Before anything is asked, a session id must carry the tag of the session key, the
//! client must not be over its refused credentials, and the id must not be a recently
//! refused one ([`crate::refusals`]): a made-up id costs a hash, never a lookup.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use bakery_config::cache::{CacheError, Keys, RedisPool};
use bakery_config::client::ClientAddress;
use bakery_config::demo::{self, CachedSession, SessionId, SessionIdKey, SessionStatus};
use futures_util::StreamExt;
use moka::sync::Cache;

use crate::error::GatewayError;
use crate::metrics::GatewayMetrics;
use crate::refusals::{Refusal, Refusals};

/// Why demo-session could not say whether a session exists.
#[derive(Debug, thiserror::Error)]
pub enum LookupFailure {
    /// No answer in time, or an unreadable one.
    #[error(transparent)]
    Request(#[from] reqwest::Error),
    /// An answer other than found, not found or ended.
    #[error("demo-session answered {0}")]
    Status(u16),
}

/// After a Redis error, Redis is skipped for this many milliseconds (straight to
/// demo-session).
const REDIS_BACKOFF_MS: i64 = 2_000;
/// The most sessions kept in process (each a few hundred bytes).
const MAX_ENTRIES: u64 = 50_000;

#[derive(Clone)]
struct Entry {
    session: CachedSession,
    fresh_until: Instant,
}

pub struct SessionResolver {
    cache: Cache<String, Entry>,
    cache_ttl: Duration,
    id_key: SessionIdKey,
    refusals: Refusals,
    redis: RedisPool,
    keys: Keys,
    http: reqwest::Client,
    demo_session_url: String,
    lookup_timeout: Duration,
    /// Unix milliseconds before which Redis is not asked.
    redis_skip_until: AtomicI64,
    metrics: GatewayMetrics,
}

impl SessionResolver {
    #[expect(
        clippy::too_many_arguments,
        reason = "one call site (startup), each argument a distinct part"
    )]
    pub fn new(
        redis: RedisPool,
        keys: Keys,
        http: reqwest::Client,
        demo_session_url: String,
        cache_ttl: Duration,
        lookup_timeout: Duration,
        id_key: SessionIdKey,
        refusals: Refusals,
        metrics: GatewayMetrics,
    ) -> Self {
        SessionResolver {
            cache: Cache::builder()
                .max_capacity(MAX_ENTRIES)
                .time_to_live(cache_ttl.max(Duration::from_millis(1)))
                .build(),
            cache_ttl,
            id_key,
            refusals,
            redis,
            keys,
            http,
            demo_session_url,
            lookup_timeout,
            redis_skip_until: AtomicI64::new(0),
            metrics,
        }
    }

    /// The refused credentials of each client.
    pub fn refusals(&self) -> &Refusals {
        &self.refusals
    }

    /// The session as last known (active or not: the caller decides).
    pub async fn resolve(
        &self,
        id: &SessionId,
        client: ClientAddress,
    ) -> Result<CachedSession, GatewayError> {
        if let Some(session) = self.cached(id.as_str()) {
            self.metrics.session_cache(true);
            return Ok(session);
        }
        if !id.is_authentic(&self.id_key) {
            return Err(GatewayError::SessionNotFound);
        }
        // made-up ids are not misses: they never reach a lookup
        self.metrics.session_cache(false);
        if let Some(refusal) = self.refusals.remembered(id.as_str()) {
            return Err(refusal.into());
        }
        self.refusals.check(client)?;
        let session = match self.ask_redis(id).await {
            Some(session) => session,
            None => match self.ask_demo_session(id).await {
                Ok(session) => session,
                Err(e) => {
                    match e {
                        GatewayError::SessionNotFound => {
                            self.refusals.remember(id.as_str(), Refusal::Unknown);
                        }
                        GatewayError::SessionExpired => {
                            self.refusals.remember(id.as_str(), Refusal::Ended);
                        }
                        _ => {}
                    }
                    return Err(e);
                }
            },
        };
        if !session.is_active(chrono::Utc::now()) && session.status != SessionStatus::Pending {
            self.refusals.remember(id.as_str(), Refusal::Ended);
        }
        self.remember(&session);
        Ok(session)
    }

    fn cached(&self, id: &str) -> Option<CachedSession> {
        let entry = self.cache.get(id)?;
        (entry.fresh_until > Instant::now()).then_some(entry.session)
    }

    /// Caches ready sessions only: a pending one is about to change, and an ended one is
    /// refused anyway.
    fn remember(&self, session: &CachedSession) {
        if session.status != SessionStatus::Ready {
            return;
        }
        let left = (session.expires_at - chrono::Utc::now())
            .to_std()
            .unwrap_or_default();
        let ttl = self.cache_ttl.min(left);
        if ttl.is_zero() {
            return;
        }
        self.cache.insert(
            session.session_id.clone(),
            Entry {
                session: session.clone(),
                fresh_until: Instant::now() + ttl,
            },
        );
    }

    /// Drops one session's cached copy and any remembered refusal (an invalidation
    /// message: the session was extended, ended or removed).
    pub fn forget(&self, id: &str) {
        self.cache.invalidate(id);
        self.refusals.forget(id);
    }

    /// Drops every cached copy (messages may have been missed while unsubscribed).
    pub fn forget_all(&self) {
        self.cache.invalidate_all();
    }

    /// `None` when Redis has no copy, cannot be reached, or holds something unreadable.
    async fn ask_redis(&self, id: &SessionId) -> Option<CachedSession> {
        let now_ms = chrono::Utc::now().timestamp_millis();
        if self.redis_skip_until.load(Ordering::Relaxed) > now_ms {
            return None;
        }
        let key = demo::session_key(&self.keys, id.as_str());
        let result: Result<Option<String>, CacheError> = async {
            let mut conn = self.redis.get().await?;
            Ok(redis::cmd("GET").arg(&key).query_async(&mut conn).await?)
        }
        .await;
        match result {
            Ok(Some(json)) => match serde_json::from_str(&json) {
                Ok(session) => Some(session),
                Err(e) => {
                    tracing::warn!(%key, error = %e, "unreadable demo session in Redis");
                    None
                }
            },
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, "Redis unavailable, asking demo-session");
                let until = now_ms.saturating_add(REDIS_BACKOFF_MS);
                self.redis_skip_until.store(until, Ordering::Relaxed);
                None
            }
        }
    }

    async fn ask_demo_session(&self, id: &SessionId) -> Result<CachedSession, GatewayError> {
        let url = format!("{}/api/demo/session/{}", self.demo_session_url, id);
        let unavailable = |e: LookupFailure| {
            tracing::warn!(error = %e, "demo-session lookup failed");
            GatewayError::SessionLookupUnavailable(e)
        };
        let response = self
            .http
            .get(&url)
            .timeout(self.lookup_timeout)
            .send()
            .await
            .map_err(|e| unavailable(e.into()))?;
        match response.status().as_u16() {
            200 => response
                .json::<CachedSession>()
                .await
                .map_err(|e| unavailable(e.into())),
            404 => Err(GatewayError::SessionNotFound),
            401 | 410 => Err(GatewayError::SessionExpired),
            status => Err(unavailable(LookupFailure::Status(status))),
        }
    }
}

/// Listens on the invalidation channel until the process ends, reconnecting with a
/// growing pause (0.5 s to 10 s) when Redis goes away.
pub async fn listen_for_invalidations(
    resolver: std::sync::Arc<SessionResolver>,
    redis: redis::Client,
    channel: String,
) {
    let mut pause = Duration::from_millis(500);
    loop {
        match subscribe(&resolver, &redis, &channel).await {
            Ok(()) => {
                tracing::warn!("invalidation subscription ended, reconnecting");
                pause = Duration::from_millis(500);
            }
            Err(e) => tracing::warn!(error = %e, "invalidation subscription failed"),
        }
        resolver.forget_all();
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(10));
    }
}

async fn subscribe(
    resolver: &SessionResolver,
    redis: &redis::Client,
    channel: &str,
) -> redis::RedisResult<()> {
    let mut pubsub = redis.get_async_pubsub().await?;
    pubsub.subscribe(channel).await?;
    // anything cached before the subscription may have been invalidated meanwhile
    resolver.forget_all();
    tracing::info!(channel, "listening for demo session invalidations");
    let mut messages = pubsub.on_message();
    while let Some(message) = messages.next().await {
        match message.get_payload::<String>() {
            Ok(id) => {
                tracing::debug!(session_id = %id, "demo session invalidated");
                resolver.forget(id.trim());
            }
            Err(e) => tracing::warn!(error = %e, "unreadable invalidation message"),
        }
    }
    Ok(())
}
