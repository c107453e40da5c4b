//! A group's budget in GraphQL: its totals and its ledger, a connection of
//! entries (allocations, commitments, releases).

use async_graphql::{Context, Enum, Object};
use chrono::{DateTime, Utc};

use super::connection::{page, Paged, Paging};
use super::error::{GqlResult, OrGraphql};
use super::scalars::{Money, Position};
use super::types::{app, Person};

/// A group's budget.
pub struct Budget {
    state: crate::domain::budget::BudgetState,
    events: Vec<crate::app::organisation::LedgerEntry>,
}

impl Budget {
    /// A budget as it stands, with its ledger oldest first.
    pub fn new(
        state: crate::domain::budget::BudgetState,
        events: Vec<crate::app::organisation::LedgerEntry>,
    ) -> Self {
        Budget { state, events }
    }
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
    async fn entries(
        &self,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<Paged<u64, BudgetEntry>> {
        let items = self
            .events
            .iter()
            .map(|e| (e.stored.position, BudgetEntry(e.clone())))
            .collect();
        page(items, Paging::new(first, after, last, before))
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
    async fn reason(&self) -> Option<String> {
        self.0.reason()
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
