//! `/api/sales` and `/api/pos/sales`.

use actix_web::{HttpResponse, web};
use bakery_config::auth::Identity;

use super::may_write;
use crate::error::InventoryError;
use crate::models::sales::{self, PosSale, PosSaleRequest, SalesFilter};
use crate::pagination::{self, PageParams};
use crate::startup::AppState;

pub async fn list_sales(
    identity: Identity,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
    filter: web::Query<SalesFilter>,
) -> Result<HttpResponse, InventoryError> {
    let page = pagination::page(page.into_inner())?;
    let list = sales::list(&mut *state.conn().await?, identity.tenant_id, &filter, page).await?;
    Ok(HttpResponse::Ok().json(list))
}

pub async fn create_sale(
    identity: Identity,
    state: web::Data<AppState>,
    body: web::Json<PosSaleRequest>,
) -> Result<HttpResponse, InventoryError> {
    let scope = may_write(&state, &identity).await?;
    let tenant = scope.tenant;
    let sale = PosSale::try_from(body.into_inner())?;
    let outcome = sales::sell(&mut *state.conn().await?, scope, &sale).await?;
    state.cache.invalidate(tenant).await;
    Ok(HttpResponse::Created().json(outcome))
}
