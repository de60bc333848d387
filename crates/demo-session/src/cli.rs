//! `demo-session [serve|migrate|cleanup]` and `clone-demo-tenant --session-id <id>`.

use std::process::ExitCode;
use std::sync::Arc;

use bakery_config::env::load_or_exit;
use bakery_config::{db, telemetry};
use clap::{Parser, Subcommand};

use crate::settings::Settings;
use crate::startup::{Application, demo_sessions};

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
    /// Serve the HTTP API and run the background sweeper (the default).
    Serve,
    /// Apply pending migrations of the demo_session database and exit.
    Migrate,
    /// One cleanup pass (the hourly CronJob), printing what it removed as JSON.
    Cleanup,
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
            Command::Cleanup => {
                let sessions = demo_sessions(Arc::new(settings)).await?;
                let report = sessions.cleanup().await?;
                println!("{}", serde_json::to_string_pretty(&report)?);
            }
        }
        Ok(())
    })
}

#[derive(Parser)]
#[command(
    name = "clone-demo-tenant",
    about = "Clone a demo template into a session's virtual tenant (the k8s-job strategy's Job)"
)]
struct CloneCli {
    /// The demo session to clone for (must be pending).
    #[arg(long)]
    session_id: String,
}

pub fn clone_main() -> ExitCode {
    let cli = CloneCli::parse();
    let settings = load_or_exit(Settings::from_env);
    telemetry::init("clone-demo-tenant", &settings.telemetry);
    bakery_config::cli::block_on("clone-demo-tenant", async move {
        let outcome = crate::clone_job::run(&settings, &cli.session_id).await?;
        tracing::info!(session_id = %cli.session_id, ?outcome, "clone-demo-tenant done");
        Ok(())
    })
}
