//! Issuing and serving signed checkpoints and proofs for a running log.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::task::JoinHandle;

use super::checkpoint::Checkpoint;
use super::error::AssuranceError;
use super::keys::LogKey;
use super::merkle::Hash;
use super::tree::LogTree;
use crate::store::{EventStore, StoreError, StoredCheckpoint};

/// When to issue checkpoints on their own.
#[derive(Debug, Clone, Copy)]
pub struct CheckpointPolicy {
    /// After this many new events.
    pub every_events: u64,
    /// After this long, if anything new was appended.
    pub every: Duration,
}

impl Default for CheckpointPolicy {
    fn default() -> Self {
        CheckpointPolicy {
            every_events: 1000,
            every: Duration::from_secs(60),
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
}

impl Assurance {
    /// Assurance over a store with a signing key.
    pub fn new(store: Arc<dyn EventStore>, key: LogKey) -> Self {
        Assurance {
            tree: LogTree::new(store.clone()),
            store,
            key,
        }
    }

    /// The latest stored checkpoint, if any.
    pub async fn latest(&self) -> Result<Option<StoredCheckpoint>, AssuranceError> {
        Ok(self.store.latest_checkpoint().await?)
    }

    /// Signs and stores a checkpoint of the log as it is now (or answers the
    /// latest if nothing was appended since). `None` for an empty log.
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
        self.store.store_checkpoint(&stored).await?;
        Ok(Some(stored))
    }

    /// Issues checkpoints by the policy until the store closes.
    pub fn spawn(
        self: &Arc<Self>,
        policy: CheckpointPolicy,
        clock: Arc<dyn crate::clock::Clock>,
    ) -> JoinHandle<()> {
        let assurance = self.clone();
        tokio::spawn(async move {
            let mut head = assurance.store.watch_head();
            let mut last_issue = tokio::time::Instant::now();
            loop {
                let _ = tokio::time::timeout(policy.every, head.changed()).await;
                let now_head = *head.borrow_and_update();
                let signed = match assurance.latest().await {
                    Ok(latest) => latest.map(|c| c.tree_size).unwrap_or(0),
                    Err(AssuranceError::Store(StoreError::Database(e)))
                        if matches!(*e, sqlx::Error::PoolClosed) =>
                    {
                        return
                    }
                    Err(error) => {
                        tracing::warn!(%error, "could not read the latest checkpoint");
                        continue;
                    }
                };
                let due = now_head > signed
                    && (now_head - signed >= policy.every_events
                        || last_issue.elapsed() >= policy.every);
                if due {
                    match assurance.issue(clock.now()).await {
                        Ok(_) => last_issue = tokio::time::Instant::now(),
                        Err(AssuranceError::Store(StoreError::Database(e)))
                            if matches!(*e, sqlx::Error::PoolClosed) =>
                        {
                            return
                        }
                        Err(error) => tracing::warn!(%error, "could not issue a checkpoint"),
                    }
                }
            }
        })
    }
}
