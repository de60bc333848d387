//! `inventory-service [serve|migrate|procurement-run]`.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use bakery_config::env::load_or_exit;
use bakery_config::{db, telemetry};
use clap::{Parser, Subcommand};

use crate::procurement::{self, HttpTenantDirectory};
use crate::settings::Settings;
use crate::startup::Application;

#[derive(Parser)]
#[command(
    name = "inventory-service",
    about = "Bakery-IA inventory, recipes, production, purchasing, sales and forecasts"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (the default).
    Serve,
    /// Apply pending migrations of the inventory database and exit.
    Migrate,
    /// Draft purchase orders for every customer tenant once and exit (a CronJob).
    ProcurementRun,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = load_or_exit(Settings::from_env);
    telemetry::init("inventory-service", &settings.telemetry);
    bakery_config::cli::block_on("inventory-service", async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => {
                if settings.procurement_interval_secs > 0 {
                    procurement::spawn_scheduler(
                        db::build_pool(&settings.database)?,
                        Arc::new(HttpTenantDirectory::new(&settings)?),
                        Duration::from_secs(settings.procurement_interval_secs),
                    );
                }
                let app = Application::build(settings).await?;
                tracing::info!(port = app.port(), "inventory-service listening");
                app.run_until_stopped().await?;
            }
            Command::Migrate => {
                let applied = db::run_migrations(&settings.database.url, crate::MIGRATIONS).await?;
                tracing::info!(?applied, "inventory database migrated");
            }
            Command::ProcurementRun => {
                let pool = db::build_pool(&settings.database)?;
                let directory = HttpTenantDirectory::new(&settings)?;
                let report = procurement::run_once(&pool, &directory).await?;
                tracing::info!(?report, "procurement run finished");
                println!("{}", serde_json::to_string(&report)?);
                if report.failed > 0 {
                    anyhow::bail!("procurement failed for {} tenant(s)", report.failed);
                }
            }
        }
        Ok(())
    })
}
