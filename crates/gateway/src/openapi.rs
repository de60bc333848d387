//! `GET /api/openapi.json`: the OpenAPI 3.1 document of the public API. Each service
//! documents its own handlers (`bakery_*::openapi`); this module merges their documents,
//! adds what the gateway answers itself, and writes the gateway's rules into every
//! operation: who may call it (`routes::access` and the demo policy, as security
//! requirements) and the errors the gateway itself may answer.
//!
//! Tests: `tests/api/openapi.rs` (every `$ref` resolves, every operation is routed, the
//! security follows the policy); each service's tests compare its route table with its
//! document; `scripts/fuzz-api.sh` runs schemathesis against the stack with it.

use actix_web::http::Method;
use bakery_config::openapi::{error_response, operations_mut};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi, RefOr, SecurityRequirement};
use utoipa::{Modify, OpenApi as _};

use crate::policy::{DemoPolicy, Policy};
use crate::routes::{self, Access};

/// The security scheme names the document uses.
pub const DEMO_SESSION: &str = "demo_session";
pub const BEARER: &str = "bearer";
pub const ADMIN_KEY: &str = "admin_key";

/// What the gateway answers itself.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Bakery-IA public API",
        description = "Everything reached through the gateway. Errors are JSON everywhere: \
            `{\"error\": code, \"message\": Spanish text}`. `HEAD` answers like `GET` without a \
            body; `OPTIONS` is answered by the gateway (`204` + `Allow`). Generated from the \
            code (docs/api.md)."
    ),
    paths(health, ready, policy, openapi_json),
    components(schemas(bakery_config::http::ErrorBody, DemoPolicy)),
    tags((name = "gateway", description = "Answered by the gateway itself"))
)]
struct GatewayDoc;

/// Liveness.
#[utoipa::path(get, path = "/health", tag = "gateway",
    responses((status = 200, description = "`{\"status\": \"ok\"}`", body = Object)))]
#[expect(dead_code, reason = "documents the shared server's route")]
fn health() {}

/// Readiness: every upstream's `/health` answers within 2 s.
#[utoipa::path(get, path = "/ready", tag = "gateway",
    responses(
        (status = 200, description = "`{\"status\": \"ready\", \"checks\": {…}}`", body = Object),
        (status = 503, description = "`{\"status\": \"not_ready\", \"checks\": {…}}`", body = Object),
    ))]
#[expect(dead_code, reason = "documents the shared server's route")]
fn ready() {}

/// The demo policy in effect, for the web page.
#[utoipa::path(get, path = "/api/demo/policy", tag = "gateway",
    responses((status = 200, description = "The demo policy", body = DemoPolicy)))]
#[expect(dead_code, reason = "documents a route the handler answers")]
fn policy() {}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "gateway",
    responses((status = 200, description = "OpenAPI 3.1", body = Object)))]
#[expect(dead_code, reason = "documents a route the handler answers")]
fn openapi_json() {}

/// The whole document for the gateway running `policy`.
pub fn document(policy: &Policy) -> OpenApi {
    let mut api = GatewayDoc::openapi();
    api.merge(bakery_demo_session::openapi::document());
    api.merge(bakery_tenant::openapi::document());
    api.merge(bakery_inventory::openapi::document());
    Rules { policy }.modify(&mut api);
    api
}

/// The document as served: [`document`] plus the links between operations.
pub fn render(policy: &Policy) -> anyhow::Result<serde_json::Value> {
    let mut api = serde_json::to_value(document(policy))?;
    link_session_operations(&mut api);
    Ok(api)
}

/// Links from a created session to what can be done with it (read, extend, end): what
/// schemathesis's stateful phase follows. Written into the JSON because utoipa 5.5
/// serialises a link's `operationId` as `operation_id`.
fn link_session_operations(api: &mut serde_json::Value) {
    let Some(created) = api.pointer_mut("/paths/~1api~1demo~1session~1create/post/responses/201")
    else {
        return;
    };
    let links: serde_json::Map<String, serde_json::Value> = [
        ("GetSession", "get_session"),
        ("ExtendSession", "extend"),
        ("EndSession", "destroy"),
    ]
    .into_iter()
    .map(|(name, operation)| {
        (
            name.to_owned(),
            serde_json::json!({
                "operationId": operation,
                "parameters": {"id": "$response.body#/session_id"},
            }),
        )
    })
    .collect();
    if let Some(answer) = created.as_object_mut() {
        answer.insert("links".to_owned(), links.into());
    }
}

/// A concrete path for a templated one (`{id}` → `x`), lower-case, as routing sees it.
pub fn sample_path(template: &str) -> String {
    template
        .split('/')
        .map(|s| if s.starts_with('{') { "x" } else { s })
        .collect::<Vec<_>>()
        .join("/")
        .to_ascii_lowercase()
}

/// The gateway's rules, written into the document.
struct Rules<'a> {
    policy: &'a Policy,
}

impl Modify for Rules<'_> {
    fn modify(&self, api: &mut OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            DEMO_SESSION,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Demo-Session-Id",
                "A demo session id (`demo_…`) from `POST /api/demo/session/create`.",
            ))),
        );
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A customer's access token from `POST /api/auth/login`, or a demo \
                         session's `session_token` (then the demo policy applies).",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            ADMIN_KEY,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Admin-Key",
                "The operators' key (`DEMO_ADMIN_KEY`); passed through to demo-session only \
                 on the admin routes.",
            ))),
        );
        for (path, method, op) in operations_mut(api) {
            let sample = sample_path(path);
            let Ok(method) = method.to_ascii_uppercase().parse::<Method>() else {
                continue;
            };
            if routes::answered_by_gateway(&sample) {
                continue; // answered by the gateway itself: public
            }
            let Some(access) = routes::upstream(&sample).map(|_| routes::access(&method, &sample))
            else {
                continue; // answered by the gateway itself: public
            };
            let mut errors = vec![(
                "400",
                "`ambiguous_request` (gateway): the request target or headers can be read more \
                 than one way",
            )];
            if op.request_body.is_some() {
                errors.push(("413", "`payload_too_large` (gateway)"));
            }
            errors.push(("502", "`upstream_unavailable` (gateway)"));
            errors.push(("504", "`upstream_timeout` (gateway)"));
            match access {
                Access::Public => {}
                Access::Admin => {
                    op.security = Some(vec![SecurityRequirement::new(
                        ADMIN_KEY,
                        Vec::<String>::new(),
                    )]);
                }
                Access::Authenticated => {
                    let demo = self.policy.check(method.as_str(), &sample).is_ok();
                    let mut security = vec![SecurityRequirement::new(BEARER, Vec::<String>::new())];
                    if demo {
                        security.push(SecurityRequirement::new(DEMO_SESSION, Vec::<String>::new()));
                    }
                    op.security = Some(security);
                    errors.extend([
                        (
                            "401",
                            "`missing_credentials`, `invalid_credentials`, `credentials_expired`, \
                             `session_not_found`, `session_expired` (gateway)",
                        ),
                        (
                            "403",
                            if demo {
                                "`demo_restriction`: refused by the demo policy for a demo \
                                 session; `template_tenant` (gateway)"
                            } else {
                                "`demo_restriction`: never allowed for demo sessions; \
                                 `template_tenant` (gateway)"
                            },
                        ),
                        (
                            "429",
                            "`too_many_failures` + `Retry-After`: too many refused credentials \
                             from this client; `demo_quota` (gateway)",
                        ),
                        (
                            "503",
                            "`session_lookup_unavailable` (gateway): the session could not be \
                             looked up",
                        ),
                    ]);
                    if demo {
                        errors.push(("409", "`session_not_ready`: the demo session is still being prepared (gateway)"));
                    }
                }
            }
            for (status, description) in errors {
                match op.responses.responses.get_mut(status) {
                    Some(RefOr::T(existing)) => {
                        existing.description = format!("{}; {description}", existing.description);
                    }
                    Some(RefOr::Ref(_)) => {}
                    None => {
                        op.responses
                            .responses
                            .insert(status.to_owned(), RefOr::T(error_response(description)));
                    }
                }
            }
        }
    }
}
