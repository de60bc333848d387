//! inventory-service's own metrics (`bakery_…`), registered next to the shared HTTP
//! histogram and served at `/metrics` on the service port. Every label comes from a closed
//! set (docs/observability.md).

use bakery_config::metrics::CounterFamily;
use bakery_config::metrics::prometheus_client::metrics::counter::Counter;
use bakery_config::metrics::prometheus_client::registry::Registry;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};

use crate::cache::CachedList;

/// A read of the list cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EncodeLabelValue)]
#[allow(
    non_camel_case_types,
    reason = "the variant names are the label values, as operators read them"
)]
pub enum CacheResult {
    /// The page was served from memory.
    hit,
    /// The page was loaded from PostgreSQL (and cached).
    miss,
    /// Redis did not answer the version: read from PostgreSQL, nothing cached.
    error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EncodeLabelValue)]
#[allow(
    non_camel_case_types,
    reason = "the variant names are the label values, as operators read them"
)]
enum CacheName {
    inventory_ingredients,
    inventory_products,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct CacheLabels {
    cache: CacheName,
    result: CacheResult,
}

/// How a procurement run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EncodeLabelValue)]
#[allow(
    non_camel_case_types,
    reason = "the variant names are the label values, as operators read them"
)]
pub enum RunOutcome {
    /// Every customer tenant was checked.
    ok,
    /// Drafting failed for at least one tenant (the others still ran).
    partial,
    /// The tenant directory could not be read: nothing ran.
    failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RunLabels {
    outcome: RunOutcome,
}

/// Cheap to clone: every metric is shared.
#[derive(Clone, Default)]
pub struct InventoryMetrics {
    cache_requests: CounterFamily<CacheLabels>,
    procurement_runs: CounterFamily<RunLabels>,
    skipped_demo_tenants: Counter,
}

impl InventoryMetrics {
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("bakery");
        r.register(
            "cache_requests",
            "Reads of a cache, by cache and result",
            self.cache_requests.clone(),
        );
        r.register(
            "procurement_runs",
            "Procurement runs, by outcome",
            self.procurement_runs.clone(),
        );
        r.register(
            "procurement_skipped_demo_tenants",
            "Demo and template tenants procurement runs skipped",
            self.skipped_demo_tenants.clone(),
        );
    }

    pub fn cache(&self, list: CachedList, result: CacheResult) {
        let cache = match list {
            CachedList::Ingredients => CacheName::inventory_ingredients,
            CachedList::Products => CacheName::inventory_products,
        };
        self.cache_requests
            .get_or_create(&CacheLabels { cache, result })
            .inc();
    }

    pub fn procurement_run(&self, outcome: RunOutcome, skipped_demo: usize) {
        self.procurement_runs
            .get_or_create(&RunLabels { outcome })
            .inc();
        self.skipped_demo_tenants
            .inc_by(u64::try_from(skipped_demo).unwrap_or(u64::MAX));
    }
}
