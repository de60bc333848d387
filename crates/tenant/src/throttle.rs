//! Slowing down password guessing: failed logins are counted in Redis per [`Subject`] — the
//! address tried and the client IP — in a fixed window (`LOGIN_FAILURE_WINDOW_SECONDS`)
//! that starts at the first failure. Once any subject's count reaches its limit, further
//! attempts are refused with `429` and `Retry-After` (the seconds left in its window)
//! before any password is checked.
//!
//! Redis is a helper here, not a gate: when it is down or slow the limiter logs and lets
//! the attempt through to the normal password check, so nobody is locked out and nobody
//! gets in without the right password.
//!
//! Keys: `{prefix}login:failures:email:{sha256(email)}` (no address in Redis) and
//! `{prefix}login:failures:ip:{ip}` (an IPv6 client is counted by its `/64`).

use std::net::IpAddr;
use std::time::Duration;

use bakery_config::cache::{CacheError, Keys, RedisPool};
use sha2::{Digest, Sha256};

use crate::domain::Email;
use crate::settings::LoginSettings;

/// The longest the limiter waits for Redis before giving up (and letting the attempt in).
const REDIS_BUDGET: Duration = Duration::from_millis(1500);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Refused; try again in this many seconds.
    Blocked {
        retry_after: u64,
    },
}

#[derive(Clone)]
pub struct LoginThrottle {
    redis: RedisPool,
    keys: Keys,
    settings: LoginSettings,
}

impl LoginThrottle {
    pub fn new(redis: RedisPool, keys: Keys, settings: LoginSettings) -> Self {
        LoginThrottle {
            redis,
            keys,
            settings,
        }
    }

    fn email_key(&self, email: &Email) -> String {
        let digest = hex::encode(Sha256::digest(email.as_str().as_bytes()));
        self.keys.key(&["login", "failures", "email", &digest])
    }

    fn ip_key(&self, ip: IpAddr) -> String {
        self.keys
            .key(&["login", "failures", "ip", &client_block(ip)])
    }

    /// May this attempt go on to the password check?
    pub async fn check(&self, subjects: &[Subject<'_>]) -> Verdict {
        match self.with_budget(self.counts(subjects)).await {
            Ok(counts) => self.verdict(&counts),
            Err(e) => {
                tracing::warn!(error = %e, "login limiter unavailable, letting the attempt through");
                Verdict::Allowed
            }
        }
    }

    /// Counts one failed attempt for each subject.
    pub async fn record_failure(&self, subjects: &[Subject<'_>]) {
        if subjects.is_empty() {
            return;
        }
        if let Err(e) = self.with_budget(self.increment(subjects)).await {
            tracing::warn!(error = %e, "login limiter unavailable, failure not counted");
        }
    }

    /// A successful login forgets the address's failures (not the client's).
    pub async fn clear(&self, email: &Email) {
        let key = self.email_key(email);
        let result = self
            .with_budget(async {
                let mut conn = self.redis.get().await?;
                redis::cmd("UNLINK")
                    .arg(&key)
                    .query_async::<()>(&mut conn)
                    .await?;
                Ok(())
            })
            .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "login limiter unavailable, failures not cleared");
        }
    }

    async fn with_budget<T>(
        &self,
        work: impl Future<Output = Result<T, CacheError>>,
    ) -> Result<T, CacheError> {
        tokio::time::timeout(REDIS_BUDGET, work)
            .await
            .unwrap_or_else(|_| Err(CacheError::Pool("timed out".to_owned())))
    }

    fn key(&self, subject: &Subject<'_>) -> String {
        match subject {
            Subject::Address(email) => self.email_key(email),
            Subject::Client(ip) => self.ip_key(*ip),
        }
    }

    fn limit(&self, subject: &Subject<'_>) -> u32 {
        match subject {
            Subject::Address(_) => self.settings.max_failures_per_email,
            Subject::Client(_) => self.settings.max_failures_per_ip,
        }
    }

    /// `(failures, ttl, limit)` of each subject.
    async fn counts(&self, subjects: &[Subject<'_>]) -> Result<Vec<Count>, CacheError> {
        if subjects.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.redis.get().await?;
        let mut pipe = redis::pipe();
        for subject in subjects {
            let key = self.key(subject);
            pipe.cmd("GET").arg(&key).cmd("TTL").arg(&key);
        }
        let values: Vec<redis::Value> = pipe.query_async(&mut conn).await?;
        let number = |i: usize| -> i64 {
            values
                .get(i)
                .and_then(|v| redis::from_redis_value_ref::<Option<i64>>(v).ok().flatten())
                .unwrap_or(0)
        };
        Ok(subjects
            .iter()
            .enumerate()
            .map(|(i, subject)| Count {
                failures: number(2 * i),
                ttl: number(2 * i + 1),
                limit: self.limit(subject),
            })
            .collect())
    }

    async fn increment(&self, subjects: &[Subject<'_>]) -> Result<(), CacheError> {
        let mut conn = self.redis.get().await?;
        let window = self.settings.failure_window.as_secs().max(1);
        let mut pipe = redis::pipe();
        pipe.atomic();
        for subject in subjects {
            // the window starts at the first failure: SET NX with the TTL, then INCR (which
            // keeps the TTL)
            let key = self.key(subject);
            pipe.cmd("SET")
                .arg(&key)
                .arg(0)
                .arg("EX")
                .arg(window)
                .arg("NX")
                .ignore()
                .cmd("INCR")
                .arg(&key)
                .ignore();
        }
        pipe.query_async::<()>(&mut conn).await?;
        Ok(())
    }

    fn verdict(&self, counts: &[Count]) -> Verdict {
        let window = self.settings.failure_window.as_secs().max(1);
        let retry_after = counts
            .iter()
            .filter(|c| c.failures >= i64::from(c.limit))
            .map(|c| {
                u64::try_from(c.ttl)
                    .ok()
                    .filter(|t| *t > 0)
                    .unwrap_or(window)
                    .min(window)
            })
            .max();
        match retry_after {
            Some(retry_after) => Verdict::Blocked { retry_after },
            None => Verdict::Allowed,
        }
    }
}

/// The block a client address is counted as: an IPv4 address itself, an IPv6 address's
/// `/64` (one subscriber usually holds a whole `/64`, so single addresses are free to rotate).
fn client_block(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// What failures are counted against.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// One login address, whoever tries it.
    Address(&'a Email),
    /// One client, whatever address it tries.
    Client(IpAddr),
}

struct Count {
    failures: i64,
    ttl: i64,
    limit: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_counted_by_their_64_block() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        assert_eq!(client_block(ip("203.0.113.9")), "203.0.113.9");
        assert_eq!(client_block(ip("::ffff:203.0.113.9")), "203.0.113.9");
        assert_eq!(
            client_block(ip("2001:db8:1:2:aaaa::1")),
            client_block(ip("2001:db8:1:2:bbbb::7"))
        );
        assert_ne!(
            client_block(ip("2001:db8:1:2::1")),
            client_block(ip("2001:db8:1:3::1"))
        );
    }
}
