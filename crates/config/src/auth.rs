//! Signed tokens.
//!
//! Three kinds, each with its own key and audience so one can never pass for another:
//! - the *identity* the gateway forwards to services (`Authorization: Bearer`), which is the
//!   only place a service takes the tenant from;
//! - a customer's *access token* (tenant-service issues it, the gateway verifies it);
//! - a demo *session token* (demo-session issues it, the gateway verifies it).

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, web};
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::BakeryTimeZone;
use crate::env::Secret;
use crate::http::ApiError;

pub const INTERNAL_AUDIENCE: &str = "bakery-internal";
pub const ACCESS_AUDIENCE: &str = "bakery-access";
pub const SESSION_AUDIENCE: &str = "bakery-demo-session";

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("token expired")]
    Expired,
    #[error("token invalid: {0}")]
    Invalid(#[source] jsonwebtoken::errors::Error),
    #[error("token could not be signed: {0}")]
    Signing(#[source] jsonwebtoken::errors::Error),
}

/// HMAC-SHA256 signer and verifier for one audience.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    audience: &'static str,
}

impl TokenKeys {
    pub fn new(secret: &Secret, audience: &'static str) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[audience]);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "aud"]);
        TokenKeys {
            encoding: EncodingKey::from_secret(secret.expose().as_bytes()),
            decoding: DecodingKey::from_secret(secret.expose().as_bytes()),
            validation,
            audience,
        }
    }

    pub fn audience(&self) -> &'static str {
        self.audience
    }

    pub fn sign<C: Serialize>(&self, claims: &C) -> Result<String, TokenError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(TokenError::Signing)
    }

    pub fn verify<C: DeserializeOwned>(&self, token: &str) -> Result<C, TokenError> {
        jsonwebtoken::decode::<C>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid(e),
            })
    }
}

/// What a caller is allowed to act as. Minted by the gateway (or by tests) and verified by
/// each service; the tenant in here is the only tenant a service ever uses.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Identity {
    /// User id, or the demo session id.
    pub sub: String,
    pub tenant_id: Uuid,
    pub role: String,
    /// Set when the caller is a demo session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub demo_session_id: Option<String>,
    /// The tenant's time zone: where its days begin and end (`crate::clock`). Identities
    /// minted before it existed read as the default, Europe/Madrid.
    #[serde(default, rename = "tz")]
    pub time_zone: BakeryTimeZone,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

impl Identity {
    /// A fresh identity valid for `ttl_secs`.
    pub fn new(
        sub: impl Into<String>,
        tenant_id: Uuid,
        role: impl Into<String>,
        ttl_secs: i64,
    ) -> Self {
        let now = Utc::now().timestamp();
        Identity {
            sub: sub.into(),
            tenant_id,
            role: role.into(),
            demo_session_id: None,
            time_zone: BakeryTimeZone::default(),
            aud: INTERNAL_AUDIENCE.to_owned(),
            iat: now,
            exp: now + ttl_secs,
        }
    }

    #[must_use]
    pub fn for_demo_session(mut self, session_id: impl Into<String>) -> Self {
        self.demo_session_id = Some(session_id.into());
        self
    }

    #[must_use]
    pub fn in_time_zone(mut self, time_zone: BakeryTimeZone) -> Self {
        self.time_zone = time_zone;
        self
    }

    pub fn is_demo(&self) -> bool {
        self.demo_session_id.is_some()
    }
}

/// The role of a demo session's identity.
pub const ROLE_DEMO: &str = "demo";
/// The role of a service calling another service (tenant id is the nil UUID).
pub const ROLE_SERVICE: &str = "service";

impl Identity {
    /// A service-to-service identity (no tenant).
    pub fn service(name: &str, ttl_secs: i64) -> Self {
        Identity::new(name, Uuid::nil(), ROLE_SERVICE, ttl_secs)
    }

    pub fn is_service(&self) -> bool {
        self.role == ROLE_SERVICE
    }
}

/// A customer's access token (audience [`ACCESS_AUDIENCE`]), issued by tenant-service at
/// login and verified by the gateway, which then forwards an [`Identity`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    /// The user id.
    pub sub: Uuid,
    pub tenant_id: Uuid,
    pub role: String,
    pub email: String,
    /// The tenant's time zone (tenant-service's `timezone`); tokens issued before it
    /// existed read as the default.
    #[serde(default, rename = "tz")]
    pub time_zone: BakeryTimeZone,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

/// The keys services verify identities with; registered as app data.
#[derive(Clone)]
pub struct IdentityVerifier(pub TokenKeys);

impl IdentityVerifier {
    pub fn new(secret: &Secret) -> Self {
        IdentityVerifier(TokenKeys::new(secret, INTERNAL_AUDIENCE))
    }
}

/// Reads `Authorization: Bearer <token>`.
pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(actix_web::http::header::AUTHORIZATION)?;
    let s = value.to_str().ok()?;
    let (scheme, token) = s.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn unauthorized(code: &'static str, message: &'static str) -> actix_web::Error {
    ApiError::new(StatusCode::UNAUTHORIZED, code, message).into()
}

impl FromRequest for Identity {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(verifier) = req.app_data::<web::Data<IdentityVerifier>>() else {
            tracing::error!("IdentityVerifier not registered");
            return ready(Err(ApiError::internal().into()));
        };
        let Some(token) = bearer_token(req) else {
            return ready(Err(unauthorized(
                "missing_credentials",
                "Se necesita una credencial válida para acceder.",
            )));
        };
        ready(match verifier.0.verify::<Identity>(token) {
            Ok(identity) => Ok(identity),
            Err(TokenError::Expired) => Err(unauthorized(
                "credentials_expired",
                "La credencial ha caducado. Vuelve a iniciar sesión.",
            )),
            Err(_) => Err(unauthorized(
                "invalid_credentials",
                "La credencial no es válida.",
            )),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(aud: &'static str) -> TokenKeys {
        TokenKeys::new(&Secret::new("0123456789abcdef0123456789abcdef"), aud)
    }

    #[test]
    fn identity_round_trips() {
        let k = keys(INTERNAL_AUDIENCE);
        let id = Identity::new("u1", Uuid::new_v4(), "owner", 60);
        let token = k.sign(&id).expect("sign");
        assert_eq!(k.verify::<Identity>(&token).expect("verify"), id);
    }

    #[test]
    fn an_identity_carries_its_time_zone_and_an_older_one_reads_as_madrid() {
        let k = keys(INTERNAL_AUDIENCE);
        let canary = BakeryTimeZone::parse("Atlantic/Canary").expect("zone");
        let id = Identity::new("u1", Uuid::new_v4(), "owner", 60).in_time_zone(canary);
        let token = k.sign(&id).expect("sign");
        assert_eq!(
            k.verify::<Identity>(&token).expect("verify").time_zone,
            canary
        );

        #[derive(Serialize)]
        struct Older {
            sub: &'static str,
            tenant_id: Uuid,
            role: &'static str,
            aud: &'static str,
            iat: i64,
            exp: i64,
        }
        let now = Utc::now().timestamp();
        let older = Older {
            sub: "u1",
            tenant_id: Uuid::new_v4(),
            role: "owner",
            aud: INTERNAL_AUDIENCE,
            iat: now,
            exp: now + 60,
        };
        let token = k.sign(&older).expect("sign");
        assert_eq!(
            k.verify::<Identity>(&token).expect("verify").time_zone,
            BakeryTimeZone::MADRID
        );
    }

    #[test]
    fn other_audience_is_rejected() {
        let mut id = Identity::new("u1", Uuid::new_v4(), "owner", 60);
        id.aud = ACCESS_AUDIENCE.to_owned();
        let token = keys(ACCESS_AUDIENCE).sign(&id).expect("sign");
        assert!(keys(INTERNAL_AUDIENCE).verify::<Identity>(&token).is_err());
    }

    #[test]
    fn expired_is_reported_as_expired() {
        let k = keys(INTERNAL_AUDIENCE);
        let id = Identity::new("u1", Uuid::new_v4(), "owner", -60);
        let token = k.sign(&id).expect("sign");
        assert!(matches!(
            k.verify::<Identity>(&token),
            Err(TokenError::Expired)
        ));
    }
}
