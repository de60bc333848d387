//! `gateway [serve|policy]`.

use std::path::PathBuf;
use std::process::ExitCode;

use bakery_config::env::load_or_exit;
use bakery_config::telemetry;
use clap::{Parser, Subcommand};

use crate::policy::Policy;
use crate::settings::Settings;
use crate::startup::Application;

#[derive(Parser)]
#[command(
    name = "gateway",
    about = "Bakery-IA gateway: routing, authentication, demo sessions and their policy"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve (the default).
    Serve,
    /// Print the demo policy in effect (DEMO_POLICY_FILE or the default) as JSON and exit.
    Policy,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let settings = load_or_exit(Settings::from_env);
            telemetry::init("gateway", &settings.telemetry);
            bakery_config::cli::block_on("gateway", async move {
                let app = Application::build(settings).await?;
                tracing::info!(port = app.port(), "gateway listening");
                app.run_until_stopped().await?;
                Ok(())
            })
        }
        // needs DEMO_POLICY_FILE only, so a policy can be checked anywhere
        Command::Policy => {
            let file: Option<PathBuf> = load_or_exit(|env| env.optional("DEMO_POLICY_FILE"));
            let printed = Policy::load(file.as_deref())
                .and_then(|policy| Ok(serde_json::to_string_pretty(policy.document())?));
            match printed {
                Ok(json) => {
                    println!("{json}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("gateway: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
