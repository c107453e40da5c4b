//! What one person may do with a proposal now: the actions its page offers.
//! Pure: the state, and the context `decide` itself is given.
//!
//! There is no second copy of a rule here. Each action is offered by asking
//! [`decide`] about a command of its kind (a "probe", with placeholder text
//! that every text check accepts): refused as `FORBIDDEN`, the action is not
//! this person's to take and is not offered; accepted, it is offered; refused
//! for any other reason (an adoption before the threshold is met, an
//! objection confirmed before any amendment), it is offered with that
//! refusal, which the page shows as what the action waits for.

use chrono::Duration;
use uuid::Uuid;

use super::rules::{voting, Voting};
use super::{
    decide, AdviceReason, Adviser, Outcome, ProposalCommand, ProposalContext, ProposalState,
    Resolution, ReviewOutcome, Stance, Status, ValidityTest, WeighingNote,
};
use crate::domain::{DomainError, PersonId, TeamId};

/// Something a person may do with a proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    /// Ask a person or a team for advice (proposer or decider).
    RequestAdvice,
    /// Set or move the advice deadline (proposer or decider).
    SetAdviceDeadline,
    /// Give advice.
    GiveAdvice,
    /// Object: claim the proposal would cause harm.
    RaiseObjection,
    /// Confirm one's own objection integrated by an amendment.
    ConfirmIntegrated(Uuid),
    /// Withdraw one's own objection.
    WithdrawObjection(Uuid),
    /// Rule an objection invalid (a coach), naming the test it failed.
    RuleInvalid(Uuid),
    /// Amend the body (the proposer).
    Amend,
    /// Vote (threshold) or consent (consent).
    Vote,
    /// Record the decision (the decider).
    Decide,
    /// Withdraw the proposal (the proposer).
    Withdraw,
    /// Review the adopted decision and keep it.
    Review,
}

/// One action offered, and what it waits for if the rules would refuse it now.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    /// What may be done.
    pub kind: ActionKind,
    /// The refusal the action would meet now, if any (for [`ActionKind::Decide`]:
    /// the refusal of an adoption; a rejection waits for nothing).
    pub waits_for: Option<DomainError>,
}

/// Placeholder text every text check accepts; probes never reach the log.
const PROBE: &str = "-";

/// Every action the caller of `ctx` may take on `state` at `ctx.now`, in the
/// order a page shows them.
pub fn actions_for(state: &ProposalState, ctx: &ProposalContext) -> Vec<Action> {
    let mut probes: Vec<(ActionKind, ProposalCommand)> = Vec::new();
    match state.status {
        Status::Open => {
            probes.push((ActionKind::Decide, probe_decide(state)));
            if state
                .rule
                .is_some_and(|rule| voting(rule) != Voting::NoVotes)
            {
                probes.push((ActionKind::Vote, ProposalCommand::CastVote { agree: true }));
            }
            probes.push((
                ActionKind::GiveAdvice,
                ProposalCommand::GiveAdvice {
                    advice_id: Uuid::nil(),
                    stance: Stance::Support,
                    text: PROBE.into(),
                },
            ));
            for objection in state.objections.iter().filter(|o| o.is_open()) {
                let resolve = |resolution, validity_test| ProposalCommand::ResolveObjection {
                    objection_id: objection.id,
                    resolution,
                    note: PROBE.into(),
                    validity_test,
                };
                probes.push((
                    ActionKind::ConfirmIntegrated(objection.id),
                    resolve(Resolution::Integrated, None),
                ));
                probes.push((
                    ActionKind::WithdrawObjection(objection.id),
                    resolve(Resolution::Withdrawn, None),
                ));
                probes.push((
                    ActionKind::RuleInvalid(objection.id),
                    resolve(Resolution::RuledInvalid, Some(ValidityTest::NoHarmShown)),
                ));
            }
            probes.push((
                ActionKind::RaiseObjection,
                ProposalCommand::RaiseObjection {
                    objection_id: Uuid::nil(),
                    reason: PROBE.into(),
                },
            ));
            probes.push((
                ActionKind::Amend,
                ProposalCommand::Amend {
                    body: format!("{}\n{PROBE}", state.body()),
                    reason: PROBE.into(),
                },
            ));
            probes.push((
                ActionKind::RequestAdvice,
                ProposalCommand::RequestAdvice {
                    request_id: Uuid::nil(),
                    // Someone not asked yet, with someone in it to answer.
                    adviser: Adviser::Team(TeamId(Uuid::nil())),
                    reason: AdviceReason::Affected,
                    adviser_exists: true,
                    team_people: vec![PersonId(Uuid::nil())],
                    respond_by: None,
                },
            ));
            let later = state.advice_deadline.unwrap_or(ctx.now).max(ctx.now) + Duration::days(1);
            probes.push((
                ActionKind::SetAdviceDeadline,
                ProposalCommand::SetAdviceDeadline {
                    deadline: later,
                    reason: PROBE.into(),
                },
            ));
            probes.push((
                ActionKind::Withdraw,
                ProposalCommand::Withdraw {
                    reason: PROBE.into(),
                },
            ));
        }
        Status::Decided => {
            let review = ProposalCommand::Review {
                outcome: ReviewOutcome::Keep,
                note: PROBE.into(),
                next_review_by: Some(ctx.now + Duration::days(1)),
            };
            // A review either may be recorded or it may not: a decision that
            // cannot be reviewed (rejected, superseded) offers nothing.
            if decide(state, review, ctx).is_ok() {
                return vec![Action {
                    kind: ActionKind::Review,
                    waits_for: None,
                }];
            }
        }
        Status::Unraised | Status::Withdrawn => {}
    }
    probes
        .into_iter()
        .filter_map(|(kind, probe)| match decide(state, probe, ctx) {
            Ok(_) => Some(Action {
                kind,
                waits_for: None,
            }),
            Err(DomainError::Forbidden(_)) => None,
            Err(refusal) => Some(Action {
                kind,
                waits_for: Some(refusal),
            }),
        })
        .collect()
}

/// An adoption that weighs every advice and objection: what it is refused
/// for is what the decision waits for (the rules' checks), not a note the
/// form will ask for anyway.
fn probe_decide(state: &ProposalState) -> ProposalCommand {
    let notes = state
        .advice
        .iter()
        .map(|a| a.id)
        .chain(state.objections.iter().map(|o| o.id))
        .map(|ref_id| WeighingNote {
            ref_id,
            note: PROBE.into(),
        })
        .collect();
    ProposalCommand::Decide {
        outcome: Outcome::Adopted,
        rationale: PROBE.into(),
        notes,
    }
}
