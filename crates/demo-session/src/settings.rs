//! demo-session settings (every variable is in `docs/configuration.md`).

use std::str::FromStr;
use std::time::Duration;

use bakery_config::Env;
use bakery_config::env::Secret;
use bakery_config::settings::{
    Database, DatabaseSettings, DemoSettings, RedisSettings, ServerSettings, TelemetrySettings,
};

pub const DEFAULT_PORT: u16 = 8001;

/// How a virtual tenant's data is copied (`CLONE_STRATEGY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloneStrategy {
    /// In-process, set-based copy (default, fastest).
    Inline,
    /// One Kubernetes Job per session running `clone-demo-tenant`.
    KubernetesJob,
}

impl CloneStrategy {
    pub fn as_str(self) -> &'static str {
        match self {
            CloneStrategy::Inline => "inline",
            CloneStrategy::KubernetesJob => "k8s-job",
        }
    }
}

impl FromStr for CloneStrategy {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "inline" => Ok(CloneStrategy::Inline),
            "k8s-job" => Ok(CloneStrategy::KubernetesJob),
            _ => Err(()),
        }
    }
}

/// Settings of the `k8s-job` strategy.
#[derive(Debug, Clone)]
pub struct JobSettings {
    /// `CLONE_JOB_IMAGE`: overrides the image; by default the Job runs demo-session's own
    /// image, read from its pod (`POD_NAME`, `POD_NAMESPACE`).
    pub image: Option<String>,
    /// `CLONE_JOB_NAMESPACE` (default `POD_NAMESPACE`, else `bakery-ia`).
    pub namespace: String,
    pub pod_name: Option<String>,
    /// `CLONE_JOB_TIMEOUT_SECONDS` (120): how long create waits for the Job.
    pub timeout: Duration,
    /// `CLONE_JOB_SECRET` (`bakery-ia-database`): Secret holding the database URLs.
    pub secret_name: String,
    /// `CLONE_JOB_CONFIG_MAP` (optional): ConfigMap of the non-secret settings (log format,
    /// session duration…), loaded before the Secret so the Job runs with the same settings
    /// as demo-session.
    pub config_map: Option<String>,
    /// `CLONE_JOB_SERVICE_ACCOUNT` (optional).
    pub service_account: Option<String>,
    /// `KUBERNETES_API_URL`: talk to this API server instead of the in-cluster one
    /// (tests point it at a local stand-in).
    pub api_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub tenant_database: DatabaseSettings,
    /// Its statement timeout is `CLONE_STATEMENT_TIMEOUT_MS` (60000), not
    /// `DATABASE_STATEMENT_TIMEOUT_MS`: clones and cleanups are whole bakeries.
    pub inventory_database: DatabaseSettings,
    pub redis: RedisSettings,
    pub demo: DemoSettings,
    pub telemetry: TelemetrySettings,
    /// `SESSION_TOKEN_SECRET`: signs session tokens and tags session ids.
    pub session_secret: Secret,
    /// `INTERNAL_TOKEN_SECRET`: verifies the gateway's client assertions (who the client is).
    pub internal_secret: Secret,
    /// `ADMIN_API_KEY`: required in `X-Admin-Key` for stats and cleanup.
    pub admin_api_key: Secret,
    /// `IP_HASH_KEY`: keys the hash of client addresses (addresses are never stored).
    pub ip_hash_key: Secret,
    /// `DEMO_RATE_LIMIT_PER_HOUR` (10): sessions one client address may create per hour.
    pub rate_limit_per_hour: u32,
    /// `DEMO_MAX_ACTIVE_SESSIONS` (200): global cap on pending + ready sessions.
    pub max_active_sessions: u32,
    pub clone_strategy: CloneStrategy,
    pub job: JobSettings,
    /// `CLEANUP_INTERVAL_SECONDS` (60; 0 turns the background sweeper off).
    pub cleanup_interval: Duration,
    /// `PENDING_TIMEOUT_SECONDS` (300): a session still pending after this is failed and removed.
    pub pending_timeout: Duration,
    /// `DEMO_WARM_POOL_SIZE` (3): virtual tenants kept cloned ahead of demand per account
    /// type (inline strategy only; 0 turns the pool off).
    pub warm_pool_size: u32,
}

impl Settings {
    pub fn from_env(env: &mut Env) -> Self {
        let pod_namespace: Option<String> = env.optional("POD_NAMESPACE");
        Settings {
            server: ServerSettings::from_env(env, DEFAULT_PORT),
            database: DatabaseSettings::from_env(env, Database::DemoSession),
            tenant_database: DatabaseSettings::from_env(env, Database::Tenant),
            inventory_database: {
                // the cloner and cleanup copy or delete a whole bakery per statement: that
                // pool gets a longer statement timeout than a request's (the other limits,
                // and the services' own pools, keep the DATABASE_* values)
                let mut db = DatabaseSettings::from_env(env, Database::Inventory);
                db.limits.statement_timeout = Duration::from_millis(env.or_checked(
                    "CLONE_STATEMENT_TIMEOUT_MS",
                    60_000,
                    "between 1 and 600000 (milliseconds)",
                    |ms| (1..=600_000).contains(ms),
                ));
                db
            },
            redis: RedisSettings::from_env(env),
            demo: DemoSettings::from_env(env),
            telemetry: TelemetrySettings::from_env(env),
            session_secret: env.secret("SESSION_TOKEN_SECRET", 32),
            internal_secret: env.secret("INTERNAL_TOKEN_SECRET", 32),
            admin_api_key: env.secret("ADMIN_API_KEY", 24),
            ip_hash_key: env.secret("IP_HASH_KEY", 16),
            rate_limit_per_hour: env.or_checked(
                "DEMO_RATE_LIMIT_PER_HOUR",
                10,
                "at least 1",
                |n| *n >= 1,
            ),
            max_active_sessions: env.or_checked(
                "DEMO_MAX_ACTIVE_SESSIONS",
                200,
                "at least 1",
                |n| *n >= 1,
            ),
            clone_strategy: env.or("CLONE_STRATEGY", CloneStrategy::Inline),
            job: JobSettings {
                image: env.optional("CLONE_JOB_IMAGE"),
                namespace: env.or(
                    "CLONE_JOB_NAMESPACE",
                    pod_namespace.unwrap_or_else(|| "bakery-ia".to_owned()),
                ),
                pod_name: env.optional("POD_NAME"),
                timeout: Duration::from_secs(env.or_checked(
                    "CLONE_JOB_TIMEOUT_SECONDS",
                    120,
                    "between 1 and 3600",
                    |s| (1..=3600).contains(s),
                )),
                secret_name: env.or("CLONE_JOB_SECRET", "bakery-ia-database".to_owned()),
                config_map: env.optional("CLONE_JOB_CONFIG_MAP"),
                service_account: env.optional("CLONE_JOB_SERVICE_ACCOUNT"),
                api_url: env.optional("KUBERNETES_API_URL"),
            },
            cleanup_interval: Duration::from_secs(env.or("CLEANUP_INTERVAL_SECONDS", 60)),
            pending_timeout: Duration::from_secs(env.or_checked(
                "PENDING_TIMEOUT_SECONDS",
                300,
                "at least 10",
                |s| *s >= 10,
            )),
            warm_pool_size: env.or_checked("DEMO_WARM_POOL_SIZE", 3, "at most 100", |n| *n <= 100),
        }
    }
}

impl AsRef<TelemetrySettings> for Settings {
    fn as_ref(&self) -> &TelemetrySettings {
        &self.telemetry
    }
}
