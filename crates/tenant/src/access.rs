//! Customers' access tokens ([`AccessClaims`], audience `bakery-access`, signed with
//! `ACCESS_TOKEN_SECRET`). This is the only place tenant-service signs one, and it refuses
//! demo tenants: a template or a virtual tenant is never reachable with an access token.

use std::time::Duration;

use bakery_config::auth::{ACCESS_AUDIENCE, AccessClaims, TokenKeys};
use bakery_config::clock::BakeryTimeZone;
use bakery_config::env::Secret;
use chrono::Utc;

use crate::error::TenantError;
use crate::models::{Tenant, User};

#[derive(Clone)]
pub struct AccessTokens {
    keys: TokenKeys,
    ttl: Duration,
}

/// A signed token and its lifetime in seconds.
pub struct IssuedToken {
    pub token: String,
    pub expires_in: u64,
}

impl AccessTokens {
    pub fn new(secret: &Secret, ttl: Duration) -> Self {
        AccessTokens {
            keys: TokenKeys::new(secret, ACCESS_AUDIENCE),
            ttl,
        }
    }

    /// Signs a token for `user` of `tenant`. Refuses demo tenants.
    pub fn issue(&self, user: &User, tenant: &Tenant) -> Result<IssuedToken, TenantError> {
        if tenant.is_demo_template || tenant.is_demo || user.tenant_id != tenant.id {
            return Err(TenantError::TokenRefused(tenant.id));
        }
        let now = Utc::now().timestamp();
        let expires_in = self.ttl.as_secs();
        let claims = AccessClaims {
            sub: user.id,
            tenant_id: tenant.id,
            role: user.role.clone(),
            email: user.email.clone(),
            time_zone: time_zone_of(tenant),
            aud: ACCESS_AUDIENCE.to_owned(),
            iat: now,
            exp: now + i64::try_from(expires_in).unwrap_or(i64::MAX / 2),
        };
        Ok(IssuedToken {
            token: self.keys.sign(&claims)?,
            expires_in,
        })
    }
}

/// The tenant's `timezone`; a name the tz database does not know (no route writes one, but
/// the column is plain text) is logged and read as the default rather than refusing a login.
pub fn time_zone_of(tenant: &Tenant) -> BakeryTimeZone {
    BakeryTimeZone::parse(&tenant.timezone).unwrap_or_else(|e| {
        tracing::warn!(tenant = %tenant.id, error = %e, "tenant time zone unknown, using the default");
        BakeryTimeZone::default()
    })
}
