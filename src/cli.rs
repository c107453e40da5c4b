//! The command line: `serve`, `migrate`, `schema`.

use std::net::SocketAddr;

use clap::{Parser, Subcommand};

use crate::http::DEFAULT_BODY_LIMIT;
use crate::server::{serve, shutdown_signal};
use crate::store::{self, DatabaseUrl};

/// advice-log: the decision record of self-managing teams.
#[derive(Debug, Parser)]
#[command(name = "advice-log", version, about)]
pub struct Cli {
    /// Database: `sqlite://PATH` (created if missing) or `postgres://...`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://advice-log.db",
        global = true
    )]
    pub database_url: String,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the GraphQL server (creating and migrating the database if needed).
    Serve {
        /// Address and port to listen on.
        #[arg(long, env = "ADVICE_LOG_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Largest request body accepted, in bytes.
        #[arg(long, env = "ADVICE_LOG_MAX_BODY_BYTES", default_value_t = DEFAULT_BODY_LIMIT)]
        max_body_bytes: usize,
    },
    /// Create the database if needed and apply any pending migrations.
    Migrate,
    /// Print the GraphQL schema (SDL), as kept in `schema/schema.graphql`.
    Schema,
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let url = DatabaseUrl::parse(&cli.database_url);
    match cli.command {
        Command::Serve {
            listen,
            max_body_bytes,
        } => {
            let store = store::open(&url).await?;
            let head = store.head().await?;
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
            let addr = listener.local_addr()?;
            tracing::info!(%addr, backend = %store.backend(), events = head, "advice-log is serving");
            println!(
                "advice-log is serving on http://{addr}/ ({} database, {head} events)",
                store.backend()
            );
            println!("  GraphiQL: http://{addr}/   GraphQL: http://{addr}/graphql   health: /healthz /readyz");
            serve(listener, store, max_body_bytes, shutdown_signal()).await?;
            println!("advice-log stopped cleanly");
        }
        Command::Migrate => {
            let store = store::open(&url).await?;
            let head = store.head().await?;
            store.close().await;
            println!(
                "the {} database is migrated and holds {head} events",
                url.backend()
            );
        }
        Command::Schema => print!("{}", crate::graphql::sdl()),
    }
    Ok(())
}
