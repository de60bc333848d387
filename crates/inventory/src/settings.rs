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
    /// `INVENTORY_CACHE_TTL_SECONDS` (60): how long hot reads stay in Redis.
    pub cache_ttl_secs: u64,
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
            procurement_interval_secs: env.or_checked(
                "PROCUREMENT_INTERVAL_SECONDS",
                3600,
                "0 (off) or between 1 and 604800 (a week)",
                |s| *s <= 604_800,
            ),
        }
    }
}
