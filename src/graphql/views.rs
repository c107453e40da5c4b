//! Lists served from the read-model tables: a team's or group's proposals
//! and decisions, its statistics, my advice requests, decisions due for
//! review. Every page's proposals are loaded in one batch (a DataLoader), so
//! a page never costs a query per row.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, Object, SimpleObject, ID};

use super::connection::{Paged, Paging};
use super::error::{GqlResult, OrGraphql};
use super::proposal::{AdviceReason, Proposal};
use super::types::{app, Person, Team};
use crate::app::proposals::LoadedProposal;
use crate::app::App;
use crate::domain::proposal::{Adviser, Owner, ProposalId};
use crate::projection::projected::{median_seconds, ProjectedProposal};
use crate::projection::rows::{RequestRow, StatsRow};
use crate::store::StoreError;
use crate::window::Window;

/// Loads many proposals from the log in one query.
pub struct ProposalLoader(pub Arc<App>);

impl Loader<ProposalId> for ProposalLoader {
    type Value = LoadedProposal;
    type Error = Arc<StoreError>;

    async fn load(
        &self,
        keys: &[ProposalId],
    ) -> Result<HashMap<ProposalId, LoadedProposal>, Self::Error> {
        let streams: Vec<String> = keys.iter().map(|id| id.stream()).collect();
        let events = self
            .0
            .store
            .read_streams(&streams)
            .await
            .map_err(Arc::new)?;
        let mut by_stream: HashMap<String, Vec<_>> = HashMap::new();
        for event in events {
            by_stream
                .entry(event.stream_id.clone())
                .or_default()
                .push(event);
        }
        let mut loaded = HashMap::new();
        for id in keys {
            if let Some(events) = by_stream.remove(&id.stream()) {
                let proposal = LoadedProposal::from_events(*id, events).map_err(Arc::new)?;
                loaded.insert(*id, proposal);
            }
        }
        Ok(loaded)
    }
}

/// A DataLoader for one request.
pub fn proposal_loader(app: Arc<App>) -> DataLoader<ProposalLoader> {
    DataLoader::new(ProposalLoader(app), tokio::spawn)
}

/// Some proposals loaded from their streams together (one query).
pub async fn proposals_of(
    ctx: &Context<'_>,
    ids: impl Iterator<Item = ProposalId>,
) -> GqlResult<HashMap<ProposalId, LoadedProposal>> {
    let ids: Vec<ProposalId> = ids.collect();
    match ctx.data_opt::<DataLoader<ProposalLoader>>() {
        Some(loader) => loader
            .load_many(ids)
            .await
            .map_err(|e| StoreError::clone(&e))
            .gql(),
        None => proposal_loader(app(ctx).clone())
            .load_many(ids)
            .await
            .map_err(|e| StoreError::clone(&e))
            .gql(),
    }
}

/// One proposal as it stands now, loaded through the request's loader;
/// `None` if there is no such proposal.
pub async fn proposal_by_id(ctx: &Context<'_>, id: ProposalId) -> GqlResult<Option<Proposal>> {
    let now = app(ctx).clock.now();
    Ok(proposals_of(ctx, std::iter::once(id))
        .await?
        .remove(&id)
        .filter(|loaded| loaded.projected.state.status != crate::domain::proposal::Status::Unraised)
        .map(|loaded| Proposal::new(loaded, now)))
}

crate::connection_names!(
    /// Names the due-for-review list's types apart from the other proposal lists.
    DueForReviewConnection,
    DueForReviewEdge
);

/// Decisions due for review, ordered by (review date, raise position).
pub type DueForReview = Paged<(i64, u64), Proposal, DueForReviewConnection, DueForReviewEdge>;

/// The proposals of rows read through a slice's window, keyed by `key`.
fn keyed<K>(
    ctx: &Context<'_>,
    rows: &[ProjectedProposal],
    key: impl Fn(&ProjectedProposal) -> K,
) -> Vec<(K, Proposal)> {
    let now = app(ctx).clock.now();
    rows.iter()
        .map(|row| (key(row), Proposal::projected(row.clone(), now)))
        .collect()
}

/// An owner's proposals, newest first, optionally in one state.
pub async fn owner_proposals(
    ctx: &Context<'_>,
    owner: Owner,
    state: Option<&str>,
    paging: Paging,
) -> GqlResult<Paged<u64, Proposal>> {
    let slice = paging.decode::<u64>()?;
    let rows = app(ctx)
        .projector
        .views()
        .proposals(owner, state, slice.window())
        .await
        .gql()?;
    Ok(slice.connection(keyed(ctx, &rows, |r| r.raised_position)))
}

/// An owner's decisions, newest first.
pub async fn owner_decisions(
    ctx: &Context<'_>,
    owner: Owner,
    paging: Paging,
) -> GqlResult<Paged<u64, Proposal>> {
    let slice = paging.decode::<u64>()?;
    let rows = app(ctx)
        .projector
        .decisions(owner, slice.window())
        .await
        .gql()?;
    Ok(slice.connection(keyed(ctx, &rows, |r| r.decided_position.unwrap_or(0))))
}

/// A due-for-review cursor's key (review date in microseconds, raise
/// position) as the read models compare it.
fn review_key(key: Option<(i64, u64)>) -> GqlResult<Option<(chrono::DateTime<chrono::Utc>, u64)>> {
    key.map(|(micros, position)| {
        chrono::DateTime::from_timestamp_micros(micros)
            .map(|t| (t, position))
            .ok_or_else(|| super::error::invalid_input("not a cursor of this list".into()))
    })
    .transpose()
}

/// Adopted decisions due for review by now, soonest first.
pub async fn due_for_review(
    ctx: &Context<'_>,
    owner: Option<Owner>,
    paging: Paging,
) -> GqlResult<DueForReview> {
    let slice = paging.decode::<(i64, u64)>()?;
    let window = slice.window();
    let window = Window {
        after: review_key(window.after)?,
        before: review_key(window.before)?,
        limit: window.limit,
        from_end: window.from_end,
    };
    let now = app(ctx).clock.now();
    let rows = app(ctx)
        .projector
        .views()
        .due_for_review(now, owner, window)
        .await
        .gql()?;
    Ok(slice.connection(keyed(ctx, &rows, |r| {
        (
            r.state
                .next_review_by()
                .map(|t| t.timestamp_micros())
                .unwrap_or(0),
            r.raised_position,
        )
    })))
}

/// A team's or group's decision statistics.
#[derive(SimpleObject)]
pub struct Stats {
    /// Proposals raised.
    pub proposals_raised: i32,
    /// Decisions made.
    pub decisions_made: i32,
    /// Of which adopted.
    pub adopted: i32,
    /// Median hours from raising a proposal to its decision.
    pub median_hours_to_decision: Option<f64>,
    /// Share of advice requests answered (0 to 1), if any were made.
    pub advice_response_rate: Option<f64>,
    /// Share of decisions whose advice process was followed (0 to 1), if any.
    pub advice_process_followed_share: Option<f64>,
    /// Objections raised.
    pub objections_raised: i32,
    /// Objections integrated by an amendment.
    pub objections_integrated: i32,
}

fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

impl From<StatsRow> for Stats {
    fn from(row: StatsRow) -> Self {
        Stats {
            proposals_raised: super::scalars::count(row.proposals),
            decisions_made: super::scalars::count(row.decisions),
            adopted: super::scalars::count(row.adopted),
            median_hours_to_decision: median_seconds(row.seconds_to_decision).map(|s| s / 3600.0),
            advice_response_rate: share(row.requests_answered, row.requests),
            advice_process_followed_share: share(row.followed, row.decisions),
            objections_raised: super::scalars::count(row.objections_raised),
            objections_integrated: super::scalars::count(row.objections_integrated),
        }
    }
}

/// An owner's statistics.
pub async fn owner_stats(ctx: &Context<'_>, owner: Owner) -> GqlResult<Stats> {
    Ok(app(ctx).projector.views().stats(owner).await.gql()?.into())
}

/// A request for advice waiting for me or one of my teams.
pub struct AdviceRequestItem {
    row: RequestRow,
    proposal: Proposal,
}

#[Object(name = "AdviceRequest")]
impl AdviceRequestItem {
    /// The request's id.
    async fn id(&self) -> ID {
        ID(self.row.request_id.to_string())
    }

    /// The proposal asking.
    async fn proposal(&self) -> &Proposal {
        &self.proposal
    }

    /// The person asked, if a person was.
    async fn person(&self, ctx: &Context<'_>) -> Option<Person> {
        match self.row.adviser {
            Adviser::Person(p) => app(ctx).read.directory().person(p).cloned().map(Person),
            Adviser::Team(_) => None,
        }
    }

    /// The team asked, if a team was.
    async fn team(&self, ctx: &Context<'_>) -> Option<Team> {
        match self.row.adviser {
            Adviser::Team(t) => app(ctx).read.directory().team(t).cloned().map(Team),
            Adviser::Person(_) => None,
        }
    }

    /// Why.
    async fn reason(&self) -> Option<AdviceReason> {
        self.row
            .reason
            .parse::<crate::domain::proposal::AdviceReason>()
            .ok()
            .map(AdviceReason::from)
    }

    /// When it was asked.
    async fn requested_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.row.requested_at
    }
}

/// Open requests for advice from me or any team I am in, oldest first.
pub async fn my_advice_requests(
    ctx: &Context<'_>,
    me: crate::domain::PersonId,
    paging: Paging,
) -> GqlResult<Paged<u64, AdviceRequestItem>> {
    let slice = paging.decode::<u64>()?;
    let mut advisers = vec![me.0];
    advisers.extend(
        app(ctx)
            .read
            .directory()
            .teams_of(me)
            .iter()
            .map(|t| t.id.0),
    );
    let rows = app(ctx)
        .projector
        .views()
        .pending_requests(&advisers, slice.window())
        .await
        .gql()?;
    let loaded = proposals_of(ctx, rows.iter().map(|r| r.proposal)).await?;
    let now = app(ctx).clock.now();
    let items = rows
        .into_iter()
        .filter_map(|row| {
            let proposal = loaded.get(&row.proposal).cloned()?;
            Some((
                row.requested_position,
                AdviceRequestItem {
                    row,
                    proposal: Proposal::new(proposal, now),
                },
            ))
        })
        .collect();
    Ok(slice.connection(items))
}
