//! demo-session settings (every variable is in `docs/configuration.md`).

use bakery_config::Env;
use bakery_config::settings::{
    Database, DatabaseSettings, RedisSettings, ServerSettings, ServiceUrls, TelemetrySettings,
    TokenSettings,
};

pub const DEFAULT_PORT: u16 = 8001;

#[derive(Debug, Clone)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub redis: RedisSettings,
    pub tokens: TokenSettings,
    pub services: ServiceUrls,
    pub telemetry: TelemetrySettings,
}

impl Settings {
    pub fn from_env(env: &mut Env) -> Self {
        Settings {
            server: ServerSettings::from_env(env, DEFAULT_PORT),
            database: DatabaseSettings::from_env(env, Database::DemoSession),
            redis: RedisSettings::from_env(env),
            tokens: TokenSettings::from_env(env),
            services: ServiceUrls::from_env(env),
            telemetry: TelemetrySettings::from_env(env),
        }
    }
}
