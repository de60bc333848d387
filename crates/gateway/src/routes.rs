//! The routing table: which upstream serves a path prefix, which routes need no
//! credential, and what the gateway answers itself (the web page, the demo policy).
//!
//! Prefixes match whole segments of the normalised, lower-case path (`/api/orders`
//! matches `/api/orders` and `/api/orders/7`, never `/api/ordersx`).

use actix_web::http::Method;
use bakery_config::openapi::AllowedMethods;

use crate::assets::{self, Asset};
use crate::error::GatewayError;
use crate::request::CheckedRequest;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Upstream {
    DemoSession = 0,
    Tenant = 1,
    Inventory = 2,
}

impl Upstream {
    pub const ALL: [Upstream; 3] = [Upstream::DemoSession, Upstream::Tenant, Upstream::Inventory];

    /// The `upstream` label of the gateway's metrics.
    pub fn label(self) -> &'static str {
        match self {
            Upstream::DemoSession => "demo_session",
            Upstream::Tenant => "tenant",
            Upstream::Inventory => "inventory",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Upstream::DemoSession => "demo-session",
            Upstream::Tenant => "tenant-service",
            Upstream::Inventory => "inventory-service",
        }
    }
}

/// Path prefix → upstream.
pub const TABLE: &[(&str, Upstream)] = &[
    ("/api/demo", Upstream::DemoSession),
    ("/api/auth", Upstream::Tenant),
    ("/api/tenants", Upstream::Tenant),
    ("/api/inventory", Upstream::Inventory),
    ("/api/products", Upstream::Inventory),
    ("/api/recipes", Upstream::Inventory),
    ("/api/production", Upstream::Inventory),
    ("/api/suppliers", Upstream::Inventory),
    ("/api/orders", Upstream::Inventory),
    ("/api/sales", Upstream::Inventory),
    ("/api/pos", Upstream::Inventory),
    ("/api/forecasts", Upstream::Inventory),
];

/// Who may call a proxied route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No credential needed; none is forwarded.
    Public,
    /// No credential needed; `X-Admin-Key` is forwarded for the upstream to check.
    Admin,
    /// A customer access token or a demo session; an identity is forwarded.
    Authenticated,
}

/// What the gateway does with a request.
#[derive(Debug, Clone, Copy)]
pub enum Destination {
    Asset(&'static Asset),
    Policy,
    OpenApi,
    Proxy { upstream: Upstream, access: Access },
}

/// Whether `path` is `prefix` or below it.
fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// `Allow` of what the gateway answers itself (the page, the policy, this document).
pub const READ_ONLY: &str = "GET, HEAD, OPTIONS";

/// `Allow` of a path under an API prefix that no document lists: every method the gateway
/// forwards (the upstream decides; it answers `404` for such a path).
pub const FORWARDED: &str = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";

/// Where `req` goes. `allowed` (from the OpenAPI document, which each service's tests keep
/// equal to its routes) refuses a method a documented path does not answer with `405` and
/// its `Allow`, before any credential is read.
pub fn resolve(
    req: &CheckedRequest,
    allowed: &AllowedMethods,
) -> Result<Destination, GatewayError> {
    let path = req.match_path.as_str();
    let readonly = req.method == Method::GET || req.method == Method::HEAD;
    if let Some(asset) = assets::find(&req.path) {
        return if readonly {
            Ok(Destination::Asset(asset))
        } else {
            Err(GatewayError::MethodNotAllowed(READ_ONLY.into()))
        };
    }
    if let Some(own) = own_route(path) {
        return if readonly {
            Ok(own)
        } else {
            Err(GatewayError::MethodNotAllowed(READ_ONLY.into()))
        };
    }
    let upstream = upstream(path).ok_or(GatewayError::RouteNotFound)?;
    let answered = match allowed.allows(path, &req.method) {
        Some(answered) => answered,
        None => FORWARDED.split(", ").any(|m| m == req.method.as_str()),
    };
    if !answered {
        let allow = allowed.allow(path).unwrap_or(FORWARDED);
        return Err(GatewayError::MethodNotAllowed(allow.to_owned().into()));
    }
    Ok(Destination::Proxy {
        upstream,
        access: access(&req.method, path),
    })
}

/// The `Allow` answer to `OPTIONS`: the documented methods of the path (plus `HEAD` with
/// `GET`, and `OPTIONS`); each request is still checked on its own.
pub fn allowed_methods<'a>(
    req: &CheckedRequest,
    allowed: &'a AllowedMethods,
) -> Result<&'a str, GatewayError> {
    let path = req.match_path.as_str();
    if assets::find(&req.path).is_some() || own_route(path).is_some() {
        return Ok(READ_ONLY);
    }
    if upstream(path).is_none() {
        return Err(GatewayError::RouteNotFound);
    }
    Ok(allowed.allow(path).unwrap_or(FORWARDED))
}

/// Whether the gateway answers `path` (normalised, lower-case) itself.
pub fn answered_by_gateway(path: &str) -> bool {
    own_route(path).is_some()
}

/// The API routes the gateway answers itself (`GET`/`HEAD` only).
fn own_route(path: &str) -> Option<Destination> {
    match path {
        "/api/demo/policy" => Some(Destination::Policy),
        "/api/openapi.json" => Some(Destination::OpenApi),
        _ => None,
    }
}

/// Whether `path` (normalised, lower-case) goes to an upstream, and which.
pub fn upstream(path: &str) -> Option<Upstream> {
    prefix(path).map(|(_, upstream)| upstream)
}

/// The [`TABLE`] entry `path` (normalised, lower-case) falls under.
pub fn prefix(path: &str) -> Option<(&'static str, Upstream)> {
    TABLE
        .iter()
        .find(|(prefix, _)| under(path, prefix))
        .copied()
}

/// The `http_route` label of a request the gateway answers: its own route, or the routing
/// table's prefix it is forwarded under (a bounded set, never the raw path).
pub fn metric_route(destination: &Destination, path: &str) -> &'static str {
    match destination {
        Destination::Asset(_) => "/{asset}",
        Destination::Policy => "/api/demo/policy",
        Destination::OpenApi => "/api/openapi.json",
        Destination::Proxy { .. } => prefix(path).map_or("unmatched", |(prefix, _)| prefix),
    }
}

/// Who may call `method path` (normalised, lower-case) once it is proxied.
pub fn access(method: &Method, path: &str) -> Access {
    // at most six segments are looked at: no allocation on the request path
    let mut parts = path.split('/').skip(1);
    let mut segments = [""; 6];
    let mut n = 0;
    for (slot, part) in segments.iter_mut().zip(parts.by_ref()) {
        *slot = part;
        n += 1;
    }
    if parts.next().is_some() {
        return Access::Authenticated;
    }
    let get = method == Method::GET || method == Method::HEAD;
    let post = method == Method::POST;
    match segments.get(..n).unwrap_or_default() {
        ["api", "demo", "accounts"] if get => Access::Public,
        ["api", "demo", "session", "create"] if post => Access::Public,
        ["api", "demo", "session", _] if get || method == Method::DELETE => Access::Public,
        ["api", "demo", "session", _, "extend"] if post => Access::Public,
        ["api", "demo", "queue", _] if get => Access::Public,
        ["api", "auth", "login"] if post => Access::Public,
        ["api", "demo", "stats"] if get => Access::Admin,
        ["api", "demo", "cleanup", "run"] if post => Access::Admin,
        _ => Access::Authenticated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(method: Method, path: &str) -> CheckedRequest {
        let path = crate::request::canonical_path(path).expect("valid path");
        CheckedRequest {
            method,
            match_path: path.to_ascii_lowercase(),
            forward_path: path.clone(),
            path,
            query: None,
        }
    }

    fn upstream(method: Method, path: &str) -> Option<(Upstream, Access)> {
        match resolve(&checked(method, path), &AllowedMethods::default()) {
            Ok(Destination::Proxy { upstream, access }) => Some((upstream, access)),
            _ => None,
        }
    }

    #[test]
    fn prefixes_route_to_their_upstream() {
        use Access::*;
        use Upstream::*;
        let cases = [
            (
                Method::POST,
                "/api/demo/session/create",
                Some((DemoSession, Public)),
            ),
            (
                Method::GET,
                "/api/demo/session/demo_x",
                Some((DemoSession, Public)),
            ),
            (
                Method::DELETE,
                "/api/demo/session/demo_x",
                Some((DemoSession, Public)),
            ),
            (
                Method::POST,
                "/api/demo/session/demo_x/extend",
                Some((DemoSession, Public)),
            ),
            (
                Method::GET,
                "/api/demo/accounts",
                Some((DemoSession, Public)),
            ),
            (
                Method::GET,
                "/api/demo/queue/q_0123456789abcdefghijklmnopqrstuv",
                Some((DemoSession, Public)),
            ),
            (
                Method::POST,
                "/api/demo/queue/q_0123456789abcdefghijklmnopqrstuv",
                Some((DemoSession, Authenticated)),
            ),
            (
                Method::GET,
                "/api/demo/session/demo_x/extend/more/than/six",
                Some((DemoSession, Authenticated)),
            ),
            (Method::GET, "/api/demo/stats", Some((DemoSession, Admin))),
            (
                Method::POST,
                "/api/demo/cleanup/run",
                Some((DemoSession, Admin)),
            ),
            (Method::POST, "/api/auth/login", Some((Tenant, Public))),
            (
                Method::GET,
                "/api/tenants/me",
                Some((Tenant, Authenticated)),
            ),
            (
                Method::GET,
                "/API/Inventory/ingredients",
                Some((Inventory, Authenticated)),
            ),
            (
                Method::POST,
                "/api/pos/sales",
                Some((Inventory, Authenticated)),
            ),
            (
                Method::GET,
                "/api/forecasts",
                Some((Inventory, Authenticated)),
            ),
            (Method::GET, "/api/ordersx", None),
            (Method::GET, "/internal/tenants", None),
            (Method::GET, "/api", None),
        ];
        for (method, path, expected) in cases {
            assert_eq!(upstream(method.clone(), path), expected, "{method} {path}");
        }
    }

    #[test]
    fn the_gateway_answers_the_page_and_the_policy() {
        assert!(matches!(
            resolve(&checked(Method::GET, "/"), &AllowedMethods::default()),
            Ok(Destination::Asset(_))
        ));
        assert!(matches!(
            resolve(
                &checked(Method::GET, "/api/demo/policy/"),
                &AllowedMethods::default()
            ),
            Ok(Destination::Policy)
        ));
        assert!(matches!(
            resolve(&checked(Method::POST, "/api/demo/policy"), &AllowedMethods::default()),
            Err(GatewayError::MethodNotAllowed(allow)) if allow == READ_ONLY
        ));
    }
}
