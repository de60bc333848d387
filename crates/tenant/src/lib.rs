//! Tenants (with their demo flags) and users: the model library and `tenant-service`.
//!
//! Model library:
//! - [`schema`], [`models`]: the Diesel schema and rows of the `tenant` database.
//! - [`MIGRATIONS`]: `migrations/tenant`, embedded.
//! - [`password`]: argon2id hashing.
//!
//! Service:
//! - [`settings`]: what it reads from the environment.
//! - [`startup`]: `Application::build`, shared by `main` and the tests.
//! - [`routes`]: the HTTP API.
//! - [`cli`]: `tenant-service [serve|migrate]`.

pub mod cli;
pub mod models;
pub mod password;
pub mod routes;
pub mod schema;
pub mod settings;
pub mod startup;

use diesel_migrations::{EmbeddedMigrations, embed_migrations};

/// The migrations of the `tenant` database.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/tenant");
