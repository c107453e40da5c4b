//! The command line: `serve`, `migrate`, `schema`, `rebuild`, `verify`,
//! `checkpoint`, `export`, `verify-bundle`, `bootstrap`, `token`.

use std::net::SocketAddr;

use clap::{Parser, Subcommand};

use std::path::PathBuf;
use std::sync::Arc;

use crate::app::{App, AppError, CommandMeta, SystemClock};
use crate::assurance::bundle::{export, verify_bundle, Selection};
use crate::assurance::checkpoint_dir::{read_notes, CheckpointDir};
use crate::assurance::keys::{LogKey, VerifierKey};
use crate::assurance::service::{Assurance, CheckpointPolicy};
use crate::assurance::tree::LogTree;
use crate::assurance::verify::{verify_log_trusting, Report, Trusted};
use crate::backend;
use crate::domain::proposal::ProposalId;
use crate::domain::{Caller, PersonId, TeamId};
use crate::erasure::KeyEncryptionKey;
use crate::http::DEFAULT_BODY_LIMIT;
use crate::notify::Notifications;
use crate::projection::Projector;
use crate::server::{serve, shutdown_signal, Settings};
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

    /// The Ed25519 key that signs checkpoints (created on first start,
    /// readable by its owner only).
    #[arg(
        long,
        env = "ADVICE_LOG_SIGNING_KEY",
        default_value = "advice-log.key",
        global = true
    )]
    pub signing_key: PathBuf,

    /// The key-encryption key that wraps every person's data key (created
    /// on first start beside the signing key as `advice-log.datakey`,
    /// readable by its owner only). Without it nobody's personal data can
    /// be read: keep a copy where the database's backups are not.
    #[arg(long, env = "ADVICE_LOG_DATA_KEY", global = true)]
    pub data_key: Option<PathBuf>,

    /// The folder every signed checkpoint is also written to, one file per
    /// checkpoint (`<tree size>.txt`, never overwritten), by `serve`,
    /// `checkpoint` and `export`; `verify` checks the log against every note
    /// in it. Keep it where whoever can write the database cannot.
    #[arg(long, env = "ADVICE_LOG_CHECKPOINT_DIR", global = true)]
    pub checkpoint_dir: Option<PathBuf>,

    /// Write logs as JSON lines (for log collectors) instead of text.
    #[arg(long, env = "ADVICE_LOG_LOG_JSON", global = true)]
    pub log_json: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// How `serve` sends notifications.
#[derive(Debug, clap::Args)]
pub struct NotifyArgs {
    /// The address people reach the service at; every link in an e-mail or
    /// webhook starts with it (default: http:// and the listen address).
    #[arg(long, env = "ADVICE_LOG_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The mail server: `smtp://host:25` (plain), `smtp://host:587?tls=required`
    /// (STARTTLS), `smtps://host:465` (implicit TLS), with `user:password@`
    /// if it needs them. Without it no e-mail is sent.
    #[arg(long, env = "ADVICE_LOG_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// The sender of every e-mail.
    #[arg(
        long,
        env = "ADVICE_LOG_MAIL_FROM",
        default_value = crate::notify::DEFAULT_MAIL_FROM
    )]
    pub mail_from: String,
    /// The local time of the daily digest, HH:MM in the organisation's zone.
    #[arg(long, env = "ADVICE_LOG_DIGEST_AT", default_value = "07:00")]
    pub digest_at: String,
    /// Let webhooks call private and loopback addresses (tests, closed networks).
    #[arg(long, env = "ADVICE_LOG_WEBHOOK_ALLOW_PRIVATE")]
    pub webhook_allow_private: bool,
    /// Seconds before the first retry of a failed delivery (doubling each time).
    #[arg(long, env = "ADVICE_LOG_DELIVERY_RETRY_SECONDS", default_value_t = 30)]
    pub delivery_retry_seconds: u64,
    /// The longest pause between two tries, in seconds.
    #[arg(
        long,
        env = "ADVICE_LOG_DELIVERY_RETRY_MAX_SECONDS",
        default_value_t = 3600
    )]
    pub delivery_retry_max_seconds: u64,
    /// Seconds of failures before a delivery is given up (and a webhook disabled).
    #[arg(
        long,
        env = "ADVICE_LOG_DELIVERY_GIVE_UP_SECONDS",
        default_value_t = 86_400
    )]
    pub delivery_give_up_seconds: u64,
}

impl NotifyArgs {
    /// The notification settings for a service listening on `addr`.
    pub fn settings(
        &self,
        addr: SocketAddr,
        time_zone: chrono_tz::Tz,
    ) -> anyhow::Result<crate::notify::Settings> {
        let public_url = self
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        let mut settings = crate::notify::Settings::new(&public_url, time_zone);
        settings.smtp_url.clone_from(&self.smtp_url);
        settings.mail_from.clone_from(&self.mail_from);
        settings.digest_at =
            chrono::NaiveTime::parse_from_str(&self.digest_at, "%H:%M").map_err(|_| {
                anyhow::anyhow!(
                    "--digest-at {:?}: give a time as HH:MM, e.g. 07:00",
                    self.digest_at
                )
            })?;
        settings.webhook_allow_private = self.webhook_allow_private;
        settings.retry_after = std::time::Duration::from_secs(self.delivery_retry_seconds.max(1));
        settings.retry_max = std::time::Duration::from_secs(self.delivery_retry_max_seconds.max(1));
        settings.give_up_after =
            std::time::Duration::from_secs(self.delivery_give_up_seconds.max(1));
        Ok(settings)
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the GraphQL server (creating and migrating the database if needed).
    Serve {
        /// Address and port to listen on.
        #[arg(long, env = "ADVICE_LOG_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// The organisation's time zone: pages show every time in it.
        #[arg(long, env = "ADVICE_LOG_TIME_ZONE", default_value = "Europe/London")]
        time_zone: chrono_tz::Tz,
        /// Largest request body accepted, in bytes.
        #[arg(long, env = "ADVICE_LOG_MAX_BODY_BYTES", default_value_t = DEFAULT_BODY_LIMIT)]
        max_body_bytes: usize,
        /// Issue a signed checkpoint once this many events wait for one...
        #[arg(
            long,
            env = "ADVICE_LOG_CHECKPOINT_EVERY_EVENTS",
            default_value_t = 1000
        )]
        checkpoint_every_events: u64,
        /// ...or this many seconds after the first event no checkpoint covers.
        #[arg(long, env = "ADVICE_LOG_CHECKPOINT_EVERY_SECONDS", default_value_t = 1)]
        checkpoint_every_seconds: u64,
        /// How people and webhooks are told (e-mail, webhooks, retries).
        #[command(flatten)]
        notify: NotifyArgs,
        /// Sign-in with the organisation's OpenID provider.
        #[command(flatten)]
        oidc: Box<crate::oidc::OidcArgs>,
        /// Export traces over OTLP/HTTP to this collector (a base URL such as
        /// `http://localhost:4318`; spans go to `/v1/traces` under it). Without
        /// it, the standard `OTEL_EXPORTER_OTLP_ENDPOINT` or
        /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is used; with neither, nothing
        /// is exported.
        #[arg(long, value_name = "URL")]
        otlp_endpoint: Option<String>,
    },
    /// Recompute every leaf hash and the tree, and check every checkpoint,
    /// and that the log extends every trusted one.
    Verify {
        /// The log's verifier key (`name+id+base64`); by default the public
        /// half of the signing key.
        #[arg(long)]
        public_key: Option<String>,
        /// A checkpoint kept outside the database: a signed note, or a
        /// folder of them (the checkpoint folder). The log must extend each
        /// (same root at its size, by a consistency proof) and the database
        /// must still hold it. May be given more than once.
        #[arg(long, value_name = "FILE_OR_DIR")]
        trusted_checkpoint: Vec<PathBuf>,
    },
    /// Sign and store a checkpoint of the log as it is now, and print it.
    Checkpoint,
    /// Write an audit bundle that verifies offline.
    Export {
        /// One proposal's record.
        #[arg(long, conflicts_with_all = ["team", "all"])]
        proposal: Option<String>,
        /// A team's record and its proposals'.
        #[arg(long, conflicts_with_all = ["proposal", "all"])]
        team: Option<String>,
        /// The whole log.
        #[arg(long, conflicts_with_all = ["proposal", "team"])]
        all: bool,
        /// The folder to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Check an audit bundle with no database and no network.
    VerifyBundle {
        /// The bundle's folder.
        dir: PathBuf,
        /// The log's verifier key; by default the one in the bundle.
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Create the database if needed and apply any pending migrations (as
    /// the database's owner).
    Migrate {
        /// PostgreSQL: then grant this role exactly what `serve` needs
        /// (read and append the log and checkpoints, keep the read models),
        /// so the server runs as a role that cannot rewrite history.
        #[arg(long, value_name = "ROLE")]
        grant_to: Option<String>,
    },
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
    /// Load a realistic example organisation into a new, empty log, and
    /// print a token for an admin, a member, a coach and an auditor.
    Demo,
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

/// Prints a line for the person at the terminal; a closed standard output
/// (a detached server, say) must not stop the service.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let url = DatabaseUrl::parse(&cli.database_url);
    let data_key = data_key_path(&cli);
    match cli.command {
        Command::Serve {
            listen,
            time_zone,
            max_body_bytes,
            checkpoint_every_events,
            checkpoint_every_seconds,
            notify,
            oidc,
            otlp_endpoint: _,
        } => {
            let (key, created) = LogKey::load_or_create(&cli.signing_key)?;
            if created {
                say!(
                    "created the signing key {} ({})",
                    cli.signing_key.display(),
                    key.verifier().encode()
                );
            }
            let storage = unlock(&data_key, backend::open(&url).await?).await?;
            let store = storage.events.clone();
            let head = store.head().await?;
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
            let addr = listener.local_addr()?;
            tracing::info!(%addr, backend = %store.backend(), events = head, "advice-log is serving");
            say!(
                "advice-log is serving on http://{addr}/ ({} database, {head} events)",
                store.backend()
            );
            say!("  pages: http://{addr}/   GraphiQL: http://{addr}/graphiql   GraphQL: http://{addr}/graphql   health: /healthz /readyz");
            let dir = checkpoint_dir(&cli.checkpoint_dir)?;
            match &dir {
                Some(dir) => say!("  checkpoints also go to {}", dir.path().display()),
                None => say!("  checkpoints stay in the database only (--checkpoint-dir keeps them out of its reach)"),
            }
            let policy = CheckpointPolicy {
                every_events: checkpoint_every_events.max(1),
                every: std::time::Duration::from_secs(checkpoint_every_seconds.max(1)),
                dir,
            };
            let app = App::start_full(storage, Arc::new(SystemClock), Some((key, policy))).await?;
            app.finish_erasures().await.map_err(explain)?;
            if !app.read.directory().founded() {
                say!();
                say!("This log is new. What to do next:");
                say!("  1. Create the first admin (prints their token):");
                say!("       advice-log bootstrap --name \"Your Name\" --email you@example.org");
                say!("     or load an example organisation with tokens for each role:");
                say!("       advice-log demo");
                say!("  2. Open http://{addr}/sign-in and paste the token (once: you stay signed in).");
                say!("     Other systems use it at /graphql as `Authorization: Bearer al_...`.");
                say!("  (Run those in another terminal, with the same --database-url.)");
            }
            let notify = notify.settings(addr, time_zone)?;
            match &notify.smtp_url {
                Some(_) => say!(
                    "  e-mail goes through the configured mail server; links start {}",
                    notify.public_url
                ),
                None => {
                    say!("  no mail server (--smtp-url): notifications are recorded, not e-mailed")
                }
            }
            let oidc = match oidc.settings(&notify.public_url)? {
                Some(settings) => {
                    let issuer = settings.issuer.clone();
                    let redirect = settings.redirect_uri();
                    let rp = crate::oidc::RelyingParty::discover(settings)
                        .await
                        .map_err(|e| anyhow::anyhow!("cannot start: {e}"))?;
                    say!(
                        "  people sign in with their account at {issuer} (redirect URI {redirect})"
                    );
                    Some(Arc::new(rp))
                }
                None => None,
            };
            let settings = Settings {
                body_limit: max_body_bytes,
                time_zone,
                webhook_allow_private: notify.webhook_allow_private,
                oidc,
            };
            let notifications = Notifications::start(app.clone(), notify)?;
            serve(listener, app, settings, shutdown_signal()).await?;
            drop(notifications);
            say!("advice-log stopped cleanly");
        }
        Command::Migrate { grant_to } => {
            let storage = backend::open(&url).await?;
            let store = storage.events.clone();
            let head = store.head().await?;
            store.close().await;
            say!(
                "the {} database is migrated and holds {head} events",
                url.backend()
            );
            if let Some(role) = grant_to {
                let store::DatabaseUrl::Postgres(url) = &url else {
                    anyhow::bail!("--grant-to is for PostgreSQL: a SQLite file has no roles (keep the file, the key and the checkpoint folder apart instead)");
                };
                let pool = sqlx::PgPool::connect(url).await?;
                let granted = store::postgres::grant_to(&pool, &role).await;
                pool.close().await;
                for statement in granted? {
                    say!("{statement};");
                }
                say!("{role} may now read and append, and nothing more: run `serve` as {role}");
            }
        }
        Command::Schema => print!("{}", crate::graphql::sdl()),
        Command::Verify {
            public_key,
            trusted_checkpoint,
        } => {
            let verifier = match public_key {
                Some(text) => VerifierKey::decode(&text)?,
                None => read_key(&cli.signing_key)?.verifier(),
            };
            let mut notes = Vec::new();
            for path in trusted_checkpoint.iter().chain(cli.checkpoint_dir.iter()) {
                notes.extend(read_notes(path)?);
            }
            let trusted = Trusted::open(&notes, &verifier)?;
            let storage = backend::open(&url).await?;
            let store = storage.events.clone();
            let head = store.head().await?;
            let bar = progress(head, "verifying");
            let tree = LogTree::new(store.clone());
            let report = verify_log_trusting(store.as_ref(), &tree, &verifier, &trusted, &|p| {
                bar.set_position(p)
            })
            .await;
            bar.finish();
            store.close().await;
            print_verified(&report?)?;
        }
        Command::Checkpoint => {
            let key = read_key(&cli.signing_key)?;
            let dir = checkpoint_dir(&cli.checkpoint_dir)?;
            let storage = unlock(&data_key, backend::open(&url).await?).await?;
            let store = storage.events.clone();
            let assurance = Assurance::new(store.clone(), key).with_dir(dir);
            let issued = assurance.issue(chrono::Utc::now()).await;
            store.close().await;
            match issued? {
                Some(checkpoint) => print!("{}", checkpoint.note),
                None => println!("the log is empty: nothing to sign"),
            }
        }
        Command::Export {
            proposal,
            team,
            all,
            out,
        } => {
            let selection = match (proposal, team, all) {
                (Some(id), None, false) => {
                    Selection::Proposal(ProposalId::parse(&id).map_err(|e| explain(e.into()))?)
                }
                (None, Some(id), false) => {
                    Selection::Team(TeamId::parse(&id).map_err(|e| explain(e.into()))?)
                }
                (None, None, true) => Selection::All,
                _ => anyhow::bail!("name one of --proposal ID, --team ID or --all"),
            };
            let key = read_key(&cli.signing_key)?;
            let dir = checkpoint_dir(&cli.checkpoint_dir)?;
            let storage = unlock(&data_key, backend::open(&url).await?).await?;
            let store = storage.events.clone();
            let assurance = Assurance::new(store.clone(), key).with_dir(dir);
            let head = store.head().await?;
            let bar = progress(head, "exporting");
            let exported = export(
                store.as_ref(),
                storage.keyring.as_deref(),
                &assurance,
                selection,
                &out,
                chrono::Utc::now(),
                &|p| bar.set_position(p),
            )
            .await;
            bar.finish();
            store.close().await;
            println!(
                "wrote {} events to {}; check it with `advice-log verify-bundle {}`",
                exported?,
                out.display(),
                out.display()
            );
        }
        Command::VerifyBundle { dir, public_key } => {
            let key = public_key.map(|k| VerifierKey::decode(&k)).transpose()?;
            let report = verify_bundle(&dir, key.as_ref())?;
            let whose = if key.is_some() {
                "the given key"
            } else {
                "the key in the bundle (pass --public-key to check against the log's key you hold)"
            };
            println!(
                "bundle verified: {} events proven in the checkpoint of {} events, signed by {whose}",
                report.events, report.tree_size
            );
        }
        Command::Demo => {
            let clock = crate::demo::demo_clock();
            let storage = backend::open_with_clock(&url, clock.clone()).await?;
            let store = storage.events.clone();
            if store.head().await? > 0 {
                store.close().await;
                anyhow::bail!("the demo loads into a new, empty log; this one already has events (use another --database-url)");
            }
            let storage = unlock(&data_key, storage).await?;
            let app = App::start_with_clock(storage, clock.clone()).await?;
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} loading the demo: {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            let loaded = crate::demo::load(&app, &clock, &|step| {
                bar.set_message(step.to_string());
                bar.tick();
            })
            .await;
            bar.finish_and_clear();
            let head = store.head().await?;
            store.close().await;
            let tokens = loaded.map_err(explain)?;
            println!("Loaded the demo organisation: 3 teams, a staff training group with a budget, 9 proposals ({head} events).");
            println!("Start the server with `advice-log serve` (same --database-url), open http://127.0.0.1:8080/sign-in");
            println!("and sign in as anyone below by pasting their token (once: the session lasts 12 hours).");
            println!("Other systems send it to /graphql as `Authorization: Bearer <token>` (GraphiQL: /graphiql).");
            for line in crate::demo::sign_in_lines(&tokens.people) {
                println!("{line}");
            }
        }
        Command::Rebuild => {
            let storage = unlock(&data_key, backend::open(&url).await?).await?;
            let store = storage.events.clone();
            let result = rebuild(storage).await;
            store.close().await;
            let (events, seconds) = result?;
            println!("rebuilt the read models from {events} events in {seconds:.1} s");
        }
        Command::Bootstrap { name, email } => {
            let app = App::start(unlock(&data_key, backend::open(&url).await?).await?).await?;
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
            let app = App::start(unlock(&data_key, backend::open(&url).await?).await?).await?;
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
            let app = App::start(unlock(&data_key, backend::open(&url).await?).await?).await?;
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

/// The checkpoint folder, created if missing, when one is configured.
fn checkpoint_dir(path: &Option<PathBuf>) -> anyhow::Result<Option<CheckpointDir>> {
    Ok(path.as_ref().map(CheckpointDir::open).transpose()?)
}

/// Prints what `verify` found: a line for a clean log (and notes on what
/// only checkpoints kept outside the database vouch for), or an error
/// naming the first bad position and the others found.
fn print_verified(report: &Report) -> anyhow::Result<()> {
    if let Some(first) = &report.finding {
        let mut message = format!(
            "verification FAILED at position {}: {}",
            first.position, first.check
        );
        for finding in report.findings.iter().skip(1) {
            message.push_str(&format!(
                "\n  and at position {}: {}",
                finding.position, finding.check
            ));
        }
        anyhow::bail!(message);
    }
    let trusted = match report.trusted {
        0 => String::new(),
        n => format!("; the log extends all {n} trusted checkpoints"),
    };
    println!(
        "verified: {} events, every leaf hash and {} checkpoints (signatures, roots, consistency){trusted}",
        report.events, report.checkpoints
    );
    if report.covered < report.events {
        eprintln!(
            "note: events {}..{} are in no stored checkpoint yet",
            report.covered + 1,
            report.events
        );
    }
    if report.trusted == 0 && report.events > 0 {
        eprintln!("note: no trusted checkpoint was given: whoever can write the database could have rewritten it and its checkpoints alike; pass --trusted-checkpoint FILE_OR_DIR (a note kept outside the database, or the checkpoint folder)");
    }
    Ok(())
}

/// A progress bar on standard error.
fn progress(length: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(length);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{what} {{bar:40}} {{pos}}/{{len}} events ({{per_sec}})"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// Reads the signing key, which must exist.
/// Where the key-encryption key is: `--data-key`, or `advice-log.datakey`
/// beside the signing key.
fn data_key_path(cli: &Cli) -> PathBuf {
    cli.data_key.clone().unwrap_or_else(|| {
        cli.signing_key
            .parent()
            .unwrap_or_else(|| std::path::Path::new(""))
            .join("advice-log.datakey")
    })
}

/// Unlocks the database's personal data with the key-encryption key (made
/// on first start); a key that is not the database's own stops the command
/// before anything is written.
async fn unlock(
    path: &std::path::Path,
    storage: backend::Storage,
) -> anyhow::Result<backend::Storage> {
    let (kek, created) = KeyEncryptionKey::load_or_create(path)?;
    if created {
        say!(
            "created the data key {} (fingerprint {}); without it nobody's personal data can be read, so keep a copy apart from the database's backups",
            path.display(),
            kek.fingerprint()
        );
    }
    match storage
        .clone()
        .unlock(kek.named(&path.display().to_string()))
        .await
    {
        Ok(unlocked) => Ok(unlocked),
        Err(error) => {
            storage.close().await;
            Err(error.into())
        }
    }
}

fn read_key(path: &std::path::Path) -> anyhow::Result<LogKey> {
    if !path.exists() {
        anyhow::bail!(
            "no signing key at {} (the server creates it on first start; or pass --public-key / --signing-key)",
            path.display()
        );
    }
    Ok(LogKey::load_or_create(path)?.0)
}

/// Empties the read models and replays the whole log into them, with a
/// progress bar on standard error.
async fn rebuild(storage: backend::Storage) -> anyhow::Result<(u64, f64)> {
    let started = std::time::Instant::now();
    let head = storage.events.head().await?;
    let projector = Projector::new(
        store::Feed::start(storage.sealed_events()).await?,
        storage.views,
    )
    .await?;
    projector.views().reset().await?;
    let bar = progress(head, "rebuilding");
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
