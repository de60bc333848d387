//! `Application::build(settings)`: used by `main` and by the tests' `spawn_app()`, so tests
//! run the real router, middleware and upstream connections.

use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::web;
use bakery_config::cache::{self, Keys};
use bakery_config::client::ClientAddress;
use bakery_config::demo::{self, SessionIdKey};
use bakery_config::http::{Readiness, ReadinessCheck};
use bakery_config::metrics::{Exposition, Metrics, serve_metrics};
use bakery_config::server::Serving;
use tokio::task::JoinHandle;

use crate::auth::{Authenticator, IdentityMinter, Principal};
use crate::backoff::WriteBackoff;
use crate::client::TrustedProxies;
use crate::error::GatewayError;
use crate::handler;
use crate::metrics::GatewayMetrics;
use crate::milestones::{self, Milestones};
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
    pub metrics: GatewayMetrics,
    /// The demo funnel's milestones the gateway sees, on their way to demo-session.
    pub milestones: Milestones,
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
    metrics: GatewayMetrics,
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
        metrics,
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
    /// `GET /metrics` on `GATEWAY_METRICS_ADDR`.
    metrics_server: Server,
    metrics_port: u16,
    invalidations: JoinHandle<()>,
    deliveries: JoinHandle<()>,
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
        let gateway_metrics = GatewayMetrics::default();
        let mut registry = bakery_config::metrics::prometheus_client::registry::Registry::default();
        gateway_metrics.register(&mut registry);
        let metrics = web::Data::new(Metrics::new(registry));
        let sessions = session_resolver(
            &settings,
            keys.clone(),
            client.clone(),
            gateway_metrics.clone(),
        )?;
        let listener_sessions = sessions.clone();
        let proxy = Proxy::new(
            settings.services.clone(),
            settings.limits.clone(),
            settings.timeouts.clone(),
        )?;
        let readiness = upstream_readiness(&proxy, &client);
        let (milestones, milestone_queue) =
            Milestones::new(milestones::QUEUE_CAPACITY, gateway_metrics.clone());
        let deliveries = tokio::spawn(milestones::deliver(
            milestone_queue,
            client.clone(),
            settings.services.demo_session.clone(),
            settings.tokens.internal_secret.clone(),
            gateway_metrics.clone(),
        ));
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
            metrics: gateway_metrics,
            milestones,
        });
        // the invalidation subscriber's own connection (same URL, same TLS as the pool)
        let invalidation_client = cache::client(&settings.redis)?;
        let timeouts = settings.timeouts.clone();
        // called once per worker thread
        let metrics_listener = std::net::TcpListener::bind(settings.metrics_addr)?;
        let metrics_port = metrics_listener.local_addr()?.port();
        let serving_metrics = (metrics.clone(), Exposition::OwnListener);
        let serving = Serving::start(
            NAME,
            &settings.server,
            readiness,
            serving_metrics,
            move |cfg| {
                let pool = proxy::upstream_client(&timeouts);
                cfg.app_data(state.clone())
                    .app_data(web::Data::new(WorkerPool(pool)))
                    // a prefix scope, not a `{tail:.*}` pattern: no regex per request
                    .service(web::scope("").default_service(web::to(handler::gateway)));
            },
        )?;
        let metrics_server = serve_metrics(
            metrics_listener,
            metrics,
            settings.server.shutdown_timeout_secs,
        )?;
        tracing::info!(port = metrics_port, "gateway metrics listening");
        // started last, so a failed start-up leaves no task behind
        let invalidations = tokio::spawn(session::listen_for_invalidations(
            listener_sessions,
            invalidation_client,
            demo::invalidation_channel(&keys),
        ));
        Ok(Application {
            serving,
            metrics_server,
            metrics_port,
            invalidations,
            deliveries,
        })
    }

    pub fn port(&self) -> u16 {
        self.serving.port()
    }

    /// The port of `GATEWAY_METRICS_ADDR`'s listener.
    pub fn metrics_port(&self) -> u16 {
        self.metrics_port
    }

    /// Serves until stopped; the metrics listener stops with the public one.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics = self.metrics_server.handle();
        let metrics_server = tokio::spawn(self.metrics_server);
        let result = self.serving.run_until_stopped().await;
        metrics.stop(true).await;
        let _ = metrics_server.await;
        self.invalidations.abort();
        self.deliveries.abort();
        result
    }
}
