//! Whose sales a tenant reads: its own, and for a virtual tenant the shared history of its
//! template (docs/tenancy.md, "Shared history"; `migrations/inventory/…_shared_history`).
//!
//! The template's past tickets are not copied into each demo session: the cloner records
//! one `history_shares` row, and the session reads the template's `sales` and
//! `sale_lines` next to its own. Row-level security already limits a tenant to these two
//! sources (and a template's tickets to those whose time has come); the queries here name
//! them too, as every query names its tenant (the first wall).

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use bakery_config::db::AsyncPgConnection;

use crate::schema::history_shares;

/// The tenants whose sales one tenant reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SalesSources {
    /// The tenant itself: its own sales, read and written.
    pub own: Uuid,
    /// The template whose history it shares (virtual tenants only): read only, and only
    /// tickets sold up to now.
    pub shared: Option<Uuid>,
}

impl SalesSources {
    /// The sources of `tenant`. Inside a transaction scoped to `tenant`.
    pub async fn of(c: &mut AsyncPgConnection, tenant: Uuid) -> QueryResult<Self> {
        let shared = history_shares::table
            .filter(history_shares::tenant_id.eq(tenant))
            .select(history_shares::template_id)
            .first::<Uuid>(c)
            .await
            .optional()?;
        Ok(SalesSources {
            own: tenant,
            shared,
        })
    }

    /// Every source, own first.
    pub fn tenants(&self) -> Vec<Uuid> {
        std::iter::once(self.own).chain(self.shared).collect()
    }
}
