//! A proposal's trail: its events, one by one, with who, when and why.

use async_graphql::{Context, Json, Object};
use chrono::{DateTime, Utc};

use super::person_of;
use crate::domain::metadata::Metadata;
use crate::graphql::types::Person;
use crate::store::RecordedEvent;

/// One event of a proposal's trail.
pub struct TrailEntry(pub(super) RecordedEvent, pub(super) Metadata);

#[Object]
impl TrailEntry {
    /// Its log position.
    async fn position(&self) -> crate::graphql::scalars::Position {
        self.0.position.into()
    }

    /// The event's id (what `redactText` takes).
    async fn event_id(&self) -> async_graphql::ID {
        async_graphql::ID(self.0.event_id.to_string())
    }

    /// What happened.
    async fn event_type(&self) -> &str {
        &self.0.event_type
    }

    /// When it was recorded.
    async fn at(&self) -> DateTime<Utc> {
        self.0.recorded_at
    }

    /// Who did it.
    async fn actor(&self, ctx: &Context<'_>) -> Option<Person> {
        self.1.actor.and_then(|p| person_of(ctx, p))
    }

    /// The role they acted in (`MEMBER`, `COACH`, `ADVISER`, ...).
    async fn role(&self) -> Option<&'static str> {
        self.1.role_name()
    }

    /// Why, where the command gave a reason (for an objection, a decision,
    /// a note: its text, as it reads now).
    async fn reason(&self) -> Option<String> {
        crate::stored::reason_of(&self.0, &self.1)
    }

    /// The client's command id, if it sent one.
    async fn command_id(&self) -> Option<String> {
        self.1.command_id.map(|id| id.to_string())
    }

    /// What happened, in full.
    async fn payload(&self) -> Json<&serde_json::Value> {
        Json(&self.0.payload)
    }
}
