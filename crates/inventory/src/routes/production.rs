//! `/api/production/batches`.

use actix_web::{HttpResponse, web};
use bakery_config::auth::Identity;

use super::may_write;
use crate::error::InventoryError;
use crate::models::production::{self, BatchOrder, BatchRequest};
use crate::pagination::{self, PageParams};
use crate::startup::AppState;

pub async fn list_batches(
    identity: Identity,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, InventoryError> {
    let page = pagination::page(page.into_inner())?;
    let list = production::list(&mut *state.conn().await?, identity.tenant_id, page).await?;
    Ok(HttpResponse::Ok().json(list))
}

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
