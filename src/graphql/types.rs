//! The organisation's GraphQL types: people, teams, memberships, groups.

use std::sync::Arc;

use async_graphql::{Context, Enum, Object, ID};
use chrono::{DateTime, Utc};

use super::connection::{page, Paged, Paging};

use super::budget::Budget;
use super::error::{actor, forbidden, GqlResult, OrGraphql};
use super::proposal::{Proposal, ProposalStateKind};
use super::views;
use crate::app::App;
use crate::domain::proposal::Owner;
use crate::read::directory::{GroupView, MembershipView, PersonView, RepresentativeView, TeamView};

/// A person's role in the organisation as a whole.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::OrgRole")]
pub enum OrgRole {
    /// Shapes the organisation: people, teams, groups, budgets.
    Admin,
    /// Reads everything, writes nothing.
    Auditor,
}

/// A person's role in a team.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::TeamRole")]
pub enum TeamRole {
    /// Counts toward the team's decisions.
    Member,
    /// Advises and facilitates; never proposes, votes or decides.
    Coach,
}

pub(crate) fn app<'a>(ctx: &Context<'a>) -> &'a Arc<App> {
    ctx.data_unchecked::<Arc<App>>()
}

/// Someone with an account.
pub struct Person(pub PersonView);

#[Object]
impl Person {
    /// Their id.
    pub(crate) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Their name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Their e-mail address: shown to admins, auditors and the person
    /// themselves; anyone else gets `FORBIDDEN`.
    async fn email(&self, ctx: &Context<'_>) -> GqlResult<Option<&str>> {
        let viewer = actor(ctx)?;
        if viewer.is_admin() || viewer.is_auditor() || viewer.person == self.0.id {
            Ok(Some(&self.0.email))
        } else {
            Err(forbidden(
                "e-mail addresses are shown only to admins, auditors and the person themselves",
            ))
        }
    }

    /// How often they hear by e-mail: shown to the person themselves, admins
    /// and auditors; anyone else gets `FORBIDDEN`.
    async fn notification_preference(
        &self,
        ctx: &Context<'_>,
    ) -> GqlResult<super::notifications::NotificationFrequency> {
        let viewer = actor(ctx)?;
        if viewer.is_admin() || viewer.is_auditor() || viewer.person == self.0.id {
            Ok(self.0.frequency.into())
        } else {
            Err(forbidden(
                "how someone hears from advice-log is shown only to admins, auditors and the person themselves",
            ))
        }
    }

    /// Their organisation role, if any.
    async fn org_role(&self) -> Option<OrgRole> {
        self.0.org_role.map(OrgRole::from)
    }

    /// When they were registered.
    async fn registered_at(&self) -> DateTime<Utc> {
        self.0.registered_at
    }

    /// The identities at the organisation's identity provider that sign
    /// them in (a handful at most, so a plain list), in the order linked:
    /// shown to admins, auditors and the person themselves; anyone else
    /// gets `FORBIDDEN`.
    async fn identities(&self, ctx: &Context<'_>) -> GqlResult<Vec<super::identity::Identity>> {
        super::identity::identities_of(ctx, &self.0)
    }

    /// Whether they were marked as left: nothing signs them in any more.
    async fn left(&self) -> bool {
        self.0.left()
    }

    /// When they were marked as left, if they were.
    async fn left_at(&self) -> Option<DateTime<Utc>> {
        self.0.left_at
    }

    /// Whether their personal data was erased (`erasePerson`): their name
    /// reads as "Erased person" and their e-mail as empty.
    async fn erased(&self) -> bool {
        self.0.erased_at.is_some()
    }

    /// When their personal data was erased, if it was.
    async fn erased_at(&self) -> Option<DateTime<Utc>> {
        self.0.erased_at
    }

    /// The teams they are in now, with their role in each, in the order
    /// the teams were formed.
    async fn teams(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<PersonTeams> {
        let directory = app(ctx).read.directory();
        let items = directory
            .teams_of(self.0.id)
            .into_iter()
            .flat_map(|team| {
                team.memberships
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| m.person == self.0.id && m.left_at.is_none())
                    .map(|(i, m)| ((team.formed_position, i), Membership(m.clone())))
                    .collect::<Vec<_>>()
            })
            .collect();
        page(items, Paging::new(first, after, last, before))
    }
}

/// A membership's place in a person's list of teams, stable while they join
/// and leave others: the position of the team's founding event, and the
/// spell's place among the team's memberships (as in `Team.members`).
type MembershipKey = (u64, usize);

/// A person's teams: memberships, named apart from `Team.members`.
type PersonTeams = Paged<MembershipKey, Membership, PersonTeamConnection, PersonTeamEdge>;

crate::connection_names!(
    /// Names a person's list of teams apart from a team's list of members.
    PersonTeamConnection,
    PersonTeamEdge
);

/// One spell of a person in a team.
pub struct Membership(pub MembershipView);

#[Object]
impl Membership {
    /// The person.
    async fn person(&self, ctx: &Context<'_>) -> Option<Person> {
        app(ctx)
            .read
            .directory()
            .person(self.0.person)
            .cloned()
            .map(Person)
    }

    /// The team.
    async fn team(&self, ctx: &Context<'_>) -> Option<Team> {
        app(ctx)
            .read
            .directory()
            .team(self.0.team)
            .cloned()
            .map(Team)
    }

    /// Their role in this spell.
    async fn role(&self) -> TeamRole {
        self.0.role.into()
    }

    /// When they joined.
    async fn joined_at(&self) -> DateTime<Utc> {
        self.0.joined_at
    }

    /// When they left, if they did.
    async fn left_at(&self) -> Option<DateTime<Utc>> {
        self.0.left_at
    }
}

/// A team.
pub struct Team(pub TeamView);

#[Object]
impl Team {
    /// Its id.
    pub(crate) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The shortest fair time to answer its requests for advice, in hours.
    async fn advice_window_hours(&self) -> i32 {
        super::scalars::count(
            self.0
                .advice_window_hours
                .unwrap_or(crate::domain::proposal::rules::MIN_WINDOW_HOURS),
        )
    }

    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// When it was formed.
    async fn formed_at(&self) -> DateTime<Utc> {
        self.0.formed_at
    }

    /// Its members and coaches, in the order they joined. With
    /// `includeFormer`, also every earlier spell of people who left (history
    /// is never overwritten).
    async fn members(
        &self,
        #[graphql(default = false)] include_former: bool,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<Paged<usize, Membership>> {
        let items = self
            .0
            .memberships
            .iter()
            .enumerate()
            .filter(|(_, m)| include_former || m.left_at.is_none())
            .map(|(i, m)| (i, Membership(m.clone())))
            .collect();
        page(items, Paging::new(first, after, last, before))
    }

    /// The team's proposals, newest first, optionally only those in `state`.
    async fn proposals(
        &self,
        ctx: &Context<'_>,
        state: Option<ProposalStateKind>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<Paged<u64, Proposal>> {
        views::owner_proposals(
            ctx,
            Owner::Team(self.0.id),
            state.map(ProposalStateKind::as_str),
            Paging::new(first, after, last, before),
        )
        .await
    }

    /// The team's decisions, most recent first.
    async fn decisions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<Paged<u64, Proposal>> {
        let paging = Paging::new(first, after, last, before);
        views::owner_decisions(ctx, Owner::Team(self.0.id), paging).await
    }

    /// How the team decides, in numbers.
    async fn stats(&self, ctx: &Context<'_>) -> GqlResult<views::Stats> {
        views::owner_stats(ctx, Owner::Team(self.0.id)).await
    }

    /// The cross-team groups this team belongs to, in the order they were
    /// formed.
    async fn groups(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<Paged<u64, Group>> {
        let directory = app(ctx).read.directory();
        let items = directory
            .groups_of(self.0.id)
            .into_iter()
            .map(|g| (g.formed_position, Group(g.clone())))
            .collect();
        page(items, Paging::new(first, after, last, before))
    }
}

/// A cross-team group of representatives with a delegated mandate.
pub struct Group(pub GroupView);

#[Object]
impl Group {
    /// Its id.
    pub(crate) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The shortest fair time to answer its requests for advice, in hours.
    async fn advice_window_hours(&self) -> i32 {
        super::scalars::count(
            self.0
                .advice_window_hours
                .unwrap_or(crate::domain::proposal::rules::MIN_WINDOW_HOURS),
        )
    }

    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// When it was formed.
    async fn formed_at(&self) -> DateTime<Utc> {
        self.0.formed_at
    }

    /// Its member teams, in the order they joined.
    async fn teams(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<GroupTeams> {
        let directory = app(ctx).read.directory();
        let mut items: Vec<_> = self
            .0
            .teams
            .iter()
            .filter_map(|id| {
                let key = self.0.team_places.get(id)?;
                Some((*key, Team(directory.team(*id)?.clone())))
            })
            .collect();
        items.sort_by_key(|(key, _)| *key);
        page(items, Paging::new(first, after, last, before))
    }

    /// The group's proposals, newest first, optionally only those in `state`.
    async fn proposals(
        &self,
        ctx: &Context<'_>,
        state: Option<ProposalStateKind>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<Paged<u64, Proposal>> {
        views::owner_proposals(
            ctx,
            Owner::Group(self.0.id),
            state.map(ProposalStateKind::as_str),
            Paging::new(first, after, last, before),
        )
        .await
    }

    /// The group's decisions, most recent first.
    async fn decisions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<Paged<u64, Proposal>> {
        let paging = Paging::new(first, after, last, before);
        views::owner_decisions(ctx, Owner::Group(self.0.id), paging).await
    }

    /// How the group decides, in numbers.
    async fn stats(&self, ctx: &Context<'_>) -> GqlResult<views::Stats> {
        views::owner_stats(ctx, Owner::Group(self.0.id)).await
    }

    /// Its delegated budget: allocations, commitments, and the ledger.
    async fn budget(&self, ctx: &Context<'_>) -> GqlResult<Budget> {
        let (state, events) = app(ctx).load_budget(self.0.id).await.gql()?;
        Ok(Budget::new(state, events))
    }

    /// The decision areas its member teams delegated to it.
    async fn mandate(&self) -> &[String] {
        &self.0.mandate
    }

    /// Its current representatives, in the order they were delegated:
    /// delegated by a member team and still a `MEMBER` of that team.
    async fn representatives(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<Paged<RepresentativeKey, Representative>> {
        let directory = app(ctx).read.directory();
        let mut items: Vec<_> = self
            .0
            .representatives
            .iter()
            .filter(|r| {
                self.0.teams.contains(&r.team)
                    && directory.team(r.team).and_then(|t| t.role_of(r.person))
                        == Some(crate::domain::TeamRole::Member)
            })
            .map(|r| {
                let key = (r.since.timestamp_micros(), r.team.0, r.person.0);
                (key, Representative(r.clone()))
            })
            .collect();
        items.sort_by_key(|(key, _)| *key);
        page(items, Paging::new(first, after, last, before))
    }
}

/// A member team's place in its group's list, stable while others join
/// and leave: the position of the event it joined by, and its place among
/// the teams that event names.
type GroupTeamKey = (u64, u32);

/// A group's member teams, named apart from the list of every team.
type GroupTeams = Paged<GroupTeamKey, Team, GroupTeamConnection, GroupTeamEdge>;

crate::connection_names!(
    /// Names a group's list of member teams apart from the list of every team.
    GroupTeamConnection,
    GroupTeamEdge
);

/// A representative's place in its group's list, stable while others come
/// and go: when delegated (microseconds), the team, the person.
type RepresentativeKey = (i64, uuid::Uuid, uuid::Uuid);

/// A person delegated by a team to a group.
pub struct Representative(pub RepresentativeView);

#[Object]
impl Representative {
    /// The person.
    async fn person(&self, ctx: &Context<'_>) -> Option<Person> {
        app(ctx)
            .read
            .directory()
            .person(self.0.person)
            .cloned()
            .map(Person)
    }

    /// The team they represent.
    async fn team(&self, ctx: &Context<'_>) -> Option<Team> {
        app(ctx)
            .read
            .directory()
            .team(self.0.team)
            .cloned()
            .map(Team)
    }

    /// When they were delegated.
    async fn since(&self) -> DateTime<Utc> {
        self.0.since
    }
}
