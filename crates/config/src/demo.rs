//! The demo-session vocabulary shared by demo-session, the gateway and tenant-service:
//! account types, session ids, the session token's claims, the copy kept in Redis and the
//! invalidation channel.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::cache::Keys;

/// Which demo bakery a prospect tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountType {
    IndividualBakery,
    CentralBakerSatellite,
}

impl AccountType {
    pub const ALL: [AccountType; 2] = [
        AccountType::IndividualBakery,
        AccountType::CentralBakerSatellite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AccountType::IndividualBakery => "individual_bakery",
            AccountType::CentralBakerSatellite => "central_baker_satellite",
        }
    }
}

impl fmt::Display for AccountType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AccountType {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        AccountType::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or(())
    }
}

/// A demo session id: `demo_` and 32 random letters and digits (about 190 bits). It is a
/// bearer credential, so it is unguessable and parsed strictly at the edge; being
/// alphanumeric it is also a valid Kubernetes label value, URL segment and Redis key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SessionId(String);

impl SessionId {
    pub const PREFIX: &'static str = "demo_";

    pub fn generate() -> Self {
        let random: String = rand::rng()
            .sample_iter(rand::distr::Alphanumeric)
            .take(32)
            .map(char::from)
            .collect();
        SessionId(format!("{}{random}", Self::PREFIX))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for SessionId {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        let rest = s.strip_prefix(Self::PREFIX).ok_or(())?;
        let ok = (22..=64).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| SessionId(s.to_owned())).ok_or(())
    }
}

impl TryFrom<String> for SessionId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
            .map_err(|_| format!("not a demo session id: {s:?}"))
    }
}

impl From<SessionId> for String {
    fn from(id: SessionId) -> String {
        id.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    Pending,
    Ready,
    Expired,
    Destroyed,
    Failed,
}

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Pending => "pending",
            SessionStatus::Ready => "ready",
            SessionStatus::Expired => "expired",
            SessionStatus::Destroyed => "destroyed",
            SessionStatus::Failed => "failed",
        }
    }
}

impl FromStr for SessionStatus {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Ok(match s {
            "pending" => SessionStatus::Pending,
            "ready" => SessionStatus::Ready,
            "expired" => SessionStatus::Expired,
            "destroyed" => SessionStatus::Destroyed,
            "failed" => SessionStatus::Failed,
            _ => return Err(()),
        })
    }
}

/// The claims of a demo session token (audience [`crate::auth::SESSION_AUDIENCE`]).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SessionClaims {
    /// The session id.
    pub sub: String,
    pub virtual_tenant_id: Uuid,
    pub demo_account_type: AccountType,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

/// What the gateway needs to serve a demo request. Kept in Redis as JSON under
/// [`session_key`] with a TTL equal to the time left, and answered by
/// `GET /api/demo/session/{id}` (the fallback when Redis is down).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CachedSession {
    pub session_id: String,
    pub virtual_tenant_id: Uuid,
    pub demo_account_type: AccountType,
    pub status: SessionStatus,
    pub expires_at: DateTime<Utc>,
}

impl CachedSession {
    /// Usable for requests right now.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.status == SessionStatus::Ready && self.expires_at > now
    }
}

/// `{prefix}demo:session:{id}`
pub fn session_key(keys: &Keys, id: &str) -> String {
    keys.key(&["demo", "session", id])
}

/// Pub/sub channel on which demo-session publishes a session id whose cached copies must be
/// dropped (extended, destroyed, expired).
pub fn invalidation_channel(keys: &Keys) -> String {
    keys.key(&["demo", "invalidate"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_and_differ() {
        let a = SessionId::generate();
        let b = SessionId::generate();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 5 + 32);
        assert_eq!(a.as_str().parse::<SessionId>(), Ok(a.clone()));
    }

    #[test]
    fn malformed_ids_are_rejected() {
        for bad in [
            "",
            "demo_",
            "demo_short",
            "sess_aaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "demo_aaaaaaaaaaaaaaaaaaaaaa/..",
            "demo_aaaaaaaaaaaaaaaaaaaaaa%2F",
        ] {
            assert!(bad.parse::<SessionId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn account_types_round_trip() {
        for a in AccountType::ALL {
            assert_eq!(a.as_str().parse::<AccountType>(), Ok(a));
        }
        assert!("bakery".parse::<AccountType>().is_err());
    }
}
