//! The model layer: rows, domain inputs and the queries of each area.
//!
//! Every public function that touches the database opens its own transaction and calls
//! [`bakery_config::db::scope_to_tenant`] first (row-level security), and every query also
//! filters `tenant_id = $tenant` (the first wall). Helpers that take a connection already
//! inside such a transaction say so.

pub mod forecasts;
pub mod history;
pub mod ingredients;
pub mod production;
pub mod products;
pub mod purchasing;
pub mod recipes;
pub mod sales;
pub mod sales_summary;
pub mod stock;

use std::collections::HashMap;

pub use bakery_config::clock::BakeryTimeZone;
use bakery_config::db::{self, AsyncPgConnection};
use chrono::NaiveDate;
use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::error::InventoryError;

/// Whom a write is for: the tenant, and for a demo session the row quota PostgreSQL
/// enforces on it (`migrations/inventory/…_demo_row_quota`: at most that many new rows per
/// table for the tenant, refused as `demo_quota`). A `Uuid` converts into a scope without
/// a quota, for customers and for the jobs and tests that call the model directly. The
/// tenant's time zone dates what the write creates (an order's reference and expected
/// day, a lot's code and best-before): the bakery's day, not UTC's (`bakery_config::clock`);
/// a bare `Uuid` takes the default zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteScope {
    pub tenant: Uuid,
    pub demo_row_quota: Option<u32>,
    pub time_zone: BakeryTimeZone,
}

impl From<Uuid> for WriteScope {
    fn from(tenant: Uuid) -> Self {
        WriteScope {
            tenant,
            demo_row_quota: None,
            time_zone: BakeryTimeZone::default(),
        }
    }
}

#[derive(diesel::QueryableByName)]
struct Scoped {
    #[diesel(sql_type = Text)]
    #[expect(
        dead_code,
        reason = "read by diesel only: the row must name the column"
    )]
    tenant: String,
}

impl WriteScope {
    /// The same scope in the bakery's `time_zone`.
    #[must_use]
    pub fn in_time_zone(self, time_zone: BakeryTimeZone) -> Self {
        WriteScope { time_zone, ..self }
    }

    /// The bakery's calendar day now, which the write's dates count from.
    pub fn today(&self) -> NaiveDate {
        self.time_zone.today()
    }

    /// Scopes the current transaction to the tenant (row-level security) and, for a demo
    /// session, sets `app.demo_row_quota` for it: both transaction-local, one round trip.
    /// Call it first inside `conn.transaction(…)`.
    pub async fn enter(&self, conn: &mut AsyncPgConnection) -> diesel::QueryResult<()> {
        match self.demo_row_quota {
            None => db::scope_to_tenant(conn, self.tenant).await,
            Some(quota) => diesel::sql_query(
                "SELECT set_config('app.tenant_id', $1, true) AS tenant, \
                        set_config('app.demo_row_quota', $2, true) AS quota",
            )
            .bind::<Text, _>(self.tenant.to_string())
            .bind::<Text, _>(quota.to_string())
            .load::<Scoped>(conn)
            .await
            .map(|_| ()),
        }
    }
}

/// The largest money amount a column holds (`numeric(12, 2)`).
/// Refuses text PostgreSQL cannot store (a NUL character): `422 invalid_input`, not a
/// failed statement. The document says it as `TEXT_PATTERN`.
pub fn storable_text(value: &str, field: &str) -> Result<(), crate::error::InventoryError> {
    if value.contains('\0') {
        return Err(crate::error::InventoryError::Invalid(format!(
            "{field} no admite el carácter NUL"
        )));
    }
    Ok(())
}

/// Text [`storable_text`] takes.
pub const TEXT_PATTERN: &str = r"^[^\x00]*$";

pub const MAX_MONEY: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

/// Refuses an amount too large to record.
pub(crate) fn check_amount(amount: Decimal, what: &str) -> Result<Decimal, InventoryError> {
    if amount > MAX_MONEY {
        return Err(InventoryError::Invalid(format!(
            "{what} no puede superar {MAX_MONEY}"
        )));
    }
    Ok(amount)
}

/// `items` by `key`, each group in the items' order: the lines of each order, sale or
/// recipe, loaded for a whole page in one query.
pub(crate) fn group_by<T>(
    items: impl IntoIterator<Item = T>,
    key: impl Fn(&T) -> Uuid,
) -> HashMap<Uuid, Vec<T>> {
    let mut groups: HashMap<Uuid, Vec<T>> = HashMap::new();
    for item in items {
        groups.entry(key(&item)).or_default().push(item);
    }
    groups
}

/// A short random suffix for human-readable references (`PO-20261125-3F9A1C`).
pub(crate) fn short_code() -> String {
    let n: u32 = rand::random();
    format!("{:06X}", n & 0x00FF_FFFF)
}
