//! `gateway [serve|policy|openapi]`.

use std::path::PathBuf;
use std::process::ExitCode;

use bakery_config::cli;
use bakery_config::env::load_or_exit;
use clap::Subcommand;

use crate::policy::Policy;
use crate::settings::Settings;
use crate::startup::{Application, NAME};

#[derive(Subcommand)]
enum Command {
    /// Serve (the default).
    Serve,
    /// Print the demo policy in effect (DEMO_POLICY_FILE or the default) as JSON and exit.
    Policy,
    /// Print the OpenAPI 3.1 document `GET /api/openapi.json` serves (for that policy) and
    /// exit.
    Openapi,
}

pub fn main() -> ExitCode {
    let command = cli::subcommand(
        NAME,
        "Bakery-IA gateway: routing, authentication, demo sessions and their policy",
    );
    match command.unwrap_or(Command::Serve) {
        Command::Serve => cli::run(NAME, Settings::from_env, async |settings: Settings| {
            Ok(Application::build(settings)
                .await?
                .run_until_stopped()
                .await?)
        }),
        Command::Policy => print_policy(false),
        Command::Openapi => print_policy(true),
    }
}

/// `policy` (or with `openapi`, the OpenAPI document for it): needs `DEMO_POLICY_FILE`
/// only, so a policy can be checked anywhere.
#[expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the `policy` and `openapi` subcommands print for their operator"
)]
fn print_policy(openapi: bool) -> ExitCode {
    let file: Option<PathBuf> = load_or_exit(|env| env.optional("DEMO_POLICY_FILE"));
    let printed = Policy::load(file.as_deref()).and_then(|policy| {
        Ok(if openapi {
            serde_json::to_string_pretty(&crate::openapi::render(&policy)?)?
        } else {
            serde_json::to_string_pretty(policy.document())?
        })
    });
    match printed {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{NAME}: {e:#}");
            ExitCode::FAILURE
        }
    }
}
