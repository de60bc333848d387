//! `Application::build(settings)`: used by `main` and by the tests' `spawn_app()`, so tests
//! run the real router, middleware and database.

use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::web;
use bakery_config::auth::IdentityVerifier;
use bakery_config::cache;
use bakery_config::db::{self, PgConn, PgPool, PostgresReady};
use bakery_config::http::Readiness;
use bakery_config::server;

use crate::cache::Cache;
use crate::error::InventoryError;
use crate::quota::DemoQuotas;
use crate::routes;
use crate::settings::Settings;

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub cache: Cache,
    pub quotas: DemoQuotas,
    pub settings: Arc<Settings>,
}

impl AppState {
    /// A pooled connection; `unavailable` (503, `Retry-After`) when the pool cannot give
    /// one within `DATABASE_POOL_WAIT_MS`.
    pub async fn conn(&self) -> Result<PgConn, InventoryError> {
        Ok(self.pool.get().await?)
    }
}

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let pool = db::build_pool(&settings.database)?;
        let redis = cache::build_pool(&settings.redis)?;
        let listener = server::bind(&settings.server)?;
        let port = listener.local_addr()?.port();
        // Redis is only a cache here (a Redis outage falls through to PostgreSQL), so it
        // is not a readiness condition: pods stay in service while Redis is down.
        let readiness = web::Data::new(Readiness(vec![Arc::new(PostgresReady {
            name: "postgres",
            pool: pool.clone(),
        })]));
        let verifier = web::Data::new(IdentityVerifier::new(&settings.tokens.internal_secret));
        let keys = cache::Keys::new(settings.redis.key_prefix.clone());
        let state = web::Data::new(AppState {
            cache: Cache::new(
                redis.clone(),
                keys.clone(),
                settings.cache_ttl_secs,
                settings.cache_max_mb.saturating_mul(1024 * 1024),
            ),
            quotas: DemoQuotas::new(
                redis,
                keys,
                settings.demo_writes_per_minute,
                settings.demo_max_rows_per_table,
            ),
            pool,
            settings: Arc::new(settings.clone()),
        });
        let server = server::serve(listener, &settings.server, move |cfg| {
            cfg.app_data(readiness.clone())
                .app_data(verifier.clone())
                .app_data(state.clone())
                .configure(routes::configure);
        })?;
        Ok(Application { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
