//! `/api/suppliers` and `/api/orders`.

use actix_web::{HttpResponse, web};
use bakery_config::auth::Identity;

use super::may_write;
use crate::error::InventoryError;
use crate::models::purchasing::{self, NewOrder, OrderFilter, OrderRequest};
use crate::pagination::{self, PageParams};
use crate::startup::AppState;

#[utoipa::path(
    get,
    path = "/api/suppliers",
    tag = "purchasing",
    params(bakery_config::pagination::PageParams),
    responses(
        (status = 200, description = "A page of suppliers", body = bakery_config::pagination::Paginated<crate::models::purchasing::Supplier>),
        (status = 401, description = "`unauthorized`: no identity (through the gateway: `missing_credentials`)", body = bakery_config::http::ErrorBody),
        (status = 400, description = "`invalid_query`: `limit`/`offset` out of range", body = bakery_config::http::ErrorBody),
    )
)]
pub async fn list_suppliers(
    identity: Identity,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, InventoryError> {
    let page = pagination::page(page.into_inner())?;
    let list =
        purchasing::list_suppliers(&mut *state.conn().await?, identity.tenant_id, page).await?;
    Ok(HttpResponse::Ok().json(list))
}

#[utoipa::path(
    get,
    path = "/api/orders",
    tag = "purchasing",
    params(bakery_config::pagination::PageParams, crate::models::purchasing::OrderFilter),
    responses(
        (status = 200, description = "A page of purchase orders", body = bakery_config::pagination::Paginated<crate::models::purchasing::OrderView>),
        (status = 401, description = "`unauthorized`: no identity (through the gateway: `missing_credentials`)", body = bakery_config::http::ErrorBody),
        (status = 400, description = "`invalid_query`: `limit`/`offset` out of range", body = bakery_config::http::ErrorBody),
    )
)]
pub async fn list_orders(
    identity: Identity,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
    filter: web::Query<OrderFilter>,
) -> Result<HttpResponse, InventoryError> {
    let page = pagination::page(page.into_inner())?;
    let mut conn = state.conn().await?;
    let list = purchasing::list_orders(
        &mut conn,
        identity.tenant_id,
        identity.time_zone,
        &filter,
        page,
    )
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

#[utoipa::path(
    post,
    path = "/api/orders",
    tag = "purchasing",
    request_body = crate::models::purchasing::OrderRequest,
    responses(
        (status = 201, description = "Created", body = crate::models::purchasing::OrderView),
        (status = 401, description = "`unauthorized`: no identity (through the gateway: `missing_credentials`)", body = bakery_config::http::ErrorBody),
        (status = 403, description = "`read_only`: the role may only read", body = bakery_config::http::ErrorBody),
        (status = 429, description = "`demo_quota` + `Retry-After`: a demo session's write quota", body = bakery_config::http::ErrorBody),
        (status = 422, description = "`invalid_input`, `unknown_…`", body = bakery_config::http::ErrorBody),
    )
)]
pub async fn create_order(
    identity: Identity,
    state: web::Data<AppState>,
    body: web::Json<OrderRequest>,
) -> Result<HttpResponse, InventoryError> {
    let scope = may_write(&state, &identity).await?;
    let order = NewOrder::try_from(body.into_inner())?;
    let view = purchasing::create_order(&mut *state.conn().await?, scope, &order).await?;
    Ok(HttpResponse::Created().json(view))
}
