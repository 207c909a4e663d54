//! The command line: the server's own commands (serve, migrate, default-config, openapi).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::app::{Application, shutdown_signal};
use crate::config::{Config, DEFAULT_CONFIG_TOML};
use crate::crypto::Secret;
use crate::db::Database;

#[derive(Debug, Parser)]
#[command(
    name = "berth",
    version,
    about = "Event-driven GitOps for fleets of Kubernetes clusters"
)]
pub struct Cli {
    /// TOML configuration file (also BERTH_CONFIG).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: API, dashboard, schedulers and deploy workers.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print an annotated example configuration file.
    DefaultConfig,
    /// Print the OpenAPI document of the REST API.
    Openapi,
}

/// Runs one command to completion.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::DefaultConfig => print_stdout(DEFAULT_CONFIG_TOML),
        Command::Openapi => print_stdout(&format!("{}\n", crate::api::openapi().to_pretty_json()?)),
        Command::Migrate => {
            let config = load(cli.config.as_deref())?;
            let db = Database::open(&config).await?;
            let result = db.migrate().await;
            db.close().await;
            result?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Serve => serve(cli.config).await,
    }
}

fn load(file: Option<&Path>) -> anyhow::Result<Config> {
    let loaded = Config::from_process(file).context("configuration")?;
    crate::telemetry::init_logging(loaded.config.log_format, &loaded.config.log_filter);
    for w in &loaded.warnings {
        tracing::warn!("{w}");
    }
    tracing::info!(config = %loaded.config, "effective configuration");
    Ok(loaded.config)
}

async fn serve(file: Option<PathBuf>) -> anyhow::Result<()> {
    let shutdown = shutdown_signal();
    let config = load(file.as_deref())?;
    let admin_password = std::env::var("BERTH_ADMIN_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
        .map(Secret::new);
    let app = Application::build(config, admin_password).await?;
    if let Some(password) = &app.generated_admin_password {
        // Printed once, to the terminal only (not through the logger).
        println!(
            "\n  Berth created the first user.\n    username: admin\n    password: {}\n  \
             It is shown only this once: log in and change it.\n",
            password.expose()
        );
    }
    tracing::info!(address = %app.local_addr(), "Berth is listening");
    app.run_until(shutdown).await
}

/// Writes to stdout; a closed pipe (`berth openapi | head`) is not an error.
fn print_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
