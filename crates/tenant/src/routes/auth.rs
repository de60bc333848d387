//! `POST /api/auth/login`.

use std::net::{IpAddr, SocketAddr};

use actix_web::{HttpRequest, HttpResponse, web};
use bakery_config::telemetry::REQUEST_ID_HEADER;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::demo_client::Forwarded;
use crate::domain::{Email, Password};
use crate::error::TenantError;
use crate::login::{self, CustomerLogin, LoginAttempt, LoginOutcome};
use crate::startup::AppState;

#[derive(Deserialize)]
pub struct LoginBody {
    email: String,
    password: String,
}

#[derive(Serialize)]
struct TokenAnswer<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: u64,
    user: UserView<'a>,
    tenant: TenantView<'a>,
}

#[derive(Serialize)]
struct UserView<'a> {
    id: Uuid,
    email: &'a str,
    full_name: &'a str,
    role: &'a str,
}

#[derive(Serialize)]
struct TenantView<'a> {
    id: Uuid,
    name: &'a str,
    business_model: &'a str,
    city: &'a str,
}

#[derive(Serialize)]
struct DemoAnswer {
    demo: bool,
    session: serde_json::Value,
}

pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginBody>,
) -> Result<HttpResponse, TenantError> {
    let LoginBody { email, password } = body.into_inner();
    let attempt = LoginAttempt {
        email: Email::parse(&email).map_err(TenantError::InvalidInput)?,
        password: Password::parse(password).map_err(TenantError::InvalidInput)?,
        client_ip: client_ip(&req),
        forwarded: forwarded(&req),
    };
    Ok(match login::login(&state, attempt).await? {
        LoginOutcome::Customer(customer) => {
            let CustomerLogin {
                token,
                user,
                tenant,
            } = *customer;
            HttpResponse::Ok().json(TokenAnswer {
                access_token: &token.token,
                token_type: "Bearer",
                expires_in: token.expires_in,
                user: UserView {
                    id: user.id,
                    email: &user.email,
                    full_name: &user.full_name,
                    role: &user.role,
                },
                tenant: TenantView {
                    id: tenant.id,
                    name: &tenant.name,
                    business_model: &tenant.business_model,
                    city: &tenant.city,
                },
            })
        }
        LoginOutcome::Demo { session } => HttpResponse::Ok().json(DemoAnswer {
            demo: true,
            session,
        }),
    })
}

/// Every `X-Forwarded-For` value, in order, as one list.
fn forwarded_for(req: &HttpRequest) -> Option<String> {
    let entries: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    (!entries.is_empty()).then(|| entries.join(", "))
}

/// The client: the rightmost `X-Forwarded-For` entry (the one the gateway appended), else
/// the peer address.
pub fn client_ip(req: &HttpRequest) -> Option<IpAddr> {
    let rightmost = forwarded_for(req).and_then(|list| {
        list.rsplit(',').next().map(str::trim).and_then(|e| {
            e.parse::<IpAddr>()
                .ok()
                .or_else(|| e.parse::<SocketAddr>().ok().map(|s| s.ip()))
        })
    });
    rightmost.or_else(|| req.peer_addr().map(|a| a.ip()))
}

/// What demo-session gets from the prospect's request: the `X-Forwarded-For` chain (or the
/// peer address when there is none) and the request id.
fn forwarded(req: &HttpRequest) -> Forwarded {
    Forwarded {
        forwarded_for: forwarded_for(req).or_else(|| req.peer_addr().map(|a| a.ip().to_string())),
        request_id: req
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    }
}
