//! Slowing down password guessing without handing attackers a lock-out (OWASP
//! Authentication Cheat Sheet). Failed logins are counted in Redis, each counter in a fixed
//! window (`LOGIN_FAILURE_WINDOW_SECONDS`) that starts at its first failure:
//!
//! - per **client** (an IPv4 address, an IPv6 `/64`), whatever address it tries: past
//!   `LOGIN_MAX_FAILURES_PER_IP` that client is refused (`429`);
//! - per **address and client**: past `LOGIN_MAX_FAILURES_PER_EMAIL_AND_IP` that client is
//!   refused for that address (`429`), other clients are not;
//! - per **address** alone, from every client: past `LOGIN_SLOWDOWN_AFTER_FAILURES` every
//!   attempt on it waits a bounded, growing delay before its password is checked
//!   ([`LoginSettings::slowdown`]). It is never refused: a refusal per address would let
//!   anybody lock its owner out, while a wait lets the owner in and costs a guesser time.
//!
//! Refusals are decided before the user is looked up or any password hashed, so a refused
//! attempt costs one Redis round trip. Published demo accounts are shared by every
//! prospect: their failures count per client and per address-and-client only, never per
//! address, so nobody can slow the demo down for everyone by failing on purpose.
//!
//! Redis is a helper here, not a gate: when it is down or slow the limiter logs and lets
//! the attempt through to the normal password check, so nobody is locked out and nobody
//! gets in without the right password.
//!
//! Keys (each expires with its window, and failed attempts only create them while their
//! client is not refused, so a client holds at most `LOGIN_MAX_FAILURES_PER_IP` address
//! and address-and-client counters plus its own; no address is stored in the clear):
//! `{prefix}login:failures:ip:{block}`, `{prefix}login:failures:email:{sha256(email)}` and
//! `{prefix}login:failures:email-ip:{sha256(email, block)}`.

use std::time::Duration;

use bakery_config::cache::{CacheError, Keys, RedisPool};
use bakery_config::client::ClientAddress;
use sha2::{Digest, Sha256};

use crate::domain::Email;
use crate::settings::LoginSettings;

/// The longest the limiter waits for Redis before giving up (and letting the attempt in).
const REDIS_BUDGET: Duration = Duration::from_millis(1500);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Go on to the password check, after waiting `account_delay` unless the address is a
    /// published demo account (the limiter does not know which addresses are).
    Allowed { account_delay: Duration },
    /// Refused; try again in this many seconds.
    Blocked { retry_after: u64 },
}

/// One login attempt, as the limiter sees it.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    pub email: &'a Email,
    pub client: ClientAddress,
}

#[derive(Clone)]
pub struct LoginThrottle {
    redis: RedisPool,
    keys: Keys,
    settings: LoginSettings,
}

/// One counter: how many failures, how long its window has left.
#[derive(Debug, Clone, Copy, Default)]
struct Count {
    failures: u64,
    ttl: i64,
}

impl LoginThrottle {
    pub fn new(redis: RedisPool, keys: Keys, settings: LoginSettings) -> Self {
        LoginThrottle {
            redis,
            keys,
            settings,
        }
    }

    fn client_key(&self, client: ClientAddress) -> String {
        self.keys.key(&["login", "failures", "ip", &client.block()])
    }

    fn email_key(&self, email: &Email) -> String {
        let digest = hex::encode(Sha256::digest(email.as_str().as_bytes()));
        self.keys.key(&["login", "failures", "email", &digest])
    }

    fn pair_key(&self, attempt: Attempt<'_>) -> String {
        let mut hasher = Sha256::new();
        hasher.update(attempt.email.as_str().as_bytes());
        // an address cannot contain a NUL, so no other (address, client) hashes the same bytes
        hasher.update([0]);
        hasher.update(attempt.client.block().as_bytes());
        let digest = hex::encode(hasher.finalize());
        self.keys.key(&["login", "failures", "email-ip", &digest])
    }

    /// May this attempt go on to the password check, and after how long a wait?
    pub async fn check(&self, attempt: Attempt<'_>) -> Verdict {
        let keys = [
            self.client_key(attempt.client),
            self.pair_key(attempt),
            self.email_key(attempt.email),
        ];
        match self.with_budget(self.counts(&keys)).await {
            Ok([client, pair, email]) => self.verdict(client, pair, email),
            Err(e) => {
                tracing::warn!(error = %e, "login limiter unavailable, letting the attempt through");
                Verdict::Allowed {
                    account_delay: Duration::ZERO,
                }
            }
        }
    }

    /// Counts one failed attempt: against its client and its (address, client) pair, and
    /// against the address itself unless `shared_account` (a published demo account).
    pub async fn record_failure(&self, attempt: Attempt<'_>, shared_account: bool) {
        let mut keys = vec![self.client_key(attempt.client), self.pair_key(attempt)];
        if !shared_account {
            keys.push(self.email_key(attempt.email));
        }
        if let Err(e) = self.with_budget(self.increment(&keys)).await {
            tracing::warn!(error = %e, "login limiter unavailable, failure not counted");
        }
    }

    /// A successful login forgets this client's failures on this address: the owner's own
    /// typos. Not the client's failures on other addresses, and not the address's failures
    /// from other clients, which are somebody else's guessing and go on slowing it down.
    pub async fn clear(&self, attempt: Attempt<'_>) {
        let key = self.pair_key(attempt);
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
            .unwrap_or_else(|elapsed| Err(CacheError::TimedOut(elapsed)))
    }

    /// Each key's count and time left, in one round trip.
    async fn counts<const N: usize>(&self, keys: &[String; N]) -> Result<[Count; N], CacheError> {
        let mut conn = self.redis.get().await?;
        let mut pipe = redis::pipe();
        for key in keys {
            pipe.cmd("GET").arg(key).cmd("TTL").arg(key);
        }
        let values: Vec<redis::Value> = pipe.query_async(&mut conn).await?;
        // a missing or unreadable value counts as no failures: the limiter fails open
        let number = |i: usize| -> i64 {
            values
                .get(i)
                .and_then(|v| redis::from_redis_value_ref::<Option<i64>>(v).ok().flatten())
                .unwrap_or(0)
        };
        Ok(std::array::from_fn(|i| Count {
            failures: u64::try_from(number(2 * i)).unwrap_or(0),
            ttl: number(2 * i + 1),
        }))
    }

    async fn increment(&self, keys: &[String]) -> Result<(), CacheError> {
        let mut conn = self.redis.get().await?;
        let window = self.settings.failure_window.as_secs().max(1);
        let mut pipe = redis::pipe();
        pipe.atomic();
        for key in keys {
            // the window starts at the first failure: SET NX with the TTL, then INCR (which
            // keeps the TTL), so every counter expires however it is used
            pipe.cmd("SET")
                .arg(key)
                .arg(0)
                .arg("EX")
                .arg(window)
                .arg("NX")
                .ignore()
                .cmd("INCR")
                .arg(key)
                .ignore();
        }
        pipe.query_async::<()>(&mut conn).await?;
        Ok(())
    }

    fn verdict(&self, client: Count, pair: Count, email: Count) -> Verdict {
        let window = self.settings.failure_window.as_secs().max(1);
        let over = |count: Count, limit: u32| count.failures >= u64::from(limit);
        let retry_after = |count: Count| {
            u64::try_from(count.ttl)
                .ok()
                .filter(|t| *t > 0)
                .unwrap_or(window)
                .min(window)
        };
        let refusals = [
            (client, self.settings.max_failures_per_ip),
            (pair, self.settings.max_failures_per_email_and_ip),
        ];
        match refusals
            .into_iter()
            .filter(|(count, limit)| over(*count, *limit))
            .map(|(count, _)| retry_after(count))
            .max()
        {
            Some(retry_after) => Verdict::Blocked { retry_after },
            None => Verdict::Allowed {
                account_delay: self.settings.slowdown(email.failures),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> LoginThrottle {
        let pool = bakery_config::cache::build_pool(&bakery_config::settings::RedisSettings {
            url: "redis://127.0.0.1:1".to_owned(),
            ca_file: None,
            pool_size: 1,
            key_prefix: "t:".to_owned(),
        })
        .expect("lazy pool");
        LoginThrottle::new(pool, Keys::new("t:"), LoginSettings::default())
    }

    fn count(failures: u64, ttl: i64) -> Count {
        Count { failures, ttl }
    }

    #[test]
    fn clients_and_pairs_are_refused_an_address_alone_only_waits() {
        let t = throttle();
        let clean = count(0, -2);
        // an address with a thousand failures from elsewhere: a wait, never a refusal
        assert_eq!(
            t.verdict(clean, clean, count(1000, 300)),
            Verdict::Allowed {
                account_delay: Duration::from_secs(3)
            }
        );
        assert_eq!(
            t.verdict(count(19, 10), count(4, 10), count(9, 10)),
            Verdict::Allowed {
                account_delay: Duration::ZERO
            }
        );
        assert_eq!(
            t.verdict(count(20, 40), clean, clean),
            Verdict::Blocked { retry_after: 40 }
        );
        assert_eq!(
            t.verdict(clean, count(5, 70), clean),
            Verdict::Blocked { retry_after: 70 }
        );
        // both refuse: the later window is the one to wait for; an odd TTL is the window
        assert_eq!(
            t.verdict(count(25, 40), count(5, 70), clean),
            Verdict::Blocked { retry_after: 70 }
        );
        assert_eq!(
            t.verdict(count(25, -1), clean, clean),
            Verdict::Blocked { retry_after: 900 }
        );
    }

    #[test]
    fn pairs_are_per_address_and_client_block() {
        let t = throttle();
        let ana = Email::parse("ana@horno-a.es").expect("email");
        let bea = Email::parse("bea@horno-b.es").expect("email");
        let client = |s: &str| ClientAddress::new(s.parse().expect("ip"));
        let key = |email, c| {
            t.pair_key(Attempt {
                email,
                client: client(c),
            })
        };
        assert_eq!(key(&ana, "2001:db8::1"), key(&ana, "2001:db8::2"));
        assert_ne!(key(&ana, "203.0.113.1"), key(&ana, "203.0.113.2"));
        assert_ne!(key(&ana, "203.0.113.1"), key(&bea, "203.0.113.1"));
        assert!(!key(&ana, "203.0.113.1").contains("ana"));
        assert!(!key(&ana, "203.0.113.1").contains("203.0.113.1"));
    }
}
