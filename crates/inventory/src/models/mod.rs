//! The model layer: rows, domain inputs and the queries of each area.
//!
//! Every public function that touches the database opens its own transaction and calls
//! [`bakery_config::db::scope_to_tenant`] first (row-level security), and every query also
//! filters `tenant_id = $tenant` (the first wall). Helpers that take a connection already
//! inside such a transaction say so.

pub mod forecasts;
pub mod ingredients;
pub mod production;
pub mod products;
pub mod purchasing;
pub mod recipes;
pub mod sales;
pub mod stock;

use chrono::{NaiveDate, Utc};

use rust_decimal::Decimal;

use crate::error::InventoryError;

/// The largest money amount a column holds (`numeric(12, 2)`).
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

/// Today's date (UTC), the day sales and orders are dated by.
pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// A short random suffix for human-readable references (`PO-20261125-3F9A1C`).
pub(crate) fn short_code() -> String {
    let n: u32 = rand::random();
    format!("{:06X}", n & 0x00FF_FFFF)
}
