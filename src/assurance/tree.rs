//! The log's Merkle tree, computed from the stored leaf hashes. Hashes of
//! complete chunks of 1024 leaves are cached (32 bytes per 1024 events), so a
//! root or proof reads at most two chunks of leaves once the cache is warm.
//! A server keeps the cached chunk hashes as a start-up snapshot, so after a
//! restart it hashes only the chunks completed since; `verify` never uses
//! the snapshot and recomputes everything from the log.

use std::sync::Arc;

use tokio::sync::Mutex;

use super::error::AssuranceError;
use super::merkle::{node_hash, node_range, root_of, split, Hash};
use crate::store::{EventStore, Snapshot, Snapshots};

/// Leaves per cached chunk (a perfect subtree).
pub const CHUNK: u64 = 1024;
/// The name of the chunk hashes' start-up snapshot.
const SNAPSHOT: &str = "merkle-chunks";
/// What the snapshot must say it is: the RFC 6962 hash of each complete
/// chunk of [`CHUNK`] leaves, 32 bytes each, in order.
const SNAPSHOT_FORMAT: &str = "merkle-chunks/1 (RFC 6962 subtree hashes of 1024 leaves)";

/// The Merkle tree over a store's log.
pub struct LogTree {
    store: Arc<dyn EventStore>,
    chunks: Mutex<Chunks>,
    snapshots: Option<Arc<dyn Snapshots>>,
}

/// The cached hashes of complete chunks, in order.
#[derive(Default)]
struct Chunks {
    hashes: Vec<Hash>,
    /// Whether the stored snapshot was looked at.
    restored: bool,
    /// How many hashes the stored snapshot holds.
    saved: usize,
}

impl LogTree {
    /// The tree over a store, computed from the log alone.
    pub fn new(store: Arc<dyn EventStore>) -> Self {
        LogTree {
            store,
            chunks: Mutex::new(Chunks::default()),
            snapshots: None,
        }
    }

    /// Also keeps the chunk hashes in `snapshots`, and starts from what is
    /// stored there (after checking its last chunk against the log).
    pub fn with_snapshots(mut self, snapshots: Arc<dyn Snapshots>) -> Self {
        self.snapshots = Some(snapshots);
        self
    }

    /// The stored chunk hashes, if there are readable ones of this format
    /// whose last chunk the log still hashes to; otherwise none (they are
    /// computed from the log and stored again).
    async fn restore(&self, snapshots: &dyn Snapshots) -> Vec<Hash> {
        let snapshot = match snapshots.load_snapshot(SNAPSHOT).await {
            Ok(Some(snapshot)) if snapshot.format == SNAPSHOT_FORMAT => snapshot,
            Ok(_) => return Vec::new(),
            Err(error) => {
                tracing::warn!(%error, "could not read the Merkle tree's snapshot");
                return Vec::new();
            }
        };
        let hashes: Vec<Hash> = snapshot
            .body
            .chunks_exact(32)
            .filter_map(|bytes| Hash::try_from(bytes).ok())
            .collect();
        let whole =
            snapshot.body.len() % 32 == 0 && hashes.len() as u64 * CHUNK == snapshot.position;
        let last = hashes.len() as u64;
        let checked = match hashes.last() {
            Some(stored) if whole => match self.leaves((last - 1) * CHUNK, last * CHUNK).await {
                Ok(leaves) => root_of(&leaves).as_ref() == Some(stored),
                Err(_) => false,
            },
            _ => false,
        };
        if !checked {
            tracing::warn!(
                "the Merkle tree's snapshot does not match the log; hashing the log again"
            );
            return Vec::new();
        }
        hashes
    }

    /// Stores the chunk hashes for the next start; failing to is logged.
    async fn save(&self, snapshots: &dyn Snapshots, hashes: &[Hash]) {
        let snapshot = Snapshot {
            position: hashes.len() as u64 * CHUNK,
            format: SNAPSHOT_FORMAT.to_string(),
            body: hashes.concat(),
        };
        if let Err(error) = snapshots.save_snapshot(SNAPSHOT, &snapshot).await {
            tracing::warn!(%error, "could not store the Merkle tree's snapshot");
        }
    }

    /// The leaf hashes of leaves `[start, end)` (leaf i is position i + 1).
    async fn leaves(&self, start: u64, end: u64) -> Result<Vec<Hash>, AssuranceError> {
        let want = end - start;
        let limit = u32::try_from(want).unwrap_or(u32::MAX);
        let hashes = self.store.leaf_hashes(start, limit).await?;
        if (hashes.len() as u64) < want {
            return Err(AssuranceError::TooShort {
                have: start + hashes.len() as u64,
                want: end,
            });
        }
        Ok(hashes)
    }

    /// The hashes of complete chunks `[first, last)`.
    async fn chunks(&self, first: u64, last: u64) -> Result<Vec<Hash>, AssuranceError> {
        let mut cache = self.chunks.lock().await;
        if let (false, Some(snapshots)) = (cache.restored, &self.snapshots) {
            cache.restored = true;
            cache.hashes = self.restore(snapshots.as_ref()).await;
            cache.saved = cache.hashes.len();
        }
        while (cache.hashes.len() as u64) < last {
            let j = cache.hashes.len() as u64;
            let leaves = self.leaves(j * CHUNK, (j + 1) * CHUNK).await?;
            cache.hashes.push(root_of(&leaves).unwrap_or_default());
        }
        if let Some(snapshots) = &self.snapshots {
            if cache.hashes.len() > cache.saved {
                self.save(snapshots.as_ref(), &cache.hashes).await;
                cache.saved = cache.hashes.len();
            }
        }
        Ok(cache.hashes[first as usize..last as usize].to_vec())
    }

    /// RFC 6962's MTH of leaves `[start, end)` (a subtree of the tree).
    pub fn range_hash(
        &self,
        start: u64,
        end: u64,
    ) -> futures::future::BoxFuture<'_, Result<Hash, AssuranceError>> {
        Box::pin(async move {
            let n = end - start;
            if n <= CHUNK {
                let leaves = self.leaves(start, end).await?;
                return root_of(&leaves).ok_or(AssuranceError::TooShort {
                    have: start,
                    want: end,
                });
            }
            if start % CHUNK == 0 && n.is_power_of_two() {
                let chunks = self.chunks(start / CHUNK, end / CHUNK).await?;
                return root_of(&chunks).ok_or(AssuranceError::TooShort {
                    have: start,
                    want: end,
                });
            }
            let k = split(n);
            let left = self.range_hash(start, start + k).await?;
            let right = self.range_hash(start + k, end).await?;
            Ok(node_hash(&left, &right))
        })
    }

    /// The root of the tree of the first `size` events.
    pub async fn root(&self, size: u64) -> Result<Hash, AssuranceError> {
        self.range_hash(0, size).await
    }

    /// The inclusion proof of leaf `index` in the tree of `size` leaves.
    pub async fn inclusion_proof(
        &self,
        index: u64,
        size: u64,
    ) -> Result<Vec<Hash>, AssuranceError> {
        if index >= size {
            return Err(super::merkle::ProofError::OutOfRange { index, size }.into());
        }
        let mut proof = Vec::new();
        for node in ct_merkle::indices_for_inclusion_proof(size, index) {
            let (start, end) = node_range(node, size);
            proof.push(self.range_hash(start, end).await?);
        }
        Ok(proof)
    }

    /// The consistency proof from the tree of `from` leaves to that of `to`.
    pub async fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<Hash>, AssuranceError> {
        if from == 0 || from > to {
            return Err(super::merkle::ProofError::BadSizes { from, to }.into());
        }
        if from == to {
            return Ok(Vec::new());
        }
        let mut proof = Vec::new();
        for node in ct_merkle::indices_for_consistency_proof(from, to - from) {
            let (start, end) = node_range(node, to);
            proof.push(self.range_hash(start, end).await?);
        }
        Ok(proof)
    }
}
