//! The one handler every request other than `/health` and `/ready` goes through:
//! check the target, route it, say who the client is, authenticate, apply the demo
//! policy, forward.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use actix_web::http::header::RETRY_AFTER;
use actix_web::http::{Method, StatusCode};
use std::time::Instant;

use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use bakery_config::client::ClientAddress;
use bakery_config::metrics::HttpRoute;

use crate::assets;
use crate::auth::Principal;
use crate::backoff::is_write;
use crate::error::GatewayError;
use crate::metrics::Throttle;
use crate::milestones;
use crate::proxy::{Forward, WorkerPool};
use crate::request::CheckedRequest;
use crate::routes::{self, Access, Destination};
use crate::startup::AppState;
use bakery_config::funnel::Event;

pub async fn gateway(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    pool: web::Data<WorkerPool>,
) -> Result<HttpResponse, GatewayError> {
    let answer = handle(&req, payload, &state, &pool).await;
    if let Err(e) = &answer {
        match e {
            GatewayError::DemoWriteQuota { .. } => state.metrics.throttled(Throttle::demo_quota),
            GatewayError::TooManyFailures { .. } => {
                state.metrics.throttled(Throttle::refused_credentials);
            }
            _ => {}
        }
    }
    answer
}

async fn handle(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    pool: &WorkerPool,
) -> Result<HttpResponse, GatewayError> {
    let req = req.clone();
    let checked = CheckedRequest::from_request(&req)?;
    if checked.method == Method::OPTIONS {
        // answered here, the same way for every route, before any credential is read
        return Ok(HttpResponse::NoContent()
            .insert_header(("Allow", routes::allowed_methods(&checked, &state.allowed)?))
            .finish());
    }
    let destination = routes::resolve(&checked, &state.allowed)?;
    req.extensions_mut()
        .insert(HttpRoute::fixed(routes::metric_route(
            &destination,
            &checked.match_path,
        )));
    let (upstream, access) = match destination {
        Destination::Asset(asset) => return Ok(assets::respond(asset)),
        Destination::Policy => return Ok(HttpResponse::Ok().json(state.policy.document())),
        Destination::OpenApi => {
            return Ok(HttpResponse::Ok()
                .content_type("application/json")
                .body(state.openapi.clone()));
        }
        Destination::Proxy { upstream, access } => (upstream, access),
    };
    let peer = req
        .peer_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
    let client = state.trusted_proxies.client(peer, req.headers());
    let caller = match access {
        Access::Authenticated => Some(authorize(state, &req, &checked, client).await?),
        Access::Public | Access::Admin => None,
    };
    let forward = Forward {
        pool,
        upstream,
        checked: &checked,
        identity: caller.as_ref().map(|c| c.identity.clone()),
        client: state.assert_client(client)?,
        pass_admin_key: access == Access::Admin,
    };
    let started = Instant::now();
    let response = state.proxy.forward(&req, payload, forward).await;
    state.metrics.upstream_answered(upstream, started);
    let response = response?;
    let demo_write = caller.as_ref().and_then(|c| c.demo_write.clone());
    if response.status() == StatusCode::TOO_MANY_REQUESTS {
        state.metrics.throttled(if demo_write.is_some() {
            Throttle::demo_quota
        } else {
            Throttle::rate_limit
        });
    }
    if let Some(session) = demo_write {
        hold_back_if_told(state, &session, &response);
    }
    if let Some(session) = caller.as_ref().and_then(|c| c.demo_session.as_deref())
        && response.status().is_success()
        && let Some(event) = milestones::observed(&checked.method, &checked.match_path)
    {
        state.milestones.report(session, &event);
    }
    Ok(response)
}

/// Who an authenticated request is for, as forwarded.
struct Caller {
    /// `Authorization: Bearer <signed identity>`.
    identity: hyper::header::HeaderValue,
    /// The demo session, when the request is one of its writes (`crate::backoff`).
    demo_write: Option<String>,
    /// The demo session, for any of its requests (the funnel's milestones).
    demo_session: Option<String>,
}

/// Authenticates, applies the demo policy and the write back-off, signs the identity.
async fn authorize(
    state: &AppState,
    req: &HttpRequest,
    checked: &CheckedRequest,
    client: ClientAddress,
) -> Result<Caller, GatewayError> {
    let principal = state
        .auth
        .authenticate(req, client, &state.sessions)
        .await?;
    let mut demo_write = None;
    let mut demo_session = None;
    if let Principal::Demo(session) = &principal {
        state
            .policy
            .check(checked.method.as_str(), &checked.match_path)
            .map_err(|refusal| {
                state.metrics.demo_refused(&refusal.rule);
                state
                    .milestones
                    .report(&session.session_id, &Event::blocked(refusal.rule.as_str()));
                GatewayError::DemoRestriction(refusal.message)
            })?;
        demo_session = Some(session.session_id.clone());
        if is_write(&checked.method) {
            state.write_backoff.check(&session.session_id)?;
            demo_write = Some(session.session_id.clone());
        }
    }
    Ok(Caller {
        identity: state.sign(&principal)?,
        demo_write,
        demo_session,
    })
}

/// An upstream told this demo session's write to wait: the gateway holds its next writes
/// back until then.
fn hold_back_if_told(state: &AppState, session: &str, response: &HttpResponse) {
    if response.status() != StatusCode::TOO_MANY_REQUESTS {
        return;
    }
    let seconds = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(seconds) = seconds {
        state
            .write_backoff
            .remember(session, Duration::from_secs(seconds));
    }
}
