//! Honouring erasure and rectification requests: `erasePerson`,
//! `correctPerson` and `redactText` (admins).

use async_graphql::{Context, InputObject, Object, ID};
use uuid::Uuid;

use super::error::{invalid_input, GqlResult, OrGraphql};
use super::mutation::{command_meta, PersonPayload};
use super::proposal::mutation::{payload, ProposalPayload};
use super::types::app;
use crate::domain::proposal::ProposalId;
use crate::domain::PersonId;

/// `erasePerson` input.
#[derive(InputObject)]
pub struct ErasePersonInput {
    /// The person whose personal data is to be erased.
    pub person_id: ID,
    /// Why (an erasure request's reference, say), kept with the record.
    /// Do not write the person's name or e-mail here: the reason is not
    /// erased.
    pub reason: String,
    /// Whether the free text they wrote (advice, objections, notes,
    /// rationales) is erased too; by default it stays readable.
    #[graphql(default = false)]
    pub include_contributions: bool,
    /// Your id for this command: sending it again appends nothing and answers the same.
    pub command_id: Option<ID>,
}

/// `correctPerson` input: what is given replaces what was recorded.
#[derive(InputObject)]
pub struct CorrectPersonInput {
    /// The person.
    pub person_id: ID,
    /// Their corrected name, if it changes.
    pub name: Option<String>,
    /// Their corrected e-mail address, if it changes.
    pub email: Option<String>,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// `redactText` input.
#[derive(InputObject)]
pub struct RedactTextInput {
    /// The event whose text is to be redacted, as `trail` and `events`
    /// show its id.
    pub event_id: ID,
    /// The payload field's name as stored: `body`, `text` (advice),
    /// `reason` (an objection, a withdrawal, a deadline move), `note`,
    /// `rationale`, or `notes` (every weighing note of a decision).
    pub field: String,
    /// Why (kept with the record; do not repeat the redacted text here).
    pub reason: String,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// Mutations that erase or correct personal data.
#[derive(Default)]
pub struct ErasureMutation;

#[Object]
impl ErasureMutation {
    /// Erases a person's personal data (admin), recording who did it and
    /// why. Their tokens are revoked and identities unlinked at once; their
    /// name reads as "Erased person" and their e-mail as empty everywhere
    /// (API, pages, register, exports), and with `includeContributions`
    /// the free text they wrote reads as erased too. What the record says
    /// they did (who was asked, stances, votes, outcomes) stays, and the
    /// log's proofs still verify: its stored bytes never change.
    async fn erase_person(
        &self,
        ctx: &Context<'_>,
        input: ErasePersonInput,
    ) -> GqlResult<PersonPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let person_id = PersonId::parse(&input.person_id).gql()?;
        let outcome = app(ctx)
            .erase_person(&meta, person_id, &input.reason, input.include_contributions)
            .await
            .gql()?;
        PersonPayload::of(ctx, &outcome)
    }

    /// Corrects a person's name or e-mail address (admin). The old value
    /// stays in the earlier event until the person is erased.
    async fn correct_person(
        &self,
        ctx: &Context<'_>,
        input: CorrectPersonInput,
    ) -> GqlResult<PersonPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let person_id = PersonId::parse(&input.person_id).gql()?;
        let outcome = app(ctx)
            .correct_person(
                &meta,
                person_id,
                input.name.as_deref(),
                input.email.as_deref(),
            )
            .await
            .gql()?;
        PersonPayload::of(ctx, &outcome)
    }

    /// Redacts one free-text field of one of a proposal's events (admin):
    /// a patient's name typed into an objection, say. The field reads as
    /// erased from then on; nothing else changes, and the trail records
    /// the redaction.
    async fn redact_text(
        &self,
        ctx: &Context<'_>,
        input: RedactTextInput,
    ) -> GqlResult<ProposalPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let event_id = Uuid::parse_str(input.event_id.trim()).map_err(|_| {
            invalid_input(format!(
                "event id {:?} is not a UUID",
                input.event_id.as_str()
            ))
        })?;
        let written = app(ctx)
            .redact_text(&meta, event_id, &input.field, &input.reason)
            .await
            .gql()?;
        payload(ProposalId(written.subject), written, None)
    }
}
