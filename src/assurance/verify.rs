//! `advice-log verify`: recompute every leaf hash and the tree from the
//! stored events, check every stored checkpoint (signature, root) and the
//! consistency between them, and name the first bad position.

use super::checkpoint::Checkpoint;
use super::error::AssuranceError;
use super::keys::VerifierKey;
use super::merkle::{verify_consistency, Frontier};
use super::tree::LogTree;
use crate::store::canonical::event_leaf_hash;
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

const PAGE: u32 = 2048;

/// Verifies the whole log. Checkpoint signatures are checked with `verifier`.
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

    let mut frontier = Frontier::default();
    let mut next_checkpoint = checkpoints.iter().peekable();
    let mut position = 0u64;
    'read: loop {
        let page = store.read_all(position, PAGE).await?;
        if page.is_empty() {
            break;
        }
        for event in &page {
            if event.position != position + 1 {
                findings.push(Finding {
                    position: position + 1,
                    check: format!(
                        "event missing: position {} follows {}",
                        event.position, position
                    ),
                });
                break 'read;
            }
            position = event.position;
            if event_leaf_hash(event) != event.leaf_hash {
                findings.push(Finding {
                    position,
                    check: "leaf hash differs from the event's content (altered, or moved from another position)".into(),
                });
                break 'read;
            }
            frontier.push(event.leaf_hash);
            while let Some(checkpoint) = next_checkpoint.peek() {
                if checkpoint.tree_size != position {
                    break;
                }
                if frontier.root() != Some(checkpoint.root) {
                    findings.push(Finding {
                        position,
                        check: format!("the tree of {position} events does not have the root of the checkpoint of that size"),
                    });
                    break 'read;
                }
                next_checkpoint.next();
            }
        }
        progress(position);
    }
    if let Some(checkpoint) = next_checkpoint.next() {
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
