//! inventory-service settings (every variable is in `docs/configuration.md`).

use bakery_config::Env;
use bakery_config::settings::{
    Database, DatabaseSettings, RedisSettings, ServerSettings, ServiceUrls, TelemetrySettings,
    TokenSettings,
};

pub const DEFAULT_PORT: u16 = 8003;

#[derive(Debug, Clone)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub redis: RedisSettings,
    pub tokens: TokenSettings,
    pub services: ServiceUrls,
    pub telemetry: TelemetrySettings,
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
            server: ServerSettings::from_env(env, DEFAULT_PORT),
            database: DatabaseSettings::from_env(env, Database::Inventory),
            redis: RedisSettings::from_env(env),
            tokens: TokenSettings::from_env(env),
            services: ServiceUrls::from_env(env),
            telemetry: TelemetrySettings::from_env(env),
            cache_ttl_secs: env.or_checked(
                "INVENTORY_CACHE_TTL_SECONDS",
                60,
                "between 1 and 86400",
                |s| (1..=86_400).contains(s),
            ),
            cache_max_mb: env.or_checked("INVENTORY_CACHE_MAX_MB", 32, "between 0 and 4096", |m| {
                *m <= 4096
            }),
            demo_writes_per_minute: env.or_checked(
                "DEMO_WRITES_PER_MINUTE",
                30,
                "between 1 and 100000",
                |n| (1..=100_000).contains(n),
            ),
            demo_max_rows_per_table: env.or_checked(
                "DEMO_MAX_ROWS_PER_TABLE",
                500,
                "between 1 and 10000000",
                |n| (1..=10_000_000).contains(n),
            ),
            procurement_interval_secs: env.or_checked(
                "PROCUREMENT_INTERVAL_SECONDS",
                3600,
                "0 (off) or between 1 and 604800 (a week)",
                |s| *s <= 604_800,
            ),
        }
    }
}
