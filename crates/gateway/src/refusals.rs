//! Bad credentials are cheap. A made-up session id, an ended session or a token that does
//! not verify is answered without asking Redis, demo-session or a database twice:
//!
//! - a session id the session key never issued fails its tag check (one hash, no state;
//!   `SessionId::is_authentic`);
//! - an issued id that turned out unknown or ended is *remembered* for
//!   `GATEWAY_REFUSAL_CACHE_SECONDS`, in its own bounded cache: a flood of bad ids can
//!   never push a real session out of the session cache;
//! - every refused credential counts against its client (address or IPv6 `/64`): past
//!   `GATEWAY_CREDENTIAL_FAILURES_PER_MINUTE` in a window, the client's credentials that
//!   are not already known good are answered `429` with `Retry-After` until the window
//!   ends, and cause no lookup at all.
//!
//! An invalid token is not remembered: checking its signature costs less than looking it
//! up would, and remembering it would charge every valid request for the look-up. It is
//! counted against the client like any other refusal.
//!
//! Both caches are `moka` caches (bounded, with TinyLFU admission and per-entry expiry),
//! so memory stays bounded whatever a client sends.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use bakery_config::client::ClientAddress;
use moka::sync::Cache;

use crate::error::GatewayError;

/// A remembered answer for a session id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// demo-session does not know it.
    Unknown,
    /// The session has ended (expired, destroyed, failed).
    Ended,
}

impl From<Refusal> for GatewayError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Unknown => GatewayError::SessionNotFound,
            Refusal::Ended => GatewayError::SessionExpired,
        }
    }
}

/// `GATEWAY_REFUSAL_*` and `GATEWAY_CREDENTIAL_FAILURES_PER_MINUTE`.
#[derive(Debug, Clone)]
pub struct RefusalSettings {
    /// How long a refused session id is remembered.
    pub remember_for: Duration,
    /// How many refused ids (and how many clients' failure counts) are kept at most.
    pub max_entries: u64,
    /// Refused credentials a client may send per window before it gets `429`.
    pub failures_per_window: u32,
    /// The window (one minute; tests shorten it).
    pub window: Duration,
}

/// One client's failures in its current window (which started at its first failure).
struct Window {
    started: Instant,
    failures: AtomicU32,
}

pub struct Refusals {
    remembered: Cache<String, Refusal>,
    failures: Cache<String, Arc<Window>>,
    limit: u32,
    window: Duration,
}

impl Refusals {
    pub fn new(settings: &RefusalSettings) -> Self {
        Refusals {
            remembered: Cache::builder()
                .max_capacity(settings.max_entries)
                .time_to_live(settings.remember_for)
                .build(),
            // an entry lives exactly one window: its expiry is the reset
            failures: Cache::builder()
                .max_capacity(settings.max_entries)
                .time_to_live(settings.window)
                .build(),
            limit: settings.failures_per_window,
            window: settings.window,
        }
    }

    /// What was answered for this session id lately, if it was refused.
    pub fn remembered(&self, session_id: &str) -> Option<Refusal> {
        self.remembered.get(session_id)
    }

    pub fn remember(&self, session_id: &str, refusal: Refusal) {
        self.remembered.insert(session_id.to_owned(), refusal);
    }

    /// A session id that is good again (an invalidation: it may have been extended).
    pub fn forget(&self, session_id: &str) {
        self.remembered.invalidate(session_id);
    }

    /// `Err(429)` when `client` used up its refused credentials for this window.
    pub fn check(&self, client: ClientAddress) -> Result<(), GatewayError> {
        let Some(window) = self.failures.get(&client.block()) else {
            return Ok(());
        };
        if window.failures.load(Ordering::Relaxed) < self.limit {
            return Ok(());
        }
        let left = self.window.saturating_sub(window.started.elapsed());
        Err(GatewayError::TooManyFailures {
            retry_after: left.as_secs().max(1),
        })
    }

    /// Counts one refused credential of `client`.
    pub fn count_failure(&self, client: ClientAddress) {
        let window = self.failures.get_with(client.block(), || {
            Arc::new(Window {
                started: Instant::now(),
                failures: AtomicU32::new(0),
            })
        });
        window.failures.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusals(limit: u32) -> Refusals {
        Refusals::new(&RefusalSettings {
            remember_for: Duration::from_secs(30),
            max_entries: 1000,
            failures_per_window: limit,
            window: Duration::from_secs(60),
        })
    }

    fn client(s: &str) -> ClientAddress {
        ClientAddress::new(s.parse().expect("an address"))
    }

    #[test]
    fn a_client_over_its_failures_is_refused_and_others_are_not() {
        let r = refusals(3);
        let attacker = client("203.0.113.9");
        for _ in 0..3 {
            assert!(r.check(attacker).is_ok());
            r.count_failure(attacker);
        }
        match r.check(attacker) {
            Err(GatewayError::TooManyFailures { retry_after }) => {
                assert!((1..=60).contains(&retry_after), "{retry_after}");
            }
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(r.check(client("198.51.100.1")).is_ok());
        // an IPv6 client is its /64: rotating addresses inside it does not help
        let v6 = client("2001:db8:1:2::1");
        for _ in 0..3 {
            r.count_failure(v6);
        }
        assert!(r.check(client("2001:db8:1:2:ffff::9")).is_err());
        assert!(r.check(client("2001:db8:1:3::1")).is_ok());
    }

    #[test]
    fn refused_ids_are_remembered_until_forgotten() {
        let r = refusals(3);
        assert_eq!(r.remembered("demo_x"), None);
        r.remember("demo_x", Refusal::Ended);
        assert_eq!(r.remembered("demo_x"), Some(Refusal::Ended));
        r.forget("demo_x");
        assert_eq!(r.remembered("demo_x"), None);
    }
}
