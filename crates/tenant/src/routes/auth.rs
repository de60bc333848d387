//! `POST /api/auth/login`.

use actix_web::{HttpRequest, HttpResponse, web};
use bakery_config::client::{CLIENT_HEADER, ClientAddress};
use bakery_config::telemetry::{REQUEST_ID_HEADER, TRACEPARENT_HEADER};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::demo_client::Forwarded;
use crate::domain::{Email, Password};
use crate::error::TenantError;
use crate::login::{self, CustomerLogin, LoginAttempt, LoginOutcome};
use crate::startup::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"email": "owner@example.com", "password": "secreto-largo"}))]
pub struct LoginBody {
    /// `local@domain`, no whitespace or control characters, at most 254 bytes (compared
    /// trimmed and lower-cased: `domain::Email`). Documented as printable ASCII, where a
    /// character is a byte; the service also takes non-ASCII addresses within 254 bytes.
    #[schema(pattern = "^[!-?A-~]+@[!-~]+$", min_length = 3, max_length = 254)]
    email: String,
    /// Not empty, at most 1024 bytes (`domain::Password`): documented as at most 256
    /// characters, which any encoding keeps within 1024 bytes.
    #[schema(min_length = 1, max_length = 256)]
    password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenAnswer<'a> {
    access_token: &'a str,
    /// Always `Bearer`.
    token_type: &'static str,
    /// Seconds.
    expires_in: u64,
    user: UserView<'a>,
    tenant: TenantView<'a>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct UserView<'a> {
    id: Uuid,
    email: &'a str,
    full_name: &'a str,
    role: &'a str,
}

#[derive(Serialize, utoipa::ToSchema)]
struct TenantView<'a> {
    id: Uuid,
    name: &'a str,
    business_model: &'a str,
    city: &'a str,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DemoAnswer {
    /// Always `true`.
    demo: bool,
    /// The demo session, as `POST /api/demo/session/create` answers it.
    #[schema(value_type = Object)]
    session: serde_json::Value,
}

/// What a login answers: a customer's access token, or a demo account's session.
#[derive(Serialize, utoipa::ToSchema)]
#[expect(
    dead_code,
    reason = "documents the answer; the handler serialises its parts"
)]
#[serde(untagged)]
enum LoginAnswer {
    #[schema(title = "customer")]
    Customer(TokenAnswer<'static>),
    #[schema(title = "demo")]
    Demo(DemoAnswer),
}

/// Customers get an access token; the demo accounts' published credentials start a demo
/// session (as `POST /api/demo/session/create` does).
#[utoipa::path(
    post,
    path = "/api/auth/login",
    tag = "auth",
    request_body = LoginBody,
    responses(
        (status = 200, description = "Logged in", body = LoginAnswer),
        (status = 401, description = "`invalid_credentials`", body = bakery_config::http::ErrorBody),
        (status = 422, description = "`invalid_input`: email or password malformed", body = bakery_config::http::ErrorBody),
        (status = 429, description = "`too_many_attempts` + `Retry-After`", body = bakery_config::http::ErrorBody),
        (status = 502, description = "`demo_unavailable`: demo-session answered badly", body = bakery_config::http::ErrorBody),
    )
)]

/// `client` is the address the gateway asserted, else the peer (see
/// `bakery_config::client`); `X-Forwarded-For` is never read.
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: ClientAddress,
    body: web::Json<LoginBody>,
) -> Result<HttpResponse, TenantError> {
    let LoginBody { email, password } = body.into_inner();
    let attempt = LoginAttempt {
        email: Email::parse(&email).map_err(TenantError::InvalidInput)?,
        password: Password::parse(password).map_err(TenantError::InvalidInput)?,
        client,
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

/// What demo-session gets from the prospect's request: the client assertion, as it came
/// (the `ClientAddress` extractor has verified it, so it is one valid header value), the
/// request id and the trace context.
fn forwarded(req: &HttpRequest) -> Forwarded {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_owned())
    };
    Forwarded {
        client_assertion: header(CLIENT_HEADER),
        request_id: header(REQUEST_ID_HEADER.as_str()),
        // this hop's, set by the request middleware: demo-session's span is its child
        traceparent: header(TRACEPARENT_HEADER.as_str()),
    }
}
