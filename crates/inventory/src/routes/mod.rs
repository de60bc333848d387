//! The HTTP API of inventory-service (every route is listed in `docs/api-inventory.md`).
//!
//! Handlers are short: take the caller's [`Identity`] (the only source of the tenant),
//! parse the input into a domain type, call the model layer, answer JSON. Errors are
//! [`InventoryError`]s, mapped to the JSON envelope in one place.

mod forecasts;
mod inventory;
mod production;
mod products;
mod purchasing;
mod sales;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError, web};
use bakery_config::auth::Identity;
use bakery_config::http::ApiError;
use serde::Serialize;
use uuid::Uuid;

use crate::cache::CachedList;
use crate::error::InventoryError;
use crate::pagination::Page;
use crate::startup::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    let resource = |path: &str| web::resource(path).default_service(web::to(method_not_allowed));
    cfg.service(
        resource("/api/inventory/ingredients")
            .route(web::get().to(inventory::list_ingredients))
            .route(web::post().to(inventory::create_ingredient)),
    )
    .service(
        resource("/api/inventory/ingredients/{id}")
            .route(web::get().to(inventory::get_ingredient))
            .route(web::put().to(inventory::update_ingredient))
            .route(web::delete().to(inventory::delete_ingredient)),
    )
    .service(resource("/api/inventory/stock-lots").route(web::get().to(inventory::list_lots)))
    .service(resource("/api/inventory/adjustments").route(web::post().to(inventory::adjust)))
    .service(resource("/api/products").route(web::get().to(products::list_products)))
    .service(resource("/api/products/{id}").route(web::get().to(products::get_product)))
    .service(resource("/api/recipes").route(web::get().to(products::list_recipes)))
    .service(
        resource("/api/production/batches")
            .route(web::get().to(production::list_batches))
            .route(web::post().to(production::create_batch)),
    )
    .service(resource("/api/suppliers").route(web::get().to(purchasing::list_suppliers)))
    .service(
        resource("/api/orders")
            .route(web::get().to(purchasing::list_orders))
            .route(web::post().to(purchasing::create_order)),
    )
    .service(resource("/api/sales").route(web::get().to(sales::list_sales)))
    .service(resource("/api/pos/sales").route(web::post().to(sales::create_sale)))
    .service(resource("/api/forecasts/models").route(web::get().to(forecasts::list_models)))
    .service(resource("/api/forecasts/{product_id}").route(web::get().to(forecasts::get_forecast)));
}

async fn method_not_allowed() -> HttpResponse {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Método no permitido en esta ruta.",
    )
    .error_response()
}

/// Writes need a role that may write (`viewer` may only read) and a tenant (a service
/// identity carries none).
fn may_write(identity: &Identity) -> Result<Uuid, InventoryError> {
    if identity.role == "viewer" || identity.tenant_id.is_nil() {
        return Err(InventoryError::ReadOnly);
    }
    Ok(identity.tenant_id)
}

fn json_body(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(body)
}

/// A cached list page: Redis first, then `load` (PostgreSQL), whose answer is cached.
async fn read_through<T, F>(
    state: &AppState,
    tenant: Uuid,
    list: CachedList,
    page: Page,
    load: F,
) -> Result<HttpResponse, InventoryError>
where
    T: Serialize,
    F: AsyncFnOnce() -> Result<T, InventoryError>,
{
    let field = format!("{}:{}", page.limit, page.offset);
    let lookup = state.cache.get(tenant, list, &field).await;
    if let Some(hit) = lookup.hit {
        return Ok(json_body(hit));
    }
    let value = load().await?;
    match serde_json::to_string(&value) {
        Ok(body) => {
            if let Some(version) = lookup.version {
                state.cache.put(tenant, list, version, &field, &body).await;
            }
            Ok(json_body(body))
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot serialise a cached list");
            Ok(HttpResponse::Ok().json(value))
        }
    }
}
