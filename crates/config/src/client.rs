//! Who the client is: its address, resolved once by the gateway (which alone knows which
//! proxies in front of it to trust, `GATEWAY_TRUSTED_PROXIES`) and handed to services as a
//! signed *client assertion* in [`CLIENT_HEADER`]. Services never parse `X-Forwarded-For`:
//! anybody can write that header, only the gateway can sign an assertion.
//!
//! A service reads the client with the [`ClientAddress`] extractor: the address the
//! assertion names when it carries one that verifies, else the TCP peer (a process calling
//! the service directly is its own client and cannot claim another address). An assertion
//! that does not verify is refused with `401 invalid_client` rather than ignored, so a
//! gateway signing with the wrong key is noticed at once instead of silently putting every
//! visitor in one bucket.

use std::fmt;
use std::future::{Ready, ready};
use std::net::IpAddr;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::auth::{TokenError, TokenKeys};
use crate::env::Secret;
use crate::http::ApiError;

/// The header that carries the signed client assertion from the gateway to a service.
pub const CLIENT_HEADER: &str = "x-bakery-client";
/// The audience of client assertions (signed with `INTERNAL_TOKEN_SECRET`, like
/// identities, but never accepted as one).
pub const CLIENT_AUDIENCE: &str = "bakery-client";

/// A client's address. IPv4-mapped IPv6 addresses are stored as IPv4, so one client never
/// counts as two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "IpAddr", into = "IpAddr")]
pub struct ClientAddress(IpAddr);

impl ClientAddress {
    pub fn new(ip: IpAddr) -> Self {
        ClientAddress(ip.to_canonical())
    }

    pub fn ip(self) -> IpAddr {
        self.0
    }

    /// What per-client limits count: an IPv4 address itself, an IPv6 address's `/64` (one
    /// subscriber usually holds a whole `/64`, so single addresses are free to rotate).
    pub fn block(self) -> String {
        match self.0 {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => {
                let [a, b, c, d, ..] = v6.segments();
                format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
            }
        }
    }
}

impl From<IpAddr> for ClientAddress {
    fn from(ip: IpAddr) -> Self {
        ClientAddress::new(ip)
    }
}

impl From<ClientAddress> for IpAddr {
    fn from(c: ClientAddress) -> Self {
        c.0
    }
}

impl fmt::Display for ClientAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The claims of a client assertion.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ClientClaims {
    pub client: ClientAddress,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

/// Signs (gateway) and verifies (services) client assertions; registered as app data by
/// the services that read the client.
#[derive(Clone)]
pub struct ClientAssertions {
    keys: TokenKeys,
}

impl ClientAssertions {
    pub fn new(internal_secret: &Secret) -> Self {
        ClientAssertions {
            keys: TokenKeys::new(internal_secret, CLIENT_AUDIENCE),
        }
    }

    /// An assertion that `client` is the client, valid `ttl_secs`.
    pub fn sign(&self, client: ClientAddress, ttl_secs: i64) -> Result<String, TokenError> {
        let now = Utc::now().timestamp();
        self.keys.sign(&ClientClaims {
            client,
            aud: CLIENT_AUDIENCE.to_owned(),
            iat: now,
            exp: now + ttl_secs,
        })
    }

    pub fn verify(&self, assertion: &str) -> Result<ClientAddress, TokenError> {
        self.keys
            .verify::<ClientClaims>(assertion)
            .map(|claims| claims.client)
    }
}

/// The client of a request to a service: see the module documentation.
impl FromRequest for ClientAddress {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(client_of(req))
    }
}

fn client_of(req: &HttpRequest) -> Result<ClientAddress, actix_web::Error> {
    let invalid = || {
        actix_web::Error::from(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "La petición no se puede atribuir a ningún cliente.",
        ))
    };
    let mut values = req.headers().get_all(CLIENT_HEADER);
    let Some(value) = values.next() else {
        return req
            .peer_addr()
            .map(|peer| ClientAddress::new(peer.ip()))
            .ok_or_else(invalid);
    };
    if values.next().is_some() {
        return Err(invalid());
    }
    let Some(assertions) = req.app_data::<web::Data<ClientAssertions>>() else {
        tracing::error!("ClientAssertions not registered");
        return Err(ApiError::internal().into());
    };
    let assertion = value.to_str().map_err(|_| invalid())?;
    assertions.verify(assertion.trim()).map_err(|e| {
        tracing::warn!(error = %e, "client assertion refused");
        invalid()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    fn assertions() -> ClientAssertions {
        ClientAssertions::new(&Secret::new("0123456789abcdef0123456789abcdef"))
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64_block() {
        let block = |s: &str| ClientAddress::new(ip(s)).block();
        assert_eq!(block("203.0.113.9"), "203.0.113.9");
        assert_eq!(block("::ffff:203.0.113.9"), "203.0.113.9");
        assert_eq!(block("2001:db8:1:2:aaaa::1"), block("2001:db8:1:2:bbbb::7"));
        assert_eq!(block("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_ne!(block("2001:db8:1:2::1"), block("2001:db8:1:3::1"));
    }

    #[test]
    fn assertions_round_trip_and_other_keys_fail() {
        let client = ClientAddress::new(ip("2001:db8::7"));
        let token = assertions().sign(client, 60).expect("sign");
        assert_eq!(assertions().verify(&token).ok(), Some(client));
        let other = ClientAssertions::new(&Secret::new("another-secret-another-secret-xx"));
        assert!(other.verify(&token).is_err());
        // an identity (another audience, same key) is not an assertion
        let identity = TokenKeys::new(
            &Secret::new("0123456789abcdef0123456789abcdef"),
            crate::auth::INTERNAL_AUDIENCE,
        )
        .sign(&crate::auth::Identity::new(
            "u",
            uuid::Uuid::nil(),
            "owner",
            60,
        ))
        .expect("sign");
        assert!(assertions().verify(&identity).is_err());
        let expired = assertions().sign(client, -60).expect("sign");
        assert!(assertions().verify(&expired).is_err());
    }

    #[test]
    fn services_read_the_assertion_or_the_peer_never_forwarded_for() {
        let data = web::Data::new(assertions());
        let peer = "10.0.0.5:4000".parse().expect("socket");
        let direct = TestRequest::default()
            .peer_addr(peer)
            .insert_header(("x-forwarded-for", "203.0.113.9"))
            .app_data(data.clone())
            .to_http_request();
        assert_eq!(
            client_of(&direct).ok(),
            Some(ClientAddress::new(ip("10.0.0.5")))
        );

        let token = assertions()
            .sign(ClientAddress::new(ip("198.51.100.4")), 60)
            .expect("sign");
        let via_gateway = TestRequest::default()
            .peer_addr(peer)
            .insert_header((CLIENT_HEADER, token.as_str()))
            .app_data(data.clone())
            .to_http_request();
        assert_eq!(
            client_of(&via_gateway).ok(),
            Some(ClientAddress::new(ip("198.51.100.4")))
        );

        let forged = TestRequest::default()
            .peer_addr(peer)
            .insert_header((CLIENT_HEADER, "eyJhbGciOiJIUzI1NiJ9.e30.x"))
            .app_data(data)
            .to_http_request();
        assert!(client_of(&forged).is_err());
    }
}
