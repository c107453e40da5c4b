//! The append-only event store: its traits, a SQLite and a PostgreSQL
//! implementation, and the pieces they share (canonical bytes, batch planning,
//! the group-commit sequencer, following the log).

pub mod canonical;
pub mod error;
pub mod event;
pub mod feed;
pub mod key_rows;
pub mod leader;
pub mod plan;
pub mod postgres;
pub mod sequencer;
pub mod snapshot;
pub mod sqlite;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use tokio::sync::watch;
use uuid::Uuid;

pub use error::StoreError;
pub use event::{
    Append, Appended, EventData, EventPosition, ExpectedVersion, RecordedEvent, StreamAppend,
};
pub use feed::Feed;
pub use key_rows::{DestroyedKeys, FieldKeyRow, KeyDestruction};
pub use postgres::PostgresStore;
pub use snapshot::{Snapshot, Snapshots};
pub use sqlite::SqliteStore;

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

/// The event log. Appends are atomic over their streams, durable once
/// answered, and ordered by a gap-free global position.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Which database this store runs on.
    fn backend(&self) -> Backend;

    /// Appends one command's events, checking each stream's expected version.
    async fn append(&self, append: Append) -> Result<Appended, StoreError>;

    /// The stored event with this id, if any.
    async fn read_event(&self, event_id: Uuid) -> Result<Option<RecordedEvent>, StoreError>;

    /// Every event of several streams, in position order (one query).
    async fn read_streams(&self, stream_ids: &[String]) -> Result<Vec<RecordedEvent>, StoreError>;

    /// The stored leaf hashes of up to `limit` events after position `after`.
    async fn leaf_hashes(&self, after: u64, limit: u32) -> Result<Vec<[u8; 32]>, StoreError>;

    /// Stores a signed checkpoint (append-only; one per tree size: the same
    /// note again is fine, another note for a stored size is
    /// [`StoreError::CheckpointDiffers`]). Not fenced: a server stores its
    /// checkpoints through [`leader::Leadership::store_checkpoint`], so only
    /// the leader does.
    async fn store_checkpoint(&self, checkpoint: &StoredCheckpoint) -> Result<(), StoreError>;

    /// Every stored checkpoint, smallest tree first.
    async fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, StoreError>;

    /// The checkpoint of the largest tree, if any.
    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError>;

    /// Every event of one stream, in stream order.
    async fn read_stream(&self, stream_id: &str) -> Result<Vec<RecordedEvent>, StoreError>;

    /// Up to `limit` events after global position `after`, in order.
    async fn read_all(&self, after: u64, limit: u32) -> Result<Vec<RecordedEvent>, StoreError>;

    /// The events of a window on the log in position order (from its end,
    /// in reverse order, when `window.from_end`); its keys are positions.
    async fn read_window(
        &self,
        window: crate::window::Window<u64>,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// The position of the last stored event, read from the database.
    async fn head(&self) -> Result<u64, StoreError>;

    /// The head as last seen, changing whenever new events are committed.
    fn watch_head(&self) -> watch::Receiver<u64>;

    /// Whether this server leads on its database: writes the shared read
    /// models and issues checkpoints. The first call starts contending for
    /// the lead (on PostgreSQL); call it only in a server.
    fn leadership(&self) -> Arc<leader::Leadership>;

    /// Checks that the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Finishes every queued append, then closes the database connections.
    async fn close(&self);

    /// The canonical bytes (exactly what `canonical::event_bytes` makes of
    /// the event `read_all` would answer) and stored leaf hashes of up to
    /// `limit` events after global position `after`, in order. Stored text
    /// that is already canonical is copied as it is, without parsing its JSON
    /// into values; any other row is decoded as `read_all` decodes it, and
    /// fails the same way.
    async fn read_canonical(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<canonical::CanonicalPage, StoreError>;
}

/// A signed checkpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// How many events the tree covers.
    pub tree_size: u64,
    /// Its root hash.
    pub root: [u8; 32],
    /// The signed note (C2SP tlog-checkpoint).
    pub note: String,
    /// When it was issued.
    pub issued_at: chrono::DateTime<chrono::Utc>,
}

/// A parsed `--database-url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://PATH`, `sqlite:PATH`, or a bare file path.
    Sqlite(String),
    /// `postgres://...` or `postgresql://...`.
    Postgres(String),
}

impl DatabaseUrl {
    /// Reads a database URL; anything that is not a PostgreSQL URL is taken
    /// as a SQLite file.
    pub fn parse(text: &str) -> Self {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            DatabaseUrl::Postgres(text.to_string())
        } else if text.starts_with("sqlite:") {
            DatabaseUrl::Sqlite(text.to_string())
        } else {
            DatabaseUrl::Sqlite(format!("sqlite://{text}"))
        }
    }

    /// The backend this URL selects.
    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
        }
    }
}

/// What storing `checkpoint` came to when its size was already taken:
/// `stored` is the note found under that size. The same note again is
/// fine; another one of the same size is not.
pub(crate) fn checkpoint_found(
    stored: Option<String>,
    checkpoint: &StoredCheckpoint,
) -> Result<(), StoreError> {
    match stored {
        Some(note) if note == checkpoint.note => Ok(()),
        Some(_) => Err(StoreError::CheckpointDiffers {
            tree_size: checkpoint.tree_size,
        }),
        // Not stored, yet in the way: cannot be, short of a row deleted in
        // between; try again.
        None => Err(StoreError::Interrupted(format!(
            "the checkpoint of tree size {} was neither stored nor found",
            checkpoint.tree_size
        ))),
    }
}

/// Positions and versions are stored as SQL integers; they never reach 2^63.
pub(crate) fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Reads a stored non-negative integer.
pub(crate) fn from_i64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// A page of canonical bytes from rows read in one go: `rows` holds each
/// row's position and, where its columns are what `decode` expects, its
/// stored text. `None` means the read did not have the columns' shape, and
/// the whole page is read as `read_all` reads it; a row whose stored text is
/// not canonical is read on its own the same way.
pub(crate) async fn canonical_page<'a>(
    store: &dyn EventStore,
    after: u64,
    limit: u32,
    rows: Option<Vec<(u64, Option<canonical::StoredEvent<'a>>)>>,
    bytes: usize,
) -> Result<canonical::CanonicalPage, StoreError> {
    let Some(rows) = rows else {
        let mut page = canonical::CanonicalPage::default();
        for event in store.read_all(after, limit).await? {
            page.push_event(&event);
        }
        return Ok(page);
    };
    let mut page = canonical::CanonicalPage::with_capacity(rows.len(), bytes);
    for (position, event) in &rows {
        if !event.as_ref().is_some_and(|event| page.push_stored(event)) {
            match store.read_all(position - 1, 1).await?.first() {
                Some(event) if event.position == *position => page.push_event(event),
                _ => {
                    return Err(StoreError::Corrupt {
                        position: *position,
                        reason: "the row changed while it was read".into(),
                    })
                }
            }
        }
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_select_the_backend() {
        assert_eq!(
            DatabaseUrl::parse("postgres://u@h/db").backend(),
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://u@h/db").backend(),
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("advice-log.db"),
            DatabaseUrl::Sqlite("sqlite://advice-log.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:x.db"),
            DatabaseUrl::Sqlite("sqlite:x.db".into())
        );
    }
}
