//! The read models on PostgreSQL. What the backends share is in
//! [`super::sql`]; here are PostgreSQL's ways: native `uuid` and
//! `timestamptz` columns, arrays (`= ANY`, `UNNEST` writes), row-value
//! comparisons, `FOR UPDATE` on the checkpoint, and its statistics query.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgPool, PgRow};
use sqlx::{Postgres, QueryBuilder, Row, Transaction};
use uuid::Uuid;

use super::projected::ProjectedProposal;
use super::register::{monthly_query, months, register_query};
use super::rows::{
    adviser_columns, owner_columns, MonthRow, Page, ProposalRow, RegisterFilter, RequestRow,
    SearchHit, SearchText, StatsRow,
};
use super::search::Terms;
use super::sql::{
    self, documents, hits, Dialect, ViewRow, PROPOSAL_COLUMNS, REQUEST_COLUMNS, RESET,
};
use super::store::ViewStore;
use super::{document, UPSERT_PROPOSAL, UPSERT_REQUEST};
use crate::domain::proposal::{Owner, ProposalId};
use crate::store::{from_i64, to_i64, StoreError};
use crate::window::Window;

/// The PostgreSQL read models.
pub struct PgViews {
    pool: PgPool,
}

impl PgViews {
    /// Read models over the event store's pool.
    pub fn new(pool: PgPool) -> Self {
        PgViews { pool }
    }
}

impl ViewRow for PgRow {
    fn id(&self, column: &str) -> Result<Uuid, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn time(&self, column: &str) -> Result<DateTime<Utc>, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn maybe_time(&self, column: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self.try_get(column)?)
    }
}

impl Dialect for PgViews {
    type Db = Postgres;
    const PENDING: &'static str = "NOT answered AND open";
    const UNREVOKED: &'static str = "NOT revoked";

    fn push_id(query: &mut QueryBuilder<'_, Postgres>, id: Uuid) {
        query.push_bind(id);
    }

    fn push_in(query: &mut QueryBuilder<'_, Postgres>, ids: &[Uuid]) {
        query.push(" = ANY(").push_bind(ids.to_vec()).push(")");
    }

    fn push_time(query: &mut QueryBuilder<'_, Postgres>, at: DateTime<Utc>) {
        query.push_bind(at);
    }

    fn push_int(query: &mut QueryBuilder<'_, Postgres>, number: i64) {
        query.push_bind(number);
    }

    fn push_text(query: &mut QueryBuilder<'_, Postgres>, text: &str) {
        query.push_bind(text.to_owned());
    }

    fn push_review_bound(
        query: &mut QueryBuilder<'_, Postgres>,
        op: &str,
        review_by: DateTime<Utc>,
        raised_position: i64,
    ) {
        query
            .push(format!(" AND (review_by, raised_position) {op} ("))
            .push_bind(review_by)
            .push(", ")
            .push_bind(raised_position)
            .push(")");
    }
}

async fn save_proposals(
    tx: &mut Transaction<'_, Postgres>,
    proposals: &[ProjectedProposal],
    requests: &[RequestRow],
) -> Result<(), StoreError> {
    let mut rows = Vec::with_capacity(proposals.len());
    let mut docs = Vec::with_capacity(proposals.len());
    for proposal in proposals {
        if let Some(row) = proposal.row() {
            rows.push(row);
            docs.push(document(proposal)?);
        }
    }
    if !rows.is_empty() {
        let column = |f: &dyn Fn(&ProposalRow) -> i64| rows.iter().map(f).collect::<Vec<_>>();
        sqlx::query(&format!(
            "INSERT INTO proposal_view ({PROPOSAL_COLUMNS}, doc) SELECT * FROM UNNEST(\
             $1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], \
             $8::bigint[], $9::timestamptz[], $10::bigint[], $11::timestamptz[], $12::timestamptz[], \
             $13::bool[], $14::bool[], $15::bigint[], $16::bigint[], $17::bigint[], $18::bigint[], \
             $19::text[], $20::text[]){UPSERT_PROPOSAL}"
        ))
        .bind(rows.iter().map(|r| r.id.0).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| owner_columns(r.owner).0).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| owner_columns(r.owner).1).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| storable(&r.title)).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.rule.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.state.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.outcome.as_deref()).collect::<Vec<_>>())
        .bind(column(&|r| to_i64(r.raised_position)))
        .bind(rows.iter().map(|r| r.raised_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.decided_position.map(to_i64)).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.decided_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.review_by).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.revoked).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.advice_followed).collect::<Vec<_>>())
        .bind(column(&|r| to_i64(r.requests)))
        .bind(column(&|r| to_i64(r.requests_answered)))
        .bind(column(&|r| to_i64(r.objections_raised)))
        .bind(column(&|r| to_i64(r.objections_integrated)))
        .bind(rows.iter().map(|r| r.failing_checks.as_str()).collect::<Vec<_>>())
        .bind(&docs)
        .execute(&mut **tx)
        .await?;
    }
    if !requests.is_empty() {
        sqlx::query(&format!(
            "INSERT INTO advice_request_view ({REQUEST_COLUMNS}) SELECT * FROM UNNEST(\
             $1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::text[], $6::bigint[], \
             $7::timestamptz[], $8::bool[], $9::bool[]){UPSERT_REQUEST}"
        ))
        .bind(requests.iter().map(|r| r.request_id).collect::<Vec<_>>())
        .bind(requests.iter().map(|r| r.proposal.0).collect::<Vec<_>>())
        .bind(
            requests
                .iter()
                .map(|r| adviser_columns(r.adviser).0)
                .collect::<Vec<_>>(),
        )
        .bind(
            requests
                .iter()
                .map(|r| adviser_columns(r.adviser).1)
                .collect::<Vec<_>>(),
        )
        .bind(
            requests
                .iter()
                .map(|r| r.reason.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            requests
                .iter()
                .map(|r| to_i64(r.requested_position))
                .collect::<Vec<_>>(),
        )
        .bind(requests.iter().map(|r| r.requested_at).collect::<Vec<_>>())
        .bind(requests.iter().map(|r| r.answered).collect::<Vec<_>>())
        .bind(requests.iter().map(|r| r.open).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Writes these proposals' rows of the search index (their `tsvector` is
/// generated from the text).
async fn save_search(
    tx: &mut Transaction<'_, Postgres>,
    search: &[SearchText],
) -> Result<(), StoreError> {
    if search.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO proposal_search (proposal_id, title, body, rationales) \
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[]) \
         ON CONFLICT (proposal_id) DO UPDATE SET title = excluded.title, \
         body = excluded.body, rationales = excluded.rationales",
    )
    .bind(search.iter().map(|t| t.proposal.0).collect::<Vec<_>>())
    .bind(
        search
            .iter()
            .map(|t| storable(&t.title))
            .collect::<Vec<_>>(),
    )
    .bind(search.iter().map(|t| storable(&t.body)).collect::<Vec<_>>())
    .bind(
        search
            .iter()
            .map(|t| storable(&t.rationales))
            .collect::<Vec<_>>(),
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Search hits, best first (`ts_rank` over the title's weight A, the
/// body's B and the rationales' C), ties newest raised first; `{query}` is
/// the `tsquery`.
fn search_sql(query: &str) -> String {
    format!(
        "SELECT v.doc, ts_rank(s.document, q.query)::float8 AS score \
         FROM (SELECT {query} AS query) q \
         JOIN proposal_search s ON s.document @@ q.query \
         JOIN proposal_view v ON v.proposal_id = s.proposal_id \
         ORDER BY score DESC, v.raised_position DESC LIMIT $1 OFFSET $2"
    )
}

/// Text as a PostgreSQL `text` column can hold it: that type cannot hold
/// NUL, which an event written before the boundary refused it (or written
/// into the log directly) may carry. The document beside the column keeps
/// the text exactly (JSON escapes NUL), so only this column differs, by
/// U+FFFD in place of each NUL.
fn storable(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\0') {
        std::borrow::Cow::Owned(text.replace('\0', "\u{FFFD}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

#[async_trait]
impl ViewStore for PgViews {
    async fn checkpoint(&self) -> Result<u64, StoreError> {
        let position: Option<i64> = sql::checkpoint_query::<Self>("")
            .build_query_scalar()
            .fetch_optional(&self.pool)
            .await?;
        Ok(position.map(from_i64).unwrap_or(0))
    }

    async fn load(&self, ids: &[ProposalId]) -> Result<Vec<ProjectedProposal>, StoreError> {
        let mut query = sql::load_query::<Self>(ids);
        documents(&query.build().fetch_all(&self.pool).await?)
    }

    async fn save(
        &self,
        proposals: &[ProjectedProposal],
        requests: &[RequestRow],
        search: &[SearchText],
        from: u64,
        through: u64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let stored: Option<i64> = sql::checkpoint_query::<Self>(" FOR UPDATE")
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
        let mut tx = self.pool.begin().await?;
        for sql in RESET {
            sqlx::query(sql).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn proposals(
        &self,
        owner: Owner,
        state: Option<&str>,
        page: Window<u64>,
    ) -> Result<Vec<ProjectedProposal>, StoreError> {
        let mut query = sql::proposals_query::<Self>(owner, state, page);
        documents(&query.build().fetch_all(&self.pool).await?)
    }

    async fn decisions(
        &self,
        owner: Owner,
        page: Window<u64>,
    ) -> Result<Vec<ProjectedProposal>, StoreError> {
        let mut query = sql::decisions_query::<Self>(owner, page);
        documents(&query.build().fetch_all(&self.pool).await?)
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
            .fetch_all(&self.pool)
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
        documents(&query.build().fetch_all(&self.pool).await?)
    }

    async fn stats(&self, owner: Owner) -> Result<StatsRow, StoreError> {
        let (_, owner_id) = owner_columns(owner);
        let row = sqlx::query(
            "SELECT COUNT(*)::BIGINT AS proposals, \
               COUNT(decided_position)::BIGINT AS decisions, \
               COUNT(*) FILTER (WHERE outcome = 'ADOPTED')::BIGINT AS adopted, \
               COALESCE(SUM(requests), 0)::BIGINT AS requests, \
               COALESCE(SUM(requests_answered), 0)::BIGINT AS answered, \
               COUNT(*) FILTER (WHERE advice_followed)::BIGINT AS followed, \
               COALESCE(SUM(objections_raised), 0)::BIGINT AS raised, \
               COALESCE(SUM(objections_integrated), 0)::BIGINT AS integrated \
             FROM proposal_view WHERE owner_id = $1",
        )
        .bind(owner_id)
        .fetch_one(&self.pool)
        .await?;
        let seconds: Vec<i64> = sqlx::query_scalar(
            "SELECT EXTRACT(EPOCH FROM (decided_at - raised_at))::BIGINT FROM proposal_view \
             WHERE owner_id = $1 AND decided_at IS NOT NULL",
        )
        .bind(owner_id)
        .fetch_all(&self.pool)
        .await?;
        sql::stats_row(&row, seconds)
    }

    async fn register(
        &self,
        filter: &RegisterFilter,
        page: Page<u64>,
    ) -> Result<Vec<ProjectedProposal>, StoreError> {
        let mut query = register_query::<Self>(filter, page);
        documents(&query.build().fetch_all(&self.pool).await?)
    }

    async fn search(&self, query: &str, page: Page<u64>) -> Result<Vec<SearchHit>, StoreError> {
        let terms = Terms::parse(query);
        if terms.is_empty() || page.limit == 0 {
            return Ok(Vec::new());
        }
        let limit = i64::from(page.limit);
        let offset = to_i64(page.after.unwrap_or(0));
        let rows = match terms.postgres() {
            (whole, None) => {
                sqlx::query(&search_sql("websearch_to_tsquery('english', $3)"))
                    .bind(limit)
                    .bind(offset)
                    .bind(whole)
                    .fetch_all(&self.pool)
                    .await?
            }
            // The words as typed, or all but the last as typed and the
            // last as a prefix.
            (whole, Some((rest, prefix))) => {
                sqlx::query(&search_sql(
                    "websearch_to_tsquery('english', $3) || \
                     (websearch_to_tsquery('english', $4) && to_tsquery('english', $5))",
                ))
                .bind(limit)
                .bind(offset)
                .bind(whole)
                .bind(rest)
                .bind(prefix)
                .fetch_all(&self.pool)
                .await?
            }
        };
        hits(&rows)
    }

    async fn monthly(&self, owner: Owner) -> Result<Vec<MonthRow>, StoreError> {
        let mut query = monthly_query::<Self>(owner);
        months(&query.build().fetch_all(&self.pool).await?)
    }

    async fn dump(&self) -> Result<(Vec<ProposalRow>, Vec<RequestRow>), StoreError> {
        sql::dump(&self.pool).await
    }
}
