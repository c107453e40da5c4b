//! The `advice-log` binary.

use clap::Parser;

use advice_log::cli::{run, Cli, Command};
use advice_log::telemetry::{self, Export};

/// mimalloc instead of the system allocator: under many concurrent requests
/// glibc's malloc took a quarter of the server's time, much of it waiting on
/// its arena locks (see BENCHMARKS.md, item 4).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // Only the server exports traces; the other commands serve no requests.
    let export = match &cli.command {
        Command::Serve { otlp_endpoint, .. } => Export::configured(otlp_endpoint.as_deref()),
        _ => Export::Off,
    };
    let telemetry = match telemetry::init(cli.log_json, &export) {
        Ok(telemetry) => telemetry,
        Err(error) => {
            eprintln!("advice-log: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = run(cli).await;
    telemetry.shutdown().await;
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("advice-log: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
