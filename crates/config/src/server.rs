//! The actix-web server every service runs: request ids and logs, the HTTP metrics, JSON
//! errors for extractor failures and unknown routes, `/health` and `/ready`, `/metrics`
//! (unless the service serves it elsewhere), graceful shutdown;
//! [`Serving`], what each service's `Application::build` starts; and [`ServiceBase`], what
//! a service with a database of its own starts from.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};

use crate::auth::IdentityVerifier;
use crate::cache::{self, RedisPool};
use crate::db::{self, PgPool, PostgresReady};
use crate::http::{Readiness, configure_extractors, health_routes, not_found};
use crate::metrics::{Exposition, Metrics, exposition_route};
use crate::schema_version::SchemaReady;
use crate::settings::{ServerSettings, ServiceSettings};
use crate::telemetry::observe;
use diesel_migrations::EmbeddedMigrations;

/// Largest JSON body a service accepts.
pub const JSON_LIMIT: usize = 256 * 1024;

/// How long a server keeps an idle keep-alive connection open: longer than any caller's
/// [`CLIENT_POOL_IDLE`], so the caller always drops an idle connection first and never
/// sends a request on one the server is closing at that instant. (actix-web's 5 s against
/// the clients' 90 s lost one request in a 10-minute soak: "connection closed before
/// message completed", a 502; scripts/faults.sh `soak`.)
pub const KEEP_ALIVE: Duration = Duration::from_secs(75);

/// How long the HTTP clients that call our services (the gateway's forwarding pool,
/// service-to-service clients) keep an idle connection: well under [`KEEP_ALIVE`].
pub const CLIENT_POOL_IDLE: Duration = Duration::from_secs(30);

/// Binds `HOST:PORT` (port 0 picks a free one, as tests do).
pub fn bind(settings: &ServerSettings) -> std::io::Result<TcpListener> {
    TcpListener::bind(settings.address())
}

/// Starts serving on `listener`: `/health`, and `/ready` running `readiness`'s checks;
/// every request recorded in `metrics`, served at `/metrics` when `exposition` says so;
/// `routes` adds the service's own app data and routes. The returned server stops
/// gracefully on SIGTERM/SIGINT, giving in-flight requests `shutdown_timeout_secs` to
/// finish.
pub fn serve<F>(
    listener: TcpListener,
    settings: &ServerSettings,
    readiness: Readiness,
    metrics: (web::Data<Metrics>, Exposition),
    routes: F,
) -> std::io::Result<Server>
where
    F: Fn(&mut web::ServiceConfig) + Send + Clone + 'static,
{
    let readiness = web::Data::new(readiness);
    let (metrics, exposition) = metrics;
    let server = HttpServer::new(move || {
        App::new()
            .wrap(from_fn(observe))
            .configure(|c| configure_extractors(c, JSON_LIMIT))
            .app_data(readiness.clone())
            .app_data(metrics.clone())
            .configure(health_routes)
            .configure(|c| {
                if exposition == Exposition::ServicePort {
                    exposition_route(c);
                }
            })
            .configure(routes.clone())
            .default_service(web::to(not_found))
    })
    .keep_alive(KEEP_ALIVE)
    .listen(listener)?
    .shutdown_timeout(settings.shutdown_timeout_secs)
    .run();
    Ok(server)
}

/// A service bound and serving: the port it listens on (tests bind port 0 and ask), and
/// the server, which runs until SIGTERM/SIGINT and then lets in-flight requests finish.
pub struct Serving {
    port: u16,
    server: Server,
}

impl Serving {
    /// Binds `HOST:PORT` and starts serving `readiness`, `metrics` and `routes` (see
    /// [`serve`]); `service` names it in the log.
    pub fn start<F>(
        service: &'static str,
        settings: &ServerSettings,
        readiness: Readiness,
        metrics: (web::Data<Metrics>, Exposition),
        routes: F,
    ) -> std::io::Result<Self>
    where
        F: Fn(&mut web::ServiceConfig) + Send + Clone + 'static,
    {
        let listener = bind(settings)?;
        let port = listener.local_addr()?.port();
        let server = serve(listener, settings, readiness, metrics, routes)?;
        tracing::info!(port, "{service} listening");
        Ok(Serving { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until stopped.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// What a service with a database of its own (tenant-service, inventory-service) starts
/// from. Both pools connect lazily: a dependency that is down does not stop start-up.
pub struct ServiceBase {
    pub pool: PgPool,
    pub redis: RedisPool,
    /// `/ready` asks PostgreSQL only, and whether its schema is at the version the service
    /// embeds ([`SchemaReady`]): in these services Redis is a cache or a limiter that fails
    /// open, so a Redis outage is no reason to take pods out of service.
    pub readiness: Readiness,
    /// Verifies the identity the gateway forwards (the `Identity` extractor's app data).
    pub identities: web::Data<IdentityVerifier>,
}

impl ServiceBase {
    /// `service` names the service in logs; `migrations` are the ones it embeds.
    pub fn open(
        service: &'static str,
        settings: &ServiceSettings,
        migrations: EmbeddedMigrations,
    ) -> anyhow::Result<Self> {
        let pool = db::build_pool(&settings.database)?;
        Ok(ServiceBase {
            readiness: Readiness(vec![
                Arc::new(PostgresReady {
                    name: "postgres",
                    pool: pool.clone(),
                }),
                Arc::new(SchemaReady::new(service, pool.clone(), migrations)),
            ]),
            pool,
            redis: cache::build_pool(&settings.redis)?,
            identities: web::Data::new(IdentityVerifier::new(&settings.tokens.internal_secret)),
        })
    }
}
