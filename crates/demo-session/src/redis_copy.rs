//! The fast copy of sessions in Redis (what the gateway reads), invalidation messages, and
//! the per-client rate limit. Redis is never the truth: every failure here is logged and
//! the caller carries on with PostgreSQL.

use bakery_config::cache::{self, Keys, RedisPool};
use bakery_config::demo::{CachedSession, invalidation_channel, session_key};
use chrono::Utc;
use uuid::Uuid;

#[derive(Clone)]
pub struct SessionCache {
    pool: RedisPool,
    keys: Keys,
}

impl SessionCache {
    pub fn new(pool: RedisPool, keys: Keys) -> Self {
        SessionCache { pool, keys }
    }

    pub fn pool(&self) -> &RedisPool {
        &self.pool
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// Stores the session with a TTL equal to the time it has left.
    pub async fn store(&self, session: &CachedSession) {
        let ttl = (session.expires_at - Utc::now()).num_seconds();
        if ttl <= 0 {
            return self.forget(&session.session_id).await;
        }
        let result = async {
            let json = serde_json::to_string(session).map_err(|e| e.to_string())?;
            let mut conn = self.pool.get().await.map_err(|e| e.to_string())?;
            redis::cmd("SET")
                .arg(session_key(&self.keys, &session.session_id))
                .arg(json)
                .arg("EX")
                .arg(ttl)
                .query_async::<()>(&mut conn)
                .await
                .map_err(|e| e.to_string())
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, session_id = %session.session_id, "redis: session copy not stored");
        }
    }

    /// Drops the copy and tells every gateway to drop theirs.
    pub async fn forget(&self, session_id: &str) {
        let result = async {
            let mut conn = self.pool.get().await.map_err(|e| e.to_string())?;
            redis::pipe()
                .cmd("DEL")
                .arg(session_key(&self.keys, session_id))
                .ignore()
                .cmd("PUBLISH")
                .arg(invalidation_channel(&self.keys))
                .arg(session_id)
                .ignore()
                .query_async::<()>(&mut conn)
                .await
                .map_err(|e| e.to_string())
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, session_id, "redis: session copy not dropped");
        }
    }

    /// Tells gateways a session changed (extended): they re-read it.
    pub async fn announce(&self, session_id: &str) {
        let result = async {
            let mut conn = self.pool.get().await.map_err(|e| e.to_string())?;
            redis::cmd("PUBLISH")
                .arg(invalidation_channel(&self.keys))
                .arg(session_id)
                .query_async::<()>(&mut conn)
                .await
                .map_err(|e| e.to_string())
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, session_id, "redis: invalidation not published");
        }
    }

    /// Removes every key of a tenant (any service's cache). Errors are returned: cleanup
    /// retries them.
    pub async fn remove_tenant_keys(&self, tenant: Uuid) -> Result<u64, String> {
        let pattern = format!("{}*", self.keys.tenant_prefix(&tenant));
        cache::delete_matching(&self.pool, &pattern)
            .await
            .map_err(|e| e.to_string())
    }

    /// Counts one creation for `client` in the current hour. `Ok(None)` when under the
    /// limit, `Ok(Some(retry_after_secs))` when over, `Err` when Redis is unavailable.
    pub async fn hit_rate_limit(&self, client: &str, limit: u32) -> Result<Option<u64>, String> {
        let key = self.keys.key(&["demo", "rate", client]);
        let mut conn = self.pool.get().await.map_err(|e| e.to_string())?;
        let (count, ttl): (u64, i64) = redis::pipe()
            .atomic()
            .cmd("INCR")
            .arg(&key)
            .cmd("EXPIRE")
            .arg(&key)
            .arg(3600)
            .arg("NX")
            .ignore()
            .cmd("TTL")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        if count > u64::from(limit) {
            Ok(Some(u64::try_from(ttl).unwrap_or(3600).max(1)))
        } else {
            Ok(None)
        }
    }
}
