//! Linking people to their identities at the organisation's identity
//! provider, and marking leavers: the mutations and the `Identity` type.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::error::{actor, forbidden, GqlResult, OrGraphql};
use super::mutation::{command_meta, PersonPayload};
use super::types::app;
use crate::domain::PersonId;
use crate::read::directory::{IdentityView, PersonView};

/// An identity at an organisation's identity provider that signs a person in.
#[derive(SimpleObject)]
pub struct Identity {
    /// The provider's issuer URL.
    pub issuer: String,
    /// The subject the provider knows the person by.
    pub subject: String,
    /// When it was linked.
    pub linked_at: DateTime<Utc>,
}

impl From<&IdentityView> for Identity {
    fn from(view: &IdentityView) -> Self {
        Identity {
            issuer: view.issuer.clone(),
            subject: view.subject.clone(),
            linked_at: view.linked_at,
        }
    }
}

/// A person's identities for `Person.identities`: shown to admins, auditors
/// and the person themselves; anyone else gets `FORBIDDEN`.
pub fn identities_of(ctx: &Context<'_>, person: &PersonView) -> GqlResult<Vec<Identity>> {
    let viewer = actor(ctx)?;
    if viewer.is_admin() || viewer.is_auditor() || viewer.person == person.id {
        Ok(person.identities.iter().map(Identity::from).collect())
    } else {
        Err(forbidden(
            "linked identities are shown only to admins, auditors and the person themselves",
        ))
    }
}

/// `linkIdentity` and `unlinkIdentity` input.
#[derive(InputObject)]
pub struct IdentityInput {
    /// The person.
    pub person_id: ID,
    /// The identity provider's issuer URL (https or http), exactly as the
    /// provider's ID tokens carry it in `iss`.
    pub issuer: String,
    /// The subject the provider knows them by (`sub`), at most 255 characters.
    pub subject: String,
    /// Your id for this command: sending it again appends nothing and answers the same.
    pub command_id: Option<ID>,
}

/// `markPersonLeft` input.
#[derive(InputObject)]
pub struct MarkPersonLeftInput {
    /// The person who left.
    pub person_id: ID,
    /// Why (kept with the record).
    pub reason: String,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// Mutations on people's identities and leaving.
#[derive(Default)]
pub struct IdentityMutation;

#[Object]
impl IdentityMutation {
    /// Links an identity at the organisation's identity provider to a person
    /// (admin), so it signs them in. An identity belongs to one person at a
    /// time: linking one that is someone else's is `INVALID_INPUT`; a person
    /// who left cannot be linked (`INVALID_STATE`).
    async fn link_identity(
        &self,
        ctx: &Context<'_>,
        input: IdentityInput,
    ) -> GqlResult<PersonPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let person_id = PersonId::parse(&input.person_id).gql()?;
        let outcome = app(ctx)
            .link_identity(&meta, person_id, &input.issuer, &input.subject)
            .await
            .gql()?;
        PersonPayload::of(ctx, &outcome)
    }

    /// Unlinks an identity from a person (admin): it no longer signs them
    /// in. Their advice-log tokens are not touched.
    async fn unlink_identity(
        &self,
        ctx: &Context<'_>,
        input: IdentityInput,
    ) -> GqlResult<PersonPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let person_id = PersonId::parse(&input.person_id).gql()?;
        let outcome = app(ctx)
            .unlink_identity(&meta, person_id, &input.issuer, &input.subject)
            .await
            .gql()?;
        PersonPayload::of(ctx, &outcome)
    }

    /// Marks a person as left (admin): in one append every live token of
    /// theirs is revoked, every identity unlinked and the leaving recorded
    /// with its reason. Nothing signs them in afterwards; their record
    /// stays. Leaving twice is `INVALID_STATE`.
    async fn mark_person_left(
        &self,
        ctx: &Context<'_>,
        input: MarkPersonLeftInput,
    ) -> GqlResult<PersonPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let person_id = PersonId::parse(&input.person_id).gql()?;
        let outcome = app(ctx)
            .mark_person_left(&meta, person_id, &input.reason)
            .await
            .gql()?;
        PersonPayload::of(ctx, &outcome)
    }
}
