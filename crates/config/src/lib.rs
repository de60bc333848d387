//! Shared plumbing for every Bakery-IA service.
//!
//! Start-up:
//! - [`env`]: reading typed values from the environment, collecting every problem by name;
//!   [`env::Secret`] for keys.
//! - [`settings`]: the settings groups services compose (server, databases, Redis, demo,
//!   tokens…, and [`settings::ServiceSettings`], the groups of a service with a database).
//! - [`cli`]: what every binary's `main` shares: subcommand, settings, telemetry, runtime,
//!   exit code, `migrate`.
//! - [`telemetry`]: `tracing` set-up (readable in development, JSON in production) and
//!   request ids.
//! - [`server`]: the actix-web server every service runs (middleware, errors, health,
//!   metrics, shutdown).
//! - [`metrics`]: Prometheus metrics, one registry per application: the HTTP middleware,
//!   `GET /metrics`, the gateway's metrics listener.
//!
//! The edge:
//! - [`http`]: the JSON error envelope, the one `ResponseError` glue (cause chain logged,
//!   never sent), extractor errors, `405`, health and readiness routes.
//! - [`openapi`]: the error envelope as a schema and the answers every route may give,
//!   for each service's OpenAPI document.
//! - [`pagination`]: `limit`/`offset` pages and the `{items, limit, offset, total}` envelope.
//! - [`auth`]: the identity token the gateway mints and the services verify.
//! - [`clock`]: the bakery's time zone, its days and their boundaries.
//! - [`client`]: the client address, resolved by the gateway and asserted to services.
//! - [`tenants`]: the tenant directory's wire types and the demo template tenants.
//! - [`demo`]: the demo-session vocabulary shared by demo-session, the gateway and
//!   tenant-service.
//! - [`funnel`]: the demo funnel's closed vocabulary (milestones and their details).
//!
//! Storage:
//! - [`db`]: PostgreSQL pools, embedded migrations, per-transaction tenant scoping.
//! - [`schema_version`]: is the database at the schema this build embeds (`/ready`).
//! - [`cache`]: the Redis pool, key naming and the fixed-window counter.
//! - [`tls`]: TLS to PostgreSQL (`sslmode`, `sslrootcert`) and Redis (`rediss://`,
//!   `REDIS_CA_FILE`) through rustls.

pub mod auth;
pub mod cache;
pub mod cli;
pub mod client;
pub mod clock;
pub mod db;
pub mod demo;
pub mod env;
pub mod funnel;
pub mod http;
pub mod metrics;
pub mod openapi;
pub mod pagination;
pub mod schema_version;
pub mod server;
pub mod settings;
pub mod telemetry;
pub mod tenants;
pub mod tls;

pub use env::{ConfigError, Env};
