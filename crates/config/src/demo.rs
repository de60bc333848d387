//! The demo-session vocabulary shared by demo-session, the gateway and tenant-service:
//! account types, session ids, the session token's claims, the copy kept in Redis and the
//! invalidation channel.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;
use rand::Rng;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::cache::Keys;
use crate::clock::BakeryTimeZone;
use crate::env::Secret;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A word that is not in the vocabulary (or not a well-formed session id).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("unknown demo account type {0:?}")]
    AccountType(String),
    #[error("unknown demo session status {0:?}")]
    Status(String),
    // the id itself is left out: a session id is a bearer credential
    #[error("not a well-formed demo session id")]
    SessionId,
}

/// The text columns that hold these types (`demo_account_type`, `status`, `id` of
/// demo-session's tables, which are `text` with a CHECK): written as their words, read back
/// with `FromStr`, so a row that does not parse is a deserialization error naming the value
/// instead of a value quietly skipped.
macro_rules! text_column {
    ($type:ty) => {
        impl ToSql<Text, Pg> for $type {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <str as ToSql<Text, Pg>>::to_sql(self.as_str(), out)
            }
        }

        impl FromSql<Text, Pg> for $type {
            fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
                let text = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
                Ok(text.parse::<$type>()?)
            }
        }
    };
}

/// What a demo session writing faster than its quota is told (inventory-service's answer,
/// and the gateway's while it holds the session back: crates/gateway/src/backoff.rs).
pub const WRITE_QUOTA_MESSAGE: &str =
    "Has hecho muchos cambios seguidos en esta demo. Espera un momento y vuelve a intentarlo.";

/// Which demo bakery a prospect tries.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
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
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        AccountType::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| ParseError::AccountType(s.to_owned()))
    }
}

text_column!(AccountType);

/// A demo session id: `demo_`, 24 random letters and digits (about 143 bits), then a
/// 12-character tag, a MAC of the random part under the session key
/// (`SESSION_TOKEN_SECRET`, which demo-session and the gateway share). It is a bearer
/// credential, so it is unguessable and parsed strictly at the edge; the tag lets the
/// gateway refuse a made-up id with one hash, before any cache, Redis or database is asked
/// ([`SessionId::is_authentic`]). Being alphanumeric it is also a valid Kubernetes label
/// value, URL segment and Redis key.
///
/// Parsing ([`FromStr`], also when a row is read) checks the form only, not the tag: ids in
/// the database were issued by demo-session, and tests insert made-up ones.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
#[serde(try_from = "String", into = "String")]
pub struct SessionId(String);

/// Length of the random part of a generated id.
const RANDOM_LEN: usize = 24;
/// Length of its tag.
const TAG_LEN: usize = 12;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The key that tags session ids (derived from `SESSION_TOKEN_SECRET`).
#[derive(Clone)]
pub struct SessionIdKey(Hmac<Sha256>);

impl SessionIdKey {
    pub fn new(secret: &Secret) -> Self {
        // HMAC takes keys of any length: this cannot fail, but the API says it might, so
        // fall back to a hash of the key (which HMAC itself would do for long keys)
        let mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()).unwrap_or_else(|_| {
            let mut block = [0u8; 64];
            block[..32].copy_from_slice(&Sha256::digest(secret.expose().as_bytes()));
            Hmac::<Sha256>::new(&block.into())
        });
        SessionIdKey(mac)
    }

    fn tag(&self, random: &str) -> [u8; TAG_LEN] {
        let mut mac = self.0.clone();
        mac.update(b"bakery-demo-session-id\0");
        mac.update(random.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut tag = [0u8; TAG_LEN];
        for (t, d) in tag.iter_mut().zip(digest.iter()) {
            #[expect(
                clippy::indexing_slicing,
                reason = "the index is taken modulo the length"
            )]
            let digit = BASE62[usize::from(*d) % BASE62.len()];
            *t = digit;
        }
        tag
    }
}

impl fmt::Debug for SessionIdKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionIdKey(***)")
    }
}

impl SessionId {
    pub const PREFIX: &'static str = "demo_";

    pub fn generate(key: &SessionIdKey) -> Self {
        let random: String = rand::rng()
            .sample_iter(rand::distr::Alphanumeric)
            .take(RANDOM_LEN)
            .map(char::from)
            .collect();
        let tag = key.tag(&random);
        let tag = std::str::from_utf8(&tag).unwrap_or_default();
        SessionId(format!("{}{random}{tag}", Self::PREFIX))
    }

    /// Whether `key` issued this id (in constant time). A well-formed id that was never
    /// issued fails here, however it is spelled.
    pub fn is_authentic(&self, key: &SessionIdKey) -> bool {
        let rest = &self.0[Self::PREFIX.len()..];
        if rest.len() != RANDOM_LEN + TAG_LEN {
            return false;
        }
        let (random, tag) = rest.split_at(RANDOM_LEN);
        key.tag(random).ct_eq(tag.as_bytes()).into()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for SessionId {
    type Err = ParseError;
    /// The form the `demo_sessions.id` CHECK constraint allows.
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let rest = s.strip_prefix(Self::PREFIX).ok_or(ParseError::SessionId)?;
        let ok = (22..=64).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| SessionId(s.to_owned()))
            .ok_or(ParseError::SessionId)
    }
}

text_column!(SessionId);

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

/// Where a session is in its life: `pending → ready → expired → destroyed`, or
/// `pending → failed`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
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
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        Ok(match s {
            "pending" => SessionStatus::Pending,
            "ready" => SessionStatus::Ready,
            "expired" => SessionStatus::Expired,
            "destroyed" => SessionStatus::Destroyed,
            "failed" => SessionStatus::Failed,
            _ => return Err(ParseError::Status(s.to_owned())),
        })
    }
}

impl fmt::Display for SessionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

text_column!(SessionStatus);

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
    /// The virtual tenant's time zone (its template's). Copies cached before it existed
    /// read as the default.
    #[serde(default)]
    pub time_zone: BakeryTimeZone,
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
        let key = SessionIdKey::new(&Secret::new("0123456789abcdef0123456789abcdef"));
        let a = SessionId::generate(&key);
        let b = SessionId::generate(&key);
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 5 + 36);
        assert_eq!(a.as_str().parse::<SessionId>(), Ok(a.clone()));
    }

    #[test]
    fn only_issued_ids_are_authentic() {
        let key = SessionIdKey::new(&Secret::new("0123456789abcdef0123456789abcdef"));
        let other = SessionIdKey::new(&Secret::new("another-key-another-key-another-"));
        let id = SessionId::generate(&key);
        assert!(id.is_authentic(&key));
        assert!(!id.is_authentic(&other));
        // one character of the random part or of the tag changed
        for at in [5, id.as_str().len() - 1] {
            let mut forged = id.as_str().to_owned().into_bytes();
            forged[at] = if forged[at] == b'a' { b'b' } else { b'a' };
            let forged: SessionId = String::from_utf8(forged)
                .expect("ascii")
                .parse()
                .expect("well-formed");
            assert!(!forged.is_authentic(&key), "{forged}");
        }
        // well-formed but never issued (any length the parser accepts)
        for made_up in [
            "demo_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "demo_000000000000000000000000000000000000",
        ] {
            let id: SessionId = made_up.parse().expect("well-formed");
            assert!(!id.is_authentic(&key), "{made_up}");
        }
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

    #[test]
    fn statuses_round_trip_and_unknown_words_are_named() {
        use SessionStatus::*;
        for s in [Pending, Ready, Expired, Destroyed, Failed] {
            assert_eq!(s.as_str().parse::<SessionStatus>(), Ok(s));
            assert_eq!(s.to_string(), s.as_str());
        }
        // what a row that does not parse reports (as a diesel deserialization error)
        let e = "paused".parse::<SessionStatus>().expect_err("not a status");
        assert_eq!(e.to_string(), "unknown demo session status \"paused\"");
        let e = "bakery"
            .parse::<AccountType>()
            .expect_err("not an account type");
        assert_eq!(e.to_string(), "unknown demo account type \"bakery\"");
        // …but never echoes what might be a credential
        let e = "demo_short".parse::<SessionId>().expect_err("too short");
        assert!(!e.to_string().contains("short"), "{e}");
    }
}
