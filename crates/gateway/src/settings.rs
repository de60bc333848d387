//! gateway settings (every variable is in `docs/configuration.md`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use bakery_config::settings::{
    RedisSettings, ServerSettings, ServiceUrls, TelemetrySettings, TokenSettings,
};
use bakery_config::{Env, tenants};
use uuid::Uuid;

use crate::client::{ForwardedHeader, Networks, TrustedProxies};
use crate::refusals::RefusalSettings;

pub const DEFAULT_PORT: u16 = 8080;

/// Where the gateway serves `GET /metrics` unless `GATEWAY_METRICS_ADDR` says otherwise:
/// loopback, never the public port.
pub const DEFAULT_METRICS_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9180);

#[derive(Debug, Clone)]
pub struct Settings {
    pub server: ServerSettings,
    pub services: ServiceUrls,
    pub redis: RedisSettings,
    pub tokens: TokenSettings,
    pub telemetry: TelemetrySettings,
    pub limits: Limits,
    pub timeouts: Timeouts,
    pub demo: DemoGatewaySettings,
    /// `GATEWAY_TRUSTED_PROXIES` (none) and `GATEWAY_FORWARDED_HEADER` (`x-forwarded-for`):
    /// who may say who the client is (`crate::client`).
    pub trusted_proxies: TrustedProxies,
    /// `GATEWAY_REFUSAL_CACHE_SECONDS` (30), `GATEWAY_REFUSAL_CACHE_ENTRIES` (100000),
    /// `GATEWAY_CREDENTIAL_FAILURES_PER_MINUTE` (30): `crate::refusals`.
    pub refusals: RefusalSettings,
    /// `GATEWAY_METRICS_ADDR` (`127.0.0.1:9180`): the listener of `GET /metrics` (port 0
    /// picks a free one, as tests do); the public port answers `404` there.
    pub metrics_addr: SocketAddr,
}

/// Body size limits.
#[derive(Debug, Clone)]
pub struct Limits {
    /// `GATEWAY_MAX_BODY_BYTES` (1 MiB): largest request body forwarded (`413` above).
    pub max_request_body: u64,
    /// `GATEWAY_MAX_RESPONSE_BYTES` (16 MiB): largest upstream answer relayed (`502` above).
    pub max_response_body: u64,
}

/// Upstream timeouts and connection pool.
#[derive(Debug, Clone)]
pub struct Timeouts {
    /// `UPSTREAM_CONNECT_TIMEOUT_MS` (1000): connecting to an upstream (`502` after).
    pub connect: Duration,
    /// `UPSTREAM_TIMEOUT_SECONDS` (30): an upstream's answer headers (`504` after).
    pub request: Duration,
    /// `UPSTREAM_POOL_IDLE_PER_HOST` (64): idle keep-alive connections kept per upstream.
    pub pool_idle_per_host: usize,
}

/// The demo middleware.
#[derive(Debug, Clone)]
pub struct DemoGatewaySettings {
    /// `DEMO_POLICY_FILE` (unset: the embedded `policy/default.toml`).
    pub policy_file: Option<PathBuf>,
    /// `DEMO_SESSION_CACHE_SECONDS` (5): how long a resolved session is kept in process.
    pub session_cache_ttl: Duration,
    /// `DEMO_TEMPLATE_TENANT_IDS` (unset: the template tenants of `data/demo/accounts.toml`,
    /// see `bakery_config::tenants`): tenants never reachable (docs/gateway.md,
    /// "Credentials").
    pub template_tenant_ids: Vec<Uuid>,
    /// `GATEWAY_IDENTITY_TTL_SECONDS` (60): lifetime of the identity forwarded upstream.
    pub identity_ttl_secs: i64,
}

/// A comma-separated list of UUIDs.
#[derive(Debug, Clone, Default)]
struct UuidList(Vec<Uuid>);

impl FromStr for UuidList {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        s.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| p.parse::<Uuid>().map_err(|_| ()))
            .collect::<Result<Vec<_>, _>>()
            .map(UuidList)
    }
}

impl Settings {
    pub fn from_env(env: &mut Env) -> Self {
        Settings {
            server: ServerSettings::from_env(env, DEFAULT_PORT),
            services: ServiceUrls::from_env(env),
            redis: RedisSettings::from_env(env),
            tokens: TokenSettings::from_env(env),
            telemetry: TelemetrySettings::from_env(env),
            limits: Limits {
                max_request_body: env.in_range("GATEWAY_MAX_BODY_BYTES", 1024 * 1024, 1..=1 << 30),
                max_response_body: env.in_range(
                    "GATEWAY_MAX_RESPONSE_BYTES",
                    16 * 1024 * 1024,
                    1..=1 << 30,
                ),
            },
            timeouts: Timeouts {
                connect: env.millis("UPSTREAM_CONNECT_TIMEOUT_MS", 1000, 1..=60_000),
                request: env.seconds("UPSTREAM_TIMEOUT_SECONDS", 30, 1..=3600),
                pool_idle_per_host: env.in_range("UPSTREAM_POOL_IDLE_PER_HOST", 64, 0..=4096),
            },
            trusted_proxies: TrustedProxies::new(
                env.or("GATEWAY_TRUSTED_PROXIES", Networks::default()),
                env.or("GATEWAY_FORWARDED_HEADER", ForwardedHeader::XForwardedFor),
            ),
            refusals: RefusalSettings {
                remember_for: env.seconds("GATEWAY_REFUSAL_CACHE_SECONDS", 30, 1..=3600),
                max_entries: env.in_range(
                    "GATEWAY_REFUSAL_CACHE_ENTRIES",
                    100_000,
                    100..=10_000_000,
                ),
                failures_per_window: env.in_range(
                    "GATEWAY_CREDENTIAL_FAILURES_PER_MINUTE",
                    30,
                    1..=100_000,
                ),
                window: Duration::from_secs(60),
            },
            demo: DemoGatewaySettings {
                policy_file: env.optional("DEMO_POLICY_FILE"),
                session_cache_ttl: env.seconds("DEMO_SESSION_CACHE_SECONDS", 5, 0..=3600),
                template_tenant_ids: template_tenant_ids(env),
                identity_ttl_secs: env.in_range("GATEWAY_IDENTITY_TTL_SECONDS", 60, 5..=3600),
            },
            metrics_addr: env.or("GATEWAY_METRICS_ADDR", DEFAULT_METRICS_ADDR),
        }
    }
}

impl AsRef<TelemetrySettings> for Settings {
    fn as_ref(&self) -> &TelemetrySettings {
        &self.telemetry
    }
}

/// `DEMO_TEMPLATE_TENANT_IDS`, else the template tenants of the demo data. Should neither
/// give a list, start-up fails: a gateway that knew no templates would let them be reached.
fn template_tenant_ids(env: &mut Env) -> Vec<Uuid> {
    const VAR: &str = "DEMO_TEMPLATE_TENANT_IDS";
    if let Some(UuidList(ids)) = env.optional(VAR) {
        return ids;
    }
    match tenants::template_tenant_ids() {
        Ok(ids) => ids.to_vec(),
        Err(e) => {
            env.report(VAR, format!("unset, and its default cannot be read: {e}"));
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn the_default_template_ids_are_those_of_accounts_toml() {
        // read by the demo data's own parser, not by the one the gateway uses
        let accounts: Vec<Uuid> = bakery_demo_data::accounts::load()
            .expect("data/demo/accounts.toml is valid")
            .iter()
            .map(|a| a.tenant_id)
            .collect();
        assert_eq!(accounts.len(), 2);
        let none = HashMap::new();
        let mut env = Env::from_map(&none);
        let settings = Settings::from_env(&mut env);
        assert_eq!(settings.demo.template_tenant_ids, accounts);
    }

    #[test]
    fn template_ids_can_be_set() {
        let id = Uuid::new_v4();
        let m: HashMap<String, String> =
            [("DEMO_TEMPLATE_TENANT_IDS".to_owned(), format!(" {id} ,"))].into();
        let mut env = Env::from_map(&m);
        let demo = Settings::from_env(&mut env).demo;
        assert_eq!(demo.template_tenant_ids, vec![id]);
    }

    #[test]
    fn bad_values_are_named() {
        let m: HashMap<String, String> = [
            ("GATEWAY_MAX_BODY_BYTES", "0"),
            ("UPSTREAM_TIMEOUT_SECONDS", "soon"),
            ("DEMO_TEMPLATE_TENANT_IDS", "not-a-uuid"),
            ("GATEWAY_TRUSTED_PROXIES", "10.0.0.0/8, ingress"),
            ("GATEWAY_FORWARDED_HEADER", "x-real-ip"),
            ("GATEWAY_CREDENTIAL_FAILURES_PER_MINUTE", "0"),
            ("GATEWAY_METRICS_ADDR", "everywhere:9180"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut env = Env::from_map(&m);
        let _ = Settings::from_env(&mut env);
        let err = env.finish(()).expect_err("must fail");
        for v in [
            "GATEWAY_MAX_BODY_BYTES",
            "UPSTREAM_TIMEOUT_SECONDS",
            "DEMO_TEMPLATE_TENANT_IDS",
            "GATEWAY_TRUSTED_PROXIES",
            "GATEWAY_FORWARDED_HEADER",
            "GATEWAY_CREDENTIAL_FAILURES_PER_MINUTE",
            "GATEWAY_METRICS_ADDR",
        ] {
            assert!(err.variables().contains(&v), "{v}: {err}");
        }
    }
}
