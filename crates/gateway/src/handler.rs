//! The one handler every request other than `/health` and `/ready` goes through:
//! check the target, route it, authenticate, apply the demo policy, forward.

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
    let (upstream, access) = match routes::resolve(&checked)? {
        Destination::Asset(asset) => return Ok(assets::respond(asset)),
        Destination::Policy => return Ok(HttpResponse::Ok().json(state.policy.document())),
        Destination::Proxy { upstream, access } => (upstream, access),
    };
    let identity = match access {
        Access::Authenticated => {
            let principal = state.auth.authenticate(&req, &state.sessions).await?;
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
        pass_admin_key: access == Access::Admin,
    };
    state.proxy.forward(&req, payload, forward).await
}
