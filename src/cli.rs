//! The command line: `serve`, `migrate`, `schema`, `rebuild`, `bootstrap`, `token`.

use std::net::SocketAddr;

use clap::{Parser, Subcommand};

use crate::app::{App, AppError, CommandMeta};
use crate::domain::{Caller, PersonId};
use crate::http::DEFAULT_BODY_LIMIT;
use crate::projection::Projector;
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
    /// Create the first admin and print their token (refused once an admin exists).
    Bootstrap {
        /// The admin's name.
        #[arg(long)]
        name: String,
        /// The admin's e-mail address.
        #[arg(long)]
        email: String,
    },
    /// Rebuild every read model from the log, from zero (stop the server first).
    Rebuild,
    /// Create or revoke API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

/// `advice-log token ...`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Print a new token for an existing person.
    Create {
        /// The person's id.
        #[arg(long)]
        person: String,
    },
    /// Revoke a token so it no longer authenticates.
    Revoke {
        /// The token's id (the 32 hex digits after `al_`, or the UUID).
        #[arg(long)]
        id: String,
    },
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
            let app = App::start(store).await?;
            serve(listener, app, max_body_bytes, shutdown_signal()).await?;
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
        Command::Rebuild => {
            let store = store::open(&url).await?;
            let result = rebuild(store.clone()).await;
            store.close().await;
            let (events, seconds) = result?;
            println!("rebuilt the read models from {events} events in {seconds:.1} s");
        }
        Command::Bootstrap { name, email } => {
            let app = App::start(store::open(&url).await?).await?;
            let result = app.bootstrap(&name, &email).await;
            app.store.close().await;
            let issued = result.map_err(explain)?;
            println!(
                "created the first admin, {} (person {})",
                name.trim(),
                PersonId(issued.outcome.subject)
            );
            println!("their token follows; it is shown only this once:");
            println!("{}", issued.token.unwrap_or_default());
        }
        Command::Token(TokenCommand::Create { person }) => {
            let person = PersonId::parse(&person).map_err(|e| explain(e.into()))?;
            let app = App::start(store::open(&url).await?).await?;
            let result = app
                .issue_token(&CommandMeta::new(Caller::Operator, None), person)
                .await;
            app.store.close().await;
            let issued = result.map_err(explain)?;
            println!(
                "token {} for person {person}; it is shown only this once:",
                issued.token_id
            );
            println!("{}", issued.token.unwrap_or_default());
        }
        Command::Token(TokenCommand::Revoke { id }) => {
            let token_id = crate::auth::parse_token_id(&id).map_err(|e| explain(e.into()))?;
            let app = App::start(store::open(&url).await?).await?;
            let result = app
                .revoke_token(&CommandMeta::new(Caller::Operator, None), token_id)
                .await;
            app.store.close().await;
            result.map_err(explain)?;
            println!("token {token_id} is revoked");
        }
    }
    Ok(())
}

/// Empties the read models and replays the whole log into them, with a
/// progress bar on standard error.
async fn rebuild(store: std::sync::Arc<dyn store::EventStore>) -> anyhow::Result<(u64, f64)> {
    let started = std::time::Instant::now();
    let head = store.head().await?;
    let projector = Projector::new(store.clone()).await?;
    projector.views().reset().await?;
    let bar = indicatif::ProgressBar::new(head);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "rebuilding {bar:40} {pos}/{len} events ({per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let reached = projector
        .catch_up(&|position| bar.set_position(position))
        .await?;
    bar.finish();
    Ok((reached, started.elapsed().as_secs_f64()))
}

/// An application error as a one-line message with its code.
fn explain(error: AppError) -> anyhow::Error {
    anyhow::anyhow!("{} ({})", error, error.code())
}
