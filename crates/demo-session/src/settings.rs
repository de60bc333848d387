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
    /// Kubernetes Jobs running `clone-demo-tenant`: one Job refills the warm pool (several
    /// tenants), and, when the pool is empty, one Job per session or an inline copy
    /// (`CLONE_ON_DEMAND`).
    KubernetesJob,
}

/// What an empty warm pool does under `CLONE_STRATEGY=k8s-job` (`CLONE_ON_DEMAND`): the
/// prospect waits either for a Job (isolation: the copy runs in its own pod and namespace,
/// seconds) or for an in-process copy (tens of milliseconds). docs/deploy.md measures both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDemand {
    Job,
    Inline,
}

impl FromStr for OnDemand {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "job" => Ok(OnDemand::Job),
            "inline" => Ok(OnDemand::Inline),
            _ => Err(()),
        }
    }
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

/// The warm pool's bounds per account type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WarmPoolSizing {
    pub min: u32,
    pub max: u32,
}

impl WarmPoolSizing {
    /// No pool.
    pub const OFF: WarmPoolSizing = WarmPoolSizing { min: 0, max: 0 };

    /// A pool of exactly `n` per account type (`DEMO_WARM_POOL_SIZE`).
    pub const fn fixed(n: u32) -> Self {
        WarmPoolSizing { min: n, max: n }
    }

    pub fn enabled(self) -> bool {
        self.max > 0
    }
}

/// `DEMO_WARM_POOL_SIZE` fixes the pool; otherwise `DEMO_WARM_POOL_MIN..=DEMO_WARM_POOL_MAX`.
fn warm_pool_sizing(env: &mut Env) -> WarmPoolSizing {
    let fixed: Option<u32> = env
        .optional::<String>("DEMO_WARM_POOL_SIZE")
        .map(|_| env.or_checked("DEMO_WARM_POOL_SIZE", 3, "at most 100", |n| *n <= 100));
    if let Some(n) = fixed {
        return WarmPoolSizing::fixed(n);
    }
    let min = env.or_checked("DEMO_WARM_POOL_MIN", 1, "at most 100", |n| *n <= 100);
    let max = env.or_checked("DEMO_WARM_POOL_MAX", 20, "at most 100", |n| *n <= 100);
    if min > max {
        env.report("DEMO_WARM_POOL_MIN", "must not be above DEMO_WARM_POOL_MAX");
    }
    WarmPoolSizing { min, max }
}

/// Settings of the `k8s-job` strategy. The defaults name what `k8s/base/clones/` creates;
/// the admission policy there refuses a Job that differs.
#[derive(Debug, Clone)]
pub struct JobSettings {
    /// `CLONE_JOB_IMAGE`: the image the Jobs run, required with `k8s-job`. The manifests set
    /// it from demo-session's own image (kustomize `replacements`, Tilt
    /// `match_in_env_vars`), so it is always the build that is serving.
    pub image: Option<String>,
    /// `CLONE_JOB_NAMESPACE` (`bakery-ia-clones`): where the Jobs run, apart from the
    /// services and their Secrets.
    pub namespace: String,
    /// `CLONE_JOB_TIMEOUT_SECONDS` (120): how long a Job may take (create waits as long).
    pub timeout: Duration,
    /// `CLONE_JOB_SECRET` (`bakery-ia-clone-job`): the Secret with the three database URLs.
    pub secret_name: String,
    /// `CLONE_JOB_CONFIG_MAP` (`bakery-ia-clone-config`): the non-secret settings (log
    /// format, database limits), loaded before the Secret.
    pub config_map: String,
    /// `CLONE_JOB_SERVICE_ACCOUNT` (`clone-demo-tenant`): no API access, no token mounted.
    pub service_account: String,
    /// `CLONE_ON_DEMAND` (`job`): what an empty warm pool does.
    pub on_demand: OnDemand,
    /// `KUBERNETES_API_URL`: talk to this API server instead of the in-cluster one
    /// (tests point it at a local stand-in).
    pub api_url: Option<String>,
}

/// What the `clone-demo-tenant` Job reads: the three databases and logging, nothing else
/// (its Secret holds only the database URLs).
#[derive(Debug, Clone)]
pub struct CloneJobSettings {
    pub database: DatabaseSettings,
    pub tenant_database: DatabaseSettings,
    pub inventory_database: DatabaseSettings,
    pub telemetry: TelemetrySettings,
}

impl CloneJobSettings {
    pub fn from_env(env: &mut Env) -> Self {
        CloneJobSettings {
            database: DatabaseSettings::from_env(env, Database::DemoSession),
            tenant_database: DatabaseSettings::from_env(env, Database::Tenant),
            inventory_database: clone_database(env),
            telemetry: TelemetrySettings::from_env(env),
        }
    }
}

impl AsRef<TelemetrySettings> for CloneJobSettings {
    fn as_ref(&self) -> &TelemetrySettings {
        &self.telemetry
    }
}

/// The inventory database as the cloner and cleanup use it: they copy or delete a whole
/// bakery per statement, so that pool gets `CLONE_STATEMENT_TIMEOUT_MS` (60000) instead of a
/// request's statement timeout (the other limits, and the services' own pools, keep the
/// `DATABASE_*` values).
fn clone_database(env: &mut Env) -> DatabaseSettings {
    let mut db = DatabaseSettings::from_env(env, Database::Inventory);
    db.limits.statement_timeout = Duration::from_millis(env.or_checked(
        "CLONE_STATEMENT_TIMEOUT_MS",
        60_000,
        "between 1 and 600000 (milliseconds)",
        |ms| (1..=600_000).contains(ms),
    ));
    db
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
    /// The warm pool's bounds per account type: `DEMO_WARM_POOL_MIN` (1) and
    /// `DEMO_WARM_POOL_MAX` (20); the target between them follows the arrival rate
    /// (`lifecycle::warm_pool`). `DEMO_WARM_POOL_SIZE`, when set, fixes both (0 turns the
    /// pool off). With `k8s-job`, Jobs refill it.
    pub warm_pool: WarmPoolSizing,
    /// `DEMO_QUEUE_MAX` (1000): places in the waiting room at the cap (0: no waiting room,
    /// `503 capacity_reached` at the cap).
    pub queue_max: u32,
    /// `DEMO_FUNNEL_RETENTION_DAYS` (90): funnel milestones older than this are deleted by
    /// cleanup passes, in bounded batches.
    pub funnel_retention_days: u32,
    /// `DEMO_EVENTS_PER_MINUTE` (30): calls a session may make to `POST …/events` a minute.
    pub events_per_minute: u32,
    /// `ACCESS_TOKEN_SECRET`: signs the access token a conversion answers (the same key
    /// tenant-service's login signs with; the gateway verifies both).
    pub access_secret: Secret,
    /// `ACCESS_TOKEN_TTL_MINUTES` (60): that token's lifetime.
    pub access_ttl: Duration,
    /// `DEMO_CONVERSIONS_PER_HOUR` (5): `POST …/convert` calls one client may make an hour.
    pub conversions_per_hour: u32,
}

impl Settings {
    pub fn from_env(env: &mut Env) -> Self {
        let settings = Settings {
            server: ServerSettings::from_env(env, DEFAULT_PORT),
            database: DatabaseSettings::from_env(env, Database::DemoSession),
            tenant_database: DatabaseSettings::from_env(env, Database::Tenant),
            inventory_database: clone_database(env),
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
                namespace: env.or("CLONE_JOB_NAMESPACE", "bakery-ia-clones".to_owned()),
                timeout: Duration::from_secs(env.or_checked(
                    "CLONE_JOB_TIMEOUT_SECONDS",
                    120,
                    "between 1 and 3600",
                    |s| (1..=3600).contains(s),
                )),
                secret_name: env.or("CLONE_JOB_SECRET", "bakery-ia-clone-job".to_owned()),
                config_map: env.or("CLONE_JOB_CONFIG_MAP", "bakery-ia-clone-config".to_owned()),
                service_account: env
                    .or("CLONE_JOB_SERVICE_ACCOUNT", "clone-demo-tenant".to_owned()),
                on_demand: env.or("CLONE_ON_DEMAND", OnDemand::Job),
                api_url: env.optional("KUBERNETES_API_URL"),
            },
            cleanup_interval: Duration::from_secs(env.or("CLEANUP_INTERVAL_SECONDS", 60)),
            pending_timeout: Duration::from_secs(env.or_checked(
                "PENDING_TIMEOUT_SECONDS",
                300,
                "at least 10",
                |s| *s >= 10,
            )),
            warm_pool: warm_pool_sizing(env),
            queue_max: env.or_checked("DEMO_QUEUE_MAX", 1000, "at most 100000", |n| *n <= 100_000),
            funnel_retention_days: env.or_checked(
                "DEMO_FUNNEL_RETENTION_DAYS",
                90,
                "between 1 and 3650",
                |d| (1..=3650).contains(d),
            ),
            events_per_minute: env.or_checked(
                "DEMO_EVENTS_PER_MINUTE",
                30,
                "between 1 and 1000",
                |n| (1..=1000).contains(n),
            ),
            access_secret: env.secret("ACCESS_TOKEN_SECRET", 32),
            access_ttl: Duration::from_secs(
                60 * env.or_checked::<u64>(
                    "ACCESS_TOKEN_TTL_MINUTES",
                    60,
                    "between 1 and 1440",
                    |m| (1..=1440).contains(m),
                ),
            ),
            conversions_per_hour: env.or_checked(
                "DEMO_CONVERSIONS_PER_HOUR",
                5,
                "between 1 and 1000",
                |n| (1..=1000).contains(n),
            ),
        };
        if settings.clone_strategy == CloneStrategy::KubernetesJob && settings.job.image.is_none() {
            env.report(
                "CLONE_JOB_IMAGE",
                "required with CLONE_STRATEGY=k8s-job: the image the clone Jobs run (the manifests set it from demo-session's own image)",
            );
        }
        settings
    }

    /// The clone Job's settings, as this process has them (the tests' stand-in cluster runs
    /// its "pods" with them).
    pub fn clone_job_settings(&self) -> CloneJobSettings {
        CloneJobSettings {
            database: self.database.clone(),
            tenant_database: self.tenant_database.clone(),
            inventory_database: self.inventory_database.clone(),
            telemetry: self.telemetry.clone(),
        }
    }
}

impl AsRef<TelemetrySettings> for Settings {
    fn as_ref(&self) -> &TelemetrySettings {
        &self.telemetry
    }
}
