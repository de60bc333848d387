//! Prometheus metrics: one [`Metrics`] (one `prometheus_client` [`Registry`]) per
//! `Application`, never a global recorder, so a test process can build several apps and
//! each one's `/metrics` shows only its own numbers.
//!
//! - [`Metrics::record_http`]: what the middleware every service runs
//!   ([`crate::telemetry::observe`]) records: `http_server_request_duration_seconds` by
//!   method, route template and status (OpenTelemetry's HTTP semantic conventions, their
//!   bucket boundaries).
//! - [`exposition`]: `GET /metrics` in the OpenMetrics text format, on the service port
//!   ([`Exposition::ServicePort`]) or on a listener of its own ([`serve_metrics`]: the
//!   gateway's `GATEWAY_METRICS_ADDR`).
//! - Each service registers its own domain metrics (`bakery_…`) in the registry before
//!   [`Metrics::new`]; a [`Refresh`] hook reads what is cheaper to ask at scrape time.
//!
//! **Label sets stay bounded.** Every label set is a `#[derive(EncodeLabelSet)]` struct
//! whose values are enums or `&'static str` from a closed set, so the type system keeps the
//! number of series fixed: no ids, no client addresses, no raw paths. The one label built
//! at run time, [`HttpRoute`], can only be made from the router's own route template
//! (`match_pattern()`, one per registered resource) or a `&'static str`.
//! See docs/observability.md for every metric.

use std::borrow::Cow;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::dev::{Server, ServiceResponse};
use actix_web::http::Method;
use actix_web::{App, HttpMessage, HttpRequest, HttpResponse, HttpServer, ResponseError, web};
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

pub use prometheus_client;

/// The `Content-Type` of `GET /metrics`.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// OpenTelemetry's advised boundaries for `http.server.request.duration` (seconds).
pub const HTTP_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// Boundaries for slower work (clones, cleanup passes): 10 ms to 5 min.
pub const SLOW_BUCKETS: [f64; 14] = [
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

/// A family of histograms whose constructor is a plain function (so it can be named).
pub type HistogramFamily<S> = Family<S, Histogram, fn() -> Histogram>;

/// A histogram with [`HTTP_BUCKETS`].
pub fn http_histogram() -> Histogram {
    Histogram::new(HTTP_BUCKETS)
}

/// A histogram with [`SLOW_BUCKETS`].
pub fn slow_histogram() -> Histogram {
    Histogram::new(SLOW_BUCKETS)
}

/// A family of [`http_histogram`]s.
pub fn http_histograms<S: Clone + Eq + std::hash::Hash>() -> HistogramFamily<S> {
    Family::new_with_constructor(http_histogram)
}

/// A family of [`slow_histogram`]s.
pub fn slow_histograms<S: Clone + Eq + std::hash::Hash>() -> HistogramFamily<S> {
    Family::new_with_constructor(slow_histogram)
}

/// Seconds since `started`, for a histogram.
pub fn seconds_since(started: Instant) -> f64 {
    started.elapsed().as_secs_f64()
}

/// A count as a gauge value (saturating).
pub fn gauge_value(n: impl TryInto<i64>) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

/// The `http_request_method` label: the well-known methods, `_OTHER` for anything else
/// (OpenTelemetry's rule, so a made-up method cannot add a series).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HttpMethod(&'static str);

impl HttpMethod {
    pub fn of(method: &Method) -> Self {
        HttpMethod(match *method {
            Method::GET => "GET",
            Method::HEAD => "HEAD",
            Method::POST => "POST",
            Method::PUT => "PUT",
            Method::PATCH => "PATCH",
            Method::DELETE => "DELETE",
            Method::OPTIONS => "OPTIONS",
            Method::CONNECT => "CONNECT",
            Method::TRACE => "TRACE",
            _ => "_OTHER",
        })
    }
}

impl EncodeLabelValue for HttpMethod {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        EncodeLabelValue::encode(&self.0, encoder)
    }
}

/// The `http_route` label: a route template (`/api/inventory/ingredients/{id}`), never a
/// raw path. Made only from the router's pattern or a fixed string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HttpRoute(Cow<'static, str>);

impl HttpRoute {
    /// A request no route matched.
    pub const UNMATCHED: HttpRoute = HttpRoute(Cow::Borrowed("unmatched"));

    /// A fixed route name. A handler that serves many paths under one catch-all (the
    /// gateway) inserts one into the request's extensions to name the route it took.
    pub const fn fixed(name: &'static str) -> Self {
        HttpRoute(Cow::Borrowed(name))
    }

    /// The route `req` took: what its handler named, else the router's template, else
    /// [`Self::UNMATCHED`].
    fn of(req: &HttpRequest) -> Self {
        if let Some(named) = req.extensions().get::<HttpRoute>() {
            return named.clone();
        }
        match req.match_pattern() {
            Some(pattern) if !pattern.is_empty() => HttpRoute(Cow::Owned(pattern)),
            _ => Self::UNMATCHED,
        }
    }
}

impl EncodeLabelValue for HttpRoute {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        EncodeLabelValue::encode(&self.0.as_ref(), encoder)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct HttpLabels {
    http_request_method: HttpMethod,
    http_route: HttpRoute,
    http_response_status_code: u16,
}

/// A service's metrics: its registry (the HTTP histogram and whatever the service
/// registered) and what to refresh before each scrape.
pub struct Metrics {
    registry: Registry,
    http: HistogramFamily<HttpLabels>,
    refresh: Vec<Arc<dyn Refresh>>,
}

/// Something read at scrape time (a gauge the database knows best). Bounded by
/// [`REFRESH_TIMEOUT`]: a slow dependency leaves the last values, never a hung scrape.
#[async_trait::async_trait]
pub trait Refresh: Send + Sync {
    async fn refresh(&self);
}

/// How long [`Refresh`] hooks may take before the scrape answers without them.
pub const REFRESH_TIMEOUT: Duration = Duration::from_secs(2);

impl Metrics {
    /// `registry` holds the service's own metrics; the HTTP histogram is added here.
    pub fn new(mut registry: Registry) -> Self {
        let http = http_histograms::<HttpLabels>();
        registry.register_with_unit(
            "http_server_request_duration",
            "Duration of HTTP server requests",
            prometheus_client::registry::Unit::Seconds,
            http.clone(),
        );
        Metrics {
            registry,
            http,
            refresh: Vec::new(),
        }
    }

    /// Records a request's duration by method, route and status (called by
    /// [`crate::telemetry::observe`], the middleware every service runs).
    pub fn record_http<B>(
        &self,
        method: HttpMethod,
        started: Instant,
        result: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        // handlers' errors are answers by now; an `Err` here is a middleware's, before routing
        let (route, status) = match result {
            Ok(res) => (HttpRoute::of(res.request()), res.status()),
            Err(e) => (HttpRoute::UNMATCHED, e.as_response_error().status_code()),
        };
        self.http
            .get_or_create(&HttpLabels {
                http_request_method: method,
                http_route: route,
                http_response_status_code: status.as_u16(),
            })
            .observe(seconds_since(started));
    }

    /// Runs `hook` before every scrape.
    #[must_use]
    pub fn refresh_on_scrape(mut self, hook: Arc<dyn Refresh>) -> Self {
        self.refresh.push(hook);
        self
    }

    /// The exposition text, after the refresh hooks ran.
    pub async fn render(&self) -> Result<String, std::fmt::Error> {
        let hooks = futures_util::future::join_all(self.refresh.iter().map(|h| h.refresh()));
        if tokio::time::timeout(REFRESH_TIMEOUT, hooks).await.is_err() {
            tracing::warn!("metrics refresh timed out; serving the last values");
        }
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// Where a service serves `GET /metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposition {
    /// On its service port (demo-session, tenant-service, inventory-service).
    ServicePort,
    /// Not on the service port: a listener of its own ([`serve_metrics`]; the gateway).
    OwnListener,
}

/// `GET /metrics`.
pub async fn exposition(metrics: web::Data<Metrics>) -> HttpResponse {
    match metrics.render().await {
        Ok(text) => HttpResponse::Ok().content_type(CONTENT_TYPE).body(text),
        Err(e) => {
            tracing::error!(error = %e, "metrics encoding failed");
            crate::http::ApiError::internal().error_response()
        }
    }
}

/// Adds `GET /metrics` (and `HEAD`).
pub fn exposition_route(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/metrics")
            .route(web::get().to(exposition))
            .route(web::head().to(exposition))
            .default_service(web::to(crate::http::read_only)),
    );
}

/// Serves only `GET /metrics` on `listener` (the gateway's metrics port); anything else is
/// `404`. Stops on SIGTERM/SIGINT like the service beside it.
pub fn serve_metrics(
    listener: TcpListener,
    metrics: web::Data<Metrics>,
    shutdown_timeout_secs: u64,
) -> std::io::Result<Server> {
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(metrics.clone())
            .configure(exposition_route)
            .default_service(web::to(crate::http::not_found))
    })
    .workers(1)
    .listen(listener)?
    .shutdown_timeout(shutdown_timeout_secs)
    .run())
}

impl EncodeLabelValue for crate::demo::AccountType {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        EncodeLabelValue::encode(&self.as_str(), encoder)
    }
}

impl EncodeLabelValue for crate::funnel::Milestone {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        EncodeLabelValue::encode(&self.as_str(), encoder)
    }
}

impl EncodeLabelValue for crate::demo::SessionStatus {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        EncodeLabelValue::encode(&self.as_str(), encoder)
    }
}

/// A counter family (for the services' structs of metrics).
pub type CounterFamily<S> = Family<S, Counter>;

/// A gauge family.
pub type GaugeFamily<S> = Family<S, Gauge>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_share_one_label() {
        assert_eq!(HttpMethod::of(&Method::GET).0, "GET");
        let made_up = Method::from_bytes(b"BREW").expect("a token");
        assert_eq!(HttpMethod::of(&made_up).0, "_OTHER");
    }

    #[tokio::test]
    async fn the_exposition_names_the_route_template() {
        let metrics = Metrics::new(Registry::default());
        metrics
            .http
            .get_or_create(&HttpLabels {
                http_request_method: HttpMethod::of(&Method::GET),
                http_route: HttpRoute::fixed("/api/x/{id}"),
                http_response_status_code: 200,
            })
            .observe(0.003);
        let text = metrics.render().await.expect("encodes");
        assert!(text.contains("# TYPE http_server_request_duration_seconds histogram"));
        assert!(text.contains(
            "http_server_request_duration_seconds_count{http_request_method=\"GET\",http_route=\"/api/x/{id}\",http_response_status_code=\"200\"} 1"
        ), "{text}");
    }
}
