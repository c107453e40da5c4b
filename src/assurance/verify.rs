//! `advice-log verify`: recompute every leaf hash and the tree from the
//! stored events, check every stored checkpoint (signature, root) and the
//! consistency between them, and name the first bad position.

use futures::StreamExt;

use super::checkpoint::Checkpoint;
use super::error::AssuranceError;
use super::keys::VerifierKey;
use super::merkle::{node_hash, node_range, split, verify_consistency, Frontier, Hash};
use super::tree::{LogTree, CHUNK};
use crate::store::canonical::leaf_hash;
use crate::store::{EventStore, StoredCheckpoint};

/// What is wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The first bad position.
    pub position: u64,
    /// Which check failed.
    pub check: String,
}

/// The outcome of verifying the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Events read.
    pub events: u64,
    /// Checkpoints checked.
    pub checkpoints: usize,
    /// The first problem found, if any.
    pub finding: Option<Finding>,
}

/// Events per page read.
const PAGE: u32 = 8192;

/// Pages read and hashed at once, each on its own database connection and
/// hashing thread.
const PAGES_IN_FLIGHT: usize = 3;

/// Verifies the whole log. Checkpoint signatures are checked with `verifier`.
///
/// Each event's canonical bytes come from [`EventStore::read_canonical`].
/// Pages are read and hashed several at once: page `i` is read as the events
/// after position `i * PAGE`, which is where the page before it ends while
/// the log has no gap, and the walk stops at the first page that does not
/// continue the one before it (a gap, or the end), so what it checks is what
/// reading one page after the other would give.
pub async fn verify_log(
    store: &dyn EventStore,
    tree: &LogTree,
    verifier: &VerifierKey,
    progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<Report, AssuranceError> {
    let checkpoints = store.checkpoints().await?;
    let mut findings = Vec::new();
    for checkpoint in &checkpoints {
        if let Some(finding) = check_note(checkpoint, verifier) {
            findings.push(finding);
        }
    }

    let mut walk = Walk {
        frontier: Frontier::default(),
        subtrees: Subtrees::default(),
        position: 0,
        checkpoints: checkpoints.iter().map(|c| (c.tree_size, c.root)).collect(),
        next_checkpoint: 0,
        consistent: vec![None; checkpoints.len().saturating_sub(1)],
        finding: None,
    };
    let mut pages = futures::stream::iter(0u64..)
        .map(|i| read_and_hash(store, i * u64::from(PAGE)))
        .buffered(PAGES_IN_FLIGHT);
    while let Some(page) = pages.next().await {
        let page = page?;
        if page.is_empty() {
            break;
        }
        walk.check(&page);
        if walk.finding.is_some() {
            // As before: what the next page holds no longer matters.
            break;
        }
        progress(walk.position);
    }
    let position = walk.position;
    findings.extend(walk.finding.take());
    if let Some(checkpoint) = checkpoints.get(walk.next_checkpoint) {
        if findings.is_empty() && checkpoint.tree_size > position {
            findings.push(Finding {
                position: position + 1,
                check: format!(
                    "the log ends at {position} but a checkpoint covers {} events (the tail was cut off)",
                    checkpoint.tree_size
                ),
            });
        }
    }
    if findings.is_empty() {
        for (pair, walked) in checkpoints.windows(2).zip(walk.consistent) {
            let (old, new) = (&pair[0], &pair[1]);
            let consistent = match walked {
                Some(consistent) => consistent,
                None => {
                    let proof = tree.consistency_proof(old.tree_size, new.tree_size).await?;
                    verify_consistency(old.tree_size, new.tree_size, &proof, &old.root, &new.root)
                        .is_ok()
                }
            };
            if !consistent {
                findings.push(Finding {
                    position: old.tree_size + 1,
                    check: format!(
                        "checkpoints {} and {} are not consistent",
                        old.tree_size, new.tree_size
                    ),
                });
            }
        }
    }
    findings.sort_by_key(|f| f.position);
    Ok(Report {
        events: position,
        checkpoints: checkpoints.len(),
        finding: findings.into_iter().next(),
    })
}

/// An event read and hashed: its position, its stored leaf hash, and whether
/// that is the hash of its canonical bytes.
struct Hashed {
    position: u64,
    leaf_hash: Hash,
    matches: bool,
}

/// Reads the page of events after `after` and hashes their canonical bytes
/// on a blocking thread.
async fn read_and_hash(store: &dyn EventStore, after: u64) -> Result<Vec<Hashed>, AssuranceError> {
    let page = store.read_canonical(after, PAGE).await?;
    let hashed = tokio::task::spawn_blocking(move || {
        page.iter()
            .map(|event| Hashed {
                position: event.position,
                leaf_hash: event.leaf_hash,
                matches: leaf_hash(event.bytes) == event.leaf_hash,
            })
            .collect()
    })
    .await;
    match hashed {
        Ok(hashed) => Ok(hashed),
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(error) => Err(AssuranceError::Interrupted(error.to_string())),
    }
}

/// The state of the walk through the log.
struct Walk {
    frontier: Frontier,
    /// The subtrees the next consistency proof needs.
    subtrees: Subtrees,
    /// The last position checked.
    position: u64,
    /// Every stored checkpoint's tree size and root, smallest tree first.
    checkpoints: Vec<(u64, Hash)>,
    /// The first checkpoint not yet reached.
    next_checkpoint: usize,
    /// Whether each checkpoint is consistent with the next, found from the
    /// walked leaves once the walk reaches the next (`None`: not known yet,
    /// so asked of the stored tree afterwards, as before).
    consistent: Vec<Option<bool>>,
    /// The first problem, after which nothing more is checked.
    finding: Option<Finding>,
}

impl Walk {
    /// Checks a page's events in order: no position missing, each leaf hash
    /// recomputed from the canonical bytes, and the root of the tree at each
    /// checkpoint's size.
    fn check(&mut self, page: &[Hashed]) {
        for event in page {
            if self.finding.is_some() {
                return;
            }
            if event.position != self.position + 1 {
                self.finding = Some(Finding {
                    position: self.position + 1,
                    check: format!(
                        "event missing: position {} follows {}",
                        event.position, self.position
                    ),
                });
                return;
            }
            self.position = event.position;
            if !event.matches {
                self.finding = Some(Finding {
                    position: self.position,
                    check: "leaf hash differs from the event's content (altered, or moved from another position)".into(),
                });
                return;
            }
            self.subtrees
                .push(&mut self.frontier, self.position, event.leaf_hash);
            while let Some(&(tree_size, root)) = self.checkpoints.get(self.next_checkpoint) {
                if tree_size != self.position {
                    break;
                }
                if self.frontier.root() != Some(root) {
                    let position = self.position;
                    self.finding = Some(Finding {
                        position,
                        check: format!("the tree of {position} events does not have the root of the checkpoint of that size"),
                    });
                    return;
                }
                if let Some(previous) = self.next_checkpoint.checked_sub(1) {
                    let (from, old_root) = self.checkpoints[previous];
                    self.consistent[previous] =
                        self.subtrees.consistent(from, tree_size, &old_root, &root);
                }
                self.subtrees.keep_chunk_of(tree_size);
                self.next_checkpoint += 1;
            }
        }
    }
}

/// Levels of the subtrees of one chunk of [`CHUNK`] leaves.
const CHUNK_LEVELS: u32 = CHUNK.trailing_zeros();

/// The roots of the perfect subtrees a consistency proof between the last
/// checkpoint reached and the next needs, kept as the walk computes them:
/// every subtree of a chunk or more, and the smaller ones of the chunk being
/// walked and of the chunk that held the last checkpoint's last leaf (a proof
/// needs small subtrees only next to its two tree sizes).
#[derive(Debug)]
struct Subtrees {
    /// `upper[l][i]`: the root of leaves `[i * s, (i + 1) * s)`, `s = CHUNK << l`.
    upper: Vec<Vec<Hash>>,
    /// The chunk being walked.
    current: ChunkSubtrees,
    /// The chunk of the last checkpoint's last leaf, once walked past.
    kept: Option<ChunkSubtrees>,
    /// Which chunk to keep when the walk leaves it.
    keep: Option<u64>,
}

impl Default for Subtrees {
    fn default() -> Self {
        Subtrees {
            upper: Vec::new(),
            current: ChunkSubtrees::new(0),
            kept: None,
            keep: None,
        }
    }
}

/// The subtrees inside one chunk: `levels[l][i]` is the root of its leaves
/// `[i << l, (i + 1) << l)` (level 0: the leaf hashes).
#[derive(Debug)]
struct ChunkSubtrees {
    index: u64,
    levels: Vec<Vec<Hash>>,
}

impl ChunkSubtrees {
    fn new(index: u64) -> Self {
        ChunkSubtrees {
            index,
            levels: vec![Vec::new(); CHUNK_LEVELS as usize],
        }
    }
}

impl Subtrees {
    /// Pushes the leaf at `position` (1-based) into `frontier`, keeping the
    /// subtrees it completes.
    fn push(&mut self, frontier: &mut Frontier, position: u64, leaf: Hash) {
        let chunk = (position - 1) / CHUNK;
        if chunk != self.current.index {
            let done = std::mem::replace(&mut self.current, ChunkSubtrees::new(chunk));
            if self.keep == Some(done.index) {
                self.kept = Some(done);
            }
        }
        let (current, upper) = (&mut self.current, &mut self.upper);
        frontier.push_with(leaf, |level, hash| {
            if let Some(nodes) = current.levels.get_mut(level as usize) {
                nodes.push(*hash);
            } else {
                let l = (level - CHUNK_LEVELS) as usize;
                if upper.len() <= l {
                    upper.resize_with(l + 1, Vec::new);
                }
                upper[l].push(*hash);
            }
        });
    }

    /// Remembers that a checkpoint covers `size` leaves: the next proof
    /// starts there.
    fn keep_chunk_of(&mut self, size: u64) {
        self.keep = Some((size - 1) / CHUNK);
    }

    /// The root of the perfect subtree of `2^level` leaves at `index`, if kept.
    fn perfect(&self, level: u32, index: u64) -> Option<Hash> {
        if level >= CHUNK_LEVELS {
            let l = usize::try_from(level - CHUNK_LEVELS).ok()?;
            return self
                .upper
                .get(l)?
                .get(usize::try_from(index).ok()?)
                .copied();
        }
        let chunk = (index << level) / CHUNK;
        let within = usize::try_from(index - (chunk << (CHUNK_LEVELS - level))).ok()?;
        [Some(&self.current), self.kept.as_ref()]
            .into_iter()
            .flatten()
            .find(|c| c.index == chunk)?
            .levels[level as usize]
            .get(within)
            .copied()
    }

    /// RFC 6962's MTH of leaves `[start, end)`, a node's range as
    /// `node_range` gives it (so `start` is aligned to the node's size).
    fn range_hash(&self, start: u64, end: u64) -> Option<Hash> {
        let n = end - start;
        if n.is_power_of_two() && start % n == 0 {
            return self.perfect(n.trailing_zeros(), start / n);
        }
        if n < 2 {
            return None;
        }
        let k = split(n);
        Some(node_hash(
            &self.range_hash(start, start + k)?,
            &self.range_hash(start + k, end)?,
        ))
    }

    /// Whether the tree of `from` leaves with `old_root` is a prefix of the
    /// tree of `to` leaves (just walked) with `new_root`: the consistency
    /// proof the stored tree would give, made from the kept subtrees and
    /// checked the same way. `None` if a subtree it needs was not kept.
    fn consistent(&self, from: u64, to: u64, old_root: &Hash, new_root: &Hash) -> Option<bool> {
        let proof = self.consistency_proof(from, to)?;
        Some(verify_consistency(from, to, &proof, old_root, new_root).is_ok())
    }

    /// What `LogTree::consistency_proof` answers, from the kept subtrees.
    fn consistency_proof(&self, from: u64, to: u64) -> Option<Vec<Hash>> {
        if from == 0 || from >= to {
            return None;
        }
        ct_merkle::indices_for_consistency_proof(from, to - from)
            .into_iter()
            .map(|node| {
                let (start, end) = node_range(node, to);
                self.range_hash(start, end)
            })
            .collect()
    }
}

/// A stored checkpoint's note must be signed by the log's key and say what
/// the row says.
fn check_note(checkpoint: &StoredCheckpoint, verifier: &VerifierKey) -> Option<Finding> {
    let finding = |check: String| {
        Some(Finding {
            position: checkpoint.tree_size,
            check,
        })
    };
    match Checkpoint::open(&checkpoint.note, verifier) {
        Err(error) => finding(format!(
            "checkpoint of {} events: {error}",
            checkpoint.tree_size
        )),
        Ok(note) if note.size != checkpoint.tree_size || note.root != checkpoint.root => {
            finding(format!(
                "checkpoint of {} events: the signed note says otherwise",
                checkpoint.tree_size
            ))
        }
        Ok(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assurance::merkle::root_of;
    use crate::store::canonical::leaf_hash;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Walking leaves and keeping subtrees gives, at each checkpoint, the
        /// consistency proof from the previous one that the stored tree
        /// gives (RFC 6962's MTH of each node's leaves), and it checks.
        #[test]
        fn walked_consistency_proofs_are_the_stored_trees(
            n in 1u64..5000,
            cuts in prop::collection::btree_set(1u64..5000, 1..12),
        ) {
            let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&i.to_le_bytes())).collect();
            let sizes: Vec<u64> = cuts.into_iter().filter(|&s| s <= n).collect();
            let mut frontier = Frontier::default();
            let mut subtrees = Subtrees::default();
            let mut previous: Option<u64> = None;
            let mut next = sizes.iter().peekable();
            for (i, leaf) in leaves.iter().enumerate() {
                let position = i as u64 + 1;
                subtrees.push(&mut frontier, position, *leaf);
                if next.peek() == Some(&&position) {
                    next.next();
                    let root = frontier.root().expect("root");
                    prop_assert_eq!(Some(root), root_of(&leaves[..i + 1]));
                    if let Some(from) = previous {
                        let want: Vec<Hash> = ct_merkle::indices_for_consistency_proof(from, position - from)
                            .into_iter()
                            .map(|node| {
                                let (start, end) = node_range(node, position);
                                root_of(&leaves[start as usize..end as usize]).expect("leaves")
                            })
                            .collect();
                        prop_assert_eq!(subtrees.consistency_proof(from, position), Some(want));
                        let old_root = root_of(&leaves[..from as usize]).expect("root");
                        prop_assert_eq!(subtrees.consistent(from, position, &old_root, &root), Some(true));
                        prop_assert_eq!(subtrees.consistent(from, position, &root, &root), Some(false));
                    }
                    subtrees.keep_chunk_of(position);
                    previous = Some(position);
                }
            }
        }
    }
}
