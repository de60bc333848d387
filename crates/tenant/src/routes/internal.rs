//! `GET /internal/tenants?demo=false&limit=&offset=`: for other services only.

use actix_web::{HttpResponse, web};
use bakery_config::auth::Identity;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{Page, TenantKind};
use crate::error::TenantError;
use crate::models::Tenant;
use crate::queries;
use crate::startup::AppState;

#[derive(Deserialize)]
pub struct ListQuery {
    demo: Option<bool>,
    limit: Option<i64>,
    offset: Option<i64>,
}

#[derive(Serialize)]
struct ListAnswer {
    tenants: Vec<TenantItem>,
    limit: i64,
    offset: i64,
    /// The `offset` of the next page, or `null` on the last one.
    next_offset: Option<i64>,
}

#[derive(Serialize)]
struct TenantItem {
    id: Uuid,
    name: String,
    slug: String,
    business_model: String,
    city: String,
    is_demo: bool,
    is_demo_template: bool,
}

impl From<Tenant> for TenantItem {
    fn from(t: Tenant) -> Self {
        TenantItem {
            id: t.id,
            name: t.name,
            slug: t.slug,
            business_model: t.business_model,
            city: t.city,
            is_demo: t.is_demo,
            is_demo_template: t.is_demo_template,
        }
    }
}

pub async fn list_tenants(
    identity: Identity,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, TenantError> {
    if !(identity.is_service() && identity.tenant_id.is_nil()) {
        return Err(TenantError::Forbidden(
            "Esta operación está reservada a los servicios internos.",
        ));
    }
    let ListQuery {
        demo,
        limit,
        offset,
    } = query.into_inner();
    let page = Page::parse(limit, offset).map_err(TenantError::InvalidQuery)?;
    let (tenants, more) = {
        let mut conn = state.pool.get().await?;
        queries::list_tenants(&mut conn, TenantKind::from(demo), page).await?
    };
    Ok(HttpResponse::Ok().json(ListAnswer {
        tenants: tenants.into_iter().map(TenantItem::from).collect(),
        limit: page.limit,
        offset: page.offset,
        next_offset: more.then_some(page.offset + page.limit),
    }))
}
