//! `tenant-service [serve|migrate]`.

use std::process::ExitCode;

use bakery_config::cli::{self, Service, ServiceCommand};
use bakery_config::settings::DatabaseSettings;

use crate::settings::Settings;
use crate::startup::{Application, NAME};

pub fn main() -> ExitCode {
    let command = cli::subcommand(NAME, "Bakery-IA tenants, users and login");
    cli::run(NAME, Settings::from_env, async |settings: Settings| {
        let command = command.unwrap_or(ServiceCommand::Serve);
        command.run(settings, crate::MIGRATIONS).await
    })
}

impl Service for Settings {
    fn database(&self) -> &DatabaseSettings {
        &self.common.database
    }

    async fn serve(self) -> anyhow::Result<()> {
        Ok(Application::build(self).await?.run_until_stopped().await?)
    }
}
