//! `GET /api/tenants/me`.

use actix_web::{HttpResponse, web};
use bakery_config::auth::{Identity, ROLE_DEMO};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::error::TenantError;
use crate::models::Tenant;
use crate::queries;
use crate::startup::AppState;

/// The caller's tenant as the API shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TenantAnswer {
    id: Uuid,
    name: String,
    slug: String,
    business_model: String,
    city: String,
    country: String,
    timezone: String,
    is_demo: bool,
    demo_account_type: Option<String>,
    demo_expires_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl From<Tenant> for TenantAnswer {
    fn from(t: Tenant) -> Self {
        TenantAnswer {
            id: t.id,
            name: t.name,
            slug: t.slug,
            business_model: t.business_model,
            city: t.city,
            country: t.country,
            timezone: t.timezone,
            is_demo: t.is_demo,
            demo_account_type: t.demo_account_type,
            demo_expires_at: t.demo_expires_at,
            created_at: t.created_at,
        }
    }
}

/// The caller's own tenant (a demo session's: its virtual tenant).
#[utoipa::path(
    get,
    path = "/api/tenants/me",
    tag = "tenants",
    responses(
        (status = 200, description = "The caller's tenant", body = TenantAnswer),
        (status = 401, description = "`session_expired`: the demo session is over", body = bakery_config::http::ErrorBody),
        (status = 403, description = "`forbidden`: the identity may not use this route", body = bakery_config::http::ErrorBody),
        (status = 404, description = "`tenant_not_found`", body = bakery_config::http::ErrorBody),
    )
)]
pub async fn me(
    identity: Identity,
    state: web::Data<AppState>,
) -> Result<HttpResponse, TenantError> {
    if identity.is_service() {
        return Err(TenantError::Forbidden(
            "Una identidad de servicio no pertenece a ninguna panadería.",
        ));
    }
    let tenant = {
        let mut conn = state.pool.get().await?;
        queries::tenant_for(&mut conn, identity.tenant_id).await?
    }
    .ok_or(TenantError::TenantNotFound)?;
    check_reachable(&identity, &tenant, Utc::now())?;
    Ok(HttpResponse::Ok().json(TenantAnswer::from(tenant)))
}

/// Templates are never reachable; a virtual tenant only through its own live session, and
/// a demo session only reaches its virtual tenant.
fn check_reachable(
    identity: &Identity,
    tenant: &Tenant,
    now: DateTime<Utc>,
) -> Result<(), TenantError> {
    if tenant.is_demo_template {
        tracing::warn!(tenant_id = %tenant.id, sub = %identity.sub, "identity names a template tenant");
        return Err(TenantError::TenantNotFound);
    }
    let demo_identity = identity.is_demo() || identity.role == ROLE_DEMO;
    if demo_identity || tenant.is_demo {
        let same_session = tenant.is_demo
            && identity.demo_session_id.is_some()
            && identity.demo_session_id == tenant.demo_session_id;
        if !same_session {
            tracing::warn!(tenant_id = %tenant.id, sub = %identity.sub, "demo identity and tenant do not match");
            return Err(TenantError::TenantNotFound);
        }
        if tenant.demo_expires_at.is_none_or(|end| end <= now) {
            return Err(TenantError::SessionExpired);
        }
    }
    Ok(())
}
