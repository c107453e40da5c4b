//! The `advice-log` binary.

use clap::Parser;
use tracing_subscriber::EnvFilter;

use advice_log::cli::{run, Cli};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("ADVICE_LOG_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("advice-log: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
