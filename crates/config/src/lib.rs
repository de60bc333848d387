//! Shared plumbing for every Bakery-IA service.
//!
//! - [`env`]: reading typed values from the environment, collecting every problem by name.
//! - [`settings`]: the settings groups services compose (server, databases, Redis, demo, tokens…).
//! - [`telemetry`]: `tracing` set-up (readable in development, JSON in production) and request ids.
//! - [`http`]: the JSON error envelope, extractor error handlers, health and readiness routes.
//! - [`cli`]: the runtime and exit code every binary shares.
//! - [`server`]: the actix-web server every service runs (middleware, errors, health, shutdown).
//! - [`auth`]: the identity token the gateway mints and the services verify.
//! - [`client`]: the client address, resolved by the gateway and asserted to services.
//! - [`db`]: PostgreSQL pools, embedded migrations, per-transaction tenant scoping.
//! - [`cache`]: the Redis pool and key naming.
//! - [`demo`]: the demo-session vocabulary shared by demo-session, the gateway and tenant-service.

pub mod auth;
pub mod cache;
pub mod cli;
pub mod client;
pub mod db;
pub mod demo;
pub mod env;
pub mod http;
pub mod server;
pub mod settings;
pub mod telemetry;

pub use env::{ConfigError, Env};
