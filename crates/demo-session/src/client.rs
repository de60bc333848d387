//! Who is asking: the client address the gateway forwarded, reduced to a keyed hash.

use std::net::IpAddr;

use actix_web::HttpRequest;
use bakery_config::env::Secret;
use sha2::{Digest, Sha256};

/// The client address: the rightmost `X-Forwarded-For` entry (the one our gateway
/// appended), else the peer address.
pub fn client_ip(req: &HttpRequest) -> Option<IpAddr> {
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .last()
        .and_then(|s| s.parse::<IpAddr>().ok());
    forwarded.or_else(|| req.peer_addr().map(|a| a.ip()))
}

/// A keyed hash of the address; IPv6 addresses are grouped by their /64 (one household or
/// host gets one /64, so per-address limits would be trivial to dodge).
pub fn client_hash(key: &Secret, ip: IpAddr) -> String {
    let group = match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    };
    let mut hasher = Sha256::new();
    hasher.update(key.expose().as_bytes());
    hasher.update(b"\0");
    hasher.update(group.as_bytes());
    hex::encode(&hasher.finalize()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_is_grouped_by_64_and_addresses_are_not_stored() {
        let key = Secret::new("k");
        let a = client_hash(&key, "2001:db8:1:2::1".parse().expect("ip"));
        let b = client_hash(&key, "2001:db8:1:2:ffff::9".parse().expect("ip"));
        let c = client_hash(&key, "2001:db8:1:3::1".parse().expect("ip"));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(!a.contains("2001"));
        let v4 = client_hash(&key, "203.0.113.9".parse().expect("ip"));
        let mapped = client_hash(&key, "::ffff:203.0.113.9".parse().expect("ip"));
        assert_eq!(v4, mapped);
        assert_ne!(
            v4,
            client_hash(&Secret::new("other"), "203.0.113.9".parse().expect("ip"))
        );
    }
}
