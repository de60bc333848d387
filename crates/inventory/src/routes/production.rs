//! `/api/production/batches`.

use actix_web::{HttpResponse, web};
use bakery_config::auth::Identity;

use super::may_write;
use crate::error::InventoryError;
use crate::models::production::{self, BatchOrder, BatchRequest};
use crate::pagination::{self, PageParams};
use crate::startup::AppState;

#[utoipa::path(
    get,
    path = "/api/production/batches",
    tag = "production",
    params(bakery_config::pagination::PageParams),
    responses(
        (status = 200, description = "A page of production batches", body = bakery_config::pagination::Paginated<crate::models::production::ProductionBatch>),
        (status = 401, description = "`unauthorized`: no identity (through the gateway: `missing_credentials`)", body = bakery_config::http::ErrorBody),
        (status = 400, description = "`invalid_query`: `limit`/`offset` out of range", body = bakery_config::http::ErrorBody),
    )
)]
pub async fn list_batches(
    identity: Identity,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, InventoryError> {
    let page = pagination::page(page.into_inner())?;
    let list = production::list(&mut *state.conn().await?, identity.tenant_id, page).await?;
    Ok(HttpResponse::Ok().json(list))
}

#[utoipa::path(
    post,
    path = "/api/production/batches",
    tag = "production",
    request_body = crate::models::production::BatchRequest,
    responses(
        (status = 201, description = "Produced", body = crate::models::production::BatchOutcome),
        (status = 401, description = "`unauthorized`: no identity (through the gateway: `missing_credentials`)", body = bakery_config::http::ErrorBody),
        (status = 403, description = "`read_only`: the role may only read", body = bakery_config::http::ErrorBody),
        (status = 429, description = "`demo_quota` + `Retry-After`: a demo session's write quota", body = bakery_config::http::ErrorBody),
        (status = 422, description = "`invalid_input`, `insufficient_stock`, `unknown_…`", body = bakery_config::http::ErrorBody),
    )
)]
pub async fn create_batch(
    identity: Identity,
    state: web::Data<AppState>,
    body: web::Json<BatchRequest>,
) -> Result<HttpResponse, InventoryError> {
    let scope = may_write(&state, &identity).await?;
    let tenant = scope.tenant;
    let order = BatchOrder::try_from(body.into_inner())?;
    let outcome = production::produce(&mut *state.conn().await?, scope, &order).await?;
    state.cache.invalidate(tenant).await;
    Ok(HttpResponse::Created().json(outcome))
}
