//! Demo quotas: what one demo session may write, enforced here whatever the gateway lets
//! through (docs/tenancy.md, "Demo quotas").
//!
//! - **Writes per minute per session** (`DEMO_WRITES_PER_MINUTE`): a fixed-window counter
//!   in Redis, `{prefix}tenant:{id}:inventory:demo_writes:{session}`, under the tenant's
//!   prefix so cleanup removes it with the tenant's other keys (it also expires with its
//!   window). Past the limit: `429 demo_quota` with `Retry-After` = what is left of the
//!   window. If Redis fails the write is let through (logged): the row quota below still
//!   bounds what a session can create.
//! - **Rows per table per virtual tenant** (`DEMO_MAX_ROWS_PER_TABLE`): PostgreSQL counts
//!   them (`demo_row_usage`, a statement-level trigger on every table a write inserts
//!   into) once the write's transaction carries `app.demo_row_quota`
//!   ([`WriteScope::enter`]); past it the statement fails and the whole write changes
//!   nothing (`429 demo_quota`).
//!
//! Customers (identities without `demo_session_id`) are not limited by either.

use bakery_config::auth::Identity;
use bakery_config::cache::{self, Keys, RedisPool};
use uuid::Uuid;

use crate::error::InventoryError;
use crate::models::WriteScope;

/// The window the write quota is counted in.
pub const WRITE_WINDOW_SECS: u64 = 60;

#[derive(Clone)]
pub struct DemoQuotas {
    pool: RedisPool,
    keys: Keys,
    writes_per_minute: u32,
    rows_per_table: u32,
}

impl DemoQuotas {
    pub fn new(pool: RedisPool, keys: Keys, writes_per_minute: u32, rows_per_table: u32) -> Self {
        DemoQuotas {
            pool,
            keys,
            writes_per_minute,
            rows_per_table,
        }
    }

    /// `{prefix}tenant:{id}:inventory:demo_writes:{session}`
    pub fn writes_key(&self, tenant: Uuid, session: &str) -> String {
        format!(
            "{}inventory:demo_writes:{session}",
            self.keys.tenant_prefix(&tenant)
        )
    }

    /// Admits one write of `identity` to `tenant`: for a demo session, counts it against the
    /// session's minute (refused past the limit) and answers the scope that carries the row
    /// quota; for anyone else, the plain tenant scope.
    pub async fn admit_write(
        &self,
        identity: &Identity,
        tenant: Uuid,
    ) -> Result<WriteScope, InventoryError> {
        let Some(session) = identity.demo_session_id.as_deref() else {
            return Ok(WriteScope::from(tenant).in_time_zone(identity.time_zone));
        };
        let key = self.writes_key(tenant, session);
        match cache::fixed_window_hit(
            &self.pool,
            &key,
            u64::from(self.writes_per_minute),
            WRITE_WINDOW_SECS,
        )
        .await
        {
            Ok(Some(retry_after)) => {
                tracing::info!(%tenant, session, "demo write quota reached");
                return Err(InventoryError::DemoWriteQuota { retry_after });
            }
            Ok(None) => {}
            Err(error) => {
                // not a reason to refuse: the row quota still bounds what the session creates
                tracing::warn!(%error, %tenant, "demo write counter unavailable; write let through");
            }
        }
        Ok(WriteScope {
            tenant,
            demo_row_quota: Some(self.rows_per_table),
            time_zone: identity.time_zone,
        })
    }
}
