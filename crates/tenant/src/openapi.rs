//! The OpenAPI document of tenant-service's public routes (the gateway merges it into
//! `GET /api/openapi.json`). `tests/api/openapi.rs` checks it against the route table.

use bakery_config::openapi::CommonErrors;
use utoipa::OpenApi;

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    paths(routes::auth::login, routes::tenants::me),
    components(schemas(bakery_config::http::ErrorBody)),
    modifiers(&CommonErrors),
    tags(
        (name = "auth", description = "Login (tenant-service)"),
        (name = "tenants", description = "Tenants (tenant-service)"),
    )
)]
pub struct ApiDoc;

/// Routes the route table has on purpose without a public operation: the gateway never
/// forwards `/internal/*` (`404 route_not_found`).
pub const INTERNAL_ROUTES: &[(&str, &str)] = &[("GET", "/internal/tenants")];

/// The document.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
