//! Issuing and serving signed checkpoints and proofs for a running log.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::task::JoinHandle;

use super::checkpoint::Checkpoint;
use super::checkpoint_dir::CheckpointDir;
use super::error::AssuranceError;
use super::keys::LogKey;
use super::merkle::Hash;
use super::tree::LogTree;
use crate::store::leader::Leadership;
use crate::store::{EventStore, StoreError, StoredCheckpoint};

/// How long a server that does not lead waits for the leader's checkpoint
/// when one is asked of it.
const LEADER_WAIT: Duration = Duration::from_secs(10);

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
    pub(super) store: Arc<dyn EventStore>,
    /// The Merkle tree over the log.
    pub tree: LogTree,
    /// The key that signs checkpoints.
    pub key: LogKey,
    /// Where every signed note is also written, if anywhere.
    dir: Option<CheckpointDir>,
    /// A server's lead, once [`Assurance::spawn`] runs: from then on only
    /// the leader stores checkpoints (fenced); before, as in a command-line
    /// process, they are stored directly.
    lead: OnceLock<Arc<Leadership>>,
}

impl Assurance {
    /// Assurance over a store with a signing key.
    pub fn new(store: Arc<dyn EventStore>, key: LogKey) -> Self {
        Assurance {
            tree: LogTree::new(store.clone()),
            store,
            key,
            dir: None,
            lead: OnceLock::new(),
        }
    }

    /// Keeps the Merkle tree's chunk hashes in `snapshots` between starts.
    pub fn with_snapshots(mut self, snapshots: Arc<dyn crate::store::Snapshots>) -> Self {
        self.tree = self.tree.with_snapshots(snapshots);
        self
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
    /// In a server ([`Assurance::spawn`] ran) only the leader stores it; a
    /// server that does not lead waits (up to ten seconds) for the leader's
    /// checkpoint covering the log as it is now and answers that one (or
    /// stores its own if it takes the lead meanwhile), or fails with
    /// [`StoreError::NotLeader`]. Elsewhere (the command line) the
    /// checkpoint is stored directly: signing is deterministic, so it is the
    /// note the leader would sign with the same key, and a different note
    /// for a stored size is refused ([`StoreError::CheckpointDiffers`]).
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
        self.issue_or_wait(now, LEADER_WAIT).await
    }

    /// [`Assurance::issue`], waiting at most `wait` for the leader's
    /// checkpoint when this server does not lead.
    async fn issue_or_wait(
        &self,
        now: DateTime<Utc>,
        wait: Duration,
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
        // Not leading (yet, or any more): the leader's checkpoint covering
        // this size will do, or this server's own once it leads.
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let outcome = match self.lead.get() {
                Some(lead) => lead.store_checkpoint(self.store.as_ref(), &stored).await,
                None => self.store.store_checkpoint(&stored).await,
            };
            match outcome {
                Ok(()) => break,
                Err(StoreError::NotLeader) => {
                    if let Some(latest) = self.latest().await? {
                        if latest.tree_size >= size {
                            self.keep(&latest).await?;
                            return Ok(Some(latest));
                        }
                    }
                    if tokio::time::Instant::now() >= deadline {
                        return Err(StoreError::NotLeader.into());
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => return Err(error.into()),
            }
        }
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
    ///
    /// Only the server that leads on its database issues them, fenced (see
    /// [`Leadership::store_checkpoint`]); the others take the latest the
    /// leader stored. From this call on, on-demand checkpoints
    /// ([`Assurance::issue`]) are fenced too.
    pub fn spawn(
        self: &Arc<Self>,
        policy: CheckpointPolicy,
        clock: Arc<dyn crate::clock::Clock>,
    ) -> JoinHandle<()> {
        let assurance = self.clone();
        let lead = self.lead.get_or_init(|| self.store.leadership()).clone();
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
                if lead.is_leader() {
                    match assurance.issue_or_wait(clock.now(), Duration::ZERO).await {
                        Ok(issued) => {
                            signed = issued.map(|c| c.tree_size).unwrap_or(signed);
                            continue;
                        }
                        Err(error) if closed(&error) => return,
                        // Deposed since: follow the new leader's.
                        Err(AssuranceError::Store(StoreError::NotLeader)) => {}
                        // Tried again after `policy.every`: the deadline of
                        // the next round.
                        Err(error) => {
                            tracing::warn!(%error, "could not issue a checkpoint");
                            continue;
                        }
                    }
                }
                // Another server on the database issues checkpoints: take
                // the latest it stored and wait for the next.
                match assurance.latest().await {
                    Ok(latest) => {
                        signed = latest.map_or(signed, |c| c.tree_size.max(signed));
                    }
                    Err(error) if closed(&error) => return,
                    Err(error) => {
                        tracing::warn!(%error, "could not read the latest checkpoint")
                    }
                }
            }
        })
    }
}

/// Whether the store's pool is closed (the server is stopping).
fn closed(error: &AssuranceError) -> bool {
    matches!(error, AssuranceError::Store(StoreError::Database(e)) if matches!(**e, sqlx::Error::PoolClosed))
}
