//! Resolving demo sessions: a short-lived in-process cache, then the copy demo-session
//! keeps in Redis, then demo-session itself (`GET /api/demo/session/{id}`), so demo
//! sessions keep working while Redis is down. Cached entries are dropped when demo-session
//! publishes the session id on the invalidation channel (extended, destroyed, expired).

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use bakery_config::cache::{Keys, RedisPool};
use bakery_config::demo::{self, CachedSession, SessionId, SessionStatus};
use futures_util::StreamExt;

use crate::error::GatewayError;

/// After a Redis error, Redis is skipped for this long (straight to demo-session).
const REDIS_BACKOFF: Duration = Duration::from_secs(2);
/// Past this many entries the cache drops stale ones (and everything if still too big).
const MAX_ENTRIES: usize = 50_000;

struct Entry {
    session: CachedSession,
    fresh_until: Instant,
}

pub struct SessionResolver {
    cache: RwLock<HashMap<String, Entry>>,
    cache_ttl: Duration,
    redis: RedisPool,
    keys: Keys,
    http: reqwest::Client,
    demo_session_url: String,
    lookup_timeout: Duration,
    /// Unix milliseconds before which Redis is not asked.
    redis_skip_until: AtomicI64,
}

impl SessionResolver {
    pub fn new(
        redis: RedisPool,
        keys: Keys,
        http: reqwest::Client,
        demo_session_url: String,
        cache_ttl: Duration,
        lookup_timeout: Duration,
    ) -> Self {
        SessionResolver {
            cache: RwLock::new(HashMap::new()),
            cache_ttl,
            redis,
            keys,
            http,
            demo_session_url,
            lookup_timeout,
            redis_skip_until: AtomicI64::new(0),
        }
    }

    /// The session as last known (active or not: the caller decides).
    pub async fn resolve(&self, id: &SessionId) -> Result<CachedSession, GatewayError> {
        if let Some(session) = self.cached(id.as_str()) {
            return Ok(session);
        }
        let session = match self.ask_redis(id).await {
            Some(session) => session,
            None => self.ask_demo_session(id).await?,
        };
        self.remember(&session);
        Ok(session)
    }

    fn cached(&self, id: &str) -> Option<CachedSession> {
        let cache = self.cache.read().ok()?;
        let entry = cache.get(id)?;
        (entry.fresh_until > Instant::now()).then(|| entry.session.clone())
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
        let Ok(mut cache) = self.cache.write() else {
            return;
        };
        if cache.len() >= MAX_ENTRIES {
            let now = Instant::now();
            cache.retain(|_, e| e.fresh_until > now);
            if cache.len() >= MAX_ENTRIES {
                cache.clear();
            }
        }
        cache.insert(
            session.session_id.clone(),
            Entry {
                session: session.clone(),
                fresh_until: Instant::now() + ttl,
            },
        );
    }

    /// Drops one session's cached copy (an invalidation message).
    pub fn forget(&self, id: &str) {
        if let Ok(mut cache) = self.cache.write() {
            cache.remove(id);
        }
    }

    /// Drops every cached copy (messages may have been missed while unsubscribed).
    pub fn forget_all(&self) {
        if let Ok(mut cache) = self.cache.write() {
            cache.clear();
        }
    }

    /// `None` when Redis has no copy, cannot be reached, or holds something unreadable.
    async fn ask_redis(&self, id: &SessionId) -> Option<CachedSession> {
        let now_ms = chrono::Utc::now().timestamp_millis();
        if self.redis_skip_until.load(Ordering::Relaxed) > now_ms {
            return None;
        }
        let key = demo::session_key(&self.keys, id.as_str());
        let result: Result<Option<String>, String> = async {
            let mut conn = self.redis.get().await.map_err(|e| e.to_string())?;
            redis::cmd("GET")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .map_err(|e| e.to_string())
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
                let until = now_ms + REDIS_BACKOFF.as_millis() as i64;
                self.redis_skip_until.store(until, Ordering::Relaxed);
                None
            }
        }
    }

    async fn ask_demo_session(&self, id: &SessionId) -> Result<CachedSession, GatewayError> {
        let url = format!("{}/api/demo/session/{}", self.demo_session_url, id);
        let unavailable = |e: String| {
            tracing::warn!(error = %e, "demo-session lookup failed");
            GatewayError::SessionLookupUnavailable(e)
        };
        let response = self
            .http
            .get(&url)
            .timeout(self.lookup_timeout)
            .send()
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        match response.status().as_u16() {
            200 => response
                .json::<CachedSession>()
                .await
                .map_err(|e| unavailable(e.to_string())),
            404 => Err(GatewayError::SessionNotFound),
            401 | 410 => Err(GatewayError::SessionExpired),
            status => Err(unavailable(format!("demo-session answered {status}"))),
        }
    }
}

/// Listens on the invalidation channel until the process ends, reconnecting with a
/// growing pause (0.5 s to 10 s) when Redis goes away.
pub async fn listen_for_invalidations(
    resolver: std::sync::Arc<SessionResolver>,
    redis_url: String,
    channel: String,
) {
    let mut pause = Duration::from_millis(500);
    loop {
        match subscribe(&resolver, &redis_url, &channel).await {
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
    redis_url: &str,
    channel: &str,
) -> redis::RedisResult<()> {
    let client = redis::Client::open(redis_url)?;
    let mut pubsub = client.get_async_pubsub().await?;
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
