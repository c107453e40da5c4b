//! Whether a proposal followed (or, while open, is following) its process,
//! computed from its state alone.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{ProposalState, Rule, Stance, Status};

/// What an auditor checks first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compliance {
    /// The advice part of the process held: advice was sought (under the
    /// advice rule), every adviser answered or the deadline passed before the
    /// decision, and (once decided, under the advice rule) every concern and
    /// objection was given a note.
    pub advice_process_followed: bool,
    /// Advice requests never answered.
    pub missing_advisers: Vec<Uuid>,
    /// Objections still open.
    pub open_objections: Vec<Uuid>,
}

/// The compliance of a proposal as it stands at `now` (or, once decided, as
/// it stood at the decision).
pub fn compliance(state: &ProposalState, now: DateTime<Utc>) -> Compliance {
    let missing: Vec<Uuid> = state.unanswered().map(|r| r.id).collect();
    let open_objections = state
        .objections
        .iter()
        .filter(|o| o.is_open())
        .map(|o| o.id)
        .collect();
    let at = match (&state.status, &state.decision) {
        (Status::Decided, Some(decision)) => decision.at,
        _ => now,
    };
    let deadline_passed = state.advice_deadline.is_some_and(|d| at >= d);
    let heard = missing.is_empty() || deadline_passed;
    let followed = match state.rule {
        Some(Rule::Advice) => {
            let sought = !state.requests.is_empty();
            let noted = match &state.decision {
                Some(decision) => {
                    let needed = state
                        .advice
                        .iter()
                        .filter(|a| a.stance != Stance::Support)
                        .map(|a| a.id)
                        .chain(state.objections.iter().map(|o| o.id));
                    needed
                        .into_iter()
                        .all(|id| decision.notes.iter().any(|n| n.ref_id == id))
                }
                None => true,
            };
            sought && heard && noted
        }
        Some(_) => heard,
        None => false,
    };
    Compliance {
        advice_process_followed: followed,
        missing_advisers: missing,
        open_objections,
    }
}
