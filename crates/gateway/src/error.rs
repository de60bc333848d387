//! The gateway's errors, mapped to the JSON envelope `{"error": code, "message": text}` in
//! one place.

use std::borrow::Cow;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use bakery_config::http::ApiError;

use crate::auth::MintError;
use crate::proxy::UpstreamFailure;
use crate::routes::Upstream;
use crate::session::LookupFailure;

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The request could be read two ways (encoded separators, dot segments, overrides…).
    #[error("ambiguous request: {0}")]
    Ambiguous(&'static str),
    #[error("no such route")]
    RouteNotFound,
    /// A method the path does not answer; what it does answer (`Allow`).
    #[error("method not allowed (allow: {0})")]
    MethodNotAllowed(Cow<'static, str>),
    #[error("no credentials")]
    MissingCredentials,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("credentials expired")]
    CredentialsExpired,
    #[error("demo session not found")]
    SessionNotFound,
    #[error("demo session expired")]
    SessionExpired,
    #[error("demo session not ready")]
    SessionNotReady,
    #[error("template tenants are not reachable")]
    TemplateTenant,
    #[error("blocked by the demo policy")]
    DemoRestriction(String),
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("{0:?} unreachable: {1}")]
    UpstreamUnavailable(Upstream, #[source] UpstreamFailure),
    #[error("{0:?} timed out")]
    UpstreamTimeout(Upstream),
    #[error("{0:?} answer too large")]
    UpstreamResponseTooLarge(Upstream),
    /// The gateway's identity or client assertion could not be signed.
    #[error("cannot sign: {0}")]
    Mint(#[from] MintError),
    #[error("demo sessions cannot be resolved: {0}")]
    SessionLookupUnavailable(#[source] LookupFailure),
    /// A demo session must wait before writing again (inventory-service said so).
    #[error("demo write quota; retry in {retry_after} s")]
    DemoWriteQuota { retry_after: u64 },
    /// The client sent too many refused credentials in this window.
    #[error("too many refused credentials; retry in {retry_after} s")]
    TooManyFailures { retry_after: u64 },
}

impl GatewayError {
    /// A credential that names nobody (made-up session id, token that does not verify):
    /// what a client guessing credentials produces, counted against it. Ended sessions are
    /// not counted: a prospect's page meets one at the end of every demo.
    pub fn is_bad_credential(&self) -> bool {
        matches!(
            self,
            GatewayError::SessionNotFound | GatewayError::InvalidCredentials
        )
    }
}

impl GatewayError {
    fn api(&self) -> ApiError {
        use GatewayError::*;
        let (status, code, message): (StatusCode, &'static str, String) = match self {
            Ambiguous(reason) => (
                StatusCode::BAD_REQUEST,
                "ambiguous_request",
                format!("La petición es ambigua y no se puede procesar ({reason})."),
            ),
            RouteNotFound => (
                StatusCode::NOT_FOUND,
                "route_not_found",
                "La ruta solicitada no existe.".into(),
            ),
            MethodNotAllowed(_) => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Método no permitido para esta ruta.".into(),
            ),
            MissingCredentials => (
                StatusCode::UNAUTHORIZED,
                "missing_credentials",
                "Se necesita iniciar sesión o una sesión demo para acceder.".into(),
            ),
            InvalidCredentials => (
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "La credencial no es válida.".into(),
            ),
            CredentialsExpired => (
                StatusCode::UNAUTHORIZED,
                "credentials_expired",
                "La credencial ha caducado. Vuelve a iniciar sesión.".into(),
            ),
            SessionNotFound => (
                StatusCode::UNAUTHORIZED,
                "session_not_found",
                "La sesión demo no existe. Inicia una nueva demo.".into(),
            ),
            SessionExpired => (
                StatusCode::UNAUTHORIZED,
                "session_expired",
                "La sesión demo ha caducado. Inicia una nueva demo para seguir probando.".into(),
            ),
            SessionNotReady => (
                StatusCode::CONFLICT,
                "session_not_ready",
                "La sesión demo todavía se está preparando. Inténtalo en unos segundos.".into(),
            ),
            TemplateTenant => (
                StatusCode::FORBIDDEN,
                "template_tenant",
                "Las panaderías plantilla de la demo no son accesibles.".into(),
            ),
            DemoRestriction(message) => {
                (StatusCode::FORBIDDEN, "demo_restriction", message.clone())
            }
            PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "El cuerpo de la petición es demasiado grande.".into(),
            ),
            UpstreamUnavailable(..) => (
                StatusCode::BAD_GATEWAY,
                "upstream_unavailable",
                "El servicio no está disponible en este momento. Inténtalo de nuevo.".into(),
            ),
            UpstreamTimeout(_) => (
                StatusCode::GATEWAY_TIMEOUT,
                "upstream_timeout",
                "El servicio ha tardado demasiado en responder. Inténtalo de nuevo.".into(),
            ),
            UpstreamResponseTooLarge(_) => (
                StatusCode::BAD_GATEWAY,
                "upstream_response_too_large",
                "La respuesta del servicio es demasiado grande.".into(),
            ),
            Mint(_) => {
                let api = ApiError::internal();
                (api.status, "internal_error", api.message.into_owned())
            }
            SessionLookupUnavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "session_lookup_unavailable",
                "No se puede comprobar la sesión demo en este momento. Inténtalo de nuevo.".into(),
            ),
            DemoWriteQuota { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "demo_quota",
                bakery_config::demo::WRITE_QUOTA_MESSAGE.into(),
            ),
            TooManyFailures { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_failures",
                "Demasiadas credenciales no válidas desde tu conexión. Espera un momento antes de volver a intentarlo.".into(),
            ),
        };
        let api = ApiError::new(status, code, message);
        match self {
            SessionLookupUnavailable(_) => api.with_retry_after(2),
            MethodNotAllowed(allow) => api.with_allow(allow.clone()),
            TooManyFailures { retry_after } | DemoWriteQuota { retry_after } => {
                api.with_retry_after(*retry_after)
            }
            _ => api,
        }
    }
}

impl ResponseError for GatewayError {
    fn status_code(&self) -> StatusCode {
        self.api().status
    }

    /// Logged (a `5xx` with its whole cause chain) and answered by the shared glue.
    fn error_response(&self) -> HttpResponse {
        bakery_config::http::error_response(self, &self.api())
    }
}
