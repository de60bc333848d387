//! Read-through cache of hot lists in Redis.
//!
//! Each cached list of a tenant is one Redis hash under the tenant's prefix,
//! `{prefix}tenant:{id}:inventory:{list}:v{version}`, one field per page
//! (`{limit}:{offset}`), with the TTL `INVENTORY_CACHE_TTL_SECONDS` set when the hash is
//! created. `{prefix}tenant:{id}:inventory:version` counts the tenant's writes.
//!
//! - A read fetches the version and the page in one script call; on a miss it reads
//!   PostgreSQL and stores the page under the version it saw *before* reading.
//! - A write that changes stock or ingredients bumps the version (and deletes the old
//!   version's hashes) after its transaction commits.
//!
//! So a reader that loaded rows before a write and stores them after it writes into a
//! version nobody reads any more: a stale page is never served, not even until its TTL.
//! Removing a tenant's keys with one SCAN of `keys.tenant_prefix(&id)` removes all of it.
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

/// What a lookup found: the page if cached, and the version to store a loaded page under
/// (`None` when Redis did not answer: then nothing is stored).
#[derive(Debug, Clone, Default)]
pub struct Lookup {
    pub hit: Option<String>,
    pub version: Option<u64>,
}

/// `KEYS[1]` version key; `ARGV[1]` list key base (ending in `:v`), `ARGV[2]` field.
const LOOKUP: &str = r"
local v = redis.call('GET', KEYS[1]) or '0'
return {v, redis.call('HGET', ARGV[1] .. v, ARGV[2])}
";

/// `KEYS[1]` version key; `ARGV` list key bases. Bumps the version, drops the old pages.
const BUMP: &str = r"
local n = redis.call('INCR', KEYS[1])
for _, base in ipairs(ARGV) do redis.call('DEL', base .. (n - 1)) end
return n
";

impl Cache {
    pub fn new(pool: RedisPool, keys: Keys, ttl_secs: u64) -> Self {
        Cache {
            pool,
            keys,
            ttl_secs,
        }
    }

    /// `{prefix}tenant:{id}:inventory:`
    fn base(&self, tenant: Uuid) -> String {
        format!("{}inventory:", self.keys.tenant_prefix(&tenant))
    }

    /// `{prefix}tenant:{id}:inventory:version`
    pub fn version_key(&self, tenant: Uuid) -> String {
        format!("{}version", self.base(tenant))
    }

    /// `{prefix}tenant:{id}:inventory:{list}:v` (the version number follows).
    fn list_base(&self, tenant: Uuid, list: CachedList) -> String {
        format!("{}{}:v", self.base(tenant), list.name())
    }

    /// The cached JSON of one page, if any, and the version to store it under.
    pub async fn get(&self, tenant: Uuid, list: CachedList, field: &str) -> Lookup {
        let result: Result<(String, Option<String>), String> = async {
            let mut conn = self.pool.get().await.map_err(|e| e.to_string())?;
            redis::cmd("EVAL")
                .arg(LOOKUP)
                .arg(1)
                .arg(self.version_key(tenant))
                .arg(self.list_base(tenant, list))
                .arg(field)
                .query_async(&mut conn)
                .await
                .map_err(|e| e.to_string())
        }
        .await;
        match result {
            Ok((version, hit)) => Lookup {
                hit,
                version: version.parse().ok(),
            },
            Err(error) => {
                tracing::warn!(%error, %tenant, "cache read failed; reading PostgreSQL");
                Lookup::default()
            }
        }
    }

    /// Stores one page under `version`; the hash expires `ttl` after its first page.
    pub async fn put(&self, tenant: Uuid, list: CachedList, version: u64, field: &str, json: &str) {
        let key = format!("{}{version}", self.list_base(tenant, list));
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

    /// Makes every cached list of `tenant` stale (after any write that changes them).
    pub async fn invalidate(&self, tenant: Uuid) {
        let result: Result<u64, String> = async {
            let mut conn = self.pool.get().await.map_err(|e| e.to_string())?;
            let mut cmd = redis::cmd("EVAL");
            cmd.arg(BUMP).arg(1).arg(self.version_key(tenant));
            for list in CachedList::ALL {
                cmd.arg(self.list_base(tenant, list));
            }
            cmd.query_async(&mut conn).await.map_err(|e| e.to_string())
        }
        .await;
        if let Err(error) = result {
            // the TTL bounds how long a stale page can live
            tracing::warn!(%error, %tenant, "cache invalidation failed");
        }
    }
}
