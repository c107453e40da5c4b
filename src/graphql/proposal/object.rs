//! The `Proposal` object: its fields, and how it is built from its stream
//! or from the read models.

use async_graphql::{Context, Object, ID};
use chrono::{DateTime, Utc};

use super::advice::{Advice, AdviserEntry, Objection};
use super::decision::{Amendment, Decision, Review, Vote};
use super::enums::{ProposalStateKind, Rule};
use super::trail::TrailEntry;
use super::{person_of, team_of};
use crate::app::proposals::LoadedProposal;
use crate::domain::metadata::Metadata;
use crate::domain::proposal::{self, ProposalId, ProposalState, Status};
use crate::domain::PersonId;
use crate::graphql::connection::{page, Paged, Paging};
use crate::graphql::error::GqlResult;
use crate::graphql::types::{app, Person, Team};
use crate::projection::projected::ProjectedProposal;
use crate::store::RecordedEvent;

/// A proposal, as it stands or as it stood at `asOf`: loaded from its
/// stream, or from the read models (then its trail is read when asked for).
#[derive(Clone)]
pub struct Proposal {
    id: ProposalId,
    state: ProposalState,
    decided_by: Option<PersonId>,
    reviewed_by: Vec<Option<PersonId>>,
    events: Option<Vec<(RecordedEvent, Metadata)>>,
    at: DateTime<Utc>,
}

impl Proposal {
    /// A proposal as loaded from its stream, judged for compliance at `at`.
    pub fn new(loaded: LoadedProposal, at: DateTime<Utc>) -> Self {
        Proposal {
            events: Some(loaded.events.into_iter().zip(loaded.metadata).collect()),
            ..Self::projected(loaded.projected, at)
        }
    }

    /// A proposal as the read models keep it, judged for compliance at `at`.
    pub fn projected(projected: ProjectedProposal, at: DateTime<Utc>) -> Self {
        Proposal {
            id: projected.id,
            state: projected.state,
            decided_by: projected.decided_by,
            reviewed_by: projected.reviewed_by,
            events: None,
            at,
        }
    }
}

/// The items of a list that only grows, keyed by their index in it.
fn indexed<S, T>(list: &[S], item: impl Fn(&S) -> T) -> Vec<(usize, T)> {
    list.iter().map(item).enumerate().collect()
}

#[Object]
impl Proposal {
    /// Its id.
    pub(crate) async fn id(&self) -> ID {
        ID(self.id.to_string())
    }

    /// Its title.
    async fn title(&self) -> &str {
        &self.state.title
    }

    /// The current body.
    async fn body(&self) -> &str {
        self.state.body()
    }

    /// The body as first raised.
    async fn original_body(&self) -> &str {
        &self.state.original_body
    }

    /// The body's version: 1, plus one per amendment.
    async fn version(&self) -> i32 {
        crate::graphql::scalars::count(self.state.version())
    }

    /// `OPEN`, `DECIDED` or `WITHDRAWN`.
    async fn state(&self) -> ProposalStateKind {
        match self.state.status {
            Status::Decided => ProposalStateKind::Decided,
            Status::Withdrawn => ProposalStateKind::Withdrawn,
            Status::Open | Status::Unraised => ProposalStateKind::Open,
        }
    }

    /// Its decision rule.
    async fn rule(&self) -> Option<Rule> {
        self.state.rule.map(Rule::from)
    }

    /// For `THRESHOLD`: the share of eligible members that must agree.
    async fn threshold(&self) -> Option<f64> {
        self.state.threshold_bp.map(|bp| f64::from(bp) / 10_000.0)
    }

    /// How many members were eligible when it was raised (coaches excluded).
    async fn eligible_members(&self) -> i32 {
        crate::graphql::scalars::count(self.state.eligible.len())
    }

    /// The team it belongs to.
    async fn team(&self, ctx: &Context<'_>) -> Option<Team> {
        match self.state.owner {
            Some(proposal::Owner::Team(team)) => team_of(ctx, team),
            _ => None,
        }
    }

    /// The cross-team group it belongs to.
    async fn group(&self, ctx: &Context<'_>) -> Option<crate::graphql::types::Group> {
        match self.state.owner {
            Some(proposal::Owner::Group(group)) => app(ctx)
                .read
                .directory()
                .group(group)
                .cloned()
                .map(crate::graphql::types::Group),
            _ => None,
        }
    }

    /// Who raised it.
    async fn proposer(&self, ctx: &Context<'_>) -> Option<Person> {
        self.state.proposer.and_then(|p| person_of(ctx, p))
    }

    /// Who records the decision.
    async fn decider(&self, ctx: &Context<'_>) -> Option<Person> {
        self.state.decider.and_then(|p| person_of(ctx, p))
    }

    /// When it was raised.
    async fn raised_at(&self) -> Option<DateTime<Utc>> {
        self.state.raised_at
    }

    /// The advice deadline.
    async fn advice_deadline(&self) -> Option<DateTime<Utc>> {
        self.state.advice_deadline
    }

    /// The decision area.
    async fn area(&self) -> Option<&str> {
        self.state.area.as_deref()
    }

    /// Spend against the owner group's budget, in minor units.
    async fn spend(&self) -> Option<crate::graphql::scalars::Money> {
        self.state.spend.map(Into::into)
    }

    /// When the decision is next due for review.
    async fn review_by(&self) -> Option<DateTime<Utc>> {
        self.state.next_review_by()
    }

    /// Who was asked for advice, why, and whether they answered, in the
    /// order they were asked.
    async fn advisers(
        &self,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<Paged<usize, AdviserEntry>> {
        let items = indexed(&self.state.requests, |r| AdviserEntry(r.clone()));
        page(items, Paging::new(first, after, last, before))
    }

    /// Every piece of advice, in order.
    async fn advice(
        &self,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<Paged<usize, Advice>> {
        let items = indexed(&self.state.advice, |a| Advice(a.clone()));
        page(items, Paging::new(first, after, last, before))
    }

    /// Every objection, in order.
    async fn objections(
        &self,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<Paged<usize, Objection>> {
        let items = indexed(&self.state.objections, |o| Objection(o.clone()));
        page(items, Paging::new(first, after, last, before))
    }

    /// Every amendment, in order (the original body is `originalBody`).
    async fn amendments(
        &self,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<Paged<usize, Amendment>> {
        let items = indexed(&self.state.amendments, |a| Amendment {
            version: crate::graphql::scalars::count(a.version),
            body: a.body.clone(),
            reason: a.reason.clone(),
            at: a.at,
        });
        page(items, Paging::new(first, after, last, before))
    }

    /// Each voter's latest vote, in the order they first voted.
    async fn votes(
        &self,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<Paged<usize, Vote>> {
        let items = indexed(&self.state.votes, |v| Vote(v.clone()));
        page(items, Paging::new(first, after, last, before))
    }

    /// The decision, once made.
    async fn decision(&self) -> Option<Decision> {
        let record = self.state.decision.clone()?;
        let by = self.decided_by;
        let missing = self
            .state
            .requests
            .iter()
            .filter(|r| record.missing_advisers.contains(&r.id))
            .cloned()
            .map(AdviserEntry)
            .collect();
        Some(Decision {
            record,
            by,
            missing,
        })
    }

    /// Why it was withdrawn, if it was.
    async fn withdrawn_reason(&self) -> Option<&str> {
        self.state.withdrawn_reason.as_deref()
    }

    /// Reviews of the decision, in order.
    async fn reviews(
        &self,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<Paged<usize, Review>> {
        let items = self
            .state
            .reviews
            .iter()
            .cloned()
            .zip(self.reviewed_by.iter().copied())
            .map(|(review, by)| Review { review, by })
            .enumerate()
            .collect();
        page(items, Paging::new(first, after, last, before))
    }

    /// Whether a review revoked the decision (it stays in the record).
    async fn revoked(&self) -> bool {
        self.state.revoked()
    }

    /// Every event of the proposal, in order, with actor, role, time and
    /// reason: a list, not paged (the whole record, as audits read it).
    async fn trail(&self, ctx: &Context<'_>) -> GqlResult<Vec<TrailEntry>> {
        let events = match &self.events {
            Some(events) => events.clone(),
            None => crate::graphql::views::proposals_of(ctx, std::iter::once(self.id))
                .await?
                .remove(&self.id)
                .map(|loaded| loaded.events.into_iter().zip(loaded.metadata).collect())
                .unwrap_or_default(),
        };
        Ok(events
            .into_iter()
            .map(|(event, metadata)| TrailEntry(event, metadata))
            .collect())
    }

    /// Whether the process was (or is being) followed, check by check.
    async fn compliance(&self, ctx: &Context<'_>) -> crate::graphql::verdict::Compliance {
        crate::graphql::verdict::Compliance::of(ctx, &self.state, self.at)
    }

    /// The adopted decision this proposal would replace (same owner).
    async fn supersedes(&self, ctx: &Context<'_>) -> GqlResult<Option<Proposal>> {
        match self.state.supersedes {
            Some(id) => crate::graphql::views::proposal_by_id(ctx, id).await,
            None => Ok(None),
        }
    }

    /// The later decision that replaced this one, if any.
    async fn superseded_by(&self, ctx: &Context<'_>) -> GqlResult<Option<Proposal>> {
        match self.state.superseded_by {
            Some(id) => crate::graphql::views::proposal_by_id(ctx, id).await,
            None => Ok(None),
        }
    }
}
