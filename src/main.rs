//! The `advice-log` binary.

use clap::Parser;
use tracing_subscriber::EnvFilter;

use advice_log::cli::{run, Cli};

/// mimalloc instead of the system allocator: under many concurrent requests
/// glibc's malloc took a quarter of the server's time, much of it waiting on
/// its arena locks (see BENCHMARKS.md, item 4).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let filter =
        EnvFilter::try_from_env("ADVICE_LOG_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if cli.log_json {
        logs.json().init();
    } else {
        logs.init();
    }
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("advice-log: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
