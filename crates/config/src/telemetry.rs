//! Logging set-up, request ids and W3C trace context: one click, one trace. The gateway
//! accepts a valid `traceparent` or starts a trace, every service continues it, and every
//! log line of a request carries its `trace_id`.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::metrics::{HttpMethod, Metrics};
use crate::settings::{LogFormat, TelemetrySettings};

/// The header that carries a request's id from the gateway through every service.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The W3C Trace Context header (<https://www.w3.org/TR/trace-context/>).
pub const TRACEPARENT_HEADER: HeaderName = HeaderName::from_static("traceparent");

/// One hop of a W3C trace: the trace it belongs to, this hop's span, the flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    trace_id: [u8; 16],
    span_id: [u8; 8],
    flags: u8,
}

impl TraceContext {
    /// The caller's context from a `traceparent` value, if it is a valid one: version `00`
    /// (or a later version, read by its first four fields, as the specification asks),
    /// lowercase hex, neither id all zeros. Anything else is ignored, and a new trace starts.
    pub fn parse(value: &str) -> Option<Self> {
        let mut parts = value.trim().split('-');
        let (version, trace, parent, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let extra = parts.next();
        if version.len() != 2 || version == "ff" || (version == "00" && extra.is_some()) {
            return None;
        }
        hex_bytes::<1>(version)?;
        let trace_id = hex_bytes::<16>(trace)?;
        let span_id = hex_bytes::<8>(parent)?;
        let [flags] = hex_bytes::<1>(flags)?;
        (trace_id != [0; 16] && span_id != [0; 8]).then_some(TraceContext {
            trace_id,
            span_id,
            flags,
        })
    }

    /// This hop: the caller's trace with a new span, or a new sampled trace.
    pub fn continue_from(caller: Option<Self>) -> Self {
        let mut span_id: [u8; 8] = rand::random();
        if span_id == [0; 8] {
            span_id[7] = 1;
        }
        match caller {
            Some(parent) => TraceContext { span_id, ..parent },
            None => {
                let mut trace_id: [u8; 16] = rand::random();
                if trace_id == [0; 16] {
                    trace_id[15] = 1;
                }
                TraceContext {
                    trace_id,
                    span_id,
                    flags: 0x01,
                }
            }
        }
    }

    pub fn trace_id(&self) -> String {
        hex(&self.trace_id)
    }

    pub fn span_id(&self) -> String {
        hex(&self.span_id)
    }

    /// `00-<trace id>-<this span>-<flags>`: what calls made for this request carry, so the
    /// next hop's parent is this one.
    pub fn header_value(&self) -> String {
        String::from_utf8_lossy(&self.encode()).into_owned()
    }

    /// [`Self::header_value`] as a header, built without formatting machinery: it is made
    /// on every request every service serves.
    pub fn header(&self) -> HeaderValue {
        // the encoding is always valid header text; the fallback is never taken
        HeaderValue::from_bytes(&self.encode()).unwrap_or(HeaderValue::from_static(""))
    }

    /// `00-` + 32 + `-` + 16 + `-` + 2 = 55 bytes of ASCII.
    fn encode(&self) -> [u8; 55] {
        let text = b"00-"
            .iter()
            .copied()
            .chain(hex_digits(&self.trace_id))
            .chain(std::iter::once(b'-'))
            .chain(hex_digits(&self.span_id))
            .chain(std::iter::once(b'-'))
            .chain(hex_digits(std::slice::from_ref(&self.flags)));
        let mut out = [b'-'; 55];
        for (slot, byte) in out.iter_mut().zip(text) {
            *slot = byte;
        }
        out
    }
}

/// The lowercase hex digits of `bytes`, two per byte.
fn hex_digits(bytes: &[u8]) -> impl Iterator<Item = u8> + '_ {
    let digit = |n: u8| if n < 10 { b'0' + n } else { b'a' + n - 10 };
    bytes
        .iter()
        .flat_map(move |b| [digit(b >> 4), digit(b & 0x0f)])
}

fn hex(bytes: &[u8]) -> String {
    hex_digits(bytes).map(char::from).collect()
}

/// `N` bytes from exactly `2N` lowercase hex digits.
fn hex_bytes<const N: usize>(s: &str) -> Option<[u8; N]> {
    let digits = s.as_bytes();
    if digits.len() != 2 * N {
        return None;
    }
    let value = |d: u8| match d {
        b'0'..=b'9' => Some(d - b'0'),
        b'a'..=b'f' => Some(d - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let [high, low] = pair else { return None };
        *byte = (value(*high)? << 4) | value(*low)?;
    }
    Some(out)
}

/// Installs the global subscriber. Safe to call twice (the second call does nothing), which
/// tests rely on.
pub fn init(service: &str, settings: &TelemetrySettings) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.log_filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match settings.log_format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
        LogFormat::Pretty => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .compact()
                    .with_target(false),
            )
            .try_init(),
    };
    if result.is_ok() {
        tracing::debug!(service, "telemetry initialised");
    }
}

/// Turns test logs on when `TEST_LOG` is set (as in Zero to Production).
pub fn init_for_tests() {
    if std::env::var_os("TEST_LOG").is_some() {
        init(
            "test",
            &TelemetrySettings {
                app_env: crate::settings::AppEnv::Development,
                log_format: LogFormat::Pretty,
                log_filter: "debug,h2=info,hyper=info,tokio_postgres=info".to_owned(),
            },
        );
    }
}

/// A request id is accepted from upstream only if it looks like one (no log injection).
fn valid_request_id(v: &HeaderValue) -> Option<HeaderValue> {
    let s = v.as_bytes();
    (!s.is_empty()
        && s.len() <= 128
        && s.iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_' || *b == b'.'))
    .then(|| v.clone())
}

/// A fresh request id: a random (v4) UUID in simple form, from the thread's user-space
/// generator. `Uuid::new_v4()` would make one `getrandom` system call per request, a
/// measurable share of a proxied request's cost (docs/performance.md).
fn new_request_id() -> HeaderValue {
    let mut text = [0u8; uuid::fmt::Simple::LENGTH];
    let id = uuid::Builder::from_random_bytes(rand::random())
        .into_uuid()
        .simple()
        .encode_lower(&mut text);
    // 32 hex digits are always valid header text; the fallback is never taken
    HeaderValue::from_str(id).unwrap_or(HeaderValue::from_static("-"))
}

/// The one middleware every service runs ([`crate::server::serve`]), for what every request
/// gets: takes the request id from `X-Request-Id` (or makes one) and the trace from
/// `traceparent` (or starts one), runs the request inside a span carrying both — so every
/// log line of the request has `request_id` and `trace_id` — records its duration in the
/// HTTP histogram (when the app has [`Metrics`]), logs the outcome and echoes the request id
/// on the response. The request's `traceparent` is replaced by this hop's, so what the
/// handler forwards (the gateway's proxy copies it; services pass it on their own calls)
/// makes this hop the next one's parent.
///
/// One layer, not one for logs and one for metrics: every `from_fn` layer boxes a future
/// and runs its own extractors on every request, and the gateway forwards tens of
/// thousands a second (docs/performance.md).
pub async fn observe(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = HttpMethod::of(req.method());
    // header values are cheap to clone (shared bytes): the id is made once per request
    let id = req
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(valid_request_id)
        .unwrap_or_else(new_request_id);
    req.headers_mut().insert(REQUEST_ID_HEADER, id.clone());
    let caller = req
        .headers()
        .get(&TRACEPARENT_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(TraceContext::parse);
    let trace = TraceContext::continue_from(caller);
    req.headers_mut().insert(TRACEPARENT_HEADER, trace.header());
    // the fields are only formatted when the span is enabled (not at `LOG_LEVEL=warn`)
    let span = tracing::info_span!(
        "request",
        trace_id = %trace.trace_id(),
        span_id = %trace.span_id(),
        request_id = %String::from_utf8_lossy(id.as_bytes()),
        method = %req.method(),
        path = %req.path(),
    );
    let result = next.call(req).instrument(span.clone()).await;
    if let Some(metrics) = metrics {
        metrics.record_http(method, started, &result);
    }
    let _entered = span.enter();
    match result {
        Ok(mut res) => {
            let status = res.status().as_u16();
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            if status >= 500 {
                tracing::error!(status, ms, "request failed");
            } else {
                tracing::info!(status, ms, "request");
            }
            res.headers_mut().insert(REQUEST_ID_HEADER, id);
            Ok(res)
        }
        Err(e) => {
            tracing::error!(error = %e, "request error");
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_traceparent_is_continued_with_a_new_span() {
        let caller = TraceContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
            .expect("valid");
        let hop = TraceContext::continue_from(Some(caller));
        assert_eq!(hop.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_ne!(hop.span_id(), "00f067aa0ba902b7");
        assert!(
            hop.header_value()
                .starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-")
        );
        assert!(hop.header_value().ends_with("-01"));
        assert_eq!(
            hop.header().to_str().ok(),
            Some(hop.header_value().as_str())
        );
        // a later version is read by its first four fields
        assert!(
            TraceContext::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz")
                .is_some()
        );
    }

    #[test]
    fn an_invalid_traceparent_starts_a_new_trace() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e47-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
        ] {
            assert_eq!(TraceContext::parse(bad), None, "{bad:?}");
        }
        let fresh = TraceContext::continue_from(None);
        assert_eq!(fresh.trace_id().len(), 32);
        assert_eq!(
            TraceContext::parse(&fresh.header_value()).map(|t| t.trace_id()),
            Some(fresh.trace_id())
        );
    }

    #[test]
    fn request_ids_are_random_v4_uuids() {
        let id = new_request_id();
        assert_eq!(id.len(), 32);
        let parsed = uuid::Uuid::parse_str(id.to_str().expect("text")).expect("a UUID");
        assert_eq!(parsed.get_version_num(), 4);
        assert_ne!(new_request_id(), id);
        assert!(valid_request_id(&id).is_some());
        assert!(valid_request_id(&HeaderValue::from_static("a b")).is_none());
    }

    /// Every log line written while a request is handled carries its `trace_id` (JSON
    /// logs, as in production): the handler's own line and the middleware's.
    #[actix_web::test]
    async fn every_log_line_of_a_request_carries_its_trace_id() {
        use std::sync::{Arc, Mutex};

        #[derive(Clone, Default)]
        struct Lines(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Lines {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().expect("lock").extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(false)
                .with_writer(move || writer.clone()),
        );
        let _guard = tracing::subscriber::set_default(subscriber);

        let app = actix_web::test::init_service(
            actix_web::App::new()
                .wrap(actix_web::middleware::from_fn(observe))
                .route(
                    "/",
                    actix_web::web::get().to(|| async {
                        tracing::info!("inside the handler");
                        "ok"
                    }),
                ),
        )
        .await;
        let request = actix_web::test::TestRequest::get()
            .uri("/")
            .insert_header((
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ))
            .to_request();
        let response = actix_web::test::call_service(&app, request).await;
        assert!(response.status().is_success());

        let text = String::from_utf8(lines.0.lock().expect("lock").clone()).expect("utf-8");
        let logged: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        assert!(logged.len() >= 2, "{text}");
        for line in &logged {
            assert_eq!(
                line["span"]["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736",
                "{line}"
            );
        }
    }
}
