//! The application: commands run through the domain into the event store,
//! queries read the read models, and tokens are checked against them.

pub mod actions;
pub mod erasure;
pub mod error;
pub mod execute;
pub mod identity;
pub mod notifications;
pub mod organisation;
pub mod proposals;
pub mod work;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub use crate::clock::{Clock, ManualClock, SystemClock};
pub use error::AppError;
pub use execute::{CommandMeta, Outcome, Plan};
pub use proposals::RaiseProposal;

use crate::assurance::keys::LogKey;
use crate::assurance::service::{Assurance, CheckpointPolicy};
use crate::auth::{self, TokenCheck};
use crate::backend::Storage;
use crate::domain::Actor;
use crate::erasure::Keyring;
use crate::oidc::{find_person, looks_like_jwt, RelyingParty};
use crate::outbox::Outbox;
use crate::projection::Projector;
use crate::read::ReadModels;
use crate::store::{EventStore, Feed, StoreError};

/// How long a token unknown to the read models may wait for them to catch up
/// with the database (a token just made at the command line, say).
const TOKEN_CATCH_UP: Duration = Duration::from_secs(2);

/// The running application over one store.
pub struct App {
    /// The event log, personal data opened (when the storage is unlocked).
    pub store: Arc<dyn EventStore>,
    /// The event log as stored (personal data sealed): what proofs and
    /// export bundles cover.
    pub log: Arc<dyn EventStore>,
    /// The keys personal data is sealed under, when unlocked.
    pub keyring: Option<Arc<Keyring>>,
    /// The server's one reader of new events, shared by every follower.
    pub feed: Arc<Feed>,
    /// The read models that follow it.
    pub read: ReadModels,
    /// The clock the domain decides by.
    pub clock: Arc<dyn Clock>,
    /// The projector feeding the read-model tables.
    pub projector: Arc<Projector>,
    /// The Merkle tree and signing key, when the service has a key.
    pub assurance: Option<Arc<Assurance>>,
    /// The notification outbox.
    pub outbox: Arc<dyn Outbox>,
    /// The organisation's identity provider, once the server takes its
    /// access tokens on the API.
    provider: OnceLock<Arc<RelyingParty>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for App {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl App {
    /// Starts the application over a database: builds the read models from
    /// the log and follows it.
    pub async fn start(storage: Storage) -> Result<Arc<App>, StoreError> {
        Self::start_with_clock(storage, Arc::new(SystemClock)).await
    }

    /// Starts the application with a clock of the caller's choosing.
    pub async fn start_with_clock(
        storage: Storage,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<App>, StoreError> {
        Self::start_full(storage, clock, None).await
    }

    /// Starts the application; with a signing key it also issues signed
    /// checkpoints by `policy` and serves proofs.
    pub async fn start_full(
        storage: Storage,
        clock: Arc<dyn Clock>,
        signing: Option<(LogKey, CheckpointPolicy)>,
    ) -> Result<Arc<App>, StoreError> {
        let log = storage.events.clone();
        let store = storage.sealed_events();
        let feed = Feed::start(store.clone()).await?;
        let read = ReadModels::start(feed.clone(), storage.snapshots.clone()).await?;
        let projector = Projector::new(feed.clone(), storage.views.clone()).await?;
        let mut tasks = vec![projector.spawn()];
        let assurance = signing.map(|(key, policy)| {
            let assurance = Arc::new(
                Assurance::new(log.clone(), key)
                    .with_dir(policy.dir.clone())
                    .with_snapshots(storage.snapshots.clone()),
            );
            tasks.push(assurance.spawn(policy, clock.clone()));
            assurance
        });
        Ok(Arc::new(App {
            store,
            log,
            keyring: storage.keyring.clone(),
            feed,
            read,
            clock,
            projector,
            assurance,
            outbox: storage.outbox.clone(),
            provider: OnceLock::new(),
            tasks,
        }))
    }

    /// Stops the projector task (before rebuilding the read models under a
    /// running application, say). Nothing feeds the tables afterwards.
    pub fn stop_projector(&self) {
        if let Some(task) = self.tasks.first() {
            task.abort();
        }
    }

    /// Waits until every read model has reached `position`, for at most
    /// `timeout`; answers whether they did (read-your-writes).
    pub async fn wait_for(&self, position: u64, timeout: Duration) -> bool {
        let (directory, views) = tokio::join!(
            self.read.wait_for(position, timeout),
            self.projector.wait_for(position, timeout)
        );
        directory && views
    }

    /// Takes access tokens from the organisation's identity provider on
    /// the API from now on, beside advice-log's own (set once; a second
    /// call changes nothing).
    pub fn accept_provider_tokens(&self, provider: Arc<RelyingParty>) {
        let _ = self.provider.set(provider);
    }

    /// Whether a token that was valid still is, as far as the directory has
    /// heard (no waiting): false once it is revoked or its person removed,
    /// or, for the provider's access token, once it expires, its identity
    /// is unlinked or its person leaves.
    pub fn still_valid(&self, token: &str) -> bool {
        match self.provider_for(token) {
            Some(provider) => provider
                .check_access_token(token, chrono::Utc::now())
                .is_ok_and(|identity| self.person_for(provider, &identity).is_some()),
            None => matches!(
                auth::check(&self.read.directory(), token),
                TokenCheck::Valid(_)
            ),
        }
    }

    /// The person a bearer token belongs to, or `Unauthenticated`: one of
    /// advice-log's own tokens, or (when the server takes them) an access
    /// token from the organisation's identity provider.
    pub async fn authenticate(&self, token: &str) -> Result<Actor, AppError> {
        if let Some(provider) = self.provider_for(token) {
            let identity = provider.verify_access_token(token).await.map_err(|error| {
                tracing::info!(%error, "an access token from the identity provider was refused");
                AppError::Unauthenticated
            })?;
            return self
                .person_for(provider, &identity)
                .ok_or(AppError::Unauthenticated);
        }
        let first = auth::check(&self.read.directory(), token);
        let result = match first {
            TokenCheck::Unknown => {
                self.read.catch_up(TOKEN_CATCH_UP).await?;
                auth::check(&self.read.directory(), token)
            }
            other => other,
        };
        match result {
            TokenCheck::Valid(actor) => Ok(actor),
            TokenCheck::Unknown | TokenCheck::Invalid => Err(AppError::Unauthenticated),
        }
    }

    /// The identity provider, when the server takes its tokens and `token`
    /// is a JWT rather than one of advice-log's own.
    fn provider_for(&self, token: &str) -> Option<&Arc<RelyingParty>> {
        self.provider
            .get()
            .filter(|_| auth::parse(token).is_none() && looks_like_jwt(token))
    }

    /// The person (still here) an identity the provider vouches for belongs
    /// to, as an actor.
    fn person_for(
        &self,
        provider: &RelyingParty,
        identity: &crate::oidc::Identity,
    ) -> Option<Actor> {
        let directory = self.read.directory();
        let (person, _) = find_person(&directory, identity, provider.settings().match_email)?;
        directory.person(person).map(|person| Actor {
            person: person.id,
            org_role: person.org_role,
        })
    }
}
