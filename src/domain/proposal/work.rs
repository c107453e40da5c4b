//! What a proposal asks of one person now: the items of their `myWork`.
//! Pure: the state, the person, their teams and the time.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::rules::{voting, Voting};
use super::{Adviser, ProposalState, Status};
use crate::domain::{PersonId, TeamId};

/// A kind of work waiting for someone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum WorkKind {
    /// Advice asked of them (or a team they are in), with time left.
    GiveAdvice,
    /// A vote (threshold) or consent (consent) they have not given.
    CastVote,
    /// Their open objection, after an amendment: confirm it integrated or withdraw it.
    ConfirmObjection,
    /// A decision they are to record.
    RecordDecision,
    /// An adopted decision due for review in a team or group they are in.
    ReviewDecision,
}

/// One item of work, and by when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkItem {
    /// What is asked.
    pub kind: WorkKind,
    /// By when, if there is a time.
    pub due_at: Option<DateTime<Utc>>,
}

/// Who is asking: a person, the teams they are in, and whether they are a
/// `MEMBER` (or representative) of the proposal's owner.
#[derive(Debug, Clone)]
pub struct Worker<'a> {
    /// The person.
    pub person: PersonId,
    /// The teams they are in, in any role.
    pub teams: &'a BTreeSet<TeamId>,
    /// Whether they are a `MEMBER` of the owner (for a group, a representative).
    pub member_of_owner: bool,
}

/// What `state` asks of `worker` at `now`.
pub fn work_for(state: &ProposalState, worker: &Worker<'_>, now: DateTime<Utc>) -> Vec<WorkItem> {
    let me = worker.person;
    let mut items = Vec::new();
    match state.status {
        Status::Open => {
            let asked = state.unanswered().find(|r| {
                let mine = match r.adviser {
                    Adviser::Person(p) => p == me,
                    Adviser::Team(t) => worker.teams.contains(&t),
                };
                mine && state.due(r).is_none_or(|due| due > now)
            });
            if let Some(request) = asked {
                items.push(WorkItem {
                    kind: WorkKind::GiveAdvice,
                    due_at: state.due(request),
                });
            }
            if let Some(rule) = state.rule {
                let objected = state.objections.iter().any(|o| o.by == me);
                let voted = state.votes.iter().any(|v| v.by == me);
                let waiting = match voting(rule) {
                    Voting::NoVotes => false,
                    Voting::ConsentOnly => !voted && !objected,
                    Voting::AgreeOrDisagree => !voted,
                };
                if waiting && state.eligible.contains(&me) {
                    items.push(WorkItem {
                        kind: WorkKind::CastVote,
                        due_at: state.advice_deadline,
                    });
                }
            }
            let amended_after_mine = state
                .objections
                .iter()
                .any(|o| o.by == me && o.is_open() && state.version() > o.raised_at_version);
            if amended_after_mine {
                items.push(WorkItem {
                    kind: WorkKind::ConfirmObjection,
                    due_at: None,
                });
            }
            if state.decider == Some(me) {
                items.push(WorkItem {
                    kind: WorkKind::RecordDecision,
                    due_at: state.advice_deadline,
                });
            }
        }
        Status::Decided => {
            let due = state.next_review_by().filter(|due| *due <= now);
            let reviewer = state.decider == Some(me) || worker.member_of_owner;
            if let (true, Some(due), true) = (state.in_force(), due, reviewer) {
                items.push(WorkItem {
                    kind: WorkKind::ReviewDecision,
                    due_at: Some(due),
                });
            }
        }
        Status::Unraised | Status::Withdrawn => {}
    }
    items
}
