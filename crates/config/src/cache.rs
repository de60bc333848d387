//! Redis: the pool and key naming.

use deadpool_redis::{Pool, Runtime};

use crate::settings::RedisSettings;

pub use deadpool_redis::Pool as RedisPool;

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// No connection within the pool's limits.
    #[error("redis pool: {0}")]
    Pool(#[from] deadpool_redis::PoolError),
    /// The pool could not be built (start-up only).
    #[error("redis pool: {0}")]
    Build(#[from] deadpool_redis::BuildError),
    /// `rediss://` cannot be set up as configured (start-up only).
    #[error("redis TLS: {0}")]
    Tls(String),
    /// The caller's time budget for Redis ran out.
    #[error("redis pool: timed out")]
    TimedOut(#[from] tokio::time::error::Elapsed),
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
}

/// A client for `settings.url`: `redis://`, or `rediss://` (TLS through rustls) trusting
/// only `settings.ca_file` when set, the platform's roots otherwise. `#insecure` is
/// refused (the settings refuse it too; the redis crate is built without it).
pub fn client(settings: &RedisSettings) -> Result<redis::Client, CacheError> {
    if !settings.url.starts_with("rediss://") {
        if settings.ca_file.is_some() {
            return Err(CacheError::Tls(
                "REDIS_CA_FILE is only used with a rediss:// REDIS_URL".to_owned(),
            ));
        }
        return Ok(redis::Client::open(settings.url.as_str())?);
    }
    if settings.url.contains("#insecure") {
        return Err(CacheError::Tls(
            "REDIS_URL: `#insecure` turns certificate checks off: use REDIS_CA_FILE".to_owned(),
        ));
    }
    crate::tls::install_default_provider();
    let Some(path) = &settings.ca_file else {
        return Ok(redis::Client::open(settings.url.as_str())?);
    };
    // read and checked here, so a bad file is a start-up error naming the variable
    crate::tls::load_ca_file(path).map_err(|e| CacheError::Tls(format!("REDIS_CA_FILE: {e}")))?;
    let pem = std::fs::read(path)
        .map_err(|e| CacheError::Tls(format!("REDIS_CA_FILE {}: {e}", path.display())))?;
    Ok(redis::Client::build_with_tls(
        settings.url.as_str(),
        redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(pem),
        },
    )?)
}

/// Builds the pool. Connections are made lazily, so a Redis that is down does not stop
/// start-up; readiness reports it.
pub fn build_pool(settings: &RedisSettings) -> Result<Pool, CacheError> {
    let info = client(settings)?.get_connection_info().clone();
    let manager = deadpool_redis::Manager::new(info)?;
    let timeout = Some(std::time::Duration::from_secs(2));
    Pool::builder(manager)
        .max_size(settings.pool_size)
        .wait_timeout(timeout)
        .create_timeout(timeout)
        .recycle_timeout(timeout)
        .runtime(Runtime::Tokio1)
        .build()
        .map_err(CacheError::Build)
}

/// Key naming: every key starts with the deployment's prefix.
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    pub fn new(prefix: impl Into<String>) -> Self {
        Keys {
            prefix: prefix.into(),
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `{prefix}{part}:{part}…`
    pub fn key(&self, parts: &[&str]) -> String {
        let mut k = self.prefix.clone();
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                k.push(':');
            }
            k.push_str(p);
        }
        k
    }

    /// Every key of one tenant lives under this prefix, so removing a tenant is one SCAN.
    pub fn tenant_prefix(&self, tenant_id: &uuid::Uuid) -> String {
        self.key(&["tenant", &tenant_id.to_string(), ""])
    }

    /// The pattern every tenant's keys match (`{prefix}tenant:*`).
    pub fn any_tenant_pattern(&self) -> String {
        self.key(&["tenant", "*"])
    }

    /// The tenant a key of [`Self::tenant_prefix`] belongs to; `None` for other keys.
    pub fn tenant_of(&self, key: &str) -> Option<uuid::Uuid> {
        let rest = key.strip_prefix(&self.key(&["tenant", ""]))?;
        let (id, _) = rest.split_once(':')?;
        id.parse().ok()
    }
}

/// Deletes every key matching `pattern` (SCAN + UNLINK, never KEYS). Returns how many.
pub async fn delete_matching(pool: &Pool, pattern: &str) -> Result<u64, CacheError> {
    delete_matching_where(pool, pattern, |_| true).await
}

/// Deletes every key matching `pattern` that `wanted` accepts, in one pass over the
/// keyspace (SCAN + UNLINK, never KEYS): removing the keys of many tenants costs one walk,
/// not one per tenant. Returns how many.
pub async fn delete_matching_where(
    pool: &Pool,
    pattern: &str,
    wanted: impl Fn(&str) -> bool,
) -> Result<u64, CacheError> {
    let mut conn = pool.get().await?;
    let mut cursor: u64 = 0;
    let mut removed = 0u64;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut conn)
            .await?;
        let keys: Vec<String> = keys.into_iter().filter(|k| wanted(k)).collect();
        if !keys.is_empty() {
            let n: u64 = redis::cmd("UNLINK")
                .arg(&keys)
                .query_async(&mut conn)
                .await?;
            removed += n;
        }
        if next == 0 {
            break;
        }
        cursor = next;
    }
    Ok(removed)
}

/// Counts one hit against a fixed window of `window_secs` that starts at the key's first
/// hit. Answers `Some(seconds left in the window)` once the hits exceed `limit`, for a
/// `Retry-After`; the key expires with its window, so counters never pile up.
pub async fn fixed_window_hit(
    pool: &Pool,
    key: &str,
    limit: u64,
    window_secs: u64,
) -> Result<Option<u64>, CacheError> {
    let mut conn = pool.get().await?;
    let window = window_secs.max(1);
    let (count, ttl): (u64, i64) = redis::pipe()
        .atomic()
        .cmd("INCR")
        .arg(key)
        .cmd("EXPIRE")
        .arg(key)
        .arg(window)
        .arg("NX")
        .ignore()
        .cmd("TTL")
        .arg(key)
        .query_async(&mut conn)
        .await?;
    Ok((count > limit).then(|| u64::try_from(ttl).unwrap_or(window).clamp(1, window)))
}

/// Readiness check: `PING`.
pub struct RedisReady(pub Pool);

impl crate::http::ReadinessCheck for RedisReady {
    fn name(&self) -> &str {
        "redis"
    }
    fn check(&self) -> crate::http::Check<'_> {
        Box::pin(async move {
            let mut conn = self.0.get().await?;
            let _: String = redis::cmd("PING").query_async(&mut conn).await?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_key_names_its_tenant_and_nothing_else_does() {
        let keys = Keys::new("bk:");
        let tenant = uuid::Uuid::new_v4();
        let key = format!("{}inventory:page:1", keys.tenant_prefix(&tenant));
        assert_eq!(keys.tenant_of(&key), Some(tenant));
        assert_eq!(keys.any_tenant_pattern(), "bk:tenant:*");
        assert_eq!(keys.tenant_of("bk:demo:session:abc"), None);
        assert_eq!(keys.tenant_of("bk:tenant:not-a-uuid:x"), None);
        assert_eq!(keys.tenant_of(&format!("other:tenant:{tenant}:x")), None);
    }
}
