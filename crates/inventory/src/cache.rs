//! Read-through cache of hot lists in Redis.
//!
//! Each cached list of a tenant is one Redis hash under the tenant's prefix
//! (`{prefix}tenant:{id}:inventory:{list}`), one field per page (`{limit}:{offset}`), with
//! the TTL `INVENTORY_CACHE_TTL_SECONDS` set when the hash is created. A write that changes
//! stock or ingredients deletes the tenant's hashes (one `DEL`), and removing a tenant's
//! keys with one SCAN of `keys.tenant_prefix(&id)` removes them too.
//!
//! Redis is an accelerator, never a dependency: every failure is logged and the caller
//! falls through to PostgreSQL.

use bakery_config::cache::{Keys, RedisPool};
use uuid::Uuid;

/// The cached lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CachedList {
    Ingredients,
    Products,
}

impl CachedList {
    const ALL: [CachedList; 2] = [CachedList::Ingredients, CachedList::Products];

    fn name(self) -> &'static str {
        match self {
            CachedList::Ingredients => "ingredients",
            CachedList::Products => "products",
        }
    }
}

#[derive(Clone)]
pub struct Cache {
    pool: RedisPool,
    keys: Keys,
    ttl_secs: u64,
}

impl Cache {
    pub fn new(pool: RedisPool, keys: Keys, ttl_secs: u64) -> Self {
        Cache {
            pool,
            keys,
            ttl_secs,
        }
    }

    /// `{prefix}tenant:{id}:inventory:{list}`
    pub fn key(&self, tenant: Uuid, list: CachedList) -> String {
        format!(
            "{}inventory:{}",
            self.keys.tenant_prefix(&tenant),
            list.name()
        )
    }

    /// The cached JSON of one page, if any (and if Redis answers).
    pub async fn get(&self, tenant: Uuid, list: CachedList, field: &str) -> Option<String> {
        let key = self.key(tenant, list);
        let result: Result<Option<String>, String> = async {
            let mut conn = self.pool.get().await.map_err(|e| e.to_string())?;
            redis::cmd("HGET")
                .arg(&key)
                .arg(field)
                .query_async(&mut conn)
                .await
                .map_err(|e| e.to_string())
        }
        .await;
        match result {
            Ok(hit) => hit,
            Err(error) => {
                tracing::warn!(%error, key, "cache read failed; reading PostgreSQL");
                None
            }
        }
    }

    /// Stores one page; the hash expires `ttl` after its first page was stored.
    pub async fn put(&self, tenant: Uuid, list: CachedList, field: &str, json: &str) {
        let key = self.key(tenant, list);
        let result: Result<(), String> = async {
            let mut conn = self.pool.get().await.map_err(|e| e.to_string())?;
            redis::pipe()
                .atomic()
                .cmd("HSET")
                .arg(&key)
                .arg(field)
                .arg(json)
                .ignore()
                .cmd("EXPIRE")
                .arg(&key)
                .arg(self.ttl_secs)
                .arg("NX")
                .ignore()
                .query_async::<()>(&mut conn)
                .await
                .map_err(|e| e.to_string())
        }
        .await;
        if let Err(error) = result {
            tracing::warn!(%error, key, "cache write failed");
        }
    }

    /// Drops every cached list of `tenant` (after any write that changes them).
    pub async fn invalidate(&self, tenant: Uuid) {
        let keys: Vec<String> = CachedList::ALL
            .iter()
            .map(|l| self.key(tenant, *l))
            .collect();
        let result: Result<(), String> = async {
            let mut conn = self.pool.get().await.map_err(|e| e.to_string())?;
            redis::cmd("DEL")
                .arg(&keys)
                .query_async::<()>(&mut conn)
                .await
                .map_err(|e| e.to_string())
        }
        .await;
        if let Err(error) = result {
            // the TTL bounds how long a stale page can live
            tracing::warn!(%error, %tenant, "cache invalidation failed");
        }
    }
}
