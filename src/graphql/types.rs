//! The organisation's GraphQL types: people, teams, memberships, groups.

use std::sync::Arc;

use async_graphql::{Context, Enum, Object, ID};
use chrono::{DateTime, Utc};

use async_graphql::connection::{Connection, OpaqueCursor};

use super::error::{actor, forbidden, GqlResult, OrGraphql};
use super::proposal::{Proposal, ProposalStateKind};
use super::scalars::{Money, Position};
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
    async fn id(&self) -> ID {
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

    /// The teams they are in now, with their role in each.
    async fn teams(&self, ctx: &Context<'_>) -> Vec<Membership> {
        let directory = app(ctx).read.directory();
        directory
            .teams_of(self.0.id)
            .into_iter()
            .flat_map(|team| {
                team.current_members()
                    .filter(|m| m.person == self.0.id)
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .map(Membership)
            .collect()
    }
}

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
    async fn id(&self) -> ID {
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

    /// Its members and coaches. With `includeFormer`, also every earlier
    /// spell of people who left (history is never overwritten).
    async fn members(&self, #[graphql(default = false)] include_former: bool) -> Vec<Membership> {
        self.0
            .memberships
            .iter()
            .filter(|m| include_former || m.left_at.is_none())
            .cloned()
            .map(Membership)
            .collect()
    }

    /// The team's proposals, newest first, optionally only those in `state`.
    async fn proposals(
        &self,
        ctx: &Context<'_>,
        state: Option<ProposalStateKind>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Connection<OpaqueCursor<u64>, Proposal>> {
        views::owner_proposals(
            ctx,
            Owner::Team(self.0.id),
            state.map(ProposalStateKind::as_str),
            first,
            after,
        )
        .await
    }

    /// The team's decisions, most recent first.
    async fn decisions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Connection<OpaqueCursor<u64>, Proposal>> {
        views::owner_decisions(ctx, Owner::Team(self.0.id), first, after).await
    }

    /// How the team decides, in numbers.
    async fn stats(&self, ctx: &Context<'_>) -> GqlResult<views::Stats> {
        views::owner_stats(ctx, Owner::Team(self.0.id)).await
    }

    /// The cross-team groups this team belongs to.
    async fn groups(&self, ctx: &Context<'_>) -> Vec<Group> {
        let directory = app(ctx).read.directory();
        directory
            .groups_of(self.0.id)
            .into_iter()
            .cloned()
            .map(Group)
            .collect()
    }
}

/// A cross-team group of representatives with a delegated mandate.
pub struct Group(pub GroupView);

#[Object]
impl Group {
    /// Its id.
    async fn id(&self) -> ID {
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

    /// Its member teams.
    async fn teams(&self, ctx: &Context<'_>) -> Vec<Team> {
        let directory = app(ctx).read.directory();
        self.0
            .teams
            .iter()
            .filter_map(|id| directory.team(*id).cloned())
            .map(Team)
            .collect()
    }

    /// The group's proposals, newest first, optionally only those in `state`.
    async fn proposals(
        &self,
        ctx: &Context<'_>,
        state: Option<ProposalStateKind>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Connection<OpaqueCursor<u64>, Proposal>> {
        views::owner_proposals(
            ctx,
            Owner::Group(self.0.id),
            state.map(ProposalStateKind::as_str),
            first,
            after,
        )
        .await
    }

    /// The group's decisions, most recent first.
    async fn decisions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Connection<OpaqueCursor<u64>, Proposal>> {
        views::owner_decisions(ctx, Owner::Group(self.0.id), first, after).await
    }

    /// How the group decides, in numbers.
    async fn stats(&self, ctx: &Context<'_>) -> GqlResult<views::Stats> {
        views::owner_stats(ctx, Owner::Group(self.0.id)).await
    }

    /// Its delegated budget: allocations, commitments, and the ledger.
    async fn budget(&self, ctx: &Context<'_>) -> GqlResult<Budget> {
        let (state, events) = app(ctx).load_budget(self.0.id).await.gql()?;
        Ok(Budget { state, events })
    }

    /// The decision areas its member teams delegated to it.
    async fn mandate(&self) -> &[String] {
        &self.0.mandate
    }

    /// Its current representatives: delegated by a member team and still a
    /// `MEMBER` of that team.
    async fn representatives(&self, ctx: &Context<'_>) -> Vec<Representative> {
        let directory = app(ctx).read.directory();
        self.0
            .representatives
            .iter()
            .filter(|r| {
                self.0.teams.contains(&r.team)
                    && directory.team(r.team).and_then(|t| t.role_of(r.person))
                        == Some(crate::domain::TeamRole::Member)
            })
            .cloned()
            .map(Representative)
            .collect()
    }
}

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

/// A group's budget.
pub struct Budget {
    state: crate::domain::budget::BudgetState,
    events: Vec<crate::app::organisation::LedgerEntry>,
}

#[Object]
impl Budget {
    /// Everything allocated, adjustments included (minor units).
    async fn allocated(&self) -> Money {
        Money(self.state.allocated)
    }

    /// Spend committed by adopted decisions and not released.
    async fn committed(&self) -> Money {
        Money(self.state.committed)
    }

    /// What is left to commit: allocated minus committed, never negative.
    async fn remaining(&self) -> Money {
        Money(self.state.remaining())
    }

    /// The ledger, oldest first: each allocation, commitment and release.
    async fn entries(&self) -> Vec<BudgetEntry> {
        self.events.iter().cloned().map(BudgetEntry).collect()
    }
}

/// What a ledger entry records.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum BudgetEntryKind {
    /// Money allocated (or, negative, taken back) by an admin.
    Allocation,
    /// Spend committed by an adopted decision.
    Commitment,
    /// A commitment released by revoking its decision.
    Release,
}

/// One entry of a group's budget ledger.
pub struct BudgetEntry(crate::app::organisation::LedgerEntry);

#[Object]
impl BudgetEntry {
    /// Its log position.
    async fn position(&self) -> Position {
        Position(self.0.stored.position)
    }

    /// Allocation, commitment or release.
    async fn kind(&self) -> Option<BudgetEntryKind> {
        use crate::domain::budget::BudgetEvent as E;
        Some(match self.0.event {
            E::BudgetAllocated { .. } => BudgetEntryKind::Allocation,
            E::SpendCommitted { .. } => BudgetEntryKind::Commitment,
            E::SpendReleased { .. } => BudgetEntryKind::Release,
        })
    }

    /// Its effect on the remaining budget, in minor units (a commitment is negative).
    async fn amount(&self) -> Money {
        use crate::domain::budget::BudgetEvent as E;
        Money(match self.0.event {
            E::BudgetAllocated { amount, .. } | E::SpendReleased { amount, .. } => amount,
            E::SpendCommitted { amount, .. } => -amount,
        })
    }

    /// The period label of an allocation.
    async fn period(&self) -> Option<&str> {
        match &self.0.event {
            crate::domain::budget::BudgetEvent::BudgetAllocated { period, .. } => period.as_deref(),
            _ => None,
        }
    }

    /// Why, where given.
    async fn reason(&self) -> Option<&str> {
        self.0.metadata.reason.as_deref()
    }

    /// The decision that committed or released the spend.
    async fn proposal(&self, ctx: &Context<'_>) -> GqlResult<Option<super::proposal::Proposal>> {
        use crate::domain::budget::BudgetEvent as E;
        let id = match self.0.event {
            E::SpendCommitted { proposal_id, .. } | E::SpendReleased { proposal_id, .. } => {
                proposal_id
            }
            E::BudgetAllocated { .. } => return Ok(None),
        };
        let loaded = app(ctx).load_proposal(id, None).await.gql()?;
        Ok(Some(super::proposal::Proposal::new(
            loaded,
            app(ctx).clock.now(),
        )))
    }

    /// Who caused it.
    async fn by(&self, ctx: &Context<'_>) -> Option<Person> {
        let id = self.0.metadata.actor?;
        app(ctx).read.directory().person(id).cloned().map(Person)
    }

    /// When.
    async fn at(&self) -> DateTime<Utc> {
        self.0.stored.recorded_at
    }
}
