//! tenant-service routes. Handlers extract, call the model layer, answer; failures are
//! `TenantError`s.
//!
//! - `POST /api/auth/login` ([`auth`]): customers get an access token, demo accounts a demo
//!   session.
//! - `GET /api/tenants/me` ([`tenants`]): the caller's own tenant.
//! - `GET /internal/tenants` ([`internal`]): tenants for other services (service identity).

use actix_web::web;
use bakery_config::http::method_not_allowed;

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
