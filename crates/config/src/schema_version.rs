//! Is the database at the schema this build needs? `/ready` asks, so during an upgrade a
//! new pod stays out of service until the release's migration Job has run (docs/deploy.md,
//! "Upgrades and rollback"), and says why in its log and its `/ready` answer.
//!
//! The versions this binary embeds are compared with the versions Diesel recorded in
//! `__diesel_schema_migrations`:
//! - a version embedded but not applied: **not ready** (the migration Job has not run, or
//!   failed);
//! - versions applied that this build does not know: ready, with a warning. That is the
//!   previous release running on the newer schema during an upgrade or after a rollback;
//!   migrations are expand/contract so it keeps working.
//!
//! Once at the version, the answer is kept: a schema does not go back by itself, and
//! readiness probes then cost no query beyond the connection check.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use diesel::QueryableByName;
use diesel::migration::MigrationSource;
use diesel::pg::Pg;
use diesel::sql_types::Text;
use diesel_migrations::EmbeddedMigrations;

use crate::db::PgPool;
use crate::http::{Check, ReadinessCheck};

/// How far a database is from the schema a build embeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaStatus {
    /// Embedded and not applied, oldest first.
    pub pending: Vec<String>,
    /// Applied and not embedded (a newer release migrated this database), oldest first.
    pub unknown: Vec<String>,
    /// The newest version applied, if any.
    pub applied_latest: Option<String>,
}

impl SchemaStatus {
    pub fn is_current(&self) -> bool {
        self.pending.is_empty()
    }
}

/// The schema is behind the build.
#[derive(Debug, thiserror::Error)]
#[error(
    "the database schema is at {at}, this build needs {needed} ({count} migration(s) pending: {list}); \
     run this release's migration Job (`{service} migrate`)",
    at = self.status.applied_latest.as_deref().unwrap_or("no migration"),
    needed = self.status.pending.last().map_or("?", String::as_str),
    count = self.status.pending.len(),
    list = self.status.pending.join(", "),
)]
pub struct SchemaBehind {
    pub service: &'static str,
    pub status: SchemaStatus,
}

/// The versions embedded in `migrations` (Diesel's `YYYY-MM-DD-HHMMSS` prefixes, without
/// dashes as Diesel records them).
pub fn embedded_versions(
    migrations: &EmbeddedMigrations,
) -> Result<BTreeSet<String>, Box<dyn std::error::Error + Send + Sync>> {
    Ok(MigrationSource::<Pg>::migrations(migrations)?
        .iter()
        .map(|m| m.name().version().to_string())
        .collect())
}

#[derive(QueryableByName)]
struct VersionRow {
    #[diesel(sql_type = Text)]
    version: String,
}

/// Compares the database behind `conn` with `embedded`. A database Diesel never migrated
/// (no `__diesel_schema_migrations`) has every version pending.
pub async fn status(
    conn: &mut diesel_async::AsyncPgConnection,
    embedded: &BTreeSet<String>,
) -> diesel::QueryResult<SchemaStatus> {
    use diesel_async::RunQueryDsl;
    let applied: BTreeSet<String> =
        diesel::sql_query("SELECT version FROM __diesel_schema_migrations")
            .load::<VersionRow>(conn)
            .await
            .or_else(|e| match &e {
                // no such table: Diesel never migrated this database
                diesel::result::Error::DatabaseError(_, info)
                    if info.message().contains("__diesel_schema_migrations")
                        && info.message().contains("does not exist") =>
                {
                    Ok(Vec::new())
                }
                _ => Err(e),
            })?
            .into_iter()
            .map(|r| r.version)
            .collect();
    Ok(SchemaStatus {
        pending: embedded.difference(&applied).cloned().collect(),
        unknown: applied.difference(embedded).cloned().collect(),
        applied_latest: applied.last().cloned(),
    })
}

/// `/ready`'s `schema` check.
pub struct SchemaReady {
    /// The check's name in `/ready`'s answer: `schema`, or [`SchemaReady::named`]'s.
    name: &'static str,
    /// The service whose migration Job brings this schema up to date.
    service: &'static str,
    pool: PgPool,
    migrations: EmbeddedMigrations,
    current: AtomicBool,
    /// What was last logged, so a probe every few seconds logs a change once.
    last_said: Mutex<Option<String>>,
}

impl SchemaReady {
    pub fn new(service: &'static str, pool: PgPool, migrations: EmbeddedMigrations) -> Self {
        SchemaReady {
            name: "schema",
            service,
            pool,
            migrations,
            current: AtomicBool::new(false),
            last_said: Mutex::new(None),
        }
    }

    /// The same check under another name: a service that also needs another service's
    /// schema (demo-session calls a function of the tenant database's) checks it as well.
    #[must_use]
    pub fn named(self, name: &'static str) -> Self {
        SchemaReady { name, ..self }
    }

    fn say_once(&self, what: String, warn: bool) {
        let Ok(mut last) = self.last_said.lock() else {
            return;
        };
        if last.as_deref() != Some(what.as_str()) {
            if warn {
                tracing::warn!(service = self.service, "{what}");
            } else {
                tracing::info!(service = self.service, "{what}");
            }
            *last = Some(what);
        }
    }
}

impl ReadinessCheck for SchemaReady {
    fn name(&self) -> &str {
        self.name
    }

    fn check(&self) -> Check<'_> {
        Box::pin(async move {
            if self.current.load(Ordering::Relaxed) {
                return Ok(());
            }
            let embedded = embedded_versions(&self.migrations)?;
            let mut conn = self.pool.get().await?;
            let status = status(&mut conn, &embedded).await?;
            if !status.is_current() {
                let behind = SchemaBehind {
                    service: self.service,
                    status,
                };
                self.say_once(format!("not ready: {behind}"), true);
                return Err(behind.into());
            }
            if status.unknown.is_empty() {
                self.say_once(
                    format!(
                        "database schema at {}, as this build needs",
                        status.applied_latest.as_deref().unwrap_or("-")
                    ),
                    false,
                );
            } else {
                self.say_once(
                    format!(
                        "the database schema is newer than this build (applied, unknown here: {}): \
                         fine for the previous release during an upgrade or after a rollback",
                        status.unknown.join(", ")
                    ),
                    true,
                );
            }
            self.current.store(true, Ordering::Relaxed);
            Ok(())
        })
    }
}
