//! Where the read models live: one trait, with a SQLite and a PostgreSQL
//! implementation next to the event store of each.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::projected::ProjectedProposal;
use super::rows::{
    MonthRow, Page, ProposalRow, RegisterFilter, RequestRow, SearchHit, SearchText, StatsRow,
};
use crate::domain::proposal::{Owner, ProposalId};
use crate::store::StoreError;
use crate::window::Window;

/// The read-model tables.
#[async_trait]
pub trait ViewStore: Send + Sync {
    /// The position of the last event applied.
    async fn checkpoint(&self) -> Result<u64, StoreError>;

    /// The stored read models of these proposals (those that have rows).
    async fn load(&self, ids: &[ProposalId]) -> Result<Vec<ProjectedProposal>, StoreError>;

    /// Writes these proposals' rows, these advice requests' rows and these
    /// proposals' search text (those that are new or changed), and moves
    /// the checkpoint from `from` to `through`, in one transaction: all of
    /// it or none. The checkpoint row is locked first: if another server
    /// moved it from `from`, nothing is written and the answer is
    /// `ReadModelsMoved` (so several servers on one database never apply an
    /// event twice).
    async fn save(
        &self,
        proposals: &[ProjectedProposal],
        requests: &[RequestRow],
        search: &[SearchText],
        from: u64,
        through: u64,
    ) -> Result<(), StoreError>;

    /// Empties every read model and sets the checkpoint to 0, for a rebuild.
    async fn reset(&self) -> Result<(), StoreError>;

    /// Leaves no copy of rows just replaced where a reader of the database
    /// file could find it (after an erasure). PostgreSQL shows no replaced
    /// row to any query or dump, so there is nothing to do.
    async fn purge_deleted(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// An owner's proposals, newest first; the window's keys are raise positions.
    async fn proposals(
        &self,
        owner: Owner,
        state: Option<&str>,
        page: Window<u64>,
    ) -> Result<Vec<ProjectedProposal>, StoreError>;

    /// An owner's decisions, newest first; the window's keys are decision
    /// positions.
    async fn decisions(
        &self,
        owner: Owner,
        page: Window<u64>,
    ) -> Result<Vec<ProjectedProposal>, StoreError>;

    /// Unanswered requests of open proposals for any of these advisers
    /// (people or teams), oldest first; the window's keys are request positions.
    async fn pending_requests(
        &self,
        advisers: &[Uuid],
        page: Window<u64>,
    ) -> Result<Vec<RequestRow>, StoreError>;

    /// Adopted, unrevoked decisions due for review by `now`, soonest first,
    /// optionally of one owner; the window's keys are (review date, raise
    /// position).
    async fn due_for_review(
        &self,
        now: DateTime<Utc>,
        owner: Option<Owner>,
        page: Window<(DateTime<Utc>, u64)>,
    ) -> Result<Vec<ProjectedProposal>, StoreError>;

    /// An owner's statistics.
    async fn stats(&self, owner: Owner) -> Result<StatsRow, StoreError>;

    /// The register: every decision (of any owner) that `filter` lets
    /// through, newest decision first; `page.after` is a decision position.
    /// One query per page.
    async fn register(
        &self,
        filter: &RegisterFilter,
        page: Page<u64>,
    ) -> Result<Vec<ProjectedProposal>, StoreError>;

    /// The proposals whose title, current body or rationales match `query`,
    /// best match first; `page.after` is how many hits were already shown.
    /// Every word must match (stemmed, any case), the last, when a plain
    /// word, also as a prefix. PostgreSQL also reads web-search syntax
    /// (`"a phrase"`, `or`, `-word`) and drops English stop words; SQLite
    /// takes every word literally. No query is an error: one with nothing
    /// to search for has no hits.
    async fn search(&self, query: &str, page: Page<u64>) -> Result<Vec<SearchHit>, StoreError>;

    /// An owner's decisions per calendar month (UTC) of decision, oldest
    /// month first, months without decisions left out. One query.
    async fn monthly(&self, owner: Owner) -> Result<Vec<MonthRow>, StoreError>;

    /// Every row of every read model, in key order (for comparing builds).
    async fn dump(&self) -> Result<(Vec<ProposalRow>, Vec<RequestRow>), StoreError>;
}
