//! What leads to and records the outcome: amendments, votes, the decision
//! with its weighing notes, and reviews of the decision.

use async_graphql::{Context, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::advice::AdviserEntry;
use super::enums::{DecisionOutcome, ReviewOutcome};
use super::person_of;
use crate::domain::proposal;
use crate::domain::PersonId;
use crate::graphql::types::Person;

/// One amendment.
#[derive(SimpleObject)]
pub struct Amendment {
    /// The version it made.
    pub(super) version: i32,
    /// The new body.
    pub(super) body: String,
    /// Why.
    pub(super) reason: String,
    /// When.
    pub(super) at: DateTime<Utc>,
}

/// A member's latest vote.
pub struct Vote(pub(super) proposal::Vote);

#[Object]
impl Vote {
    /// Agree or not.
    async fn agree(&self) -> bool {
        self.0.agree
    }

    /// Who.
    async fn by(&self, ctx: &Context<'_>) -> Option<Person> {
        person_of(ctx, self.0.by)
    }

    /// When they last voted.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
}

/// A note on how one advice or objection was weighed.
#[derive(SimpleObject)]
pub struct WeighingNote {
    /// The advice or objection.
    ref_id: ID,
    /// How it was weighed.
    note: String,
}

/// The decision.
pub struct Decision {
    pub(super) record: proposal::DecisionRecord,
    pub(super) by: Option<PersonId>,
    pub(super) missing: Vec<AdviserEntry>,
}

#[Object]
impl Decision {
    /// Adopted or rejected.
    async fn outcome(&self) -> DecisionOutcome {
        self.record.outcome.into()
    }

    /// Why.
    async fn rationale(&self) -> &str {
        &self.record.rationale
    }

    /// How each advice and objection was weighed.
    async fn notes(&self) -> Vec<WeighingNote> {
        self.record
            .notes
            .iter()
            .map(|n| WeighingNote {
                ref_id: ID(n.ref_id.to_string()),
                note: n.note.clone(),
            })
            .collect()
    }

    /// Advisers who never answered (the deadline had passed).
    async fn missing_advisers(&self) -> &[AdviserEntry] {
        &self.missing
    }

    /// For `THRESHOLD`: agree votes counted.
    async fn agree_votes(&self) -> i32 {
        crate::graphql::scalars::count(self.record.agree_votes)
    }

    /// For `THRESHOLD`: agree votes needed.
    async fn required_votes(&self) -> i32 {
        crate::graphql::scalars::count(self.record.required_votes)
    }

    /// Who recorded it.
    async fn by(&self, ctx: &Context<'_>) -> Option<Person> {
        self.by.and_then(|p| person_of(ctx, p))
    }

    /// When.
    async fn decided_at(&self) -> DateTime<Utc> {
        self.record.at
    }
}

/// One review.
pub struct Review {
    pub(super) review: proposal::Review,
    pub(super) by: Option<PersonId>,
}

#[Object]
impl Review {
    /// Keep, amend or revoke.
    async fn outcome(&self) -> ReviewOutcome {
        self.review.outcome.into()
    }

    /// What the review found.
    async fn note(&self) -> &str {
        &self.review.note
    }

    /// When to review next.
    async fn next_review_by(&self) -> Option<DateTime<Utc>> {
        self.review.next_review_by
    }

    /// Who reviewed.
    async fn by(&self, ctx: &Context<'_>) -> Option<Person> {
        self.by.and_then(|p| person_of(ctx, p))
    }

    /// When.
    async fn at(&self) -> DateTime<Utc> {
        self.review.at
    }
}
