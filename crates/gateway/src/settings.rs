//! gateway settings (every variable is in `docs/configuration.md`).

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use bakery_config::Env;
use bakery_config::settings::{
    RedisSettings, ServerSettings, ServiceUrls, TelemetrySettings, TokenSettings,
};
use uuid::Uuid;

use crate::client::{ForwardedHeader, Networks, TrustedProxies};
use crate::refusals::RefusalSettings;

pub const DEFAULT_PORT: u16 = 8080;

/// The two demo template tenants (contract 10): never reachable through the gateway.
pub const TEMPLATE_TENANT_IDS: [Uuid; 2] = [
    Uuid::from_u128(0x00000000_0000_4000_a000_000000000001),
    Uuid::from_u128(0x00000000_0000_4000_a000_000000000002),
];

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
    /// `DEMO_TEMPLATE_TENANT_IDS` (the two fixed template ids): tenants never reachable.
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
                max_request_body: env.or_checked(
                    "GATEWAY_MAX_BODY_BYTES",
                    1024 * 1024,
                    "between 1 and 1073741824",
                    |n| (1..=1 << 30).contains(n),
                ),
                max_response_body: env.or_checked(
                    "GATEWAY_MAX_RESPONSE_BYTES",
                    16 * 1024 * 1024,
                    "between 1 and 1073741824",
                    |n| (1..=1 << 30).contains(n),
                ),
            },
            timeouts: Timeouts {
                connect: Duration::from_millis(env.or_checked(
                    "UPSTREAM_CONNECT_TIMEOUT_MS",
                    1000,
                    "between 1 and 60000",
                    |n| (1..=60_000).contains(n),
                )),
                request: Duration::from_secs(env.or_checked(
                    "UPSTREAM_TIMEOUT_SECONDS",
                    30,
                    "between 1 and 3600",
                    |n| (1..=3600).contains(n),
                )),
                pool_idle_per_host: env.or_checked(
                    "UPSTREAM_POOL_IDLE_PER_HOST",
                    64,
                    "between 0 and 4096",
                    |n| *n <= 4096,
                ),
            },
            trusted_proxies: TrustedProxies::new(
                env.or("GATEWAY_TRUSTED_PROXIES", Networks::default()),
                env.or("GATEWAY_FORWARDED_HEADER", ForwardedHeader::XForwardedFor),
            ),
            refusals: RefusalSettings {
                remember_for: Duration::from_secs(env.or_checked(
                    "GATEWAY_REFUSAL_CACHE_SECONDS",
                    30,
                    "between 1 and 3600",
                    |n| (1..=3600).contains(n),
                )),
                max_entries: env.or_checked(
                    "GATEWAY_REFUSAL_CACHE_ENTRIES",
                    100_000,
                    "between 100 and 10000000",
                    |n| (100..=10_000_000).contains(n),
                ),
                failures_per_window: env.or_checked(
                    "GATEWAY_CREDENTIAL_FAILURES_PER_MINUTE",
                    30,
                    "between 1 and 100000",
                    |n| (1..=100_000).contains(n),
                ),
                window: Duration::from_secs(60),
            },
            demo: DemoGatewaySettings {
                policy_file: env.optional("DEMO_POLICY_FILE"),
                session_cache_ttl: Duration::from_secs(env.or_checked(
                    "DEMO_SESSION_CACHE_SECONDS",
                    5,
                    "between 0 and 3600",
                    |n| *n <= 3600,
                )),
                template_tenant_ids: env
                    .or(
                        "DEMO_TEMPLATE_TENANT_IDS",
                        UuidList(TEMPLATE_TENANT_IDS.to_vec()),
                    )
                    .0,
                identity_ttl_secs: env.or_checked(
                    "GATEWAY_IDENTITY_TTL_SECONDS",
                    60,
                    "between 5 and 3600",
                    |n| (5..=3600).contains(n),
                ),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn template_ids_are_the_contract_ones() {
        assert_eq!(
            TEMPLATE_TENANT_IDS[0].to_string(),
            "00000000-0000-4000-a000-000000000001"
        );
        assert_eq!(
            TEMPLATE_TENANT_IDS[1].to_string(),
            "00000000-0000-4000-a000-000000000002"
        );
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
        ] {
            assert!(err.variables().contains(&v), "{v}: {err}");
        }
    }
}
