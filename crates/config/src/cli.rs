//! What every binary's `main` shares: its subcommand read from the command line, its
//! settings loaded (every bad variable named, exit status 2), telemetry, one runtime,
//! errors printed once, an exit code; and the `migrate` subcommand of the services that
//! own a database. Each service keeps only its own subcommands and what they do.

use std::future::Future;
use std::process::ExitCode;

use clap::Subcommand;
use diesel_migrations::EmbeddedMigrations;

use crate::db;
use crate::env::{Env, load_or_exit};
use crate::settings::{DatabaseSettings, TelemetrySettings, redact_url};
use crate::telemetry;

/// The subcommand of `C` the command line names, or `None` for none (each binary has a
/// default). `--help`, `--version` and a wrong command line print and exit here, as
/// `clap`'s `Parser::parse` does.
pub fn subcommand<C: Subcommand>(name: &'static str, about: &'static str) -> Option<C> {
    // `about` after the subcommands: a documented subcommand enum would set its own
    let command = C::augment_subcommands(clap::Command::new(name)).about(about);
    let matches = command.get_matches();
    matches.subcommand_name()?;
    match C::from_arg_matches(&matches) {
        Ok(c) => Some(c),
        Err(e) => e.exit(),
    }
}

/// A binary's start: settings loaded by `load` (or every problem printed and exit status
/// 2), telemetry set up as they say, then `work` run to its end on a runtime.
pub fn run<S, W>(
    binary: &'static str,
    load: impl FnOnce(&mut Env<'static>) -> S,
    work: W,
) -> ExitCode
where
    S: AsRef<TelemetrySettings>,
    W: AsyncFnOnce(S) -> anyhow::Result<()>,
{
    let settings = load_or_exit(load);
    telemetry::init(binary, settings.as_ref());
    block_on(binary, work(settings))
}

/// Runs `work` on a multi-threaded runtime; an error is logged, printed and turned into a
/// non-zero exit code.
pub fn block_on<F>(binary: &str, work: F) -> ExitCode
where
    F: Future<Output = anyhow::Result<()>>,
{
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            #[expect(
                clippy::print_stderr,
                reason = "a binary's last word, for its operator"
            )]
            {
                eprintln!("{binary}: cannot start the async runtime: {e}");
            }
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(work) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "{binary} failed");
            #[expect(
                clippy::print_stderr,
                reason = "a binary's last word, for its operator"
            )]
            {
                eprintln!("{binary}: {e:#}");
            }
            ExitCode::FAILURE
        }
    }
}

/// `serve` (the default) and `migrate`: the subcommands of every service with a database
/// of its own. A service with more subcommands flattens these into its own
/// (`#[command(flatten)]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Subcommand)]
pub enum ServiceCommand {
    /// Serve the HTTP API (the default).
    Serve,
    /// Apply the pending migrations of the service's database and exit.
    Migrate,
}

/// What [`ServiceCommand`] needs of a service's settings.
pub trait Service: Sized {
    /// The database `migrate` applies the service's migrations to.
    fn database(&self) -> &DatabaseSettings;
    /// Builds the service and serves until SIGTERM/SIGINT.
    fn serve(self) -> impl Future<Output = anyhow::Result<()>>;
}

impl ServiceCommand {
    /// Serves, or applies `migrations` to the service's database.
    pub async fn run<S: Service>(
        self,
        settings: S,
        migrations: EmbeddedMigrations,
    ) -> anyhow::Result<()> {
        match self {
            ServiceCommand::Serve => settings.serve().await,
            ServiceCommand::Migrate => migrate(settings.database(), migrations).await,
        }
    }
}

/// `migrate`: applies the pending `migrations` to `database` (the Kubernetes migration Job
/// and the local stack run it before the service).
pub async fn migrate(
    database: &DatabaseSettings,
    migrations: EmbeddedMigrations,
) -> anyhow::Result<()> {
    let applied = db::run_migrations(&database.url, migrations).await?;
    tracing::info!(?applied, database = %redact_url(&database.url), "database migrated");
    Ok(())
}
