//! inventory-service through its real router, on real PostgreSQL and Redis.
#![allow(
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a test fails loudly on what it cannot set up, and reads JSON answers by key"
)]

mod auth_and_bad_input;
mod bakery_clock;
mod catalog;
mod forecasts;
mod helpers;
mod isolation;
mod limits;
mod metrics;
mod openapi;
mod procurement;
mod sales_pages;
mod shared_history;
mod stock;
