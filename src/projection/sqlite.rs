//! The read models on SQLite. Writes go through the store's single writer
//! connection, so they queue behind appends instead of failing as busy.

use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::{QueryBuilder, Row, Sqlite, Transaction};
use uuid::Uuid;

use super::projected::ProjectedProposal;
use super::rows::{
    adviser_columns, adviser_from, owner_columns, owner_from, Page, ProposalRow, RequestRow,
    StatsRow,
};
use super::store::ViewStore;
use super::{document, NAME, UPSERT_PROPOSAL, UPSERT_REQUEST};
use crate::domain::proposal::{Owner, ProposalId};
use crate::store::canonical::format_time;
use crate::store::{from_i64, to_i64, StoreError};

const PROPOSAL_COLUMNS: &str = "proposal_id, owner_kind, owner_id, title, rule, state, outcome, \
    raised_position, raised_at, decided_position, decided_at, review_by, revoked, advice_followed, \
    requests, requests_answered, objections_raised, objections_integrated";
const REQUEST_COLUMNS: &str = "request_id, proposal_id, adviser_kind, adviser_id, reason, \
    requested_position, requested_at, answered, open";

/// The SQLite read models.
pub struct SqliteViews {
    writer: SqlitePool,
    reader: SqlitePool,
    crash: AtomicBool,
}

impl SqliteViews {
    /// Read models over the event store's writer and reader pools.
    pub fn new(writer: SqlitePool, reader: SqlitePool) -> Self {
        SqliteViews {
            writer,
            reader,
            crash: AtomicBool::new(false),
        }
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

fn parse_document(text: &str) -> Result<ProjectedProposal, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        position: 0,
        reason: format!("read model document: {e}"),
    })
}

fn documents(rows: &[SqliteRow]) -> Result<Vec<ProjectedProposal>, StoreError> {
    rows.iter()
        .map(|row| parse_document(row.try_get("doc")?))
        .collect()
}

fn proposal_row(row: &SqliteRow) -> Result<ProposalRow, StoreError> {
    let owner_kind: String = row.try_get("owner_kind")?;
    let owner_id: String = row.try_get("owner_id")?;
    let id: String = row.try_get("proposal_id")?;
    let raised_at: String = row.try_get("raised_at")?;
    let decided_at: Option<String> = row.try_get("decided_at")?;
    let review_by: Option<String> = row.try_get("review_by")?;
    let decided_position: Option<i64> = row.try_get("decided_position")?;
    Ok(ProposalRow {
        id: ProposalId(uuid(&id)?),
        owner: owner_from(&owner_kind, uuid(&owner_id)?),
        title: row.try_get("title")?,
        rule: row.try_get("rule")?,
        state: row.try_get("state")?,
        outcome: row.try_get("outcome")?,
        raised_position: from_i64(row.try_get("raised_position")?),
        raised_at: parse_time(&raised_at)?,
        decided_position: decided_position.map(from_i64),
        decided_at: decided_at.as_deref().map(parse_time).transpose()?,
        review_by: review_by.as_deref().map(parse_time).transpose()?,
        revoked: row.try_get("revoked")?,
        advice_followed: row.try_get("advice_followed")?,
        requests: from_i64(row.try_get("requests")?),
        requests_answered: from_i64(row.try_get("requests_answered")?),
        objections_raised: from_i64(row.try_get("objections_raised")?),
        objections_integrated: from_i64(row.try_get("objections_integrated")?),
    })
}

fn request_row(row: &SqliteRow) -> Result<RequestRow, StoreError> {
    let request_id: String = row.try_get("request_id")?;
    let proposal_id: String = row.try_get("proposal_id")?;
    let kind: String = row.try_get("adviser_kind")?;
    let adviser_id: String = row.try_get("adviser_id")?;
    let at: String = row.try_get("requested_at")?;
    Ok(RequestRow {
        request_id: uuid(&request_id)?,
        proposal: ProposalId(uuid(&proposal_id)?),
        adviser: adviser_from(&kind, uuid(&adviser_id)?),
        reason: row.try_get("reason")?,
        requested_position: from_i64(row.try_get("requested_position")?),
        requested_at: parse_time(&at)?,
        answered: row.try_get("answered")?,
        open: row.try_get("open")?,
    })
}

#[async_trait]
impl ViewStore for SqliteViews {
    async fn checkpoint(&self) -> Result<u64, StoreError> {
        let position: Option<i64> =
            sqlx::query_scalar("SELECT position FROM projection_checkpoints WHERE name = ?")
                .bind(NAME)
                .fetch_optional(&self.reader)
                .await?;
        Ok(position.map(from_i64).unwrap_or(0))
    }

    async fn load(&self, ids: &[ProposalId]) -> Result<Vec<ProjectedProposal>, StoreError> {
        let mut loaded = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let mut query =
                QueryBuilder::<Sqlite>::new("SELECT doc FROM proposal_view WHERE proposal_id IN (");
            let mut list = query.separated(", ");
            for id in chunk {
                list.push_bind(id.0.to_string());
            }
            query.push(")");
            loaded.extend(documents(&query.build().fetch_all(&self.writer).await?)?);
        }
        Ok(loaded)
    }

    async fn save(
        &self,
        proposals: &[ProjectedProposal],
        requests: &[RequestRow],
        from: u64,
        through: u64,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        // BEGIN IMMEDIATE holds the file's write lock, so the checkpoint
        // read here is the one this transaction moves.
        let stored: Option<i64> =
            sqlx::query_scalar("SELECT position FROM projection_checkpoints WHERE name = ?")
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
            "INSERT INTO projection_checkpoints (name, position) VALUES (?, ?) \
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
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
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
            QueryBuilder::<Sqlite>::new("SELECT doc FROM proposal_view WHERE owner_id = ");
        query.push_bind(owner_id.to_string());
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
        documents(&query.build().fetch_all(&self.reader).await?)
    }

    async fn decisions(
        &self,
        owner: Owner,
        page: Page<u64>,
    ) -> Result<Vec<ProjectedProposal>, StoreError> {
        let (_, owner_id) = owner_columns(owner);
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT doc FROM proposal_view WHERE decided_position IS NOT NULL AND owner_id = ",
        );
        query.push_bind(owner_id.to_string());
        if let Some(after) = page.after {
            query
                .push(" AND decided_position < ")
                .push_bind(to_i64(after));
        }
        query
            .push(" ORDER BY decided_position DESC LIMIT ")
            .push_bind(i64::from(page.limit));
        documents(&query.build().fetch_all(&self.reader).await?)
    }

    async fn pending_requests(
        &self,
        advisers: &[Uuid],
        page: Page<u64>,
    ) -> Result<Vec<RequestRow>, StoreError> {
        if advisers.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {REQUEST_COLUMNS} FROM advice_request_view WHERE answered = 0 AND open = 1 AND adviser_id IN ("
        ));
        let mut list = query.separated(", ");
        for adviser in advisers {
            list.push_bind(adviser.to_string());
        }
        query.push(")");
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
            .fetch_all(&self.reader)
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
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT doc FROM proposal_view WHERE outcome = 'ADOPTED' AND revoked = 0 \
             AND review_by IS NOT NULL AND review_by <= ",
        );
        query.push_bind(time(&now));
        if let Some(owner) = owner {
            query
                .push(" AND owner_id = ")
                .push_bind(owner_columns(owner).1.to_string());
        }
        if let Some((review_by, position)) = page.after {
            query
                .push(" AND (review_by > ")
                .push_bind(time(&review_by))
                .push(" OR (review_by = ")
                .push_bind(time(&review_by))
                .push(" AND raised_position > ")
                .push_bind(to_i64(position))
                .push("))");
        }
        query
            .push(" ORDER BY review_by, raised_position LIMIT ")
            .push_bind(i64::from(page.limit));
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
        for time in &times {
            let raised: String = time.try_get("raised_at")?;
            let decided: String = time.try_get("decided_at")?;
            seconds.push((parse_time(&decided)? - parse_time(&raised)?).num_seconds());
        }
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
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(proposal_row)
        .collect::<Result<_, _>>()?;
        let requests = sqlx::query(&format!(
            "SELECT {REQUEST_COLUMNS} FROM advice_request_view ORDER BY request_id"
        ))
        .fetch_all(&self.reader)
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
