//! The seed jobs' work: the template tenants, their demo users and their inventory.
//!
//! Each function is idempotent: it computes the rows the data files describe, compares them
//! with what the template holds, and does nothing when they match. When they differ, the
//! template's rows are rewritten (deleted and inserted again; tenants are updated in place,
//! since virtual tenants point at them). All of it happens in ONE transaction per database,
//! under an advisory lock, so a failure half-way leaves the previous template untouched and
//! two seed jobs never interleave.

use bakery_config::db::{self, AsyncPgConnection};
use bakery_config::demo::AccountType;
use bakery_tenant::models::{NewTenant, NewUser, Tenant, User};
use bakery_tenant::schema::{tenants, users};
use chrono::{NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

use crate::accounts::{self, DemoAccount};
use crate::catalog::DataError;
use crate::generate;
use crate::rows::*;

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("database: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("password hashing: {0}")]
    Password(#[from] bakery_tenant::password::HashError),
    #[error("{0}")]
    Conflict(String),
}

/// What a seed did to one template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The template already held exactly these rows.
    Unchanged,
    /// The template's rows were (re)written: how many.
    Written { rows: usize },
}

pub type Report = Vec<(AccountType, Outcome)>;

/// Serializes seed jobs (per database) for the length of the transaction.
async fn lock(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext('bakery-demo-seed'))::text")
        .execute(conn)
        .await
        .map(|_| ())
}

/// Begins the seed transaction's work: across tenants, one seed at a time.
async fn begin(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    db::allow_all_tenants(conn).await?;
    lock(conn).await
}

fn loaded_accounts() -> Result<Vec<DemoAccount>, SeedError> {
    Ok(accounts::load()?)
}

// ---------------------------------------------------------------------------------------
// tenant database

/// The template tenants (`is_demo_template = true`, fixed ids) in the tenant database.
pub async fn seed_tenants(conn: &mut AsyncPgConnection) -> Result<Report, SeedError> {
    let accounts = loaded_accounts()?;
    conn.transaction(async |c| {
        begin(c).await?;
        ensure_tenants(c, &accounts).await
    })
    .await
}

fn new_tenant(a: &DemoAccount) -> NewTenant<'_> {
    NewTenant {
        id: a.tenant_id,
        name: &a.name,
        slug: &a.slug,
        business_model: &a.business_model,
        city: &a.city,
        timezone: a.time_zone.name(),
        is_demo: false,
        is_demo_template: true,
        demo_account_type: Some(a.account_type.as_str()),
        base_demo_tenant_id: None,
        demo_session_id: None,
        demo_expires_at: None,
    }
}

fn tenant_matches(t: &Tenant, a: &DemoAccount) -> bool {
    t.name == a.name
        && t.slug == a.slug
        && t.business_model == a.business_model
        && t.city == a.city
        && t.timezone == a.time_zone.name()
        && !t.is_demo
        && t.is_demo_template
        && t.demo_account_type.as_deref() == Some(a.account_type.as_str())
        && t.base_demo_tenant_id.is_none()
        && t.demo_session_id.is_none()
        && t.demo_expires_at.is_none()
}

async fn ensure_tenants(
    c: &mut AsyncPgConnection,
    accounts: &[DemoAccount],
) -> Result<Report, SeedError> {
    let mut report = Vec::new();
    for a in accounts {
        let current = tenants::table
            .find(a.tenant_id)
            .select(Tenant::as_select())
            .first(c)
            .await
            .optional()?;
        let outcome = match current {
            Some(t) if tenant_matches(&t, a) => Outcome::Unchanged,
            Some(_) => {
                let n = new_tenant(a);
                diesel::update(tenants::table.find(a.tenant_id))
                    .set((
                        tenants::name.eq(n.name),
                        tenants::slug.eq(n.slug),
                        tenants::business_model.eq(n.business_model),
                        tenants::city.eq(n.city),
                        tenants::timezone.eq(n.timezone),
                        tenants::is_demo.eq(false),
                        tenants::is_demo_template.eq(true),
                        tenants::demo_account_type.eq(n.demo_account_type),
                        tenants::base_demo_tenant_id.eq(None::<uuid::Uuid>),
                        tenants::demo_session_id.eq(None::<String>),
                        tenants::demo_expires_at.eq(None::<chrono::DateTime<Utc>>),
                        tenants::updated_at.eq(Utc::now()),
                    ))
                    .execute(c)
                    .await?;
                Outcome::Written { rows: 1 }
            }
            None => {
                diesel::insert_into(tenants::table)
                    .values(new_tenant(a))
                    .execute(c)
                    .await?;
                Outcome::Written { rows: 1 }
            }
        };
        report.push((a.account_type, outcome));
    }
    Ok(report)
}

/// The demo users (one owner per template, with the published password), and the template
/// tenants they belong to, in one transaction of the tenant database.
pub async fn seed_users(conn: &mut AsyncPgConnection) -> Result<Report, SeedError> {
    let accounts = loaded_accounts()?;
    conn.transaction(async |c| {
        begin(c).await?;
        ensure_tenants(c, &accounts).await?;
        let mut report = Vec::new();
        for a in &accounts {
            report.push((a.account_type, ensure_user(c, a).await?));
        }
        Ok(report)
    })
    .await
}

/// The demo user's id: stable, derived from the template and the email.
pub fn user_id(a: &DemoAccount) -> uuid::Uuid {
    crate::ids::Ids::new(a.tenant_id).of("user", &a.email.to_lowercase())
}

async fn ensure_user(c: &mut AsyncPgConnection, a: &DemoAccount) -> Result<Outcome, SeedError> {
    let current: Vec<User> = users::table
        .filter(users::tenant_id.eq(a.tenant_id))
        .select(User::as_select())
        .load(c)
        .await?;
    let id = user_id(a);
    let up_to_date = matches!(current.as_slice(), [u] if u.id == id
        && u.email == a.email
        && u.full_name == a.owner_name
        && u.role == "owner"
        && u.is_active
        && bakery_tenant::password::verify(&a.password, &u.password_hash));
    if up_to_date {
        return Ok(Outcome::Unchanged);
    }
    // The address is unique across tenants: it must not belong to anybody else.
    let elsewhere: i64 = users::table
        .filter(users::tenant_id.ne(a.tenant_id))
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("lower(email) = lower(")
                .bind::<diesel::sql_types::Text, _>(&a.email)
                .sql(")"),
        )
        .count()
        .get_result(c)
        .await?;
    if elsewhere > 0 {
        return Err(SeedError::Conflict(format!(
            "{} belongs to a user of another tenant",
            a.email
        )));
    }
    diesel::delete(users::table.filter(users::tenant_id.eq(a.tenant_id)))
        .execute(c)
        .await?;
    let hash = bakery_tenant::password::hash(&a.password)?;
    diesel::insert_into(users::table)
        .values(NewUser {
            tenant_id: a.tenant_id,
            id,
            email: &a.email,
            password_hash: &hash,
            full_name: &a.owner_name,
            role: "owner",
        })
        .execute(c)
        .await?;
    Ok(Outcome::Written { rows: 1 })
}

// ---------------------------------------------------------------------------------------
// inventory database

/// Every template's inventory as of `today` (history ending yesterday), in one transaction
/// of the inventory database.
pub async fn seed_inventory(
    conn: &mut AsyncPgConnection,
    today: NaiveDate,
) -> Result<Report, SeedError> {
    let mut wanted = Vec::new();
    for a in loaded_accounts()? {
        let bakery = a.bakery()?;
        let rows = generate::inventory_rows(&a, &bakery, today)?;
        wanted.push((a, rows));
    }
    conn.transaction(async |c| {
        begin(c).await?;
        let mut report = Vec::new();
        for (a, rows) in &wanted {
            let outcome = if holds(c, a.tenant_id, rows).await? {
                Outcome::Unchanged
            } else {
                delete_inventory(c, a.tenant_id).await?;
                insert_inventory(c, rows).await?;
                Outcome::Written { rows: rows.len() }
            };
            report.push((a.account_type, outcome));
        }
        Ok(report)
    })
    .await
}

/// The template's rows of every table, sorted by id (as [`InventoryRows::sort`] does).
pub async fn load_inventory(
    c: &mut AsyncPgConnection,
    tenant: uuid::Uuid,
) -> QueryResult<InventoryRows> {
    use bakery_inventory::schema::*;
    macro_rules! load {
        ($table:ident, $row:ty) => {
            $table::table
                .filter($table::tenant_id.eq(tenant))
                .order($table::id)
                .select(<$row>::as_select())
                .load(c)
                .await?
        };
    }
    Ok(InventoryRows {
        suppliers: load!(suppliers, Supplier),
        ingredients: load!(ingredients, Ingredient),
        products: load!(products, Product),
        stock_lots: load!(stock_lots, StockLot),
        stock_movements: load!(stock_movements, StockMovement),
        recipes: load!(recipes, Recipe),
        recipe_lines: load!(recipe_lines, RecipeLine),
        production_batches: load!(production_batches, ProductionBatch),
        purchase_orders: load!(purchase_orders, PurchaseOrder),
        purchase_order_lines: load!(purchase_order_lines, PurchaseOrderLine),
        deliveries: load!(deliveries, Delivery),
        sales: load!(sales, Sale),
        sale_lines: load!(sale_lines, SaleLine),
        forecast_models: load!(forecast_models, ForecastModel),
    })
}

async fn holds(
    c: &mut AsyncPgConnection,
    tenant: uuid::Uuid,
    wanted: &InventoryRows,
) -> QueryResult<bool> {
    Ok(load_inventory(c, tenant).await? == *wanted)
}

async fn delete_inventory(c: &mut AsyncPgConnection, tenant: uuid::Uuid) -> QueryResult<()> {
    use bakery_inventory::schema::*;
    macro_rules! delete {
        ($($table:ident),+) => {
            $(diesel::delete($table::table.filter($table::tenant_id.eq(tenant)))
                .execute(c)
                .await?;)+
        };
    }
    // children first: the reverse of TABLES_IN_FK_ORDER
    delete!(
        forecast_models,
        sale_lines,
        sales,
        deliveries,
        purchase_order_lines,
        purchase_orders,
        production_batches,
        recipe_lines,
        recipes,
        stock_movements,
        stock_lots,
        products,
        ingredients,
        suppliers
    );
    Ok(())
}

/// Rows per INSERT of the small tables: the widest row binds 11 parameters, and 11 × 5,000
/// stays under PostgreSQL's 65,535 (a test checks every table). The sales and their lines
/// (tens of thousands of rows) go in one statement each, as arrays.
const CHUNK: usize = 5_000;

/// A table that received at least this many rows is analysed before the next one is
/// written (see [`insert_inventory`]).
const ANALYZE_FROM: usize = 5_000;

/// Inserts every table, parents first. After a big table (the sales and their lines) comes
/// `ANALYZE` of it, in the same transaction: the foreign-key checks of the next table and
/// the cascade of the next seed's `DELETE` are planned from the table's statistics, and
/// statistics that still say "empty" (a new database, or a failed seed's rows vacuumed
/// away) make them scan the whole table once per row — minutes for 60,000 lines instead
/// of a second. (Rows inserted by this transaction count for its own `ANALYZE`; a role
/// that does not own the table only gets a warning.)
async fn insert_inventory(c: &mut AsyncPgConnection, rows: &InventoryRows) -> QueryResult<()> {
    use bakery_inventory::schema::*;
    macro_rules! insert_rows {
        (sales) => {
            insert_sales(c, &rows.sales).await?
        };
        (sale_lines) => {
            insert_sale_lines(c, &rows.sale_lines).await?
        };
        ($table:ident) => {
            for chunk in rows.$table.chunks(CHUNK) {
                diesel::insert_into($table::table)
                    .values(chunk)
                    .execute(c)
                    .await?;
            }
        };
    }
    macro_rules! insert {
        ($($table:ident),+) => {
            $(insert_rows!($table);
            if rows.$table.len() >= ANALYZE_FROM {
                diesel::sql_query(concat!("ANALYZE ", stringify!($table))).execute(c).await?;
            })+
        };
    }
    // parents first: TABLES_IN_FK_ORDER
    bakery_inventory::model_tables!(insert);
    Ok(())
}

/// The sales in one `INSERT … SELECT FROM unnest(…)`: one array per column, so the
/// statement is six parameters however many tickets (multi-row `VALUES` would need 36
/// statements of 5,000 rows, each parsed and bound).
async fn insert_sales(c: &mut AsyncPgConnection, rows: &[Sale]) -> QueryResult<()> {
    use diesel::sql_types::{Array, Numeric, Text, Timestamptz, Uuid as SqlUuid};
    if rows.is_empty() {
        return Ok(());
    }
    diesel::sql_query(
        "INSERT INTO sales (tenant_id, id, sold_at, channel, payment_method, total) \
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::text[], $5::text[], \
                              $6::numeric[])",
    )
    .bind::<Array<SqlUuid>, _>(rows.iter().map(|r| r.tenant_id).collect::<Vec<_>>())
    .bind::<Array<SqlUuid>, _>(rows.iter().map(|r| r.id).collect::<Vec<_>>())
    .bind::<Array<Timestamptz>, _>(rows.iter().map(|r| r.sold_at).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(rows.iter().map(|r| r.channel.as_str()).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(
        rows.iter()
            .map(|r| r.payment_method.as_str())
            .collect::<Vec<_>>(),
    )
    .bind::<Array<Numeric>, _>(rows.iter().map(|r| r.total).collect::<Vec<_>>())
    .execute(c)
    .await
    .map(|_| ())
}

/// The sale lines in one statement, as [`insert_sales`] does.
async fn insert_sale_lines(c: &mut AsyncPgConnection, rows: &[SaleLine]) -> QueryResult<()> {
    use diesel::sql_types::{Array, Numeric, Uuid as SqlUuid};
    if rows.is_empty() {
        return Ok(());
    }
    diesel::sql_query(
        "INSERT INTO sale_lines (tenant_id, id, sale_id, product_id, quantity, unit_price, line_total) \
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::numeric[], \
                              $6::numeric[], $7::numeric[])",
    )
    .bind::<Array<SqlUuid>, _>(rows.iter().map(|r| r.tenant_id).collect::<Vec<_>>())
    .bind::<Array<SqlUuid>, _>(rows.iter().map(|r| r.id).collect::<Vec<_>>())
    .bind::<Array<SqlUuid>, _>(rows.iter().map(|r| r.sale_id).collect::<Vec<_>>())
    .bind::<Array<SqlUuid>, _>(rows.iter().map(|r| r.product_id).collect::<Vec<_>>())
    .bind::<Array<Numeric>, _>(rows.iter().map(|r| r.quantity).collect::<Vec<_>>())
    .bind::<Array<Numeric>, _>(rows.iter().map(|r| r.unit_price).collect::<Vec<_>>())
    .bind::<Array<Numeric>, _>(rows.iter().map(|r| r.line_total).collect::<Vec<_>>())
    .execute(c)
    .await
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PostgreSQL's limit of bind parameters in one statement.
    const MAX_BIND_PARAMETERS: usize = 65_535;

    #[test]
    fn every_chunk_stays_under_the_bind_parameter_limit() {
        let widest = [
            Supplier::COLUMNS,
            Ingredient::COLUMNS,
            Product::COLUMNS,
            StockLot::COLUMNS,
            StockMovement::COLUMNS,
            Recipe::COLUMNS,
            RecipeLine::COLUMNS,
            ProductionBatch::COLUMNS,
            PurchaseOrder::COLUMNS,
            PurchaseOrderLine::COLUMNS,
            Delivery::COLUMNS,
            Sale::COLUMNS,
            SaleLine::COLUMNS,
            ForecastModel::COLUMNS,
        ]
        .into_iter()
        .max()
        .unwrap_or(usize::MAX);
        assert_eq!(PurchaseOrder::COLUMNS, 11);
        assert!(
            CHUNK * widest <= MAX_BIND_PARAMETERS,
            "{CHUNK} rows × {widest}"
        );
    }
}
