//! A demo session that writes faster than inventory-service allows (`DEMO_WRITES_PER_MINUTE`)
//! is answered `429 demo_quota` by inventory-service with a `Retry-After` of at most a
//! minute. The gateway remembers that answer until its `Retry-After` has passed and refuses
//! the session's further writes itself, so a script hammering writes costs a cache lookup
//! per request instead of a trip to inventory-service and Redis. Reads are never held back,
//! inventory-service still counts every write it sees (the gateway is a shortcut, not the
//! rule), and a refusal longer than a minute (the row quota's, which waiting does not lift)
//! is not remembered.

use std::time::{Duration, Instant};

use actix_web::http::Method;
use moka::sync::Cache;

use crate::error::GatewayError;

/// The longest `Retry-After` the gateway takes over.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Sessions remembered at most (each an id and an instant).
const MAX_SESSIONS: u64 = 100_000;

pub struct WriteBackoff {
    until: Cache<String, Instant>,
}

impl Default for WriteBackoff {
    fn default() -> Self {
        WriteBackoff {
            until: Cache::builder()
                .max_capacity(MAX_SESSIONS)
                .time_to_live(MAX_BACKOFF)
                .build(),
        }
    }
}

/// Whether `method` writes (what the write quota counts).
pub fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl WriteBackoff {
    /// `Err(429 demo_quota)` while `session` must wait before writing again.
    pub fn check(&self, session: &str) -> Result<(), GatewayError> {
        let Some(until) = self.until.get(session) else {
            return Ok(());
        };
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        Err(GatewayError::DemoWriteQuota {
            retry_after: left.as_secs().max(1),
        })
    }

    /// Takes over an upstream's `429` with `Retry-After: retry_after` to `session`'s write.
    pub fn remember(&self, session: &str, retry_after: Duration) {
        if retry_after.is_zero() || retry_after > MAX_BACKOFF {
            return;
        }
        self.until
            .insert(session.to_owned(), Instant::now() + retry_after);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_refusal_is_taken_over_and_a_long_one_is_not() {
        let backoff = WriteBackoff::default();
        assert!(backoff.check("demo_a").is_ok());
        backoff.remember("demo_a", Duration::from_secs(30));
        match backoff.check("demo_a") {
            Err(GatewayError::DemoWriteQuota { retry_after }) => {
                assert!((1..=30).contains(&retry_after), "{retry_after}");
            }
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(backoff.check("demo_b").is_ok());
        backoff.remember("demo_c", Duration::from_secs(3600));
        assert!(backoff.check("demo_c").is_ok());
        assert!(is_write(&Method::POST) && is_write(&Method::DELETE));
        assert!(!is_write(&Method::GET) && !is_write(&Method::HEAD));
    }
}
