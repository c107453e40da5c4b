//! The verdict: whether a decision followed its process, as named checks an
//! auditor reads one by one, judged from the proposal's state alone by the
//! rules of [`super::rules`] (the same that `decide` refuses by).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::rules::{applicable, judge, Check, CheckName, Moment};
use super::{Outcome, ProposalState, Status};

/// What an auditor checks first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compliance {
    /// True exactly when every check that applies passed.
    pub advice_process_followed: bool,
    /// The checks that apply: for a decision, those of its outcome and rule
    /// as they stood when it was made; for an open proposal, its rule's
    /// checks as an adoption now would face them (with no weighing notes
    /// yet; a group's mandate and budget are judged when it is decided).
    pub checks: Vec<Check>,
    /// Advice requests never answered.
    pub missing_advisers: Vec<Uuid>,
    /// Objections still open.
    pub open_objections: Vec<Uuid>,
}

/// The verdict on a proposal as it stands at `now` (or, once decided, as it
/// stood at the decision), naming people and teams by their ids.
pub fn compliance(state: &ProposalState, now: DateTime<Utc>) -> Compliance {
    compliance_named(state, now, &|id| format!("someone ({id})"))
}

/// The verdict, naming people and teams with `name`.
pub fn compliance_named(
    state: &ProposalState,
    now: DateTime<Utc>,
    name: &dyn Fn(Uuid) -> String,
) -> Compliance {
    let missing_advisers = state.unanswered().map(|r| r.id).collect();
    let open_objections = state
        .objections
        .iter()
        .filter(|o| o.is_open())
        .map(|o| o.id)
        .collect();
    let checks = match (state.rule, state.status, &state.decision) {
        (Some(rule), Status::Decided, Some(decision)) => {
            let moment = Moment {
                at: decision.at,
                notes: &decision.notes,
                budget_remaining: decision.budget_remaining,
                name,
            };
            applicable(state, rule, decision.outcome)
                .into_iter()
                .map(|check| judge(check, state, &moment))
                .collect()
        }
        (Some(rule), Status::Open, _) => {
            let moment = Moment {
                at: now,
                notes: &[],
                budget_remaining: None,
                name,
            };
            // The group's mandate and budget are judged against the group
            // as it is when decided, which the proposal alone cannot show.
            applicable(state, rule, Outcome::Adopted)
                .into_iter()
                .filter(|check| {
                    !matches!(check, CheckName::WithinMandate | CheckName::WithinBudget)
                })
                .map(|check| judge(check, state, &moment))
                .collect()
        }
        // Withdrawn: nothing was decided, so no check applies. Not raised
        // (or decided without a decision record, which no event makes):
        // nothing to judge.
        (None, _, _)
        | (Some(_), Status::Withdrawn | Status::Unraised, _)
        | (Some(_), Status::Decided, None) => Vec::new(),
    };
    let judged = state.rule.is_some() && state.status != Status::Unraised;
    Compliance {
        advice_process_followed: judged && checks.iter().all(|c| c.passed),
        checks,
        missing_advisers,
        open_objections,
    }
}
