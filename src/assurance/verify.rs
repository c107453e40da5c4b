//! `advice-log verify`: recompute every leaf hash and the tree from the
//! stored events, check every stored checkpoint (signature, root) and the
//! consistency between them, and name the first bad position.
//!
//! Checkpoints kept outside the database (`--trusted-checkpoint`, the
//! checkpoint folder) are checked the same way, and more: today's log must
//! extend each (the tree of its size has its root, and a consistency proof
//! from it to the whole log checks), and the database must still hold it.
//! Those catch what the stored checkpoints cannot once whoever writes the
//! database has deleted them: a rewritten or replaced event, a cut tail.

use futures::StreamExt;

use super::checkpoint::Checkpoint;
use super::checkpoint_dir::NoteFile;
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
    /// Trusted checkpoints (kept outside the database) checked.
    pub trusted: usize,
    /// The tree size of the latest stored checkpoint (0: none): the events
    /// after it are vouched for by no stored checkpoint.
    pub covered: u64,
    /// The first problem found, if any.
    pub finding: Option<Finding>,
    /// Every problem found, first position first (the walk through the log
    /// stops at its first problem, so this is not every problem there is).
    pub findings: Vec<Finding>,
}

/// A checkpoint kept outside the database, its signature checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trusted {
    /// Where it was read from, to name it in findings.
    pub source: String,
    /// What it says.
    pub checkpoint: Checkpoint,
}

impl Trusted {
    /// Opens kept notes, each of which must be signed by `verifier`.
    pub fn open(
        notes: &[NoteFile],
        verifier: &VerifierKey,
    ) -> Result<Vec<Trusted>, AssuranceError> {
        notes
            .iter()
            .map(|file| {
                let source = file.path.display().to_string();
                match Checkpoint::open(&file.note, verifier) {
                    Ok(checkpoint) => Ok(Trusted { source, checkpoint }),
                    Err(error) => Err(AssuranceError::Trusted {
                        path: source,
                        reason: error.to_string(),
                    }),
                }
            })
            .collect()
    }

    fn size(&self) -> u64 {
        self.checkpoint.size
    }

    /// How findings name it.
    fn name(&self) -> String {
        format!(
            "the trusted checkpoint of {} events ({})",
            self.size(),
            self.source
        )
    }
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
    verify_log_trusting(store, tree, verifier, &[], progress).await
}

/// Verifies the whole log as [`verify_log`] does, and that it extends every
/// checkpoint in `trusted` (kept outside the database, signatures already
/// checked): the log is at least that long, the tree of that size has that
/// root, a consistency proof from it to the whole log checks, and the
/// database still holds it.
pub async fn verify_log_trusting(
    store: &dyn EventStore,
    tree: &LogTree,
    verifier: &VerifierKey,
    trusted: &[Trusted],
    progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<Report, AssuranceError> {
    let mut trusted: Vec<&Trusted> = trusted.iter().collect();
    trusted.sort_by_key(|t| t.size());
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
        trusted: trusted
            .iter()
            .map(|t| (t.size(), t.checkpoint.root, t.name()))
            .collect(),
        next_trusted: 0,
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
    let walked_clean = findings.is_empty();
    let head_root = walk.frontier.root();
    let reached = walk.next_trusted;
    findings.extend(
        check_trusted(
            tree,
            &trusted,
            reached,
            &checkpoints,
            position,
            head_root,
            walked_clean,
        )
        .await?,
    );
    findings.sort_by_key(|f| f.position);
    Ok(Report {
        events: position,
        checkpoints: checkpoints.len(),
        trusted: trusted.len(),
        covered: checkpoints.last().map(|c| c.tree_size).unwrap_or(0),
        finding: findings.first().cloned(),
        findings,
    })
}

/// What the walk leaves to check of the trusted checkpoints: the first
/// `reached` of them (smallest first) have the root of the walked tree of
/// their size; the others were not reached, because the log is shorter or
/// the walk stopped at a problem (`walked_clean` false). Each must also be
/// in the database, and the whole log (`head` events, root `head_root`)
/// must extend it by a consistency proof.
async fn check_trusted(
    tree: &LogTree,
    trusted: &[&Trusted],
    reached: usize,
    checkpoints: &[StoredCheckpoint],
    head: u64,
    head_root: Option<Hash>,
    walked_clean: bool,
) -> Result<Vec<Finding>, AssuranceError> {
    let mut findings = Vec::new();
    for kept in &trusted[..reached] {
        let (size, root) = (kept.size(), kept.checkpoint.root);
        if !checkpoints
            .iter()
            .any(|c| c.tree_size == size && c.root == root)
        {
            findings.push(Finding {
                position: size,
                check: format!(
                    "{} is not in the database: the database lacks it (stored checkpoints were deleted)",
                    kept.name()
                ),
            });
        }
        if walked_clean {
            let extends = match head_root {
                Some(head_root) => {
                    let proof = tree.consistency_proof(size, head).await?;
                    verify_consistency(size, head, &proof, &root, &head_root).is_ok()
                }
                None => false,
            };
            if !extends {
                findings.push(Finding {
                    position: size,
                    check: format!(
                        "the log of {head} events does not extend {} (no consistency proof)",
                        kept.name()
                    ),
                });
            }
        }
    }
    if walked_clean {
        if let Some(kept) = trusted.get(reached) {
            findings.push(Finding {
                position: head + 1,
                check: format!(
                    "the log ends at {head} but {} covers more (events were removed)",
                    kept.name()
                ),
            });
        }
    }
    Ok(findings)
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
    /// Every trusted checkpoint's tree size, root and name, smallest first.
    trusted: Vec<(u64, Hash, String)>,
    /// The first trusted checkpoint not yet reached.
    next_trusted: usize,
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
            while let Some((tree_size, root, name)) = self.trusted.get(self.next_trusted) {
                if *tree_size != self.position {
                    break;
                }
                if self.frontier.root() != Some(*root) {
                    let position = self.position;
                    self.finding = Some(Finding {
                        position,
                        check: format!("the tree of the first {position} events does not have the root of {name}: events up to {position} were rewritten, replaced or removed"),
                    });
                    return;
                }
                self.next_trusted += 1;
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
