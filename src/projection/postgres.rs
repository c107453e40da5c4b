//! The read models on PostgreSQL.

use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgPool, PgRow};
use sqlx::{Postgres, QueryBuilder, Row, Transaction};
use uuid::Uuid;

use super::change::{api_name, Change};
use super::rows::{
    adviser_columns, adviser_from, owner_columns, owner_from, Page, ProposalRow, RequestRow,
    StatsRow,
};
use super::store::ViewStore;
use super::NAME;
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

async fn apply_one(tx: &mut Transaction<'_, Postgres>, change: &Change) -> Result<(), StoreError> {
    match change {
        Change::ProposalRaised {
            id,
            owner,
            title,
            rule,
            position,
            at,
            review_by,
        } => {
            let (kind, owner_id) = owner_columns(*owner);
            sqlx::query(
                "INSERT INTO proposal_view (proposal_id, owner_kind, owner_id, title, rule, state, \
                 raised_position, raised_at, review_by) VALUES ($1, $2, $3, $4, $5, 'OPEN', $6, $7, $8)",
            )
            .bind(id.0)
            .bind(kind)
            .bind(owner_id)
            .bind(title)
            .bind(api_name(rule))
            .bind(to_i64(*position))
            .bind(at)
            .bind(review_by)
            .execute(&mut **tx)
            .await?;
        }
        Change::AdviceRequested {
            request_id,
            proposal,
            adviser,
            reason,
            position,
            at,
        } => {
            let (kind, adviser_id) = adviser_columns(*adviser);
            sqlx::query(
                "INSERT INTO advice_request_view (request_id, proposal_id, adviser_kind, adviser_id, reason, \
                 requested_position, requested_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(request_id)
            .bind(proposal.0)
            .bind(kind)
            .bind(adviser_id)
            .bind(reason)
            .bind(to_i64(*position))
            .bind(at)
            .execute(&mut **tx)
            .await?;
            sqlx::query("UPDATE proposal_view SET requests = requests + 1 WHERE proposal_id = $1")
                .bind(proposal.0)
                .execute(&mut **tx)
                .await?;
        }
        Change::RequestsAnswered { proposal, requests } => {
            sqlx::query(
                "UPDATE advice_request_view SET answered = TRUE WHERE request_id = ANY($1)",
            )
            .bind(requests)
            .execute(&mut **tx)
            .await?;
            sqlx::query("UPDATE proposal_view SET requests_answered = requests_answered + $1 WHERE proposal_id = $2")
                .bind(i64::try_from(requests.len()).unwrap_or(i64::MAX))
                .bind(proposal.0)
                .execute(&mut **tx)
                .await?;
        }
        Change::ObjectionRaised { proposal } => {
            sqlx::query("UPDATE proposal_view SET objections_raised = objections_raised + 1 WHERE proposal_id = $1")
                .bind(proposal.0)
                .execute(&mut **tx)
                .await?;
        }
        Change::ObjectionIntegrated { proposal } => {
            sqlx::query(
                "UPDATE proposal_view SET objections_integrated = objections_integrated + 1 WHERE proposal_id = $1",
            )
            .bind(proposal.0)
            .execute(&mut **tx)
            .await?;
        }
        Change::Decided {
            proposal,
            outcome,
            position,
            at,
            advice_followed,
        } => {
            sqlx::query(
                "UPDATE proposal_view SET state = 'DECIDED', outcome = $1, decided_position = $2, decided_at = $3, \
                 advice_followed = $4 WHERE proposal_id = $5",
            )
            .bind(api_name(outcome))
            .bind(to_i64(*position))
            .bind(at)
            .bind(*advice_followed)
            .bind(proposal.0)
            .execute(&mut **tx)
            .await?;
            close_requests(tx, *proposal).await?;
        }
        Change::Withdrawn { proposal } => {
            sqlx::query("UPDATE proposal_view SET state = 'WITHDRAWN' WHERE proposal_id = $1")
                .bind(proposal.0)
                .execute(&mut **tx)
                .await?;
            close_requests(tx, *proposal).await?;
        }
        Change::Reviewed {
            proposal,
            review_by,
            revoked,
        } => {
            sqlx::query("UPDATE proposal_view SET review_by = $1, revoked = revoked OR $2 WHERE proposal_id = $3")
                .bind(review_by)
                .bind(*revoked)
                .bind(proposal.0)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

async fn close_requests(
    tx: &mut Transaction<'_, Postgres>,
    proposal: ProposalId,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE advice_request_view SET open = FALSE WHERE proposal_id = $1")
        .bind(proposal.0)
        .execute(&mut **tx)
        .await?;
    Ok(())
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

    async fn apply(&self, changes: &[Change], through: u64) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for change in changes {
            apply_one(&mut tx, change).await?;
        }
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
    ) -> Result<Vec<ProposalRow>, StoreError> {
        let (_, owner_id) = owner_columns(owner);
        let mut query = QueryBuilder::<Postgres>::new(format!(
            "SELECT {PROPOSAL_COLUMNS} FROM proposal_view WHERE owner_id = "
        ));
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
        query
            .build()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(proposal_row)
            .collect()
    }

    async fn decisions(
        &self,
        owner: Owner,
        page: Page<u64>,
    ) -> Result<Vec<ProposalRow>, StoreError> {
        let (_, owner_id) = owner_columns(owner);
        let mut query = QueryBuilder::<Postgres>::new(format!(
            "SELECT {PROPOSAL_COLUMNS} FROM proposal_view WHERE decided_position IS NOT NULL AND owner_id = "
        ));
        query.push_bind(owner_id);
        if let Some(after) = page.after {
            query
                .push(" AND decided_position < ")
                .push_bind(to_i64(after));
        }
        query
            .push(" ORDER BY decided_position DESC LIMIT ")
            .push_bind(i64::from(page.limit));
        query
            .build()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(proposal_row)
            .collect()
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
    ) -> Result<Vec<ProposalRow>, StoreError> {
        let mut query = QueryBuilder::<Postgres>::new(format!(
            "SELECT {PROPOSAL_COLUMNS} FROM proposal_view WHERE outcome = 'ADOPTED' AND NOT revoked \
             AND review_by IS NOT NULL AND review_by <= "
        ));
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
        query
            .build()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(proposal_row)
            .collect()
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
