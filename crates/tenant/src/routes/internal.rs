//! `GET /internal/tenants?demo=false&limit=&offset=`: for other services only.

use actix_web::{HttpResponse, web};
use bakery_config::auth::Identity;
use bakery_config::pagination::{PageError, PageLimits, PageParams};
use bakery_config::tenants::{TenantList, TenantSummary};
use serde::Deserialize;

use crate::domain::TenantKind;
use crate::error::TenantError;
use crate::queries;
use crate::startup::AppState;

/// The default is the maximum, so a client that does not page gets as much as allowed.
pub const LIMITS: PageLimits = PageLimits {
    default: 500,
    max: 500,
};

// `limit` and `offset` are read here rather than through a flattened `PageParams`: serde's
// `flatten` loses the query string's numbers (they arrive as text)
#[derive(Deserialize)]
pub struct ListQuery {
    demo: Option<bool>,
    limit: Option<i64>,
    offset: Option<i64>,
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
    let page = PageParams { limit, offset }.within(LIMITS).map_err(|e| {
        TenantError::InvalidQuery(match e {
            PageError::Limit { .. } => "`limit` debe estar entre 1 y 500.",
            PageError::NegativeOffset => "`offset` no puede ser negativo.",
        })
    })?;
    let (tenants, more) = {
        let mut conn = state.pool.get().await?;
        queries::list_tenants(&mut conn, TenantKind::from(demo), page).await?
    };
    Ok(HttpResponse::Ok().json(TenantList {
        tenants: tenants
            .into_iter()
            .map(|t| TenantSummary {
                time_zone: crate::access::time_zone_of(&t),
                id: t.id,
                name: t.name,
                slug: t.slug,
                business_model: t.business_model,
                city: t.city,
                is_demo: t.is_demo,
                is_demo_template: t.is_demo_template,
            })
            .collect(),
        limit: page.limit,
        offset: page.offset,
        next_offset: page.next_offset(more),
    }))
}

#[cfg(test)]
mod tests {
    use bakery_config::pagination::Page;

    use super::*;

    #[test]
    fn pages_are_bounded() {
        assert_eq!(
            PageParams::default().within(LIMITS),
            Ok(Page {
                limit: 500,
                offset: 0
            })
        );
        let page = |limit, offset| PageParams { limit, offset }.within(LIMITS);
        assert!(page(Some(501), None).is_err());
        assert!(page(Some(0), None).is_err());
        assert!(page(Some(10), Some(-1)).is_err());
    }
}
