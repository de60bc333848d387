//! The warm pool: virtual tenants cloned ahead of demand (`DEMO_WARM_POOL_SIZE` per account
//! type), so creating a session only claims one — a single statement that deletes the pool
//! row and inserts the session — instead of copying a bakery while the prospect waits.
//!
//! A pool row owns its virtual tenant from before the clone starts until a session claims
//! it, so cleanup never takes a pooled tenant for an orphan. Only clones made today are
//! handed out (their dates were rebased to today); older ones are removed by cleanup.

use bakery_config::demo::{AccountType, SessionId};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::sql_types::{BigInt, Text, Timestamptz, Uuid as SqlUuid};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::sessions::{DemoSession, pg_interval};

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
             WHERE demo_account_type = $1 AND cloned_for = current_date",
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
                 VALUES ($1, $2, $3, current_date)",
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
    sql_query(
        "WITH claimed AS ( \
             DELETE FROM warm_tenants WHERE virtual_tenant_id = ( \
                 SELECT virtual_tenant_id FROM warm_tenants \
                 WHERE ready AND demo_account_type = $1 AND cloned_for = current_date \
                 ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED) \
             RETURNING virtual_tenant_id, base_tenant_id) \
         INSERT INTO demo_sessions (id, virtual_tenant_id, base_tenant_id, demo_account_type, status, \
                                    clone_strategy, client_ip_hash, expires_at) \
         SELECT $2, virtual_tenant_id, base_tenant_id, $1, 'pending', $5, $3, $4 FROM claimed \
         RETURNING *",
    )
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
         WHERE cloned_for < current_date OR (NOT ready AND created_at < now() - $1) \
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
