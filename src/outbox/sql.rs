//! The outbox in SQL: one implementation written once and expanded for
//! SQLite and PostgreSQL (the statements are the same; `QueryBuilder`
//! writes each backend's placeholders). Every value is an integer, text or
//! boolean, stored alike on both.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder, Row, Sqlite, SqlitePool};

use super::{
    from_millis, millis, Counts, Disabled, Finish, NewNotification, Notification, Outbox, Status,
};
use crate::domain::{ProposalId, WebhookId};
use crate::store::{from_i64, to_i64, StoreError};

/// The outbox's columns as a row is read.
const COLUMNS: &str = "id, position, channel, recipient, kind, proposal_id, detail, digest, \
    created_at, due_at, next_attempt_at, status, attempts, first_attempt_at, last_error, done_at";

/// A stored value that does not read back.
fn corrupt(id: i64, what: &str) -> StoreError {
    StoreError::Corrupt {
        position: 0,
        reason: format!("notification {id}: {what}"),
    }
}

/// Reads one of the outbox's rows.
macro_rules! read_row {
    ($row:expr) => {{
        let row = $row;
        let id: i64 = row.try_get("id")?;
        let channel: String = row.try_get("channel")?;
        let recipient: String = row.try_get("recipient")?;
        let proposal: Option<String> = row.try_get("proposal_id")?;
        let detail: String = row.try_get("detail")?;
        let status: String = row.try_get("status")?;
        let attempts: i32 = row.try_get("attempts")?;
        Ok::<Notification, StoreError>(Notification {
            id,
            planned: NewNotification {
                position: from_i64(row.try_get("position")?),
                channel: channel.parse().map_err(|_| corrupt(id, "channel"))?,
                recipient: recipient.parse().map_err(|_| corrupt(id, "recipient"))?,
                kind: row.try_get("kind")?,
                proposal: match proposal {
                    Some(text) => Some(ProposalId(
                        text.parse().map_err(|_| corrupt(id, "proposal"))?,
                    )),
                    None => None,
                },
                detail: serde_json::from_str(&detail).map_err(|_| corrupt(id, "detail"))?,
                digest: row.try_get("digest")?,
                created_at: from_millis(row.try_get("created_at")?),
                due_at: from_millis(row.try_get("due_at")?),
            },
            status: status.parse().map_err(|_| corrupt(id, "status"))?,
            attempts: u32::try_from(attempts).unwrap_or(0),
            next_attempt_at: from_millis(row.try_get("next_attempt_at")?),
            first_attempt_at: row
                .try_get::<Option<i64>, _>("first_attempt_at")?
                .map(from_millis),
            last_error: row.try_get("last_error")?,
            done_at: row.try_get::<Option<i64>, _>("done_at")?.map(from_millis),
        })
    }};
}

/// Appends the rows to an `INSERT` that ignores rows already there.
macro_rules! insert_rows {
    ($db:ty, $rows:expr) => {{
        let mut query = QueryBuilder::<$db>::new(
            "INSERT INTO notification_outbox (position, channel, recipient, kind, \
             proposal_id, detail, digest, created_at, due_at, next_attempt_at, status) ",
        );
        query.push_values($rows, |mut row, n: &NewNotification| {
            let channel: &'static str = n.channel.into();
            let pending: &'static str = Status::Pending.into();
            row.push_bind(to_i64(n.position))
                .push_bind(channel)
                .push_bind(n.recipient.to_string())
                .push_bind(n.kind.clone())
                .push_bind(n.proposal.map(|p| p.0.to_string()))
                .push_bind(n.detail.to_string())
                .push_bind(n.digest)
                .push_bind(millis(n.created_at))
                .push_bind(millis(n.due_at))
                .push_bind(millis(n.due_at))
                .push_bind(pending);
        });
        query.push(" ON CONFLICT (position, channel, recipient, kind) DO NOTHING");
        query
    }};
}

/// `id IN (...)` for a list of ids.
macro_rules! push_ids {
    ($query:expr, $ids:expr) => {{
        $query.push(" WHERE id IN (");
        let mut list = $query.separated(", ");
        for id in $ids {
            list.push_bind(*id);
        }
        list.push_unseparated(")");
    }};
}

/// How many rows a page of inserts holds (well under both backends'
/// limits on bound values).
const ROWS_PER_INSERT: usize = 500;

macro_rules! outbox_for {
    ($(#[$doc:meta])* $name:ident, $db:ty, $pool:ty) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name {
            write: $pool,
            read: $pool,
        }

        impl $name {
            /// The outbox on these pools: one that writes, one that reads
            /// (the same pool will do).
            pub fn new(write: $pool, read: $pool) -> Self {
                $name { write, read }
            }
        }

        #[async_trait]
        impl Outbox for $name {
            async fn checkpoint(&self) -> Result<u64, StoreError> {
                let position: Option<i64> = sqlx::query_scalar(
                    "SELECT position FROM notifier_checkpoint WHERE name = 'notifier'",
                )
                .fetch_optional(&self.read)
                .await?;
                Ok(position.map(from_i64).unwrap_or(0))
            }

            async fn record(
                &self,
                rows: &[NewNotification],
                from: u64,
                through: u64,
            ) -> Result<(), StoreError> {
                let mut transaction = self.write.begin().await?;
                let mut moved = QueryBuilder::<$db>::new("UPDATE notifier_checkpoint SET position = ");
                moved
                    .push_bind(to_i64(through))
                    .push(" WHERE name = 'notifier' AND position = ")
                    .push_bind(to_i64(from));
                let done = moved.build().execute(&mut *transaction).await?;
                if done.rows_affected() != 1 {
                    let found = sqlx::query_scalar::<_, i64>(
                        "SELECT position FROM notifier_checkpoint WHERE name = 'notifier'",
                    )
                    .fetch_optional(&mut *transaction)
                    .await?;
                    return Err(StoreError::ReadModelsMoved {
                        expected: from,
                        found: found.map(from_i64).unwrap_or(0),
                    });
                }
                for chunk in rows.chunks(ROWS_PER_INSERT) {
                    insert_rows!($db, chunk).build().execute(&mut *transaction).await?;
                }
                transaction.commit().await?;
                Ok(())
            }

            async fn add(&self, rows: &[NewNotification]) -> Result<(), StoreError> {
                for chunk in rows.chunks(ROWS_PER_INSERT) {
                    insert_rows!($db, chunk).build().execute(&self.write).await?;
                }
                Ok(())
            }

            async fn due(
                &self,
                now: DateTime<Utc>,
                limit: u32,
            ) -> Result<Vec<Notification>, StoreError> {
                let pending: &'static str = Status::Pending.into();
                let mut query = QueryBuilder::<$db>::new(format!(
                    "SELECT {COLUMNS} FROM notification_outbox WHERE status = "
                ));
                query
                    .push_bind(pending)
                    .push(" AND next_attempt_at <= ")
                    .push_bind(millis(now))
                    .push(" ORDER BY next_attempt_at, id LIMIT ")
                    .push_bind(i64::from(limit));
                let rows = query.build().fetch_all(&self.write).await?;
                rows.iter().map(|row| read_row!(row)).collect()
            }

            async fn retry(
                &self,
                ids: &[i64],
                error: &str,
                next: DateTime<Utc>,
                now: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                if ids.is_empty() {
                    return Ok(());
                }
                let mut query = QueryBuilder::<$db>::new(
                    "UPDATE notification_outbox SET attempts = attempts + 1, last_error = ",
                );
                query
                    .push_bind(error.to_string())
                    .push(", next_attempt_at = ")
                    .push_bind(millis(next))
                    .push(", first_attempt_at = COALESCE(first_attempt_at, ")
                    .push_bind(millis(now))
                    .push(")");
                push_ids!(query, ids);
                query.build().execute(&self.write).await?;
                Ok(())
            }

            async fn finish(
                &self,
                ids: &[i64],
                how: &Finish,
                now: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                if ids.is_empty() {
                    return Ok(());
                }
                let (status, error, tried) = match how {
                    Finish::Sent => (Status::Sent, None, true),
                    Finish::Failed(error) => (Status::Failed, Some(error.clone()), true),
                    Finish::Cancelled(why) => (Status::Cancelled, Some(why.clone()), false),
                };
                let status: &'static str = status.into();
                let mut query = QueryBuilder::<$db>::new("UPDATE notification_outbox SET status = ");
                query
                    .push_bind(status)
                    .push(", done_at = ")
                    .push_bind(millis(now))
                    .push(", last_error = COALESCE(")
                    .push_bind(error)
                    .push(", last_error)");
                if tried {
                    query
                        .push(", attempts = attempts + 1, first_attempt_at = COALESCE(first_attempt_at, ")
                        .push_bind(millis(now))
                        .push(")");
                }
                push_ids!(query, ids);
                query.build().execute(&self.write).await?;
                Ok(())
            }

            async fn list(
                &self,
                status: Option<Status>,
                before: Option<i64>,
                limit: u32,
            ) -> Result<Vec<Notification>, StoreError> {
                let mut query = QueryBuilder::<$db>::new(format!(
                    "SELECT {COLUMNS} FROM notification_outbox WHERE id < "
                ));
                query.push_bind(before.unwrap_or(i64::MAX));
                if let Some(status) = status {
                    let status: &'static str = status.into();
                    query.push(" AND status = ").push_bind(status);
                }
                query.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(limit));
                let rows = query.build().fetch_all(&self.read).await?;
                rows.iter().map(|row| read_row!(row)).collect()
            }

            async fn list_window(
                &self,
                status: Option<Status>,
                window: crate::window::Window<i64>,
            ) -> Result<Vec<Notification>, StoreError> {
                let mut query = QueryBuilder::<$db>::new(format!(
                    "SELECT {COLUMNS} FROM notification_outbox WHERE id < "
                ));
                query.push_bind(window.after.unwrap_or(i64::MAX));
                query.push(" AND id > ").push_bind(window.before.unwrap_or(i64::MIN));
                if let Some(status) = status {
                    let status: &'static str = status.into();
                    query.push(" AND status = ").push_bind(status);
                }
                query.push(if window.from_end {
                    " ORDER BY id ASC LIMIT "
                } else {
                    " ORDER BY id DESC LIMIT "
                });
                query.push_bind(i64::from(window.limit));
                let rows = query.build().fetch_all(&self.read).await?;
                rows.iter().map(|row| read_row!(row)).collect()
            }

            async fn counts(&self, now: DateTime<Utc>) -> Result<Counts, StoreError> {
                let now = millis(now);
                let mut query = QueryBuilder::<$db>::new(
                    "SELECT status, due_at <= ",
                );
                query
                    .push_bind(now)
                    .push(
                        " AS is_due, COUNT(*) AS n, MIN(due_at) AS oldest \
                         FROM notification_outbox GROUP BY status, 2",
                    );
                let rows = query.build().fetch_all(&self.read).await?;
                let mut counts = Counts::default();
                for row in rows {
                    let status: String = row.try_get("status")?;
                    let is_due: bool = row.try_get("is_due")?;
                    let n = u64::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0);
                    let oldest: Option<i64> = row.try_get("oldest")?;
                    match status.parse::<Status>() {
                        Ok(Status::Pending) if is_due => {
                            counts.queued += n;
                            counts.oldest_due = oldest.map(from_millis);
                        }
                        Ok(Status::Pending) => counts.scheduled += n,
                        Ok(Status::Sent) => counts.sent += n,
                        Ok(Status::Failed) => counts.failed += n,
                        Ok(Status::Cancelled) => counts.cancelled += n,
                        Err(_) => return Err(corrupt(0, "status")),
                    }
                }
                Ok(counts)
            }

            async fn disable_webhook(
                &self,
                webhook: WebhookId,
                reason: &str,
                now: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                let mut query = QueryBuilder::<$db>::new(
                    "INSERT INTO webhook_status (webhook_id, disabled_at, reason) VALUES (",
                );
                query
                    .push_bind(webhook.0.to_string())
                    .push(", ")
                    .push_bind(millis(now))
                    .push(", ")
                    .push_bind(reason.to_string())
                    .push(") ON CONFLICT (webhook_id) DO NOTHING");
                let done = query.build().execute(&self.write).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn disabled_webhooks(&self) -> Result<Vec<Disabled>, StoreError> {
                let rows = sqlx::query(
                    "SELECT webhook_id, disabled_at, reason FROM webhook_status ORDER BY disabled_at",
                )
                .fetch_all(&self.read)
                .await?;
                rows.iter()
                    .map(|row| {
                        let id: String = row.try_get("webhook_id")?;
                        Ok(Disabled {
                            webhook: WebhookId(id.parse().map_err(|_| corrupt(0, "webhook id"))?),
                            at: from_millis(row.try_get("disabled_at")?),
                            reason: row.try_get("reason")?,
                        })
                    })
                    .collect()
            }
        }
    };
}

outbox_for!(
    /// The outbox in the SQLite file.
    SqliteOutbox,
    Sqlite,
    SqlitePool
);
outbox_for!(
    /// The outbox in PostgreSQL.
    PgOutbox,
    Postgres,
    PgPool
);
