//! tenant-service through its real router, on real PostgreSQL and Redis.

mod client;
mod demo_login;
mod helpers;
mod internal;
mod login;
mod tenants;
