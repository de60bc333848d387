//! From demo to customer: what a conversion keeps, and the steps that copy it.
//!
//! - [`DataSet`], [`Keep`]: the data sets a prospect may keep, closed under their
//!   dependencies (stock, orders and sales bring the catalog; orders bring suppliers).
//! - [`ConvertPlan`]: for every tenant-owned inventory table, which data set carries it
//!   (or that it is never carried), read from the catalog like the clone plan. An
//!   unclassified table stops start-up: a new table must be decided here.
//! - The steps of the saga ([`crate::lifecycle`] runs them): [`create_account`] (tenant
//!   database), [`copy_kept`] (inventory database), and their compensations
//!   [`remove_account`] and [`crate::cloner::remove_inventory`]; [`record`] (the
//!   `demo_conversions` row).
//!
//! Ids: the new tenant gets **new ids** for every row the demo owned. One statement fills a
//! temporary mapping table (`old → gen_random_uuid()`) with the id of every such row that
//! is kept; each table is then copied with one `INSERT … SELECT` that swaps `tenant_id` and
//! takes every other `uuid` column (its id, its foreign keys, `stock_movements.reference_id`)
//! through that mapping. A reference to a row that is not kept becomes `NULL` — only
//! nullable columns can point at tables outside the closure (an ingredient's supplier when
//! suppliers are not kept). The **template's history** rows (the shared tables' rows the
//! demo read from its template: tens of thousands of tickets) keep their ids — unique within
//! the new tenant too, since the key is `(tenant_id, id)`, and pointed at only by each other
//! (a line's `sale_id`) — so the map holds only the demo's own rows (hundreds, not 55,000)
//! and the history is copied without joining it (the rule is checked when the plan is built:
//! a foreign key from a non-shared table into a shared one stops start-up). The number of
//! statements is fixed by the schema, whatever the amount of data.
//!
//! Foreign keys: the copy is consistent by construction, like the clone's — every id in the
//! mapping is the id of a row the copy inserts (the mapping and each `INSERT` read the same
//! rows, with the same filters, in one repeatable-read snapshot), so a copied reference is
//! either `NULL` or a copied row. So where the role may, the copy skips PostgreSQL's
//! per-row foreign-key triggers as the clone does ([`cloner::ForeignKeyChecks`]; most of
//! the copy's time otherwise); `NOT NULL`, check constraints and row-level security still
//! apply, and the tests check every foreign key of a converted tenant afterwards.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::str::FromStr;

use bakery_config::db::{self, AsyncPgConnection};
use bakery_config::demo::SessionId;
use bakery_tenant::models::{NewTenant, NewUser, Tenant, User};
use bakery_tenant::schema::{tenants, users};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Jsonb, Text, Uuid as SqlUuid};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncConnection, RunQueryDsl, SimpleAsyncConnection};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::cloner::{self, CloneError};

pub mod preview;

/// A data set a prospect may keep (`keep` in the request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataSet {
    /// Ingredients, products, recipes and their lines.
    Catalog,
    Suppliers,
    /// Current stock lots (quantity left) and their movements.
    Stock,
    /// Purchase orders, their lines and deliveries.
    Orders,
    /// The sales history and the production batches behind it.
    Sales,
}

impl DataSet {
    pub const ALL: [DataSet; 5] = [
        DataSet::Catalog,
        DataSet::Suppliers,
        DataSet::Stock,
        DataSet::Orders,
        DataSet::Sales,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DataSet::Catalog => "catalog",
            DataSet::Suppliers => "suppliers",
            DataSet::Stock => "stock",
            DataSet::Orders => "orders",
            DataSet::Sales => "sales",
        }
    }

    /// The data sets this one cannot be kept without: stock lots, order lines and sale
    /// lines name catalog items; orders name their supplier.
    fn needs(self) -> &'static [DataSet] {
        match self {
            DataSet::Catalog | DataSet::Suppliers => &[],
            DataSet::Stock | DataSet::Sales => &[DataSet::Catalog],
            DataSet::Orders => &[DataSet::Catalog, DataSet::Suppliers],
        }
    }
}

impl FromStr for DataSet {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        DataSet::ALL.into_iter().find(|d| d.as_str() == s).ok_or(())
    }
}

/// A `keep` entry outside the five data sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown data set")]
pub struct UnknownDataSet;

/// What a conversion keeps: the chosen data sets and everything they need.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Keep(BTreeSet<DataSet>);

impl Keep {
    /// Parses the request's `keep` (unknown names are an error; repeats are fine) and adds
    /// the dependencies.
    pub fn parse(raw: &[String]) -> Result<Self, UnknownDataSet> {
        let chosen = raw
            .iter()
            .map(|s| s.parse::<DataSet>().map_err(|()| UnknownDataSet))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Keep::closure(chosen))
    }

    pub fn closure(chosen: impl IntoIterator<Item = DataSet>) -> Self {
        let mut sets = BTreeSet::new();
        let mut todo: Vec<DataSet> = chosen.into_iter().collect();
        while let Some(set) = todo.pop() {
            if sets.insert(set) {
                todo.extend_from_slice(set.needs());
            }
        }
        Keep(sets)
    }

    pub fn contains(&self, set: DataSet) -> bool {
        self.0.contains(&set)
    }

    pub fn sets(&self) -> impl Iterator<Item = DataSet> + '_ {
        self.0.iter().copied()
    }
}

/// Which data set carries a tenant-owned table into the new tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carry {
    /// With this data set, the rows `filter` (SQL over the source row `s`; `{tenant}`
    /// stands for the source tenant's id) selects.
    With(DataSet, Option<&'static str>),
    /// Demo-only rows, never carried.
    Never,
}

/// The decision for every tenant-owned table (docs/demo-sessions.md, "From demo to
/// customer"). `None`: not decided, which stops start-up.
pub fn carry(table: &str) -> Option<Carry> {
    use DataSet::*;
    Some(match table {
        "suppliers" => Carry::With(Suppliers, None),
        "ingredients" | "products" | "recipes" | "recipe_lines" => Carry::With(Catalog, None),
        // current lots only: what is left on the shelf
        "stock_lots" => Carry::With(Stock, Some("s.quantity > 0")),
        // the movements of the lots that are kept
        "stock_movements" => Carry::With(
            Stock,
            Some(
                "EXISTS (SELECT 1 FROM stock_lots l \
                 WHERE l.tenant_id = s.tenant_id AND l.id = s.lot_id AND l.quantity > 0)",
            ),
        ),
        "purchase_orders" | "purchase_order_lines" | "deliveries" => Carry::With(Orders, None),
        // The history a virtual tenant reads from its template (a shared table: see
        // `ConvertPlan`) is kept as far as the prospect has seen it: the template's tickets
        // of today not yet sold stay behind, as row-level security hides them.
        "sales" => Carry::With(
            Sales,
            Some("(s.tenant_id = {tenant} OR s.sold_at <= now())"),
        ),
        "sale_lines" => Carry::With(
            Sales,
            Some(
                "(s.tenant_id = {tenant} OR EXISTS (SELECT 1 FROM sales x \
                 WHERE x.tenant_id = s.tenant_id AND x.id = s.sale_id AND x.sold_at <= now()))",
            ),
        ),
        "production_batches" => Carry::With(Sales, None),
        // fake forecast models ("trained" with nothing behind them), the demo row quota,
        // and whose history a virtual tenant shares
        "forecast_models" | "demo_row_usage" | "history_shares" => Carry::Never,
        _ => return None,
    })
}

/// One table's copy.
#[derive(Debug, Clone)]
struct TableCopy {
    table: String,
    set: DataSet,
    filter: Option<&'static str>,
    /// Column list of the `INSERT`.
    columns: String,
    /// Select list over the source row `s` and the mapping joins.
    select: String,
    /// `LEFT JOIN convert_ids …` for every mapped column.
    joins: String,
    /// Read from the template too (a shared table of the clone plan): the source rows
    /// are the virtual tenant's and those of the template whose history it shares.
    shared: bool,
}

impl TableCopy {
    /// The rows to keep that the demo owns (for a shared table, without the template's
    /// history): the ones that get new ids.
    fn own_rows(&self, tenant: &str) -> String {
        self.kept(format!("s.tenant_id = {tenant}"), tenant)
    }

    /// The condition on the source row `s` that picks the rows to keep of `tenant` (an SQL
    /// expression of the tenant id): its own, the shared history it reads for a shared
    /// table, and the data set's filter.
    fn source_rows(&self, tenant: &str) -> String {
        if !self.shared {
            return self.own_rows(tenant);
        }
        self.kept(
            format!(
                "s.tenant_id IN ({tenant}, \
                 (SELECT h.template_id FROM history_shares h WHERE h.tenant_id = {tenant}))"
            ),
            tenant,
        )
    }

    /// `rows` narrowed by the data set's filter.
    fn kept(&self, rows: String, tenant: &str) -> String {
        match self.filter {
            Some(f) => format!("{rows} AND {}", f.replace("{tenant}", tenant)),
            None => rows,
        }
    }
}

/// The SQL of a conversion's inventory copy, built once from the schema.
#[derive(Debug, Clone)]
pub struct ConvertPlan {
    /// Tenant-owned tables, parents first (every one of them, for the clean start).
    tables: Vec<String>,
    /// The tables a data set can carry, parents first.
    copies: Vec<TableCopy>,
    /// Whether the copy runs the per-row foreign-key triggers (the clone plan's answer).
    foreign_key_checks: cloner::ForeignKeyChecks,
}

const SOURCE: &str = "{source}";
const TARGET: &str = "{target}";

impl ConvertPlan {
    /// Reads the tenant-owned tables' columns; `clone` gives the order (parents first) and
    /// whether this role may skip foreign-key triggers. Errors on a table [`carry`] does
    /// not decide.
    pub async fn load(
        conn: &mut AsyncPgConnection,
        clone: &cloner::ClonePlan,
    ) -> Result<Self, CloneError> {
        let tables = clone.tables();
        let columns = cloner::tenant_owned_columns(conn).await?;
        let shared = clone.shared();
        // (table, column) of every foreign key column that points at a shared table
        let to_shared: BTreeSet<(String, String)> = cloner::foreign_key_columns(conn)
            .await?
            .into_iter()
            .filter(|k| k.column_name != "tenant_id" && shared.contains(&k.parent))
            .map(|k| (k.child, k.column_name))
            .collect();
        if let Some((table, column)) = to_shared.iter().find(|(t, _)| !shared.contains(t)) {
            // its rows are the demo's own, and could point at the template's history rows
            // (kept with their ids) or at the demo's own (given new ones): decide it here
            return Err(CloneError::Plan(format!(
                "{table}.{column} points at shared history from a table that is not shared: \
                 no conversion rule (crates/demo-session/src/convert.rs, ConvertPlan::load)"
            )));
        }
        let mut copies = Vec::new();
        for table in tables {
            let decision = carry(table).ok_or_else(|| {
                CloneError::Plan(format!(
                    "table {table}: no conversion rule (crates/demo-session/src/convert.rs, carry)"
                ))
            })?;
            let Carry::With(set, filter) = decision else {
                continue;
            };
            let cols = columns
                .get(table)
                .ok_or_else(|| CloneError::Plan(format!("table {table} vanished")))?;
            let mut names = Vec::new();
            let mut exprs = Vec::new();
            let mut joins = String::new();
            let is_shared = shared.contains(table);
            for (i, c) in cols.iter().enumerate() {
                let name = format!("\"{}\"", c.column_name);
                let expr = match (c.column_name.as_str(), c.data_type.as_str()) {
                    ("tenant_id", _) => format!("'{TARGET}'::uuid"),
                    (column, "uuid") => {
                        let _ = write!(joins, " LEFT JOIN convert_ids m{i} ON m{i}.old = s.{name}");
                        // a shared table's key, or its reference to another shared row: the
                        // template's history keeps its ids, the demo's own rows are mapped
                        let keeps_history_ids = is_shared
                            && (column == "id"
                                || to_shared.contains(&(table.clone(), column.to_owned())));
                        if keeps_history_ids {
                            format!(
                                "CASE WHEN s.tenant_id = '{SOURCE}'::uuid THEN m{i}.new ELSE s.{name} END"
                            )
                        } else {
                            format!("m{i}.new")
                        }
                    }
                    _ => format!("s.{name}"),
                };
                names.push(name);
                exprs.push(expr);
            }
            copies.push(TableCopy {
                table: table.clone(),
                set,
                filter,
                columns: names.join(", "),
                select: exprs.join(", "),
                joins,
                shared: is_shared,
            });
        }
        Ok(ConvertPlan {
            tables: tables.to_vec(),
            copies,
            foreign_key_checks: clone.foreign_key_checks(),
        })
    }

    /// The same plan with the given foreign-key mode (tests compare both).
    #[must_use]
    pub fn with_foreign_key_checks(mut self, checks: cloner::ForeignKeyChecks) -> Self {
        self.foreign_key_checks = checks;
        self
    }

    /// The copy of the tables `keep` carries, from `source` (the virtual tenant) into
    /// `target`, as one script: clear `target` (a retried conversion starts clean), map the
    /// kept rows' ids, copy each table.
    pub fn copy_script(&self, keep: &Keep, source: Uuid, target: Uuid) -> String {
        let mut sql = String::with_capacity(8 * 1024);
        sql.push_str("SELECT set_config('app.all_tenants', 'on', true);\n");
        // the history's statements are costed high enough to be JIT-compiled: ~20 ms of
        // compiling for a copy that runs once
        sql.push_str("SELECT set_config('jit', 'off', true);\n");
        if self.foreign_key_checks == cloner::ForeignKeyChecks::SkippedForCopy {
            sql.push_str("SELECT set_config('session_replication_role', 'replica', true);\n");
        }
        for table in self.tables.iter().rev() {
            let _ = writeln!(
                sql,
                "DELETE FROM {table} WHERE tenant_id = '{TARGET}'::uuid;"
            );
        }
        sql.push_str(
            "CREATE TEMPORARY TABLE convert_ids (old uuid PRIMARY KEY, \
             new uuid NOT NULL DEFAULT gen_random_uuid()) ON COMMIT DROP;\n",
        );
        let kept: Vec<&TableCopy> = self
            .copies
            .iter()
            .filter(|c| keep.contains(c.set))
            .collect();
        if !kept.is_empty() {
            let ids = kept
                .iter()
                .map(|c| {
                    format!(
                        "SELECT s.id FROM {} s WHERE {}",
                        c.table,
                        c.own_rows(&format!("'{SOURCE}'::uuid"))
                    )
                })
                .collect::<Vec<_>>()
                .join(" UNION ");
            let _ = writeln!(sql, "INSERT INTO convert_ids (old) {ids};");
            sql.push_str("ANALYZE convert_ids;\n");
        }
        for c in kept {
            let _ = writeln!(
                sql,
                "INSERT INTO {table} ({columns}) SELECT {select} FROM {table} s{joins} \
                 WHERE {source};",
                table = c.table,
                columns = c.columns,
                select = c.select,
                joins = c.joins,
                source = c.source_rows(&format!("'{SOURCE}'::uuid")),
            );
        }
        sql.replace(SOURCE, &source.to_string())
            .replace(TARGET, &target.to_string())
    }

    /// Does a conversion keeping `keep` copy shared history (and so want
    /// [`refresh_statistics`] after it)?
    pub fn keeps_shared_history(&self, keep: &Keep) -> bool {
        self.copies.iter().any(|c| c.shared && keep.contains(c.set))
    }

    /// `ANALYZE` of every table a conversion may copy shared history into.
    fn analyze_shared(&self) -> Option<String> {
        let tables: Vec<&str> = self
            .copies
            .iter()
            .filter(|c| c.shared)
            .map(|c| c.table.as_str())
            .collect();
        (!tables.is_empty()).then(|| format!("ANALYZE {}", tables.join(", ")))
    }

    /// Rows per table of `tenant`, for the tables a data set can carry (one statement).
    fn count_sql(&self) -> String {
        self.copies
            .iter()
            .map(|c| {
                format!(
                    "SELECT '{t}'::text AS table_name, count(*) AS n FROM {t} WHERE tenant_id = $1",
                    t = c.table
                )
            })
            .collect::<Vec<_>>()
            .join(" UNION ALL ")
    }
}

#[derive(QueryableByName)]
struct TableCount {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Copies what `keep` carries from `source` into `target` in one transaction (repeatable
/// read: one snapshot of the demo). Answers rows per table (every table a data set can
/// carry, `0` for those not kept).
pub async fn copy_kept(
    conn: &mut AsyncPgConnection,
    plan: &ConvertPlan,
    keep: &Keep,
    source: Uuid,
    target: Uuid,
) -> Result<BTreeMap<String, i64>, CloneError> {
    let script = plan.copy_script(keep, source, target);
    let counts = plan.count_sql();
    let rows = conn
        .build_transaction()
        .repeatable_read()
        .run(async |c| {
            c.batch_execute(&script).await?;
            sql_query(&counts)
                .bind::<SqlUuid, _>(target)
                .load::<TableCount>(c)
                .await
        })
        .await?;
    Ok(rows.into_iter().map(|r| (r.table_name, r.n)).collect())
}

/// Refreshes the planner's statistics of the shared history tables after a conversion kept
/// a history. Those are tens of thousands of rows the planner has never seen: with the old
/// statistics a query of the new owner's can be planned for an empty tenant (nested loops
/// over what is in fact a quarter of the tickets). Off the request on purpose: `ANALYZE`
/// reads up to 30,000 pages of each table, so its cost grows with every customer's data;
/// [`crate::lifecycle::DemoSessions::statistics_wanted`] coalesces the requests, so at
/// most one runs at a time and a burst of conversions costs two.
pub async fn refresh_statistics(
    conn: &mut AsyncPgConnection,
    plan: &ConvertPlan,
) -> QueryResult<()> {
    match plan.analyze_shared() {
        Some(analyze) => conn.batch_execute(&analyze).await,
        None => Ok(()),
    }
}

/// What the new account is made of, parsed and hashed.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub bakery_name: String,
    pub owner_name: String,
    pub email: String,
    pub password_hash: String,
}

/// Why the tenant step failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Another user has this address (`users_email_key`).
    #[error("email taken")]
    EmailTaken,
    /// The virtual tenant is gone (the session ended meanwhile).
    #[error("virtual tenant {0} not found")]
    NoVirtualTenant(Uuid),
    #[error("database")]
    Database(#[from] diesel::result::Error),
}

/// The new tenant's and its owner's ids: derived from the session id, so every attempt to
/// convert a session names the same account (a retry after a crash overwrites what the
/// crash left instead of making a second one).
pub fn account_ids(session: &SessionId) -> (Uuid, Uuid) {
    let tenant = Uuid::new_v5(&CONVERSION_NAMESPACE, session.as_str().as_bytes());
    let user = Uuid::new_v5(&tenant, b"owner");
    (tenant, user)
}

/// The namespace of [`account_ids`] (a random constant).
const CONVERSION_NAMESPACE: Uuid = Uuid::from_u128(0x6b1f_2c1e_9d3a_4f0b_8e57_c2a4_1d90_7f35);

/// A slug for the new tenant: the name's letters and digits, then the tenant id's first
/// eight hex digits (unique with the id).
pub fn slug(name: &str, tenant: Uuid) -> String {
    let mut base = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'á' | 'à' | 'ä' | 'â' => 'a',
            'é' | 'è' | 'ë' | 'ê' => 'e',
            'í' | 'ì' | 'ï' | 'î' => 'i',
            'ó' | 'ò' | 'ö' | 'ô' => 'o',
            'ú' | 'ù' | 'ü' | 'û' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            base.push(c);
        } else if !base.is_empty() && !base.ends_with('-') {
            base.push('-');
        }
        if base.len() >= 60 {
            break;
        }
    }
    let base = base.trim_end_matches('-');
    let base = if base.is_empty() { "panaderia" } else { base };
    format!("{base}-{}", &tenant.simple().to_string()[..8])
}

/// Creates the customer tenant (not demo, not template; business model and city from the
/// virtual tenant) and its owner, in one transaction. Whatever an earlier attempt of the
/// same conversion left is replaced. Answers both rows as stored.
pub async fn create_account(
    conn: &mut AsyncPgConnection,
    virtual_tenant: Uuid,
    account: &NewAccount,
) -> Result<(Tenant, User), AccountError> {
    conn.transaction::<_, AccountError, _>(async |c| {
        db::allow_all_tenants(c).await?;
        remove_account_rows(c, account.tenant_id).await?;
        let demo: Tenant = tenants::table
            .find(virtual_tenant)
            .filter(tenants::is_demo.eq(true))
            .select(Tenant::as_select())
            .first(c)
            .await
            .optional()?
            .ok_or(AccountError::NoVirtualTenant(virtual_tenant))?;
        let slug = slug(&account.bakery_name, account.tenant_id);
        let tenant: Tenant = diesel::insert_into(tenants::table)
            .values(NewTenant {
                id: account.tenant_id,
                name: &account.bakery_name,
                slug: &slug,
                business_model: &demo.business_model,
                city: &demo.city,
                // the customer's bakery keeps the clock the prospect's days were drawn in
                timezone: &demo.timezone,
                is_demo: false,
                is_demo_template: false,
                demo_account_type: None,
                base_demo_tenant_id: None,
                demo_session_id: None,
                demo_expires_at: None,
            })
            .returning(Tenant::as_returning())
            .get_result(c)
            .await?;
        let user: User = diesel::insert_into(users::table)
            .values(NewUser {
                tenant_id: account.tenant_id,
                id: account.user_id,
                email: &account.email,
                password_hash: &account.password_hash,
                full_name: &account.owner_name,
                role: "owner",
            })
            .returning(User::as_returning())
            .get_result(c)
            .await
            .map_err(|e| match &e {
                diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    info,
                ) if info.constraint_name() == Some("users_email_key") => AccountError::EmailTaken,
                _ => AccountError::Database(e),
            })?;
        Ok((tenant, user))
    })
    .await
}

async fn remove_account_rows(
    c: &mut AsyncPgConnection,
    tenant: Uuid,
) -> Result<usize, diesel::result::Error> {
    // never a demo or template tenant; the users cascade
    diesel::delete(
        tenants::table
            .filter(tenants::id.eq(tenant))
            .filter(tenants::is_demo.eq(false))
            .filter(tenants::is_demo_template.eq(false)),
    )
    .execute(c)
    .await
}

/// Whether `email` already belongs to a user other than `except` (the owner this
/// session's conversion makes, so a retry is not refused). Asked before the saga, so a
/// taken address costs neither the hash nor the copy; the unique index
/// (`users_email_key`, on `lower(email)`) stays the last word in [`create_account`].
pub async fn email_taken(
    conn: &mut AsyncPgConnection,
    email: &str,
    except: Uuid,
) -> Result<bool, diesel::result::Error> {
    use diesel::dsl::{exists, sql};
    conn.transaction::<_, diesel::result::Error, _>(async |c| {
        db::allow_all_tenants(c).await?;
        diesel::select(exists(
            users::table
                .filter(
                    sql::<diesel::sql_types::Bool>("lower(email) = lower(")
                        .bind::<Text, _>(email)
                        .sql(")"),
                )
                .filter(users::id.ne(except)),
        ))
        .get_result(c)
        .await
    })
    .await
}

/// The compensation of [`create_account`]: the tenant and its users go.
pub async fn remove_account(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
) -> Result<(), diesel::result::Error> {
    conn.transaction::<_, diesel::result::Error, _>(async |c| {
        db::allow_all_tenants(c).await?;
        remove_account_rows(c, tenant).await.map(|_| ())
    })
    .await
}

/// The account a completed conversion made (a retry re-issues its token).
pub async fn find_account(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    user: Uuid,
) -> Result<Option<(Tenant, User)>, diesel::result::Error> {
    conn.transaction::<_, diesel::result::Error, _>(async |c| {
        db::scope_to_tenant(c, tenant).await?;
        let t = tenants::table
            .find(tenant)
            .select(Tenant::as_select())
            .first(c)
            .await
            .optional()?;
        let u = users::table
            .find((tenant, user))
            .select(User::as_select())
            .first(c)
            .await
            .optional()?;
        Ok(t.zip(u))
    })
    .await
}

/// A conversion as `demo_conversions` holds it.
#[derive(Debug, Clone, QueryableByName)]
pub struct Conversion {
    #[diesel(sql_type = SqlUuid)]
    pub tenant_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Jsonb)]
    pub kept: serde_json::Value,
}

impl Conversion {
    pub fn is_completed(&self) -> bool {
        self.status == "completed"
    }
}

/// The conversion of a session, if any.
pub async fn find(
    conn: &mut AsyncPgConnection,
    session: &SessionId,
) -> Result<Option<Conversion>, diesel::result::Error> {
    sql_query("SELECT tenant_id, user_id, status, kept FROM demo_conversions WHERE session_id = $1")
        .bind::<Text, _>(session)
        .get_result(conn)
        .await
        .optional()
}

/// Records that the saga started (committed before any other database is written, so a
/// crash leaves a row naming what it may have written).
pub async fn record_started(
    conn: &mut AsyncPgConnection,
    session: &SessionId,
    tenant: Uuid,
    user: Uuid,
) -> Result<(), diesel::result::Error> {
    sql_query(
        "INSERT INTO demo_conversions (session_id, tenant_id, user_id, status) \
         VALUES ($1, $2, $3, 'started') \
         ON CONFLICT (session_id) DO UPDATE SET status = 'started', started_at = now(), \
             completed_at = NULL",
    )
    .bind::<Text, _>(session)
    .bind::<SqlUuid, _>(tenant)
    .bind::<SqlUuid, _>(user)
    .execute(conn)
    .await
    .map(|_| ())
}

/// `started → completed`, with the rows kept per table.
pub async fn record(
    conn: &mut AsyncPgConnection,
    session: &SessionId,
    kept: &BTreeMap<String, i64>,
) -> Result<(), diesel::result::Error> {
    let kept = serde_json::to_value(kept).unwrap_or_default();
    sql_query(
        "UPDATE demo_conversions SET status = 'completed', kept = $2, completed_at = now() \
         WHERE session_id = $1",
    )
    .bind::<Text, _>(session)
    .bind::<Jsonb, _>(kept)
    .execute(conn)
    .await
    .map(|_| ())
}

/// A conversion left `started` (a crash mid-saga, or a failed compensation).
#[derive(Debug, Clone, QueryableByName)]
pub struct Stale {
    #[diesel(sql_type = Text)]
    pub session_id: String,
    #[diesel(sql_type = SqlUuid)]
    pub tenant_id: Uuid,
}

/// Conversions `started` more than `older_than_secs` ago, at most `limit`, locked until the
/// transaction ends (`SKIP LOCKED`: cleaners running at once take different ones).
pub async fn claim_stale(
    conn: &mut AsyncPgConnection,
    older_than_secs: i64,
    limit: i64,
) -> Result<Vec<Stale>, diesel::result::Error> {
    sql_query(
        "SELECT session_id, tenant_id FROM demo_conversions \
         WHERE status = 'started' AND started_at < now() - make_interval(secs => $1::float8) \
         ORDER BY started_at LIMIT $2 FOR UPDATE SKIP LOCKED",
    )
    .bind::<BigInt, _>(older_than_secs)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// After a compensated failure: nothing of the conversion is left.
pub async fn forget(
    conn: &mut AsyncPgConnection,
    session: &str,
) -> Result<(), diesel::result::Error> {
    sql_query("DELETE FROM demo_conversions WHERE session_id = $1 AND status = 'started'")
        .bind::<Text, _>(session)
        .execute(conn)
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keep(names: &[&str]) -> Keep {
        let raw: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
        Keep::parse(&raw).expect("valid")
    }

    #[test]
    fn dependencies_are_closed() {
        let k = keep(&["orders"]);
        assert!(k.contains(DataSet::Orders));
        assert!(k.contains(DataSet::Suppliers));
        assert!(k.contains(DataSet::Catalog));
        assert!(!k.contains(DataSet::Sales));
        let k = keep(&["sales", "stock"]);
        assert_eq!(
            k.sets().collect::<Vec<_>>(),
            vec![DataSet::Catalog, DataSet::Stock, DataSet::Sales]
        );
        assert_eq!(keep(&[]).sets().count(), 0);
        assert!(Keep::parse(&["forecasts".to_owned()]).is_err());
    }

    #[test]
    fn every_table_of_the_schema_is_decided() {
        for t in bakery_inventory::schema::TABLES_IN_FK_ORDER {
            assert!(carry(t).is_some(), "{t} has no conversion rule");
        }
        assert_eq!(carry("forecast_models"), Some(Carry::Never));
    }

    #[test]
    fn slugs_are_valid_and_unique_per_tenant() {
        let t = Uuid::from_u128(0xabcdef12_0000_0000_0000_000000000000);
        assert_eq!(
            slug("Panadería Ñoño & Hijos", t),
            "panaderia-nono-hijos-abcdef12"
        );
        assert_eq!(slug("  ¡¡!! ", t), "panaderia-abcdef12");
        assert!(slug(&"x".repeat(300), t).len() <= 70);
    }
}
