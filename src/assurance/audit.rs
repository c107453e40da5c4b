//! What the audit page shows: the latest signed checkpoint, whether its
//! signature and root hold against the log as stored now, and whether it
//! extends the checkpoints before it (a consistency proof from each).

use chrono::{DateTime, Utc};

use super::checkpoint::Checkpoint;
use super::merkle::verify_consistency;
use super::service::Assurance;
use super::AssuranceError;

/// How many earlier checkpoints the audit page checks the latest against.
pub const EARLIER_CHECKED: usize = 10;

/// One checkpoint and what checking it found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedCheckpoint {
    /// How many events it covers.
    pub tree_size: u64,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// The signed note, as stored.
    pub note: String,
    /// Whether its signature is the log key's.
    pub signature_holds: bool,
    /// Whether the log as stored now extends it: for the latest, its root
    /// is the root of the stored log at its size; for an earlier one, a
    /// consistency proof to the latest holds. `Err` says why not.
    pub extended: Result<(), String>,
}

/// The checkpoints an auditor looks at first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditSummary {
    /// The latest checkpoint, checked against the stored log.
    pub latest: Option<CheckedCheckpoint>,
    /// The ones before it (newest first, at most [`EARLIER_CHECKED`]),
    /// each checked by a consistency proof to the latest.
    pub earlier: Vec<CheckedCheckpoint>,
    /// How many checkpoints are stored in all.
    pub stored: usize,
}

impl AuditSummary {
    /// Whether everything checked held.
    pub fn all_hold(&self) -> bool {
        self.latest
            .iter()
            .chain(self.earlier.iter())
            .all(|c| c.signature_holds && c.extended.is_ok())
    }
}

impl Assurance {
    /// Checks the latest checkpoint and the ones just before it.
    pub async fn audit_summary(&self) -> Result<AuditSummary, AssuranceError> {
        let stored = self.store.checkpoints().await?;
        let verifier = self.key.verifier();
        let Some(latest) = stored.last() else {
            return Ok(AuditSummary {
                latest: None,
                earlier: Vec::new(),
                stored: 0,
            });
        };
        let signature_holds = |note: &str| Checkpoint::open(note, &verifier).is_ok();
        let root_now = self.tree.root(latest.tree_size).await?;
        let latest_checked = CheckedCheckpoint {
            tree_size: latest.tree_size,
            issued_at: latest.issued_at,
            note: latest.note.clone(),
            signature_holds: signature_holds(&latest.note),
            extended: if root_now == latest.root {
                Ok(())
            } else {
                Err(format!(
                    "the log's first {} events no longer hash to this checkpoint's root",
                    latest.tree_size
                ))
            },
        };
        let mut earlier = Vec::new();
        for previous in stored.iter().rev().skip(1).take(EARLIER_CHECKED) {
            let proof = self
                .tree
                .consistency_proof(previous.tree_size, latest.tree_size)
                .await?;
            let extended = verify_consistency(
                previous.tree_size,
                latest.tree_size,
                &proof,
                &previous.root,
                &latest.root,
            )
            .map_err(|e| format!("the latest checkpoint does not extend it: {e}"));
            earlier.push(CheckedCheckpoint {
                tree_size: previous.tree_size,
                issued_at: previous.issued_at,
                note: previous.note.clone(),
                signature_holds: signature_holds(&previous.note),
                extended,
            });
        }
        Ok(AuditSummary {
            latest: Some(latest_checked),
            earlier,
            stored: stored.len(),
        })
    }
}

/// Whether one event is proven to be in a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inclusion {
    /// Its inclusion proof against the checkpoint holds.
    Proven,
    /// It came after the latest checkpoint (one follows within seconds).
    NotYetCheckpointed,
    /// The proof does not hold: the event or the log was altered.
    Fails(String),
}

impl Assurance {
    /// Proves each of `events` (stored events, any order) to be in the
    /// latest checkpoint, by its stored leaf hash and an inclusion proof.
    /// Each event's bytes are read again from the log as stored: events as
    /// the application reads them have their personal data opened, while
    /// the leaf hash covers it sealed.
    pub async fn prove_included(
        &self,
        events: &[crate::store::RecordedEvent],
    ) -> Result<(Option<crate::store::StoredCheckpoint>, Vec<Inclusion>), AssuranceError> {
        let Some(latest) = self.store.latest_checkpoint().await? else {
            return Ok((None, vec![Inclusion::NotYetCheckpointed; events.len()]));
        };
        let mut found = Vec::with_capacity(events.len());
        for event in events {
            if event.position > latest.tree_size {
                found.push(Inclusion::NotYetCheckpointed);
                continue;
            }
            let proof = self
                .tree
                .inclusion_proof(event.position - 1, latest.tree_size)
                .await?;
            let stored = self.store.read_event(event.event_id).await?;
            let recomputed = stored.as_ref().map(|stored| {
                crate::store::canonical::leaf_hash(&crate::store::canonical::event_bytes(stored))
            });
            let holds = if recomputed != Some(event.leaf_hash) {
                Err("its content no longer matches its stored leaf hash".to_string())
            } else {
                super::merkle::verify_inclusion(
                    &event.leaf_hash,
                    event.position - 1,
                    latest.tree_size,
                    &proof,
                    &latest.root,
                )
                .map_err(|e| format!("its inclusion proof fails: {e}"))
            };
            found.push(match holds {
                Ok(()) => Inclusion::Proven,
                Err(why) => Inclusion::Fails(why),
            });
        }
        Ok((Some(latest), found))
    }
}
