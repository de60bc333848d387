//! The one handler every request other than `/health` and `/ready` goes through:
//! check the target, route it, say who the client is, authenticate, apply the demo
//! policy, forward.

use std::net::{IpAddr, Ipv4Addr};

use std::time::Duration;

use actix_web::http::header::RETRY_AFTER;
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::assets;
use crate::auth::Principal;
use crate::backoff::is_write;
use crate::error::GatewayError;
use crate::proxy::{Forward, WorkerPool};
use crate::request::CheckedRequest;
use crate::routes::{self, Access, Destination};
use crate::startup::AppState;

pub async fn gateway(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    pool: web::Data<WorkerPool>,
) -> Result<HttpResponse, GatewayError> {
    let checked = CheckedRequest::from_request(&req)?;
    if checked.method == Method::OPTIONS {
        // answered here, the same way for every route, before any credential is read
        return Ok(HttpResponse::NoContent()
            .insert_header(("Allow", routes::allowed_methods(&checked)?))
            .finish());
    }
    let (upstream, access) = match routes::resolve(&checked)? {
        Destination::Asset(asset) => return Ok(assets::respond(asset)),
        Destination::Policy => return Ok(HttpResponse::Ok().json(state.policy.document())),
        Destination::Proxy { upstream, access } => (upstream, access),
    };
    let peer = req
        .peer_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
    let client = state.trusted_proxies.client(peer, req.headers());
    // a demo session's write, which the write back-off may hold (crate::backoff)
    let mut demo_write: Option<String> = None;
    let identity = match access {
        Access::Authenticated => {
            let principal = state
                .auth
                .authenticate(&req, client, &state.sessions)
                .await?;
            if let Principal::Demo(session) = &principal {
                state
                    .policy
                    .check(checked.method.as_str(), &checked.match_path)
                    .map_err(|refusal| GatewayError::DemoRestriction(refusal.0))?;
                if is_write(&checked.method) {
                    state.write_backoff.check(&session.session_id)?;
                    demo_write = Some(session.session_id.clone());
                }
            }
            Some(state.sign(&principal)?)
        }
        Access::Public | Access::Admin => None,
    };
    let forward = Forward {
        pool: &pool,
        upstream,
        checked: &checked,
        identity,
        client: state.assert_client(client)?,
        pass_admin_key: access == Access::Admin,
    };
    let response = state.proxy.forward(&req, payload, forward).await?;
    if let Some(session) = demo_write
        && response.status() == StatusCode::TOO_MANY_REQUESTS
        && let Some(seconds) = retry_after(&response)
    {
        state
            .write_backoff
            .remember(&session, Duration::from_secs(seconds));
    }
    Ok(response)
}

/// An answer's `Retry-After`, when it is a number of seconds.
fn retry_after(response: &HttpResponse) -> Option<u64> {
    response
        .headers()
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}
