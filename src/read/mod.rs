//! Read models kept up to date by following the log.

pub mod aggregates;
pub mod directory;

use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::domain::events::DomainEvent;
use crate::domain::proposal::{self, ProposalEvent, ProposalState};
use crate::store::{follow, EventStore, RecordedEvent, StoreError};
use aggregates::AggregateCache;
use directory::Directory;

/// A proposal's state folded from its stored events (in stream order).
pub fn fold_proposal(events: &[RecordedEvent]) -> ProposalState {
    events.iter().fold(ProposalState::default(), proposal_step)
}

/// Folds one stored event into a proposal's state (others leave it as it is).
pub fn proposal_step(state: ProposalState, stored: &RecordedEvent) -> ProposalState {
    match ProposalEvent::from_stored(&stored.event_type, &stored.payload) {
        Some(event) => proposal::evolve(state, &event, stored.recorded_at),
        None => state,
    }
}

/// The person recorded as the actor in an event's metadata.
pub fn actor_of(event: &RecordedEvent) -> Option<crate::domain::PersonId> {
    event
        .metadata
        .get("actor")
        .and_then(|v| serde_json::from_value::<Option<crate::domain::PersonId>>(v.clone()).ok())
        .flatten()
}

/// How many events a catch-up read takes at a time.
const PAGE: u32 = 2048;

/// The in-memory read models and the task that feeds them.
pub struct ReadModels {
    directory: Arc<RwLock<Directory>>,
    aggregates: Arc<AggregateCache>,
    applied: watch::Receiver<u64>,
    store: Arc<dyn EventStore>,
    follower: JoinHandle<()>,
}

impl ReadModels {
    /// Builds the read models from the whole log, then follows it.
    pub async fn start(store: Arc<dyn EventStore>) -> Result<Self, StoreError> {
        let mut directory = Directory::default();
        loop {
            let page = store.read_all(directory.position(), PAGE).await?;
            if page.is_empty() {
                break;
            }
            for event in &page {
                directory.apply(event);
            }
        }
        let position = directory.position();
        let directory = Arc::new(RwLock::new(directory));
        let aggregates = Arc::new(AggregateCache::default());
        let (applied_tx, applied) = watch::channel(position);
        let follower = tokio::spawn(run(
            store.clone(),
            directory.clone(),
            aggregates.clone(),
            applied_tx,
            position,
        ));
        Ok(ReadModels {
            directory,
            aggregates,
            applied,
            store,
            follower,
        })
    }

    /// The directory as it stands. Hold the guard briefly.
    pub fn directory(&self) -> RwLockReadGuard<'_, Directory> {
        // A panic while applying an event would poison the lock; the
        // directory is still the last consistent one, so read it anyway.
        self.directory
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The folded states of the streams commands used lately, as current as
    /// the directory.
    pub fn aggregates(&self) -> &AggregateCache {
        &self.aggregates
    }

    /// The position of the last event the read models applied.
    pub fn position(&self) -> u64 {
        *self.applied.borrow()
    }

    /// Waits until the read models have applied `position`, for at most
    /// `timeout`; answers whether they did.
    pub async fn wait_for(&self, position: u64, timeout: Duration) -> bool {
        let mut applied = self.applied.clone();
        let reached = tokio::time::timeout(timeout, applied.wait_for(|p| *p >= position)).await;
        matches!(reached, Ok(Ok(_)))
    }

    /// Waits until the read models have applied everything stored so far
    /// (including what another process appended).
    pub async fn catch_up(&self, timeout: Duration) -> Result<bool, StoreError> {
        let head = self.store.head().await?;
        Ok(self.wait_for(head, timeout).await)
    }
}

impl Drop for ReadModels {
    fn drop(&mut self) {
        self.follower.abort();
    }
}

async fn run(
    store: Arc<dyn EventStore>,
    directory: Arc<RwLock<Directory>>,
    aggregates: Arc<AggregateCache>,
    applied: watch::Sender<u64>,
    mut after: u64,
) {
    loop {
        let mut events = std::pin::pin!(follow(store.clone(), after));
        while let Some(next) = events.next().await {
            match next {
                Ok(event) => {
                    after = event.position;
                    match directory.write() {
                        Ok(mut guard) => guard.apply(&event),
                        Err(poisoned) => poisoned.into_inner().apply(&event),
                    }
                    aggregates.observe(&event);
                    applied.send_replace(after);
                }
                Err(StoreError::Database(error)) if matches!(*error, sqlx::Error::PoolClosed) => {
                    return;
                }
                Err(error) => {
                    tracing::warn!(%error, "reading the log for the read models failed; retrying");
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
