//! `InventoryError`: every way an inventory operation can fail, and its one mapping to the
//! JSON error envelope `{"error": code, "message": text}`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use bakery_config::http::ApiError;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use rust_decimal::Decimal;

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// A resource named in the path does not exist (for this tenant).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The body names something that does not exist (for this tenant).
    #[error("unknown {0}")]
    UnknownReference(&'static str),
    /// The body is well-formed JSON but its values are not acceptable.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// A query string value is out of range.
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// Taking `requested` of `item` would leave negative stock.
    #[error("insufficient stock of {item}: requested {requested}, available {available}")]
    InsufficientStock {
        item: String,
        requested: Decimal,
        available: Decimal,
    },
    /// A unique rule was broken (for example two ingredients with one name).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The row is still referenced (for example an ingredient used by a recipe).
    #[error("in use: {0}")]
    InUse(String),
    /// The caller's role may read but not write.
    #[error("read-only role")]
    ReadOnly,
    #[error("database pool: {0}")]
    Pool(String),
    #[error("database: {0}")]
    Database(DieselError),
}

impl From<DieselError> for InventoryError {
    fn from(e: DieselError) -> Self {
        match &e {
            DieselError::NotFound => InventoryError::NotFound("resource"),
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                InventoryError::Conflict(info.message().to_owned())
            }
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => {
                InventoryError::InUse(info.message().to_owned())
            }
            DieselError::DatabaseError(DatabaseErrorKind::CheckViolation, info) => {
                // the input checks should have caught it; the constraint's name is for the
                // log, not for the client
                tracing::warn!(constraint = ?info.constraint_name(), "check constraint refused input");
                InventoryError::Invalid("un valor está fuera de los límites permitidos".to_owned())
            }
            // numeric_value_out_of_range: a value the input checks let through
            DieselError::DatabaseError(_, info)
                if info.message().contains("numeric field overflow")
                    || info.message().contains("out of range") =>
            {
                InventoryError::Invalid("un valor numérico es demasiado grande".to_owned())
            }
            _ => InventoryError::Database(e),
        }
    }
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for InventoryError {
    fn from(e: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        InventoryError::Pool(e.to_string())
    }
}

fn what(resource: &str) -> &'static str {
    match resource {
        "ingredient" => "El ingrediente",
        "product" => "El producto",
        "recipe" => "La receta",
        "supplier" => "El proveedor",
        "order" => "El pedido",
        _ => "El recurso",
    }
}

impl InventoryError {
    fn api(&self) -> ApiError {
        use InventoryError::*;
        match self {
            NotFound(resource) => ApiError::new(
                StatusCode::NOT_FOUND,
                format!("{resource}_not_found"),
                format!("{} no existe.", what(resource)),
            ),
            UnknownReference(resource) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("unknown_{resource}"),
                format!("{} indicado no existe.", what(resource)),
            ),
            Invalid(detail) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                format!("Datos no válidos: {detail}"),
            ),
            InvalidQuery(detail) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                format!("Parámetros de consulta no válidos: {detail}"),
            ),
            InsufficientStock {
                item,
                requested,
                available,
            } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "insufficient_stock",
                format!(
                    "No hay existencias suficientes de {item}: se necesitan {requested} y hay {available}."
                ),
            ),
            Conflict(_) => ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                "Ya existe un registro con esos datos.",
            ),
            InUse(_) => ApiError::new(
                StatusCode::CONFLICT,
                "in_use",
                "El registro está en uso (recetas, pedidos u otros datos lo referencian).",
            ),
            ReadOnly => ApiError::new(
                StatusCode::FORBIDDEN,
                "read_only",
                "Tu rol solo permite consultar datos.",
            ),
            Pool(_) => ApiError::unavailable(
                "El servicio no está disponible en este momento. Inténtalo de nuevo.",
            )
            .with_retry_after(2),
            Database(_) => ApiError::internal(),
        }
    }
}

impl ResponseError for InventoryError {
    fn status_code(&self) -> StatusCode {
        self.api().status
    }

    fn error_response(&self) -> HttpResponse {
        let api = self.api();
        if api.status.is_server_error() {
            tracing::error!(error = %self, "inventory request failed");
        }
        api.error_response()
    }
}
