//! `Application::build(settings)`: used by `main` and by the tests' `spawn_app()`, so tests
//! run the real router, middleware and database.

use std::sync::Arc;

use actix_web::web;
use bakery_config::cache;
use bakery_config::db::{PgConn, PgPool};
use bakery_config::metrics::prometheus_client::registry::Registry;
use bakery_config::metrics::{Exposition, Metrics};
use bakery_config::server::{ServiceBase, Serving};

use crate::cache::Cache;
use crate::error::InventoryError;
use crate::metrics::InventoryMetrics;
use crate::quota::DemoQuotas;
use crate::routes;
use crate::settings::Settings;

/// The binary's name, in logs.
pub const NAME: &str = "inventory-service";

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub cache: Cache,
    pub quotas: DemoQuotas,
    pub settings: Arc<Settings>,
    pub metrics: InventoryMetrics,
}

impl AppState {
    /// A pooled connection; `unavailable` (503, `Retry-After`) when the pool cannot give
    /// one within `DATABASE_POOL_WAIT_MS`.
    pub async fn conn(&self) -> Result<PgConn, InventoryError> {
        Ok(self.pool.get().await?)
    }
}

/// inventory-service's start-up: [`Application::build`] wires its pools, state and routes, and
/// answers it serving ([`Serving::port`], [`Serving::run_until_stopped`]).
pub struct Application;

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Serving> {
        Self::build_with(settings, InventoryMetrics::default()).await
    }

    /// As [`Self::build`], counting in `metrics` (which the procurement scheduler shares).
    #[expect(
        clippy::unused_async,
        reason = "starts the server on the caller's runtime, so it must run inside one"
    )]
    pub async fn build_with(
        settings: Settings,
        metrics: InventoryMetrics,
    ) -> anyhow::Result<Serving> {
        let common = &settings.common;
        // `/ready` asks PostgreSQL only: Redis is only a cache here (an outage falls through
        // to PostgreSQL), so pods stay in service while Redis is down
        let base = ServiceBase::open(NAME, common, crate::MIGRATIONS)?;
        let keys = cache::Keys::new(common.redis.key_prefix.clone());
        let state = web::Data::new(AppState {
            cache: Cache::new(
                base.redis.clone(),
                keys.clone(),
                settings.cache_ttl_secs,
                settings.cache_max_mb.saturating_mul(1024 * 1024),
            ),
            quotas: DemoQuotas::new(
                base.redis,
                keys,
                settings.demo_writes_per_minute,
                settings.demo_max_rows_per_table,
            ),
            pool: base.pool,
            settings: Arc::new(settings.clone()),
            metrics: metrics.clone(),
        });
        let mut registry = Registry::default();
        metrics.register(&mut registry);
        let metrics = (
            web::Data::new(Metrics::new(registry)),
            Exposition::ServicePort,
        );
        let serving = Serving::start(NAME, &common.server, base.readiness, metrics, move |cfg| {
            cfg.app_data(base.identities.clone())
                .app_data(state.clone())
                .configure(routes::configure);
        })?;
        Ok(serving)
    }
}
