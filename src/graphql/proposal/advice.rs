//! What advisers and objectors said: the requests for advice, the advice
//! given and the objections raised.

use async_graphql::{Context, Object, ID};
use chrono::{DateTime, Utc};

use super::enums::{AdviceReason, ObjectionState, Stance, ValidityTest};
use super::{person_of, team_of};
use crate::domain::proposal;
use crate::graphql::types::{Person, Team};

/// One request for advice.
pub struct AdviserEntry(pub proposal::AdviceRequest);

#[Object(name = "Adviser")]
impl AdviserEntry {
    /// The request's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The person asked, if a person was.
    async fn person(&self, ctx: &Context<'_>) -> Option<Person> {
        match self.0.adviser {
            proposal::Adviser::Person(p) => person_of(ctx, p),
            proposal::Adviser::Team(_) => None,
        }
    }

    /// The team asked, if a whole team was (answered once any of its people advises).
    async fn team(&self, ctx: &Context<'_>) -> Option<Team> {
        match self.0.adviser {
            proposal::Adviser::Team(t) => team_of(ctx, t),
            proposal::Adviser::Person(_) => None,
        }
    }

    /// Why they were asked.
    async fn reason(&self) -> AdviceReason {
        self.0.reason.into()
    }

    /// Whether they answered.
    async fn answered(&self) -> bool {
        self.0.answered_by.is_some()
    }

    /// The advice that answered, if any.
    async fn answered_by(&self) -> Option<ID> {
        self.0.answered_by.map(|id| ID(id.to_string()))
    }

    /// When they were asked.
    async fn requested_at(&self) -> DateTime<Utc> {
        self.0.at
    }

    /// Their own time to answer, if the request set one (otherwise the
    /// proposal's advice deadline).
    async fn respond_by(&self) -> Option<DateTime<Utc>> {
        self.0.respond_by
    }
}

/// One piece of advice.
pub struct Advice(pub(super) proposal::AdviceRecord);

#[Object]
impl Advice {
    /// Its id (name it in the decision's notes).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The stance.
    async fn stance(&self) -> Stance {
        self.0.stance.into()
    }

    /// What was said.
    async fn text(&self) -> &str {
        &self.0.text
    }

    /// Who said it.
    async fn by(&self, ctx: &Context<'_>) -> Option<Person> {
        person_of(ctx, self.0.by)
    }

    /// When.
    async fn given_at(&self) -> DateTime<Utc> {
        self.0.at
    }
}

/// One objection.
pub struct Objection(pub proposal::Objection);

#[Object]
impl Objection {
    /// Its id (name it in the decision's notes, or to resolve it).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Where it stands.
    async fn state(&self) -> ObjectionState {
        match self.0.resolution {
            None => ObjectionState::Open,
            Some((proposal::Resolution::Integrated, _, _)) => ObjectionState::Integrated,
            Some((proposal::Resolution::Withdrawn, _, _)) => ObjectionState::Withdrawn,
            Some((proposal::Resolution::RuledInvalid, _, _)) => ObjectionState::RuledInvalid,
        }
    }

    /// The harm it claims.
    async fn reason(&self) -> &str {
        &self.0.reason
    }

    /// Who raised it.
    async fn by(&self, ctx: &Context<'_>) -> Option<Person> {
        person_of(ctx, self.0.by)
    }

    /// When.
    async fn raised_at(&self) -> DateTime<Utc> {
        self.0.at
    }

    /// How it was resolved, in words.
    async fn resolution_note(&self) -> Option<&str> {
        self.0.resolution.as_ref().map(|(_, note, _)| note.as_str())
    }

    /// For a ruling: the validity test it failed.
    async fn validity_test(&self) -> Option<ValidityTest> {
        self.0
            .resolution
            .as_ref()
            .and_then(|(_, _, t)| t.map(ValidityTest::from))
    }
}
