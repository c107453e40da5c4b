//! Relay's object identification: the `Node` interface, implemented by
//! `Person`, `Team`, `Group` and `Proposal` (their ids are UUIDs, unique
//! across kinds), and `node(id)` / `nodes(ids)` to find any of them again.

use async_graphql::{Context, Interface, Object, ID};
use uuid::Uuid;

use super::error::{actor, invalid_input, GqlResult};
use super::proposal::Proposal;
use super::types::{app, Group, Person, Team};
use super::views::proposal_by_id;
use crate::domain::proposal::ProposalId;
use crate::domain::{GroupId, PersonId, TeamId};

/// An object with an id that `node(id)` finds again.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Its id, a UUID."))]
// A node lives for one field's resolution; boxing the larger variants would
// only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum Node {
    /// A person.
    Person(Person),
    /// A team.
    Team(Team),
    /// A cross-team group.
    Group(Group),
    /// A proposal.
    Proposal(Proposal),
}

/// The `node` and `nodes` queries.
#[derive(Default)]
pub struct NodeQuery;

/// The most ids one `nodes` call looks up.
pub const MAX_NODES: usize = 100;

#[Object]
impl NodeQuery {
    /// The person, team, group or proposal with this id, as `team(id)`,
    /// `group(id)` or `proposal(id)` would answer it to you; null when there
    /// is none. An id that is not a UUID is `INVALID_INPUT`.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> GqlResult<Option<Node>> {
        actor(ctx)?;
        find(ctx, &id).await
    }

    /// `node(id)` for each id, in order (at most 100), null where there is
    /// none.
    async fn nodes(&self, ctx: &Context<'_>, ids: Vec<ID>) -> GqlResult<Vec<Option<Node>>> {
        actor(ctx)?;
        if ids.len() > MAX_NODES {
            return Err(invalid_input(format!(
                "ask for at most {MAX_NODES} nodes at once"
            )));
        }
        let mut found = Vec::with_capacity(ids.len());
        for id in &ids {
            found.push(find(ctx, id).await?);
        }
        Ok(found)
    }
}

/// Finds a node by id: in the directory (people, teams, groups), else among
/// proposals (loaded through the request's loader).
async fn find(ctx: &Context<'_>, id: &ID) -> GqlResult<Option<Node>> {
    let uuid = Uuid::parse_str(id)
        .map_err(|_| invalid_input(format!("{:?} is not an id (a UUID)", id.as_str())))?;
    let found = {
        let directory = app(ctx).read.directory();
        if let Some(person) = directory.person(PersonId(uuid)) {
            Some(Node::Person(Person(person.clone())))
        } else if let Some(team) = directory.team(TeamId(uuid)) {
            Some(Node::Team(Team(team.clone())))
        } else {
            directory
                .group(GroupId(uuid))
                .map(|group| Node::Group(Group(group.clone())))
        }
    };
    match found {
        Some(node) => Ok(Some(node)),
        None => Ok(proposal_by_id(ctx, ProposalId(uuid))
            .await?
            .map(Node::Proposal)),
    }
}
