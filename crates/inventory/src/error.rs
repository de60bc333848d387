//! `InventoryError`: every way an inventory operation can fail, and its one mapping to the
//! JSON error envelope `{"error": code, "message": text}`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use bakery_config::http::ApiError;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::pooled_connection::deadpool::PoolError;
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
    Conflict(#[source] DieselError),
    /// The row is still referenced (for example an ingredient used by a recipe).
    #[error("in use: {0}")]
    InUse(#[source] DieselError),
    /// The caller's role may read but not write.
    #[error("read-only role")]
    ReadOnly,
    /// A demo session made more writes this minute than `DEMO_WRITES_PER_MINUTE`.
    #[error("demo write quota reached, retry in {retry_after} s")]
    DemoWriteQuota { retry_after: u64 },
    /// A demo session's write would pass `DEMO_MAX_ROWS_PER_TABLE` rows of `table`.
    #[error("demo row quota reached for {table}")]
    DemoRowQuota { table: String },
    /// No pooled connection within `DATABASE_POOL_WAIT_MS` (or the database is down).
    #[error("database pool: {0}")]
    Pool(#[from] PoolError),
    /// PostgreSQL cancelled a statement at `statement_timeout` or `lock_timeout`.
    #[error("database timeout: {0}")]
    Timeout(#[source] DieselError),
    /// The database went away under the statement (restarted, stopped): `503`, like `Pool`.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] DieselError),
    #[error("database: {0}")]
    Database(#[source] DieselError),
}

impl From<DieselError> for InventoryError {
    fn from(e: DieselError) -> Self {
        match &e {
            DieselError::NotFound => InventoryError::NotFound("resource"),
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                InventoryError::Conflict(e)
            }
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                InventoryError::InUse(e)
            }
            // the demo row quota trigger (migrations/inventory/…_demo_row_quota)
            DieselError::DatabaseError(DatabaseErrorKind::CheckViolation, info)
                if info.constraint_name() == Some(DEMO_ROW_QUOTA) =>
            {
                InventoryError::DemoRowQuota {
                    table: info.table_name().unwrap_or("").to_owned(),
                }
            }
            _ if bakery_config::db::is_timeout(&e) => InventoryError::Timeout(e),
            _ if bakery_config::db::is_unavailable(&e) => InventoryError::Unavailable(e),
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

/// The constraint name the demo row quota trigger raises its error under.
const DEMO_ROW_QUOTA: &str = "demo_row_quota";

/// How long a client is told to wait after a refusal for load (pool or timeout).
const BUSY_RETRY_AFTER_SECS: u64 = 2;
/// The row quota does not pass with a short wait (only a reset or a new demo clears it);
/// `Retry-After` still comes with every `demo_quota`, as the contract says.
const ROW_QUOTA_RETRY_AFTER_SECS: u64 = 3600;

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

/// What the rows of a table are, in the row quota's message.
fn records(table: &str) -> &'static str {
    match table {
        "ingredients" => "ingredientes",
        "stock_lots" => "lotes de existencias",
        "stock_movements" => "movimientos de existencias",
        "production_batches" => "lotes de producción",
        "purchase_orders" => "pedidos",
        "purchase_order_lines" => "líneas de pedido",
        "sales" => "ventas",
        "sale_lines" => "líneas de venta",
        "recipe_lines" => "líneas de receta",
        _ => "registros",
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
            DemoWriteQuota { retry_after } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "demo_quota",
                bakery_config::demo::WRITE_QUOTA_MESSAGE,
            )
            .with_retry_after(*retry_after),
            DemoRowQuota { table } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "demo_quota",
                format!(
                    "Esta demo ya ha creado el máximo permitido de {}. Para seguir probando, \
                     reinicia la demo o crea tu cuenta.",
                    records(table)
                ),
            )
            .with_retry_after(ROW_QUOTA_RETRY_AFTER_SECS),
            Pool(_) | Unavailable(_) => ApiError::unavailable(
                "El servicio no está disponible en este momento. Inténtalo de nuevo.",
            )
            .with_retry_after(BUSY_RETRY_AFTER_SECS),
            Timeout(_) => ApiError::unavailable(
                "El servicio está muy ocupado y no ha podido completar la operación. \
                 Inténtalo de nuevo en unos segundos.",
            )
            .with_retry_after(BUSY_RETRY_AFTER_SECS),
            Database(_) => ApiError::internal(),
        }
    }
}

impl ResponseError for InventoryError {
    fn status_code(&self) -> StatusCode {
        self.api().status
    }

    /// Logged (a `5xx` with its whole cause chain) and answered by the shared glue.
    fn error_response(&self) -> HttpResponse {
        bakery_config::http::error_response(self, &self.api())
    }
}
