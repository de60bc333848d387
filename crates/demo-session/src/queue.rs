//! The waiting room: at the global cap (`DEMO_MAX_ACTIVE_SESSIONS`) a create takes a place
//! in line (`202 queued`) instead of a refusal, and the place's holder polls
//! `GET /api/demo/queue/{token}` until its turn comes and the poll answers the session.
//!
//! The line lives in PostgreSQL (`demo_queue`), so every replica sees the same one:
//! - **order**: an identity column numbers arrivals; a place's position is the number of
//!   live places before it, plus one. First come, first served, across account types
//!   (the cap is global, so one line is the fair one).
//! - **one place per client**: a unique index over the waiting places of a client hash.
//! - **abandonment**: a place not polled for [`ABANDON_AFTER_SECS`] is ignored at once
//!   (it counts for no one's position) and deleted by the next enqueue or cleanup pass.
//! - **the bound**: at most `DEMO_QUEUE_MAX` live places; beyond, `503 capacity_reached`.
//! - **admission**: a new create and a waiting place are admitted under the same
//!   advisory lock as every admission ([`crate::sessions::lock_admissions`]): a create is
//!   admitted directly only while the active sessions *and everyone waiting* fit under the
//!   cap, so nobody jumps the line; a place is admitted when the active sessions and the
//!   places ahead of it leave room. The session made for a place is recorded in it, so a
//!   poll whose answer was lost is answered again by the next one.

use std::fmt;
use std::str::FromStr;

use bakery_config::demo::AccountType;
use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz};
use diesel::{OptionalExtension, QueryableByName, sql_query};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use rand::Rng;

/// A place not polled for this long is abandoned.
pub const ABANDON_AFTER_SECS: i64 = 30;

/// How often the page is told to poll.
pub const POLL_AFTER_SECS: u64 = 2;

/// How long an admitted place still answers its session (a poll whose answer was lost).
pub const ADMITTED_KEPT_MINUTES: i64 = 10;

const TOKEN_PREFIX: &str = "q_";
const TOKEN_LEN: usize = 32;

/// A place in line, as its holder names it: `q_` and 32 random base-62 characters (190
/// bits: the token is the holder's only credential for the session it turns into).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueToken(String);

impl QueueToken {
    pub fn generate() -> Self {
        let random: String = rand::rng()
            .sample_iter(rand::distr::Alphanumeric)
            .take(TOKEN_LEN)
            .map(char::from)
            .collect();
        QueueToken(format!("{TOKEN_PREFIX}{random}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for QueueToken {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        let random = s.strip_prefix(TOKEN_PREFIX).ok_or(())?;
        (random.len() == TOKEN_LEN && random.bytes().all(|b| b.is_ascii_alphanumeric()))
            .then(|| QueueToken(s.to_owned()))
            .ok_or(())
    }
}

impl fmt::Display for QueueToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A place in line and how many live places are ahead of it.
#[derive(Debug, Clone, QueryableByName)]
pub struct Place {
    #[diesel(sql_type = Text)]
    pub token: String,
    #[diesel(sql_type = Text)]
    pub demo_account_type: AccountType,
    #[diesel(sql_type = Text)]
    pub client_ip_hash: String,
    /// The session made for it, once admitted.
    #[diesel(sql_type = Nullable<Text>)]
    pub session_id: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub enqueued_at: DateTime<Utc>,
    /// Live places before this one (those admitted or abandoned do not count).
    #[diesel(sql_type = BigInt)]
    pub ahead: i64,
}

impl Place {
    /// `1` for the head of the line.
    pub fn position(&self) -> i64 {
        self.ahead + 1
    }
}

/// `SELECT` of a place with its count of live places ahead. `$1`: the token.
const PLACE: &str = "SELECT q.token, q.demo_account_type, q.client_ip_hash, q.session_id, q.enqueued_at, \
         (SELECT count(*) FROM demo_queue a \
          WHERE a.session_id IS NULL AND a.position < q.position \
            AND a.last_polled_at > clock_timestamp() - make_interval(secs => 30)) AS ahead \
     FROM demo_queue q WHERE q.token = $1";

/// Why a place could not be taken.
#[derive(Debug)]
pub enum Refused {
    /// `DEMO_QUEUE_MAX` live places already.
    Full,
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for Refused {
    fn from(e: diesel::result::Error) -> Self {
        Refused::Db(e)
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Live places waiting (not admitted, polled within [`ABANDON_AFTER_SECS`]).
pub async fn waiting(conn: &mut AsyncPgConnection) -> diesel::QueryResult<i64> {
    bakery_config::db::static_sql(
        "SELECT count(*) AS n FROM demo_queue \
         WHERE session_id IS NULL AND last_polled_at > clock_timestamp() - make_interval(secs => 30)",
    )
    .get_result::<Count>(conn)
    .await
    .map(|c| c.n)
}

/// Deletes abandoned places and admitted ones past [`ADMITTED_KEPT_MINUTES`]; answers how
/// many abandoned places it deleted.
pub async fn forget_abandoned(conn: &mut AsyncPgConnection) -> diesel::QueryResult<usize> {
    #[derive(QueryableByName)]
    struct Abandoned {
        #[diesel(sql_type = BigInt)]
        abandoned: i64,
    }
    sql_query(
        "WITH gone AS ( \
             DELETE FROM demo_queue \
             WHERE (session_id IS NULL AND last_polled_at <= clock_timestamp() - make_interval(secs => 30)) \
                OR (session_id IS NOT NULL AND admitted_at < now() - make_interval(mins => 10)) \
             RETURNING session_id) \
         SELECT count(*) FILTER (WHERE session_id IS NULL) AS abandoned FROM gone",
    )
    .get_result::<Abandoned>(conn)
    .await
    .map(|a| usize::try_from(a.abandoned).unwrap_or(0))
}

/// Takes a place for `client_ip_hash`, or answers the one it already holds (one per
/// client). Call under the admissions lock, so the bound holds across replicas.
pub async fn enqueue(
    conn: &mut AsyncPgConnection,
    account: AccountType,
    client_ip_hash: &str,
    max: u32,
) -> Result<Place, Refused> {
    forget_abandoned(conn).await?;
    #[derive(QueryableByName)]
    struct Token {
        #[diesel(sql_type = Text)]
        token: String,
    }
    let held = sql_query(
        "UPDATE demo_queue SET last_polled_at = clock_timestamp() \
         WHERE client_ip_hash = $1 AND session_id IS NULL RETURNING token",
    )
    .bind::<Text, _>(client_ip_hash)
    .get_result::<Token>(conn)
    .await
    .optional()?;
    let token = match held {
        Some(t) => t.token,
        None => {
            if waiting(conn).await? >= i64::from(max) {
                return Err(Refused::Full);
            }
            let token = QueueToken::generate();
            sql_query(
                "INSERT INTO demo_queue (token, demo_account_type, client_ip_hash) VALUES ($1, $2, $3)",
            )
            .bind::<Text, _>(token.as_str())
            .bind::<Text, _>(account)
            .bind::<Text, _>(client_ip_hash)
            .execute(conn)
            .await?;
            token.0
        }
    };
    find(conn, &token)
        .await?
        .ok_or(Refused::Db(diesel::result::Error::NotFound))
}

/// A place that is still held: admitted recently, or waiting and polled in time.
pub async fn find(conn: &mut AsyncPgConnection, token: &str) -> diesel::QueryResult<Option<Place>> {
    sql_query(format!(
        "{PLACE} AND (q.session_id IS NOT NULL AND q.admitted_at > now() - make_interval(mins => 10) \
                  OR q.session_id IS NULL AND q.last_polled_at > clock_timestamp() - make_interval(secs => 30))"
    ))
    .bind::<Text, _>(token)
    .get_result(conn)
    .await
    .optional()
}

/// The holder polled: the place stays live for another [`ABANDON_AFTER_SECS`].
pub async fn touch(conn: &mut AsyncPgConnection, token: &str) -> diesel::QueryResult<()> {
    sql_query(
        "UPDATE demo_queue SET last_polled_at = clock_timestamp() \
         WHERE token = $1 AND session_id IS NULL",
    )
    .bind::<Text, _>(token)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Records the session made for a place (in the admission's transaction).
pub async fn admitted(
    conn: &mut AsyncPgConnection,
    token: &str,
    session_id: &str,
) -> diesel::QueryResult<()> {
    sql_query("UPDATE demo_queue SET session_id = $2, admitted_at = now() WHERE token = $1")
        .bind::<Text, _>(token)
        .bind::<Text, _>(session_id)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Places admitted in the last minute: while people wait, every place that comes free
/// goes to the line, so this is the rate the line moves at. Bounded by the admitted places
/// kept (10 minutes of them).
pub async fn admitted_last_minute(conn: &mut AsyncPgConnection) -> diesel::QueryResult<i64> {
    sql_query(
        "SELECT count(*) AS n FROM demo_queue \
         WHERE session_id IS NOT NULL AND admitted_at > now() - make_interval(secs => 60)",
    )
    .get_result::<Count>(conn)
    .await
    .map(|c| c.n)
}

/// When the `n`-th active session (1-based, earliest end first) ends, if there are that
/// many: the estimate of a place's wait. Bounded: `n` is at most the queue's bound plus
/// the cap.
pub async fn nth_end(
    conn: &mut AsyncPgConnection,
    n: i64,
) -> diesel::QueryResult<Option<DateTime<Utc>>> {
    #[derive(QueryableByName)]
    struct End {
        #[diesel(sql_type = Timestamptz)]
        expires_at: DateTime<Utc>,
    }
    sql_query(
        "SELECT expires_at FROM demo_sessions \
         WHERE status IN ('pending', 'ready') AND expires_at > now() \
         ORDER BY expires_at OFFSET $1 LIMIT 1",
    )
    .bind::<BigInt, _>(n.saturating_sub(1).max(0))
    .get_result::<End>(conn)
    .await
    .optional()
    .map(|e| e.map(|e| e.expires_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_parse_back() {
        let token = QueueToken::generate();
        assert_eq!(token.as_str().len(), 34);
        assert_eq!(token.as_str().parse::<QueueToken>(), Ok(token.clone()));
        assert_ne!(QueueToken::generate(), token);
        for bad in [
            "",
            "q_",
            "q_short",
            "x_0123456789abcdef0123456789abcdef",
            "q_0123456789abcdef0123456789abcde!",
        ] {
            assert!(bad.parse::<QueueToken>().is_err(), "{bad}");
        }
    }
}
