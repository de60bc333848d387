//! `demo-session [serve|migrate]`.

use std::process::ExitCode;

use bakery_config::env::load_or_exit;
use bakery_config::{db, telemetry};
use clap::{Parser, Subcommand};

use crate::settings::Settings;
use crate::startup::Application;

#[derive(Parser)]
#[command(
    name = "demo-session",
    about = "Bakery-IA demo sessions: lifecycle, cloning, cleanup"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (the default).
    Serve,
    /// Apply pending migrations of the demo_session database and exit.
    Migrate,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = load_or_exit(Settings::from_env);
    telemetry::init("demo-session", &settings.telemetry);
    bakery_config::cli::block_on("demo-session", async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => {
                let app = Application::build(settings).await?;
                tracing::info!(port = app.port(), "demo-session listening");
                app.run_until_stopped().await?;
            }
            Command::Migrate => {
                let applied = db::run_migrations(&settings.database.url, crate::MIGRATIONS).await?;
                tracing::info!(?applied, "demo_session database migrated");
            }
        }
        Ok(())
    })
}
