//! What the `clone-demo-tenant` Job does: clone one pending session's template into its
//! virtual tenant. Idempotent — Kubernetes may run a Job's pod twice — because the tenant
//! row is upserted and the inventory copy first clears any earlier copy, all in one
//! transaction per database.

use bakery_config::db;

use crate::cloner::{self, ClonePlan, CloneRequest};
use crate::sessions;
use crate::settings::Settings;

#[derive(Debug, PartialEq, Eq)]
pub enum CloneOutcome {
    Cloned,
    /// The session is no longer pending (ready, failed or cleaned): nothing to do.
    NotPending(String),
}

pub async fn run(settings: &Settings, session_id: &str) -> anyhow::Result<CloneOutcome> {
    let mut sessions_conn = db::build_pool_for_url(&settings.database.url, 1)?
        .get()
        .await?;
    let session = sessions::find(&mut sessions_conn, session_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no demo session {session_id}"))?;
    if session.status != "pending" {
        return Ok(CloneOutcome::NotPending(session.status));
    }
    let request = CloneRequest {
        template_id: session.base_tenant_id,
        virtual_tenant_id: session.virtual_tenant_id,
        session_id: session.id.clone(),
        account_type: session.demo_account_type.clone(),
        expires_at: session.expires_at,
    };
    let mut tenant = db::build_pool_for_url(&settings.tenant_database.url, 1)?
        .get()
        .await?;
    let mut inventory = db::build_pool_for_url(&settings.inventory_database.url, 1)?
        .get()
        .await?;
    let plan = ClonePlan::load(&mut inventory).await?;
    cloner::create_virtual_tenant(&mut tenant, &request).await?;
    cloner::copy_inventory(&mut inventory, &plan, &request).await?;
    Ok(CloneOutcome::Cloned)
}
