//! `/api/sales` and `/api/pos/sales`.

use actix_web::{HttpResponse, web};
use bakery_config::auth::Identity;

use super::may_write;
use crate::error::InventoryError;
use crate::models::sales::{self, PosSale, PosSaleRequest, SalesFilter};
use crate::models::sales_summary::{self, SummaryParams, SummaryRange};
use crate::pagination::{self, PageParams};
use crate::startup::AppState;

#[utoipa::path(
    get,
    path = "/api/sales",
    tag = "sales",
    params(bakery_config::pagination::PageParams, crate::models::sales::SalesFilter),
    responses(
        (status = 200, description = "A page of sales, newest first, and where the next one starts", body = crate::models::sales::SalesPage),
        (status = 401, description = "`unauthorized`: no identity (through the gateway: `missing_credentials`)", body = bakery_config::http::ErrorBody),
        (status = 400, description = "`invalid_query`: `limit`/`offset` out of range (`offset` at most 1000), an `after` that is not a `next_cursor`, or both `after` and `offset`", body = bakery_config::http::ErrorBody),
    )
)]
pub async fn list_sales(
    identity: Identity,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
    filter: web::Query<SalesFilter>,
) -> Result<HttpResponse, InventoryError> {
    let page = pagination::page(page.into_inner())?;
    let mut conn = state.conn().await?;
    let list = sales::list(
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
    get,
    path = "/api/sales/summary",
    tag = "sales",
    params(crate::models::sales_summary::SummaryParams),
    responses(
        (status = 200, description = "Tickets and takings per day, per hour of the day and per payment method, in the bakery's time zone", body = crate::models::sales_summary::SalesSummary),
        (status = 401, description = "`unauthorized`: no identity (through the gateway: `missing_credentials`)", body = bakery_config::http::ErrorBody),
        (status = 400, description = "`invalid_query`: `from`/`to` missing, reversed or more than 92 days apart, or `tz` not an IANA time zone", body = bakery_config::http::ErrorBody),
    )
)]
pub async fn sales_summary(
    identity: Identity,
    state: web::Data<AppState>,
    params: web::Query<SummaryParams>,
) -> Result<HttpResponse, InventoryError> {
    let range = SummaryRange::parse(&params, identity.time_zone)?;
    let summary =
        sales_summary::summary(&mut *state.conn().await?, identity.tenant_id, range).await?;
    Ok(HttpResponse::Ok().json(summary))
}

#[utoipa::path(
    post,
    path = "/api/pos/sales",
    tag = "sales",
    request_body = crate::models::sales::PosSaleRequest,
    responses(
        (status = 201, description = "Sold", body = crate::models::sales::PosSaleOutcome),
        (status = 401, description = "`unauthorized`: no identity (through the gateway: `missing_credentials`)", body = bakery_config::http::ErrorBody),
        (status = 403, description = "`read_only`: the role may only read", body = bakery_config::http::ErrorBody),
        (status = 429, description = "`demo_quota` + `Retry-After`: a demo session's write quota", body = bakery_config::http::ErrorBody),
        (status = 422, description = "`invalid_input`, `insufficient_stock`, `unknown_…`", body = bakery_config::http::ErrorBody),
    )
)]
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
