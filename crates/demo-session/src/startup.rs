//! `Application::build(settings)`: used by `main` and by the tests' `spawn_app()`, so tests
//! run the real router, middleware and databases.

use std::future::{Ready, ready};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use bakery_config::auth::IdentityVerifier;
use bakery_config::cache::{self, Keys, RedisReady};
use bakery_config::client::ClientAssertions;
use bakery_config::db::{self, PostgresReady};
use bakery_config::env::Secret;
use bakery_config::http::Readiness;
use bakery_config::metrics::prometheus_client::registry::Registry;
use bakery_config::metrics::{Exposition, Metrics};
use bakery_config::schema_version::SchemaReady;
use bakery_config::server::Serving;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::lifecycle::{DemoSessions, Pools};
use crate::redis_copy::SessionCache;
use crate::routes;
use crate::settings::Settings;

/// The binary's name, in logs.
pub const NAME: &str = "demo-session";

/// Builds the lifecycle service on its pools (shared by the server, the sweeper, the
/// `cleanup` subcommand and the tests).
pub async fn demo_sessions(settings: Arc<Settings>) -> anyhow::Result<Arc<DemoSessions>> {
    let pools = Pools {
        sessions: db::build_pool(&settings.database)?,
        tenant: db::build_pool(&settings.tenant_database)?,
        inventory: db::build_pool(&settings.inventory_database)?,
    };
    let redis = cache::build_pool(&settings.redis)?;
    let cache = SessionCache::new(redis, Keys::new(settings.redis.key_prefix.clone()));
    Ok(Arc::new(DemoSessions::new(settings, pools, cache).await?))
}

pub struct Application {
    serving: Serving,
    sessions: Arc<DemoSessions>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let settings = Arc::new(settings);
        let sessions = demo_sessions(settings.clone()).await?;
        let probe_pool = db::build_pool_for_url(&settings.database.url, 1)?;
        let readiness = Readiness(vec![
            Arc::new(PostgresReady {
                name: "postgres",
                pool: probe_pool.clone(),
            }),
            Arc::new(SchemaReady::new(NAME, probe_pool, crate::MIGRATIONS)),
            // a pool hit calls the tenant database's `adopt_demo_tenant`
            Arc::new(
                SchemaReady::new(
                    bakery_tenant::startup::NAME,
                    db::build_pool_for_url(&settings.tenant_database.url, 1)?,
                    bakery_tenant::MIGRATIONS,
                )
                .named("tenant_schema"),
            ),
            Arc::new(RedisReady(cache::build_pool(&settings.redis)?)),
        ]);
        let data = web::Data::from(sessions.clone());
        let admin = web::Data::new(AdminSecret(settings.admin_api_key.clone()));
        let assertions = web::Data::new(ClientAssertions::new(&settings.internal_secret));
        let identities = web::Data::new(IdentityVerifier::new(&settings.internal_secret));
        let mut registry = Registry::default();
        sessions.metrics().register(&mut registry);
        let metrics = Metrics::new(registry).refresh_on_scrape(crate::metrics::snapshot(
            sessions.sessions_pool().clone(),
            sessions.metrics().clone(),
        ));
        let metrics = (web::Data::new(metrics), Exposition::ServicePort);
        let serving = Serving::start(NAME, &settings.server, readiness, metrics, move |cfg| {
            cfg.app_data(data.clone())
                .app_data(admin.clone())
                .app_data(assertions.clone())
                .app_data(identities.clone())
                .configure(routes::configure)
                .configure(routes::configure_internal);
        })?;
        if !settings.cleanup_interval.is_zero() {
            spawn_sweeper(sessions.clone(), settings.cleanup_interval);
        }
        if settings.warm_pool.enabled() {
            spawn_refiller(sessions.clone());
        }
        spawn_statistics_refresher(sessions.clone());
        Ok(Application { serving, sessions })
    }

    pub fn port(&self) -> u16 {
        self.serving.port()
    }

    pub fn sessions(&self) -> Arc<DemoSessions> {
        self.sessions.clone()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.serving.run_until_stopped().await
    }
}

/// The background sweeper: one cleanup pass per interval.
fn spawn_sweeper(sessions: Arc<DemoSessions>, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match sessions.cleanup().await {
                Ok(r)
                    if r.expired.is_empty()
                        && r.cleaned.is_empty()
                        && r.orphans_removed.is_empty() => {}
                Ok(r) => tracing::info!(
                    expired = r.expired.len(),
                    cleaned = r.cleaned.len(),
                    orphans = r.orphans_removed.len(),
                    failures = r.failures.len(),
                    "cleanup pass"
                ),
                Err(e) => tracing::warn!(error = %e, "cleanup pass failed"),
            }
        }
    });
}

/// Keeps the warm pool at its target: at start, after every claim, and every 30 s (a new
/// day makes yesterday's clones stale; a fall in demand shrinks the target).
fn spawn_refiller(sessions: Arc<DemoSessions>) {
    tokio::spawn(async move {
        loop {
            match sessions.refill_pool().await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(cloned = n, "warm pool refilled"),
                Err(e) => tracing::warn!(error = %e, "warm pool refill failed"),
            }
            sessions.refill_wanted(Duration::from_secs(30)).await;
        }
    });
}

/// Refreshes the shared history's statistics after conversions that kept a history, one
/// `ANALYZE` at a time (`crate::convert::refresh_statistics` says why off the request).
fn spawn_statistics_refresher(sessions: Arc<DemoSessions>) {
    tokio::spawn(async move {
        loop {
            sessions.statistics_wanted().await;
            if let Err(e) = sessions.refresh_statistics().await {
                tracing::warn!(error = %e, "shared history statistics not refreshed");
            }
        }
    });
}

/// The admin credential from `ADMIN_API_KEY`.
pub struct AdminSecret(Secret);

/// Extractor: the request carries `X-Admin-Key` equal to `ADMIN_API_KEY`.
pub struct AdminKey;

impl FromRequest for AdminKey {
    type Error = crate::error::DemoError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let expected = req.app_data::<web::Data<AdminSecret>>();
        let given = req
            .headers()
            .get("x-admin-key")
            .and_then(|v| v.to_str().ok());
        ready(match (expected, given) {
            // digests of equal length compared in constant time (`subtle`, not `==`, which
            // may stop at the first differing byte): the time taken says nothing about the
            // key, nor about its length
            (Some(secret), Some(given))
                if bool::from(
                    Sha256::digest(given.as_bytes())[..]
                        .ct_eq(&Sha256::digest(secret.0.expose().as_bytes())[..]),
                ) =>
            {
                Ok(AdminKey)
            }
            _ => Err(crate::error::DemoError::AdminRequired),
        })
    }
}
