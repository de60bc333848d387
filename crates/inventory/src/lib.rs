//! Ingredients, products, stock, recipes, production, purchasing, sales and forecasts:
//! the model library behind `inventory-service`.
//!
//! Model library:
//! - [`schema`]: the Diesel schema of the `inventory` database (every table keyed
//!   `(tenant_id, id)`), and the tables in foreign-key order.
//! - [`MIGRATIONS`]: `migrations/inventory`, embedded.
//! - [`models`]: rows, domain inputs and queries per area (ingredients, stock, recipes,
//!   production, purchasing, sales, forecasts); every query runs in a transaction scoped
//!   to the caller's tenant.
//! - [`error`]: `InventoryError`, mapped to the JSON error envelope.
//! - [`pagination`]: `limit`/`offset` pages (at most 200 items).
//! - `migrations/inventory/…_demo_row_quota`: the rows-per-table quota of demo sessions,
//!   counted by PostgreSQL (`demo_row_usage`).
//!
//! Service:
//! - [`settings`]: what it reads from the environment.
//! - [`cache`]: the read-through cache of hot lists (bounded pages in memory, versions in
//!   Redis).
//! - [`quota`]: demo sessions' write and row quotas.
//! - [`procurement`]: drafting purchase orders for customer tenants (never demo ones).
//! - [`metrics`]: its Prometheus metrics (cache reads, procurement runs), at `/metrics`.
//! - [`startup`]: `Application::build`, shared by `main` and the tests.
//! - [`routes`]: the HTTP API (`docs/api-inventory.md`); [`openapi`]: its OpenAPI document.
//! - [`cli`]: `inventory-service [serve|migrate|procurement-run]`.

pub mod cache;
pub mod cli;
pub mod error;
pub mod metrics;
pub mod models;
pub mod openapi;
pub mod pagination;
pub mod procurement;
pub mod quota;
pub mod routes;
pub mod schema;
pub mod settings;
pub mod startup;

use diesel_migrations::{EmbeddedMigrations, embed_migrations};

/// The migrations of the `inventory` database.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/inventory");
