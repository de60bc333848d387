//! `/api/forecasts/…`.

use actix_web::{HttpResponse, web};
use bakery_config::auth::Identity;
use uuid::Uuid;

use crate::error::InventoryError;
use crate::models::forecasts::{self, ForecastParams};
use crate::pagination::{self, PageParams};
use crate::startup::AppState;

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
        *product_id,
        days,
    )
    .await?;
    Ok(HttpResponse::Ok().json(forecast))
}

pub async fn list_models(
    identity: Identity,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, InventoryError> {
    let page = pagination::page(page.into_inner())?;
    let list = forecasts::list_models(&mut *state.conn().await?, identity.tenant_id, page).await?;
    Ok(HttpResponse::Ok().json(list))
}
