//! What the `clone-demo-tenant` Job does: clone one pending session's template into its
//! virtual tenant. Idempotent — Kubernetes may run a Job's pod twice — because the tenant
//! row is upserted and the inventory copy first clears any earlier copy, all in one
//! transaction per database.
//!
//! Each database is reached with the limits demo-session's own pools have, so the copy gets
//! `CLONE_STATEMENT_TIMEOUT_MS` (a whole bakery per statement) exactly as the inline cloner
//! does, and the other statements the `DATABASE_*` limits.

use anyhow::Context;
use bakery_config::db::{self, PgConn};
use bakery_config::demo::{SessionId, SessionStatus};
use bakery_config::settings::DatabaseSettings;

use crate::cloner::{self, CloneFor, ClonePlan, CloneRequest};
use crate::sessions;
use crate::settings::Settings;

#[derive(Debug, PartialEq, Eq)]
pub enum CloneOutcome {
    Cloned,
    /// The session is no longer pending (ready, failed or cleaned): nothing to do.
    NotPending(SessionStatus),
}

pub async fn run(settings: &Settings, session_id: &str) -> anyhow::Result<CloneOutcome> {
    let id: SessionId = session_id.parse().context("--session-id")?;
    let mut sessions_conn = connect(&settings.database).await?;
    let session = sessions::find(&mut sessions_conn, &id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no demo session {id}"))?;
    if session.status != SessionStatus::Pending {
        return Ok(CloneOutcome::NotPending(session.status));
    }
    let request = CloneRequest {
        template_id: session.base_tenant_id,
        virtual_tenant_id: session.virtual_tenant_id,
        owner: CloneFor::Session(session.id),
        expires_at: session.expires_at,
    };
    let mut tenant = connect(&settings.tenant_database).await?;
    let mut inventory = connect(&settings.inventory_database).await?;
    let plan = ClonePlan::load(&mut inventory).await?;
    cloner::create_virtual_tenant(&mut tenant, &request).await?;
    cloner::copy_inventory(&mut inventory, &plan, &request).await?;
    Ok(CloneOutcome::Cloned)
}

/// One connection with the database's limits (a pool of one: the Job does one thing).
async fn connect(database: &DatabaseSettings) -> anyhow::Result<PgConn> {
    let pool = db::build_pool_with_limits(&database.url, 1, database.limits)?;
    Ok(pool.get().await?)
}
