//! Forwarding to an upstream over a pooled HTTP/1.1 client: bodies streamed both ways
//! under size limits, hop-by-hop and client identity headers removed, `X-Forwarded-For`
//! appended (for logs: services never read it), `X-Request-Id` propagated, the gateway's
//! identity and client assertion added. An upstream that cannot be reached answers `502`,
//! one that is too slow `504`.
//!
//! `HEAD` is forwarded as `GET` and answered without the body (actix-web leaves it out
//! and keeps its length): every path a `GET` reads answers `HEAD` the same way, whatever
//! the upstream's own router does with `HEAD`.
//!
//! The forwarding client is hyper's own pooled client (`hyper_util`'s legacy `Client`, the
//! one `reqwest` wraps), used directly: on every request `reqwest` also runs its redirect
//! layer (which re-parses the URL, even with redirects off) and its retry layer (which
//! copies the request up front), and that cost 20 % of the gateway's throughput in the
//! benchmark (docs/performance.md). `reqwest` remains the client for everything else the
//! gateway calls (the demo-session fallback, readiness checks).

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::body::SizedStream;
use actix_web::http::{StatusCode, header as ax};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use bakery_config::server::CLIENT_POOL_IDLE;
use bakery_config::settings::ServiceUrls;
use bakery_config::telemetry::REQUEST_ID_HEADER;
use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, BodyStream, Empty, StreamBody};
use hyper::body::Frame;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::error::GatewayError;
use crate::request::{ADMIN_KEY_HEADER, CheckedRequest};
use crate::routes::Upstream;
use crate::settings::{Limits, Timeouts};

/// Answers up to this size (with a known length) are relayed in one piece.
const BUFFER_UP_TO: u64 = 64 * 1024;

/// Headers that describe one connection, never forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "trailers",
    "transfer-encoding",
    "upgrade",
];

/// Whether a client header claims an identity (or tenant) and so must never reach an
/// upstream: the gateway's own identity is the only one services see.
pub fn is_identity_header(name: &str) -> bool {
    matches!(
        name,
        "authorization"
            | "cookie2"
            | "x-role"
            | "x-roles"
            | "x-session-token"
            | "x-forwarded-user"
            | "x-forwarded-email"
            | "x-remote-user"
            | "x-api-key"
            | "x-admin-key"
    ) || [
        "x-bakery",
        "x-tenant",
        "x-user",
        "x-demo",
        "x-internal",
        "x-identity",
        "x-auth",
        "x-service",
        "x-account",
        "x-virtual-tenant",
    ]
    .iter()
    .any(|p| name.starts_with(p))
}

/// Header names listed in `Connection` (lower-case).
fn connection_tokens<'a>(values: impl Iterator<Item = &'a [u8]>) -> Vec<String> {
    values
        .filter_map(|v| std::str::from_utf8(v).ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

/// The client for the gateway's own calls (demo-session fallback, readiness): HTTP/1.1
/// keep-alive pool, no redirects, no proxies from the environment.
pub fn client(timeouts: &Timeouts) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .connect_timeout(timeouts.connect)
        .pool_max_idle_per_host(timeouts.pool_idle_per_host)
        .pool_idle_timeout(CLIENT_POOL_IDLE)
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()?)
}

/// A request body on its way to an upstream: empty, or the client's, streamed.
type UpstreamBody = BoxBody<Bytes, io::Error>;

/// The forwarding client: HTTP/1.1 keep-alive pool, plain HTTP (upstreams are in-cluster
/// services), `TCP_NODELAY`, connect timeout, never follows redirects.
pub fn upstream_client(timeouts: &Timeouts) -> Client<HttpConnector, UpstreamBody> {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(timeouts.connect));
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(timeouts.pool_idle_per_host)
        // drop idle connections before the upstream would (its keep-alive is longer)
        .pool_idle_timeout(CLIENT_POOL_IDLE)
        .pool_timer(TokioTimer::new())
        .build(connector)
}

/// The keep-alive pool of one worker thread, shared by every request that worker serves.
/// One pool per worker (rather than one for the process) keeps each pooled connection on
/// the thread and runtime that uses it: no cross-thread wake-ups per request
/// (docs/performance.md).
pub struct WorkerPool(pub Client<HttpConnector, UpstreamBody>);

/// One request to forward.
pub struct Forward<'a> {
    pub pool: &'a WorkerPool,
    pub upstream: Upstream,
    pub checked: &'a CheckedRequest,
    /// `Authorization: Bearer <signed identity>`, if the route needs one.
    pub identity: Option<HeaderValue>,
    /// The signed client assertion (`X-Bakery-Client`), on every forwarded request.
    pub client: HeaderValue,
    /// Admin routes: `X-Admin-Key` goes through for the upstream to check.
    pub pass_admin_key: bool,
}

pub struct Proxy {
    urls: ServiceUrls,
    /// `http://host:port` plus any base path without its trailing `/`, per upstream
    /// (demo-session, tenant, inventory): checked once at start-up.
    bases: [String; 3],
    limits: Limits,
    timeouts: Timeouts,
}

/// An upstream base URL as the forwarding client needs it: plain `http`, a host, no
/// query or fragment; answers it without a trailing `/`.
fn upstream_base(url: &str) -> anyhow::Result<String> {
    let parsed =
        reqwest::Url::parse(url).map_err(|e| anyhow::anyhow!("upstream URL {url:?}: {e}"))?;
    anyhow::ensure!(
        parsed.scheme() == "http" && parsed.host().is_some(),
        "upstream URL {url:?}: must be http://host[:port][/path] (upstreams are in-cluster services)"
    );
    anyhow::ensure!(
        parsed.query().is_none() && parsed.fragment().is_none(),
        "upstream URL {url:?}: no query or fragment"
    );
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

impl Proxy {
    pub fn new(urls: ServiceUrls, limits: Limits, timeouts: Timeouts) -> anyhow::Result<Self> {
        Ok(Proxy {
            bases: [
                upstream_base(&urls.demo_session)?,
                upstream_base(&urls.tenant)?,
                upstream_base(&urls.inventory)?,
            ],
            urls,
            limits,
            timeouts,
        })
    }

    /// The upstream URI for a checked request: the base URL (with its path), then the
    /// canonical path, then the (URI-safe) query.
    fn target(
        &self,
        upstream: Upstream,
        checked: &CheckedRequest,
    ) -> Result<hyper::Uri, GatewayError> {
        let [demo_session, tenant, inventory] = &self.bases;
        let base = match upstream {
            Upstream::DemoSession => demo_session,
            Upstream::Tenant => tenant,
            Upstream::Inventory => inventory,
        };
        let uri = match &checked.query {
            Some(query) => format!("{base}{}?{query}", checked.forward_path),
            None => format!("{base}{}", checked.forward_path),
        };
        // the path is canonically encoded, the query has only URI-safe bytes
        uri.parse()
            .map_err(|_| GatewayError::Ambiguous("destino no válido"))
    }

    pub fn base_url(&self, upstream: Upstream) -> &str {
        match upstream {
            Upstream::DemoSession => &self.urls.demo_session,
            Upstream::Tenant => &self.urls.tenant,
            Upstream::Inventory => &self.urls.inventory,
        }
    }

    pub async fn forward(
        &self,
        req: &HttpRequest,
        payload: web::Payload,
        fwd: Forward<'_>,
    ) -> Result<HttpResponse, GatewayError> {
        let upstream = fwd.upstream;
        let uri = self.target(upstream, fwd.checked)?;
        let method = if req.method() == actix_web::http::Method::HEAD {
            hyper::Method::GET
        } else {
            hyper::Method::from_bytes(req.method().as_str().as_bytes())
                .map_err(|_| GatewayError::MethodNotAllowed(crate::routes::FORWARDED.into()))?
        };
        let headers = Self::request_headers(req, &fwd);

        let declared = req
            .headers()
            .get(ax::CONTENT_LENGTH)
            .map(|v| {
                v.to_str()
                    .ok()
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .ok_or(GatewayError::Ambiguous("Content-Length no válido"))
            })
            .transpose()?;
        if declared.is_some_and(|n| n > self.limits.max_request_body) {
            return Err(GatewayError::PayloadTooLarge);
        }
        let chunked = req.headers().contains_key(ax::TRANSFER_ENCODING);
        let overflow = Arc::new(AtomicBool::new(false));
        let body = if declared.is_some_and(|n| n > 0) || chunked {
            stream_body(payload, self.limits.max_request_body, overflow.clone())
        } else {
            Empty::new().map_err(|never| match never {}).boxed()
        };
        let mut request = hyper::Request::new(body);
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;
        // One deadline for the answer's head and, for answers read whole, its body.
        let deadline = tokio::time::Instant::now() + self.timeouts.request;
        let sent = tokio::time::timeout_at(deadline, fwd.pool.0.request(request))
            .await
            .map_err(|_| GatewayError::UpstreamTimeout(upstream))?;
        let response = sent.map_err(|e| {
            if overflow.load(Ordering::Relaxed) {
                GatewayError::PayloadTooLarge
            } else {
                GatewayError::UpstreamUnavailable(upstream, e.into())
            }
        })?;
        self.relay(response, upstream, deadline).await
    }

    fn request_headers(req: &HttpRequest, fwd: &Forward<'_>) -> HeaderMap {
        let incoming = req.headers();
        let named = connection_tokens(
            incoming
                .get_all(ax::CONNECTION)
                .map(ax::HeaderValue::as_bytes),
        );
        let mut headers = HeaderMap::with_capacity(incoming.len() + 4);
        let mut forwarded_for: Vec<&[u8]> = Vec::new();
        for (name, value) in incoming {
            let n = name.as_str();
            if n == "x-forwarded-for" {
                forwarded_for.push(value.as_bytes());
                continue;
            }
            let pass_admin = fwd.pass_admin_key && n == ADMIN_KEY_HEADER;
            if is_connection_header(n, &named)
                || (is_identity_header(n) && !pass_admin)
                || matches!(n, "host" | "expect" | "x-request-id" | "forwarded")
            {
                continue;
            }
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(n.as_bytes()),
                HeaderValue::from_bytes(value.as_bytes()),
            ) {
                headers.append(name, value);
            }
        }
        // X-Forwarded-For: what the client sent, then the peer (docs/gateway.md, "Headers the
        // upstream never sees from the client")
        let mut xff: Vec<u8> = forwarded_for.join(&b", "[..]);
        if let Some(peer) = req.peer_addr() {
            if !xff.is_empty() {
                xff.extend_from_slice(b", ");
            }
            xff.extend_from_slice(peer.ip().to_string().as_bytes());
        }
        if let Ok(value) = HeaderValue::from_bytes(&xff) {
            headers.insert("x-forwarded-for", value);
        }
        if let Some(id) = req.headers().get(&REQUEST_ID_HEADER)
            && let Ok(value) = HeaderValue::from_bytes(id.as_bytes())
        {
            headers.insert("x-request-id", value);
        }
        if let Some(authorization) = &fwd.identity {
            headers.insert(hyper::header::AUTHORIZATION, authorization.clone());
        }
        headers.insert(
            HeaderName::from_static(bakery_config::client::CLIENT_HEADER),
            fwd.client.clone(),
        );
        headers
    }

    async fn relay(
        &self,
        response: hyper::Response<hyper::body::Incoming>,
        upstream: Upstream,
        deadline: tokio::time::Instant,
    ) -> Result<HttpResponse, GatewayError> {
        let unavailable = |failure| GatewayError::UpstreamUnavailable(upstream, failure);
        let code = response.status().as_u16();
        let status =
            StatusCode::from_u16(code).map_err(|_| unavailable(UpstreamFailure::Status(code)))?;
        let max = self.limits.max_response_body;
        let length = content_length(response.headers())
            .map_err(|e| unavailable(UpstreamFailure::Length(e)))?;
        if length.is_some_and(|n| n > max) {
            return Err(GatewayError::UpstreamResponseTooLarge(upstream));
        }
        let mut builder = HttpResponse::build(status);
        copy_answer_headers(response.headers(), &mut builder);
        // small answers of known length are read whole: one write to the client
        if let Some(n) = length.filter(|n| *n <= BUFFER_UP_TO) {
            let body = read_whole(response.into_body(), n, upstream, deadline).await?;
            return Ok(builder.body(body));
        }
        let body = capped_stream(response.into_body(), max, upstream);
        Ok(match length {
            Some(n) => builder.body(SizedStream::new(n, body)),
            None => builder.streaming(body),
        })
    }
}

/// Why an upstream's answer could not be relayed (a `502`).
#[derive(Debug, thiserror::Error)]
pub enum UpstreamFailure {
    /// No answer: the connection failed or broke before the answer's head.
    #[error(transparent)]
    Request(#[from] hyper_util::client::legacy::Error),
    /// The answer's body broke off.
    #[error(transparent)]
    Body(#[from] hyper::Error),
    /// A status code the gateway cannot answer with.
    #[error("bad status: {0}")]
    Status(u16),
    /// An unreadable or conflicting `Content-Length` ([`content_length`]).
    #[error("{0}")]
    Length(&'static str),
    #[error("answer shorter than its Content-Length")]
    Short,
}

/// Whether a header describes one connection: hop-by-hop, or named in `Connection`
/// (`named`, lower-case). Never forwarded, either way.
fn is_connection_header(name: &str, named: &[String]) -> bool {
    HOP_BY_HOP.contains(&name) || named.iter().any(|t| t == name)
}

/// The upstream answer's end-to-end headers onto the client's answer. `Content-Length`
/// is actix's to write (from the body), `X-Request-Id` the gateway's own.
fn copy_answer_headers(headers: &HeaderMap, builder: &mut HttpResponseBuilder) {
    let named = connection_tokens(
        headers
            .get_all(hyper::header::CONNECTION)
            .iter()
            .map(HeaderValue::as_bytes),
    );
    for (name, value) in headers {
        let n = name.as_str();
        if is_connection_header(n, &named) || matches!(n, "content-length" | "x-request-id") {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            ax::HeaderName::from_bytes(n.as_bytes()),
            ax::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            builder.append_header((name, value));
        }
    }
}

/// An answer body of `length` bytes, read whole before `deadline`; one that ends short
/// is refused, not relayed cut.
async fn read_whole(
    body: hyper::body::Incoming,
    length: u64,
    upstream: Upstream,
    deadline: tokio::time::Instant,
) -> Result<Bytes, GatewayError> {
    let body = tokio::time::timeout_at(deadline, body.collect())
        .await
        .map_err(|_| GatewayError::UpstreamTimeout(upstream))?
        .map_err(|e| GatewayError::UpstreamUnavailable(upstream, e.into()))?
        .to_bytes();
    if body.len() as u64 != length {
        return Err(GatewayError::UpstreamUnavailable(
            upstream,
            UpstreamFailure::Short,
        ));
    }
    Ok(body)
}

/// An answer body streamed to the client, cut with an error past `max` bytes (an answer
/// without a length can only be measured on the way).
fn capped_stream(
    body: hyper::body::Incoming,
    max: u64,
    upstream: Upstream,
) -> impl Stream<Item = Result<Bytes, io::Error>> + 'static {
    let mut seen = 0u64;
    BodyStream::new(body)
        .try_filter_map(|frame| async move { Ok(frame.into_data().ok()) })
        .map(move |chunk| {
            let chunk = chunk.map_err(io::Error::other)?;
            seen += chunk.len() as u64;
            if seen > max {
                tracing::warn!(upstream = upstream.name(), "upstream answer too large, cut");
                return Err(io::Error::other("upstream answer too large"));
            }
            Ok::<Bytes, io::Error>(chunk)
        })
}

/// `Content-Length` of an upstream answer: `None` when absent; an error when unreadable
/// or repeated with different values.
fn content_length(headers: &HeaderMap) -> Result<Option<u64>, &'static str> {
    let mut length = None;
    for value in headers.get_all(hyper::header::CONTENT_LENGTH) {
        let n = value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .ok_or("unreadable Content-Length")?;
        if length.is_some_and(|l| l != n) {
            return Err("conflicting Content-Length");
        }
        length = Some(n);
    }
    Ok(length)
}

/// Streams the client's body to the upstream. actix's payload lives on the worker
/// thread, so a local task feeds it through a small channel; past `limit` bytes the
/// stream fails and `overflow` is set, so the caller answers `413`.
fn stream_body(mut payload: web::Payload, limit: u64, overflow: Arc<AtomicBool>) -> UpstreamBody {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, io::Error>>(4);
    actix_web::rt::spawn(async move {
        let mut total = 0u64;
        while let Some(chunk) = payload.next().await {
            let item = match chunk {
                Ok(bytes) => {
                    total += bytes.len() as u64;
                    if total > limit {
                        overflow.store(true, Ordering::Relaxed);
                        Err(io::Error::other("request body too large"))
                    } else {
                        Ok(bytes)
                    }
                }
                Err(e) => Err(io::Error::other(e)),
            };
            let failed = item.is_err();
            if tx.send(item).await.is_err() || failed {
                break;
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item.map(Frame::data), rx))
    });
    BodyExt::boxed(StreamBody::new(stream))
}

/// Readiness: the upstream's `/health` answers 2xx within 2 s.
pub struct UpstreamReady {
    pub upstream: Upstream,
    pub url: String,
    pub client: reqwest::Client,
}

impl bakery_config::http::ReadinessCheck for UpstreamReady {
    fn name(&self) -> &str {
        self.upstream.name()
    }

    fn check(&self) -> bakery_config::http::Check<'_> {
        Box::pin(async move {
            let response = self
                .client
                .get(format!("{}/health", self.url))
                .timeout(std::time::Duration::from_secs(2))
                .send()
                .await?;
            if response.status().is_success() {
                Ok(())
            } else {
                Err(Unhealthy(response.status()).into())
            }
        })
    }
}

/// An upstream whose `/health` answered, but not 2xx.
#[derive(Debug, thiserror::Error)]
#[error("/health answered {0}")]
struct Unhealthy(reqwest::StatusCode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_headers_are_recognised() {
        for h in [
            "authorization",
            "x-tenant-id",
            "x-user-id",
            "x-demo-session-id",
            "x-internal-token",
            "x-admin-key",
            "x-auth-request-user",
        ] {
            assert!(is_identity_header(h), "{h}");
        }
        assert!(is_identity_header(bakery_config::client::CLIENT_HEADER));
        for h in ["accept", "content-type", "x-request-id", "user-agent"] {
            assert!(!is_identity_header(h), "{h}");
        }
    }

    #[test]
    fn targets_keep_the_base_path_and_the_canonical_path() {
        let urls = ServiceUrls {
            demo_session: "http://127.0.0.1:8001".to_owned(),
            tenant: "http://tenant:8002/base".to_owned(),
            inventory: "http://127.0.0.1:8003".to_owned(),
        };
        let limits = Limits {
            max_request_body: 1,
            max_response_body: 1,
        };
        let timeouts = Timeouts {
            connect: std::time::Duration::from_secs(1),
            request: std::time::Duration::from_secs(1),
            pool_idle_per_host: 1,
        };
        let proxy = Proxy::new(urls.clone(), limits.clone(), timeouts.clone()).expect("proxy");
        let checked = |path: &str, query: Option<&str>| CheckedRequest {
            method: actix_web::http::Method::GET,
            path: path.to_owned(),
            match_path: path.to_ascii_lowercase(),
            forward_path: crate::request::encode_path(path),
            query: query.map(str::to_owned),
        };
        assert_eq!(
            proxy
                .target(
                    Upstream::Inventory,
                    &checked("/api/products/pan de centeno", Some("page=2&q=a%20b"))
                )
                .expect("uri")
                .to_string(),
            "http://127.0.0.1:8003/api/products/pan%20de%20centeno?page=2&q=a%20b"
        );
        assert_eq!(
            proxy
                .target(Upstream::Tenant, &checked("/api/tenants/me", None))
                .expect("uri")
                .to_string(),
            "http://tenant:8002/base/api/tenants/me"
        );
        // upstream URLs the forwarding client cannot use stop start-up
        for bad in [
            "https://inventory:8003",
            "inventory:8003",
            "http://inventory:8003/?x=1",
        ] {
            let mut urls = urls.clone();
            urls.inventory = bad.to_owned();
            assert!(
                Proxy::new(urls, limits.clone(), timeouts.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn answer_lengths_are_read_strictly() {
        let mut h = HeaderMap::new();
        assert_eq!(content_length(&h), Ok(None));
        h.append(
            hyper::header::CONTENT_LENGTH,
            HeaderValue::from_static("12"),
        );
        assert_eq!(content_length(&h), Ok(Some(12)));
        h.append(
            hyper::header::CONTENT_LENGTH,
            HeaderValue::from_static("12"),
        );
        assert_eq!(content_length(&h), Ok(Some(12)));
        h.append(
            hyper::header::CONTENT_LENGTH,
            HeaderValue::from_static("13"),
        );
        assert!(content_length(&h).is_err());
        let mut h = HeaderMap::new();
        h.append(
            hyper::header::CONTENT_LENGTH,
            HeaderValue::from_static("doce"),
        );
        assert!(content_length(&h).is_err());
    }

    #[test]
    fn connection_tokens_are_split() {
        let values: Vec<&[u8]> = vec![b"keep-alive, X-Secret", b"close"];
        assert_eq!(
            connection_tokens(values.into_iter()),
            vec!["keep-alive", "x-secret", "close"]
        );
    }
}
