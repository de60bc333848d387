//! demo-session through its real router, on real PostgreSQL and Redis. One test binary
//! (one link of the dependency graph, not one per file), one module per capability.

mod common;

mod convert;
mod convert_preview;
mod demo_login;
mod funnel;
mod k8s_jobs;
mod lifecycle;
mod metrics;
mod openapi;
mod waiting_room;
mod warm_pool;
