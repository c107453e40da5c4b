//! The log's Merkle tree, computed from the stored leaf hashes. Hashes of
//! complete chunks of 1024 leaves are cached (32 bytes per 1024 events), so a
//! root or proof reads at most two chunks of leaves once the cache is warm.

use std::sync::Arc;

use tokio::sync::Mutex;

use super::error::AssuranceError;
use super::merkle::{node_hash, node_range, root_of, split, Hash};
use crate::store::EventStore;

/// Leaves per cached chunk (a perfect subtree).
pub const CHUNK: u64 = 1024;

/// The Merkle tree over a store's log.
pub struct LogTree {
    store: Arc<dyn EventStore>,
    chunks: Mutex<Vec<Hash>>,
}

impl LogTree {
    /// The tree over a store.
    pub fn new(store: Arc<dyn EventStore>) -> Self {
        LogTree {
            store,
            chunks: Mutex::new(Vec::new()),
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
        while (cache.len() as u64) < last {
            let j = cache.len() as u64;
            let leaves = self.leaves(j * CHUNK, (j + 1) * CHUNK).await?;
            cache.push(root_of(&leaves).unwrap_or_default());
        }
        Ok(cache[first as usize..last as usize].to_vec())
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
