//! inventory-service settings (every variable is in `docs/configuration.md`).

use bakery_config::Env;
use bakery_config::settings::{Database, ServiceSettings, TelemetrySettings};

pub const DEFAULT_PORT: u16 = 8003;

#[derive(Debug, Clone)]
pub struct Settings {
    /// Server, `inventory` database, Redis, signing keys, service URLs, logs.
    pub common: ServiceSettings,
    /// `INVENTORY_CACHE_TTL_SECONDS` (60): how long a cached list page is kept.
    pub cache_ttl_secs: u64,
    /// `INVENTORY_CACHE_MAX_MB` (32): memory the cached list pages may take in one process
    /// (0: nothing is cached). An eighth of the pod's memory limit in `k8s/`.
    pub cache_max_mb: u64,
    /// `DEMO_WRITES_PER_MINUTE` (30): writes one demo session may make per minute.
    pub demo_writes_per_minute: u32,
    /// `DEMO_MAX_ROWS_PER_TABLE` (500): rows one demo session may create in each table.
    pub demo_max_rows_per_table: u32,
    /// `PROCUREMENT_INTERVAL_SECONDS` (3600; 0 turns the background scheduler off).
    pub procurement_interval_secs: u64,
}

impl Settings {
    pub fn from_env(env: &mut Env) -> Self {
        Settings {
            common: ServiceSettings::from_env(env, DEFAULT_PORT, Database::Inventory),
            cache_ttl_secs: env.in_range("INVENTORY_CACHE_TTL_SECONDS", 60, 1..=86_400),
            cache_max_mb: env.in_range("INVENTORY_CACHE_MAX_MB", 32, 0..=4096),
            demo_writes_per_minute: env.in_range("DEMO_WRITES_PER_MINUTE", 30, 1..=100_000),
            demo_max_rows_per_table: env.in_range("DEMO_MAX_ROWS_PER_TABLE", 500, 1..=10_000_000),
            procurement_interval_secs: env.or_checked(
                "PROCUREMENT_INTERVAL_SECONDS",
                3600,
                "0 (off) or between 1 and 604800 (a week)",
                |s| *s <= 604_800,
            ),
        }
    }
}

impl AsRef<TelemetrySettings> for Settings {
    fn as_ref(&self) -> &TelemetrySettings {
        &self.common.telemetry
    }
}
