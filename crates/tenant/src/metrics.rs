//! tenant-service's own metrics (`bakery_…`), registered next to the shared HTTP histogram
//! and served at `/metrics` on the service port. Every label comes from a closed set
//! (docs/observability.md). tenant-service keeps no cache (its Redis holds only the login
//! limiter's counters), so it has no `bakery_cache_requests_total`.

use bakery_config::metrics::CounterFamily;
use bakery_config::metrics::prometheus_client::registry::Registry;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};

/// How a login attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EncodeLabelValue)]
#[allow(
    non_camel_case_types,
    reason = "the variant names are the label values, as operators read them"
)]
pub enum LoginOutcome {
    /// A customer got an access token.
    ok,
    /// A published demo account: a demo session was created.
    demo,
    /// Known address, wrong password.
    wrong_password,
    /// No user with this address.
    unknown_email,
    /// Right password, but the user is inactive (or the tenant cannot log in).
    inactive,
    /// Refused by the limiter (`429`) before anything was checked.
    locked,
    /// Something failed on our side (database, demo-session, signing).
    error,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct LoginLabels {
    outcome: LoginOutcome,
}

/// Cheap to clone: every metric is shared.
#[derive(Clone, Default)]
pub struct TenantMetrics {
    logins: CounterFamily<LoginLabels>,
}

impl TenantMetrics {
    pub fn register(&self, registry: &mut Registry) {
        registry.sub_registry_with_prefix("bakery").register(
            "login_attempts",
            "Login attempts, by outcome",
            self.logins.clone(),
        );
    }

    pub fn login(&self, outcome: LoginOutcome) {
        self.logins.get_or_create(&LoginLabels { outcome }).inc();
    }
}
