//! The settings groups. Each service composes the groups it needs; every variable, its
//! default and its meaning is listed in `docs/configuration.md`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::env::{Env, Secret};

/// `APP_ENV`: development (readable logs) or production (JSON logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

impl FromStr for AppEnv {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s.to_ascii_lowercase().as_str() {
            "development" | "dev" | "local" => Ok(AppEnv::Development),
            "production" | "prod" => Ok(AppEnv::Production),
            _ => Err(()),
        }
    }
}

/// `LOG_FORMAT`: `pretty` for people, `json` for log collectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

impl FromStr for LogFormat {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s.to_ascii_lowercase().as_str() {
            "pretty" | "text" => Ok(LogFormat::Pretty),
            "json" => Ok(LogFormat::Json),
            _ => Err(()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct TelemetrySettings {
    pub app_env: AppEnv,
    pub log_format: LogFormat,
    /// `RUST_LOG`-style filter; `LOG_LEVEL` overrides the default `info`.
    pub log_filter: String,
}

impl TelemetrySettings {
    pub fn from_env(env: &mut Env) -> Self {
        let app_env = env.or("APP_ENV", AppEnv::Development);
        let default_format = match app_env {
            AppEnv::Development => LogFormat::Pretty,
            AppEnv::Production => LogFormat::Json,
        };
        TelemetrySettings {
            app_env,
            log_format: env.or("LOG_FORMAT", default_format),
            log_filter: env.or("LOG_LEVEL", "info".to_owned()),
        }
    }
}

/// Where a service listens: `HOST` and `PORT`.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    /// Seconds in-flight requests get to finish on shutdown.
    pub shutdown_timeout_secs: u64,
}

impl ServerSettings {
    pub fn from_env(env: &mut Env, default_port: u16) -> Self {
        ServerSettings {
            host: env.or("HOST", "127.0.0.1".to_owned()),
            port: env.or("PORT", default_port),
            shutdown_timeout_secs: env.or("SHUTDOWN_TIMEOUT_SECONDS", 10),
        }
    }

    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// One PostgreSQL database.
#[derive(Clone)]
pub struct DatabaseSettings {
    pub url: String,
    pub pool_size: usize,
    /// What every pooled connection runs with, and how long a request waits for one.
    pub limits: DatabaseLimits,
}

impl fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // URLs may carry a password
        f.debug_struct("DatabaseSettings")
            .field("url", &redact_url(&self.url))
            .field("pool_size", &self.pool_size)
            .field("limits", &self.limits)
            .finish()
    }
}

/// Bounds on the work one request can make PostgreSQL do, and on how long it waits for a
/// connection: no request, however hostile, holds a connection or a lock for long, and a
/// request that cannot get a connection soon is answered `503` with `Retry-After` instead
/// of queueing without end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatabaseLimits {
    /// `DATABASE_STATEMENT_TIMEOUT_MS` (5000): PostgreSQL cancels a longer statement.
    pub statement_timeout: Duration,
    /// `DATABASE_LOCK_TIMEOUT_MS` (2000): PostgreSQL cancels a statement waiting longer for a lock.
    pub lock_timeout: Duration,
    /// `DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS` (10000): PostgreSQL ends a session left
    /// idle inside a transaction longer (its locks go with it).
    pub idle_in_transaction_timeout: Duration,
    /// `DATABASE_POOL_WAIT_MS` (2000): the longest a request waits for a pooled connection
    /// (and for a new one to be opened) before it is refused.
    pub pool_wait: Duration,
}

impl Default for DatabaseLimits {
    fn default() -> Self {
        DatabaseLimits {
            statement_timeout: Duration::from_millis(5_000),
            lock_timeout: Duration::from_millis(2_000),
            idle_in_transaction_timeout: Duration::from_millis(10_000),
            pool_wait: Duration::from_millis(2_000),
        }
    }
}

impl DatabaseLimits {
    pub fn from_env(env: &mut Env) -> Self {
        let defaults = DatabaseLimits::default();
        let mut millis = |var: &str, default: Duration, max: u64| {
            let default = u64::try_from(default.as_millis()).unwrap_or(max);
            Duration::from_millis(env.or_checked(
                var,
                default,
                &format!("between 1 and {max} (milliseconds)"),
                |ms| (1..=max).contains(ms),
            ))
        };
        DatabaseLimits {
            statement_timeout: millis(
                "DATABASE_STATEMENT_TIMEOUT_MS",
                defaults.statement_timeout,
                600_000,
            ),
            lock_timeout: millis("DATABASE_LOCK_TIMEOUT_MS", defaults.lock_timeout, 600_000),
            idle_in_transaction_timeout: millis(
                "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS",
                defaults.idle_in_transaction_timeout,
                3_600_000,
            ),
            pool_wait: millis("DATABASE_POOL_WAIT_MS", defaults.pool_wait, 60_000),
        }
    }
}

/// `postgres://user:password@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &creds[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The default the local stack (`scripts/dev.sh`) provides: a private PostgreSQL on
/// port 55432 that trusts loopback connections, so no password is defaulted.
pub const LOCAL_POSTGRES: &str = "postgres://bakery@127.0.0.1:55432";
/// The local stack's private Redis.
pub const LOCAL_REDIS: &str = "redis://127.0.0.1:56379";

/// Which database a setting is for; names the variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Database {
    Tenant,
    Inventory,
    DemoSession,
}

impl Database {
    pub fn url_variable(self) -> &'static str {
        match self {
            Database::Tenant => "TENANT_DATABASE_URL",
            Database::Inventory => "INVENTORY_DATABASE_URL",
            Database::DemoSession => "DEMO_SESSION_DATABASE_URL",
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Database::Tenant => "tenant",
            Database::Inventory => "inventory",
            Database::DemoSession => "demo_session",
        }
    }
}

impl DatabaseSettings {
    pub fn from_env(env: &mut Env, db: Database) -> Self {
        let var = db.url_variable();
        let url = env.or(var, format!("{LOCAL_POSTGRES}/{}", db.name()));
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            env.or_checked::<String>(var, String::new(), "a postgres:// URL", |_| false);
        } else if let Err(e) = crate::tls::PgTarget::from_url(&url) {
            // `sslmode` / `sslrootcert` (a CA file that cannot be read stops start-up here)
            env.report(var, e.to_string());
        }
        DatabaseSettings {
            url,
            pool_size: env.or_checked("DATABASE_POOL_SIZE", 10, "between 1 and 200", |n| {
                (1..=200).contains(n)
            }),
            limits: DatabaseLimits::from_env(env),
        }
    }
}

#[derive(Clone)]
pub struct RedisSettings {
    /// `REDIS_URL`: `redis://…`, or `rediss://…` for TLS (never `#insecure`).
    pub url: String,
    /// `REDIS_CA_FILE`: a PEM file holding the only CA(s) trusted for a `rediss://` server
    /// (a managed Redis whose certificate is not publicly trusted). Unset: the platform's
    /// roots.
    pub ca_file: Option<PathBuf>,
    pub pool_size: usize,
    /// Prepended to every key, so several deployments (or parallel tests) can share one Redis.
    pub key_prefix: String,
}

impl fmt::Debug for RedisSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSettings")
            .field("url", &redact_url(&self.url))
            .field("ca_file", &self.ca_file)
            .field("pool_size", &self.pool_size)
            .field("key_prefix", &self.key_prefix)
            .finish()
    }
}

impl RedisSettings {
    pub fn from_env(env: &mut Env) -> Self {
        let url = env.or("REDIS_URL", LOCAL_REDIS.to_owned());
        if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
            env.or_checked::<String>("REDIS_URL", String::new(), "a redis:// URL", |_| false);
        }
        if url.starts_with("rediss://") && url.contains("#insecure") {
            // the redis crate would skip every certificate check: never silently
            env.report(
                "REDIS_URL",
                "`#insecure` turns certificate checks off: trust the server's CA with REDIS_CA_FILE instead",
            );
        }
        let ca_file = env.optional::<PathBuf>("REDIS_CA_FILE");
        if let Some(path) = &ca_file {
            if !url.starts_with("rediss://") {
                env.report(
                    "REDIS_CA_FILE",
                    "is only used with a rediss:// REDIS_URL (TLS)",
                );
            } else if let Err(e) = crate::tls::load_ca_file(path) {
                env.report("REDIS_CA_FILE", e.to_string());
            }
        }
        RedisSettings {
            url,
            ca_file,
            pool_size: env.or_checked("REDIS_POOL_SIZE", 16, "between 1 and 512", |n| {
                (1..=512).contains(n)
            }),
            key_prefix: env.or("REDIS_KEY_PREFIX", "bakery:".to_owned()),
        }
    }
}

/// Demo session rules.
#[derive(Debug, Clone)]
pub struct DemoSettings {
    /// `DEMO_SESSION_DURATION_MINUTES` (30): a session's life, and what one extension adds.
    pub session_duration: Duration,
    /// `DEMO_SESSION_MAX_EXTENSIONS` (3).
    pub max_extensions: u32,
    /// `REDIS_SESSION_TTL` (1800 s): a cap on the TTL of a session's Redis copy. The copy
    /// lives as long as its session has left, never longer than this, each time it is
    /// written; once it is gone, the gateway asks demo-session again.
    pub redis_session_ttl: Duration,
}

impl DemoSettings {
    pub fn from_env(env: &mut Env) -> Self {
        let minutes: u64 = env.or_checked(
            "DEMO_SESSION_DURATION_MINUTES",
            30,
            "between 1 and 1440",
            |m| (1..=1440).contains(m),
        );
        let ttl: u64 = env.or_checked("REDIS_SESSION_TTL", 1800, "between 1 and 86400", |t| {
            (1..=86_400).contains(t)
        });
        DemoSettings {
            session_duration: Duration::from_secs(minutes * 60),
            max_extensions: env.or_checked("DEMO_SESSION_MAX_EXTENSIONS", 3, "at most 100", |n| {
                *n <= 100
            }),
            redis_session_ttl: Duration::from_secs(ttl),
        }
    }
}

/// Where the other services are.
#[derive(Debug, Clone)]
pub struct ServiceUrls {
    pub demo_session: String,
    pub tenant: String,
    pub inventory: String,
}

impl ServiceUrls {
    pub fn from_env(env: &mut Env) -> Self {
        let mut url = |var: &str, default: &str| {
            let v: String = env.or(var, default.to_owned());
            if !(v.starts_with("http://") || v.starts_with("https://")) {
                env.or_checked::<String>(var, String::new(), "an http:// URL", |_| false);
            }
            v.trim_end_matches('/').to_owned()
        };
        ServiceUrls {
            demo_session: url("DEMO_SESSION_URL", "http://127.0.0.1:8001"),
            tenant: url("TENANT_SERVICE_URL", "http://127.0.0.1:8002"),
            inventory: url("INVENTORY_SERVICE_URL", "http://127.0.0.1:8003"),
        }
    }
}

/// Signing keys. None has a default: the local stack generates its own.
#[derive(Debug, Clone)]
pub struct TokenSettings {
    /// `INTERNAL_TOKEN_SECRET`: signs the identity the gateway forwards to services.
    pub internal_secret: Secret,
    /// `ACCESS_TOKEN_SECRET`: signs customers' access tokens (tenant-service issues them).
    pub access_secret: Secret,
    /// `SESSION_TOKEN_SECRET`: signs demo session tokens (demo-session issues them).
    pub session_secret: Secret,
    /// `ACCESS_TOKEN_TTL_MINUTES` (60).
    pub access_ttl: Duration,
}

impl TokenSettings {
    pub fn from_env(env: &mut Env) -> Self {
        let minutes: u64 =
            env.or_checked("ACCESS_TOKEN_TTL_MINUTES", 60, "between 1 and 1440", |m| {
                (1..=1440).contains(m)
            });
        TokenSettings {
            internal_secret: env.secret("INTERNAL_TOKEN_SECRET", 32),
            access_secret: env.secret("ACCESS_TOKEN_SECRET", 32),
            session_secret: env.secret("SESSION_TOKEN_SECRET", 32),
            access_ttl: Duration::from_secs(minutes * 60),
        }
    }
}

/// The groups a service with a database of its own reads (tenant-service,
/// inventory-service): where it listens, its database, Redis, the signing keys, where the
/// other services are, its logs.
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub redis: RedisSettings,
    pub tokens: TokenSettings,
    pub services: ServiceUrls,
    pub telemetry: TelemetrySettings,
}

impl ServiceSettings {
    pub fn from_env(env: &mut Env, default_port: u16, database: Database) -> Self {
        ServiceSettings {
            server: ServerSettings::from_env(env, default_port),
            database: DatabaseSettings::from_env(env, database),
            redis: RedisSettings::from_env(env),
            tokens: TokenSettings::from_env(env),
            services: ServiceUrls::from_env(env),
            telemetry: TelemetrySettings::from_env(env),
        }
    }
}

impl AsRef<TelemetrySettings> for ServiceSettings {
    fn as_ref(&self) -> &TelemetrySettings {
        &self.telemetry
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn demo_defaults_match_the_contract() {
        let m = env_of(&[]);
        let mut env = Env::from_map(&m);
        let demo = DemoSettings::from_env(&mut env);
        let demo = env.finish(demo).expect("defaults are valid");
        assert_eq!(demo.session_duration, Duration::from_secs(30 * 60));
        assert_eq!(demo.max_extensions, 3);
        assert_eq!(demo.redis_session_ttl, Duration::from_secs(1800));
    }

    #[test]
    fn bad_values_are_named() {
        let m = env_of(&[
            ("DEMO_SESSION_DURATION_MINUTES", "0"),
            ("REDIS_SESSION_TTL", "soon"),
            ("REDIS_URL", "http://wrong"),
            ("INVENTORY_DATABASE_URL", "mysql://x"),
            ("TENANT_SERVICE_URL", "tenant:8002"),
            ("LOG_FORMAT", "xml"),
        ]);
        let mut env = Env::from_map(&m);
        let _ = DemoSettings::from_env(&mut env);
        let _ = RedisSettings::from_env(&mut env);
        let _ = DatabaseSettings::from_env(&mut env, Database::Inventory);
        let _ = ServiceUrls::from_env(&mut env);
        let _ = TelemetrySettings::from_env(&mut env);
        let err = env.finish(()).expect_err("must fail");
        let vars = err.variables();
        for v in [
            "DEMO_SESSION_DURATION_MINUTES",
            "REDIS_SESSION_TTL",
            "REDIS_URL",
            "INVENTORY_DATABASE_URL",
            "TENANT_SERVICE_URL",
            "LOG_FORMAT",
        ] {
            assert!(vars.contains(&v), "{v} not reported in {vars:?}");
        }
    }

    #[test]
    fn tls_mistakes_are_named() {
        let m = env_of(&[
            (
                "TENANT_DATABASE_URL",
                "postgres://u@h/tenant?sslmode=verify-fll",
            ),
            (
                "INVENTORY_DATABASE_URL",
                "postgres://u@h/inventory?sslmode=verify-full&sslrootcert=/nowhere/ca.crt",
            ),
            ("REDIS_URL", "rediss://cache.example:6380/#insecure"),
            ("REDIS_CA_FILE", "/nowhere/redis-ca.crt"),
        ]);
        let mut env = Env::from_map(&m);
        let _ = DatabaseSettings::from_env(&mut env, Database::Tenant);
        let _ = DatabaseSettings::from_env(&mut env, Database::Inventory);
        let _ = RedisSettings::from_env(&mut env);
        let err = env.finish(()).expect_err("must fail").to_string();
        for expected in [
            "TENANT_DATABASE_URL",
            "unknown sslmode `verify-fll`",
            "INVENTORY_DATABASE_URL",
            "/nowhere/ca.crt: cannot be read",
            "REDIS_URL",
            "#insecure",
            "REDIS_CA_FILE",
            "/nowhere/redis-ca.crt",
        ] {
            assert!(err.contains(expected), "{expected} not in {err}");
        }

        // a CA file for a plain redis:// URL would be ignored: refused
        let m = env_of(&[("REDIS_CA_FILE", "/etc/hostname")]);
        let mut env = Env::from_map(&m);
        let _ = RedisSettings::from_env(&mut env);
        let err = env.finish(()).expect_err("must fail");
        assert_eq!(err.variables(), ["REDIS_CA_FILE"]);

        // without sslmode nothing changes
        let m = env_of(&[("DEMO_SESSION_DATABASE_URL", "postgres://u@h/demo_session")]);
        let mut env = Env::from_map(&m);
        let db = DatabaseSettings::from_env(&mut env, Database::DemoSession);
        assert_eq!(
            env.finish(db).expect("valid").url,
            "postgres://u@h/demo_session"
        );
    }

    #[test]
    fn database_limits_have_defaults_and_ranges() {
        let m = env_of(&[]);
        let mut env = Env::from_map(&m);
        let db = DatabaseSettings::from_env(&mut env, Database::Inventory);
        let db = env.finish(db).expect("defaults are valid");
        assert_eq!(db.limits, DatabaseLimits::default());
        assert_eq!(db.limits.statement_timeout, Duration::from_secs(5));
        assert_eq!(db.limits.lock_timeout, Duration::from_secs(2));
        assert_eq!(
            db.limits.idle_in_transaction_timeout,
            Duration::from_secs(10)
        );
        assert_eq!(db.limits.pool_wait, Duration::from_secs(2));

        let m = env_of(&[
            ("DATABASE_STATEMENT_TIMEOUT_MS", "250"),
            ("DATABASE_POOL_WAIT_MS", "100"),
        ]);
        let mut env = Env::from_map(&m);
        let db = DatabaseSettings::from_env(&mut env, Database::Tenant);
        let db = env.finish(db).expect("valid");
        assert_eq!(db.limits.statement_timeout, Duration::from_millis(250));
        assert_eq!(db.limits.pool_wait, Duration::from_millis(100));

        let m = env_of(&[
            ("DATABASE_STATEMENT_TIMEOUT_MS", "0"),
            ("DATABASE_LOCK_TIMEOUT_MS", "forever"),
            ("DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS", "3600001"),
            ("DATABASE_POOL_WAIT_MS", "60001"),
        ]);
        let mut env = Env::from_map(&m);
        let _ = DatabaseSettings::from_env(&mut env, Database::Tenant);
        let err = env.finish(()).expect_err("must fail");
        assert_eq!(
            err.variables(),
            vec![
                "DATABASE_STATEMENT_TIMEOUT_MS",
                "DATABASE_LOCK_TIMEOUT_MS",
                "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS",
                "DATABASE_POOL_WAIT_MS"
            ]
        );
    }

    #[test]
    fn secrets_are_required_and_long() {
        let m = env_of(&[("INTERNAL_TOKEN_SECRET", "short")]);
        let mut env = Env::from_map(&m);
        let _ = TokenSettings::from_env(&mut env);
        let err = env.finish(()).expect_err("must fail");
        assert_eq!(
            err.variables(),
            vec![
                "INTERNAL_TOKEN_SECRET",
                "ACCESS_TOKEN_SECRET",
                "SESSION_TOKEN_SECRET"
            ]
        );
    }

    #[test]
    fn production_logs_are_json_by_default() {
        let m = env_of(&[("APP_ENV", "production")]);
        let mut env = Env::from_map(&m);
        let t = TelemetrySettings::from_env(&mut env);
        assert_eq!(t.log_format, LogFormat::Json);
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://bakery:s3cret@db:5432/tenant"),
            "postgres://bakery:***@db:5432/tenant"
        );
        assert_eq!(
            redact_url("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
    }
}
