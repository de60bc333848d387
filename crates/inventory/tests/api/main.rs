//! inventory-service through its real router, on real PostgreSQL and Redis.

mod auth_and_bad_input;
mod catalog;
mod forecasts;
mod helpers;
mod isolation;
mod limits;
mod procurement;
mod stock;
