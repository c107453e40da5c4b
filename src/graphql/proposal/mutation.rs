//! The proposal lifecycle's mutations and what they answer.

use async_graphql::{Context, Object, ID};
use uuid::Uuid;

use super::inputs::{
    AmendProposalInput, CastVoteInput, DecideInput, GiveAdviceInput, RaiseObjectionInput,
    RaiseProposalInput, RequestAdviceInput, ResolveObjectionInput, ReviewDecisionInput,
    SetAdviceDeadlineInput, WithdrawProposalInput,
};
use super::object::Proposal;
use crate::app::proposals::RaiseProposal;
use crate::app::Outcome as Written;
use crate::domain::proposal::{self, ProposalId};
use crate::domain::{GroupId, PersonId, TeamId};
use crate::graphql::error::{invalid_input, GqlResult, OrGraphql};
use crate::graphql::mutation::command_meta;
use crate::graphql::scalars::Money;
use crate::graphql::types::app;

/// only if the client asks for it.
pub struct ProposalPayload {
    id: ProposalId,
    created_id: Option<ID>,
    position: u64,
    replayed: bool,
}

/// What a proposal mutation answers.
#[Object]
impl ProposalPayload {
    /// The proposal as it now stands.
    async fn proposal(&self, ctx: &Context<'_>) -> GqlResult<Proposal> {
        let loaded = app(ctx).load_proposal(self.id, None).await.gql()?;
        Ok(Proposal::new(loaded, app(ctx).clock.now()))
    }

    /// The id of what the mutation created (advice request, advice,
    /// objection), if it created one.
    async fn created_id(&self) -> Option<&ID> {
        self.created_id.as_ref()
    }

    /// The log position of the last event appended.
    async fn position(&self) -> crate::graphql::scalars::Position {
        self.position.into()
    }

    /// True when this repeats an earlier command id.
    async fn replayed(&self) -> bool {
        self.replayed
    }
}

/// The answer of a proposal mutation; the proposal itself is read only if
/// the client asks for it.
pub(crate) fn payload(
    id: ProposalId,
    written: Written,
    created: Option<Uuid>,
) -> GqlResult<ProposalPayload> {
    Ok(ProposalPayload {
        id,
        created_id: created.map(|id| ID(id.to_string())),
        position: written.position,
        replayed: written.replayed,
    })
}

fn uuid(what: &str, id: &ID) -> GqlResult<Uuid> {
    Uuid::parse_str(id.trim())
        .map_err(|_| invalid_input(format!("{what} {:?} is not a UUID", id.as_str())))
}

/// The proposal lifecycle's mutations.
#[derive(Default)]
pub struct ProposalMutation;

#[Object]
impl ProposalMutation {
    /// Raises a proposal in your team, or in a group you represent your team in
    /// (a group's proposal names an `area` of its mandate; every member team is
    /// asked for advice).
    async fn raise_proposal(
        &self,
        ctx: &Context<'_>,
        input: RaiseProposalInput,
    ) -> GqlResult<ProposalPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let owner = match (&input.team_id, &input.group_id) {
            (Some(team), None) => proposal::Owner::Team(TeamId::parse(team).gql()?),
            (None, Some(group)) => proposal::Owner::Group(GroupId::parse(group).gql()?),
            _ => return Err(invalid_input("name either teamId or groupId".into())),
        };
        let raise = RaiseProposal {
            owner,
            title: input.title,
            body: input.body,
            rule: input.rule.into(),
            threshold: input.threshold,
            advice_deadline: input.advice_deadline,
            area: input.area,
            spend: input.spend.map(|Money(amount)| amount),
            review_by: input.review_by,
            decider: input
                .decider_id
                .map(|id| PersonId::parse(&id))
                .transpose()
                .gql()?,
            supersedes: input
                .supersedes
                .map(|id| ProposalId::parse(&id))
                .transpose()
                .gql()?,
        };
        let written = app(ctx).raise_proposal(&meta, raise).await.gql()?;
        payload(ProposalId(written.subject), written, None)
    }

    /// Asks a person (`personId`) or a whole team (`teamId`) for advice.
    async fn request_advice(
        &self,
        ctx: &Context<'_>,
        input: RequestAdviceInput,
    ) -> GqlResult<ProposalPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let id = ProposalId::parse(&input.proposal_id).gql()?;
        let adviser = match (&input.person_id, &input.team_id) {
            (Some(person), None) => proposal::Adviser::Person(PersonId::parse(person).gql()?),
            (None, Some(team)) => proposal::Adviser::Team(TeamId::parse(team).gql()?),
            _ => return Err(invalid_input("name either personId or teamId".into())),
        };
        let created = app(ctx)
            .request_advice(&meta, id, adviser, input.reason.into(), input.respond_by)
            .await
            .gql()?;
        payload(id, created.outcome, Some(created.id))
    }

    /// Sets or moves the advice deadline (proposer or decider); once anyone
    /// was asked, it only moves later.
    async fn set_advice_deadline(
        &self,
        ctx: &Context<'_>,
        input: SetAdviceDeadlineInput,
    ) -> GqlResult<ProposalPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let id = ProposalId::parse(&input.proposal_id).gql()?;
        let written = app(ctx)
            .set_advice_deadline(&meta, id, input.deadline, &input.reason)
            .await
            .gql()?;
        payload(id, written, None)
    }

    /// Gives advice on a proposal.
    async fn give_advice(
        &self,
        ctx: &Context<'_>,
        input: GiveAdviceInput,
    ) -> GqlResult<ProposalPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let id = ProposalId::parse(&input.proposal_id).gql()?;
        let created = app(ctx)
            .give_advice(&meta, id, input.stance.into(), &input.text)
            .await
            .gql()?;
        payload(id, created.outcome, Some(created.id))
    }

    /// Raises a reasoned objection.
    async fn raise_objection(
        &self,
        ctx: &Context<'_>,
        input: RaiseObjectionInput,
    ) -> GqlResult<ProposalPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let id = ProposalId::parse(&input.proposal_id).gql()?;
        let created = app(ctx)
            .raise_objection(&meta, id, &input.reason)
            .await
            .gql()?;
        payload(id, created.outcome, Some(created.id))
    }

    /// Resolves an objection: integrated or withdrawn (by the objector), or
    /// ruled invalid (by a coach, naming the validity test).
    async fn resolve_objection(
        &self,
        ctx: &Context<'_>,
        input: ResolveObjectionInput,
    ) -> GqlResult<ProposalPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let id = ProposalId::parse(&input.proposal_id).gql()?;
        let objection = uuid("objectionId", &input.objection_id)?;
        let written = app(ctx)
            .resolve_objection(
                &meta,
                id,
                objection,
                input.resolution.into(),
                &input.note,
                input.validity_test.map(Into::into),
            )
            .await
            .gql()?;
        payload(id, written, None)
    }

    /// Amends the body (proposer); earlier versions stay.
    async fn amend_proposal(
        &self,
        ctx: &Context<'_>,
        input: AmendProposalInput,
    ) -> GqlResult<ProposalPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let id = ProposalId::parse(&input.proposal_id).gql()?;
        let written = app(ctx)
            .amend_proposal(&meta, id, &input.body, &input.reason)
            .await
            .gql()?;
        payload(id, written, None)
    }

    /// Votes on a `THRESHOLD` proposal; your latest vote counts.
    async fn cast_vote(
        &self,
        ctx: &Context<'_>,
        input: CastVoteInput,
    ) -> GqlResult<ProposalPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let id = ProposalId::parse(&input.proposal_id).gql()?;
        let written = app(ctx).cast_vote(&meta, id, input.agree).await.gql()?;
        payload(id, written, None)
    }

    /// Records the decision (the decider only), with a note for each advice
    /// and objection on how it was weighed.
    async fn decide(&self, ctx: &Context<'_>, input: DecideInput) -> GqlResult<ProposalPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let id = ProposalId::parse(&input.proposal_id).gql()?;
        let notes = input
            .notes
            .iter()
            .map(|n| {
                Ok(proposal::WeighingNote {
                    ref_id: uuid("refId", &n.ref_id)?,
                    note: n.note.clone(),
                })
            })
            .collect::<GqlResult<Vec<_>>>()?;
        let written = app(ctx)
            .decide_proposal(&meta, id, input.outcome.into(), &input.rationale, notes)
            .await
            .gql()?;
        payload(id, written, None)
    }

    /// Withdraws a proposal (proposer).
    async fn withdraw_proposal(
        &self,
        ctx: &Context<'_>,
        input: WithdrawProposalInput,
    ) -> GqlResult<ProposalPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let id = ProposalId::parse(&input.proposal_id).gql()?;
        let written = app(ctx)
            .withdraw_proposal(&meta, id, &input.reason)
            .await
            .gql()?;
        payload(id, written, None)
    }

    /// Reviews an adopted decision: keep, amend or revoke.
    async fn review_decision(
        &self,
        ctx: &Context<'_>,
        input: ReviewDecisionInput,
    ) -> GqlResult<ProposalPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let id = ProposalId::parse(&input.proposal_id).gql()?;
        let written = app(ctx)
            .review_decision(
                &meta,
                id,
                input.outcome.into(),
                &input.note,
                input.next_review_by,
            )
            .await
            .gql()?;
        payload(id, written, None)
    }
}
