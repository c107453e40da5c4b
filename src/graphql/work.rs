//! `myWork`: what waits for the caller now, across their teams and groups.

use async_graphql::{Context, Enum, Object};
use chrono::{DateTime, Utc};

use super::connection::{page, Paged, Paging};
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
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<Paged<usize, WorkItem>> {
        let me = actor(ctx)?.person;
        let paging = Paging::new(first, after, last, before);
        // Checked before the work is gathered, so a bad request costs nothing.
        paging.clone().decode::<usize>()?;
        let now = app(ctx).clock.now();
        let items = app(ctx).my_work(me, now).await.gql()?;
        let items = items
            .into_iter()
            .map(|item| WorkItem {
                kind: item.kind.into(),
                proposal: Proposal::projected(item.proposal, now),
                due_at: item.due_at,
            })
            .enumerate()
            .collect();
        page(items, paging)
    }
}
