//! Read-through cache of hot lists: pages in process memory, versions in Redis.
//!
//! - **Pages** live in a bounded in-process cache ([`moka`]), keyed by
//!   `(tenant, list, version, limit, offset)`, weighed by their JSON's bytes
//!   (`INVENTORY_CACHE_MAX_MB` in all) and expiring after `INVENTORY_CACHE_TTL_SECONDS`.
//!   Only a small canonical set of pages is cached ([`cacheable`]): `limit` one of
//!   [`CACHED_LIMITS`] and `offset` a multiple of it below [`CACHED_PAGES`] pages; any
//!   other query string reads PostgreSQL directly. So a flood of distinct `limit`/`offset`
//!   pairs can neither grow memory nor push the hot pages out.
//! - **Versions** live in Redis, one small counter per tenant,
//!   `{prefix}tenant:{id}:inventory:version`, so every replica sees every replica's writes.
//!   A read fetches the version first and stores what it loaded under that version; a write
//!   that changes stock or ingredients bumps it after its transaction commits. A page
//!   loaded before a write is therefore stored under a version nobody reads any more: a
//!   stale page is never served, not even until its TTL.
//!
//! Redis thus holds no page at all, only one counter per tenant that has written (it
//! expires a day after the last write, well after every page cached under it), so it can
//! run with `maxmemory` and `noeviction` (docs/deploy.md). Removing a tenant's keys with
//! one SCAN of `keys.tenant_prefix(&id)` removes its counter.
//!
//! Redis is an accelerator, never a dependency: when it fails the read is served from
//! PostgreSQL and nothing is cached (no version to store it under).

use std::time::Duration;

use bakery_config::cache::{CacheError, Keys, RedisPool};
use bytes::Bytes;
use uuid::Uuid;

use crate::pagination::Page;

/// The cached lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CachedList {
    Ingredients,
    Products,
}

/// The page sizes that are cached: the default (50), the page's own (200) and two more.
pub const CACHED_LIMITS: [i64; 4] = [20, 50, 100, 200];
/// How many pages of each size are cached (offsets `0, limit, …, (CACHED_PAGES-1)·limit`).
pub const CACHED_PAGES: i64 = 10;

/// Whether a page is one of the canonical pages the cache keeps; at most
/// `CACHED_LIMITS.len() × CACHED_PAGES` per tenant, list and version.
pub fn cacheable(page: Page) -> bool {
    CACHED_LIMITS.contains(&page.limit)
        && page.offset % page.limit == 0
        && page.offset / page.limit < CACHED_PAGES
}

/// Seconds a version counter outlives the last write, beyond the pages' TTL: a counter
/// that expired reads as 0 again, which is safe only once every page cached under an
/// earlier version has expired.
const VERSION_GRACE_SECS: u64 = 86_400;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PageKey {
    tenant: Uuid,
    list: CachedList,
    version: u64,
    limit: i64,
    offset: i64,
}

#[derive(Clone)]
pub struct Cache {
    pool: RedisPool,
    keys: Keys,
    pages: moka::sync::Cache<PageKey, Bytes>,
    version_ttl_secs: u64,
}

/// `KEYS[1]` version key, `ARGV[1]` its TTL: bumps the version.
const BUMP: &str = r"
local n = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1])
return n
";

impl Cache {
    /// A cache of at most `max_bytes` of pages, each kept `ttl_secs`.
    pub fn new(pool: RedisPool, keys: Keys, ttl_secs: u64, max_bytes: u64) -> Self {
        let pages = moka::sync::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|key: &PageKey, page: &Bytes| {
                u32::try_from(page.len() + std::mem::size_of_val(key)).unwrap_or(u32::MAX)
            })
            .time_to_live(Duration::from_secs(ttl_secs))
            .build();
        Cache {
            pool,
            keys,
            pages,
            version_ttl_secs: ttl_secs.saturating_add(VERSION_GRACE_SECS),
        }
    }

    /// `{prefix}tenant:{id}:inventory:version`
    pub fn version_key(&self, tenant: Uuid) -> String {
        format!("{}inventory:version", self.keys.tenant_prefix(&tenant))
    }

    /// The tenant's current version (0 before its first write), or `None` when Redis did
    /// not answer: then nothing is read from or stored in the cache.
    pub async fn version(&self, tenant: Uuid) -> Option<u64> {
        let result: Result<Option<u64>, CacheError> = async {
            let mut conn = self.pool.get().await?;
            Ok(redis::cmd("GET")
                .arg(self.version_key(tenant))
                .query_async(&mut conn)
                .await?)
        }
        .await;
        match result {
            Ok(version) => Some(version.unwrap_or(0)),
            Err(error) => {
                tracing::warn!(%error, %tenant, "cache version read failed; reading PostgreSQL");
                None
            }
        }
    }

    /// The cached JSON of one page under `version`, if any.
    pub fn get(&self, tenant: Uuid, list: CachedList, version: u64, page: Page) -> Option<Bytes> {
        if !cacheable(page) {
            return None;
        }
        self.pages.get(&PageKey {
            tenant,
            list,
            version,
            limit: page.limit,
            offset: page.offset,
        })
    }

    /// Stores one page under `version` (the version read before the page was loaded).
    /// Pages outside the canonical set are not stored.
    pub fn put(&self, tenant: Uuid, list: CachedList, version: u64, page: Page, json: Bytes) {
        if !cacheable(page) {
            return;
        }
        self.pages.insert(
            PageKey {
                tenant,
                list,
                version,
                limit: page.limit,
                offset: page.offset,
            },
            json,
        );
    }

    /// Makes every cached list of `tenant` stale, on every replica (after any write that
    /// changes them).
    pub async fn invalidate(&self, tenant: Uuid) {
        let result: Result<u64, CacheError> = async {
            let mut conn = self.pool.get().await?;
            Ok(redis::cmd("EVAL")
                .arg(BUMP)
                .arg(1)
                .arg(self.version_key(tenant))
                .arg(self.version_ttl_secs)
                .query_async(&mut conn)
                .await?)
        }
        .await;
        if let Err(error) = result {
            // the pages' TTL bounds how long a stale page can be served
            tracing::warn!(%error, %tenant, "cache invalidation failed");
        }
    }

    /// Pages held now (after pending evictions are applied).
    pub fn entry_count(&self) -> u64 {
        self.pages.run_pending_tasks();
        self.pages.entry_count()
    }

    /// Bytes of pages held now (their weights; after pending evictions are applied).
    pub fn weighted_size(&self) -> u64 {
        self.pages.run_pending_tasks();
        self.pages.weighted_size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_pages_are_cacheable() {
        let page = |limit, offset| Page { limit, offset };
        assert!(cacheable(page(50, 0)));
        assert!(cacheable(page(200, 1800)));
        assert!(cacheable(page(20, 180)));
        assert!(!cacheable(page(200, 2000)), "past the cached pages");
        assert!(!cacheable(page(50, 1)), "not on a page boundary");
        assert!(!cacheable(page(49, 0)), "not a cached size");
        assert!(!cacheable(page(1, 0)));
    }
}
