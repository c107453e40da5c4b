//! The query root.

use async_graphql::{Context, Object, ID};

use super::connection::{page, Paged, Paging};
use super::error::{actor, not_found, GqlResult, OrGraphql};
use super::types::{app, Group, Person, Team};
use super::views::{self, AdviceRequestItem};
use crate::domain::proposal::Owner;
use crate::domain::{GroupId, TeamId};

/// Queries about the organisation. Everything but `version` needs a token.
#[derive(Default)]
pub struct OrganisationQuery;

#[Object]
impl OrganisationQuery {
    /// The version of advice-log answering this request.
    async fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    /// The person the token belongs to.
    async fn me(&self, ctx: &Context<'_>) -> GqlResult<Person> {
        let me = actor(ctx)?;
        let directory = app(ctx).read.directory();
        directory
            .person(me.person)
            .cloned()
            .map(Person)
            .ok_or_else(|| not_found("person", me.person))
    }

    /// Every team, in the order they were formed.
    async fn teams(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<Paged<u64, Team>> {
        actor(ctx)?;
        let items = app(ctx)
            .read
            .directory()
            .teams()
            .map(|t| (t.formed_position, Team(t.clone())))
            .collect();
        page(items, Paging::new(first, after, last, before))
    }

    /// One team.
    async fn team(&self, ctx: &Context<'_>, id: ID) -> GqlResult<Team> {
        actor(ctx)?;
        let id = TeamId::parse(&id).gql()?;
        app(ctx)
            .read
            .directory()
            .team(id)
            .cloned()
            .map(Team)
            .ok_or_else(|| not_found("team", id))
    }

    /// Every cross-team group, in the order they were formed.
    async fn groups(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<Paged<u64, Group>> {
        actor(ctx)?;
        let items = app(ctx)
            .read
            .directory()
            .groups()
            .map(|g| (g.formed_position, Group(g.clone())))
            .collect();
        page(items, Paging::new(first, after, last, before))
    }

    /// Open requests for advice to me or to any team I am in, oldest first.
    async fn my_advice_requests(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<Paged<u64, AdviceRequestItem>> {
        let me = actor(ctx)?;
        let paging = Paging::new(first, after, last, before);
        views::my_advice_requests(ctx, me.person, paging).await
    }

    /// Adopted decisions whose review date has come, soonest first; all of
    /// them, or one team's or group's.
    // A connection's four paging arguments and the two owner filters.
    #[allow(clippy::too_many_arguments)]
    async fn due_for_review(
        &self,
        ctx: &Context<'_>,
        team_id: Option<ID>,
        group_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<views::DueForReview> {
        actor(ctx)?;
        let owner = match (team_id, group_id) {
            (Some(team), None) => Some(Owner::Team(TeamId::parse(&team).gql()?)),
            (None, Some(group)) => Some(Owner::Group(GroupId::parse(&group).gql()?)),
            (None, None) => None,
            (Some(_), Some(_)) => {
                return Err(super::error::invalid_input(
                    "name a teamId or a groupId, not both".into(),
                ))
            }
        };
        views::due_for_review(ctx, owner, Paging::new(first, after, last, before)).await
    }

    /// One cross-team group.
    async fn group(&self, ctx: &Context<'_>, id: ID) -> GqlResult<Group> {
        actor(ctx)?;
        let id = GroupId::parse(&id).gql()?;
        app(ctx)
            .read
            .directory()
            .group(id)
            .cloned()
            .map(Group)
            .ok_or_else(|| not_found("group", id))
    }
}
