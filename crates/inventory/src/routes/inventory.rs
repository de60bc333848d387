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

#[utoipa::path(
    get,
    path = "/api/inventory/ingredients",
    tag = "ingredients",
    params(bakery_config::pagination::PageParams),
    responses(
        (status = 200, description = "A page of ingredients", body = bakery_config::pagination::Paginated<crate::models::ingredients::IngredientView>),
        (status = 401, description = "`unauthorized`: no identity (through the gateway: `missing_credentials`)", body = bakery_config::http::ErrorBody),
        (status = 400, description = "`invalid_query`: `limit`/`offset` out of range", body = bakery_config::http::ErrorBody),
    )
)]
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

#[utoipa::path(
    get,
    path = "/api/inventory/ingredients/{id}",
    tag = "ingredients",
    params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 200, description = "The ingredient", body = crate::models::ingredients::IngredientView),
        (status = 401, description = "`unauthorized`: no identity (through the gateway: `missing_credentials`)", body = bakery_config::http::ErrorBody),
        (status = 404, description = "`ingredient_not_found` (or `not_found`: the id is not a UUID)", body = bakery_config::http::ErrorBody),
    )
)]
pub async fn get_ingredient(
    identity: Identity,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, InventoryError> {
    let view = ingredients::find(&mut *state.conn().await?, identity.tenant_id, *id).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[utoipa::path(
    post,
    path = "/api/inventory/ingredients",
    tag = "ingredients",
    request_body = crate::models::ingredients::IngredientInput,
    responses(
        (status = 201, description = "Created", body = crate::models::ingredients::IngredientView),
        (status = 401, description = "`unauthorized`: no identity (through the gateway: `missing_credentials`)", body = bakery_config::http::ErrorBody),
        (status = 403, description = "`read_only`: the role may only read", body = bakery_config::http::ErrorBody),
        (status = 429, description = "`demo_quota` + `Retry-After`: a demo session's write quota", body = bakery_config::http::ErrorBody),
        (status = 409, description = "`conflict`: the name is taken", body = bakery_config::http::ErrorBody),
        (status = 422, description = "`invalid_input`", body = bakery_config::http::ErrorBody),
    )
)]
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

#[utoipa::path(
    put,
    path = "/api/inventory/ingredients/{id}",
    tag = "ingredients",
    params(("id" = uuid::Uuid, Path)),
    request_body = crate::models::ingredients::IngredientInput,
    responses(
        (status = 200, description = "Updated", body = crate::models::ingredients::IngredientView),
        (status = 401, description = "`unauthorized`: no identity (through the gateway: `missing_credentials`)", body = bakery_config::http::ErrorBody),
        (status = 403, description = "`read_only`: the role may only read", body = bakery_config::http::ErrorBody),
        (status = 429, description = "`demo_quota` + `Retry-After`: a demo session's write quota", body = bakery_config::http::ErrorBody),
        (status = 404, description = "`ingredient_not_found`", body = bakery_config::http::ErrorBody),
        (status = 409, description = "`conflict`: the name is taken", body = bakery_config::http::ErrorBody),
        (status = 422, description = "`invalid_input`", body = bakery_config::http::ErrorBody),
    )
)]
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

#[utoipa::path(
    delete,
    path = "/api/inventory/ingredients/{id}",
    tag = "ingredients",
    params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "`unauthorized`: no identity (through the gateway: `missing_credentials`)", body = bakery_config::http::ErrorBody),
        (status = 403, description = "`read_only`: the role may only read", body = bakery_config::http::ErrorBody),
        (status = 429, description = "`demo_quota` + `Retry-After`: a demo session's write quota", body = bakery_config::http::ErrorBody),
        (status = 404, description = "`ingredient_not_found`", body = bakery_config::http::ErrorBody),
        (status = 409, description = "`in_use`: recipes or lots refer to it", body = bakery_config::http::ErrorBody),
    )
)]
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

#[utoipa::path(
    get,
    path = "/api/inventory/stock-lots",
    tag = "stock",
    params(bakery_config::pagination::PageParams, crate::models::stock::LotFilter),
    responses(
        (status = 200, description = "A page of stock lots", body = bakery_config::pagination::Paginated<crate::models::stock::StockLot>),
        (status = 401, description = "`unauthorized`: no identity (through the gateway: `missing_credentials`)", body = bakery_config::http::ErrorBody),
        (status = 400, description = "`invalid_query`: `limit`/`offset` out of range", body = bakery_config::http::ErrorBody),
    )
)]
pub async fn list_lots(
    identity: Identity,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
    filter: web::Query<LotFilter>,
) -> Result<HttpResponse, InventoryError> {
    let page = pagination::page(page.into_inner())?;
    let mut conn = state.conn().await?;
    let lots = stock::list_lots(
        &mut conn,
        identity.tenant_id,
        identity.time_zone,
        &filter,
        page,
    )
    .await?;
    Ok(HttpResponse::Ok().json(lots))
}

#[utoipa::path(
    post,
    path = "/api/inventory/adjustments",
    tag = "stock",
    request_body = crate::models::stock::AdjustmentRequest,
    responses(
        (status = 201, description = "Adjusted", body = crate::models::stock::AdjustmentOutcome),
        (status = 401, description = "`unauthorized`: no identity (through the gateway: `missing_credentials`)", body = bakery_config::http::ErrorBody),
        (status = 403, description = "`read_only`: the role may only read", body = bakery_config::http::ErrorBody),
        (status = 429, description = "`demo_quota` + `Retry-After`: a demo session's write quota", body = bakery_config::http::ErrorBody),
        (status = 422, description = "`invalid_input`, `insufficient_stock`, `unknown_…`: an item that does not exist", body = bakery_config::http::ErrorBody),
    )
)]
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
