//! `demo-session [serve|migrate|cleanup]` and `clone-demo-tenant --session-id <id>`.

use std::process::ExitCode;
use std::sync::Arc;

use bakery_config::cli::{self, Service, ServiceCommand};
use bakery_config::settings::DatabaseSettings;
use clap::{Parser, Subcommand};

use crate::settings::Settings;
use crate::startup::{Application, NAME, demo_sessions};

#[derive(Subcommand)]
enum Command {
    // `serve` also runs the background sweeper and the warm pool's refiller
    #[command(flatten)]
    Service(ServiceCommand),
    /// One cleanup pass (the hourly CronJob), printing what it removed as JSON.
    Cleanup,
}

pub fn main() -> ExitCode {
    let command = cli::subcommand(NAME, "Bakery-IA demo sessions: lifecycle, cloning, cleanup");
    cli::run(
        NAME,
        Settings::from_env,
        async |settings: Settings| match command.unwrap_or(Command::Service(ServiceCommand::Serve))
        {
            Command::Service(command) => command.run(settings, crate::MIGRATIONS).await,
            Command::Cleanup => {
                let report = demo_sessions(Arc::new(settings)).await?.cleanup().await?;
                #[expect(
                    clippy::print_stdout,
                    reason = "the report is the cleanup CronJob's output (docs/demo-sessions.md)"
                )]
                {
                    println!("{}", serde_json::to_string_pretty(&report)?);
                }
                Ok(())
            }
        },
    )
}

impl Service for Settings {
    fn database(&self) -> &DatabaseSettings {
        &self.database
    }

    async fn serve(self) -> anyhow::Result<()> {
        Ok(Application::build(self).await?.run_until_stopped().await?)
    }
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
    let session_id = CloneCli::parse().session_id;
    cli::run(
        "clone-demo-tenant",
        Settings::from_env,
        async |settings: Settings| {
            let outcome = crate::clone_job::run(&settings, &session_id).await?;
            tracing::info!(%session_id, ?outcome, "clone-demo-tenant done");
            Ok(())
        },
    )
}
