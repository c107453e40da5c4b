//! The input objects of the proposal lifecycle's mutations.

use async_graphql::{InputObject, ID};
use chrono::{DateTime, Utc};

use super::enums::{
    AdviceReason, DecisionOutcome, Resolution, ReviewOutcome, Rule, Stance, ValidityTest,
};

/// `raiseProposal` input: name a team (you are a `MEMBER`) or a group (you
/// are a representative).
#[derive(InputObject)]
pub struct RaiseProposalInput {
    /// The team whose proposal it is.
    pub team_id: Option<ID>,
    /// Or the cross-team group whose proposal it is.
    pub group_id: Option<ID>,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// `ADVICE`, `CONSENT` or `THRESHOLD`.
    pub rule: Rule,
    /// For `THRESHOLD`: the share of eligible members that must agree (0.5 = half).
    pub threshold: Option<f64>,
    /// After this, the decision may go ahead without advisers who never answered.
    pub advice_deadline: Option<DateTime<Utc>>,
    /// The decision area.
    pub area: Option<String>,
    /// Spend, in minor units (group proposals only).
    pub spend: Option<crate::graphql::scalars::Money>,
    /// When the decision should be reviewed.
    pub review_by: Option<DateTime<Utc>>,
    /// Who records the decision (a MEMBER), if not you.
    pub decider_id: Option<ID>,
    /// The adopted decision (of the same team or group) this one would
    /// replace once adopted.
    pub supersedes: Option<ID>,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// `setAdviceDeadline` input.
#[derive(InputObject)]
pub struct SetAdviceDeadlineInput {
    /// The proposal.
    pub proposal_id: ID,
    /// The new deadline (only later than the current one once anyone was asked).
    pub deadline: DateTime<Utc>,
    /// Why.
    pub reason: String,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// `requestAdvice` input: name a person or a team.
#[derive(InputObject)]
pub struct RequestAdviceInput {
    /// The proposal.
    pub proposal_id: ID,
    /// A person to ask.
    pub person_id: Option<ID>,
    /// Or a whole team.
    pub team_id: Option<ID>,
    /// `AFFECTED` or `EXPERT`.
    pub reason: AdviceReason,
    /// Their own time to answer, if later than the advice deadline.
    pub respond_by: Option<DateTime<Utc>>,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// `giveAdvice` input.
#[derive(InputObject)]
pub struct GiveAdviceInput {
    /// The proposal.
    pub proposal_id: ID,
    /// `SUPPORT`, `CONCERN` or `OBJECT`.
    pub stance: Stance,
    /// What you advise.
    pub text: String,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// `raiseObjection` input.
#[derive(InputObject)]
pub struct RaiseObjectionInput {
    /// The proposal.
    pub proposal_id: ID,
    /// The harm the proposal would cause.
    pub reason: String,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// `resolveObjection` input.
#[derive(InputObject)]
pub struct ResolveObjectionInput {
    /// The proposal.
    pub proposal_id: ID,
    /// The objection.
    pub objection_id: ID,
    /// `INTEGRATED`, `WITHDRAWN` or `RULED_INVALID`.
    pub resolution: Resolution,
    /// Why, in words.
    pub note: String,
    /// For `RULED_INVALID`: the validity test it failed.
    pub validity_test: Option<ValidityTest>,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// `amendProposal` input.
#[derive(InputObject)]
pub struct AmendProposalInput {
    /// The proposal.
    pub proposal_id: ID,
    /// The new body.
    pub body: String,
    /// Why.
    pub reason: String,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// `castVote` input.
#[derive(InputObject)]
pub struct CastVoteInput {
    /// The proposal.
    pub proposal_id: ID,
    /// Agree or not; only your latest vote counts.
    pub agree: bool,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// A note on how one advice or objection was weighed.
#[derive(InputObject)]
pub struct WeighingNoteInput {
    /// The advice or objection id.
    pub ref_id: ID,
    /// How it was weighed.
    pub note: String,
}

/// `decide` input.
#[derive(InputObject)]
pub struct DecideInput {
    /// The proposal.
    pub proposal_id: ID,
    /// `ADOPTED` or `REJECTED`.
    pub outcome: DecisionOutcome,
    /// Why.
    pub rationale: String,
    /// How each advice and objection was weighed.
    #[graphql(default)]
    pub notes: Vec<WeighingNoteInput>,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// `withdrawProposal` input.
#[derive(InputObject)]
pub struct WithdrawProposalInput {
    /// The proposal.
    pub proposal_id: ID,
    /// Why.
    pub reason: String,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// `reviewDecision` input.
#[derive(InputObject)]
pub struct ReviewDecisionInput {
    /// The proposal.
    pub proposal_id: ID,
    /// `KEEP`, `AMEND` or `REVOKE`.
    pub outcome: ReviewOutcome,
    /// What the review found.
    pub note: String,
    /// When to review next.
    pub next_review_by: Option<DateTime<Utc>>,
    /// Your id for this command.
    pub command_id: Option<ID>,
}
