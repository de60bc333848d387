//! Cloning a template into a virtual tenant, and removing a virtual tenant.
//!
//! The tenancy invariant makes a clone a set-based copy that only swaps `tenant_id`: one
//! `INSERT … SELECT` per table, in foreign-key order. The inventory copy is sent as ONE
//! multi-statement simple query, which PostgreSQL runs as one implicit transaction
//! (repeatable read): one round trip, all or nothing, one consistent view of the template.
//! Dates are rebased in the same statements so the copy looks like today: every `date`
//! and `timestamptz` column moves by `today - the day of the template's latest ticket`, in
//! the templates' time zone — 0 days when the template is current ([`crate::templates`]).
//!
//! Shared tables are not copied: the sales history (every table with a `shared_history`
//! policy) stays in the template and the virtual tenant reads it through row-level
//! security, read-only (docs/tenancy.md, "Shared history"); the copy records whose history
//! it reads in `history_shares`. So a clone copies the few thousand rows a prospect can
//! change, whatever the size of the history.
//!
//! The plan is read from the catalog once at start-up: every table with a `tenant_id`
//! column, ordered so parents come before children (a topological sort of the foreign
//! keys), with its columns. A new column or table needs no change here.
//!
//! Foreign-key checks: most of a copy's cost is PostgreSQL checking each copied row's
//! foreign keys, one trigger call per row and key. The copy cannot break a foreign key:
//! it copies every row of every tenant-owned table of a template that was written with
//! its keys checked, from one snapshot, changing only `tenant_id` — the first column of
//! every key on both sides. So where the database role may set `session_replication_role`
//! (PostgreSQL 15's `GRANT SET ON PARAMETER`, which `scripts/lib.sh` and the dev
//! Kubernetes database give it), the copy transaction sets it to `replica`, which skips
//! those triggers for that transaction only. Row-level security and check constraints
//! still apply. Without the grant, the copy runs with the checks, just slower.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write;

use bakery_config::db::{self, AsyncPgConnection, static_sql};
use bakery_config::demo::{AccountType, SessionId};
use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, Text, Timestamptz, Uuid as SqlUuid};
use diesel::{OptionalExtension, QueryableByName, sql_query};
use diesel_async::{AsyncConnection, RunQueryDsl, SimpleAsyncConnection};
use uuid::Uuid;

/// Why a clone, a removal or a tenant-row update failed. The database's own error is the
/// source, so logs show the whole chain (`database: <what PostgreSQL said>`).
#[derive(Debug, thiserror::Error)]
pub enum CloneError {
    #[error("no template tenant for this account type")]
    TemplateMissing,
    #[error("database")]
    Database(#[from] diesel::result::Error),
    /// The inventory schema cannot be cloned as it is (the message says why).
    #[error("clone plan: {0}")]
    Plan(String),
    #[error("warm tenant {0} has no tenant row")]
    NoTenantRow(Uuid),
}

/// One column of a tenant-owned table, as the catalog describes it.
#[derive(QueryableByName)]
pub(crate) struct ColumnRow {
    #[diesel(sql_type = Text)]
    pub(crate) table_name: String,
    #[diesel(sql_type = Text)]
    pub(crate) column_name: String,
    #[diesel(sql_type = Text)]
    pub(crate) data_type: String,
}

/// One column of a foreign key of the schema: `child.column_name` points at `parent`.
#[derive(QueryableByName)]
pub(crate) struct ForeignKeyColumn {
    #[diesel(sql_type = Text)]
    pub(crate) child: String,
    #[diesel(sql_type = Text)]
    pub(crate) column_name: String,
    #[diesel(sql_type = Text)]
    pub(crate) parent: String,
}

/// The SQL that copies and removes one tenant's inventory, built once from the schema.
#[derive(Debug, Clone)]
pub struct ClonePlan {
    /// Tenant-owned tables, parents first.
    tables: Vec<String>,
    /// `(table, column list, select list)` in that order; the select list contains
    /// `{virtual}` where the new tenant id goes. Shared tables are not among them.
    copies: Vec<(String, String, String)>,
    /// Tables a virtual tenant reads from its template instead of copying them (those with
    /// a `shared_history` policy: the sales history), read from the catalog.
    shared: Vec<String>,
    /// Whether the copy runs PostgreSQL's per-row foreign-key triggers (see above).
    foreign_key_checks: ForeignKeyChecks,
}

/// How a copy treats foreign-key triggers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForeignKeyChecks {
    /// Per row, as for any insert (the role may not set `session_replication_role`).
    PerRow,
    /// Skipped for the copy transaction: the copy is consistent by construction.
    SkippedForCopy,
}

#[derive(QueryableByName)]
struct Allowed {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    allowed: bool,
}

/// Whether this role may set `session_replication_role` (false on PostgreSQL before 15,
/// where the function does not exist, and whenever the question cannot be answered).
async fn may_skip_foreign_key_triggers(conn: &mut AsyncPgConnection) -> bool {
    sql_query("SELECT has_parameter_privilege('session_replication_role', 'SET') AS allowed")
        .get_result::<Allowed>(conn)
        .await
        .is_ok_and(|a| a.allowed)
}

/// Orders tables so every table comes after the tables it references (Kahn's algorithm,
/// ties broken by name so the order is stable). Errors on a cycle.
pub fn foreign_key_order(
    tables: &[String],
    edges: &[(String, String)],
) -> Result<Vec<String>, CloneError> {
    let mut remaining: std::collections::BTreeSet<&str> =
        tables.iter().map(String::as_str).collect();
    let mut order = Vec::with_capacity(tables.len());
    while !remaining.is_empty() {
        let ready: Vec<&str> = remaining
            .iter()
            .copied()
            .filter(|t| {
                !edges.iter().any(|(child, parent)| {
                    child == t && parent != t && remaining.contains(parent.as_str())
                })
            })
            .collect();
        if ready.is_empty() {
            return Err(CloneError::Plan(format!(
                "foreign keys form a cycle among {remaining:?}"
            )));
        }
        for t in ready {
            remaining.remove(t);
            order.push(t.to_owned());
        }
    }
    Ok(order)
}

/// The columns (in their order) of every table that has a `tenant_id` column.
pub(crate) async fn tenant_owned_columns(
    conn: &mut AsyncPgConnection,
) -> Result<HashMap<String, Vec<ColumnRow>>, CloneError> {
    let rows: Vec<ColumnRow> = sql_query(
        "SELECT table_name::text AS table_name, column_name::text AS column_name, \
                data_type::text AS data_type \
         FROM information_schema.columns \
         WHERE table_schema = current_schema() \
         ORDER BY table_name, ordinal_position",
    )
    .load(conn)
    .await?;
    let mut by_table: HashMap<String, Vec<ColumnRow>> = HashMap::new();
    for row in rows {
        by_table
            .entry(row.table_name.clone())
            .or_default()
            .push(row);
    }
    by_table.retain(|_, cols| cols.iter().any(|c| c.column_name == "tenant_id"));
    if by_table.is_empty() {
        return Err(CloneError::Plan(
            "no tenant-owned tables: migrate first".to_owned(),
        ));
    }
    Ok(by_table)
}

/// The tables with a `shared_history` row-level security policy: the template's rows are
/// read through the virtual tenant, never copied (`migrations/inventory/…_shared_history`).
async fn shared_tables(conn: &mut AsyncPgConnection) -> Result<Vec<String>, CloneError> {
    #[derive(QueryableByName)]
    struct Table {
        #[diesel(sql_type = Text)]
        tablename: String,
    }
    let rows: Vec<Table> = sql_query(
        "SELECT DISTINCT tablename::text AS tablename FROM pg_policies \
         WHERE schemaname = current_schema() AND policyname = 'shared_history' \
         ORDER BY 1",
    )
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|t| t.tablename).collect())
}

/// The table that says whose history a virtual tenant shares: written by the copy, never
/// copied from the template.
const HISTORY_SHARES: &str = "history_shares";

/// Every column of every foreign key of the schema (`tenant_id` included).
pub(crate) async fn foreign_key_columns(
    conn: &mut AsyncPgConnection,
) -> Result<Vec<ForeignKeyColumn>, CloneError> {
    Ok(sql_query(
        "SELECT cl.relname::text AS child, a.attname::text AS column_name, \
                pl.relname::text AS parent \
         FROM pg_constraint c \
         JOIN pg_class cl ON cl.oid = c.conrelid \
         JOIN pg_class pl ON pl.oid = c.confrelid \
         CROSS JOIN LATERAL unnest(c.conkey) AS k(attnum) \
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum \
         WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace",
    )
    .load(conn)
    .await?)
}

/// `(child, parent)` for every foreign key of the schema.
async fn foreign_keys(conn: &mut AsyncPgConnection) -> Result<Vec<(String, String)>, CloneError> {
    let edges: std::collections::BTreeSet<(String, String)> = foreign_key_columns(conn)
        .await?
        .into_iter()
        .map(|k| (k.child, k.parent))
        .collect();
    Ok(edges.into_iter().collect())
}

/// `(table, column list, select list)` of one table's copy: `tenant_id` becomes the
/// virtual tenant, dates and timestamps move by the offset, the rest is copied as is.
fn copy_of(table: &str, columns: &[ColumnRow]) -> (String, String, String) {
    let mut names = Vec::new();
    let mut exprs = Vec::new();
    for c in columns {
        let name = format!("\"{}\"", c.column_name);
        let expr = match (c.column_name.as_str(), c.data_type.as_str()) {
            ("tenant_id", _) => format!("'{VIRTUAL}'::uuid"),
            (_, "date") => format!("{name} + {OFFSET_DAYS}"),
            (_, "timestamp with time zone") => {
                format!("{name} + make_interval(days => {OFFSET_DAYS})")
            }
            _ => name.clone(),
        };
        names.push(name);
        exprs.push(expr);
    }
    (table.to_owned(), names.join(", "), exprs.join(", "))
}

const TEMPLATE: &str = "{template}";
const VIRTUAL: &str = "{virtual}";

impl ClonePlan {
    /// Reads the inventory tables' columns and foreign keys, and whether this role may skip
    /// foreign-key triggers.
    pub async fn load(conn: &mut AsyncPgConnection) -> Result<Self, CloneError> {
        let columns = tenant_owned_columns(conn).await?;
        let tenant_owned: Vec<String> = columns.keys().cloned().collect();
        let tables = foreign_key_order(&tenant_owned, &foreign_keys(conn).await?)?;
        let shared = shared_tables(conn).await?;
        if !shared.is_empty() && !tables.iter().any(|t| t == HISTORY_SHARES) {
            return Err(CloneError::Plan(format!(
                "shared tables {shared:?} but no {HISTORY_SHARES} table"
            )));
        }
        let copies = tables
            .iter()
            .filter(|table| *table != HISTORY_SHARES && !shared.contains(table))
            .map(|table| {
                let cols = columns
                    .get(table)
                    .ok_or_else(|| CloneError::Plan(format!("table {table} vanished")))?;
                Ok(copy_of(table, cols))
            })
            .collect::<Result<Vec<_>, CloneError>>()?;
        let foreign_key_checks = if may_skip_foreign_key_triggers(conn).await {
            ForeignKeyChecks::SkippedForCopy
        } else {
            ForeignKeyChecks::PerRow
        };
        Ok(ClonePlan {
            tables,
            copies,
            shared,
            foreign_key_checks,
        })
    }

    /// Tenant-owned tables, parents first.
    pub fn tables(&self) -> &[String] {
        &self.tables
    }

    /// Tables read from the template (not copied).
    pub fn shared(&self) -> &[String] {
        &self.shared
    }

    pub fn foreign_key_checks(&self) -> ForeignKeyChecks {
        self.foreign_key_checks
    }

    /// The same plan with the given foreign-key mode (tests compare both).
    #[must_use]
    pub fn with_foreign_key_checks(mut self, checks: ForeignKeyChecks) -> Self {
        self.foreign_key_checks = checks;
        self
    }

    /// The whole copy as one script: clears any earlier copy of the same virtual tenant
    /// (so a retried clone Job is idempotent), fixes the date offset, copies every table.
    pub fn copy_script(&self, template: Uuid, virtual_tenant: Uuid) -> String {
        let mut sql = String::with_capacity(8 * 1024);
        // one snapshot for every statement: a template being re-seeded meanwhile is seen
        // whole or not at all (allowed as the first statement of the implicit transaction)
        sql.push_str("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ;\n");
        sql.push_str("SELECT set_config('app.all_tenants', 'on', true);\n");
        if self.foreign_key_checks == ForeignKeyChecks::SkippedForCopy {
            sql.push_str("SELECT set_config('session_replication_role', 'replica', true);\n");
        }
        for table in self.tables.iter().rev() {
            let _ = writeln!(
                sql,
                "DELETE FROM {table} WHERE tenant_id = '{VIRTUAL}'::uuid;"
            );
        }
        // Day arithmetic in the bakery's zone: `+ 1 day` keeps 08:00 at 08:00 across a
        // daylight-saving change.
        let _ = writeln!(
            sql,
            "SELECT set_config('TimeZone', '{}', true);",
            bakery_demo_data::clock::BAKERY_TIME_ZONE.name()
        );
        // The template's day is the bakery day of its latest ticket (it holds today's whole
        // day): 0 days when it was seeded today, as the demo-session keeps it
        // (`crate::templates`); otherwise the copied rows move to today.
        let _ = writeln!(
            sql,
            "SELECT set_config('app.clone_offset_days', (current_date - coalesce(\
               (SELECT max(sold_at)::date FROM sales WHERE tenant_id = '{template}'::uuid), \
               current_date))::text, true);"
        );
        for (table, columns, select) in &self.copies {
            let _ = writeln!(
                sql,
                "INSERT INTO {table} ({columns}) SELECT {select} FROM {table} WHERE tenant_id = '{TEMPLATE}'::uuid;"
            );
        }
        if !self.shared.is_empty() {
            let _ = writeln!(
                sql,
                "INSERT INTO {HISTORY_SHARES} (tenant_id, template_id) \
                 VALUES ('{VIRTUAL}'::uuid, '{TEMPLATE}'::uuid);"
            );
        }
        sql.replace(TEMPLATE, &template.to_string())
            .replace(VIRTUAL, &virtual_tenant.to_string())
    }
}

const OFFSET_DAYS: &str = "current_setting('app.clone_offset_days')::int";

/// What a clone is for.
#[derive(Debug, Clone)]
pub struct CloneRequest {
    pub template_id: Uuid,
    pub virtual_tenant_id: Uuid,
    pub owner: CloneFor,
    pub expires_at: DateTime<Utc>,
}

/// Whom a virtual tenant is cloned for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloneFor {
    /// A session, from the start.
    Session(SessionId),
    /// The warm pool, until a session adopts the tenant ([`adopt_virtual_tenant`]).
    WarmPool,
}

impl CloneRequest {
    /// What the tenant row's `demo_session_id` says: the session's id, or the pool's
    /// placeholder.
    fn demo_session_id(&self) -> Cow<'_, str> {
        match &self.owner {
            CloneFor::Session(id) => Cow::Borrowed(id.as_str()),
            CloneFor::WarmPool => {
                Cow::Owned(crate::pool::placeholder_session_id(self.virtual_tenant_id))
            }
        }
    }
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

/// Creates (or refreshes) the virtual tenant row from its template. Idempotent.
pub async fn create_virtual_tenant(
    conn: &mut AsyncPgConnection,
    req: &CloneRequest,
) -> Result<(), CloneError> {
    let created = conn
        .transaction::<_, diesel::result::Error, _>(async |c| {
            db::allow_all_tenants(c).await?;
            sql_query(
                "INSERT INTO tenants (id, name, slug, business_model, city, country, timezone, \
                     is_demo, is_demo_template, demo_account_type, base_demo_tenant_id, \
                     demo_session_id, demo_expires_at) \
                 SELECT $1, name, 'demo-' || replace($1::text, '-', ''), business_model, city, \
                        country, timezone, true, false, demo_account_type, id, $2, $3 \
                 FROM tenants WHERE id = $4 AND is_demo_template \
                 ON CONFLICT (id) DO UPDATE SET demo_expires_at = EXCLUDED.demo_expires_at \
                 RETURNING id",
            )
            .bind::<SqlUuid, _>(req.virtual_tenant_id)
            .bind::<Text, _>(req.demo_session_id())
            .bind::<Timestamptz, _>(req.expires_at)
            .bind::<SqlUuid, _>(req.template_id)
            .get_result::<IdRow>(c)
            .await
            .optional()
        })
        .await?;
    created.map(|_| ()).ok_or(CloneError::TemplateMissing)
}

/// Copies the template's inventory into the virtual tenant: one round trip, one transaction.
pub async fn copy_inventory(
    conn: &mut AsyncPgConnection,
    plan: &ClonePlan,
    req: &CloneRequest,
) -> Result<(), CloneError> {
    conn.batch_execute(&plan.copy_script(req.template_id, req.virtual_tenant_id))
        .await?;
    Ok(())
}

/// Deletes every inventory row of `tenants` in one transaction: one
/// `DELETE … WHERE tenant_id = ANY($1)` per table, children before parents (the copy's
/// order reversed), the ids sorted so cleaners running at once lock in the same order.
/// Answers rows removed per table.
///
/// When the role may skip foreign-key triggers (as the copy does), the deletes skip them
/// too: every foreign key stays inside one tenant and every tenant-owned table loses these
/// tenants' rows in this same transaction, so nothing is left dangling — and the per-row
/// checks were three quarters of the cost (1,000 tenants in one transaction, measured by
/// hand: 15.6 s checked, 3.8 s skipped; docs/performance.md).
pub async fn remove_inventory(
    conn: &mut AsyncPgConnection,
    plan: &ClonePlan,
    tenants: &[Uuid],
) -> Result<HashMap<String, i64>, CloneError> {
    let tenants = sorted(tenants);
    if tenants.is_empty() {
        return Ok(HashMap::new());
    }
    let skip_triggers = plan.foreign_key_checks == ForeignKeyChecks::SkippedForCopy;
    let removed = conn
        .transaction::<_, diesel::result::Error, _>(async |c| {
            db::allow_all_tenants(c).await?;
            if skip_triggers {
                sql_query("SELECT set_config('session_replication_role', 'replica', true)")
                    .execute(c)
                    .await?;
            }
            let mut removed = HashMap::with_capacity(plan.tables.len());
            for table in plan.tables.iter().rev() {
                let n = sql_query(format!("DELETE FROM {table} WHERE tenant_id = ANY($1)"))
                    .bind::<Array<SqlUuid>, _>(&tenants)
                    .execute(c)
                    .await?;
                removed.insert(table.clone(), i64::try_from(n).unwrap_or(i64::MAX));
            }
            Ok(removed)
        })
        .await?;
    Ok(removed)
}

fn sorted(ids: &[Uuid]) -> Vec<Uuid> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Deletes the virtual tenants' rows (their users cascade). Never touches a non-demo
/// tenant.
pub async fn remove_virtual_tenants(
    conn: &mut AsyncPgConnection,
    tenants: &[Uuid],
) -> Result<i64, CloneError> {
    let tenants = sorted(tenants);
    if tenants.is_empty() {
        return Ok(0);
    }
    let n = conn
        .transaction::<_, diesel::result::Error, _>(async |c| {
            db::allow_all_tenants(c).await?;
            sql_query(
                "WITH d AS (DELETE FROM tenants WHERE id = ANY($1) AND is_demo RETURNING 1) \
                 SELECT count(*) AS n FROM d",
            )
            .bind::<Array<SqlUuid>, _>(&tenants)
            .get_result::<Count>(c)
            .await
        })
        .await?;
    Ok(n.n)
}

/// The template tenant of an account type.
pub async fn find_template(
    conn: &mut AsyncPgConnection,
    account_type: AccountType,
) -> Result<Option<Uuid>, CloneError> {
    let row = conn
        .transaction::<_, diesel::result::Error, _>(async |c| {
            db::allow_all_tenants(c).await?;
            sql_query("SELECT id FROM tenants WHERE is_demo_template AND demo_account_type = $1")
                .bind::<Text, _>(account_type)
                .get_result::<IdRow>(c)
                .await
                .optional()
        })
        .await?;
    Ok(row.map(|r| r.id))
}

/// Keeps the virtual tenant's `demo_expires_at` in step with its session (extend).
pub async fn set_tenant_expiry(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    expires_at: DateTime<Utc>,
) -> Result<(), CloneError> {
    conn.transaction::<_, diesel::result::Error, _>(async |c| {
        db::scope_to_tenant(c, tenant).await?;
        sql_query(
            "UPDATE tenants SET demo_expires_at = $2, updated_at = now() WHERE id = $1 AND is_demo",
        )
        .bind::<SqlUuid, _>(tenant)
        .bind::<Timestamptz, _>(expires_at)
        .execute(c)
        .await
    })
    .await?;
    Ok(())
}

/// Every virtual tenant (cleanup looks for those without a session).
pub async fn virtual_tenants(conn: &mut AsyncPgConnection) -> Result<Vec<Uuid>, CloneError> {
    let rows = conn
        .transaction::<_, diesel::result::Error, _>(async |c| {
            db::allow_all_tenants(c).await?;
            sql_query("SELECT id FROM tenants WHERE is_demo")
                .load::<IdRow>(c)
                .await
        })
        .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// A warm pool tenant becomes a session's: it takes the session id and end.
pub async fn adopt_virtual_tenant(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    session_id: &SessionId,
    expires_at: DateTime<Utc>,
) -> Result<(), CloneError> {
    #[derive(QueryableByName)]
    struct Adopted {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        adopted: i32,
    }
    // one statement (the tenant migration `adopt_demo_tenant` says why): it scopes itself to
    // the tenant as a transaction of its own would
    let adopted: Adopted = static_sql("SELECT adopt_demo_tenant($1, $2, $3) AS adopted")
        .bind::<SqlUuid, _>(tenant)
        .bind::<Text, _>(session_id)
        .bind::<Timestamptz, _>(expires_at)
        .get_result(conn)
        .await?;
    if adopted.adopted == 1 {
        Ok(())
    } else {
        Err(CloneError::NoTenantRow(tenant))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(checks: ForeignKeyChecks) -> ClonePlan {
        ClonePlan {
            tables: s(&["suppliers", "products"]),
            copies: vec![
                (
                    "suppliers".to_owned(),
                    "tenant_id, id".to_owned(),
                    format!("'{VIRTUAL}'::uuid, id"),
                ),
                (
                    "products".to_owned(),
                    "tenant_id, id".to_owned(),
                    format!("'{VIRTUAL}'::uuid, id"),
                ),
            ],
            shared: Vec::new(),
            foreign_key_checks: checks,
        }
    }

    #[test]
    fn only_a_copy_allowed_to_skips_foreign_key_triggers_and_only_for_its_transaction() {
        let (t, v) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let fast = plan(ForeignKeyChecks::SkippedForCopy).copy_script(t, v);
        assert!(fast.contains("set_config('session_replication_role', 'replica', true)"));
        // isolation first, then the transaction-local settings, then the copy
        assert!(fast.starts_with("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ;"));
        let checked = plan(ForeignKeyChecks::PerRow).copy_script(t, v);
        assert!(!checked.contains("session_replication_role"));
        for script in [&fast, &checked] {
            let suppliers = script
                .find("INSERT INTO suppliers")
                .expect("suppliers copied");
            let products = script
                .find("INSERT INTO products")
                .expect("products copied");
            assert!(suppliers < products, "parents first");
            assert!(script.contains(&v.to_string()) && !script.contains(VIRTUAL));
        }
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn parents_come_first() {
        let tables = s(&["sale_lines", "sales", "products", "suppliers"]);
        let edges = vec![
            ("sale_lines".to_owned(), "sales".to_owned()),
            ("sale_lines".to_owned(), "products".to_owned()),
            ("products".to_owned(), "suppliers".to_owned()),
            ("products".to_owned(), "products".to_owned()),
        ];
        let order = foreign_key_order(&tables, &edges).expect("acyclic");
        let pos = |t: &str| order.iter().position(|x| x == t).expect("present");
        assert!(pos("suppliers") < pos("products"));
        assert!(pos("products") < pos("sale_lines"));
        assert!(pos("sales") < pos("sale_lines"));
    }

    #[test]
    fn cycles_are_reported() {
        let tables = s(&["a", "b"]);
        let edges = vec![
            ("a".to_owned(), "b".to_owned()),
            ("b".to_owned(), "a".to_owned()),
        ];
        assert!(foreign_key_order(&tables, &edges).is_err());
    }
}
