//! `Application::build(settings)`: used by `main` and by the tests' `spawn_app()`, so tests
//! run the real router, middleware and database.

use std::sync::Arc;

use actix_web::web;
use bakery_config::cache::{self, Keys};
use bakery_config::client::ClientAssertions;
use bakery_config::db::PgPool;
use bakery_config::metrics::prometheus_client::registry::Registry;
use bakery_config::metrics::{Exposition, Metrics};
use bakery_config::server::{ServiceBase, Serving};

use crate::access::AccessTokens;
use crate::demo_client::DemoSessionClient;
use crate::login;
use crate::metrics::TenantMetrics;
use crate::routes;
use crate::settings::Settings;
use crate::throttle::LoginThrottle;

/// The binary's name, in logs.
pub const NAME: &str = "tenant-service";

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub redis: cache::RedisPool,
    pub settings: Arc<Settings>,
    pub throttle: LoginThrottle,
    pub tokens: AccessTokens,
    pub demo: DemoSessionClient,
    /// What unknown addresses' passwords are verified against (see `login`).
    pub dummy_hash: Arc<str>,
    pub metrics: TenantMetrics,
}

/// tenant-service's start-up: [`Application::build`] wires its pools, state and routes, and
/// answers it serving ([`Serving::port`], [`Serving::run_until_stopped`]).
pub struct Application;

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Serving> {
        let common = &settings.common;
        // `/ready` asks PostgreSQL only: login works without Redis (the limiter fails open),
        // and an unready tenant-service would lock everyone out
        let base = ServiceBase::open(NAME, common, crate::MIGRATIONS)?;
        // what the `ClientAddress` extractor verifies the gateway's client assertions with
        let assertions = web::Data::new(ClientAssertions::new(&common.tokens.internal_secret));
        let state = web::Data::new(AppState {
            throttle: LoginThrottle::new(
                base.redis.clone(),
                Keys::new(common.redis.key_prefix.clone()),
                settings.login.clone(),
            ),
            tokens: AccessTokens::new(&common.tokens.access_secret, common.tokens.access_ttl),
            demo: DemoSessionClient::new(
                &common.services.demo_session,
                settings.login.demo_session_timeout,
            )?,
            dummy_hash: login::dummy_hash().await?,
            pool: base.pool,
            redis: base.redis,
            settings: Arc::new(settings.clone()),
            metrics: TenantMetrics::default(),
        });
        let mut registry = Registry::default();
        state.metrics.register(&mut registry);
        let metrics = (
            web::Data::new(Metrics::new(registry)),
            Exposition::ServicePort,
        );
        let serving = Serving::start(NAME, &common.server, base.readiness, metrics, move |cfg| {
            cfg.app_data(base.identities.clone())
                .app_data(assertions.clone())
                .app_data(state.clone())
                .configure(routes::configure);
        })?;
        Ok(serving)
    }
}
