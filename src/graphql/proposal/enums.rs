//! The enums of proposals in GraphQL: a proposal's state and rule, an
//! adviser's reason and stance, objections' resolutions and validity tests,
//! and the outcomes of decisions and reviews.

use async_graphql::Enum;

/// Where a proposal stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, strum::IntoStaticStr)]
#[graphql(name = "ProposalState")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum ProposalStateKind {
    /// Open for advice, objections, amendments and votes.
    Open,
    /// Decided.
    Decided,
    /// Withdrawn by its proposer.
    Withdrawn,
}

impl ProposalStateKind {
    /// The state's name in the read models.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// How a proposal is decided.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::proposal::Rule")]
pub enum Rule {
    /// After hearing every requested adviser (or the deadline).
    Advice,
    /// When no objection is open.
    Consent,
    /// When enough eligible members agree.
    Threshold,
}

/// Why an adviser is asked.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::proposal::AdviceReason")]
pub enum AdviceReason {
    /// They would be affected.
    Affected,
    /// They know the subject.
    Expert,
}

/// An adviser's stance.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::proposal::Stance")]
pub enum Stance {
    /// For it.
    Support,
    /// Worried about something.
    Concern,
    /// Against it (no veto).
    Object,
}

/// How an objection was resolved.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::proposal::Resolution")]
pub enum Resolution {
    /// An amendment after it met it; the objector confirmed.
    Integrated,
    /// The objector withdrew it.
    Withdrawn,
    /// A coach ruled it invalid.
    RuledInvalid,
}

/// Where an objection stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ObjectionState {
    /// Not resolved.
    Open,
    /// Integrated by an amendment.
    Integrated,
    /// Withdrawn by the objector.
    Withdrawn,
    /// Ruled invalid by a coach.
    RuledInvalid,
}

/// The validity tests an objection must pass.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::proposal::ValidityTest")]
pub enum ValidityTest {
    /// It names no harm, only a preference.
    NoHarmShown,
    /// The harm would not be caused by this proposal.
    NotCausedByProposal,
    /// It is not about this proposal.
    NotAboutProposal,
    /// The proposal is safe enough to try and will be reviewed.
    SafeToTry,
}

/// The outcome of a decision.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::proposal::Outcome")]
pub enum DecisionOutcome {
    /// Adopted.
    Adopted,
    /// Rejected.
    Rejected,
}

/// The outcome of a review.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::proposal::ReviewOutcome")]
pub enum ReviewOutcome {
    /// It stands.
    Keep,
    /// It stands, to be amended by a new proposal.
    Amend,
    /// Revoked: it stays in the record, marked revoked.
    Revoke,
}
