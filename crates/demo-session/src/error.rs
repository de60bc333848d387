//! The one error type of demo-session and its JSON answers (Spanish, for prospects).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use bakery_config::http::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("unknown demo account type")]
    UnknownAccountType,
    #[error("session not found")]
    NotFound,
    #[error("session ended")]
    Expired,
    #[error("session is still being prepared")]
    NotReady,
    #[error("no extensions left")]
    NoExtensionsLeft,
    #[error("rate limited")]
    RateLimited { retry_after: u64 },
    #[error("capacity reached")]
    CapacityReached { retry_after: u64 },
    #[error("template missing")]
    TemplateMissing,
    #[error("clone failed: {0}")]
    CloneFailed(String),
    #[error("admin credential required")]
    AdminRequired,
    #[error("internal: {0}")]
    Internal(String),
}

impl From<diesel::result::Error> for DemoError {
    fn from(e: diesel::result::Error) -> Self {
        DemoError::Internal(e.to_string())
    }
}

impl From<bakery_config::db::DbError> for DemoError {
    fn from(e: bakery_config::db::DbError) -> Self {
        DemoError::Internal(e.to_string())
    }
}

impl From<crate::cloner::CloneError> for DemoError {
    fn from(e: crate::cloner::CloneError) -> Self {
        match e {
            crate::cloner::CloneError::TemplateMissing => DemoError::TemplateMissing,
            other => DemoError::CloneFailed(other.to_string()),
        }
    }
}

impl DemoError {
    fn api(&self) -> ApiError {
        use StatusCode as S;
        match self {
            DemoError::UnknownAccountType => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "invalid_account_type",
                "Tipo de cuenta demo desconocido: usa \"individual_bakery\" o \"central_baker_satellite\".",
            ),
            DemoError::NotFound => ApiError::new(
                S::NOT_FOUND,
                "session_not_found",
                "No encontramos esta sesión demo. Puedes empezar una nueva.",
            ),
            DemoError::Expired => ApiError::new(
                S::UNAUTHORIZED,
                "session_expired",
                "Tu sesión demo ha terminado. Puedes empezar una nueva cuando quieras.",
            ),
            DemoError::NotReady => ApiError::new(
                S::CONFLICT,
                "session_not_ready",
                "Tu demo todavía se está preparando. Inténtalo en unos segundos.",
            ),
            DemoError::NoExtensionsLeft => ApiError::new(
                S::CONFLICT,
                "max_extensions_reached",
                "Ya has ampliado esta demo el máximo de veces permitido.",
            ),
            DemoError::RateLimited { retry_after } => ApiError::new(
                S::TOO_MANY_REQUESTS,
                "rate_limited",
                "Has creado demasiadas demos en poco tiempo. Vuelve a intentarlo más tarde.",
            )
            .with_retry_after(*retry_after),
            DemoError::CapacityReached { retry_after } => ApiError::new(
                S::SERVICE_UNAVAILABLE,
                "capacity_reached",
                "Ahora mismo hay muchas demos activas. Vuelve a intentarlo en unos minutos.",
            )
            .with_retry_after(*retry_after),
            DemoError::TemplateMissing => ApiError::new(
                S::SERVICE_UNAVAILABLE,
                "demo_unavailable",
                "Esta demo no está disponible en este momento. Inténtalo más tarde.",
            )
            .with_retry_after(60),
            DemoError::CloneFailed(_) => ApiError::new(
                S::SERVICE_UNAVAILABLE,
                "demo_preparation_failed",
                "No hemos podido preparar tu demo. Inténtalo de nuevo en unos momentos.",
            )
            .with_retry_after(5),
            DemoError::AdminRequired => ApiError::new(
                S::UNAUTHORIZED,
                "admin_required",
                "Se necesita una credencial de administración (X-Admin-Key).",
            ),
            // no pooled connection within DATABASE_POOL_WAIT_MS (`DbError::Pool` and the
            // lifecycle's pool errors both read "database pool: …"), or a statement
            // PostgreSQL cancelled at statement_timeout/lock_timeout: refused for load, so
            // 503 with Retry-After, never a 500
            DemoError::Internal(detail) if is_busy(detail) => ApiError::unavailable(
                "El servicio de demos está muy ocupado. Inténtalo de nuevo en unos segundos.",
            )
            .with_retry_after(2),
            DemoError::Internal(_) => ApiError::internal(),
        }
    }
}

/// Whether an internal error is the database refusing for load (see `api`).
fn is_busy(detail: &str) -> bool {
    detail.starts_with("database pool:")
        || detail.contains("canceling statement due to statement timeout")
        || detail.contains("canceling statement due to lock timeout")
}

impl ResponseError for DemoError {
    fn status_code(&self) -> StatusCode {
        self.api().status
    }

    fn error_response(&self) -> HttpResponse {
        if let DemoError::Internal(detail) | DemoError::CloneFailed(detail) = self {
            tracing::error!(detail, "demo-session error");
        }
        self.api().error_response()
    }
}
