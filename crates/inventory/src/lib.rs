//! Ingredients, products, stock, recipes, production, purchasing, sales and forecasts:
//! the model library behind `inventory-service`.
//!
//! - [`schema`]: the Diesel schema of the `inventory` database (every table keyed
//!   `(tenant_id, id)`), and the tables in foreign-key order.
//! - [`MIGRATIONS`]: `migrations/inventory`, embedded.
//!
//! Service:
//! - [`settings`]: what it reads from the environment.
//! - [`startup`]: `Application::build`, shared by `main` and the tests.
//! - [`routes`]: the HTTP API.
//! - [`cli`]: `inventory-service [serve|migrate]`.

pub mod cli;
pub mod routes;
pub mod schema;
pub mod settings;
pub mod startup;

use diesel_migrations::{EmbeddedMigrations, embed_migrations};

/// The migrations of the `inventory` database.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/inventory");
