//! `myWork`: what waits for the caller now, across their teams and groups.

use std::collections::{BTreeSet, HashMap, HashSet};

use async_graphql::connection::{Connection, Edge, OpaqueCursor};
use async_graphql::{Context, Enum, Object};
use chrono::{DateTime, Utc};

use super::connection::{decode_after, page_size};
use super::error::{actor, GqlResult, OrGraphql};
use super::proposal::Proposal;
use super::types::app;
use super::views::proposals_of;
use crate::domain::proposal::work::{work_for, Worker};
use crate::domain::proposal::{Owner, ProposalId, ProposalState};
use crate::domain::{PersonId, TeamId, TeamRole};
use crate::projection::rows::Page;

/// How many open proposals, reviews and requests of each kind one `myWork`
/// reads at most.
const CANDIDATES: u32 = 500;

/// A kind of work.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::proposal::work::WorkKind")]
pub enum WorkKind {
    /// Advice asked of you (or a team you are in), with time left to answer.
    GiveAdvice,
    /// A vote (threshold) or your consent (consent) not given yet.
    CastVote,
    /// Your objection, after an amendment: confirm it integrated, or withdraw it.
    ConfirmObjection,
    /// A decision you are to record.
    RecordDecision,
    /// An adopted decision due for review.
    ReviewDecision,
}

/// One thing waiting for you.
pub struct WorkItem {
    kind: WorkKind,
    proposal: Proposal,
    due_at: Option<DateTime<Utc>>,
}

#[Object]
impl WorkItem {
    /// What is asked.
    async fn kind(&self) -> WorkKind {
        self.kind
    }

    /// The proposal it is about.
    async fn proposal(&self) -> &Proposal {
        &self.proposal
    }

    /// By when, if there is a time.
    async fn due_at(&self) -> Option<DateTime<Utc>> {
        self.due_at
    }
}

/// The `myWork` query.
#[derive(Default)]
pub struct WorkQuery;

#[Object]
impl WorkQuery {
    /// What waits for you now, soonest due first (items with no time last):
    /// advice to give while there is time, votes or consent to give,
    /// objections to confirm after an amendment, decisions to record, and
    /// decisions due for review.
    async fn my_work(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Connection<OpaqueCursor<usize>, WorkItem>> {
        let me = actor(ctx)?.person;
        let first = page_size(first)?;
        let skip = decode_after::<usize>(after)?.map_or(0, |last| last + 1);
        let now = app(ctx).clock.now();
        let (teams, owners) = where_i_am(ctx, me);
        let candidates = candidates(ctx, me, &teams, &owners, now).await?;
        let mut items: Vec<(Option<DateTime<Utc>>, u8, u64, WorkItem)> = Vec::new();
        for (state, raised, proposal) in candidates.into_values() {
            let worker = Worker {
                person: me,
                teams: &teams,
                member_of_owner: state.owner.is_some_and(|o| owners.contains(&o)),
            };
            for item in work_for(&state, &worker, now) {
                items.push((
                    item.due_at,
                    item.kind as u8,
                    raised,
                    WorkItem {
                        kind: item.kind.into(),
                        proposal: proposal.clone(),
                        due_at: item.due_at,
                    },
                ));
            }
        }
        // Soonest first; no time last; then by kind and by when raised.
        items.sort_by_key(|(due, kind, raised, _)| (due.is_none(), *due, *kind, *raised));
        let total = items.len();
        let mut connection = Connection::new(skip > 0, total > skip + first);
        connection.edges.extend(
            items
                .into_iter()
                .enumerate()
                .skip(skip)
                .take(first)
                .map(|(i, (_, _, _, item))| Edge::new(OpaqueCursor(i), item)),
        );
        Ok(connection)
    }
}

/// The teams the person is in (any role), and the owners whose `MEMBER`
/// they are: their teams as a member, and groups they represent a team in.
fn where_i_am(ctx: &Context<'_>, me: PersonId) -> (BTreeSet<TeamId>, HashSet<Owner>) {
    let directory = app(ctx).read.directory();
    let mut teams = BTreeSet::new();
    let mut owners = HashSet::new();
    for team in directory.teams_of(me) {
        teams.insert(team.id);
        if team.role_of(me) == Some(TeamRole::Member) {
            owners.insert(Owner::Team(team.id));
        }
    }
    for group in directory.groups() {
        let represents = group.representatives.iter().any(|r| {
            r.person == me
                && group.teams.contains(&r.team)
                && directory.team(r.team).and_then(|t| t.role_of(me)) == Some(TeamRole::Member)
        });
        if represents {
            owners.insert(Owner::Group(group.id));
        }
    }
    (teams, owners)
}

/// The proposals that may ask something of the person: the open ones and
/// those due for review of their owners, and those with requests for them.
async fn candidates(
    ctx: &Context<'_>,
    me: PersonId,
    teams: &BTreeSet<TeamId>,
    owners: &HashSet<Owner>,
    now: DateTime<Utc>,
) -> GqlResult<HashMap<ProposalId, (ProposalState, u64, Proposal)>> {
    let views = app(ctx).projector.views().clone();
    let page = Page {
        after: None,
        limit: CANDIDATES,
    };
    let mut found = HashMap::new();
    for owner in owners {
        for row in views.proposals(*owner, Some("OPEN"), page).await.gql()? {
            found.insert(
                row.id,
                (
                    row.state.clone(),
                    row.raised_position,
                    Proposal::projected(row, now),
                ),
            );
        }
        let due = Page {
            after: None,
            limit: CANDIDATES,
        };
        for row in views.due_for_review(now, Some(*owner), due).await.gql()? {
            found.insert(
                row.id,
                (
                    row.state.clone(),
                    row.raised_position,
                    Proposal::projected(row, now),
                ),
            );
        }
    }
    let advisers: Vec<uuid::Uuid> = std::iter::once(me.0)
        .chain(teams.iter().map(|t| t.0))
        .collect();
    let requests = views.pending_requests(&advisers, page).await.gql()?;
    let missing: Vec<ProposalId> = requests
        .iter()
        .map(|r| r.proposal)
        .filter(|id| !found.contains_key(id))
        .collect();
    let positions: HashMap<ProposalId, u64> = requests
        .iter()
        .map(|r| (r.proposal, r.requested_position))
        .collect();
    for (id, loaded) in proposals_of(ctx, missing.into_iter()).await? {
        let position = positions.get(&id).copied().unwrap_or(0);
        found.insert(
            id,
            (
                loaded.projected.state.clone(),
                position,
                Proposal::new(loaded, now),
            ),
        );
    }
    Ok(found)
}
