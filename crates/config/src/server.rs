//! The actix-web server every service runs: request ids and logs, JSON errors for
//! extractor failures and unknown routes, `/health` and `/ready`, graceful shutdown.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};

use crate::http::{configure_extractors, health_routes, not_found};
use crate::settings::ServerSettings;
use crate::telemetry::request_span;

/// Largest JSON body a service accepts.
pub const JSON_LIMIT: usize = 256 * 1024;

/// Binds `HOST:PORT` (port 0 picks a free one, as tests do).
pub fn bind(settings: &ServerSettings) -> std::io::Result<TcpListener> {
    TcpListener::bind(settings.address())
}

/// Starts serving on `listener`; `routes` adds the service's own app data and routes.
/// The returned server stops gracefully on SIGTERM/SIGINT, giving in-flight requests
/// `shutdown_timeout_secs` to finish.
pub fn serve<F>(
    listener: TcpListener,
    settings: &ServerSettings,
    routes: F,
) -> std::io::Result<Server>
where
    F: Fn(&mut web::ServiceConfig) + Send + Clone + 'static,
{
    let server = HttpServer::new(move || {
        App::new()
            .wrap(from_fn(request_span))
            .configure(|c| configure_extractors(c, JSON_LIMIT))
            .configure(health_routes)
            .configure(routes.clone())
            .default_service(web::to(not_found))
    })
    .listen(listener)?
    .shutdown_timeout(settings.shutdown_timeout_secs)
    .run();
    Ok(server)
}
