//! tenant-service through its real router, on real PostgreSQL and Redis.
#![allow(
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a test fails loudly on what it cannot set up, and reads JSON answers by key"
)]

mod client;
mod demo_login;
mod helpers;
mod internal;
mod login;
mod metrics;
mod openapi;
mod tenants;
mod upgrade;
