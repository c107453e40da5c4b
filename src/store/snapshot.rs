//! Start-up snapshots: state a server would otherwise rebuild from the whole
//! log, stored by name with the position it covers and a format tag, so the
//! next start reads only the events after it. A snapshot is derived data:
//! it is replaced, never trusted over the log's own order (a newer position
//! wins), and one of another format is ignored by its reader.

use async_trait::async_trait;

use super::error::StoreError;
use super::postgres::PostgresStore;
use super::sqlite::SqliteStore;
use super::{from_i64, to_i64};

/// One stored snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The position of the last event it covers.
    pub position: u64,
    /// What wrote it, so a reader of another format can ignore it.
    pub format: String,
    /// Its bytes, in the writer's format.
    pub body: Vec<u8>,
}

/// Where snapshots are kept: beside the log, in the same database.
#[async_trait]
pub trait Snapshots: Send + Sync {
    /// The snapshot stored under `name`, if any.
    async fn load_snapshot(&self, name: &str) -> Result<Option<Snapshot>, StoreError>;

    /// Stores `snapshot` under `name` unless one covering a later position
    /// is already there (another server on the database wrote it).
    async fn save_snapshot(&self, name: &str, snapshot: &Snapshot) -> Result<(), StoreError>;
}

/// Keeps the stored row only when the new one covers more of the log.
const UPSERT: &str = " ON CONFLICT (name) DO UPDATE SET position = excluded.position, \
    format = excluded.format, body = excluded.body \
    WHERE excluded.position >= snapshots.position";

fn row((position, format, body): (i64, String, Vec<u8>)) -> Snapshot {
    Snapshot {
        position: from_i64(position),
        format,
        body,
    }
}

#[async_trait]
impl Snapshots for SqliteStore {
    async fn load_snapshot(&self, name: &str) -> Result<Option<Snapshot>, StoreError> {
        let found: Option<(i64, String, Vec<u8>)> =
            sqlx::query_as("SELECT position, format, body FROM snapshots WHERE name = ?")
                .bind(name)
                .fetch_optional(&self.reader())
                .await?;
        Ok(found.map(row))
    }

    async fn save_snapshot(&self, name: &str, snapshot: &Snapshot) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO snapshots (name, position, format, body) VALUES (?, ?, ?, ?){UPSERT}"
        ))
        .bind(name)
        .bind(to_i64(snapshot.position))
        .bind(&snapshot.format)
        .bind(&snapshot.body)
        .execute(&self.writer())
        .await?;
        Ok(())
    }
}

#[async_trait]
impl Snapshots for PostgresStore {
    async fn load_snapshot(&self, name: &str) -> Result<Option<Snapshot>, StoreError> {
        let found: Option<(i64, String, Vec<u8>)> =
            sqlx::query_as("SELECT position, format, body FROM snapshots WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool())
                .await?;
        Ok(found.map(row))
    }

    async fn save_snapshot(&self, name: &str, snapshot: &Snapshot) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO snapshots (name, position, format, body) VALUES ($1, $2, $3, $4){UPSERT}"
        ))
        .bind(name)
        .bind(to_i64(snapshot.position))
        .bind(&snapshot.format)
        .bind(&snapshot.body)
        .execute(&self.pool())
        .await?;
        Ok(())
    }
}
