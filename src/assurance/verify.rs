//! `advice-log verify`: recompute every leaf hash and the tree from the
//! stored events, check every stored checkpoint (signature, root) and the
//! consistency between them, and name the first bad position.

use super::checkpoint::Checkpoint;
use super::error::AssuranceError;
use super::keys::VerifierKey;
use super::merkle::{verify_consistency, Frontier, Hash};
use super::tree::LogTree;
use crate::store::canonical::{leaf_hash, CanonicalPage};
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

/// Events per page read. Large pages keep the database busy between round
/// trips; two pages are in memory at once (one checked while the next is
/// read), a few MiB each.
const PAGE: u32 = 8192;

/// Verifies the whole log. Checkpoint signatures are checked with `verifier`.
///
/// Each event's canonical bytes come from [`EventStore::read_canonical`]; the
/// next page is read while the current one is hashed on a blocking thread.
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
        position: 0,
        checkpoints: checkpoints.iter().map(|c| (c.tree_size, c.root)).collect(),
        next_checkpoint: 0,
        finding: None,
    };
    let mut page = store.read_canonical(0, PAGE).await?;
    while let Some(last) = page.last_position() {
        let hashing = tokio::task::spawn_blocking(move || {
            walk.check(&page);
            walk
        });
        let (walked, next) = tokio::join!(hashing, store.read_canonical(last, PAGE));
        walk = match walked {
            Ok(walk) => walk,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(error) => return Err(AssuranceError::Interrupted(error.to_string())),
        };
        if walk.finding.is_some() {
            // As before: what the next page holds no longer matters.
            break;
        }
        progress(walk.position);
        page = next?;
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
        for pair in checkpoints.windows(2) {
            let (old, new) = (&pair[0], &pair[1]);
            let proof = tree.consistency_proof(old.tree_size, new.tree_size).await?;
            if verify_consistency(old.tree_size, new.tree_size, &proof, &old.root, &new.root)
                .is_err()
            {
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

/// The state of the walk through the log, handed to the hashing thread and
/// back with each page.
struct Walk {
    frontier: Frontier,
    /// The last position checked.
    position: u64,
    /// Every stored checkpoint's tree size and root, smallest tree first.
    checkpoints: Vec<(u64, Hash)>,
    /// The first checkpoint not yet reached.
    next_checkpoint: usize,
    /// The first problem, after which nothing more is checked.
    finding: Option<Finding>,
}

impl Walk {
    /// Checks a page's events in order: no position missing, each leaf hash
    /// recomputed from the canonical bytes, and the root of the tree at each
    /// checkpoint's size.
    fn check(&mut self, page: &CanonicalPage) {
        for event in page.iter() {
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
            if leaf_hash(event.bytes) != event.leaf_hash {
                self.finding = Some(Finding {
                    position: self.position,
                    check: "leaf hash differs from the event's content (altered, or moved from another position)".into(),
                });
                return;
            }
            self.frontier.push(event.leaf_hash);
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
                self.next_checkpoint += 1;
            }
        }
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
