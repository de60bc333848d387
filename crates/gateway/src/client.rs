//! Who the client is. The gateway is the only process that decides it, once per request,
//! and hands the answer to services as a signed assertion (`bakery_config::client`).
//!
//! Rules (`GATEWAY_TRUSTED_PROXIES`, `GATEWAY_FORWARDED_HEADER`; docs/deploy.md):
//! - with no trusted networks (the default) the TCP peer is the client and whatever the
//!   request says about forwarding is ignored;
//! - when the peer is a trusted proxy, the client is the rightmost address of the
//!   forwarding header (`X-Forwarded-For`, or RFC 7239 `Forwarded: for=`) that is not
//!   inside a trusted network: everything left of it was written by someone we do not
//!   trust;
//! - an entry that is not an address (malformed, non-ASCII, `unknown`, an obfuscated
//!   identifier) ends the walk at the last trusted hop: a client cannot buy itself a fresh
//!   bucket with garbage;
//! - only the configured header is read: a client adding the other one gains nothing.
//!
//! The walk looks at no more than [`MAX_HOPS`] entries.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use actix_web::http::header::HeaderMap;
use bakery_config::client::ClientAddress;
use ipnet::IpNet;

/// How many forwarding entries the walk reads at most (a longer chain stops there).
pub const MAX_HOPS: usize = 32;

/// The header trusted proxies write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (ingress-nginx, most load balancers).
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for="[2001:db8::1]:4711"`.
    Forwarded,
}

impl ForwardedHeader {
    fn name(self) -> &'static str {
        match self {
            ForwardedHeader::XForwardedFor => "x-forwarded-for",
            ForwardedHeader::Forwarded => "forwarded",
        }
    }
}

impl FromStr for ForwardedHeader {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s.to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(ForwardedHeader::XForwardedFor),
            "forwarded" => Ok(ForwardedHeader::Forwarded),
            _ => Err(()),
        }
    }
}

/// A comma-separated list of CIDRs (a bare address is a /32 or /128).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Networks(pub Vec<IpNet>);

impl FromStr for Networks {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        s.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.parse::<IpNet>()
                    .or_else(|_| p.parse::<IpAddr>().map(IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| ())
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Networks)
    }
}

/// The proxies in front of the gateway, and the header they write.
#[derive(Debug, Clone)]
pub struct TrustedProxies {
    networks: Vec<IpNet>,
    header: ForwardedHeader,
}

impl TrustedProxies {
    pub fn new(networks: Networks, header: ForwardedHeader) -> Self {
        TrustedProxies {
            networks: networks.0,
            header,
        }
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.networks.iter().any(|net| net.contains(&ip))
    }

    /// The client of a request that came from `peer` with `headers`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> ClientAddress {
        let mut client = peer;
        if !self.trusts(peer) {
            return ClientAddress::new(client);
        }
        // every line of the header, in order, then its entries right to left
        let lines: Vec<&[u8]> = headers
            .get_all(self.header.name())
            .map(actix_web::http::header::HeaderValue::as_bytes)
            .collect();
        let entries = lines
            .iter()
            .rev()
            .flat_map(|line| line.rsplit(|b| *b == b','))
            .take(MAX_HOPS);
        for entry in entries {
            let hop = match self.header {
                ForwardedHeader::XForwardedFor => forwarded_for_entry(entry),
                ForwardedHeader::Forwarded => forwarded_element(entry),
            };
            let Some(hop) = hop else {
                // not an address: the last trusted hop is as far as we can see
                break;
            };
            client = hop;
            if !self.trusts(hop) {
                break;
            }
        }
        ClientAddress::new(client)
    }
}

/// One `X-Forwarded-For` entry: an address, or an address with a port (`[v6]:port`,
/// `v4:port`). Anything else (including any non-ASCII byte) is `None`.
fn forwarded_for_entry(entry: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(entry).ok()?.trim();
    if !text.is_ascii() || text.is_empty() {
        return None;
    }
    address_with_optional_port(text)
}

fn address_with_optional_port(text: &str) -> Option<IpAddr> {
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            // "[2001:db8::1]" without a port
            text.strip_prefix('[')
                .and_then(|t| t.strip_suffix(']'))
                .and_then(|t| t.parse::<IpAddr>().ok())
        })
}

/// The `for=` address of one RFC 7239 element (`for=192.0.2.60;proto=http;by=…`); `None`
/// when it has none, or names `unknown` or an obfuscated identifier (`_hidden`).
fn forwarded_element(element: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(element).ok()?;
    if !text.is_ascii() {
        return None;
    }
    let value = text.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("for")
            .then(|| value.trim())
    })?;
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    address_with_optional_port(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    fn headers(name: &str, values: &[&[u8]]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).expect("name"),
                HeaderValue::from_bytes(v).expect("value"),
            );
        }
        map
    }

    fn proxies(networks: &str) -> TrustedProxies {
        TrustedProxies::new(
            networks.parse().expect("networks"),
            ForwardedHeader::XForwardedFor,
        )
    }

    fn client(p: &TrustedProxies, peer: &str, xff: &[&[u8]]) -> String {
        p.client(ip(peer), &headers("x-forwarded-for", xff))
            .to_string()
    }

    #[test]
    fn without_trusted_networks_the_peer_is_the_client() {
        let p = proxies("");
        assert_eq!(
            client(&p, "198.51.100.7", &[b"203.0.113.9"]),
            "198.51.100.7"
        );
        assert_eq!(client(&p, "10.0.0.2", &[b"1.2.3.4, 5.6.7.8"]), "10.0.0.2");
    }

    #[test]
    fn an_untrusted_peer_cannot_spoof() {
        let p = proxies("10.0.0.0/8");
        assert_eq!(
            client(&p, "198.51.100.7", &[b"203.0.113.9"]),
            "198.51.100.7"
        );
    }

    #[test]
    fn the_rightmost_untrusted_entry_is_the_client() {
        let p = proxies("10.0.0.0/8, 192.168.1.1");
        // client says it is 1.1.1.1; the ingress (10.0.0.3) saw 203.0.113.9
        assert_eq!(
            client(&p, "10.0.0.3", &[b"1.1.1.1, 203.0.113.9"]),
            "203.0.113.9"
        );
        // a chain of trusted proxies is walked through
        assert_eq!(
            client(
                &p,
                "10.0.0.3",
                &[b"1.1.1.1, 203.0.113.9, 192.168.1.1, 10.9.9.9"]
            ),
            "203.0.113.9"
        );
        // several header lines are one list, in order
        assert_eq!(
            client(&p, "10.0.0.3", &[b"1.1.1.1", b"203.0.113.9, 10.1.1.1"]),
            "203.0.113.9"
        );
        // every entry trusted: the leftmost one is as far as we can see
        assert_eq!(client(&p, "10.0.0.3", &[b"10.2.2.2, 10.1.1.1"]), "10.2.2.2");
        // no header at all: the trusted peer itself
        assert_eq!(client(&p, "10.0.0.3", &[]), "10.0.0.3");
    }

    #[test]
    fn ipv6_and_ports() {
        let p = proxies("fd00::/8, 10.0.0.0/8");
        assert_eq!(
            client(&p, "fd00::1", &[b"2001:db8::7, fd00::2"]),
            "2001:db8::7"
        );
        assert_eq!(
            client(&p, "fd00::1", &[b"[2001:db8::7]:4711"]),
            "2001:db8::7"
        );
        assert_eq!(
            client(&p, "10.0.0.3", &[b"203.0.113.9:5555"]),
            "203.0.113.9"
        );
        // an IPv4-mapped peer is the IPv4 proxy
        assert_eq!(
            client(&p, "::ffff:10.0.0.3", &[b"203.0.113.9"]),
            "203.0.113.9"
        );
        assert_eq!(
            client(&p, "10.0.0.3", &[b"::ffff:203.0.113.9"]),
            "203.0.113.9"
        );
    }

    #[test]
    fn malformed_or_non_ascii_entries_stop_at_the_last_trusted_hop() {
        let p = proxies("10.0.0.0/8");
        for bad in [
            &b"1.1.1.1, bogus"[..],
            b"1.1.1.1, 203.0.113.\xc3\xa9",
            b"1.1.1.1, unknown",
            b"1.1.1.1, ",
            b"1.1.1.1, 300.1.1.1",
        ] {
            assert_eq!(client(&p, "10.0.0.3", &[bad]), "10.0.0.3", "{bad:?}");
        }
        // behind two trusted hops, garbage stops at the inner one
        assert_eq!(
            client(&p, "10.0.0.3", &[b"1.1.1.1, bogus, 10.4.4.4"]),
            "10.4.4.4"
        );
    }

    #[test]
    fn a_very_long_chain_is_read_only_so_far() {
        let p = proxies("10.0.0.0/8");
        let chain = vec!["10.0.0.1"; 1000].join(", ");
        let value = format!("203.0.113.9, {chain}");
        // the client is beyond MAX_HOPS trusted entries: the walk stops at a trusted hop
        assert_eq!(client(&p, "10.0.0.3", &[value.as_bytes()]), "10.0.0.1");
    }

    #[test]
    fn rfc_7239_forwarded() {
        let p = TrustedProxies::new(
            "10.0.0.0/8".parse().expect("networks"),
            ForwardedHeader::Forwarded,
        );
        let get = |values: &[&[u8]]| {
            p.client(ip("10.0.0.3"), &headers("forwarded", values))
                .to_string()
        };
        assert_eq!(
            get(&[b"for=1.1.1.1, for=203.0.113.9;proto=https;by=10.0.0.3"]),
            "203.0.113.9"
        );
        assert_eq!(
            get(&[b"for=1.1.1.1, For=\"[2001:db8:cafe::17]:4711\""]),
            "2001:db8:cafe::17"
        );
        assert_eq!(get(&[b"for=1.1.1.1, for=_hidden"]), "10.0.0.3");
        assert_eq!(get(&[b"for=1.1.1.1, proto=https"]), "10.0.0.3");
        // X-Forwarded-For is not read when Forwarded is the configured header
        let both = {
            let mut h = headers("forwarded", &[b"for=203.0.113.9"]);
            h.append(
                HeaderName::from_static("x-forwarded-for"),
                HeaderValue::from_static("1.1.1.1"),
            );
            h
        };
        assert_eq!(p.client(ip("10.0.0.3"), &both).to_string(), "203.0.113.9");
    }

    #[test]
    fn networks_parse_strictly() {
        assert_eq!(
            "10.0.0.0/8, 2001:db8::/32,192.168.1.1"
                .parse::<Networks>()
                .map(|n| n.0.len()),
            Ok(3)
        );
        assert!("10.0.0.0/33".parse::<Networks>().is_err());
        assert!("ingress".parse::<Networks>().is_err());
        assert_eq!("".parse::<Networks>(), Ok(Networks::default()));
    }
}
