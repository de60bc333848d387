//! Queries of the tenant database. Each runs in its own transaction, and each transaction
//! says first which tenants it may see (see `docs/tenancy.md`):
//! - [`tenant_for`] is scoped to the caller's tenant (`db::scope_to_tenant`);
//! - [`find_login`] and [`list_tenants`] are the two cross-tenant reads
//!   (`db::allow_all_tenants`), read-only, and do nothing else.

use bakery_config::db::{self, AsyncPgConnection};
use bakery_config::pagination::Page;
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::domain::{Email, TenantKind};
use crate::models::{Tenant, User};
use crate::schema::{tenants, users};

diesel::define_sql_function! {
    /// SQL `lower(text)`, so lookups by email use the `users_email_key` index.
    fn lower(x: Text) -> Text;
}

/// The user with this address (case-insensitively) and their tenant, whatever the tenant.
/// Login's lookup: it happens before anyone is known, so it is cross-tenant.
pub async fn find_login(
    conn: &mut AsyncPgConnection,
    email: &Email,
) -> QueryResult<Option<(User, Tenant)>> {
    let email = email.as_str().to_owned();
    conn.build_transaction()
        .read_only()
        .run(async move |c| {
            db::allow_all_tenants(c).await?;
            users::table
                .inner_join(tenants::table)
                .filter(lower(users::email).eq(email))
                .select((User::as_select(), Tenant::as_select()))
                .first(c)
                .await
                .optional()
        })
        .await
}

/// The caller's own tenant row, read with row-level security scoped to it.
pub async fn tenant_for(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
) -> QueryResult<Option<Tenant>> {
    conn.build_transaction()
        .read_only()
        .run(async move |c| {
            db::scope_to_tenant(c, tenant_id).await?;
            tenants::table
                .filter(tenants::id.eq(tenant_id))
                .select(Tenant::as_select())
                .first(c)
                .await
                .optional()
        })
        .await
}

/// Tenants of one kind, oldest first, one page, and whether more follow. For
/// service-to-service calls only.
pub async fn list_tenants(
    conn: &mut AsyncPgConnection,
    kind: TenantKind,
    page: Page,
) -> QueryResult<(Vec<Tenant>, bool)> {
    conn.build_transaction()
        .read_only()
        .run(async move |c| {
            db::allow_all_tenants(c).await?;
            let mut query = tenants::table.select(Tenant::as_select()).into_boxed();
            query = match kind {
                TenantKind::Customers => query
                    .filter(tenants::is_demo.eq(false))
                    .filter(tenants::is_demo_template.eq(false)),
                TenantKind::Demo => query.filter(
                    tenants::is_demo
                        .eq(true)
                        .or(tenants::is_demo_template.eq(true)),
                ),
                TenantKind::All => query,
            };
            let mut rows: Vec<Tenant> = query
                .order((tenants::created_at.asc(), tenants::id.asc()))
                .limit(page.limit + 1)
                .offset(page.offset)
                .load(c)
                .await?;
            // one row past the page says whether more follow (`limit` is at least 1)
            let keep = usize::try_from(page.limit).unwrap_or(usize::MAX);
            let more = rows.len() > keep;
            rows.truncate(keep);
            Ok((rows, more))
        })
        .await
}
