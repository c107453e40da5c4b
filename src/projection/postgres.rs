//! The read models on PostgreSQL.

use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgPool, PgRow};
use sqlx::{Postgres, QueryBuilder, Row, Transaction};
use uuid::Uuid;

use super::projected::ProjectedProposal;
use super::rows::{
    adviser_columns, adviser_from, owner_columns, owner_from, Page, ProposalRow, RequestRow,
    StatsRow,
};
use super::store::ViewStore;
use super::{document, NAME, UPSERT_PROPOSAL, UPSERT_REQUEST};
use crate::domain::proposal::{Owner, ProposalId};
use crate::store::{from_i64, to_i64, StoreError};

const PROPOSAL_COLUMNS: &str = "proposal_id, owner_kind, owner_id, title, rule, state, outcome, \
    raised_position, raised_at, decided_position, decided_at, review_by, revoked, advice_followed, \
    requests, requests_answered, objections_raised, objections_integrated";
const REQUEST_COLUMNS: &str = "request_id, proposal_id, adviser_kind, adviser_id, reason, \
    requested_position, requested_at, answered, open";

/// The PostgreSQL read models.
pub struct PgViews {
    pool: PgPool,
    crash: AtomicBool,
}

impl PgViews {
    /// Read models over the event store's pool.
    pub fn new(pool: PgPool) -> Self {
        PgViews {
            pool,
            crash: AtomicBool::new(false),
        }
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
             $19::text[]){UPSERT_PROPOSAL}"
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

fn documents(rows: &[PgRow]) -> Result<Vec<ProjectedProposal>, StoreError> {
    rows.iter()
        .map(|row| {
            serde_json::from_str(row.try_get("doc")?).map_err(|e| StoreError::Corrupt {
                position: 0,
                reason: format!("read model document: {e}"),
            })
        })
        .collect()
}

fn proposal_row(row: &PgRow) -> Result<ProposalRow, StoreError> {
    let owner_kind: String = row.try_get("owner_kind")?;
    let decided_position: Option<i64> = row.try_get("decided_position")?;
    Ok(ProposalRow {
        id: ProposalId(row.try_get("proposal_id")?),
        owner: owner_from(&owner_kind, row.try_get("owner_id")?),
        title: row.try_get("title")?,
        rule: row.try_get("rule")?,
        state: row.try_get("state")?,
        outcome: row.try_get("outcome")?,
        raised_position: from_i64(row.try_get("raised_position")?),
        raised_at: row.try_get("raised_at")?,
        decided_position: decided_position.map(from_i64),
        decided_at: row.try_get("decided_at")?,
        review_by: row.try_get("review_by")?,
        revoked: row.try_get("revoked")?,
        advice_followed: row.try_get("advice_followed")?,
        requests: from_i64(row.try_get("requests")?),
        requests_answered: from_i64(row.try_get("requests_answered")?),
        objections_raised: from_i64(row.try_get("objections_raised")?),
        objections_integrated: from_i64(row.try_get("objections_integrated")?),
    })
}

fn request_row(row: &PgRow) -> Result<RequestRow, StoreError> {
    let kind: String = row.try_get("adviser_kind")?;
    Ok(RequestRow {
        request_id: row.try_get("request_id")?,
        proposal: ProposalId(row.try_get("proposal_id")?),
        adviser: adviser_from(&kind, row.try_get("adviser_id")?),
        reason: row.try_get("reason")?,
        requested_position: from_i64(row.try_get("requested_position")?),
        requested_at: row.try_get("requested_at")?,
        answered: row.try_get("answered")?,
        open: row.try_get("open")?,
    })
}

#[async_trait]
impl ViewStore for PgViews {
    async fn checkpoint(&self) -> Result<u64, StoreError> {
        let position: Option<i64> =
            sqlx::query_scalar("SELECT position FROM projection_checkpoints WHERE name = $1")
                .bind(NAME)
                .fetch_optional(&self.pool)
                .await?;
        Ok(position.map(from_i64).unwrap_or(0))
    }

    async fn load(&self, ids: &[ProposalId]) -> Result<Vec<ProjectedProposal>, StoreError> {
        let ids: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
        let rows = sqlx::query("SELECT doc FROM proposal_view WHERE proposal_id = ANY($1)")
            .bind(ids)
            .fetch_all(&self.pool)
            .await?;
        documents(&rows)
    }

    async fn save(
        &self,
        proposals: &[ProjectedProposal],
        requests: &[RequestRow],
        from: u64,
        through: u64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let stored: Option<i64> = sqlx::query_scalar(
            "SELECT position FROM projection_checkpoints WHERE name = $1 FOR UPDATE",
        )
        .bind(NAME)
        .fetch_optional(&mut *tx)
        .await?;
        super::fence(stored, from)?;
        save_proposals(&mut tx, proposals, requests).await?;
        if self.crash.swap(false, Ordering::SeqCst) {
            // Dropping the transaction rolls it back, as a crash would.
            return Err(StoreError::Interrupted(
                "crashed before the checkpoint".into(),
            ));
        }
        sqlx::query(
            "INSERT INTO projection_checkpoints (name, position) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET position = excluded.position",
        )
        .bind(NAME)
        .bind(to_i64(through))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn reset(&self) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for sql in [
            "DELETE FROM proposal_view",
            "DELETE FROM advice_request_view",
            "DELETE FROM projection_checkpoints",
        ] {
            sqlx::query(sql).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn proposals(
        &self,
        owner: Owner,
        state: Option<&str>,
        page: Page<u64>,
    ) -> Result<Vec<ProjectedProposal>, StoreError> {
        let (_, owner_id) = owner_columns(owner);
        let mut query =
            QueryBuilder::<Postgres>::new("SELECT doc FROM proposal_view WHERE owner_id = ");
        query.push_bind(owner_id);
        if let Some(state) = state {
            query.push(" AND state = ").push_bind(state.to_string());
        }
        if let Some(after) = page.after {
            query
                .push(" AND raised_position < ")
                .push_bind(to_i64(after));
        }
        query
            .push(" ORDER BY raised_position DESC LIMIT ")
            .push_bind(i64::from(page.limit));
        documents(&query.build().fetch_all(&self.pool).await?)
    }

    async fn decisions(
        &self,
        owner: Owner,
        page: Page<u64>,
    ) -> Result<Vec<ProjectedProposal>, StoreError> {
        let (_, owner_id) = owner_columns(owner);
        let mut query = QueryBuilder::<Postgres>::new(
            "SELECT doc FROM proposal_view WHERE decided_position IS NOT NULL AND owner_id = ",
        );
        query.push_bind(owner_id);
        if let Some(after) = page.after {
            query
                .push(" AND decided_position < ")
                .push_bind(to_i64(after));
        }
        query
            .push(" ORDER BY decided_position DESC LIMIT ")
            .push_bind(i64::from(page.limit));
        documents(&query.build().fetch_all(&self.pool).await?)
    }

    async fn pending_requests(
        &self,
        advisers: &[Uuid],
        page: Page<u64>,
    ) -> Result<Vec<RequestRow>, StoreError> {
        let mut query = QueryBuilder::<Postgres>::new(format!(
            "SELECT {REQUEST_COLUMNS} FROM advice_request_view WHERE NOT answered AND open AND adviser_id = ANY("
        ));
        query.push_bind(advisers.to_vec()).push(")");
        if let Some(after) = page.after {
            query
                .push(" AND requested_position > ")
                .push_bind(to_i64(after));
        }
        query
            .push(" ORDER BY requested_position LIMIT ")
            .push_bind(i64::from(page.limit));
        query
            .build()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(request_row)
            .collect()
    }

    async fn due_for_review(
        &self,
        now: DateTime<Utc>,
        owner: Option<Owner>,
        page: Page<(DateTime<Utc>, u64)>,
    ) -> Result<Vec<ProjectedProposal>, StoreError> {
        let mut query = QueryBuilder::<Postgres>::new(
            "SELECT doc FROM proposal_view WHERE outcome = 'ADOPTED' AND NOT revoked \
             AND review_by IS NOT NULL AND review_by <= ",
        );
        query.push_bind(now);
        if let Some(owner) = owner {
            query
                .push(" AND owner_id = ")
                .push_bind(owner_columns(owner).1);
        }
        if let Some((review_by, position)) = page.after {
            query
                .push(" AND (review_by, raised_position) > (")
                .push_bind(review_by)
                .push(", ")
                .push_bind(to_i64(position))
                .push(")");
        }
        query
            .push(" ORDER BY review_by, raised_position LIMIT ")
            .push_bind(i64::from(page.limit));
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
        Ok(StatsRow {
            proposals: from_i64(row.try_get("proposals")?),
            decisions: from_i64(row.try_get("decisions")?),
            adopted: from_i64(row.try_get("adopted")?),
            seconds_to_decision: seconds,
            requests: from_i64(row.try_get("requests")?),
            requests_answered: from_i64(row.try_get("answered")?),
            followed: from_i64(row.try_get("followed")?),
            objections_raised: from_i64(row.try_get("raised")?),
            objections_integrated: from_i64(row.try_get("integrated")?),
        })
    }

    async fn dump(&self) -> Result<(Vec<ProposalRow>, Vec<RequestRow>), StoreError> {
        let proposals = sqlx::query(&format!(
            "SELECT {PROPOSAL_COLUMNS} FROM proposal_view ORDER BY proposal_id"
        ))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(proposal_row)
        .collect::<Result<_, _>>()?;
        let requests = sqlx::query(&format!(
            "SELECT {REQUEST_COLUMNS} FROM advice_request_view ORDER BY request_id"
        ))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(request_row)
        .collect::<Result<_, _>>()?;
        Ok((proposals, requests))
    }

    fn crash_before_next_checkpoint(&self) {
        self.crash.store(true, Ordering::SeqCst);
    }
}
