//! The read models on SQLite. Writes go through the store's single writer
//! connection, so they queue behind appends instead of failing as busy.
//! What the backends share is in [`super::sql`]; here are SQLite's ways:
//! ids and times stored as text, multi-row `VALUES` writes in chunks, and
//! its statistics query.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::{QueryBuilder, Sqlite, Transaction};
use uuid::Uuid;

use super::projected::ProjectedProposal;
use super::register::{monthly_query, months, register_query};
use super::rows::{
    adviser_columns, owner_columns, MonthRow, Page, ProposalRow, RegisterFilter, RequestRow,
    SearchHit, SearchText, StatsRow,
};
use super::search::Terms;
use super::sql::{
    self, documents, hits, Cells, Dialect, ViewRow, PROPOSAL_COLUMNS, REQUEST_COLUMNS, RESET,
};
use super::store::ViewStore;
use super::{document, UPSERT_PROPOSAL, UPSERT_REQUEST};
use crate::domain::proposal::{Owner, ProposalId};
use crate::store::canonical::format_time;
use crate::store::{from_i64, to_i64, StoreError};
use crate::window::Window;

/// The SQLite read models.
pub struct SqliteViews {
    writer: SqlitePool,
    reader: SqlitePool,
}

impl SqliteViews {
    /// Read models over the event store's writer and reader pools.
    pub fn new(writer: SqlitePool, reader: SqlitePool) -> Self {
        SqliteViews { writer, reader }
    }
}

fn time(t: &DateTime<Utc>) -> String {
    format_time(t)
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt {
            position: 0,
            reason: format!("read model time {text:?}: {e}"),
        })
}

fn uuid(text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|e| StoreError::Corrupt {
        position: 0,
        reason: format!("read model id {text:?}: {e}"),
    })
}

impl ViewRow for SqliteRow {
    fn id(&self, column: &str) -> Result<Uuid, StoreError> {
        uuid(self.borrowed(column)?)
    }

    fn time(&self, column: &str) -> Result<DateTime<Utc>, StoreError> {
        parse_time(self.borrowed(column)?)
    }

    fn maybe_time(&self, column: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.maybe_text(column)?
            .as_deref()
            .map(parse_time)
            .transpose()
    }
}

impl Dialect for SqliteViews {
    type Db = Sqlite;
    const PENDING: &'static str = "answered = 0 AND open = 1";
    const UNREVOKED: &'static str = "revoked = 0";

    fn push_id(query: &mut QueryBuilder<'_, Sqlite>, id: Uuid) {
        query.push_bind(id.to_string());
    }

    fn push_in(query: &mut QueryBuilder<'_, Sqlite>, ids: &[Uuid]) {
        query.push(" IN (");
        let mut list = query.separated(", ");
        for id in ids {
            list.push_bind(id.to_string());
        }
        query.push(")");
    }

    fn push_time(query: &mut QueryBuilder<'_, Sqlite>, at: DateTime<Utc>) {
        query.push_bind(time(&at));
    }

    fn push_int(query: &mut QueryBuilder<'_, Sqlite>, number: i64) {
        query.push_bind(number);
    }

    fn push_text(query: &mut QueryBuilder<'_, Sqlite>, text: &str) {
        query.push_bind(text.to_owned());
    }

    fn push_review_bound(
        query: &mut QueryBuilder<'_, Sqlite>,
        op: &str,
        review_by: DateTime<Utc>,
        raised_position: i64,
    ) {
        query
            .push(format!(" AND (review_by {op} "))
            .push_bind(time(&review_by))
            .push(" OR (review_by = ")
            .push_bind(time(&review_by))
            .push(format!(" AND raised_position {op} "))
            .push_bind(raised_position)
            .push("))");
    }
}

/// Rows per multi-row statement (well under SQLite's bound-parameter limit).
const CHUNK: usize = 500;

async fn save_proposals(
    tx: &mut Transaction<'_, Sqlite>,
    proposals: &[ProjectedProposal],
    requests: &[RequestRow],
) -> Result<(), StoreError> {
    let mut rows = Vec::with_capacity(proposals.len());
    for proposal in proposals {
        if let Some(row) = proposal.row() {
            rows.push((row, document(proposal)?));
        }
    }
    for chunk in rows.chunks(CHUNK) {
        let mut query = QueryBuilder::<Sqlite>::new(format!(
            "INSERT INTO proposal_view ({PROPOSAL_COLUMNS}, doc) "
        ));
        query.push_values(chunk, |mut values, (row, doc)| {
            let (kind, owner_id) = owner_columns(row.owner);
            values
                .push_bind(row.id.0.to_string())
                .push_bind(kind)
                .push_bind(owner_id.to_string())
                .push_bind(row.title.clone())
                .push_bind(row.rule.clone())
                .push_bind(row.state.clone())
                .push_bind(row.outcome.clone())
                .push_bind(to_i64(row.raised_position))
                .push_bind(time(&row.raised_at))
                .push_bind(row.decided_position.map(to_i64))
                .push_bind(row.decided_at.as_ref().map(time))
                .push_bind(row.review_by.as_ref().map(time))
                .push_bind(row.revoked)
                .push_bind(row.advice_followed)
                .push_bind(to_i64(row.requests))
                .push_bind(to_i64(row.requests_answered))
                .push_bind(to_i64(row.objections_raised))
                .push_bind(to_i64(row.objections_integrated))
                .push_bind(row.failing_checks.clone())
                .push_bind(doc.as_str());
        });
        query.push(UPSERT_PROPOSAL);
        query.build().execute(&mut **tx).await?;
    }
    for chunk in requests.chunks(CHUNK) {
        let mut query = QueryBuilder::<Sqlite>::new(format!(
            "INSERT INTO advice_request_view ({REQUEST_COLUMNS}) "
        ));
        query.push_values(chunk, |mut values, row| {
            let (kind, adviser_id) = adviser_columns(row.adviser);
            values
                .push_bind(row.request_id.to_string())
                .push_bind(row.proposal.0.to_string())
                .push_bind(kind)
                .push_bind(adviser_id.to_string())
                .push_bind(row.reason.clone())
                .push_bind(to_i64(row.requested_position))
                .push_bind(time(&row.requested_at))
                .push_bind(row.answered)
                .push_bind(row.open);
        });
        query.push(UPSERT_REQUEST);
        query.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Replaces these proposals' rows in the search index, whose row id is the
/// proposal's raise position. (A row left under an earlier raise position,
/// which only a log with a proposal raised twice makes, joins no proposal
/// row and so is never found.)
async fn save_search(
    tx: &mut Transaction<'_, Sqlite>,
    search: &[SearchText],
) -> Result<(), StoreError> {
    for chunk in search.chunks(CHUNK) {
        let mut query = QueryBuilder::<Sqlite>::new("DELETE FROM proposal_search WHERE rowid IN (");
        let mut ids = query.separated(", ");
        for text in chunk {
            ids.push_bind(to_i64(text.raised_position));
        }
        query.push(")");
        query.build().execute(&mut **tx).await?;
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT INTO proposal_search (rowid, proposal_id, title, body, rationales) ",
        );
        query.push_values(chunk, |mut values, text| {
            values
                .push_bind(to_i64(text.raised_position))
                .push_bind(text.proposal.0.to_string())
                .push_bind(text.title.as_str())
                .push_bind(text.body.as_str())
                .push_bind(text.rationales.as_str());
        });
        query.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Search hits, best first: BM25 with the title weighing most, then the
/// body, then the rationales (the first weight is the unindexed id's),
/// negated so that higher is better; ties newest raised first.
const SEARCH: &str = "SELECT v.doc, -bm25(proposal_search, 0.0, 10.0, 4.0, 1.0) AS score \
    FROM proposal_search JOIN proposal_view v \
      ON v.proposal_id = proposal_search.proposal_id \
     AND v.raised_position = proposal_search.rowid \
    WHERE proposal_search MATCH ? \
    ORDER BY score DESC, v.raised_position DESC LIMIT ? OFFSET ?";

#[async_trait]
impl ViewStore for SqliteViews {
    async fn checkpoint(&self) -> Result<u64, StoreError> {
        let position: Option<i64> = sql::checkpoint_query::<Self>("")
            .build_query_scalar()
            .fetch_optional(&self.reader)
            .await?;
        Ok(position.map(from_i64).unwrap_or(0))
    }

    async fn load(&self, ids: &[ProposalId]) -> Result<Vec<ProjectedProposal>, StoreError> {
        let mut loaded = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let mut query = sql::load_query::<Self>(chunk);
            loaded.extend(documents(&query.build().fetch_all(&self.writer).await?)?);
        }
        Ok(loaded)
    }

    async fn save(
        &self,
        proposals: &[ProjectedProposal],
        requests: &[RequestRow],
        search: &[SearchText],
        from: u64,
        through: u64,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        // BEGIN IMMEDIATE holds the file's write lock, so the checkpoint
        // read here is the one this transaction moves.
        let stored: Option<i64> = sql::checkpoint_query::<Self>("")
            .build_query_scalar()
            .fetch_optional(&mut *tx)
            .await?;
        super::fence(stored, from)?;
        save_proposals(&mut tx, proposals, requests).await?;
        save_search(&mut tx, search).await?;
        sql::move_checkpoint::<Self>(through)
            .build()
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn reset(&self) -> Result<(), StoreError> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        for sql in RESET {
            sqlx::query(sql).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Merges the search index into one segment (FTS5 keeps a replaced
    /// row's words in older segments until they merge; the pages freed are
    /// overwritten, as `secure_delete` is on), then copies the WAL into the
    /// file and empties it, so no old page is left there either.
    async fn purge_deleted(&self) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO proposal_search (proposal_search) VALUES ('optimize')")
            .execute(&self.writer)
            .await?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn proposals(
        &self,
        owner: Owner,
        state: Option<&str>,
        page: Window<u64>,
    ) -> Result<Vec<ProjectedProposal>, StoreError> {
        let mut query = sql::proposals_query::<Self>(owner, state, page);
        documents(&query.build().fetch_all(&self.reader).await?)
    }

    async fn decisions(
        &self,
        owner: Owner,
        page: Window<u64>,
    ) -> Result<Vec<ProjectedProposal>, StoreError> {
        let mut query = sql::decisions_query::<Self>(owner, page);
        documents(&query.build().fetch_all(&self.reader).await?)
    }

    async fn pending_requests(
        &self,
        advisers: &[Uuid],
        page: Window<u64>,
    ) -> Result<Vec<RequestRow>, StoreError> {
        let Some(mut query) = sql::pending_query::<Self>(advisers, page) else {
            return Ok(Vec::new());
        };
        query
            .build()
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(sql::request_row)
            .collect()
    }

    async fn due_for_review(
        &self,
        now: DateTime<Utc>,
        owner: Option<Owner>,
        page: Window<(DateTime<Utc>, u64)>,
    ) -> Result<Vec<ProjectedProposal>, StoreError> {
        let mut query = sql::due_query::<Self>(now, owner, page);
        documents(&query.build().fetch_all(&self.reader).await?)
    }

    async fn stats(&self, owner: Owner) -> Result<StatsRow, StoreError> {
        let (_, owner_id) = owner_columns(owner);
        let row = sqlx::query(
            "SELECT COUNT(*) AS proposals, \
               COALESCE(SUM(decided_position IS NOT NULL), 0) AS decisions, \
               COALESCE(SUM(outcome = 'ADOPTED'), 0) AS adopted, \
               COALESCE(SUM(requests), 0) AS requests, \
               COALESCE(SUM(requests_answered), 0) AS answered, \
               COALESCE(SUM(advice_followed = 1), 0) AS followed, \
               COALESCE(SUM(objections_raised), 0) AS raised, \
               COALESCE(SUM(objections_integrated), 0) AS integrated \
             FROM proposal_view WHERE owner_id = ?",
        )
        .bind(owner_id.to_string())
        .fetch_one(&self.reader)
        .await?;
        let times = sqlx::query("SELECT raised_at, decided_at FROM proposal_view WHERE owner_id = ? AND decided_at IS NOT NULL")
            .bind(owner_id.to_string())
            .fetch_all(&self.reader)
            .await?;
        let mut seconds = Vec::with_capacity(times.len());
        for row in &times {
            seconds.push((row.time("decided_at")? - row.time("raised_at")?).num_seconds());
        }
        sql::stats_row(&row, seconds)
    }

    async fn register(
        &self,
        filter: &RegisterFilter,
        page: Page<u64>,
    ) -> Result<Vec<ProjectedProposal>, StoreError> {
        let mut query = register_query::<Self>(filter, page);
        documents(&query.build().fetch_all(&self.reader).await?)
    }

    async fn search(&self, query: &str, page: Page<u64>) -> Result<Vec<SearchHit>, StoreError> {
        let terms = Terms::parse(query);
        if terms.is_empty() || page.limit == 0 {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(SEARCH)
            .bind(terms.fts5())
            .bind(i64::from(page.limit))
            .bind(to_i64(page.after.unwrap_or(0)))
            .fetch_all(&self.reader)
            .await?;
        hits(&rows)
    }

    async fn monthly(&self, owner: Owner) -> Result<Vec<MonthRow>, StoreError> {
        let mut query = monthly_query::<Self>(owner);
        months(&query.build().fetch_all(&self.reader).await?)
    }

    async fn dump(&self) -> Result<(Vec<ProposalRow>, Vec<RequestRow>), StoreError> {
        sql::dump(&self.reader).await
    }
}
