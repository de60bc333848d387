//! `/api/products` and `/api/recipes`.

use actix_web::{HttpResponse, web};
use bakery_config::auth::Identity;
use uuid::Uuid;

use super::{may_write, read_through};
use crate::cache::CachedList;
use crate::error::InventoryError;
use crate::models::recipes::{RecipeChange, RecipeInput};
use crate::models::{products, recipes};
use crate::pagination::{self, PageParams};
use crate::startup::AppState;

#[utoipa::path(
    get,
    path = "/api/products",
    tag = "products",
    params(bakery_config::pagination::PageParams),
    responses(
        (status = 200, description = "A page of products", body = bakery_config::pagination::Paginated<crate::models::products::ProductView>),
        (status = 401, description = "`unauthorized`: no identity (through the gateway: `missing_credentials`)", body = bakery_config::http::ErrorBody),
        (status = 400, description = "`invalid_query`: `limit`/`offset` out of range", body = bakery_config::http::ErrorBody),
    )
)]
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

#[utoipa::path(
    get,
    path = "/api/products/{id}",
    tag = "products",
    params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 200, description = "The product", body = crate::models::products::ProductView),
        (status = 401, description = "`unauthorized`: no identity (through the gateway: `missing_credentials`)", body = bakery_config::http::ErrorBody),
        (status = 404, description = "`product_not_found` (or `not_found`: the id is not a UUID)", body = bakery_config::http::ErrorBody),
    )
)]
pub async fn get_product(
    identity: Identity,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, InventoryError> {
    let view = products::find(&mut *state.conn().await?, identity.tenant_id, *id).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[utoipa::path(
    get,
    path = "/api/recipes",
    tag = "products",
    params(bakery_config::pagination::PageParams),
    responses(
        (status = 200, description = "A page of recipes", body = bakery_config::pagination::Paginated<crate::models::recipes::RecipeView>),
        (status = 401, description = "`unauthorized`: no identity (through the gateway: `missing_credentials`)", body = bakery_config::http::ErrorBody),
        (status = 400, description = "`invalid_query`: `limit`/`offset` out of range", body = bakery_config::http::ErrorBody),
    )
)]
pub async fn list_recipes(
    identity: Identity,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, InventoryError> {
    let page = pagination::page(page.into_inner())?;
    let list = recipes::list(&mut *state.conn().await?, identity.tenant_id, page).await?;
    Ok(HttpResponse::Ok().json(list))
}

#[utoipa::path(
    put,
    path = "/api/recipes/{id}",
    tag = "products",
    params(("id" = uuid::Uuid, Path)),
    request_body = crate::models::recipes::RecipeInput,
    responses(
        (status = 200, description = "The recipe as it is now, with its new costs", body = crate::models::recipes::RecipeView),
        (status = 401, description = "`unauthorized`: no identity (through the gateway: `missing_credentials`)", body = bakery_config::http::ErrorBody),
        (status = 403, description = "`read_only`: the role may only read", body = bakery_config::http::ErrorBody),
        (status = 429, description = "`demo_quota` + `Retry-After`: a demo session's write quota", body = bakery_config::http::ErrorBody),
        (status = 404, description = "`recipe_not_found`", body = bakery_config::http::ErrorBody),
        (status = 422, description = "`invalid_input`, `unknown_ingredient`", body = bakery_config::http::ErrorBody),
    )
)]
pub async fn update_recipe(
    identity: Identity,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: web::Json<RecipeInput>,
) -> Result<HttpResponse, InventoryError> {
    let scope = may_write(&state, &identity).await?;
    let tenant = scope.tenant;
    let change = RecipeChange::try_from(body.into_inner())?;
    let view = recipes::update(&mut *state.conn().await?, scope, *id, &change).await?;
    // products show their recipe's cost
    state.cache.invalidate(tenant).await;
    Ok(HttpResponse::Ok().json(view))
}
