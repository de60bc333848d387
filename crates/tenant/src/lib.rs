//! Tenants (with their demo flags) and users: the model library and `tenant-service`.
//!
//! Model library:
//! - [`schema`], [`models`]: the Diesel schema and rows of the `tenant` database.
//! - [`queries`]: the reads the service makes, each in a transaction scoped by tenant.
//! - [`MIGRATIONS`]: `migrations/tenant`, embedded.
//! - [`password`]: argon2id hashing.
//!
//! Service:
//! - [`settings`]: what it reads from the environment.
//! - [`domain`]: values parsed at the edge (email, password, tenant kind).
//! - [`login`]: the login use case, with [`throttle`] (failed-login limits per client and
//!   a slow-down per address, in Redis), [`access`] (customers' access tokens) and
//!   [`demo_client`] (demo logins call demo-session).
//! - [`error`]: `TenantError`, mapped to the JSON error envelope.
//! - [`metrics`]: its Prometheus metrics (login outcomes), at `/metrics`.
//! - [`startup`]: `Application::build`, shared by `main` and the tests.
//! - [`routes`]: the HTTP API (`docs/api-tenant.md`); [`openapi`]: its OpenAPI document.
//! - [`cli`]: `tenant-service [serve|migrate]`.

pub mod access;
pub mod cli;
pub mod demo_client;
pub mod domain;
pub mod error;
pub mod login;
pub mod metrics;
pub mod models;
pub mod openapi;
pub mod password;
pub mod queries;
pub mod routes;
pub mod schema;
pub mod settings;
pub mod startup;
pub mod throttle;

use diesel_migrations::{EmbeddedMigrations, embed_migrations};

/// The migrations of the `tenant` database.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/tenant");
