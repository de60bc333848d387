//! PostgreSQL plumbing: pools, embedded migrations and tenant scoping.
//!
//! Row-level security policies (see `migrations/*/…_rls`) read two per-transaction
//! settings: `app.tenant_id` (the only tenant a transaction can see or write) and
//! `app.all_tenants` (on only for the cross-tenant work of seeding, cloning and cleanup).
//! Both are set with `set_config(…, true)`, so they end with the transaction and can
//! never leak to the next user of a pooled connection.

use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};
use uuid::Uuid;

use crate::settings::DatabaseSettings;

pub type PgPool = Pool<AsyncPgConnection>;
pub type PgConn = Object<AsyncPgConnection>;
pub use diesel_async::AsyncPgConnection;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database pool: {0}")]
    Pool(String),
    #[error("database: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("migrations: {0}")]
    Migration(String),
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for DbError {
    fn from(e: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        DbError::Pool(e.to_string())
    }
}

/// Builds a pool; connections are opened on first use.
pub fn build_pool(settings: &DatabaseSettings) -> Result<PgPool, DbError> {
    build_pool_for_url(&settings.url, settings.pool_size)
}

pub fn build_pool_for_url(url: &str, size: usize) -> Result<PgPool, DbError> {
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(url);
    Pool::builder(manager)
        .max_size(size)
        .wait_timeout(Some(std::time::Duration::from_secs(5)))
        .create_timeout(Some(std::time::Duration::from_secs(5)))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| DbError::Pool(e.to_string()))
}

type SyncPg = diesel_async::async_connection_wrapper::AsyncConnectionWrapper<AsyncPgConnection>;

async fn with_migration_harness<T: Send + 'static>(
    url: &str,
    work: impl FnOnce(&mut SyncPg) -> Result<T, String> + Send + 'static,
) -> Result<T, DbError> {
    use diesel::Connection;
    let url = url.to_owned();
    // diesel_migrations is synchronous: run it on a blocking thread with its own connection.
    tokio::task::spawn_blocking(move || {
        let mut conn = SyncPg::establish(&url).map_err(|e| DbError::Migration(e.to_string()))?;
        work(&mut conn).map_err(DbError::Migration)
    })
    .await
    .map_err(|e| DbError::Migration(e.to_string()))?
}

/// Applies every pending migration; returns the versions applied.
pub async fn run_migrations(
    url: &str,
    migrations: EmbeddedMigrations,
) -> Result<Vec<String>, DbError> {
    with_migration_harness(url, move |conn| {
        conn.run_pending_migrations(migrations)
            .map(|v| v.iter().map(|m| m.to_string()).collect())
            .map_err(|e| e.to_string())
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
            .map(|v| v.iter().map(|m| m.to_string()).collect())
            .map_err(|e| e.to_string())
    })
    .await
}

#[derive(diesel::QueryableByName)]
struct Unit {
    #[diesel(sql_type = Text)]
    #[allow(dead_code)]
    set_config: String,
}

/// Scopes the current transaction to one tenant (row-level security reads it).
/// Call it first inside `conn.transaction(…)`.
pub async fn scope_to_tenant(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
) -> diesel::QueryResult<()> {
    diesel::sql_query("SELECT set_config('app.tenant_id', $1, true) AS set_config")
        .bind::<Text, _>(tenant_id.to_string())
        .load::<Unit>(conn)
        .await
        .map(|_| ())
}

/// Lets the current transaction work across tenants. For seeding, cloning, cleanup and
/// procurement, and two read-only lookups of tenant-service (login by email, the internal
/// tenant list); no handler that serves a tenant's own data calls it.
pub async fn allow_all_tenants(conn: &mut AsyncPgConnection) -> diesel::QueryResult<()> {
    diesel::sql_query("SELECT set_config('app.all_tenants', 'on', true) AS set_config")
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
    fn check(
        &self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + '_>> {
        Box::pin(async move {
            let mut conn = self.pool.get().await.map_err(|e| e.to_string())?;
            diesel::sql_query("SELECT 1")
                .execute(&mut *conn)
                .await
                .map_err(|e| e.to_string())?;
            Ok(())
        })
    }
}
