//! A proposal's state, folded from its events.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    AdviceReason, Adviser, Outcome, Owner, ProposalEvent, Resolution, ReviewOutcome, Rule, Stance,
    ValidityTest, WeighingNote,
};
use crate::domain::PersonId;

/// Where a proposal stands. Stored by serde under its variant names
/// (`Open`); the read models' `state` column holds its API name (`OPEN`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, strum::IntoStaticStr,
)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// Not raised yet.
    #[default]
    Unraised,
    /// Open: advice, objections, amendments and votes may come.
    Open,
    /// Decided; only reviews may follow.
    Decided,
    /// Withdrawn by its proposer.
    Withdrawn,
}

/// One request for advice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdviceRequest {
    /// Its id.
    pub id: Uuid,
    /// Who was asked.
    pub adviser: Adviser,
    /// Why.
    pub reason: AdviceReason,
    /// When.
    pub at: DateTime<Utc>,
    /// Their own time to answer, if the request set one.
    #[serde(default)]
    pub respond_by: Option<DateTime<Utc>>,
    /// Whether they had a time to answer when asked (their own, or the
    /// advice deadline then): their fair window starts when asked;
    /// otherwise it starts when a deadline was set.
    #[serde(default)]
    pub due_when_asked: bool,
    /// The advice that answered it, if any.
    pub answered_by: Option<Uuid>,
}

/// One piece of advice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdviceRecord {
    /// Its id.
    pub id: Uuid,
    /// Who gave it.
    pub by: PersonId,
    /// Their stance.
    pub stance: Stance,
    /// What they said.
    pub text: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// One objection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Objection {
    /// Its id.
    pub id: Uuid,
    /// Who raised it.
    pub by: PersonId,
    /// The harm it claims.
    pub reason: String,
    /// When.
    pub at: DateTime<Utc>,
    /// The body version current when it was raised.
    pub raised_at_version: u32,
    /// How it was resolved, if it was.
    pub resolution: Option<(Resolution, String, Option<ValidityTest>)>,
}

impl Objection {
    /// Whether it is still open.
    pub fn is_open(&self) -> bool {
        self.resolution.is_none()
    }
}

/// One amendment of the body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Amendment {
    /// The version it made (2, 3, ...).
    pub version: u32,
    /// The new body.
    pub body: String,
    /// Why.
    pub reason: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A member's latest vote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vote {
    /// Who.
    pub by: PersonId,
    /// Agree or not.
    pub agree: bool,
    /// When they cast it.
    pub at: DateTime<Utc>,
}

/// The recorded decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRecord {
    /// Adopted or rejected.
    pub outcome: Outcome,
    /// Why.
    pub rationale: String,
    /// How each advice and objection was weighed.
    pub notes: Vec<WeighingNote>,
    /// Requests never answered.
    pub missing_advisers: Vec<Uuid>,
    /// Agree votes counted (threshold rule).
    pub agree_votes: u32,
    /// Agree votes needed (threshold rule).
    pub required_votes: u32,
    /// For a group's spend: what was left of its budget when decided.
    #[serde(default)]
    pub budget_remaining: Option<i64>,
    /// When.
    pub at: DateTime<Utc>,
}

/// One review of an adopted decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    /// Keep, amend or revoke.
    pub outcome: ReviewOutcome,
    /// What the review found.
    pub note: String,
    /// When to review next.
    pub next_review_by: Option<DateTime<Utc>>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A proposal's state.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ProposalState {
    /// Where it stands.
    pub status: Status,
    /// Its team or group.
    pub owner: Option<Owner>,
    /// Who raised it.
    pub proposer: Option<PersonId>,
    /// Who records the decision.
    pub decider: Option<PersonId>,
    /// Its title.
    pub title: String,
    /// The body as first raised.
    pub original_body: String,
    /// Its decision rule.
    pub rule: Option<Rule>,
    /// For `THRESHOLD`, in basis points.
    pub threshold_bp: Option<u32>,
    /// The advice deadline.
    pub advice_deadline: Option<DateTime<Utc>>,
    /// When the current advice deadline was set (raised with, or moved).
    #[serde(default)]
    pub deadline_set_at: Option<DateTime<Utc>>,
    /// The decision area.
    pub area: Option<String>,
    /// Spend against the owner group's budget.
    pub spend: Option<i64>,
    /// When the decision should be reviewed.
    pub review_by: Option<DateTime<Utc>>,
    /// The owner's `MEMBER`s when raised.
    pub eligible: Vec<PersonId>,
    /// When it was raised.
    pub raised_at: Option<DateTime<Utc>>,
    /// Every request for advice, in order.
    pub requests: Vec<AdviceRequest>,
    /// Every piece of advice, in order.
    pub advice: Vec<AdviceRecord>,
    /// Every objection, in order.
    pub objections: Vec<Objection>,
    /// Every amendment, in order.
    pub amendments: Vec<Amendment>,
    /// Each voter's latest vote, in the order they first voted.
    pub votes: Vec<Vote>,
    /// The decision, once made.
    pub decision: Option<DecisionRecord>,
    /// Why it was withdrawn, if it was.
    pub withdrawn_reason: Option<String>,
    /// Reviews of the decision, in order.
    pub reviews: Vec<Review>,
    /// The adopted decision this one would replace.
    #[serde(default)]
    pub supersedes: Option<super::ProposalId>,
    /// The owner's shortest fair time to answer advice when it was raised.
    #[serde(default)]
    pub advice_window_hours: Option<u32>,
    /// The later decision that replaced this one.
    #[serde(default)]
    pub superseded_by: Option<super::ProposalId>,
    /// The free-text fields redacted: (event id, field).
    pub redacted: std::collections::BTreeSet<(uuid::Uuid, String)>,
}

impl ProposalState {
    /// The current body.
    pub fn body(&self) -> &str {
        self.amendments
            .last()
            .map(|a| a.body.as_str())
            .unwrap_or(&self.original_body)
    }

    /// The current body version (1 before any amendment).
    pub fn version(&self) -> u32 {
        self.amendments.last().map(|a| a.version).unwrap_or(1)
    }

    /// Agree votes among the latest votes.
    pub fn agree_votes(&self) -> u32 {
        let agree = self.votes.iter().filter(|v| v.agree).count();
        u32::try_from(agree).unwrap_or(u32::MAX)
    }

    /// Whether a review revoked the decision.
    pub fn revoked(&self) -> bool {
        self.reviews
            .iter()
            .any(|r| r.outcome == ReviewOutcome::Revoke)
    }

    /// Whether it is an adopted decision that still stands: not revoked (by
    /// an older review) and not superseded.
    pub fn in_force(&self) -> bool {
        self.status == Status::Decided
            && self
                .decision
                .as_ref()
                .is_some_and(|d| d.outcome == Outcome::Adopted)
            && !self.revoked()
            && self.superseded_by.is_none()
    }

    /// When a request's time to answer ends: the later of its own
    /// `respondBy` and the advice deadline; `None` if neither is set (it
    /// must be answered).
    pub fn due(&self, request: &AdviceRequest) -> Option<DateTime<Utc>> {
        match (request.respond_by, self.advice_deadline) {
            (Some(own), Some(deadline)) => Some(own.max(deadline)),
            (own, deadline) => own.or(deadline),
        }
    }

    /// How long the advice deadline gave, from when it was set (or the
    /// proposal raised), if there is one.
    pub fn deadline_window(&self) -> Option<chrono::Duration> {
        let deadline = self.advice_deadline?;
        let from = self.deadline_set_at.or(self.raised_at)?;
        Some(deadline - from)
    }

    /// Requests not answered yet.
    pub fn unanswered(&self) -> impl Iterator<Item = &AdviceRequest> {
        self.requests.iter().filter(|r| r.answered_by.is_none())
    }

    /// The current review date: the latest review's, or the one raised with.
    pub fn next_review_by(&self) -> Option<DateTime<Utc>> {
        match self.reviews.last() {
            Some(review) => review.next_review_by,
            None => self.review_by,
        }
    }
}

/// Applies an event recorded at `at`.
pub fn evolve(mut state: ProposalState, event: &ProposalEvent, at: DateTime<Utc>) -> ProposalState {
    match event {
        ProposalEvent::ProposalRaised {
            owner,
            proposer,
            decider,
            title,
            body,
            rule,
            threshold_bp,
            advice_deadline,
            area,
            spend,
            review_by,
            eligible,
            supersedes,
            advice_window_hours,
        } => {
            state.status = Status::Open;
            state.supersedes = *supersedes;
            state.advice_window_hours = *advice_window_hours;
            state.deadline_set_at = advice_deadline.map(|_| at);
            state.owner = Some(*owner);
            state.proposer = Some(*proposer);
            state.decider = Some(*decider);
            state.title.clone_from(title);
            state.original_body.clone_from(body);
            state.rule = Some(*rule);
            state.threshold_bp = *threshold_bp;
            state.advice_deadline = *advice_deadline;
            state.area.clone_from(area);
            state.spend = *spend;
            state.review_by = *review_by;
            state.eligible.clone_from(eligible);
            state.raised_at = Some(at);
        }
        ProposalEvent::AdviceRequested {
            request_id,
            adviser,
            reason,
            respond_by,
        } => state.requests.push(AdviceRequest {
            id: *request_id,
            adviser: *adviser,
            reason: *reason,
            at,
            respond_by: *respond_by,
            due_when_asked: respond_by.is_some() || state.advice_deadline.is_some(),
            answered_by: None,
        }),
        ProposalEvent::AdviceDeadlineSet { deadline, .. } => {
            state.advice_deadline = Some(*deadline);
            state.deadline_set_at = Some(at);
        }
        ProposalEvent::DecisionSuperseded { by } => state.superseded_by = Some(*by),
        ProposalEvent::AdviceGiven {
            advice_id,
            by,
            stance,
            text,
            answers,
        } => {
            for request in state.requests.iter_mut() {
                if request.answered_by.is_none() && answers.contains(&request.id) {
                    request.answered_by = Some(*advice_id);
                }
            }
            state.advice.push(AdviceRecord {
                id: *advice_id,
                by: *by,
                stance: *stance,
                text: text.clone(),
                at,
            });
        }
        ProposalEvent::ObjectionRaised {
            objection_id,
            by,
            reason,
        } => {
            let version = state.version();
            state.objections.push(Objection {
                id: *objection_id,
                by: *by,
                reason: reason.clone(),
                at,
                raised_at_version: version,
                resolution: None,
            });
        }
        ProposalEvent::ObjectionResolved {
            objection_id,
            resolution,
            note,
            validity_test,
        } => {
            if let Some(objection) = state.objections.iter_mut().find(|o| o.id == *objection_id) {
                objection.resolution = Some((*resolution, note.clone(), *validity_test));
            }
        }
        ProposalEvent::ProposalAmended {
            version,
            body,
            reason,
        } => state.amendments.push(Amendment {
            version: *version,
            body: body.clone(),
            reason: reason.clone(),
            at,
        }),
        ProposalEvent::VoteCast { by, agree } => {
            match state.votes.iter_mut().find(|v| v.by == *by) {
                Some(vote) => {
                    vote.agree = *agree;
                    vote.at = at;
                }
                None => state.votes.push(Vote {
                    by: *by,
                    agree: *agree,
                    at,
                }),
            }
        }
        ProposalEvent::ProposalDecided {
            outcome,
            rationale,
            notes,
            missing_advisers,
            agree_votes,
            required_votes,
            budget_remaining,
        } => {
            state.status = Status::Decided;
            state.decision = Some(DecisionRecord {
                outcome: *outcome,
                rationale: rationale.clone(),
                notes: notes.clone(),
                missing_advisers: missing_advisers.clone(),
                agree_votes: *agree_votes,
                required_votes: *required_votes,
                budget_remaining: *budget_remaining,
                at,
            });
        }
        ProposalEvent::ProposalWithdrawn { reason } => {
            state.status = Status::Withdrawn;
            state.withdrawn_reason = Some(reason.clone());
        }
        ProposalEvent::DecisionReviewed {
            outcome,
            note,
            next_review_by,
        } => state.reviews.push(Review {
            outcome: *outcome,
            note: note.clone(),
            next_review_by: *next_review_by,
            at,
        }),
        ProposalEvent::TextRedacted { event_id, field } => {
            state.redacted.insert((*event_id, field.clone()));
        }
    }
    state
}
