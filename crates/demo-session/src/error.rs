//! The one error type of demo-session and its JSON answers (Spanish, for prospects).
//!
//! Every failure that is not the client's keeps its cause as a `#[source]`, so the log of a
//! `5xx` shows the whole chain (`bakery_config::http::chain`); the client only ever gets
//! the code and message `DemoError::api` gives.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use bakery_config::auth::TokenError;
use bakery_config::http::ApiError;
use diesel_async::pooled_connection::deadpool::PoolError;

use crate::cloner::CloneError;
use crate::jobs::JobError;

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
    #[error("no such place in the waiting room")]
    QueuePlaceUnknown,
    #[error("template missing")]
    TemplateMissing,
    #[error("clone failed")]
    CloneFailed(#[source] CloneFailure),
    #[error("admin credential required")]
    AdminRequired,
    /// `POST …/events`: a word or detail outside the vocabulary.
    #[error("event outside the vocabulary")]
    InvalidEvent,
    /// `POST …/events`: a milestone only the server records (a write, a conversion…).
    #[error("event the page may not report")]
    EventNotAllowed,
    /// `POST …/events`: more than 20 events, or none.
    #[error("too many events")]
    TooManyEventsInCall,
    #[error("events rate limited")]
    TooManyEvents { retry_after: u64 },
    /// The credential is not this session's (another session's, a customer's).
    #[error("not this session's credential")]
    NotThisSession,
    /// The internal endpoint without a service identity.
    #[error("service identity required")]
    ServiceRequired,
    /// `GET /api/demo/stats?from=&to=`: not dates, reversed, or over 92 days.
    #[error("invalid stats range")]
    InvalidRange,
    /// No pooled connection within `DATABASE_POOL_WAIT_MS` (or none could be opened):
    /// refused for load.
    #[error("no database connection")]
    DatabasePool(#[source] PoolError),
    /// A query failed (PostgreSQL cancelling it at `statement_timeout`/`lock_timeout` is
    /// refused for load too, see `is_busy`); a row that does not parse lands here.
    #[error("database")]
    Database(#[source] diesel::result::Error),
    #[error("internal")]
    Internal(#[source] InternalError),
    /// `POST …/convert` or `…/reset`: a field of the request does not pass (`code` names
    /// which: `invalid_bakery_name`, `invalid_owner_name`, `invalid_email`,
    /// `weak_password`, `invalid_keep`).
    #[error("invalid sign-up field: {code}")]
    InvalidSignup {
        code: &'static str,
        message: &'static str,
    },
    /// `POST …/convert`: another user has this address.
    #[error("email taken")]
    EmailTaken,
    /// `POST …/convert`: too many conversions from this client this hour.
    #[error("conversions rate limited")]
    TooManyConversions { retry_after: u64 },
    /// `POST …/reset`: too many resets of this session this minute.
    #[error("resets rate limited")]
    TooManyResets { retry_after: u64 },
    /// A step of the conversion failed; what it wrote was removed.
    #[error("conversion failed")]
    ConversionFailed(#[source] ConversionFailure),
    /// A completed conversion whose account is gone (removed by an operator).
    #[error("converted account not found")]
    ConversionGone,
}

/// Why a conversion step failed (`503 conversion_failed`).
#[derive(Debug, thiserror::Error)]
pub enum ConversionFailure {
    #[error("creating the account")]
    Account(#[from] crate::convert::AccountError),
    #[error("copying the kept data")]
    Copy(#[from] CloneError),
    #[error("recording the conversion")]
    Record(#[source] diesel::result::Error),
}

/// Why a clone did not give a ready session (`503 demo_preparation_failed`).
#[derive(Debug, thiserror::Error)]
pub enum CloneFailure {
    /// Copying into the tenant or inventory database.
    #[error(transparent)]
    Copy(#[from] CloneError),
    /// No connection to the tenant or inventory database.
    #[error("no database connection")]
    Pool(#[source] PoolError),
    /// The clone Job (`k8s-job` strategy).
    #[error(transparent)]
    Job(#[from] JobError),
    /// Cleanup gave up on the session (stuck pending) while it was being cloned.
    #[error("session no longer pending")]
    NoLongerPending,
}

/// Our own faults (`500`).
#[derive(Debug, thiserror::Error)]
pub enum InternalError {
    #[error("the session duration does not fit a date")]
    Duration(#[source] chrono::OutOfRangeError),
    #[error("signing the session token")]
    Token(#[source] TokenError),
    #[error("reading the stats document")]
    Stats(#[source] serde_json::Error),
    #[error("a blocking task failed")]
    Join(#[source] tokio::task::JoinError),
    #[error("hashing the password")]
    Hash(#[source] bakery_tenant::password::HashError),
    #[error("signing the access token")]
    AccessToken(#[source] Box<bakery_tenant::error::TenantError>),
}

impl From<diesel::result::Error> for DemoError {
    fn from(e: diesel::result::Error) -> Self {
        DemoError::Database(e)
    }
}

impl From<PoolError> for DemoError {
    fn from(e: PoolError) -> Self {
        DemoError::DatabasePool(e)
    }
}

impl From<InternalError> for DemoError {
    fn from(e: InternalError) -> Self {
        DemoError::Internal(e)
    }
}

/// A missing template is its own answer (`503 demo_unavailable`); any other failure of the
/// cloner's work (also outside a clone: finding the template, the tenant's expiry, listing
/// virtual tenants) answers `503 demo_preparation_failed`.
impl From<CloneError> for DemoError {
    fn from(e: CloneError) -> Self {
        match e {
            CloneError::TemplateMissing => DemoError::TemplateMissing,
            other => DemoError::CloneFailed(CloneFailure::Copy(other)),
        }
    }
}

impl From<CloneFailure> for DemoError {
    fn from(e: CloneFailure) -> Self {
        match e {
            CloneFailure::Copy(copy) => copy.into(),
            other => DemoError::CloneFailed(other),
        }
    }
}

impl DemoError {
    /// The code, status and message the client gets.
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
            DemoError::QueuePlaceUnknown => ApiError::new(
                S::NOT_FOUND,
                "queue_place_not_found",
                "Tu turno en la cola ya no está guardado (hay que consultarlo al menos cada 30 segundos). Vuelve a pedir tu demo.",
            ),
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
            DemoError::InvalidEvent => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "invalid_event",
                "Evento desconocido: usa los hitos y detalles documentados.",
            ),
            DemoError::EventNotAllowed => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "event_not_allowed",
                "La página solo puede informar de pantallas vistas y del inicio del registro; el resto lo registra el servidor.",
            ),
            DemoError::TooManyEventsInCall => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "too_many_events",
                "Envía entre 1 y 20 eventos por llamada.",
            ),
            DemoError::TooManyEvents { retry_after } => ApiError::new(
                S::TOO_MANY_REQUESTS,
                "rate_limited",
                "Demasiados eventos en poco tiempo. Vuelve a intentarlo en un momento.",
            )
            .with_retry_after(*retry_after),
            DemoError::NotThisSession => ApiError::new(
                S::FORBIDDEN,
                "session_mismatch",
                "Esta credencial no corresponde a esta sesión demo.",
            ),
            DemoError::ServiceRequired => ApiError::new(
                S::UNAUTHORIZED,
                "service_required",
                "Solo los servicios internos pueden usar esta ruta.",
            ),
            DemoError::InvalidRange => ApiError::new(
                S::BAD_REQUEST,
                "invalid_range",
                "Rango no válido: usa from y to como AAAA-MM-DD, from no posterior a to, 92 días como máximo.",
            ),
            DemoError::InvalidSignup { code, message } => {
                ApiError::new(S::UNPROCESSABLE_ENTITY, *code, *message)
            }
            DemoError::EmailTaken => ApiError::new(
                S::CONFLICT,
                "email_taken",
                "Ya existe una cuenta con este correo electrónico. Inicia sesión o usa otro correo.",
            ),
            DemoError::TooManyConversions { retry_after } => ApiError::new(
                S::TOO_MANY_REQUESTS,
                "rate_limited",
                "Demasiados intentos de crear una cuenta en poco tiempo. Vuelve a intentarlo más tarde.",
            )
            .with_retry_after(*retry_after),
            DemoError::TooManyResets { retry_after } => ApiError::new(
                S::TOO_MANY_REQUESTS,
                "rate_limited",
                "Has reiniciado la demo varias veces seguidas. Espera un momento.",
            )
            .with_retry_after(*retry_after),
            DemoError::ConversionFailed(_) => ApiError::new(
                S::SERVICE_UNAVAILABLE,
                "conversion_failed",
                "No hemos podido crear tu cuenta; no se ha guardado nada. Inténtalo de nuevo en unos momentos.",
            )
            .with_retry_after(5),
            DemoError::ConversionGone => ApiError::new(
                S::GONE,
                "account_not_found",
                "La cuenta creada desde esta demo ya no existe.",
            ),
            // no pooled connection within DATABASE_POOL_WAIT_MS, or a statement PostgreSQL
            // cancelled at statement_timeout/lock_timeout: refused for load, so 503 with
            // Retry-After, never a 500
            DemoError::DatabasePool(_) => busy(),
            DemoError::Database(e) if is_busy(e) => busy(),
            // the database went away under the statement (restarted, stopped): 503 too
            DemoError::Database(e) if bakery_config::db::is_unavailable(e) => busy(),
            DemoError::Database(_) | DemoError::Internal(_) => ApiError::internal(),
        }
    }
}

fn busy() -> ApiError {
    ApiError::unavailable(
        "El servicio de demos está muy ocupado. Inténtalo de nuevo en unos segundos.",
    )
    .with_retry_after(2)
}

/// Whether PostgreSQL cancelled the statement for one of the request limits (see `api`).
/// Not `bakery_config::db::is_timeout`: that also counts a session ended for idling in a
/// transaction, which demo-session has always answered `500`.
fn is_busy(error: &diesel::result::Error) -> bool {
    match error {
        diesel::result::Error::DatabaseError(_, info) => {
            let message = info.message();
            message.contains("canceling statement due to statement timeout")
                || message.contains("canceling statement due to lock timeout")
        }
        _ => false,
    }
}

impl ResponseError for DemoError {
    fn status_code(&self) -> StatusCode {
        self.api().status
    }

    /// Logged (a `5xx` with its whole cause chain) and answered by the shared glue.
    fn error_response(&self) -> HttpResponse {
        bakery_config::http::error_response(self, &self.api())
    }
}
