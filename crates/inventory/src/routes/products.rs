//! `/api/products` and `/api/recipes`.

use actix_web::{HttpResponse, web};
use bakery_config::auth::Identity;
use uuid::Uuid;

use super::read_through;
use crate::cache::CachedList;
use crate::error::InventoryError;
use crate::models::{products, recipes};
use crate::pagination::{self, PageParams};
use crate::startup::AppState;

pub async fn list_products(
    identity: Identity,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, InventoryError> {
    read_through(
        &state,
        &identity,
        CachedList::Products,
        page.into_inner(),
        products::list,
    )
    .await
}

pub async fn get_product(
    identity: Identity,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, InventoryError> {
    let view = products::find(&mut *state.conn().await?, identity.tenant_id, *id).await?;
    Ok(HttpResponse::Ok().json(view))
}

pub async fn list_recipes(
    identity: Identity,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, InventoryError> {
    let page = pagination::page(page.into_inner())?;
    let list = recipes::list(&mut *state.conn().await?, identity.tenant_id, page).await?;
    Ok(HttpResponse::Ok().json(list))
}
