//! tenant-service routes. Handlers extract, call the model layer, answer; failures are
//! `TenantError`s.
//!
//! - `POST /api/auth/login` ([`auth`]): customers get an access token, demo accounts a demo
//!   session.
//! - `GET /api/tenants/me` ([`tenants`]): the caller's own tenant.
//! - `GET /internal/tenants` ([`internal`]): tenants for other services (service identity).

use actix_web::web;
use bakery_config::http::method_not_allowed;
use bakery_config::openapi::{AllowedMethods, operation_keys};

use crate::openapi::INTERNAL_ROUTES;

pub mod auth;
pub mod internal;
pub mod tenants;

pub fn configure(cfg: &mut web::ServiceConfig) {
    let documented = operation_keys(&crate::openapi::document());
    let internal = INTERNAL_ROUTES
        .iter()
        .map(|(method, path)| ((*method).to_owned(), (*path).to_owned()));
    cfg.app_data(AllowedMethods::from_routes(
        documented.into_iter().chain(internal),
        false,
    ));
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
