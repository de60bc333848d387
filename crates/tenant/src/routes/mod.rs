//! tenant-service routes. Handlers extract, call the model layer, answer; failures are
//! `TenantError`s.
//!
//! - `POST /api/auth/login` ([`auth`]): customers get an access token, demo accounts a demo
//!   session.
//! - `GET /api/tenants/me` ([`tenants`]): the caller's own tenant.
//! - `GET /internal/tenants` ([`internal`]): tenants for other services (service identity).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError, web};
use bakery_config::http::ApiError;

pub mod auth;
pub mod internal;
pub mod tenants;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api/auth/login")
            .route(web::post().to(auth::login))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/api/tenants/me")
            .route(web::get().to(tenants::me))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/internal/tenants")
            .route(web::get().to(internal::list_tenants))
            .default_service(web::to(method_not_allowed)),
    );
}

/// A known path with the wrong method: `405` in the JSON envelope.
async fn method_not_allowed() -> HttpResponse {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Método no permitido en esta ruta.",
    )
    .error_response()
}
