//! Proposals: raised by a member of their owner, advised on, objected to,
//! amended, voted on, decided by the rule they were raised under, withdrawn,
//! and reviewed. Every step is an event; nothing is edited.

pub mod actions;
pub mod compliance;
pub mod decide;
pub mod redaction;
pub mod rules;
mod state;
#[cfg(test)]
mod tests;
pub mod work;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::events::DomainEvent;
pub use super::ProposalId;
use super::{GroupId, PersonId, TeamId};

pub use compliance::{compliance, Compliance};
pub use decide::{decide, ProposalCommand, ProposalContext};
pub use rules::{Check, CheckName};
pub use state::{
    evolve, AdviceRecord, AdviceRequest, Amendment, DecisionRecord, Objection, ProposalState,
    Review, Status, Vote,
};

/// How a proposal is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(test, derive(strum::VariantArray))]
pub enum Rule {
    /// Anyone may decide after hearing every requested adviser (or the deadline).
    Advice,
    /// Adopted only when no objection is open.
    Consent,
    /// Adopted only when enough eligible members agree.
    Threshold,
}

/// Who owns a proposal: the team or group it is decided in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Owner {
    /// A team.
    Team(TeamId),
    /// A cross-team group.
    Group(GroupId),
}

/// Who is asked for advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Adviser {
    /// One person.
    Person(PersonId),
    /// A whole team: answered once any of its people gives advice.
    Team(TeamId),
}

/// Why an adviser is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(test, derive(strum::VariantArray))]
pub enum AdviceReason {
    /// They would be affected.
    Affected,
    /// They know the subject.
    Expert,
}

/// An adviser's stance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(test, derive(strum::VariantArray))]
pub enum Stance {
    /// For it.
    Support,
    /// Worried about something: the decision must say how it was weighed.
    Concern,
    /// Against it: the decision must say how it was weighed (no veto).
    Object,
}

/// How an objection was resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(test, derive(strum::VariantArray))]
pub enum Resolution {
    /// An amendment made after it met it, and the objector confirmed so.
    Integrated,
    /// The objector withdrew it.
    Withdrawn,
    /// A coach ruled it invalid, naming the validity test it failed.
    RuledInvalid,
}

/// The tests an objection must pass to be valid (sociocracy's usual set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(test, derive(strum::VariantArray))]
pub enum ValidityTest {
    /// It names no harm, only a preference.
    NoHarmShown,
    /// The harm it names would not be caused by this proposal.
    NotCausedByProposal,
    /// It is not about this proposal.
    NotAboutProposal,
    /// The proposal is safe enough to try and will be reviewed.
    SafeToTry,
}

/// The outcome of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(test, derive(strum::VariantArray))]
pub enum Outcome {
    /// The proposal is adopted.
    Adopted,
    /// The proposal is rejected.
    Rejected,
}

/// The outcome of reviewing an adopted decision. Only `KEEP` is recorded
/// now; amending or revoking goes through a superseding proposal, and older
/// `AMEND`/`REVOKE` reviews stay readable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(test, derive(strum::VariantArray))]
pub enum ReviewOutcome {
    /// It stands.
    Keep,
    /// It stands but should be amended by a new proposal (older reviews).
    Amend,
    /// It is revoked; it stays in the record, marked revoked (older reviews).
    Revoke,
}

/// A note in a decision on how one advice or objection was weighed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeighingNote {
    /// The advice or objection id.
    pub ref_id: Uuid,
    /// How it was weighed.
    pub note: String,
}

/// Something that happened to a proposal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::VariantNames)]
#[serde(tag = "event_type", content = "payload")]
pub enum ProposalEvent {
    /// A proposal was raised.
    ProposalRaised {
        /// Its team or group.
        owner: Owner,
        /// Who raised it.
        proposer: PersonId,
        /// Who will record the decision.
        decider: PersonId,
        /// Its title.
        title: String,
        /// Its body (version 1).
        body: String,
        /// Its decision rule.
        rule: Rule,
        /// For `THRESHOLD`: the share of eligible members that must agree, in
        /// basis points (5000 = 50%).
        threshold_bp: Option<u32>,
        /// After this, the decision may go ahead without advisers who never answered.
        advice_deadline: Option<DateTime<Utc>>,
        /// The decision area (for groups: inside the mandate).
        area: Option<String>,
        /// Spend against the owner group's budget, in minor units.
        spend: Option<i64>,
        /// When the decision should be reviewed.
        review_by: Option<DateTime<Utc>>,
        /// The owner's `MEMBER`s when raised: who may vote and who counts.
        eligible: Vec<PersonId>,
        /// The adopted decision (of the same owner) this one would replace.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        supersedes: Option<ProposalId>,
        /// The owner's shortest fair time to answer advice when raised, in
        /// hours (24 if absent, as before owners could set it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        advice_window_hours: Option<u32>,
    },
    /// An adviser was asked.
    AdviceRequested {
        /// The request's id.
        request_id: Uuid,
        /// Who was asked.
        adviser: Adviser,
        /// Why.
        reason: AdviceReason,
        /// Their own time to answer, later than the advice deadline.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        respond_by: Option<DateTime<Utc>>,
    },
    /// The advice deadline was set or moved (only later, once anyone was asked).
    AdviceDeadlineSet {
        /// The new deadline.
        deadline: DateTime<Utc>,
        /// Why.
        reason: String,
    },
    /// Advice was given.
    AdviceGiven {
        /// The advice's id.
        advice_id: Uuid,
        /// Who gave it.
        by: PersonId,
        /// Their stance.
        stance: Stance,
        /// What they said.
        text: String,
        /// The requests it answered (the person's own, and their teams').
        answers: Vec<Uuid>,
    },
    /// An objection was raised.
    ObjectionRaised {
        /// The objection's id.
        objection_id: Uuid,
        /// Who raised it.
        by: PersonId,
        /// The harm it claims.
        reason: String,
    },
    /// An objection was resolved.
    ObjectionResolved {
        /// The objection's id.
        objection_id: Uuid,
        /// How.
        resolution: Resolution,
        /// Why, in words.
        note: String,
        /// For `RULED_INVALID`: the test it failed.
        validity_test: Option<ValidityTest>,
    },
    /// The body was amended; earlier versions stay.
    ProposalAmended {
        /// The new version number (2, 3, ...).
        version: u32,
        /// The new body.
        body: String,
        /// Why.
        reason: String,
    },
    /// A member voted; only their latest vote counts.
    VoteCast {
        /// Who.
        by: PersonId,
        /// Agree or not.
        agree: bool,
    },
    /// The decision was recorded.
    ProposalDecided {
        /// Adopted or rejected.
        outcome: Outcome,
        /// Why.
        rationale: String,
        /// How each advice and objection was weighed.
        notes: Vec<WeighingNote>,
        /// Requests never answered (the deadline had passed).
        missing_advisers: Vec<Uuid>,
        /// For `THRESHOLD`: agree votes counted.
        agree_votes: u32,
        /// For `THRESHOLD`: agree votes needed.
        required_votes: u32,
        /// For a group's spend: what was left of its budget when decided.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        budget_remaining: Option<i64>,
    },
    /// A later adopted decision replaced this one (in the same append).
    DecisionSuperseded {
        /// The proposal whose adoption replaced it.
        by: ProposalId,
    },
    /// The proposer withdrew the proposal.
    ProposalWithdrawn {
        /// Why.
        reason: String,
    },
    /// An adopted decision was reviewed.
    DecisionReviewed {
        /// Keep, amend or revoke.
        outcome: ReviewOutcome,
        /// What the review found.
        note: String,
        /// When to review it next.
        next_review_by: Option<DateTime<Utc>>,
    },
    /// An admin redacted one free-text field of an earlier event of this
    /// proposal (a patient's name typed into an objection, say): its key
    /// is destroyed once this is appended, so it reads as erased; the
    /// event's bytes, and so the proof, are unchanged.
    TextRedacted {
        /// The event whose field was redacted (as `trail` shows it).
        event_id: Uuid,
        /// The field's name as stored (`reason`, `text`, `notes`...).
        field: String,
    },
}

impl DomainEvent for ProposalEvent {}

/// The smallest threshold accepted, in basis points (1%).
pub const MIN_THRESHOLD_BP: u32 = 100;

/// Agree votes needed: ceil(threshold x eligible), in exact integer
/// arithmetic, and never fewer than one (a threshold recorded before the
/// 1% floor, however small, still needs a vote).
pub fn required_votes(threshold_bp: u32, eligible: usize) -> u32 {
    let eligible = u64::try_from(eligible).unwrap_or(u64::MAX);
    let needed = u64::from(threshold_bp)
        .saturating_mul(eligible)
        .div_ceil(10_000)
        .max(1);
    u32::try_from(needed).unwrap_or(u32::MAX)
}
