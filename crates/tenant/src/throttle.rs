//! Slowing down password guessing: failed logins are counted in Redis per address and per
//! client IP, in a fixed window (`LOGIN_FAILURE_WINDOW_SECONDS`). Once either count reaches
//! its limit, logins for that address or from that IP are refused with `429` and
//! `Retry-After` (the seconds left in the window) before any password is checked.
//!
//! Redis is a helper here, not a gate: when it is down or slow the limiter logs and lets
//! the attempt through to the normal password check, so nobody is locked out and nobody
//! gets in without the right password.
//!
//! Keys: `{prefix}login:failures:email:{sha256(email)}` (no address in Redis) and
//! `{prefix}login:failures:ip:{ip}`.

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
            .key(&["login", "failures", "ip", &ip.to_canonical().to_string()])
    }

    /// May this attempt go on to the password check?
    pub async fn check(&self, email: &Email, ip: Option<IpAddr>) -> Verdict {
        match self.with_budget(self.counts(email, ip)).await {
            Ok(counts) => self.verdict(counts),
            Err(e) => {
                tracing::warn!(error = %e, "login limiter unavailable, letting the attempt through");
                Verdict::Allowed
            }
        }
    }

    /// Counts one failed attempt for the address and the client.
    pub async fn record_failure(&self, email: &Email, ip: Option<IpAddr>) {
        if let Err(e) = self.with_budget(self.increment(email, ip)).await {
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

    /// `[(failures, ttl) for email, (failures, ttl) for ip]`
    async fn counts(&self, email: &Email, ip: Option<IpAddr>) -> Result<Counts, CacheError> {
        let mut conn = self.redis.get().await?;
        let mut pipe = redis::pipe();
        let email_key = self.email_key(email);
        pipe.cmd("GET").arg(&email_key).cmd("TTL").arg(&email_key);
        let ip_key = ip.map(|ip| self.ip_key(ip));
        if let Some(k) = &ip_key {
            pipe.cmd("GET").arg(k).cmd("TTL").arg(k);
        }
        let values: Vec<redis::Value> = pipe.query_async(&mut conn).await?;
        let number = |i: usize| -> i64 {
            values
                .get(i)
                .and_then(|v| redis::from_redis_value_ref::<Option<i64>>(v).ok().flatten())
                .unwrap_or(0)
        };
        Ok(Counts {
            email: (number(0), number(1)),
            ip: ip_key.map(|_| (number(2), number(3))),
        })
    }

    async fn increment(&self, email: &Email, ip: Option<IpAddr>) -> Result<(), CacheError> {
        let mut conn = self.redis.get().await?;
        let window = self.settings.failure_window.as_secs().max(1);
        let mut pipe = redis::pipe();
        pipe.atomic();
        let mut count = |key: String| {
            // the window starts at the first failure: SET NX with the TTL, then INCR (which
            // keeps the TTL)
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
        };
        count(self.email_key(email));
        if let Some(ip) = ip {
            count(self.ip_key(ip));
        }
        pipe.query_async::<()>(&mut conn).await?;
        Ok(())
    }

    fn verdict(&self, counts: Counts) -> Verdict {
        let window = self.settings.failure_window.as_secs().max(1);
        let over = |(failures, ttl): (i64, i64), limit: u32| {
            (failures >= i64::from(limit)).then(|| {
                if ttl > 0 {
                    (ttl as u64).min(window)
                } else {
                    window
                }
            })
        };
        let email = over(counts.email, self.settings.max_failures_per_email);
        let ip = counts
            .ip
            .and_then(|c| over(c, self.settings.max_failures_per_ip));
        match email.into_iter().chain(ip).max() {
            Some(retry_after) => Verdict::Blocked { retry_after },
            None => Verdict::Allowed,
        }
    }
}

struct Counts {
    email: (i64, i64),
    ip: Option<(i64, i64)>,
}
