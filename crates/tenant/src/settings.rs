//! tenant-service settings (every variable is in `docs/configuration.md`).

use std::time::Duration;

use bakery_config::Env;
use bakery_config::settings::{
    Database, DatabaseSettings, RedisSettings, ServerSettings, ServiceUrls, TelemetrySettings,
    TokenSettings,
};

pub const DEFAULT_PORT: u16 = 8002;

#[derive(Debug, Clone)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub redis: RedisSettings,
    pub tokens: TokenSettings,
    pub services: ServiceUrls,
    pub telemetry: TelemetrySettings,
    pub login: LoginSettings,
}

impl Settings {
    pub fn from_env(env: &mut Env) -> Self {
        Settings {
            server: ServerSettings::from_env(env, DEFAULT_PORT),
            database: DatabaseSettings::from_env(env, Database::Tenant),
            redis: RedisSettings::from_env(env),
            tokens: TokenSettings::from_env(env),
            services: ServiceUrls::from_env(env),
            telemetry: TelemetrySettings::from_env(env),
            login: LoginSettings::from_env(env),
        }
    }
}

/// How login slows down guessing, and how long it waits for demo-session.
#[derive(Debug, Clone)]
pub struct LoginSettings {
    /// `LOGIN_MAX_FAILURES_PER_EMAIL` (5): failures of one address within the window
    /// before further attempts are refused with `429`.
    pub max_failures_per_email: u32,
    /// `LOGIN_MAX_FAILURES_PER_IP` (20): the same, per client address.
    pub max_failures_per_ip: u32,
    /// `LOGIN_FAILURE_WINDOW_SECONDS` (900): the fixed window failures are counted in.
    pub failure_window: Duration,
    /// `DEMO_SESSION_TIMEOUT_SECONDS` (20): the longest a demo login waits for
    /// demo-session to create (clone) a session.
    pub demo_session_timeout: Duration,
}

impl LoginSettings {
    pub fn from_env(env: &mut Env) -> Self {
        let per_email = env.or_checked(
            "LOGIN_MAX_FAILURES_PER_EMAIL",
            5,
            "between 1 and 1000",
            |n| (1..=1000).contains(n),
        );
        let per_ip = env.or_checked(
            "LOGIN_MAX_FAILURES_PER_IP",
            20,
            "between 1 and 100000",
            |n| (1..=100_000).contains(n),
        );
        let window: u64 = env.or_checked(
            "LOGIN_FAILURE_WINDOW_SECONDS",
            900,
            "between 1 and 86400",
            |s| (1..=86_400).contains(s),
        );
        let timeout: u64 = env.or_checked(
            "DEMO_SESSION_TIMEOUT_SECONDS",
            20,
            "between 1 and 300",
            |s| (1..=300).contains(s),
        );
        LoginSettings {
            max_failures_per_email: per_email,
            max_failures_per_ip: per_ip,
            failure_window: Duration::from_secs(window),
            demo_session_timeout: Duration::from_secs(timeout),
        }
    }
}

impl Default for LoginSettings {
    fn default() -> Self {
        LoginSettings {
            max_failures_per_email: 5,
            max_failures_per_ip: 20,
            failure_window: Duration::from_secs(900),
            demo_session_timeout: Duration::from_secs(20),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn login_defaults_and_bad_values() {
        let empty = HashMap::new();
        let mut env = Env::from_map(&empty);
        let login = LoginSettings::from_env(&mut env);
        let login = env.finish(login).expect("defaults are valid");
        assert_eq!(login.max_failures_per_email, 5);
        assert_eq!(login.failure_window, Duration::from_secs(900));

        let bad: HashMap<String, String> = [
            ("LOGIN_MAX_FAILURES_PER_EMAIL", "0"),
            ("LOGIN_FAILURE_WINDOW_SECONDS", "mucho"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let mut env = Env::from_map(&bad);
        let _ = LoginSettings::from_env(&mut env);
        let err = env.finish(()).expect_err("must fail");
        assert_eq!(
            err.variables(),
            vec![
                "LOGIN_MAX_FAILURES_PER_EMAIL",
                "LOGIN_FAILURE_WINDOW_SECONDS"
            ]
        );
    }
}
