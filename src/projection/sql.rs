//! What the SQLite and PostgreSQL read models share: the column lists, the
//! queries that read the lists, the checkpoint and the dump, built once over
//! a [`Dialect`] that binds each value as its backend stores it; and reading
//! rows back into documents, [`ProposalRow`]s, [`RequestRow`]s and
//! [`StatsRow`]s, over a [`ViewRow`] that decodes ids and times likewise.
//! Each backend keeps what truly differs: its pools and transactions, its
//! multi-row writes and its statistics query.

use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Database, Decode, Executor, IntoArguments, QueryBuilder, Row, Type};
use uuid::Uuid;

use super::projected::ProjectedProposal;
use super::rows::{
    adviser_from, owner_columns, owner_from, ProposalRow, RequestRow, SearchHit, StatsRow,
};
use super::NAME;
use crate::domain::proposal::{Owner, ProposalId};
use crate::store::{from_i64, to_i64, StoreError};
use crate::window::Window;

/// The columns of `proposal_view` but its document, in insert order.
pub(super) const PROPOSAL_COLUMNS: &str = "proposal_id, owner_kind, owner_id, title, rule, \
    state, outcome, raised_position, raised_at, decided_position, decided_at, review_by, \
    revoked, advice_followed, requests, requests_answered, objections_raised, \
    objections_integrated, failing_checks";
/// The columns of `advice_request_view`, in insert order.
pub(super) const REQUEST_COLUMNS: &str = "request_id, proposal_id, adviser_kind, adviser_id, \
    reason, requested_position, requested_at, answered, open";

/// The statements that empty every read model, for a rebuild.
pub(super) const RESET: [&str; 4] = [
    "DELETE FROM proposal_view",
    "DELETE FROM advice_request_view",
    "DELETE FROM proposal_search",
    "DELETE FROM projection_checkpoints",
];

/// How one backend writes what the shared queries leave open: how ids,
/// times, numbers and text are bound, and the few conditions its SQL
/// words differently.
pub(super) trait Dialect {
    /// The backend.
    type Db: Database;
    /// The condition on `advice_request_view` for unanswered requests of
    /// open proposals.
    const PENDING: &'static str;
    /// The condition on `proposal_view` for decisions not revoked.
    const UNREVOKED: &'static str;

    /// Binds an id.
    fn push_id(query: &mut QueryBuilder<'_, Self::Db>, id: Uuid);
    /// Pushes, after a column's name, the test that it holds one of `ids`.
    fn push_in(query: &mut QueryBuilder<'_, Self::Db>, ids: &[Uuid]);
    /// Binds a time.
    fn push_time(query: &mut QueryBuilder<'_, Self::Db>, time: DateTime<Utc>);
    /// Binds a number.
    fn push_int(query: &mut QueryBuilder<'_, Self::Db>, number: i64);
    /// Binds text.
    fn push_text(query: &mut QueryBuilder<'_, Self::Db>, text: &str);
    /// Pushes the condition for rows after (`op` is `>`) or before (`<`)
    /// `(review_by, raised_position)` in the order of reviews due.
    fn push_review_bound(
        query: &mut QueryBuilder<'_, Self::Db>,
        op: &str,
        review_by: DateTime<Utc>,
        raised_position: i64,
    );
}

/// Reads the projector's checkpoint (with `lock`, also locks its row for
/// the rest of the transaction: PostgreSQL's `FOR UPDATE`).
pub(super) fn checkpoint_query<D: Dialect>(lock: &str) -> QueryBuilder<'static, D::Db> {
    let mut query = QueryBuilder::new("SELECT position FROM projection_checkpoints WHERE name = ");
    D::push_text(&mut query, NAME);
    query.push(lock);
    query
}

/// Moves the projector's checkpoint to `through`.
pub(super) fn move_checkpoint<D: Dialect>(through: u64) -> QueryBuilder<'static, D::Db> {
    let mut query =
        QueryBuilder::new("INSERT INTO projection_checkpoints (name, position) VALUES (");
    D::push_text(&mut query, NAME);
    query.push(", ");
    D::push_int(&mut query, to_i64(through));
    query.push(") ON CONFLICT (name) DO UPDATE SET position = excluded.position");
    query
}

/// The documents of these proposals.
pub(super) fn load_query<D: Dialect>(ids: &[ProposalId]) -> QueryBuilder<'static, D::Db> {
    let ids: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
    let mut query = QueryBuilder::new("SELECT doc FROM proposal_view WHERE proposal_id");
    D::push_in(&mut query, &ids);
    query
}

/// The documents of an owner's proposals, newest first.
pub(super) fn proposals_query<D: Dialect>(
    owner: Owner,
    state: Option<&str>,
    page: Window<u64>,
) -> QueryBuilder<'static, D::Db> {
    let mut query = QueryBuilder::new("SELECT doc FROM proposal_view WHERE owner_id = ");
    D::push_id(&mut query, owner_columns(owner).1);
    if let Some(state) = state {
        query.push(" AND state = ");
        D::push_text(&mut query, state);
    }
    push_window::<D>(&mut query, "raised_position", true, &page);
    query
}

/// Bounds a list ordered by `column` (newest first when `descending`) to
/// the window, then orders it from the window's end and limits it.
fn push_window<D: Dialect>(
    query: &mut QueryBuilder<'static, D::Db>,
    column: &str,
    descending: bool,
    window: &Window<u64>,
) {
    let (after, before) = if descending { ("<", ">") } else { (">", "<") };
    if let Some(key) = window.after {
        query.push(format!(" AND {column} {after} "));
        D::push_int(query, to_i64(key));
    }
    if let Some(key) = window.before {
        query.push(format!(" AND {column} {before} "));
        D::push_int(query, to_i64(key));
    }
    let order = if descending == window.from_end {
        "ASC"
    } else {
        "DESC"
    };
    query.push(format!(" ORDER BY {column} {order} LIMIT "));
    D::push_int(query, i64::from(window.limit));
}

/// The documents of an owner's decisions, newest first.
pub(super) fn decisions_query<D: Dialect>(
    owner: Owner,
    page: Window<u64>,
) -> QueryBuilder<'static, D::Db> {
    let mut query = QueryBuilder::new(
        "SELECT doc FROM proposal_view WHERE decided_position IS NOT NULL AND owner_id = ",
    );
    D::push_id(&mut query, owner_columns(owner).1);
    push_window::<D>(&mut query, "decided_position", true, &page);
    query
}

/// The unanswered requests of open proposals for any of these advisers,
/// oldest first; `None` when there are no advisers (there is nothing to ask).
pub(super) fn pending_query<D: Dialect>(
    advisers: &[Uuid],
    page: Window<u64>,
) -> Option<QueryBuilder<'static, D::Db>> {
    if advisers.is_empty() {
        return None;
    }
    let mut query = QueryBuilder::new(format!(
        "SELECT {REQUEST_COLUMNS} FROM advice_request_view WHERE {} AND adviser_id",
        D::PENDING
    ));
    D::push_in(&mut query, advisers);
    push_window::<D>(&mut query, "requested_position", false, &page);
    Some(query)
}

/// The documents of adopted, unrevoked decisions due for review by `now`,
/// soonest first, optionally of one owner.
pub(super) fn due_query<D: Dialect>(
    now: DateTime<Utc>,
    owner: Option<Owner>,
    page: Window<(DateTime<Utc>, u64)>,
) -> QueryBuilder<'static, D::Db> {
    let mut query = QueryBuilder::new(format!(
        "SELECT doc FROM proposal_view WHERE outcome = 'ADOPTED' AND {} \
         AND review_by IS NOT NULL AND review_by <= ",
        D::UNREVOKED
    ));
    D::push_time(&mut query, now);
    if let Some(owner) = owner {
        query.push(" AND owner_id = ");
        D::push_id(&mut query, owner_columns(owner).1);
    }
    if let Some((review_by, position)) = page.after {
        D::push_review_bound(&mut query, ">", review_by, to_i64(position));
    }
    if let Some((review_by, position)) = page.before {
        D::push_review_bound(&mut query, "<", review_by, to_i64(position));
    }
    query.push(if page.from_end {
        " ORDER BY review_by DESC, raised_position DESC LIMIT "
    } else {
        " ORDER BY review_by, raised_position LIMIT "
    });
    D::push_int(&mut query, i64::from(page.limit));
    query
}

/// Every row of every read model, in key order (for comparing builds).
pub(super) async fn dump<'e, E, R>(db: E) -> Result<(Vec<ProposalRow>, Vec<RequestRow>), StoreError>
where
    E: Executor<'e> + Copy,
    E::Database: Database<Row = R>,
    for<'q> <E::Database as Database>::Arguments<'q>: IntoArguments<'q, E::Database>,
    R: ViewRow,
{
    let proposals = sqlx::query(&format!(
        "SELECT {PROPOSAL_COLUMNS} FROM proposal_view ORDER BY proposal_id"
    ))
    .fetch_all(db)
    .await?
    .iter()
    .map(proposal_row)
    .collect::<Result<_, _>>()?;
    let requests = sqlx::query(&format!(
        "SELECT {REQUEST_COLUMNS} FROM advice_request_view ORDER BY request_id"
    ))
    .fetch_all(db)
    .await?
    .iter()
    .map(request_row)
    .collect::<Result<_, _>>()?;
    Ok((proposals, requests))
}

/// The columns every backend decodes alike.
pub(super) trait Cells {
    /// A text column.
    fn text(&self, column: &str) -> Result<String, StoreError>;
    /// A text column, borrowed from the row.
    fn borrowed(&self, column: &str) -> Result<&str, StoreError>;
    /// A text column that may be NULL.
    fn maybe_text(&self, column: &str) -> Result<Option<String>, StoreError>;
    /// A whole-number column.
    fn int(&self, column: &str) -> Result<i64, StoreError>;
    /// A whole-number column that may be NULL.
    fn maybe_int(&self, column: &str) -> Result<Option<i64>, StoreError>;
    /// A yes/no column.
    fn flag(&self, column: &str) -> Result<bool, StoreError>;
    /// A yes/no column that may be NULL.
    fn maybe_flag(&self, column: &str) -> Result<Option<bool>, StoreError>;
    /// A floating-point column.
    fn float(&self, column: &str) -> Result<f64, StoreError>;
}

impl<R> Cells for R
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    for<'r> &'r str: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> bool: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> f64: Decode<'r, R::Database> + Type<R::Database>,
{
    fn text(&self, column: &str) -> Result<String, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn borrowed(&self, column: &str) -> Result<&str, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn maybe_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn int(&self, column: &str) -> Result<i64, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn maybe_int(&self, column: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn flag(&self, column: &str) -> Result<bool, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn maybe_flag(&self, column: &str) -> Result<Option<bool>, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn float(&self, column: &str) -> Result<f64, StoreError> {
        Ok(self.try_get(column)?)
    }
}

/// A read-model row of one backend: the columns it stores its own way
/// (SQLite keeps ids and times as text, PostgreSQL as `uuid` and
/// `timestamptz`).
pub(super) trait ViewRow: Cells {
    /// An id column.
    fn id(&self, column: &str) -> Result<Uuid, StoreError>;
    /// A time column.
    fn time(&self, column: &str) -> Result<DateTime<Utc>, StoreError>;
    /// A time column that may be NULL.
    fn maybe_time(&self, column: &str) -> Result<Option<DateTime<Utc>>, StoreError>;
}

/// The stored documents of these rows.
pub(super) fn documents<R: Cells>(rows: &[R]) -> Result<Vec<ProjectedProposal>, StoreError> {
    rows.iter()
        .map(|row| {
            serde_json::from_str(row.borrowed("doc")?).map_err(|e| StoreError::Corrupt {
                position: 0,
                reason: format!("read model document: {e}"),
            })
        })
        .collect()
}

/// The hits of a search from its rows (columns `doc` and `score`), in order.
pub(super) fn hits<R: Cells>(rows: &[R]) -> Result<Vec<SearchHit>, StoreError> {
    let proposals = documents(rows)?;
    rows.iter()
        .zip(proposals)
        .map(|(row, proposal)| {
            Ok(SearchHit {
                proposal,
                rank: row.float("score")?,
            })
        })
        .collect()
}

/// A `proposal_view` row (of [`PROPOSAL_COLUMNS`]).
pub(super) fn proposal_row<R: ViewRow>(row: &R) -> Result<ProposalRow, StoreError> {
    Ok(ProposalRow {
        id: ProposalId(row.id("proposal_id")?),
        owner: owner_from(&row.text("owner_kind")?, row.id("owner_id")?),
        title: row.text("title")?,
        rule: row.text("rule")?,
        state: row.text("state")?,
        outcome: row.maybe_text("outcome")?,
        raised_position: from_i64(row.int("raised_position")?),
        raised_at: row.time("raised_at")?,
        decided_position: row.maybe_int("decided_position")?.map(from_i64),
        decided_at: row.maybe_time("decided_at")?,
        review_by: row.maybe_time("review_by")?,
        revoked: row.flag("revoked")?,
        advice_followed: row.maybe_flag("advice_followed")?,
        requests: from_i64(row.int("requests")?),
        requests_answered: from_i64(row.int("requests_answered")?),
        objections_raised: from_i64(row.int("objections_raised")?),
        objections_integrated: from_i64(row.int("objections_integrated")?),
        failing_checks: row.text("failing_checks")?,
    })
}

/// An `advice_request_view` row (of [`REQUEST_COLUMNS`]).
pub(super) fn request_row<R: ViewRow>(row: &R) -> Result<RequestRow, StoreError> {
    Ok(RequestRow {
        request_id: row.id("request_id")?,
        proposal: ProposalId(row.id("proposal_id")?),
        adviser: adviser_from(&row.text("adviser_kind")?, row.id("adviser_id")?),
        reason: row.text("reason")?,
        requested_position: from_i64(row.int("requested_position")?),
        requested_at: row.time("requested_at")?,
        answered: row.flag("answered")?,
        open: row.flag("open")?,
    })
}

/// An owner's statistics from the row of the backend's statistics query
/// (columns `proposals`, `decisions`, `adopted`, `requests`, `answered`,
/// `followed`, `raised`, `integrated`) and the seconds to each decision.
pub(super) fn stats_row<R: Cells>(row: &R, seconds: Vec<i64>) -> Result<StatsRow, StoreError> {
    Ok(StatsRow {
        proposals: from_i64(row.int("proposals")?),
        decisions: from_i64(row.int("decisions")?),
        adopted: from_i64(row.int("adopted")?),
        seconds_to_decision: seconds,
        requests: from_i64(row.int("requests")?),
        requests_answered: from_i64(row.int("answered")?),
        followed: from_i64(row.int("followed")?),
        objections_raised: from_i64(row.int("raised")?),
        objections_integrated: from_i64(row.int("integrated")?),
    })
}
