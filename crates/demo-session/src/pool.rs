//! The warm pool: virtual tenants cloned ahead of demand (`DEMO_WARM_POOL_SIZE` per account
//! type), so creating a session only claims one — a single statement that deletes the pool
//! row and inserts the session — instead of copying a bakery while the prospect waits.
//!
//! A pool row owns its virtual tenant from before the clone starts until a session claims
//! it, so cleanup never takes a pooled tenant for an orphan. Only clones made today are
//! handed out (their dates were rebased to today); older ones are removed by cleanup.

use bakery_config::db::static_sql;
use bakery_config::demo::{AccountType, SessionId};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::sql_types::{BigInt, Text, Timestamptz, Uuid as SqlUuid};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::sessions::{DemoSession, pg_interval, session_columns};

#[derive(Debug, Clone, QueryableByName)]
pub struct WarmTenant {
    #[diesel(sql_type = SqlUuid)]
    pub virtual_tenant_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub base_tenant_id: Uuid,
    #[diesel(sql_type = Text)]
    pub demo_account_type: AccountType,
    #[diesel(sql_type = diesel::sql_types::Date)]
    pub cloned_for: NaiveDate,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub ready: bool,
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = SqlUuid)]
    virtual_tenant_id: Uuid,
}

/// The placeholder session id a pooled tenant's row carries until a session adopts it (not
/// a [`SessionId`]: no session has it).
pub fn placeholder_session_id(tenant: Uuid) -> String {
    format!("warm-{}", tenant.simple())
}

/// Reserves as many new slots as the pool of `account` lacks (counting today's slots,
/// ready or still cloning). Serialised per account type with a transaction-scoped advisory
/// lock, so several replicas refilling at once never overfill it.
pub async fn reserve(
    conn: &mut AsyncPgConnection,
    account: AccountType,
    template: Uuid,
    target: u32,
) -> diesel::QueryResult<Vec<Uuid>> {
    conn.transaction::<_, diesel::result::Error, _>(async |c| {
        sql_query("SELECT pg_advisory_xact_lock(hashtext('warm_tenants:' || $1))")
            .bind::<Text, _>(account)
            .execute(c)
            .await?;
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let have = sql_query(
            "SELECT count(*) AS n FROM warm_tenants \
             WHERE demo_account_type = $1 AND cloned_for = demo_today()",
        )
        .bind::<Text, _>(account)
        .get_result::<N>(c)
        .await?
        .n;
        let missing = i64::from(target).saturating_sub(have).max(0);
        let mut ids = Vec::new();
        for _ in 0..missing {
            let id = Uuid::new_v4();
            sql_query(
                "INSERT INTO warm_tenants (virtual_tenant_id, base_tenant_id, demo_account_type, cloned_for) \
                 VALUES ($1, $2, $3, demo_today())",
            )
            .bind::<SqlUuid, _>(id)
            .bind::<SqlUuid, _>(template)
            .bind::<Text, _>(account)
            .execute(c)
            .await?;
            ids.push(id);
        }
        Ok(ids)
    })
    .await
}

/// The end a pooled tenant's row carries until a session adopts it (cleanup removes stale
/// slots long before).
pub fn placeholder_expiry() -> DateTime<Utc> {
    Utc::now() + chrono::Duration::days(1)
}

/// One slot, if it is still reserved.
pub async fn find(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
) -> diesel::QueryResult<Option<WarmTenant>> {
    use diesel::OptionalExtension;
    sql_query(
        "SELECT virtual_tenant_id, base_tenant_id, demo_account_type, cloned_for, ready \
         FROM warm_tenants WHERE virtual_tenant_id = $1",
    )
    .bind::<SqlUuid, _>(tenant)
    .get_result(conn)
    .await
    .optional()
}

/// Of `tenants`, the slots whose clone finished.
pub async fn ready_among(
    conn: &mut AsyncPgConnection,
    tenants: &[Uuid],
) -> diesel::QueryResult<Vec<Uuid>> {
    sql_query(
        "SELECT virtual_tenant_id FROM warm_tenants WHERE ready AND virtual_tenant_id = ANY($1)",
    )
    .bind::<diesel::sql_types::Array<SqlUuid>, _>(tenants)
    .load::<IdRow>(conn)
    .await
    .map(|rows| rows.into_iter().map(|r| r.virtual_tenant_id).collect())
}

/// The slot's clone finished: it may be handed out.
pub async fn mark_warm(conn: &mut AsyncPgConnection, tenant: Uuid) -> diesel::QueryResult<()> {
    sql_query("UPDATE warm_tenants SET ready = true WHERE virtual_tenant_id = $1")
        .bind::<SqlUuid, _>(tenant)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Forgets slots (after their data was removed).
pub async fn release(conn: &mut AsyncPgConnection, tenants: &[Uuid]) -> diesel::QueryResult<()> {
    if tenants.is_empty() {
        return Ok(());
    }
    sql_query("DELETE FROM warm_tenants WHERE virtual_tenant_id = ANY($1)")
        .bind::<diesel::sql_types::Array<SqlUuid>, _>(tenants)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Claims the oldest ready, same-day tenant of `account` for a new session: one statement
/// deletes the pool row and inserts the (pending) session, so a tenant is never handed out
/// twice and never left without an owner.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    account: AccountType,
    clone_strategy: &str,
    session_id: &SessionId,
    client_ip_hash: Option<&str>,
    expires_at: DateTime<Utc>,
) -> diesel::QueryResult<Option<DemoSession>> {
    use diesel::OptionalExtension;
    static_sql(concat!(
        "WITH claimed AS ( \
             DELETE FROM warm_tenants WHERE virtual_tenant_id = ( \
                 SELECT virtual_tenant_id FROM warm_tenants \
                 WHERE ready AND demo_account_type = $1 AND cloned_for = demo_today() \
                 ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED) \
             RETURNING virtual_tenant_id, base_tenant_id) \
         INSERT INTO demo_sessions (id, virtual_tenant_id, base_tenant_id, demo_account_type, status, \
                                    clone_strategy, client_ip_hash, expires_at) \
         SELECT $2, virtual_tenant_id, base_tenant_id, $1, 'pending', $5, $3, $4 FROM claimed \
         RETURNING ",
        session_columns!()
    ))
    .bind::<Text, _>(account)
    .bind::<Text, _>(session_id)
    .bind::<diesel::sql_types::Nullable<Text>, _>(client_ip_hash)
    .bind::<Timestamptz, _>(expires_at)
    .bind::<Text, _>(clone_strategy)
    .get_result(conn)
    .await
    .optional()
}

/// Locks pool slots cleanup must remove: clones of an earlier day, and slots whose clone
/// has not finished within `stuck_after`; at most `limit`. Call inside a transaction.
pub async fn claim_stale(
    conn: &mut AsyncPgConnection,
    stuck_after: std::time::Duration,
    limit: i64,
) -> diesel::QueryResult<Vec<Uuid>> {
    sql_query(
        "SELECT virtual_tenant_id FROM warm_tenants \
         WHERE cloned_for < demo_today() OR (NOT ready AND created_at < now() - $1) \
         LIMIT $2 FOR UPDATE SKIP LOCKED",
    )
    .bind::<diesel::sql_types::Interval, _>(pg_interval(stuck_after))
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .load::<IdRow>(conn)
    .await
    .map(|rows| rows.into_iter().map(|r| r.virtual_tenant_id).collect())
}

/// Of `tenants`, those the pool owns.
pub async fn owned(
    conn: &mut AsyncPgConnection,
    tenants: &[Uuid],
) -> diesel::QueryResult<Vec<Uuid>> {
    sql_query("SELECT virtual_tenant_id FROM warm_tenants WHERE virtual_tenant_id = ANY($1)")
        .bind::<diesel::sql_types::Array<SqlUuid>, _>(tenants)
        .load::<IdRow>(conn)
        .await
        .map(|rows| rows.into_iter().map(|r| r.virtual_tenant_id).collect())
}

/// Every slot (tests and stats).
pub async fn all(conn: &mut AsyncPgConnection) -> diesel::QueryResult<Vec<WarmTenant>> {
    sql_query(
        "SELECT virtual_tenant_id, base_tenant_id, demo_account_type, cloned_for, ready \
         FROM warm_tenants ORDER BY created_at",
    )
    .load(conn)
    .await
}

/// The arrival rate of sessions per account type (sessions a second), two exponentially
/// weighted estimates from `demo_sessions.created_at`: `fast` (a 5 s time constant,
/// follows a rise within seconds: with 15 s the simulator's burst found the pool at its
/// minimum for 13 s) and `slow` (5 min, holds the pool up while demand
/// falls). Σ exp(−age/τ)/τ over the sessions of the last 5τ is the estimate of a constant
/// rate's exact value; reading it from the shared table makes every replica see the same
/// demand. Bounded by the window (25 minutes of arrivals at most).
pub async fn arrival_rates(
    conn: &mut AsyncPgConnection,
) -> diesel::QueryResult<Vec<(AccountType, ArrivalRate)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        demo_account_type: AccountType,
        #[diesel(sql_type = diesel::sql_types::Double)]
        fast: f64,
        #[diesel(sql_type = diesel::sql_types::Double)]
        slow: f64,
    }
    let rows: Vec<Row> = sql_query(format!(
        "SELECT demo_account_type, \
                coalesce(sum(exp(-extract(epoch FROM now() - created_at)::float8 / {FAST_TAU_SECS})), 0) / {FAST_TAU_SECS} AS fast, \
                coalesce(sum(exp(-extract(epoch FROM now() - created_at)::float8 / {SLOW_TAU_SECS})), 0) / {SLOW_TAU_SECS} AS slow \
         FROM demo_sessions WHERE created_at > now() - make_interval(secs => {window}) \
         GROUP BY demo_account_type",
        window = 5.0 * SLOW_TAU_SECS,
    ))
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.demo_account_type,
                ArrivalRate {
                    fast: r.fast,
                    slow: r.slow,
                },
            )
        })
        .collect())
}

/// Time constant of the fast arrival-rate estimate (seconds).
pub const FAST_TAU_SECS: f64 = 5.0;
/// Time constant of the slow arrival-rate estimate (seconds).
pub const SLOW_TAU_SECS: f64 = 300.0;

/// Sessions a second, by two exponentially weighted estimates ([`arrival_rates`]).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ArrivalRate {
    pub fast: f64,
    pub slow: f64,
}

impl ArrivalRate {
    /// What the pool is sized for: the higher estimate (grow fast, shrink slowly).
    pub fn sizing(self) -> f64 {
        self.fast.max(self.slow)
    }
}

/// Today's ready slots of `account`.
pub async fn ready_today(
    conn: &mut AsyncPgConnection,
    account: AccountType,
) -> diesel::QueryResult<i64> {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    sql_query(
        "SELECT count(*) AS n FROM warm_tenants \
         WHERE ready AND demo_account_type = $1 AND cloned_for = demo_today()",
    )
    .bind::<Text, _>(account)
    .get_result::<N>(conn)
    .await
    .map(|r| r.n)
}

/// Locks up to `n` of `account`'s ready slots, the newest first, for removal (the pool
/// shrinks): claims skip them while the lock is held. Call inside a transaction; release
/// them once their data is removed.
pub async fn claim_surplus(
    conn: &mut AsyncPgConnection,
    account: AccountType,
    n: i64,
) -> diesel::QueryResult<Vec<Uuid>> {
    sql_query(
        "SELECT virtual_tenant_id FROM warm_tenants \
         WHERE ready AND demo_account_type = $1 AND cloned_for = demo_today() \
         ORDER BY created_at DESC LIMIT $2 FOR UPDATE SKIP LOCKED",
    )
    .bind::<Text, _>(account)
    .bind::<BigInt, _>(n)
    .load::<IdRow>(conn)
    .await
    .map(|rows| rows.into_iter().map(|r| r.virtual_tenant_id).collect())
}
