//! The `seed-demo-tenants`, `seed-demo-users` and `seed-demo-inventory` binaries: settings
//! from the environment (`TENANT_DATABASE_URL` / `INVENTORY_DATABASE_URL`, logging), one
//! connection, one seed, a log line per template, exit code 0 or 1. Runnable as Kubernetes
//! Jobs (the data files are embedded) and by `scripts/dev.sh`.

use std::process::ExitCode;

use anyhow::Context;
use bakery_config::db::AsyncPgConnection;
use bakery_config::env::load_or_exit;
use bakery_config::settings::{Database, DatabaseSettings, TelemetrySettings, redact_url};
use bakery_config::telemetry;
use chrono::Utc;

use crate::clock::bakery_today;
use crate::seed::{self, Outcome, Report};

#[derive(Debug, Clone, Copy)]
pub enum Job {
    Tenants,
    Users,
    Inventory,
}

impl Job {
    pub fn binary(self) -> &'static str {
        match self {
            Job::Tenants => "seed-demo-tenants",
            Job::Users => "seed-demo-users",
            Job::Inventory => "seed-demo-inventory",
        }
    }

    fn database(self) -> Database {
        match self {
            Job::Tenants | Job::Users => Database::Tenant,
            Job::Inventory => Database::Inventory,
        }
    }
}

pub fn main(job: Job) -> ExitCode {
    let (database, telemetry_settings) = load_or_exit(|env| {
        (
            DatabaseSettings::from_env(env, job.database()),
            TelemetrySettings::from_env(env),
        )
    });
    telemetry::init(job.binary(), &telemetry_settings);
    bakery_config::cli::block_on(job.binary(), async move {
        // through the URL's TLS settings (`sslmode`, `sslrootcert`), as the services' pools
        let mut conn = bakery_config::db::PgTarget::from_url(&database.url)?
            .connect()
            .await
            .with_context(|| format!("cannot connect to {}", redact_url(&database.url)))?;
        let report = run(job, &mut conn).await?;
        log(job, &report);
        Ok(())
    })
}

/// Runs one seed on an open connection.
pub async fn run(job: Job, conn: &mut AsyncPgConnection) -> Result<Report, seed::SeedError> {
    match job {
        Job::Tenants => seed::seed_tenants(conn).await,
        Job::Users => seed::seed_users(conn).await,
        // the templates' day is Madrid's: just after midnight there, today turns into
        // yesterday (and a new day of tickets starts), whatever the UTC date says
        Job::Inventory => seed::seed_inventory(conn, bakery_today(Utc::now())).await,
    }
}

fn log(job: Job, report: &Report) {
    for (account_type, outcome) in report {
        match outcome {
            Outcome::Unchanged => {
                tracing::info!(job = job.binary(), %account_type, "template already up to date");
            }
            Outcome::Written { rows } => {
                tracing::info!(job = job.binary(), %account_type, rows, "template written");
            }
        }
    }
}
