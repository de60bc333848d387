//! `Application::build(settings)`: used by `main` and by the tests' `spawn_app()`, so tests
//! run the real router, middleware and database.

use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::web;
use bakery_config::auth::IdentityVerifier;
use bakery_config::cache::{self, Keys};
use bakery_config::client::ClientAssertions;
use bakery_config::db::{self, PgPool, PostgresReady};
use bakery_config::http::Readiness;
use bakery_config::server;

use crate::access::AccessTokens;
use crate::demo_client::DemoSessionClient;
use crate::login;
use crate::routes;
use crate::settings::Settings;
use crate::throttle::LoginThrottle;

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
        // Redis is not a readiness dependency: login works without it (the limiter fails
        // open), and an unready tenant-service would lock everyone out.
        let readiness = web::Data::new(Readiness(vec![Arc::new(PostgresReady {
            name: "postgres",
            pool: pool.clone(),
        })]));
        let verifier = web::Data::new(IdentityVerifier::new(&settings.tokens.internal_secret));
        // what the `ClientAddress` extractor verifies the gateway's client assertions with
        let assertions = web::Data::new(ClientAssertions::new(&settings.tokens.internal_secret));
        let state = web::Data::new(AppState {
            throttle: LoginThrottle::new(
                redis.clone(),
                Keys::new(settings.redis.key_prefix.clone()),
                settings.login.clone(),
            ),
            tokens: AccessTokens::new(&settings.tokens.access_secret, settings.tokens.access_ttl),
            demo: DemoSessionClient::new(
                &settings.services.demo_session,
                settings.login.demo_session_timeout,
            )?,
            dummy_hash: login::dummy_hash().await?,
            pool,
            redis,
            settings: Arc::new(settings.clone()),
        });
        let server = server::serve(listener, &settings.server, move |cfg| {
            cfg.app_data(readiness.clone())
                .app_data(verifier.clone())
                .app_data(assertions.clone())
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
