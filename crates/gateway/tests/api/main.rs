//! The gateway through its real router and middleware, in front of real upstreams, on real
//! Redis (and PostgreSQL for the full-stack tests). One test binary (one link of the
//! dependency graph, not one per file), one module per concern.

mod common;

mod bypass;
mod end_to_end;
mod full_stack;
mod gateway;
mod hardening;
mod metrics;
mod openapi;
mod redis_restart;
mod shutdown;
mod snapshots;
