//! Proposals in GraphQL: the `Proposal` type with its advisers, advice,
//! objections, amendments, votes, decision, trail and compliance; the
//! `proposal(id, asOf)` query; and the lifecycle mutations.

mod advice;
mod decision;
mod enums;
mod inputs;
pub(crate) mod mutation;
mod object;
mod trail;

use async_graphql::{Context, Object, ID};
use chrono::{DateTime, Utc};

use super::error::{actor, not_found, GqlResult, OrGraphql};
use super::types::{app, Person, Team};
use crate::domain::proposal::{ProposalId, Status};
use crate::domain::{PersonId, TeamId};

pub use advice::{Advice, AdviserEntry, Objection};
pub use decision::{Amendment, Decision, Review, Vote, WeighingNote};
pub use enums::{
    AdviceReason, DecisionOutcome, ObjectionState, ProposalStateKind, Resolution, ReviewOutcome,
    Rule, Stance, ValidityTest,
};
pub use inputs::{
    AmendProposalInput, CastVoteInput, DecideInput, GiveAdviceInput, RaiseObjectionInput,
    RaiseProposalInput, RequestAdviceInput, ResolveObjectionInput, ReviewDecisionInput,
    SetAdviceDeadlineInput, WeighingNoteInput, WithdrawProposalInput,
};
pub use mutation::{ProposalMutation, ProposalPayload};
pub use object::Proposal;
pub use trail::TrailEntry;

fn person_of(ctx: &Context<'_>, id: PersonId) -> Option<Person> {
    app(ctx).read.directory().person(id).cloned().map(Person)
}

fn team_of(ctx: &Context<'_>, id: TeamId) -> Option<Team> {
    app(ctx).read.directory().team(id).cloned().map(Team)
}

/// Queries about proposals.
#[derive(Default)]
pub struct ProposalQuery;

#[Object]
impl ProposalQuery {
    /// A proposal, or with `asOf`, exactly as it stood at that time.
    async fn proposal(
        &self,
        ctx: &Context<'_>,
        id: ID,
        as_of: Option<DateTime<Utc>>,
    ) -> GqlResult<Proposal> {
        actor(ctx)?;
        let id = ProposalId::parse(&id).gql()?;
        let loaded = app(ctx).load_proposal(id, as_of).await.gql()?;
        if loaded.projected.state.status == Status::Unraised {
            return Err(not_found("proposal", id));
        }
        let at = as_of.unwrap_or_else(|| app(ctx).clock.now());
        Ok(Proposal::new(loaded, at))
    }
}
