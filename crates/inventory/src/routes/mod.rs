//! The HTTP API of inventory-service (every route is listed in `docs/api-inventory.md`).
//!
//! Handlers are short: take the caller's [`Identity`] (the only source of the tenant),
//! parse the input into a domain type, call the model layer, answer JSON. Errors are
//! [`InventoryError`]s, mapped to the JSON envelope in one place.

pub(crate) mod forecasts;
pub(crate) mod inventory;
pub(crate) mod production;
pub(crate) mod products;
pub(crate) mod purchasing;
pub(crate) mod sales;

use actix_web::{HttpResponse, web};
use bakery_config::auth::Identity;
use bakery_config::db::AsyncPgConnection;
use bakery_config::http::method_not_allowed;
use bakery_config::openapi::AllowedMethods;
use bytes::Bytes;
use serde::Serialize;
use uuid::Uuid;

use crate::cache::{self, CachedList};
use crate::error::InventoryError;
use crate::metrics::CacheResult;
use crate::models::WriteScope;
use crate::pagination::{self, Page, PageParams};
use crate::startup::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    let resource = |path: &str| web::resource(path).default_service(web::to(method_not_allowed));
    cfg.app_data(AllowedMethods::from_document(
        &crate::openapi::document(),
        false,
    ));
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
    .service(resource("/api/recipes/{id}").route(web::put().to(products::update_recipe)))
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
    .service(resource("/api/sales/summary").route(web::get().to(sales::sales_summary)))
    .service(resource("/api/pos/sales").route(web::post().to(sales::create_sale)))
    .service(resource("/api/forecasts/models").route(web::get().to(forecasts::list_models)))
    .service(resource("/api/forecasts/{product_id}").route(web::get().to(forecasts::get_forecast)));
}

/// Writes need a role that may write (`viewer` may only read) and a tenant (a service
/// identity carries none); a demo session's writes also count against its quotas
/// ([`crate::quota`]). Answers whom the write is for.
async fn may_write(state: &AppState, identity: &Identity) -> Result<WriteScope, InventoryError> {
    if identity.role == "viewer" || identity.tenant_id.is_nil() {
        return Err(InventoryError::ReadOnly);
    }
    state.quotas.admit_write(identity, identity.tenant_id).await
}

fn json_body(body: Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(body)
}

/// A list page of the caller's tenant through the cache: the page `params` ask for; a
/// canonical page ([`cache::cacheable`]) under the tenant's current version if cached, else
/// `load` (PostgreSQL, on a pooled connection), cached under the version read *before*
/// loading. Other pages go straight to `load`, without asking Redis.
async fn read_through<T>(
    state: &AppState,
    identity: &Identity,
    list: CachedList,
    params: PageParams,
    load: impl AsyncFnOnce(&mut AsyncPgConnection, Uuid, Page) -> Result<T, InventoryError>,
) -> Result<HttpResponse, InventoryError>
where
    T: Serialize,
{
    let page = pagination::page(params)?;
    let tenant = identity.tenant_id;
    let version = if cache::cacheable(page) {
        let version = state.cache.version(tenant).await;
        if version.is_none() {
            state.metrics.cache(list, CacheResult::error);
        }
        version
    } else {
        None
    };
    if let Some(v) = version {
        if let Some(hit) = state.cache.get(tenant, list, v, page) {
            state.metrics.cache(list, CacheResult::hit);
            return Ok(json_body(hit));
        }
        state.metrics.cache(list, CacheResult::miss);
    }
    let value = load(&mut *state.conn().await?, tenant, page).await?;
    match serde_json::to_string(&value) {
        Ok(body) => {
            let body = Bytes::from(body);
            if let Some(v) = version {
                // shares the buffer: cached and sent without a copy
                state.cache.put(tenant, list, v, page, body.clone());
            }
            Ok(json_body(body))
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot serialise a cached list");
            Ok(HttpResponse::Ok().json(value))
        }
    }
}
