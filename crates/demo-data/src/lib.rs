//! The two Spanish demo bakeries and the jobs that seed them as template tenants.
//!
//! - [`accounts`]: the published demo accounts (`GET /api/demo/accounts`), the template
//!   tenants' fixed ids and the demo users' credentials, from `data/demo/accounts.toml`.
//! - [`catalog`]: each bakery's data file (`data/demo/*.toml`: suppliers, ingredients,
//!   products and recipes, stock lots, orders, the sales plan), embedded and checked.
//! - [`clock`]: the bakeries' time zone (Europe/Madrid), their "today" and local times.
//! - [`ids`]: deterministic row ids (UUID v5 of the template tenant and a stable key).
//! - [`rng`]: the small deterministic PRNG behind the generated history.
//! - [`rows`]: one row type per inventory table.
//! - [`generate`]: a bakery and the seed day → every inventory row of its template (the
//!   till's tickets of the 90 days before today and of today's whole day, production,
//!   orders and deliveries, fake models).
//! - [`seed`]: `seed_tenants`, `seed_users`, `seed_inventory`: idempotent, one transaction
//!   per database.
//! - [`jobs`]: the `seed-demo-*` binaries.

pub mod accounts;
pub mod catalog;
pub mod clock;
pub mod generate;
pub mod ids;
pub mod jobs;
pub mod rng;
pub mod rows;
pub mod seed;

pub use accounts::{DemoAccount, accounts};
pub use clock::bakery_today;
pub use seed::{Outcome, SeedError, seed_inventory, seed_tenants, seed_users};
