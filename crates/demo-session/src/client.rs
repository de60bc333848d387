//! Who is asking, as demo-session stores it: the client address the gateway asserted
//! (`bakery_config::client`), reduced to a keyed hash of its block (an IPv4 address or an
//! IPv6 `/64`), so per-client limits work and no address is ever stored.

use bakery_config::client::ClientAddress;
use bakery_config::env::Secret;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// HMAC-SHA256 of the client's block under `IP_HASH_KEY`, 128 bits in hex.
pub fn client_hash(key: &Secret, client: ClientAddress) -> String {
    // HMAC accepts keys of any length, so this cannot fail; fall back to an unkeyed MAC
    // rather than panic should that ever change
    let mut mac = Hmac::<Sha256>::new_from_slice(key.expose().as_bytes()).unwrap_or_else(|_| {
        <Hmac<Sha256> as Mac>::new(&hmac::digest::Key::<Hmac<Sha256>>::default())
    });
    mac.update(client.block().as_bytes());
    // the first 16 bytes: 32 hex digits
    let mut hash = hex::encode(mac.finalize().into_bytes());
    hash.truncate(32);
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(s: &str) -> ClientAddress {
        ClientAddress::new(s.parse().expect("an address"))
    }

    #[test]
    fn ipv6_is_grouped_by_64_and_addresses_are_not_stored() {
        let key = Secret::new("k");
        let a = client_hash(&key, client("2001:db8:1:2::1"));
        let b = client_hash(&key, client("2001:db8:1:2:ffff::9"));
        let c = client_hash(&key, client("2001:db8:1:3::1"));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(!a.contains("2001"));
        let v4 = client_hash(&key, client("203.0.113.9"));
        let mapped = client_hash(&key, client("::ffff:203.0.113.9"));
        assert_eq!(v4, mapped);
        assert_ne!(
            v4,
            client_hash(&Secret::new("other"), client("203.0.113.9"))
        );
    }
}
