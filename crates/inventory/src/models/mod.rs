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

/// Today's date (UTC), the day sales and orders are dated by.
pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// A short random suffix for human-readable references (`PO-20261125-3F9A1C`).
pub(crate) fn short_code() -> String {
    let n: u32 = rand::random();
    format!("{:06X}", n & 0x00FF_FFFF)
}
