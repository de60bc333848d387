//! `/api/suppliers` and `/api/orders`.

use actix_web::{HttpResponse, web};
use bakery_config::auth::Identity;

use super::may_write;
use crate::error::InventoryError;
use crate::models::purchasing::{self, NewOrder, OrderFilter, OrderRequest};
use crate::pagination::{self, PageParams};
use crate::startup::AppState;

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

pub async fn list_orders(
    identity: Identity,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
    filter: web::Query<OrderFilter>,
) -> Result<HttpResponse, InventoryError> {
    let page = pagination::page(page.into_inner())?;
    let list =
        purchasing::list_orders(&mut *state.conn().await?, identity.tenant_id, &filter, page)
            .await?;
    Ok(HttpResponse::Ok().json(list))
}

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
