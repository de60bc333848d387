//! The `demo_sessions` table: the truth about every session.
//!
//! Ids, account types and statuses are typed ([`SessionId`], [`AccountType`],
//! [`SessionStatus`]); the `text` columns map to them through `bakery_config::demo`, so a
//! row that does not parse is a query error naming the value.

use std::time::Duration;

use bakery_config::db::static_sql;
use bakery_config::demo::{AccountType, SessionId, SessionStatus};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Interval, Text};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::schema::demo_sessions;

/// The columns of [`DemoSession`], for raw statements that answer one: named, not `*`
/// (`bakery_config::db::static_sql` says why).
macro_rules! session_columns {
    () => {
        "id, virtual_tenant_id, base_tenant_id, demo_account_type, status, clone_strategy, \
         client_ip_hash, created_at, ready_at, expires_at, extensions_used, ended_at, \
         destroyed_at, failure_reason, clone_duration_ms, cleanup_attempts, \
         last_cleanup_error, updated_at"
    };
}
pub(crate) use session_columns;

#[derive(Debug, Clone, Queryable, Selectable, QueryableByName, PartialEq, Eq)]
#[diesel(table_name = demo_sessions, check_for_backend(diesel::pg::Pg))]
pub struct DemoSession {
    pub id: SessionId,
    pub virtual_tenant_id: Uuid,
    pub base_tenant_id: Uuid,
    pub demo_account_type: AccountType,
    pub status: SessionStatus,
    /// `inline` or `k8s-job` (`settings::CloneStrategy`, as it was when the session began).
    pub clone_strategy: String,
    pub client_ip_hash: Option<String>,
    pub created_at: DateTime<Utc>,
    pub ready_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    pub extensions_used: i32,
    pub ended_at: Option<DateTime<Utc>>,
    pub destroyed_at: Option<DateTime<Utc>>,
    pub failure_reason: Option<String>,
    pub clone_duration_ms: Option<i32>,
    pub cleanup_attempts: i32,
    pub last_cleanup_error: Option<String>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = demo_sessions)]
pub struct NewDemoSession<'a> {
    pub id: &'a SessionId,
    pub virtual_tenant_id: Uuid,
    pub base_tenant_id: Uuid,
    pub demo_account_type: AccountType,
    pub status: SessionStatus,
    pub clone_strategy: &'a str,
    pub client_ip_hash: Option<&'a str>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut AsyncPgConnection, new: &NewDemoSession<'_>) -> QueryResult<()> {
    diesel::insert_into(demo_sessions::table)
        .values(new)
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn find(
    conn: &mut AsyncPgConnection,
    id: &SessionId,
) -> QueryResult<Option<DemoSession>> {
    demo_sessions::table
        .find(id)
        .select(DemoSession::as_select())
        .first(conn)
        .await
        .optional()
}

/// The session, its row locked until the transaction ends (conversions and resets of one
/// session are serialised; cleanup's `SKIP LOCKED` claims pass it by meanwhile).
pub async fn lock(
    conn: &mut AsyncPgConnection,
    id: &SessionId,
) -> QueryResult<Option<DemoSession>> {
    demo_sessions::table
        .find(id)
        .select(DemoSession::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// `pending → ready`, and the funnel's `created` milestone in the same statement (the
/// answer waits for neither a second statement nor a second connection); `None` when the
/// session is no longer pending (cleanup failed it).
pub async fn mark_ready(
    conn: &mut AsyncPgConnection,
    id: &SessionId,
    clone_ms: i32,
) -> QueryResult<Option<DemoSession>> {
    static_sql(concat!(
        "WITH ready AS ( \
             UPDATE demo_sessions \
             SET status = 'ready', ready_at = now(), clone_duration_ms = $2, updated_at = now() \
             WHERE id = $1 AND status = 'pending' \
             RETURNING ",
        session_columns!(),
        "), created AS ( \
             INSERT INTO demo_milestones (session_id, demo_account_type, milestone) \
             SELECT id, demo_account_type, 'created' FROM ready \
             ON CONFLICT DO NOTHING) \
         SELECT ",
        session_columns!(),
        " FROM ready"
    ))
    .bind::<Text, _>(id)
    .bind::<Integer, _>(clone_ms)
    .get_result(conn)
    .await
    .optional()
}

/// `pending → failed`, with the reason. Data removal is recorded separately.
pub async fn mark_failed(
    conn: &mut AsyncPgConnection,
    id: &SessionId,
    reason: &str,
) -> QueryResult<()> {
    diesel::update(demo_sessions::table.filter(demo_sessions::id.eq(id)))
        .set((
            demo_sessions::status.eq(SessionStatus::Failed),
            demo_sessions::failure_reason.eq(reason),
            demo_sessions::ended_at.eq(diesel::dsl::now),
            demo_sessions::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// After a failed clone whose compensation succeeded: nothing is left to clean.
pub async fn mark_removed(conn: &mut AsyncPgConnection, id: &SessionId) -> QueryResult<()> {
    diesel::update(demo_sessions::table.filter(demo_sessions::id.eq(id)))
        .set(demo_sessions::destroyed_at.eq(diesel::dsl::now))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Adds `by` to a ready, unexpired session with extensions left — atomically, so two
/// concurrent extends can never exceed the maximum.
pub async fn extend(
    conn: &mut AsyncPgConnection,
    id: &SessionId,
    by: Duration,
    max_extensions: i32,
) -> QueryResult<Option<DemoSession>> {
    sql_query(
        "UPDATE demo_sessions SET expires_at = expires_at + $2, \
             extensions_used = extensions_used + 1, updated_at = now() \
         WHERE id = $1 AND status = 'ready' AND expires_at > now() AND extensions_used < $3 \
         RETURNING *",
    )
    .bind::<Text, _>(id)
    .bind::<Interval, _>(pg_interval(by))
    .bind::<Integer, _>(max_extensions)
    .get_result(conn)
    .await
    .optional()
}

/// `ready → expired` now (the prospect ended it); `None` if it was not ready.
pub async fn end_now(
    conn: &mut AsyncPgConnection,
    id: &SessionId,
) -> QueryResult<Option<DemoSession>> {
    diesel::update(
        demo_sessions::table
            .filter(demo_sessions::id.eq(id))
            .filter(demo_sessions::status.eq_any([SessionStatus::Ready, SessionStatus::Pending])),
    )
    .set((
        demo_sessions::status.eq(SessionStatus::Expired),
        demo_sessions::ended_at.eq(diesel::dsl::now),
        demo_sessions::expires_at.eq(diesel::dsl::now),
        demo_sessions::updated_at.eq(diesel::dsl::now),
    ))
    .returning(DemoSession::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// `ready → expired` for every session past its end; answers the ids and account types.
pub async fn expire_due(
    conn: &mut AsyncPgConnection,
) -> QueryResult<Vec<(SessionId, AccountType)>> {
    diesel::update(
        demo_sessions::table
            .filter(demo_sessions::status.eq(SessionStatus::Ready))
            .filter(demo_sessions::expires_at.le(diesel::dsl::now)),
    )
    .set((
        demo_sessions::status.eq(SessionStatus::Expired),
        demo_sessions::ended_at.eq(diesel::dsl::now),
        demo_sessions::updated_at.eq(diesel::dsl::now),
    ))
    .returning((demo_sessions::id, demo_sessions::demo_account_type))
    .get_results(conn)
    .await
}

/// Locks up to `limit` sessions whose data must go, skipping rows another cleaner holds:
/// expired and failed sessions not yet removed, and pending ones stuck longer than
/// `pending_timeout`. Failed attempts back off (30 s per attempt, at most 5 min).
/// Call inside a transaction; the locks last until it ends.
pub async fn claim_for_cleanup(
    conn: &mut AsyncPgConnection,
    pending_timeout: Duration,
    limit: i64,
) -> QueryResult<Vec<DemoSession>> {
    sql_query(
        "SELECT * FROM demo_sessions \
         WHERE destroyed_at IS NULL \
           AND (status IN ('expired', 'failed') \
                OR (status = 'pending' AND created_at < now() - $1)) \
           AND (cleanup_attempts = 0 \
                OR updated_at < now() - least(cleanup_attempts, 10) * interval '30 seconds') \
         ORDER BY expires_at \
         LIMIT $2 \
         FOR UPDATE SKIP LOCKED",
    )
    .bind::<Interval, _>(pg_interval(pending_timeout))
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// Locks one session for cleanup if nobody else holds it.
pub async fn claim_one(
    conn: &mut AsyncPgConnection,
    id: &SessionId,
) -> QueryResult<Option<DemoSession>> {
    sql_query(
        "SELECT * FROM demo_sessions WHERE id = $1 AND destroyed_at IS NULL \
         FOR UPDATE SKIP LOCKED",
    )
    .bind::<Text, _>(id)
    .get_result(conn)
    .await
    .optional()
}

/// The data is gone: expired → destroyed, stuck pending → failed, failed stays failed.
pub async fn mark_cleaned(conn: &mut AsyncPgConnection, ids: &[SessionId]) -> QueryResult<()> {
    sql_query(
        "UPDATE demo_sessions SET \
             status = CASE status WHEN 'expired' THEN 'destroyed' ELSE 'failed' END, \
             failure_reason = CASE WHEN status = 'pending' \
                 THEN coalesce(failure_reason, 'el clonado no terminó a tiempo') ELSE failure_reason END, \
             ended_at = coalesce(ended_at, now()), destroyed_at = now(), \
             last_cleanup_error = NULL, updated_at = now() \
         WHERE id = ANY($1)",
    )
    .bind::<Array<Text>, _>(ids)
    .execute(conn)
    .await
    .map(|_| ())
}

pub async fn record_cleanup_failure(
    conn: &mut AsyncPgConnection,
    id: &SessionId,
    error: &str,
) -> QueryResult<()> {
    diesel::update(demo_sessions::table.filter(demo_sessions::id.eq(id)))
        .set((
            demo_sessions::cleanup_attempts.eq(demo_sessions::cleanup_attempts + 1),
            demo_sessions::last_cleanup_error.eq(error),
            demo_sessions::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Serialises admissions (the cap check and the insert) until the transaction ends.
pub async fn lock_admissions(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    static_sql("SELECT pg_advisory_xact_lock(hashtext('demo_sessions:admission'))")
        .execute(conn)
        .await
        .map(|_| ())
}

/// Pending and ready sessions that have not ended.
pub async fn count_active(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    demo_sessions::table
        .filter(demo_sessions::status.eq_any([SessionStatus::Pending, SessionStatus::Ready]))
        .filter(demo_sessions::expires_at.gt(diesel::dsl::now))
        .count()
        .get_result(conn)
        .await
}

/// Sessions created by one client (hash) in the last hour: the rate limit's fallback when
/// Redis is unavailable.
pub async fn count_recent_for_client(
    conn: &mut AsyncPgConnection,
    ip_hash: &str,
) -> QueryResult<i64> {
    sql_query(
        "SELECT count(*) AS n FROM demo_sessions \
         WHERE client_ip_hash = $1 AND created_at > now() - interval '1 hour'",
    )
    .bind::<Text, _>(ip_hash)
    .get_result::<CountRow>(conn)
    .await
    .map(|r| r.n)
}

/// Of `tenants`, those whose session row still owns them (not yet removed): the regular
/// cleanup path handles these; the others are orphans.
pub async fn tenants_with_sessions(
    conn: &mut AsyncPgConnection,
    tenants: &[Uuid],
) -> QueryResult<Vec<Uuid>> {
    demo_sessions::table
        .filter(demo_sessions::virtual_tenant_id.eq_any(tenants))
        .filter(demo_sessions::destroyed_at.is_null())
        .select(demo_sessions::virtual_tenant_id)
        .load(conn)
        .await
}

#[derive(QueryableByName)]
pub struct CountRow {
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

pub fn pg_interval(d: Duration) -> diesel::pg::data_types::PgInterval {
    diesel::pg::data_types::PgInterval::from_microseconds(
        i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
    )
}
