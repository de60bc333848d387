//! `inventory-service [serve|migrate|procurement-run]`.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use bakery_config::cli::{self, Service, ServiceCommand};
use bakery_config::db;
use bakery_config::settings::DatabaseSettings;
use clap::Subcommand;

use crate::metrics::InventoryMetrics;
use crate::procurement::{self, HttpTenantDirectory};
use crate::settings::Settings;
use crate::startup::{Application, NAME};

#[derive(Subcommand)]
enum Command {
    #[command(flatten)]
    Service(ServiceCommand),
    /// Draft purchase orders for every customer tenant once and exit (a CronJob).
    ProcurementRun,
}

pub fn main() -> ExitCode {
    let command = cli::subcommand(
        NAME,
        "Bakery-IA inventory, recipes, production, purchasing, sales and forecasts",
    );
    cli::run(
        NAME,
        Settings::from_env,
        async |settings: Settings| match command.unwrap_or(Command::Service(ServiceCommand::Serve))
        {
            Command::Service(command) => command.run(settings, crate::MIGRATIONS).await,
            Command::ProcurementRun => procurement_run(&settings).await,
        },
    )
}

impl Service for Settings {
    fn database(&self) -> &DatabaseSettings {
        &self.common.database
    }

    /// The HTTP API, and the procurement scheduler unless `PROCUREMENT_INTERVAL_SECONDS`
    /// is 0.
    async fn serve(self) -> anyhow::Result<()> {
        let metrics = InventoryMetrics::default();
        if self.procurement_interval_secs > 0 {
            procurement::spawn_scheduler(
                db::build_pool(&self.common.database)?,
                Arc::new(HttpTenantDirectory::new(&self)?),
                Duration::from_secs(self.procurement_interval_secs),
                metrics.clone(),
            );
        }
        Ok(Application::build_with(self, metrics)
            .await?
            .run_until_stopped()
            .await?)
    }
}

/// One procurement run, its report printed as JSON; failing for any tenant fails the Job.
#[expect(
    clippy::print_stdout,
    reason = "the report is the Job's output (docs/api-inventory.md, `procurement-run`)"
)]
async fn procurement_run(settings: &Settings) -> anyhow::Result<()> {
    let pool = db::build_pool(&settings.common.database)?;
    let directory = HttpTenantDirectory::new(settings)?;
    let report = procurement::run_once(&pool, &directory).await?;
    tracing::info!(?report, "procurement run finished");
    println!("{}", serde_json::to_string(&report)?);
    if report.failed > 0 {
        anyhow::bail!("procurement failed for {} tenant(s)", report.failed);
    }
    Ok(())
}
