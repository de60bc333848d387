//! `/api/forecasts/…`.

use actix_web::{HttpResponse, web};
use bakery_config::auth::Identity;
use uuid::Uuid;

use crate::error::InventoryError;
use crate::models::forecasts::{self, ForecastParams};
use crate::pagination::{self, PageParams};
use crate::startup::AppState;

#[utoipa::path(
    get,
    path = "/api/forecasts/{product_id}",
    tag = "forecasts",
    params(("product_id" = uuid::Uuid, Path), crate::models::forecasts::ForecastParams),
    responses(
        (status = 200, description = "The forecast", body = crate::models::forecasts::Forecast),
        (status = 401, description = "`unauthorized`: no identity (through the gateway: `missing_credentials`)", body = bakery_config::http::ErrorBody),
        (status = 400, description = "`invalid_query`: `days` out of 1..=30", body = bakery_config::http::ErrorBody),
        (status = 404, description = "`product_not_found` (or `not_found`: the id is not a UUID)", body = bakery_config::http::ErrorBody),
    )
)]
pub async fn get_forecast(
    identity: Identity,
    state: web::Data<AppState>,
    product_id: web::Path<Uuid>,
    params: web::Query<ForecastParams>,
) -> Result<HttpResponse, InventoryError> {
    let days = params.into_inner().days()?;
    let forecast = forecasts::forecast(
        &mut *state.conn().await?,
        identity.tenant_id,
        identity.time_zone,
        *product_id,
        days,
    )
    .await?;
    Ok(HttpResponse::Ok().json(forecast))
}

#[utoipa::path(
    get,
    path = "/api/forecasts/models",
    tag = "forecasts",
    params(bakery_config::pagination::PageParams),
    responses(
        (status = 200, description = "A page of forecast models", body = bakery_config::pagination::Paginated<crate::models::forecasts::ForecastModelView>),
        (status = 401, description = "`unauthorized`: no identity (through the gateway: `missing_credentials`)", body = bakery_config::http::ErrorBody),
        (status = 400, description = "`invalid_query`: `limit`/`offset` out of range", body = bakery_config::http::ErrorBody),
    )
)]
pub async fn list_models(
    identity: Identity,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, InventoryError> {
    let page = pagination::page(page.into_inner())?;
    let list = forecasts::list_models(&mut *state.conn().await?, identity.tenant_id, page).await?;
    Ok(HttpResponse::Ok().json(list))
}
