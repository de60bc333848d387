//! PostgreSQL plumbing: pools, embedded migrations and tenant scoping.
//!
//! Row-level security policies (see `migrations/*/…_rls`) read two per-transaction
//! settings: `app.tenant_id` (the only tenant a transaction can see or write) and
//! `app.all_tenants` (on only for the cross-tenant work of seeding, cloning and cleanup).
//! Both are set with `set_config(…, true)`, so they end with the transaction and can
//! never leak to the next user of a pooled connection.

use diesel::sql_types::Text;
use diesel_async::pooled_connection::deadpool::{BuildError, Object, Pool, PoolError};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};
use std::sync::Arc;

use futures_util::FutureExt;
use uuid::Uuid;

use crate::settings::{DatabaseLimits, DatabaseSettings};
pub use crate::tls::{PgTarget, SslMode, TlsError};

mod static_sql;
pub use static_sql::{StaticSql, static_sql};

pub type PgPool = Pool<AsyncPgConnection>;
pub type PgConn = Object<AsyncPgConnection>;
pub use diesel_async::AsyncPgConnection;

/// What a migration step fails with: diesel_migrations' own boxed error, or what we box
/// (the connection, the blocking task).
pub type MigrationFailure = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// No connection within the pool's limits (services answer `503`).
    #[error("database pool: {0}")]
    Pool(#[from] PoolError),
    /// The pool could not be built (start-up only).
    #[error("database pool: {0}")]
    Build(#[from] BuildError),
    #[error("database: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("migrations: {0}")]
    Migration(#[source] MigrationFailure),
    /// The URL's `sslmode`/`sslrootcert` cannot be used (start-up only).
    #[error("database TLS: {0}")]
    Tls(#[from] TlsError),
}

/// Builds a pool; connections are opened on first use, each with `settings.limits`.
pub fn build_pool(settings: &DatabaseSettings) -> Result<PgPool, DbError> {
    build_pool_with_limits(&settings.url, settings.pool_size, settings.limits)
}

/// A pool of `size` connections with the default [`DatabaseLimits`].
pub fn build_pool_for_url(url: &str, size: usize) -> Result<PgPool, DbError> {
    build_pool_with_limits(url, size, DatabaseLimits::default())
}

/// A pool whose every connection runs with `limits` (`statement_timeout`, `lock_timeout`,
/// `idle_in_transaction_session_timeout`, set once when the connection is opened), and
/// where getting a connection fails after `limits.pool_wait` instead of waiting on.
pub fn build_pool_with_limits(
    url: &str,
    size: usize,
    limits: DatabaseLimits,
) -> Result<PgPool, DbError> {
    let target = Arc::new(PgTarget::from_url(url)?);
    let setup = session_limits_sql(&limits);
    let mut config = ManagerConfig::default();
    // a returned connection is checked without a `SELECT 1` (the default would add a round
    // trip to every checkout: three to a warm pool hit): one the server closed is already
    // seen closed and replaced, and a statement on a connection lost in between fails as
    // `unavailable` (503, nothing changed), which is what the caller would get anyway
    config.recycling_method = RecyclingMethod::Fast;
    // every connection is opened here, so the URL's `sslmode`/`sslrootcert` apply to each
    // (the manager's own URL argument is the same URL, already read into `target`)
    config.custom_setup = Box::new(move |_url| {
        let setup = setup.clone();
        let target = Arc::clone(&target);
        async move {
            let mut conn = target.connect().await?;
            // session-level on purpose: every transaction of this connection gets them, and
            // no statement a service sends resets them
            conn.batch_execute(&setup)
                .await
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
            Ok(conn)
        }
        .boxed()
    });
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
    // the wait for a free slot, opening a new connection and checking a returned one are
    // each bounded, so `get()` ends in an error the services answer `503` to
    Pool::builder(manager)
        .max_size(size)
        .wait_timeout(Some(limits.pool_wait))
        .create_timeout(Some(limits.pool_wait))
        .recycle_timeout(Some(limits.pool_wait))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(DbError::Build)
}

/// The `SET`s a new connection runs (milliseconds; PostgreSQL's unit for the three).
fn session_limits_sql(limits: &DatabaseLimits) -> String {
    format!(
        "SET statement_timeout = {}; SET lock_timeout = {}; \
         SET idle_in_transaction_session_timeout = {}",
        limits.statement_timeout.as_millis(),
        limits.lock_timeout.as_millis(),
        limits.idle_in_transaction_timeout.as_millis()
    )
}

/// Whether PostgreSQL gave up on a statement because of one of the [`DatabaseLimits`]:
/// `statement_timeout`, `lock_timeout` (SQLSTATE 57014 and 55P03) or the end of a session
/// idle in a transaction. diesel reports all three as `DatabaseErrorKind::Unknown`, so the
/// server's message tells them apart. Services answer these `503` with `Retry-After`: the
/// request was refused for load, not broken.
pub fn is_timeout(error: &diesel::result::Error) -> bool {
    match error {
        diesel::result::Error::DatabaseError(_, info) => {
            let message = info.message();
            message.contains("canceling statement due to statement timeout")
                || message.contains("canceling statement due to lock timeout")
                || message.contains("idle-in-transaction timeout")
        }
        _ => false,
    }
}

/// Whether the statement failed because the database went away under it, not because of
/// anything the request did: the connection was closed or could not be written to (no
/// SQLSTATE; PostgreSQL stopped or restarted, the network dropped), PostgreSQL ended the
/// session (SQLSTATE 57P01–57P03: `terminating connection due to administrator command`,
/// a crash of another server process, the server shutting down or starting up), or the
/// transaction's connection was left unusable. The pool drops such a connection and opens
/// a new one once the server is back, so services answer these `503` with `Retry-After`,
/// like a pool that could not connect (scripts/faults.sh, `pg-restart`).
pub fn is_unavailable(error: &diesel::result::Error) -> bool {
    use diesel::result::DatabaseErrorKind as Kind;
    match error {
        diesel::result::Error::DatabaseError(
            Kind::UnableToSendCommand | Kind::ClosedConnection,
            _,
        )
        | diesel::result::Error::BrokenTransactionManager => true,
        diesel::result::Error::DatabaseError(_, info) => {
            let message = info.message();
            message.starts_with("terminating connection due to")
                || message.contains("the database system is shutting down")
                || message.contains("the database system is starting up")
                || message.contains("the database system is in recovery mode")
        }
        _ => false,
    }
}

type SyncPg = diesel_async::async_connection_wrapper::AsyncConnectionWrapper<AsyncPgConnection>;

async fn with_migration_harness<T: Send + 'static>(
    url: &str,
    work: impl FnOnce(&mut SyncPg) -> Result<T, MigrationFailure> + Send + 'static,
) -> Result<T, DbError> {
    use diesel::Connection;
    let target = PgTarget::from_url(url)?;
    let url = url.to_owned();
    // diesel_migrations is synchronous: run it on a blocking thread with its own connection
    // (over TLS when the URL asks for it).
    tokio::task::spawn_blocking(move || {
        let mut conn = if target.uses_tls() {
            let conn = tokio::runtime::Handle::current()
                .block_on(target.connect())
                .map_err(|e| DbError::Migration(e.into()))?;
            SyncPg::from(conn)
        } else {
            SyncPg::establish(&url).map_err(|e| DbError::Migration(e.into()))?
        };
        work(&mut conn).map_err(DbError::Migration)
    })
    .await
    .map_err(|e| DbError::Migration(e.into()))?
}

/// Applies every pending migration; returns the versions applied.
pub async fn run_migrations(
    url: &str,
    migrations: EmbeddedMigrations,
) -> Result<Vec<String>, DbError> {
    with_migration_harness(url, move |conn| {
        conn.run_pending_migrations(migrations)
            .map(|v| v.iter().map(ToString::to_string).collect())
    })
    .await
}

/// Reverts every applied migration (tests check that `down.sql` really undoes `up.sql`).
pub async fn revert_all_migrations(
    url: &str,
    migrations: EmbeddedMigrations,
) -> Result<Vec<String>, DbError> {
    with_migration_harness(url, move |conn| {
        conn.revert_all_migrations(migrations)
            .map(|v| v.iter().map(ToString::to_string).collect())
    })
    .await
}

#[derive(diesel::QueryableByName)]
struct Unit {
    #[diesel(sql_type = Text)]
    #[expect(
        dead_code,
        reason = "read by diesel only: the row must name the column"
    )]
    set_config: String,
}

/// Scopes the current transaction to one tenant (row-level security reads it).
/// Call it first inside `conn.transaction(…)`.
pub async fn scope_to_tenant(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
) -> diesel::QueryResult<()> {
    static_sql("SELECT set_config('app.tenant_id', $1, true) AS set_config")
        .bind::<Text, _>(tenant_id.to_string())
        .load::<Unit>(conn)
        .await
        .map(|_| ())
}

/// Lets the current transaction work across tenants. For seeding, cloning, cleanup and
/// procurement, and two read-only lookups of tenant-service (login by email, the internal
/// tenant list); no handler that serves a tenant's own data calls it.
pub async fn allow_all_tenants(conn: &mut AsyncPgConnection) -> diesel::QueryResult<()> {
    static_sql("SELECT set_config('app.all_tenants', 'on', true) AS set_config")
        .load::<Unit>(conn)
        .await
        .map(|_| ())
}

/// Readiness check: `SELECT 1` on a pooled connection.
pub struct PostgresReady {
    pub name: &'static str,
    pub pool: PgPool,
}

impl crate::http::ReadinessCheck for PostgresReady {
    fn name(&self) -> &str {
        self.name
    }
    fn check(&self) -> crate::http::Check<'_> {
        Box::pin(async move {
            let mut conn = self.pool.get().await?;
            diesel::sql_query("SELECT 1").execute(&mut *conn).await?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use diesel::result::{DatabaseErrorKind, Error};

    use super::{is_timeout, is_unavailable};

    fn db_error(kind: DatabaseErrorKind, message: &str) -> Error {
        Error::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn a_lost_connection_is_unavailable_not_a_bug() {
        // what diesel-async gives for a connection PostgreSQL closed (no SQLSTATE)
        assert!(is_unavailable(&db_error(
            DatabaseErrorKind::UnableToSendCommand,
            "connection closed"
        )));
        assert!(is_unavailable(&db_error(
            DatabaseErrorKind::ClosedConnection,
            "server closed the connection unexpectedly"
        )));
        // `pg_ctl stop -m fast` (57P01), a crashed backend (57P02), a server going down (57P03)
        for message in [
            "terminating connection due to administrator command",
            "terminating connection due to crash of another server process",
            "the database system is shutting down",
            "the database system is starting up",
        ] {
            assert!(
                is_unavailable(&db_error(DatabaseErrorKind::Unknown, message)),
                "{message}"
            );
        }
        assert!(is_unavailable(&Error::BrokenTransactionManager));
    }

    #[test]
    fn what_the_request_did_is_not_unavailable() {
        assert!(!is_unavailable(&Error::NotFound));
        assert!(!is_unavailable(&db_error(
            DatabaseErrorKind::UniqueViolation,
            "duplicate key value violates unique constraint"
        )));
        assert!(!is_unavailable(&db_error(
            DatabaseErrorKind::Unknown,
            "canceling statement due to statement timeout"
        )));
        assert!(is_timeout(&db_error(
            DatabaseErrorKind::Unknown,
            "canceling statement due to statement timeout"
        )));
    }
}
