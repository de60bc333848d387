//! Demo sessions: lifecycle, instant cloning of virtual tenants, cleanup.
//!
//! - [`schema`]: the `demo_session` database; [`MIGRATIONS`]: `migrations/demo_session`.
//! - [`settings`], [`startup`], [`routes`], [`cli`]: the `demo-session` service.

pub mod cli;
pub mod routes;
pub mod schema;
pub mod settings;
pub mod startup;

use diesel_migrations::{EmbeddedMigrations, embed_migrations};

/// The migrations of the `demo_session` database.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/demo_session");
