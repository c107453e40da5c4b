//! Read models kept up to date by following the log.

pub mod aggregates;
pub mod directory;

use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::store::feed::{self, Feed, Stall};
use crate::store::{RecordedEvent, Snapshot, Snapshots, StoreError};
use aggregates::AggregateCache;
use directory::Directory;

/// The name of the directory's start-up snapshot.
const SNAPSHOT: &str = "directory";
/// How many events the directory applies between two snapshots.
const SNAPSHOT_EVERY: u64 = 10_000;

/// The in-memory read models and the task that feeds them.
pub struct ReadModels {
    directory: Arc<RwLock<Directory>>,
    aggregates: Arc<AggregateCache>,
    applied: watch::Receiver<u64>,
    feed: Arc<Feed>,
    follower: JoinHandle<()>,
    stall: Arc<Mutex<Option<Stall>>>,
    snapshots: Arc<dyn Snapshots>,
}

impl ReadModels {
    /// Builds the read models from the stored snapshot of the directory
    /// (when there is a readable one of this format) and the events after
    /// it, then follows the feed. An event the directory cannot read stops
    /// it there (see [`ReadModels::stall`]); the follower keeps retrying it.
    pub async fn start(feed: Arc<Feed>, snapshots: Arc<dyn Snapshots>) -> Result<Self, StoreError> {
        let (mut directory, saved) = match restore(feed.as_ref(), snapshots.as_ref()).await {
            Some(directory) => {
                let at = directory.position();
                (directory, at)
            }
            None => (Directory::default(), 0),
        };
        let stall = Arc::new(Mutex::new(None));
        'pages: loop {
            let page = feed.read(directory.position(), feed::PAGE).await?;
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
        let follower = Follower {
            feed: feed.clone(),
            directory: directory.clone(),
            aggregates: aggregates.clone(),
            applied: applied_tx,
            stall: stall.clone(),
            snapshots: snapshots.clone(),
            saved,
        };
        if position >= saved + SNAPSHOT_EVERY {
            follower.save_snapshot().await;
        }
        let follower = tokio::spawn(run(follower, position));
        Ok(ReadModels {
            directory,
            aggregates,
            applied,
            feed,
            follower,
            stall,
            snapshots,
        })
    }

    /// Why the directory cannot go on, and where, if it cannot: an event it
    /// cannot read. It keeps retrying; `/readyz` reports it until it can.
    pub fn stall(&self) -> Option<Stall> {
        lock(&self.stall).clone()
    }

    /// The directory as it stands. Hold the guard briefly.
    pub fn directory(&self) -> RwLockReadGuard<'_, Directory> {
        read_lock(&self.directory)
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

    /// Stores the directory's snapshot as it stands now (after an erasure,
    /// so the stored one no longer holds what was erased).
    pub async fn save_snapshot(&self) {
        store_snapshot(&self.directory, self.snapshots.as_ref()).await;
    }

    /// Waits until the read models have applied everything stored so far
    /// (including what another process appended).
    pub async fn catch_up(&self, timeout: Duration) -> Result<bool, StoreError> {
        let head = self.feed.store().head().await?;
        Ok(self.wait_for(head, timeout).await)
    }
}

impl Drop for ReadModels {
    fn drop(&mut self) {
        self.follower.abort();
    }
}

/// The directory of the stored snapshot, if there is one of this format
/// that reads and does not run ahead of the log. Anything else is logged and
/// the directory is built from the log instead.
async fn restore(feed: &Feed, snapshots: &dyn Snapshots) -> Option<Directory> {
    let snapshot = match snapshots.load_snapshot(SNAPSHOT).await {
        Ok(snapshot) => snapshot?,
        Err(error) => {
            tracing::warn!(%error, "could not read the directory's snapshot; reading the whole log");
            return None;
        }
    };
    if snapshot.format != directory::SNAPSHOT_FORMAT {
        tracing::info!(
            stored = %snapshot.format,
            "the directory's snapshot is of another format; reading the whole log"
        );
        return None;
    }
    if snapshot.position > feed.position() {
        tracing::warn!(
            snapshot = snapshot.position,
            log = feed.position(),
            "the directory's snapshot is ahead of the log; reading the whole log"
        );
        return None;
    }
    match Directory::from_snapshot(&snapshot.body) {
        Ok(directory) if directory.position() == snapshot.position => Some(directory),
        Ok(_) => {
            tracing::warn!(
                "the directory's snapshot disagrees with its own position; reading the whole log"
            );
            None
        }
        Err(error) => {
            tracing::warn!(%error, "the directory's snapshot does not read; reading the whole log");
            None
        }
    }
}

/// What the follower task feeds.
struct Follower {
    feed: Arc<Feed>,
    directory: Arc<RwLock<Directory>>,
    aggregates: Arc<AggregateCache>,
    applied: watch::Sender<u64>,
    stall: Arc<Mutex<Option<Stall>>>,
    snapshots: Arc<dyn Snapshots>,
    /// The position of the last snapshot written or read.
    saved: u64,
}

impl Follower {
    /// Applies one event the log answered: to the directory, then to the
    /// cached aggregates.
    fn apply(&self, event: &RecordedEvent) -> Result<(), StoreError> {
        match self.directory.write() {
            Ok(mut guard) => guard.apply(event)?,
            Err(poisoned) => poisoned.into_inner().apply(event)?,
        }
        if matches!(event.event_type.as_str(), "PersonErased" | "TextRedacted") {
            // An erasure (here or by another server on the database): what
            // is held in memory from before it may hold the erased text, so
            // it is read from the log again, where it reads as erased.
            self.feed.forget_recent();
            self.aggregates.clear();
        } else {
            self.aggregates.observe(event);
        }
        self.applied.send_replace(event.position);
        Ok(())
    }

    /// Stores the directory as it stands, so the next start reads only the
    /// events after it.
    async fn save_snapshot(&self) {
        store_snapshot(&self.directory, self.snapshots.as_ref()).await;
    }
}

/// Stores the directory as it stands. Failing to is logged, not fatal: the
/// log has it all.
async fn store_snapshot(directory: &RwLock<Directory>, snapshots: &dyn Snapshots) {
    let (position, body) = {
        let directory = read_lock(directory);
        (directory.position(), directory.to_snapshot())
    };
    let body = match body {
        Ok(body) => body,
        Err(error) => {
            tracing::warn!(%error, "could not write the directory's snapshot");
            return;
        }
    };
    let snapshot = Snapshot {
        position,
        format: directory::SNAPSHOT_FORMAT.to_string(),
        body,
    };
    match snapshots.save_snapshot(SNAPSHOT, &snapshot).await {
        Ok(()) => tracing::debug!(position, "stored the directory's snapshot"),
        Err(error) => tracing::warn!(%error, "could not store the directory's snapshot"),
    }
}

/// The longest wait between two tries of an event the directory could not
/// read.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

async fn run(mut follower: Follower, mut after: u64) {
    let mut backoff = Duration::from_millis(200);
    loop {
        let mut events = std::pin::pin!(follower.feed.follow(after));
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
                        if after >= follower.saved + SNAPSHOT_EVERY {
                            follower.saved = after;
                            follower.save_snapshot().await;
                        }
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

/// Reads a lock's value even if a panic poisoned it: every change under it
/// leaves the value consistent.
fn read_lock<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
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
