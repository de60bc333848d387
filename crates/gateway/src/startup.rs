//! `Application::build(settings)`: used by `main` and by the tests' `spawn_app()`, so tests
//! run the real router, middleware and upstream connections.

use std::sync::Arc;

use actix_web::web;
use bakery_config::cache::{self, Keys};
use bakery_config::client::ClientAddress;
use bakery_config::demo::{self, SessionIdKey};
use bakery_config::http::{Readiness, ReadinessCheck};
use bakery_config::server::Serving;
use tokio::task::JoinHandle;

use crate::auth::{Authenticator, IdentityMinter, Principal};
use crate::backoff::WriteBackoff;
use crate::client::TrustedProxies;
use crate::error::GatewayError;
use crate::handler;
use crate::policy::Policy;
use crate::proxy::{self, Proxy, UpstreamReady, WorkerPool};
use crate::refusals::Refusals;
use crate::routes::Upstream;
use crate::session::{self, SessionResolver};
use crate::settings::Settings;

/// The binary's name, in logs.
pub const NAME: &str = "gateway";

/// What the handler shares.
pub struct AppState {
    pub proxy: Proxy,
    pub auth: Authenticator,
    pub sessions: Arc<SessionResolver>,
    pub policy: Policy,
    pub identities: IdentityMinter,
    pub trusted_proxies: TrustedProxies,
    pub write_backoff: WriteBackoff,
    /// `GET /api/openapi.json`, rendered once at start-up.
    pub openapi: bytes::Bytes,
    /// What each documented path answers, from the same document: `405` and `OPTIONS`.
    pub allowed: bakery_config::openapi::AllowedMethods,
}

impl AppState {
    /// The `Authorization` value forwarded for `principal`: its signed identity
    /// (docs/gateway.md, "Credentials").
    pub fn sign(&self, principal: &Principal) -> Result<hyper::header::HeaderValue, GatewayError> {
        Ok(self.identities.authorization(principal)?)
    }

    /// The `X-Bakery-Client` value forwarded for `client`.
    pub fn assert_client(
        &self,
        client: ClientAddress,
    ) -> Result<hyper::header::HeaderValue, GatewayError> {
        Ok(self.identities.client_assertion(client)?)
    }
}

/// Demo sessions resolved through the in-process cache, Redis (its own pool) and
/// demo-session.
fn session_resolver(
    settings: &Settings,
    keys: Keys,
    client: reqwest::Client,
) -> anyhow::Result<Arc<SessionResolver>> {
    Ok(Arc::new(SessionResolver::new(
        cache::build_pool(&settings.redis)?,
        keys,
        client,
        settings.services.demo_session.clone(),
        settings.demo.session_cache_ttl,
        settings
            .timeouts
            .request
            .min(std::time::Duration::from_secs(5)),
        SessionIdKey::new(&settings.tokens.session_secret),
        Refusals::new(&settings.refusals),
    )))
}

/// `/ready`: every upstream's `/health`.
fn upstream_readiness(proxy: &Proxy, client: &reqwest::Client) -> Readiness {
    Readiness(
        Upstream::ALL
            .into_iter()
            .map(|upstream| {
                Arc::new(UpstreamReady {
                    upstream,
                    url: proxy.base_url(upstream).to_owned(),
                    client: client.clone(),
                }) as Arc<dyn ReadinessCheck>
            })
            .collect(),
    )
}

pub struct Application {
    serving: Serving,
    invalidations: JoinHandle<()>,
}

impl Application {
    #[expect(
        clippy::unused_async,
        reason = "starts the server and the invalidation listener on the caller's runtime, \
                  so it must run inside one; the same `build(settings).await` as every service"
    )]
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let policy = Policy::load(settings.demo.policy_file.as_deref())?;
        let openapi = bytes::Bytes::from(serde_json::to_vec(&crate::openapi::render(&policy)?)?);
        let allowed = bakery_config::openapi::AllowedMethods::from_document(
            &crate::openapi::document(&policy),
            true,
        );
        let client = proxy::client(&settings.timeouts)?;
        let keys = Keys::new(settings.redis.key_prefix.clone());
        let sessions = session_resolver(&settings, keys.clone(), client.clone())?;
        let listener_sessions = sessions.clone();
        let proxy = Proxy::new(
            settings.services.clone(),
            settings.limits.clone(),
            settings.timeouts.clone(),
        )?;
        let readiness = upstream_readiness(&proxy, &client);
        let state = web::Data::new(AppState {
            proxy,
            auth: Authenticator::new(&settings.tokens, settings.demo.template_tenant_ids.clone()),
            sessions,
            policy,
            identities: IdentityMinter::new(
                &settings.tokens.internal_secret,
                settings.demo.identity_ttl_secs,
            ),
            trusted_proxies: settings.trusted_proxies.clone(),
            write_backoff: WriteBackoff::default(),
            openapi,
            allowed,
        });
        // the invalidation subscriber's own connection (same URL, same TLS as the pool)
        let invalidation_client = cache::client(&settings.redis)?;
        let timeouts = settings.timeouts.clone();
        // called once per worker thread
        let serving = Serving::start(NAME, &settings.server, readiness, move |cfg| {
            let pool = proxy::upstream_client(&timeouts);
            cfg.app_data(state.clone())
                .app_data(web::Data::new(WorkerPool(pool)))
                // a prefix scope, not a `{tail:.*}` pattern: no regex per request
                .service(web::scope("").default_service(web::to(handler::gateway)));
        })?;
        // started last, so a failed start-up leaves no task behind
        let invalidations = tokio::spawn(session::listen_for_invalidations(
            listener_sessions,
            invalidation_client,
            demo::invalidation_channel(&keys),
        ));
        Ok(Application {
            serving,
            invalidations,
        })
    }

    pub fn port(&self) -> u16 {
        self.serving.port()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.serving.run_until_stopped().await;
        self.invalidations.abort();
        result
    }
}
