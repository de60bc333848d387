//! The gateway's own metrics (`bakery_gateway_…`), registered next to the shared HTTP
//! histogram and served on `GATEWAY_METRICS_ADDR`, never on the public port. Every label
//! comes from a closed set (docs/observability.md).

use std::time::Instant;

use bakery_config::metrics::prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use bakery_config::metrics::prometheus_client::metrics::counter::Counter;
use bakery_config::metrics::prometheus_client::metrics::histogram::Histogram;
use bakery_config::metrics::prometheus_client::registry::{Registry, Unit};
use bakery_config::metrics::{CounterFamily, HistogramFamily, http_histograms, seconds_since};

use crate::policy::RuleName;
use crate::routes::Upstream;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct UpstreamLabels {
    upstream: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RuleLabels {
    rule: RuleName,
}

/// Why the gateway (or an upstream, through it) answered `429`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EncodeLabelValue)]
#[allow(
    non_camel_case_types,
    reason = "the variant names are the label values, as operators read them"
)]
pub enum Throttle {
    /// A demo session's write held back (the gateway's back-off or inventory-service's
    /// quota).
    demo_quota,
    /// A client that sent too many refused credentials.
    refused_credentials,
    /// Any other `429` an upstream answered (demo creations per client, login attempts).
    rate_limit,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ThrottleLabels {
    kind: Throttle,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EncodeLabelValue)]
#[allow(
    non_camel_case_types,
    reason = "the variant names are the label values, as operators read them"
)]
enum CacheResult {
    hit,
    miss,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct CacheLabels {
    result: CacheResult,
}

/// Cheap to clone: every family and handle is shared.
#[derive(Clone)]
pub struct GatewayMetrics {
    upstream_duration: HistogramFamily<UpstreamLabels>,
    demo_refusals: CounterFamily<RuleLabels>,
    throttled: CounterFamily<ThrottleLabels>,
    session_cache: CounterFamily<CacheLabels>,
    milestones_dropped: Counter,
    milestones_undelivered: Counter,
    // The series every forwarded request touches, looked up once: a `Family` lookup
    // hashes the labels and takes a lock, twice per request otherwise (docs/performance.md).
    // Indexed by `Upstream as usize`.
    upstream_handles: [Histogram; Upstream::ALL.len()],
    cache_hits: Counter,
    cache_misses: Counter,
}

impl Default for GatewayMetrics {
    fn default() -> Self {
        let upstream_duration: HistogramFamily<UpstreamLabels> = http_histograms();
        let session_cache = CounterFamily::<CacheLabels>::default();
        let cache = |result| session_cache.get_or_create(&CacheLabels { result }).clone();
        let (cache_hits, cache_misses) = (cache(CacheResult::hit), cache(CacheResult::miss));
        GatewayMetrics {
            upstream_handles: Upstream::ALL.map(|upstream| {
                upstream_duration
                    .get_or_create(&UpstreamLabels {
                        upstream: upstream.label(),
                    })
                    .clone()
            }),
            upstream_duration,
            demo_refusals: CounterFamily::default(),
            throttled: CounterFamily::default(),
            session_cache,
            milestones_dropped: Counter::default(),
            milestones_undelivered: Counter::default(),
            cache_hits,
            cache_misses,
        }
    }
}

impl GatewayMetrics {
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("bakery_gateway");
        r.register_with_unit(
            "upstream_request_duration",
            "Time from forwarding a request to an upstream until its answer was relayed",
            Unit::Seconds,
            self.upstream_duration.clone(),
        );
        r.register(
            "demo_refusals",
            "Demo session requests refused by the demo policy, by rule",
            self.demo_refusals.clone(),
        );
        r.register(
            "throttled",
            "Requests answered 429, by kind",
            self.throttled.clone(),
        );
        r.register(
            "session_cache",
            "Demo session lookups in the in-process cache, by result",
            self.session_cache.clone(),
        );
        r.register(
            "milestones_dropped",
            "Demo funnel milestones dropped because the queue to demo-session was full",
            self.milestones_dropped.clone(),
        );
        r.register(
            "milestones_undelivered",
            "Demo funnel milestones demo-session could not be sent (retried on their next occurrence)",
            self.milestones_undelivered.clone(),
        );
    }

    pub fn milestone_dropped(&self) {
        self.milestones_dropped.inc();
    }

    /// Milestones dropped so far (tests).
    pub fn milestones_dropped(&self) -> u64 {
        self.milestones_dropped.get()
    }

    pub fn milestones_undelivered(&self, n: usize) {
        self.milestones_undelivered
            .inc_by(u64::try_from(n).unwrap_or(u64::MAX));
    }

    pub fn upstream_answered(&self, upstream: Upstream, started: Instant) {
        if let Some(histogram) = self.upstream_handles.get(upstream as usize) {
            histogram.observe(seconds_since(started));
        }
    }

    pub fn demo_refused(&self, rule: &RuleName) {
        self.demo_refusals
            .get_or_create(&RuleLabels { rule: rule.clone() })
            .inc();
    }

    pub fn throttled(&self, kind: Throttle) {
        self.throttled.get_or_create(&ThrottleLabels { kind }).inc();
    }

    pub fn session_cache(&self, hit: bool) {
        if hit {
            self.cache_hits.inc();
        } else {
            self.cache_misses.inc();
        }
    }
}
