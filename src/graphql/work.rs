//! `myWork`: what waits for the caller now, across their teams and groups.

use async_graphql::connection::{Connection, Edge, OpaqueCursor};
use async_graphql::{Context, Enum, Object};
use chrono::{DateTime, Utc};

use super::connection::{decode_after, page_size};
use super::error::{actor, GqlResult, OrGraphql};
use super::proposal::Proposal;
use super::types::app;

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
        let items = app(ctx).my_work(me, now).await.gql()?;
        let total = items.len();
        let mut connection = Connection::new(skip > 0, total > skip + first);
        connection
            .edges
            .extend(
                items
                    .into_iter()
                    .enumerate()
                    .skip(skip)
                    .take(first)
                    .map(|(i, item)| {
                        Edge::new(
                            OpaqueCursor(i),
                            WorkItem {
                                kind: item.kind.into(),
                                proposal: Proposal::projected(item.proposal, now),
                                due_at: item.due_at,
                            },
                        )
                    }),
            );
        Ok(connection)
    }
}
