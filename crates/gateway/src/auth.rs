//! Who is calling: a customer's access token (verified here), or a demo session given as
//! `X-Demo-Session-Id` or as its session token in `Authorization: Bearer`. The result is
//! a [`Principal`], from which the identity forwarded upstream is minted (contract 1).

use actix_web::HttpRequest;
use actix_web::http::header;
use bakery_config::auth::{
    ACCESS_AUDIENCE, AccessClaims, Identity, ROLE_DEMO, SESSION_AUDIENCE, TokenError, TokenKeys,
    bearer_token,
};
use bakery_config::demo::{CachedSession, SessionClaims, SessionId, SessionStatus};
use bakery_config::settings::TokenSettings;
use uuid::Uuid;

use crate::error::GatewayError;
use crate::request::DEMO_SESSION_HEADER;
use crate::session::SessionResolver;

/// Roles a customer's access token may carry.
pub const CUSTOMER_ROLES: [&str; 4] = ["owner", "admin", "member", "viewer"];

#[derive(Debug, Clone)]
pub enum Principal {
    Customer(AccessClaims),
    Demo(CachedSession),
}

impl Principal {
    pub fn tenant_id(&self) -> Uuid {
        match self {
            Principal::Customer(c) => c.tenant_id,
            Principal::Demo(s) => s.virtual_tenant_id,
        }
    }

    pub fn is_demo(&self) -> bool {
        matches!(self, Principal::Demo(_))
    }

    /// The identity forwarded upstream, valid `ttl_secs`.
    pub fn identity(&self, ttl_secs: i64) -> Identity {
        match self {
            Principal::Customer(c) => {
                Identity::new(c.sub.to_string(), c.tenant_id, c.role.clone(), ttl_secs)
            }
            Principal::Demo(s) => Identity::new(
                s.session_id.clone(),
                s.virtual_tenant_id,
                ROLE_DEMO,
                ttl_secs,
            )
            .for_demo_session(s.session_id.clone()),
        }
    }
}

/// Verifies credentials.
pub struct Authenticator {
    access: TokenKeys,
    session: TokenKeys,
    template_tenants: Vec<Uuid>,
}

impl Authenticator {
    pub fn new(tokens: &TokenSettings, template_tenants: Vec<Uuid>) -> Self {
        Authenticator {
            access: TokenKeys::new(&tokens.access_secret, ACCESS_AUDIENCE),
            session: TokenKeys::new(&tokens.session_secret, SESSION_AUDIENCE),
            template_tenants,
        }
    }

    /// The caller, or why not. Headers were checked for repetition already.
    pub async fn authenticate(
        &self,
        req: &HttpRequest,
        sessions: &SessionResolver,
    ) -> Result<Principal, GatewayError> {
        let session_header = match req.headers().get(DEMO_SESSION_HEADER) {
            Some(value) => Some(
                value
                    .to_str()
                    .ok()
                    .and_then(|s| s.trim().parse::<SessionId>().ok())
                    .ok_or(GatewayError::SessionNotFound)?,
            ),
            None => None,
        };
        let bearer = match req.headers().get(header::AUTHORIZATION) {
            Some(_) => Some(bearer_token(req).ok_or(GatewayError::InvalidCredentials)?),
            None => None,
        };
        let principal = match (bearer, session_header) {
            (None, None) => return Err(GatewayError::MissingCredentials),
            (None, Some(id)) => Principal::Demo(self.demo(&id, None, sessions).await?),
            (Some(token), header_id) => match self.access.verify::<AccessClaims>(token) {
                Ok(claims) => {
                    if header_id.is_some() {
                        return Err(GatewayError::Ambiguous("dos credenciales distintas"));
                    }
                    if !CUSTOMER_ROLES.contains(&claims.role.as_str()) {
                        return Err(GatewayError::InvalidCredentials);
                    }
                    Principal::Customer(claims)
                }
                Err(TokenError::Expired) => return Err(GatewayError::CredentialsExpired),
                Err(_) => {
                    let claims = match self.session.verify::<SessionClaims>(token) {
                        Ok(claims) => claims,
                        Err(TokenError::Expired) => return Err(GatewayError::SessionExpired),
                        Err(_) => return Err(GatewayError::InvalidCredentials),
                    };
                    let id: SessionId = claims
                        .sub
                        .parse()
                        .map_err(|_| GatewayError::InvalidCredentials)?;
                    if header_id.is_some_and(|h| h != id) {
                        return Err(GatewayError::Ambiguous("dos sesiones demo distintas"));
                    }
                    Principal::Demo(self.demo(&id, Some(&claims), sessions).await?)
                }
            },
        };
        if self.template_tenants.contains(&principal.tenant_id()) {
            return Err(GatewayError::TemplateTenant);
        }
        Ok(principal)
    }

    async fn demo(
        &self,
        id: &SessionId,
        claims: Option<&SessionClaims>,
        sessions: &SessionResolver,
    ) -> Result<CachedSession, GatewayError> {
        let session = sessions.resolve(id).await?;
        if session.session_id != id.as_str()
            || claims.is_some_and(|c| c.virtual_tenant_id != session.virtual_tenant_id)
        {
            return Err(GatewayError::InvalidCredentials);
        }
        if self.template_tenants.contains(&session.virtual_tenant_id) {
            return Err(GatewayError::TemplateTenant);
        }
        if session.expires_at <= chrono::Utc::now() {
            return Err(GatewayError::SessionExpired);
        }
        match session.status {
            SessionStatus::Ready => Ok(session),
            SessionStatus::Pending => Err(GatewayError::SessionNotReady),
            SessionStatus::Expired | SessionStatus::Destroyed | SessionStatus::Failed => {
                Err(GatewayError::SessionExpired)
            }
        }
    }
}
