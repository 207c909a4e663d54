//! The `berth` binary: parse the command line, run the command, exit non-zero on error.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = berth::cli::Cli::parse();
    match berth::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            berth::telemetry::init_logging(berth::config::LogFormat::Text, "error");
            eprintln!("berth: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
