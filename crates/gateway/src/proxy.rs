//! Forwarding to an upstream over one shared `reqwest` connection pool: bodies streamed
//! both ways under size limits, hop-by-hop and client identity headers removed,
//! `X-Forwarded-For` appended, `X-Request-Id` propagated, the gateway's identity added.
//! An upstream that cannot be reached answers `502`, one that is too slow `504`.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::body::SizedStream;
use actix_web::http::{StatusCode, header as ax};
use actix_web::{HttpRequest, HttpResponse, web};
use bakery_config::settings::ServiceUrls;
use bakery_config::telemetry::REQUEST_ID_HEADER;
use bytes::Bytes;
use futures_util::StreamExt;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

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

/// An upstream client: HTTP/1.1 keep-alive pool, no redirects, no proxies from the
/// environment.
pub fn client(timeouts: &Timeouts) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .connect_timeout(timeouts.connect)
        .pool_max_idle_per_host(timeouts.pool_idle_per_host)
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()?)
}

/// The keep-alive pool of one worker thread, shared by every request that worker serves.
/// One pool per worker (rather than one for the process) keeps each pooled connection on
/// the thread and runtime that uses it: no cross-thread wake-ups per request
/// (docs/performance.md).
pub struct WorkerPool(pub reqwest::Client);

/// One request to forward.
pub struct Forward<'a> {
    pub pool: &'a WorkerPool,
    pub upstream: Upstream,
    pub checked: &'a CheckedRequest,
    /// The signed identity for `Authorization: Bearer`, if the route needs one.
    pub identity: Option<String>,
    /// Admin routes: `X-Admin-Key` goes through for the upstream to check.
    pub pass_admin_key: bool,
}

pub struct Proxy {
    urls: ServiceUrls,
    /// The upstream base URLs, parsed once (demo-session, tenant, inventory).
    parsed: [reqwest::Url; 3],
    limits: Limits,
    timeouts: Timeouts,
}

impl Proxy {
    pub fn new(urls: ServiceUrls, limits: Limits, timeouts: Timeouts) -> anyhow::Result<Self> {
        let parse = |u: &str| {
            reqwest::Url::parse(u).map_err(|e| anyhow::anyhow!("upstream URL {u:?}: {e}"))
        };
        Ok(Proxy {
            parsed: [
                parse(&urls.demo_session)?,
                parse(&urls.tenant)?,
                parse(&urls.inventory)?,
            ],
            urls,
            limits,
            timeouts,
        })
    }

    /// The upstream URL for a checked request: the base URL's path, then the canonical
    /// path, then the raw query.
    fn target(&self, upstream: Upstream, checked: &CheckedRequest) -> reqwest::Url {
        let mut url = self.parsed[upstream as usize].clone();
        let base = url.path().trim_end_matches('/');
        if base.is_empty() {
            url.set_path(&checked.forward_path);
        } else {
            let path = format!("{base}{}", checked.forward_path);
            url.set_path(&path);
        }
        url.set_query(checked.query.as_deref());
        url
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
        let url = self.target(upstream, fwd.checked);
        let method = reqwest::Method::from_bytes(req.method().as_str().as_bytes())
            .map_err(|_| GatewayError::MethodNotAllowed)?;
        let headers = self.request_headers(req, &fwd)?;

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
        let mut builder = fwd.pool.0.request(method, url).headers(headers);
        if declared.is_some_and(|n| n > 0) || chunked {
            builder = builder.body(stream_body(
                payload,
                self.limits.max_request_body,
                overflow.clone(),
            ));
        }
        // A tokio deadline rather than reqwest's per-request `timeout`, which measurably
        // adds latency to every request (docs/performance.md). It covers the answer's head
        // and, for answers read whole, its body.
        let deadline = tokio::time::Instant::now() + self.timeouts.request;
        let sent = tokio::time::timeout_at(deadline, builder.send())
            .await
            .map_err(|_| GatewayError::UpstreamTimeout(upstream))?;
        let response = sent.map_err(|e| {
            if overflow.load(Ordering::Relaxed) {
                GatewayError::PayloadTooLarge
            } else if e.is_connect() {
                GatewayError::UpstreamUnavailable(upstream, e.to_string())
            } else if e.is_timeout() {
                GatewayError::UpstreamTimeout(upstream)
            } else {
                GatewayError::UpstreamUnavailable(upstream, e.to_string())
            }
        })?;
        self.relay(response, upstream, deadline).await
    }

    fn request_headers(
        &self,
        req: &HttpRequest,
        fwd: &Forward<'_>,
    ) -> Result<HeaderMap, GatewayError> {
        let incoming = req.headers();
        let named = connection_tokens(incoming.get_all(ax::CONNECTION).map(|v| v.as_bytes()));
        let mut headers = HeaderMap::with_capacity(incoming.len() + 4);
        let mut forwarded_for: Vec<&[u8]> = Vec::new();
        for (name, value) in incoming.iter() {
            let n = name.as_str();
            if n == "x-forwarded-for" {
                forwarded_for.push(value.as_bytes());
                continue;
            }
            let pass_admin = fwd.pass_admin_key && n == ADMIN_KEY_HEADER;
            if HOP_BY_HOP.contains(&n)
                || named.iter().any(|t| t == n)
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
        // X-Forwarded-For: what the client sent, then the peer (contract 8)
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
        if let Some(token) = &fwd.identity {
            let value = HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|e| GatewayError::Internal(e.to_string()))?;
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        Ok(headers)
    }

    async fn relay(
        &self,
        response: reqwest::Response,
        upstream: Upstream,
        deadline: tokio::time::Instant,
    ) -> Result<HttpResponse, GatewayError> {
        let status = StatusCode::from_u16(response.status().as_u16())
            .map_err(|e| GatewayError::UpstreamUnavailable(upstream, format!("bad status: {e}")))?;
        let max = self.limits.max_response_body;
        let length = response.content_length();
        if length.is_some_and(|n| n > max) {
            return Err(GatewayError::UpstreamResponseTooLarge(upstream));
        }
        let mut builder = HttpResponse::build(status);
        let named = connection_tokens(
            response
                .headers()
                .get_all(reqwest::header::CONNECTION)
                .iter()
                .map(|v| v.as_bytes()),
        );
        for (name, value) in response.headers() {
            let n = name.as_str();
            if HOP_BY_HOP.contains(&n)
                || named.iter().any(|t| t == n)
                || matches!(n, "content-length" | "x-request-id")
            {
                continue;
            }
            if let (Ok(name), Ok(value)) = (
                ax::HeaderName::from_bytes(n.as_bytes()),
                ax::HeaderValue::from_bytes(value.as_bytes()),
            ) {
                builder.append_header((name, value));
            }
        }
        // small answers of known length are read whole: one write to the client
        if let Some(n) = length.filter(|n| *n <= BUFFER_UP_TO) {
            let body = tokio::time::timeout_at(deadline, response.bytes())
                .await
                .map_err(|_| GatewayError::UpstreamTimeout(upstream))?
                .map_err(|e| GatewayError::UpstreamUnavailable(upstream, e.to_string()))?;
            if body.len() as u64 != n {
                return Err(GatewayError::UpstreamUnavailable(
                    upstream,
                    "answer shorter than its Content-Length".into(),
                ));
            }
            return Ok(builder.body(body));
        }
        let mut seen = 0u64;
        let body = response.bytes_stream().map(move |chunk| {
            let chunk = chunk.map_err(io::Error::other)?;
            seen += chunk.len() as u64;
            if seen > max {
                tracing::warn!(upstream = upstream.name(), "upstream answer too large, cut");
                return Err(io::Error::other("upstream answer too large"));
            }
            Ok::<Bytes, io::Error>(chunk)
        });
        Ok(match length {
            Some(n) => builder.body(SizedStream::new(n, body)),
            None => builder.streaming(body),
        })
    }
}

/// Streams the client's body to the upstream. actix's payload lives on the worker
/// thread, so a local task feeds it through a small channel; past `limit` bytes the
/// stream fails and `overflow` is set, so the caller answers `413`.
fn stream_body(mut payload: web::Payload, limit: u64, overflow: Arc<AtomicBool>) -> reqwest::Body {
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
                Err(e) => Err(io::Error::other(e.to_string())),
            };
            let failed = item.is_err();
            if tx.send(item).await.is_err() || failed {
                break;
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    reqwest::Body::wrap_stream(stream)
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

    fn check(
        &self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + '_>> {
        Box::pin(async move {
            let response = self
                .client
                .get(format!("{}/health", self.url))
                .timeout(std::time::Duration::from_secs(2))
                .send()
                .await
                .map_err(|e| e.to_string())?;
            if response.status().is_success() {
                Ok(())
            } else {
                Err(format!("/health answered {}", response.status()))
            }
        })
    }
}

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
        let proxy = Proxy::new(urls, limits, timeouts).expect("proxy");
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
                .as_str(),
            "http://127.0.0.1:8003/api/products/pan%20de%20centeno?page=2&q=a%20b"
        );
        assert_eq!(
            proxy
                .target(Upstream::Tenant, &checked("/api/tenants/me", None))
                .as_str(),
            "http://tenant:8002/base/api/tenants/me"
        );
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
