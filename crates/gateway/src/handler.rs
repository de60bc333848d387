//! The one handler every request other than `/health` and `/ready` goes through:
//! check the target, route it, say who the client is, authenticate, apply the demo
//! policy, forward.

use std::net::{IpAddr, Ipv4Addr};

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::assets;
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
    let identity = match access {
        Access::Authenticated => {
            let principal = state
                .auth
                .authenticate(&req, client, &state.sessions)
                .await?;
            if principal.is_demo() {
                state
                    .policy
                    .check(checked.method.as_str(), &checked.match_path)
                    .map_err(|refusal| GatewayError::DemoRestriction(refusal.0))?;
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
    state.proxy.forward(&req, payload, forward).await
}
