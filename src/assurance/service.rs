//! Issuing and serving signed checkpoints and proofs for a running log.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::task::JoinHandle;

use super::checkpoint::Checkpoint;
use super::checkpoint_dir::CheckpointDir;
use super::error::AssuranceError;
use super::keys::LogKey;
use super::merkle::Hash;
use super::tree::LogTree;
use crate::store::{EventStore, StoreError, StoredCheckpoint};

/// When to issue checkpoints on their own, and where they also go.
#[derive(Debug, Clone)]
pub struct CheckpointPolicy {
    /// After this many new events...
    pub every_events: u64,
    /// ...or this long after the first append no checkpoint covers yet.
    pub every: Duration,
    /// The folder every signed note is also written to (`--checkpoint-dir`).
    pub dir: Option<CheckpointDir>,
}

impl Default for CheckpointPolicy {
    fn default() -> Self {
        CheckpointPolicy {
            every_events: 1000,
            every: Duration::from_secs(1),
            dir: None,
        }
    }
}

/// The log's tree and signing key.
pub struct Assurance {
    store: Arc<dyn EventStore>,
    /// The Merkle tree over the log.
    pub tree: LogTree,
    /// The key that signs checkpoints.
    pub key: LogKey,
    /// Where every signed note is also written, if anywhere.
    dir: Option<CheckpointDir>,
}

impl Assurance {
    /// Assurance over a store with a signing key.
    pub fn new(store: Arc<dyn EventStore>, key: LogKey) -> Self {
        Assurance {
            tree: LogTree::new(store.clone()),
            store,
            key,
            dir: None,
        }
    }

    /// Also writes every checkpoint this issues to `dir`.
    pub fn with_dir(mut self, dir: Option<CheckpointDir>) -> Self {
        self.dir = dir;
        self
    }

    /// The latest stored checkpoint, if any.
    pub async fn latest(&self) -> Result<Option<StoredCheckpoint>, AssuranceError> {
        Ok(self.store.latest_checkpoint().await?)
    }

    /// Signs and stores a checkpoint of the log as it is now (or answers the
    /// latest if nothing was appended since). `None` for an empty log.
    ///
    /// With a checkpoint folder, the note is written there too: after it is
    /// stored (so the folder never holds a checkpoint the database did not
    /// take), and again for the latest one if it is missing there (a crash
    /// in between). A folder that holds another note of the same size
    /// refuses the checkpoint before it is stored.
    pub async fn issue(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredCheckpoint>, AssuranceError> {
        let size = self.store.head().await?;
        if size == 0 {
            return Ok(None);
        }
        if let Some(latest) = self.latest().await? {
            if latest.tree_size == size {
                self.keep(&latest).await?;
                return Ok(Some(latest));
            }
        }
        let root: Hash = self.tree.root(size).await?;
        let checkpoint = Checkpoint {
            origin: self.key.name().to_string(),
            size,
            root,
        };
        let stored = StoredCheckpoint {
            tree_size: size,
            root,
            note: checkpoint.sign(&self.key),
            issued_at: now,
        };
        if let Some(dir) = &self.dir {
            dir.check(size, &stored.note)?;
        }
        self.store.store_checkpoint(&stored).await?;
        self.keep(&stored).await?;
        Ok(Some(stored))
    }

    /// Writes a checkpoint's note to the checkpoint folder, if there is one.
    async fn keep(&self, checkpoint: &StoredCheckpoint) -> Result<(), AssuranceError> {
        let Some(dir) = self.dir.clone() else {
            return Ok(());
        };
        let (size, note) = (checkpoint.tree_size, checkpoint.note.clone());
        match tokio::task::spawn_blocking(move || dir.write(size, &note)).await {
            Ok(written) => {
                if written? {
                    tracing::debug!(tree_size = size, "checkpoint written to the folder");
                }
                Ok(())
            }
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(error) => Err(AssuranceError::Interrupted(error.to_string())),
        }
    }

    /// Issues checkpoints by the policy until the store closes: once events
    /// no checkpoint covers arrive, a checkpoint follows within
    /// `policy.every` of the first of them, or as soon as
    /// `policy.every_events` of them are waiting.
    pub fn spawn(
        self: &Arc<Self>,
        policy: CheckpointPolicy,
        clock: Arc<dyn crate::clock::Clock>,
    ) -> JoinHandle<()> {
        let assurance = self.clone();
        tokio::spawn(async move {
            let mut head = assurance.store.watch_head();
            let mut signed = match assurance.latest().await {
                Ok(latest) => latest.map(|c| c.tree_size).unwrap_or(0),
                Err(error) if closed(&error) => return,
                Err(error) => {
                    tracing::warn!(%error, "could not read the latest checkpoint");
                    0
                }
            };
            loop {
                // Wait for an event no checkpoint covers...
                while *head.borrow_and_update() <= signed {
                    if head.changed().await.is_err() {
                        return;
                    }
                }
                // ...then for the deadline it sets, or enough events.
                let deadline = tokio::time::Instant::now() + policy.every;
                while head.borrow_and_update().saturating_sub(signed) < policy.every_events {
                    match tokio::time::timeout_at(deadline, head.changed()).await {
                        Ok(Ok(())) => continue,
                        Ok(Err(_)) | Err(_) => break,
                    }
                }
                if !assurance.store.leadership().is_leader() {
                    // Another server on the database issues checkpoints:
                    // take the latest it stored and wait for the next.
                    match assurance.latest().await {
                        Ok(latest) => {
                            signed = latest.map_or(signed, |c| c.tree_size.max(signed));
                        }
                        Err(error) if closed(&error) => return,
                        Err(error) => {
                            tracing::warn!(%error, "could not read the latest checkpoint")
                        }
                    }
                    continue;
                }
                match assurance.issue(clock.now()).await {
                    Ok(issued) => signed = issued.map(|c| c.tree_size).unwrap_or(signed),
                    Err(error) if closed(&error) => return,
                    // Tried again after `policy.every`: the deadline of the
                    // next round.
                    Err(error) => tracing::warn!(%error, "could not issue a checkpoint"),
                }
            }
        })
    }
}

/// Whether the store's pool is closed (the server is stopping).
fn closed(error: &AssuranceError) -> bool {
    matches!(error, AssuranceError::Store(StoreError::Database(e)) if matches!(**e, sqlx::Error::PoolClosed))
}
