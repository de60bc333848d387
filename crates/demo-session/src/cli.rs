//! `demo-session [serve|migrate|cleanup]` and `clone-demo-tenant --session-id <id> | --pool-slots <id>,…`.

use std::process::ExitCode;
use std::sync::Arc;

use bakery_config::cli::{self, Service, ServiceCommand};
use bakery_config::settings::DatabaseSettings;
use clap::{Parser, Subcommand};

use crate::clone_job::CloneWork;
use crate::settings::{CloneJobSettings, Settings};
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
#[command(group(clap::ArgGroup::new("target").required(true).args(["session_id", "pool_slots"])))]
struct CloneCli {
    /// The demo session to clone for (must be pending).
    #[arg(long)]
    session_id: Option<String>,
    /// Reserved warm-pool slots to fill (virtual tenant ids, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pool_slots: Vec<String>,
}

impl CloneCli {
    fn work(self) -> anyhow::Result<CloneWork> {
        match self.session_id {
            Some(id) => CloneWork::from_args(&["--session-id".to_owned(), id]),
            None => CloneWork::from_args(&["--pool-slots".to_owned(), self.pool_slots.join(",")]),
        }
    }
}

pub fn clone_main() -> ExitCode {
    let cli = CloneCli::parse();
    cli::run(
        "clone-demo-tenant",
        CloneJobSettings::from_env,
        async |settings: CloneJobSettings| {
            let work = cli.work()?;
            let outcome = crate::clone_job::run(&settings, &work).await?;
            tracing::info!(?work, ?outcome, "clone-demo-tenant done");
            Ok(())
        },
    )
}
