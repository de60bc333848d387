//! The fast copy of sessions in Redis (what the gateway reads), invalidation messages, and
//! the per-client rate limit. Redis is never the truth: every failure here is logged and
//! the caller carries on with PostgreSQL.

use std::collections::HashSet;
use std::time::Duration;

use bakery_config::cache::{self, CacheError, Keys, RedisPool};
use bakery_config::demo::{CachedSession, SessionId, invalidation_channel, session_key};
use bakery_config::http::chain;
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Clone)]
pub struct SessionCache {
    pool: RedisPool,
    keys: Keys,
    /// `REDIS_SESSION_TTL`: the longest a copy lives (see [`copy_ttl`]).
    ttl_cap: Option<Duration>,
}

/// Why a session copy could not be written.
#[derive(Debug, thiserror::Error)]
enum CopyError {
    #[error("encoding the session")]
    Encode(#[source] serde_json::Error),
    #[error(transparent)]
    Redis(#[from] CacheError),
}

/// The TTL of a session's copy: the seconds it has left, at most `cap`; `None` once it has
/// ended (nothing to keep). A copy that expires before its session is no loss: the gateway
/// then asks demo-session (`GET /api/demo/session/{id}`), which answers from PostgreSQL.
pub fn copy_ttl(
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
    cap: Option<Duration>,
) -> Option<u64> {
    let left = u64::try_from((expires_at - now).num_seconds())
        .ok()
        .filter(|s| *s > 0)?;
    Some(cap.map_or(left, |cap| left.min(cap.as_secs().max(1))))
}

impl SessionCache {
    /// A cache whose copies live as long as their sessions (see [`Self::with_ttl_cap`]).
    pub fn new(pool: RedisPool, keys: Keys) -> Self {
        SessionCache {
            pool,
            keys,
            ttl_cap: None,
        }
    }

    /// Copies live at most `cap` (`REDIS_SESSION_TTL`), however long their session has left.
    #[must_use]
    pub fn with_ttl_cap(mut self, cap: Duration) -> Self {
        self.ttl_cap = Some(cap);
        self
    }

    pub fn pool(&self) -> &RedisPool {
        &self.pool
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// Stores the session with a TTL equal to the time it has left, at most the cap.
    pub async fn store(&self, session: &CachedSession) {
        let Some(ttl) = copy_ttl(session.expires_at, Utc::now(), self.ttl_cap) else {
            return self.forget(&session.session_id).await;
        };
        if let Err(e) = self.try_store(session, ttl).await {
            tracing::warn!(error = %chain(&e), session_id = %session.session_id, "redis: session copy not stored");
        }
    }

    async fn try_store(&self, session: &CachedSession, ttl: u64) -> Result<(), CopyError> {
        let json = serde_json::to_string(session).map_err(CopyError::Encode)?;
        let mut conn = self.pool.get().await.map_err(CacheError::from)?;
        redis::cmd("SET")
            .arg(session_key(&self.keys, &session.session_id))
            .arg(json)
            .arg("EX")
            .arg(ttl)
            .query_async::<()>(&mut conn)
            .await
            .map_err(CacheError::from)?;
        Ok(())
    }

    /// Drops the copy and tells every gateway to drop theirs.
    pub async fn forget(&self, session_id: &str) {
        let result = async {
            let mut conn = self.pool.get().await?;
            redis::pipe()
                .cmd("DEL")
                .arg(session_key(&self.keys, session_id))
                .ignore()
                .cmd("PUBLISH")
                .arg(invalidation_channel(&self.keys))
                .arg(session_id)
                .ignore()
                .query_async::<()>(&mut conn)
                .await?;
            Ok::<_, CacheError>(())
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %chain(&e), session_id, "redis: session copy not dropped");
        }
    }

    /// Tells gateways a session changed (extended): they re-read it.
    pub async fn announce(&self, session_id: &str) {
        let result = async {
            let mut conn = self.pool.get().await?;
            redis::cmd("PUBLISH")
                .arg(invalidation_channel(&self.keys))
                .arg(session_id)
                .query_async::<()>(&mut conn)
                .await?;
            Ok::<_, CacheError>(())
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %chain(&e), session_id, "redis: invalidation not published");
        }
    }

    /// Removes every key of these tenants (any service's cache) in one pass over the
    /// tenant keys, however many tenants. Errors are returned: cleanup retries them.
    pub async fn remove_tenant_keys(&self, tenants: &[Uuid]) -> Result<u64, CacheError> {
        match tenants {
            [] => Ok(0),
            [one] => {
                let pattern = format!("{}*", self.keys.tenant_prefix(one));
                cache::delete_matching(&self.pool, &pattern).await
            }
            many => {
                let wanted: HashSet<Uuid> = many.iter().copied().collect();
                cache::delete_matching_where(&self.pool, &self.keys.any_tenant_pattern(), |k| {
                    self.keys.tenant_of(k).is_some_and(|t| wanted.contains(&t))
                })
                .await
            }
        }
    }

    /// [`Self::forget`] for many sessions in one round trip.
    pub async fn forget_all(&self, session_ids: &[SessionId]) {
        if session_ids.is_empty() {
            return;
        }
        let result = async {
            let mut conn = self.pool.get().await?;
            let mut pipe = redis::pipe();
            let channel = invalidation_channel(&self.keys);
            pipe.cmd("UNLINK");
            for id in session_ids {
                pipe.arg(session_key(&self.keys, id.as_str()));
            }
            pipe.ignore();
            for id in session_ids {
                pipe.cmd("PUBLISH").arg(&channel).arg(id.as_str()).ignore();
            }
            pipe.query_async::<()>(&mut conn).await?;
            Ok::<_, CacheError>(())
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %chain(&e), sessions = session_ids.len(), "redis: session copies not dropped");
        }
    }

    /// Counts one creation for `client` in the current hour. `Ok(None)` when under the
    /// limit, `Ok(Some(retry_after_secs))` when over, `Err` when Redis is unavailable.
    /// The shared fixed-window counter (inventory's demo write quota uses it too).
    pub async fn hit_rate_limit(
        &self,
        client: &str,
        limit: u32,
    ) -> Result<Option<u64>, CacheError> {
        let key = self.keys.key(&["demo", "rate", client]);
        cache::fixed_window_hit(&self.pool, &key, u64::from(limit), 3600).await
    }

    /// Counts one `POST …/events` call of a session against its minute; `Some(seconds)`
    /// once over `limit`.
    pub async fn hit_event_limit(
        &self,
        session_id: &str,
        limit: u32,
    ) -> Result<Option<u64>, CacheError> {
        let key = self.keys.key(&["demo", "events", session_id]);
        cache::fixed_window_hit(&self.pool, &key, u64::from(limit), 60).await
    }

    /// Counts one `POST …/convert` of `client` (its keyed hash) against its hour.
    pub async fn hit_convert_limit(
        &self,
        client: &str,
        limit: u32,
    ) -> Result<Option<u64>, CacheError> {
        let key = self.keys.key(&["demo", "convert", client]);
        cache::fixed_window_hit(&self.pool, &key, u64::from(limit), 3600).await
    }

    /// Counts one `POST …/reset` of a session against its minute.
    pub async fn hit_reset_limit(
        &self,
        session_id: &str,
        limit: u32,
    ) -> Result<Option<u64>, CacheError> {
        let key = self.keys.key(&["demo", "reset", session_id]);
        cache::fixed_window_hit(&self.pool, &key, u64::from(limit), 60).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_lives_as_long_as_its_session_at_most_the_cap() {
        let now = Utc::now();
        let in_30_min = now + chrono::Duration::minutes(30);
        assert_eq!(copy_ttl(in_30_min, now, None), Some(1800));
        assert_eq!(
            copy_ttl(in_30_min, now, Some(Duration::from_secs(3600))),
            Some(1800)
        );
        assert_eq!(
            copy_ttl(in_30_min, now, Some(Duration::from_secs(600))),
            Some(600)
        );
        // ended: no copy, whatever the cap
        assert_eq!(copy_ttl(now, now, Some(Duration::from_secs(600))), None);
        assert_eq!(
            copy_ttl(now - chrono::Duration::seconds(5), now, None),
            None
        );
    }
}
