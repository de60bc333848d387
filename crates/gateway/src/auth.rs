//! Who is calling: a customer's access token (verified here), or a demo session given as
//! `X-Demo-Session-Id` or as its session token in `Authorization: Bearer`. The result is
//! a [`Principal`], from which the identity forwarded upstream is minted (docs/gateway.md,
//! "Credentials").

use std::time::Duration;

use actix_web::HttpRequest;
use actix_web::http::header;
use moka::sync::Cache;

use bakery_config::auth::{
    ACCESS_AUDIENCE, AccessClaims, INTERNAL_AUDIENCE, Identity, ROLE_DEMO, SESSION_AUDIENCE,
    TokenError, TokenKeys, bearer_token,
};
use bakery_config::client::{ClientAddress, ClientAssertions};
use bakery_config::demo::{CachedSession, SessionClaims, SessionId, SessionStatus};
use bakery_config::env::Secret;
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
                    .in_time_zone(c.time_zone)
            }
            Principal::Demo(s) => Identity::new(
                s.session_id.clone(),
                s.virtual_tenant_id,
                ROLE_DEMO,
                ttl_secs,
            )
            .for_demo_session(s.session_id.clone())
            .in_time_zone(s.time_zone),
        }
    }
}

impl Principal {
    /// What identifies the identity minted for this principal.
    fn identity_key(&self) -> String {
        match self {
            Principal::Customer(c) => {
                format!("c:{}:{}:{}:{}", c.sub, c.tenant_id, c.role, c.time_zone)
            }
            Principal::Demo(s) => {
                format!("d:{}:{}:{}", s.session_id, s.virtual_tenant_id, s.time_zone)
            }
        }
    }
}

/// Signs the identities forwarded upstream (the only tenant a service ever uses) and the
/// client assertions (who the client is, `bakery_config::client`). A principal's or a
/// client's token is reused for half of its lifetime, so a busy session costs one
/// signature per half-lifetime, not one per request; it is kept as the ready header value
/// (a clone is a reference count), in bounded caches that expire it.
pub struct IdentityMinter {
    keys: TokenKeys,
    assertions: ClientAssertions,
    ttl_secs: i64,
    recent: Cache<String, hyper::header::HeaderValue>,
    clients: Cache<ClientAddress, hyper::header::HeaderValue>,
}

/// Why no identity could be minted.
#[derive(Debug, thiserror::Error)]
pub enum MintError {
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error("identity token is not a header value: {0}")]
    Header(#[from] hyper::header::InvalidHeaderValue),
}

/// The most principals (and clients) whose tokens are kept for reuse.
const MAX_RECENT: u64 = 50_000;

fn reuse_cache<K>(reuse_for: Duration) -> Cache<K, hyper::header::HeaderValue>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
{
    Cache::builder()
        .max_capacity(MAX_RECENT)
        .time_to_live(reuse_for)
        .build()
}

impl IdentityMinter {
    pub fn new(internal_secret: &Secret, ttl_secs: i64) -> Self {
        let reuse_for = Duration::from_secs(u64::try_from(ttl_secs / 2).unwrap_or(0).max(1));
        IdentityMinter {
            keys: TokenKeys::new(internal_secret, INTERNAL_AUDIENCE),
            assertions: ClientAssertions::new(internal_secret),
            ttl_secs,
            recent: reuse_cache(reuse_for),
            clients: reuse_cache(reuse_for),
        }
    }

    /// The `Authorization` value that carries `principal`'s identity upstream.
    pub fn authorization(
        &self,
        principal: &Principal,
    ) -> Result<hyper::header::HeaderValue, MintError> {
        let key = principal.identity_key();
        if let Some(token) = self.recent.get(&key) {
            return Ok(token);
        }
        let signed = self.keys.sign(&principal.identity(self.ttl_secs))?;
        let token = hyper::header::HeaderValue::from_str(&format!("Bearer {signed}"))?;
        self.recent.insert(key, token.clone());
        Ok(token)
    }

    /// The `X-Bakery-Client` value that tells services who the client is.
    pub fn client_assertion(
        &self,
        client: ClientAddress,
    ) -> Result<hyper::header::HeaderValue, MintError> {
        if let Some(assertion) = self.clients.get(&client) {
            return Ok(assertion);
        }
        let signed = self.assertions.sign(client, self.ttl_secs)?;
        let assertion = hyper::header::HeaderValue::from_str(&signed)?;
        self.clients.insert(client, assertion.clone());
        Ok(assertion)
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

    /// The caller, or why not. Headers were checked for repetition already. A refused
    /// credential counts against `client` ([`crate::refusals`]); once the client is over
    /// its limit, the refusal is `429`.
    pub async fn authenticate(
        &self,
        req: &HttpRequest,
        client: ClientAddress,
        sessions: &SessionResolver,
    ) -> Result<Principal, GatewayError> {
        let result = self.identify(req, client, sessions).await;
        if let Err(e) = &result
            && e.is_bad_credential()
        {
            let refusals = sessions.refusals();
            refusals.check(client)?;
            refusals.count_failure(client);
        }
        result
    }

    async fn identify(
        &self,
        req: &HttpRequest,
        client: ClientAddress,
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
            (None, Some(id)) => Principal::Demo(self.demo(&id, None, client, sessions).await?),
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
                    Principal::Demo(self.demo(&id, Some(&claims), client, sessions).await?)
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
        client: ClientAddress,
        sessions: &SessionResolver,
    ) -> Result<CachedSession, GatewayError> {
        let session = sessions.resolve(id, client).await?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use bakery_config::auth::TokenKeys;

    fn customer(tenant: Uuid, role: &str) -> Principal {
        Principal::Customer(AccessClaims {
            sub: Uuid::new_v4(),
            tenant_id: tenant,
            role: role.to_owned(),
            email: "ana@horno.es".to_owned(),
            time_zone: bakery_config::clock::BakeryTimeZone::MADRID,
            aud: ACCESS_AUDIENCE.to_owned(),
            iat: 0,
            exp: 0,
        })
    }

    #[test]
    fn identities_are_reused_per_principal_and_verify() {
        let secret = Secret::new("0123456789abcdef0123456789abcdef");
        let minter = IdentityMinter::new(&secret, 60);
        let tenant = Uuid::new_v4();
        let a = customer(tenant, "owner");
        let b = customer(tenant, "owner");
        let first = minter.authorization(&a).expect("sign");
        assert_eq!(minter.authorization(&a).expect("sign"), first);
        assert_ne!(minter.authorization(&b).expect("sign"), first);
        let token = first
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .expect("a bearer value");
        let identity: Identity = TokenKeys::new(&secret, INTERNAL_AUDIENCE)
            .verify(token)
            .expect("verify");
        assert_eq!(
            (identity.tenant_id, identity.role.as_str()),
            (tenant, "owner")
        );
        assert!(identity.exp - identity.iat == 60);
    }
}
