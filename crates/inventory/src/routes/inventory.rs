//! `/api/inventory/…`: ingredients, stock lots, adjustments.

use actix_web::{HttpResponse, web};
use bakery_config::auth::Identity;
use uuid::Uuid;

use super::{may_write, read_through};
use crate::cache::CachedList;
use crate::error::InventoryError;
use crate::models::ingredients::{self, IngredientFields, IngredientInput};
use crate::models::stock::{self, Adjustment, AdjustmentRequest, LotFilter};
use crate::pagination::{self, PageParams};
use crate::startup::AppState;

pub async fn list_ingredients(
    identity: Identity,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, InventoryError> {
    read_through(
        &state,
        &identity,
        CachedList::Ingredients,
        page.into_inner(),
        ingredients::list,
    )
    .await
}

pub async fn get_ingredient(
    identity: Identity,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, InventoryError> {
    let view = ingredients::find(&mut *state.conn().await?, identity.tenant_id, *id).await?;
    Ok(HttpResponse::Ok().json(view))
}

pub async fn create_ingredient(
    identity: Identity,
    state: web::Data<AppState>,
    body: web::Json<IngredientInput>,
) -> Result<HttpResponse, InventoryError> {
    let scope = may_write(&state, &identity).await?;
    let tenant = scope.tenant;
    let fields = IngredientFields::try_from(body.into_inner())?;
    let view = ingredients::create(&mut *state.conn().await?, scope, &fields).await?;
    state.cache.invalidate(tenant).await;
    Ok(HttpResponse::Created().json(view))
}

pub async fn update_ingredient(
    identity: Identity,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: web::Json<IngredientInput>,
) -> Result<HttpResponse, InventoryError> {
    let scope = may_write(&state, &identity).await?;
    let tenant = scope.tenant;
    let fields = IngredientFields::try_from(body.into_inner())?;
    let view = ingredients::update(&mut *state.conn().await?, tenant, *id, &fields).await?;
    state.cache.invalidate(tenant).await;
    Ok(HttpResponse::Ok().json(view))
}

pub async fn delete_ingredient(
    identity: Identity,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, InventoryError> {
    let scope = may_write(&state, &identity).await?;
    let tenant = scope.tenant;
    ingredients::delete(&mut *state.conn().await?, tenant, *id).await?;
    state.cache.invalidate(tenant).await;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn list_lots(
    identity: Identity,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
    filter: web::Query<LotFilter>,
) -> Result<HttpResponse, InventoryError> {
    let page = pagination::page(page.into_inner())?;
    let lots =
        stock::list_lots(&mut *state.conn().await?, identity.tenant_id, &filter, page).await?;
    Ok(HttpResponse::Ok().json(lots))
}

pub async fn adjust(
    identity: Identity,
    state: web::Data<AppState>,
    body: web::Json<AdjustmentRequest>,
) -> Result<HttpResponse, InventoryError> {
    let scope = may_write(&state, &identity).await?;
    let tenant = scope.tenant;
    let adjustment = Adjustment::try_from(body.into_inner())?;
    let outcome = stock::adjust(&mut *state.conn().await?, scope, &adjustment).await?;
    state.cache.invalidate(tenant).await;
    Ok(HttpResponse::Created().json(outcome))
}
