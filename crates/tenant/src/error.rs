//! `TenantError`: every way a tenant-service request can fail, and its one mapping to the
//! JSON envelope `{"error": code, "message": text}`.

use std::borrow::Cow;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use bakery_config::auth::TokenError;
use bakery_config::db::DbError;
use bakery_config::http::ApiError;
use uuid::Uuid;

use crate::demo_client::DemoCallError;
use crate::password::HashError;

#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    /// A body field that does not parse (`422`).
    #[error("invalid input: {0}")]
    InvalidInput(&'static str),
    /// A query parameter out of range (`400`).
    #[error("invalid query: {0}")]
    InvalidQuery(&'static str),
    /// Unknown address, wrong password, inactive user: one answer for all (`401`).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Too many failed logins from this client, or from it on this address (`429`); an
    /// address alone is only ever slowed down (see `throttle`).
    #[error("too many failed logins, retry in {retry_after} s")]
    TooManyAttempts { retry_after: u64 },
    /// The caller's demo session is over (`401`).
    #[error("demo session expired")]
    SessionExpired,
    /// The identity may not use this route (`403`).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// The caller's tenant does not exist, or is not theirs to see (`404`).
    #[error("tenant not found")]
    TenantNotFound,
    /// demo-session could not be reached or timed out (`503`).
    #[error("demo-session unavailable: {0}")]
    DemoUnavailable(#[source] DemoCallError),
    /// demo-session refused, with its own envelope: passed through as it is.
    #[error("demo-session answered {status}: {code}")]
    DemoRefused {
        status: StatusCode,
        code: String,
        message: String,
        retry_after: Option<u64>,
    },
    /// demo-session answered something that is not its contract (`502`).
    #[error("demo-session answered unexpectedly: {0}")]
    DemoBadAnswer(#[source] DemoCallError),
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("token: {0}")]
    Token(#[from] TokenError),
    /// A password could not be hashed (`500`).
    #[error(transparent)]
    Hash(#[from] HashError),
    /// A blocking task (hashing or verifying a password) did not finish (`500`).
    #[error("blocking task: {0}")]
    Blocking(#[from] tokio::task::JoinError),
    /// The HTTP client for demo-session could not be built (`500`).
    #[error("http client: {0}")]
    HttpClient(#[source] reqwest::Error),
    /// A demo template tenant without a known account type (`500`): the data is wrong.
    #[error("template {0} has no account type")]
    TemplateWithoutAccountType(Uuid),
    /// An access token was asked for a demo tenant, or for a user of another tenant
    /// (`500`): refused, never signed.
    #[error("refused to issue an access token for tenant {0}")]
    TokenRefused(Uuid),
}

impl From<diesel::result::Error> for TenantError {
    fn from(e: diesel::result::Error) -> Self {
        TenantError::Database(DbError::Query(e))
    }
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for TenantError {
    fn from(e: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        TenantError::Database(DbError::from(e))
    }
}

impl TenantError {
    fn api(&self) -> ApiError {
        match self {
            TenantError::InvalidInput(m) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", *m)
            }
            TenantError::InvalidQuery(m) => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", *m)
            }
            TenantError::InvalidCredentials => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "Correo o contraseña incorrectos.",
            ),
            TenantError::TooManyAttempts { retry_after } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                "Demasiados intentos fallidos. Espera unos minutos antes de volver a intentarlo.",
            )
            .with_retry_after(*retry_after),
            TenantError::SessionExpired => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "session_expired",
                "La sesión demo ha caducado. Puedes empezar una nueva desde la página de demos.",
            ),
            TenantError::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", *m),
            TenantError::TenantNotFound => ApiError::new(
                StatusCode::NOT_FOUND,
                "tenant_not_found",
                "No se ha encontrado la panadería de esta cuenta.",
            ),
            TenantError::DemoUnavailable(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "demo_unavailable",
                "Las demos no están disponibles en este momento. Inténtalo de nuevo en unos minutos.",
            )
            .with_retry_after(30),
            TenantError::DemoRefused {
                status,
                code,
                message,
                retry_after,
            } => {
                let api = ApiError::new(*status, Cow::Owned(code.clone()), message.clone());
                match retry_after {
                    Some(s) => api.with_retry_after(*s),
                    None => api,
                }
            }
            TenantError::DemoBadAnswer(_) => ApiError::new(
                StatusCode::BAD_GATEWAY,
                "demo_unavailable",
                "No se ha podido crear la sesión demo. Inténtalo de nuevo en unos minutos.",
            ),
            // no pooled connection within DATABASE_POOL_WAIT_MS, or a statement PostgreSQL
            // cancelled at statement_timeout/lock_timeout: refused for load, so 503 with
            // Retry-After, never a 500
            // no pooled connection within DATABASE_POOL_WAIT_MS, or the database went away
            // under the statement (restarted, stopped)
            TenantError::Database(DbError::Pool(_)) => ApiError::unavailable(
                "El servicio no está disponible en este momento. Inténtalo de nuevo en unos momentos.",
            )
            .with_retry_after(2),
            TenantError::Database(DbError::Query(e)) if bakery_config::db::is_unavailable(e) => {
                ApiError::unavailable(
                    "El servicio no está disponible en este momento. Inténtalo de nuevo en unos momentos.",
                )
                .with_retry_after(2)
            }
            TenantError::Database(DbError::Query(e)) if bakery_config::db::is_timeout(e) => {
                ApiError::unavailable(
                    "El servicio está muy ocupado. Inténtalo de nuevo en unos segundos.",
                )
                .with_retry_after(2)
            }
            TenantError::Database(_)
            | TenantError::Token(_)
            | TenantError::Hash(_)
            | TenantError::Blocking(_)
            | TenantError::HttpClient(_)
            | TenantError::TemplateWithoutAccountType(_)
            | TenantError::TokenRefused(_) => ApiError::internal(),
        }
    }
}

impl ResponseError for TenantError {
    fn status_code(&self) -> StatusCode {
        self.api().status
    }

    /// Logged (a `5xx` with its whole cause chain) and answered by the shared glue.
    fn error_response(&self) -> HttpResponse {
        bakery_config::http::error_response(self, &self.api())
    }
}
