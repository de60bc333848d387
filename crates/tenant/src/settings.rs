//! tenant-service settings (every variable is in `docs/configuration.md`).

use std::time::Duration;

use bakery_config::Env;
use bakery_config::settings::{Database, ServiceSettings, TelemetrySettings};

pub const DEFAULT_PORT: u16 = 8002;

#[derive(Debug, Clone)]
pub struct Settings {
    /// Server, `tenant` database, Redis, signing keys, service URLs, logs.
    pub common: ServiceSettings,
    pub login: LoginSettings,
}

impl Settings {
    pub fn from_env(env: &mut Env) -> Self {
        Settings {
            common: ServiceSettings::from_env(env, DEFAULT_PORT, Database::Tenant),
            login: LoginSettings::from_env(env),
        }
    }
}

impl AsRef<TelemetrySettings> for Settings {
    fn as_ref(&self) -> &TelemetrySettings {
        &self.common.telemetry
    }
}

/// How login throttles guessing (OWASP Authentication Cheat Sheet: limits per client and
/// per account-and-client, a slow-down rather than a lock-out per account), and how long it
/// waits for demo-session. `docs/api-tenant.md` ("Throttling") says how they combine.
#[derive(Debug, Clone)]
pub struct LoginSettings {
    /// `LOGIN_MAX_FAILURES_PER_IP` (20): failures from one client (an IPv4 address, an IPv6
    /// `/64`) on any addresses within the window before that client gets `429`.
    pub max_failures_per_ip: u32,
    /// `LOGIN_MAX_FAILURES_PER_EMAIL_AND_IP` (5): failures of one client on one address
    /// within the window before that client gets `429` for that address.
    pub max_failures_per_email_and_ip: u32,
    /// `LOGIN_SLOWDOWN_AFTER_FAILURES` (10): failures of one address, from every client,
    /// within the window before every attempt on it waits (an account is slowed down, never
    /// locked: a lock would be the attacker's to set).
    pub slowdown_after_failures: u32,
    /// `LOGIN_SLOWDOWN_BASE_MS` (250): the first wait; it doubles with each further failure.
    pub slowdown_base: Duration,
    /// `LOGIN_SLOWDOWN_MAX_MS` (3000): the longest wait, whatever the number of failures.
    pub slowdown_max: Duration,
    /// `LOGIN_FAILURE_WINDOW_SECONDS` (900): the fixed window failures are counted in (also
    /// every counter's lifetime in Redis).
    pub failure_window: Duration,
    /// `DEMO_SESSION_TIMEOUT_SECONDS` (20): the longest a demo login waits for
    /// demo-session to create (clone) a session.
    pub demo_session_timeout: Duration,
}

impl LoginSettings {
    pub fn from_env(env: &mut Env) -> Self {
        // It used to lock an address out for everyone; kept silently it would now mean
        // nothing, so a deployment still setting it is told what replaced it.
        let _retired: String = env.or_checked(
            "LOGIN_MAX_FAILURES_PER_EMAIL",
            String::new(),
            "unset: addresses are no longer locked out (see LOGIN_MAX_FAILURES_PER_EMAIL_AND_IP \
             and LOGIN_SLOWDOWN_AFTER_FAILURES)",
            String::is_empty,
        );
        let per_ip = env.in_range("LOGIN_MAX_FAILURES_PER_IP", 20, 1..=100_000);
        let per_email_and_ip = env.in_range("LOGIN_MAX_FAILURES_PER_EMAIL_AND_IP", 5, 1..=1000);
        let slowdown_after = env.in_range("LOGIN_SLOWDOWN_AFTER_FAILURES", 10, 1..=100_000);
        // the wait is spent inside a request the gateway waits for (UPSTREAM_TIMEOUT_SECONDS,
        // 30 s by default), so it stays well under that
        let base = env.millis("LOGIN_SLOWDOWN_BASE_MS", 250, 1..=10_000);
        let max = env.millis("LOGIN_SLOWDOWN_MAX_MS", 3000, 1..=10_000);
        let window = env.seconds("LOGIN_FAILURE_WINDOW_SECONDS", 900, 1..=86_400);
        let timeout = env.seconds("DEMO_SESSION_TIMEOUT_SECONDS", 20, 1..=300);
        LoginSettings {
            max_failures_per_ip: per_ip,
            max_failures_per_email_and_ip: per_email_and_ip,
            slowdown_after_failures: slowdown_after,
            slowdown_base: base,
            slowdown_max: max,
            failure_window: window,
            demo_session_timeout: timeout,
        }
    }

    /// How long an attempt on an address with `failures` failures in the window waits before
    /// its password is checked: nothing below `slowdown_after_failures`, then
    /// `slowdown_base` doubling with each further failure, never more than `slowdown_max`.
    pub fn slowdown(&self, failures: u64) -> Duration {
        let Some(beyond) = failures.checked_sub(u64::from(self.slowdown_after_failures)) else {
            return Duration::ZERO;
        };
        // 2^14 × the largest base (10 s) is far past any cap, so the shift never overflows
        let factor = 1u32 << beyond.min(14);
        self.slowdown_base
            .saturating_mul(factor)
            .min(self.slowdown_max)
    }
}

impl Default for LoginSettings {
    fn default() -> Self {
        LoginSettings {
            max_failures_per_ip: 20,
            max_failures_per_email_and_ip: 5,
            slowdown_after_failures: 10,
            slowdown_base: Duration::from_millis(250),
            slowdown_max: Duration::from_millis(3000),
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
        let defaults = LoginSettings::default();
        assert_eq!(login.max_failures_per_ip, defaults.max_failures_per_ip);
        assert_eq!(login.max_failures_per_email_and_ip, 5);
        assert_eq!(login.slowdown_after_failures, 10);
        assert_eq!(login.slowdown_base, Duration::from_millis(250));
        assert_eq!(login.slowdown_max, Duration::from_millis(3000));
        assert_eq!(login.failure_window, Duration::from_secs(900));

        let bad: HashMap<String, String> = [
            ("LOGIN_MAX_FAILURES_PER_EMAIL", "5"),
            ("LOGIN_MAX_FAILURES_PER_EMAIL_AND_IP", "0"),
            ("LOGIN_SLOWDOWN_AFTER_FAILURES", "-1"),
            ("LOGIN_SLOWDOWN_BASE_MS", "0"),
            ("LOGIN_SLOWDOWN_MAX_MS", "60000"),
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
                "LOGIN_MAX_FAILURES_PER_EMAIL_AND_IP",
                "LOGIN_SLOWDOWN_AFTER_FAILURES",
                "LOGIN_SLOWDOWN_BASE_MS",
                "LOGIN_SLOWDOWN_MAX_MS",
                "LOGIN_FAILURE_WINDOW_SECONDS",
            ]
        );
    }

    #[test]
    fn the_slowdown_grows_from_the_threshold_and_is_capped() {
        let login = LoginSettings::default();
        let ms = |failures| login.slowdown(failures).as_millis();
        assert_eq!(ms(0), 0);
        assert_eq!(ms(9), 0);
        assert_eq!(ms(10), 250);
        assert_eq!(ms(11), 500);
        assert_eq!(ms(12), 1000);
        assert_eq!(ms(13), 2000);
        assert_eq!(ms(14), 3000);
        assert_eq!(ms(1_000_000), 3000);
        assert_eq!(ms(u64::MAX), 3000);
        // a base above the cap waits the cap
        let odd = LoginSettings {
            slowdown_base: Duration::from_secs(10),
            slowdown_max: Duration::from_secs(1),
            ..LoginSettings::default()
        };
        assert_eq!(odd.slowdown(u64::MAX), Duration::from_secs(1));
        assert_eq!(odd.slowdown(10), Duration::from_secs(1));
    }
}
