//! Demo sessions: lifecycle, instant cloning of virtual tenants, cleanup.
//!
//! Model:
//! - [`schema`], [`sessions`]: the `demo_sessions` table (the truth); [`MIGRATIONS`].
//! - [`redis_copy`]: the fast copy in Redis, invalidation messages, the rate limit.
//!
//! Cloning:
//! - [`cloner`]: the set-based copy (one `INSERT … SELECT` per table, dates rebased; the
//!   sales history is shared with the template, not copied) and removal of a virtual
//!   tenant across the tenant and inventory databases.
//! - [`templates`]: the templates seeded again when the bakery's day changes.
//! - [`jobs`]: the `k8s-job` strategy (a Kubernetes Job per session, watched).
//! - [`clone_job`]: what that Job runs (`clone-demo-tenant`).
//! - [`pool`]: the warm pool of virtual tenants cloned ahead of demand (its size follows
//!   the arrival rate: `lifecycle::warm_pool`).
//! - [`queue`]: the waiting room at the global cap.
//! - [`convert`]: from demo to customer — what a conversion keeps and the set-based copy
//!   with new ids (the saga and the reset are in [`lifecycle`]).
//!
//! Service:
//! - [`lifecycle`]: create, get, extend, destroy, reset, convert, cleanup — the sagas and
//!   their compensation.
//! - [`funnel`]: the demo funnel's milestones, the guided checklist and the funnel stats.
//! - [`stats`]: what operators watch; [`metrics`]: the same, for Prometheus (`/metrics`).
//! - [`client`]: the client address and its keyed hash.
//! - [`error`]: the one error type and its JSON answers.
//! - [`settings`], [`startup`], [`routes`] ([`openapi`]: their OpenAPI document), [`cli`].

pub mod cli;
pub mod client;
pub mod clone_job;
pub mod cloner;
pub mod convert;
pub mod error;
pub mod funnel;
pub mod jobs;
pub mod lifecycle;
pub mod metrics;
pub mod openapi;
pub mod pool;
pub mod queue;
pub mod redis_copy;
pub mod routes;
pub mod schema;
pub mod sessions;
pub mod settings;
pub mod startup;
pub mod stats;
pub mod templates;

use diesel_migrations::{EmbeddedMigrations, embed_migrations};

/// The migrations of the `demo_session` database.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/demo_session");
