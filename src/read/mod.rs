//! Read models kept up to date by following the log.

pub mod aggregates;
pub mod directory;

use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::domain::events::DomainEvent;
use crate::domain::metadata::Metadata;
use crate::domain::proposal::{self, ProposalEvent, ProposalState};
use crate::domain::PersonId;
use crate::projection::Stall;
use crate::store::{follow, EventStore, RecordedEvent, StoreError};
use aggregates::AggregateCache;
use directory::Directory;

/// A proposal's state folded from its stored events (in stream order), or
/// the error of the first event that cannot be read, naming its position.
pub fn fold_proposal(events: &[RecordedEvent]) -> Result<ProposalState, StoreError> {
    events
        .iter()
        .try_fold(ProposalState::default(), proposal_step)
}

/// Folds one stored event into a proposal's state (another aggregate's
/// event leaves it as it is; one that cannot be read is an error).
pub fn proposal_step(
    state: ProposalState,
    stored: &RecordedEvent,
) -> Result<ProposalState, StoreError> {
    Ok(match decode::<ProposalEvent>(stored)? {
        Some(event) => proposal::evolve(state, &event, stored.recorded_at),
        None => state,
    })
}

/// A stored event as one of `E`'s events (upcast if it was stored in an
/// older shape); `None` if it is another aggregate's. An event that cannot
/// be read is [`StoreError::Corrupt`] at its position.
pub fn decode<E: DomainEvent>(stored: &RecordedEvent) -> Result<Option<E>, StoreError> {
    E::decode(&stored.event_type, stored.schema_version, &stored.payload)
        .map_err(|e| corrupt(stored, e))
}

/// A stored event as one of `E`'s events, when it must be one.
pub fn decode_own<E: DomainEvent>(stored: &RecordedEvent) -> Result<E, StoreError> {
    decode::<E>(stored)?.ok_or_else(|| StoreError::Corrupt {
        position: stored.position,
        reason: format!(
            "{} in stream {} is another aggregate's event",
            stored.event_type, stored.stream_id
        ),
    })
}

/// The error of an event that cannot be read, at its position.
pub fn corrupt(stored: &RecordedEvent, error: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        position: stored.position,
        reason: error.to_string(),
    }
}

/// An event's metadata: the one place it is read. Fields older events lack
/// are `None`; metadata of the wrong shape is an error at its position.
pub fn metadata_of(event: &RecordedEvent) -> Result<Metadata, StoreError> {
    Metadata::from_value(&event.metadata).map_err(|e| corrupt(event, format!("metadata: {e}")))
}

/// The person recorded as the actor in an event's metadata.
pub fn actor_of(event: &RecordedEvent) -> Result<Option<PersonId>, StoreError> {
    Ok(metadata_of(event)?.actor)
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
    stall: Arc<Mutex<Option<Stall>>>,
}

impl ReadModels {
    /// Builds the read models from the whole log, then follows it. An event
    /// the directory cannot read stops it there (see [`ReadModels::stall`]);
    /// the follower keeps retrying it.
    pub async fn start(store: Arc<dyn EventStore>) -> Result<Self, StoreError> {
        let mut directory = Directory::default();
        let stall = Arc::new(Mutex::new(None));
        'pages: loop {
            let page = store.read_all(directory.position(), PAGE).await?;
            if page.is_empty() {
                break;
            }
            for event in &page {
                if let Err(error) = directory.apply(event) {
                    report_stall(&stall, &error, event.position);
                    break 'pages;
                }
            }
        }
        let position = directory.position();
        let directory = Arc::new(RwLock::new(directory));
        let aggregates = Arc::new(AggregateCache::default());
        let (applied_tx, applied) = watch::channel(position);
        let follower = tokio::spawn(run(
            Follower {
                store: store.clone(),
                directory: directory.clone(),
                aggregates: aggregates.clone(),
                applied: applied_tx,
                stall: stall.clone(),
            },
            position,
        ));
        Ok(ReadModels {
            directory,
            aggregates,
            applied,
            store,
            follower,
            stall,
        })
    }

    /// Why the directory cannot go on, and where, if it cannot: an event it
    /// cannot read. It keeps retrying; `/readyz` reports it until it can.
    pub fn stall(&self) -> Option<Stall> {
        lock(&self.stall).clone()
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

/// What the follower task feeds.
struct Follower {
    store: Arc<dyn EventStore>,
    directory: Arc<RwLock<Directory>>,
    aggregates: Arc<AggregateCache>,
    applied: watch::Sender<u64>,
    stall: Arc<Mutex<Option<Stall>>>,
}

impl Follower {
    /// Applies one event the log answered: to the directory, then to the
    /// cached aggregates.
    fn apply(&self, event: &RecordedEvent) -> Result<(), StoreError> {
        match self.directory.write() {
            Ok(mut guard) => guard.apply(event)?,
            Err(poisoned) => poisoned.into_inner().apply(event)?,
        }
        self.aggregates.observe(event);
        self.applied.send_replace(event.position);
        Ok(())
    }
}

/// The longest wait between two tries of an event the directory could not
/// read.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

async fn run(follower: Follower, mut after: u64) {
    let mut backoff = Duration::from_millis(200);
    loop {
        let mut events = std::pin::pin!(follow(follower.store.clone(), after));
        let mut stalled = false;
        while let Some(next) = events.next().await {
            match next {
                Ok(event) => match follower.apply(&event) {
                    Ok(()) => {
                        after = event.position;
                        if lock(&follower.stall).take().is_some() {
                            tracing::info!("the directory is applying the log again");
                        }
                        backoff = Duration::from_millis(200);
                    }
                    Err(error) => {
                        report_stall(&follower.stall, &error, event.position);
                        stalled = true;
                        break;
                    }
                },
                Err(StoreError::Database(error)) if matches!(*error, sqlx::Error::PoolClosed) => {
                    return;
                }
                Err(error) => {
                    tracing::warn!(%error, "reading the log for the read models failed; retrying");
                }
            }
        }
        if stalled {
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        } else {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

/// Records and logs that the directory cannot apply the event at `position`.
fn report_stall(stall: &Mutex<Option<Stall>>, error: &StoreError, position: u64) {
    let (position, reason) = match error {
        StoreError::Corrupt { position, reason } | StoreError::Unapplied { position, reason } => {
            (*position, reason.clone())
        }
        other => (position, other.to_string()),
    };
    tracing::error!(
        position,
        %reason,
        "the directory cannot apply the log; it stays at the event before and retries"
    );
    *lock(stall) = Some(Stall { position, reason });
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every change under the lock leaves the value consistent.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
