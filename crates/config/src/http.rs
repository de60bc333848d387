//! HTTP plumbing every service shares: the JSON error envelope
//! `{"error": code, "message": text}`, the one place a service error becomes an answer
//! ([`error_response`]: the cause chain logged, never sent), handlers that turn extractor
//! failures and unknown routes or methods into the envelope, and the health and readiness
//! routes.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde::Serialize;

use crate::openapi::AllowedMethods;

/// The body of every error answer.
#[derive(Debug, Serialize, serde::Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[schema(example = json!({"error": "demo_restriction", "message": "Esta operación no está permitida en cuentas demo."}))]
pub struct ErrorBody {
    /// A stable code clients may branch on (`session_expired`, `demo_restriction`, …).
    pub error: String,
    /// A Spanish text for people.
    pub message: String,
}

/// An error answer: status, stable code, human message. Service error enums map into this
/// in their one `ResponseError` impl.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: Cow<'static, str>,
    pub message: Cow<'static, str>,
    /// Seconds, for `429`/`503`.
    pub retry_after: Option<u64>,
    /// The `Allow` of a `405`.
    pub allow: Option<Cow<'static, str>>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
            retry_after: None,
            allow: None,
        }
    }

    /// A `405`'s `Allow`: the methods the path answers.
    #[must_use]
    pub fn with_allow(mut self, methods: impl Into<Cow<'static, str>>) -> Self {
        self.allow = Some(methods.into());
        self
    }

    #[must_use]
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn unauthorized(message: impl Into<Cow<'static, str>>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn internal() -> Self {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Se ha producido un error interno. Inténtalo de nuevo en unos momentos.",
        )
    }

    pub fn unavailable(message: impl Into<Cow<'static, str>>) -> Self {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }
    fn error_response(&self) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status);
        if let Some(secs) = self.retry_after {
            builder.insert_header(("Retry-After", secs.to_string()));
        }
        if let Some(methods) = &self.allow {
            builder.insert_header(("Allow", methods.as_ref()));
        }
        builder.json(ErrorBody {
            error: self.code.to_string(),
            message: self.message.to_string(),
        })
    }
}

/// The answer for a service error whose code, status and message `api` says: what every
/// service's `ResponseError::error_response` is. A `5xx` is logged with the error's whole
/// cause chain ([`chain`]): `error` for a `500` (our fault), `warn` for the others (a
/// dependency down, refused for load); a `429` is logged at `info` (a client held back,
/// which an attack would otherwise turn into a flood of warnings). The client only ever
/// gets `api`'s code and message.
pub fn error_response(error: &dyn std::error::Error, api: &ApiError) -> HttpResponse {
    let status = api.status.as_u16();
    if api.status == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::error!(status, code = %api.code, error = %chain(error), "request failed");
    } else if api.status.is_server_error() {
        tracing::warn!(status, code = %api.code, error = %chain(error), "request refused");
    } else if api.status == StatusCode::TOO_MANY_REQUESTS {
        tracing::info!(status, code = %api.code, error = %error, "request throttled");
    }
    api.error_response()
}

/// `error` and every cause under it (`source()`), joined with `": "`. A cause whose text
/// its parent already shows (`#[error("database: {0}")]` over a `#[source]`) is not
/// repeated.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut shown = text.clone();
    let mut source = error.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        if !shown.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        shown = message;
        source = cause.source();
    }
    text
}

/// `400` for malformed JSON, `422` for JSON of the wrong shape, `413` for too large.
#[expect(
    clippy::needless_pass_by_value,
    reason = "the signature actix's JsonConfig::error_handler takes"
)]
pub fn json_error_handler(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let api = match &err {
        JsonPayloadError::Deserialize(e) if e.is_data() => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            format!("El cuerpo de la petición no es válido: {e}"),
        ),
        JsonPayloadError::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "El cuerpo debe ser JSON (Content-Type: application/json).",
        ),
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "El cuerpo de la petición es demasiado grande.",
            )
        }
        _ => ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("El cuerpo de la petición no es JSON válido: {err}"),
        ),
    };
    api.into()
}

#[expect(
    clippy::needless_pass_by_value,
    reason = "the signature actix's PathConfig::error_handler takes"
)]
pub fn path_error_handler(err: PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("Recurso no encontrado: {err}"),
    )
    .into()
}

#[expect(
    clippy::needless_pass_by_value,
    reason = "the signature actix's QueryConfig::error_handler takes"
)]
pub fn query_error_handler(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_query",
        format!("Parámetros de consulta no válidos: {err}"),
    )
    .into()
}

/// Registers the extractor error handlers (JSON bodies up to `json_limit` bytes).
pub fn configure_extractors(cfg: &mut web::ServiceConfig, json_limit: usize) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(json_limit)
            .error_handler(json_error_handler),
    )
    .app_data(web::PathConfig::default().error_handler(path_error_handler))
    .app_data(web::QueryConfig::default().error_handler(query_error_handler));
}

/// The answer for routes that do not exist.
pub async fn not_found() -> HttpResponse {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "route_not_found",
        "La ruta solicitada no existe.",
    )
    .error_response()
}

/// A known path with the wrong method: `405` in the JSON envelope (actix answers a bare
/// `405` otherwise) with `Allow`, the path's documented methods (the service's
/// [`AllowedMethods`] app data, which its `configure` registers). Every service registers it
/// as its resources' `default_service`.
#[expect(
    clippy::unused_async,
    reason = "an actix handler (`web::to`) is an async fn; it is used from the services"
)]
pub async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    let mut error = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Método no permitido en esta ruta.",
    );
    if let Some(allow) = req
        .app_data::<AllowedMethods>()
        .and_then(|allowed| allowed.allow(req.path()))
    {
        error = error.with_allow(allow.to_owned());
    }
    error.error_response()
}

/// Why a dependency is not ready: its own error, kept whole (`/ready` shows it with its
/// causes, [`chain`]).
pub type NotReady = Box<dyn std::error::Error + Send + Sync>;

/// What [`ReadinessCheck::check`] returns.
pub type Check<'a> = Pin<Box<dyn Future<Output = Result<(), NotReady>> + Send + 'a>>;

/// A dependency a service needs to serve requests (database, Redis, an upstream).
pub trait ReadinessCheck: Send + Sync {
    fn name(&self) -> &str;
    fn check(&self) -> Check<'_>;
}

/// The checks `/ready` runs.
#[derive(Clone, Default)]
pub struct Readiness(pub Vec<Arc<dyn ReadinessCheck>>);

#[derive(Serialize)]
struct ReadyBody {
    status: &'static str,
    checks: serde_json::Map<String, serde_json::Value>,
}

/// Liveness: the process answers.
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// Readiness: every dependency answers.
pub async fn ready(readiness: web::Data<Readiness>) -> HttpResponse {
    let results = futures_util::future::join_all(
        readiness
            .0
            .iter()
            .map(|c| async move { (c.name().to_owned(), c.check().await) }),
    )
    .await;
    let mut checks = serde_json::Map::new();
    let mut all_ok = true;
    for (name, result) in results {
        let value = match result {
            Ok(()) => serde_json::json!("ok"),
            Err(e) => {
                all_ok = false;
                serde_json::json!(chain(&*e))
            }
        };
        checks.insert(name, value);
    }
    let body = ReadyBody {
        status: if all_ok { "ready" } else { "not_ready" },
        checks,
    };
    if all_ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// `/health` and `/ready`.
pub fn health_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/health")
            .route(web::get().to(health))
            .route(web::head().to(health))
            .default_service(web::to(read_only)),
    )
    .service(
        web::resource("/ready")
            .route(web::get().to(ready))
            .route(web::head().to(ready))
            .default_service(web::to(read_only)),
    );
}

/// Another method on `/health`, `/ready` or `/metrics`: `405` with `Allow: GET, HEAD`.
pub(crate) async fn read_only() -> HttpResponse {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Método no permitido en esta ruta.",
    )
    .with_allow("GET, HEAD")
    .error_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("pool exhausted")]
    struct Root;

    #[derive(Debug, thiserror::Error)]
    enum Failure {
        /// The cause's text is shown by the variant itself.
        #[error("database: {0}")]
        Shown(#[source] Root),
        /// Only the chain shows it.
        #[error("database")]
        Hidden(#[source] Root),
    }

    #[test]
    fn the_chain_names_every_cause_once() {
        assert_eq!(chain(&Failure::Shown(Root)), "database: pool exhausted");
        assert_eq!(chain(&Failure::Hidden(Root)), "database: pool exhausted");
        assert_eq!(chain(&Root), "pool exhausted");
    }

    #[test]
    fn a_server_error_never_sends_its_cause() {
        let response = error_response(&Failure::Hidden(Root), &ApiError::internal());
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = actix_web::body::to_bytes(response.into_body());
        let body = futures_util::FutureExt::now_or_never(body)
            .and_then(Result::ok)
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&body);
        assert!(text.contains("internal_error"), "{text}");
        assert!(!text.contains("pool exhausted"), "{text}");
    }

    struct Down;

    impl ReadinessCheck for Down {
        fn name(&self) -> &str {
            "postgres"
        }
        fn check(&self) -> Check<'_> {
            Box::pin(async { Err(Failure::Hidden(Root).into()) })
        }
    }

    #[test]
    fn readiness_shows_a_failed_check_with_its_causes() {
        let readiness = web::Data::new(Readiness(vec![Arc::new(Down)]));
        let response = futures_util::FutureExt::now_or_never(ready(readiness))
            .expect("the check answers at once");
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = actix_web::body::to_bytes(response.into_body());
        let body = futures_util::FutureExt::now_or_never(body)
            .and_then(Result::ok)
            .unwrap_or_default();
        let body: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(
            body,
            serde_json::json!({
                "status": "not_ready",
                "checks": {"postgres": "database: pool exhausted"},
            })
        );
    }
}
