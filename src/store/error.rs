//! What can go wrong in the event store.

use std::sync::Arc;

use uuid::Uuid;

use super::event::ExpectedVersion;

/// An event store failure. Every variant but `Database`, `Migration`,
/// `MigrateAsOwner`, `NotLeader` and `Closed` is the caller's to fix; none of
/// them appended anything.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A stream was not at the version the append expected.
    #[error("conflict on stream {stream_id}: expected {expected}, but it is at version {actual}")]
    Conflict {
        /// The stream whose version differed.
        stream_id: String,
        /// What the append expected.
        expected: ExpectedVersion,
        /// The stream's version when the append was checked.
        actual: u64,
    },
    /// An event id is already stored with different content (or the same id
    /// was used twice in one append).
    #[error("event id {event_id} is already used for different content")]
    EventIdReused {
        /// The reused id.
        event_id: Uuid,
    },
    /// The append itself is malformed (no events, an empty stream id, a
    /// stream named twice, an id repeated...).
    #[error("invalid append: {0}")]
    InvalidAppend(String),
    /// The database failed; the append may or may not have been applied only
    /// if the failure came at commit, so retry with the same event ids.
    #[error("database error: {0}")]
    Database(#[source] Arc<sqlx::Error>),
    /// An event's personal data could not be sealed (no key could be made
    /// or stored for it); nothing was appended.
    #[error("personal data could not be sealed: {0}")]
    Sealing(String),
    /// Stored data could not be read back (a corrupt row).
    #[error("corrupt stored event at position {position}: {reason}")]
    Corrupt {
        /// The position of the bad row.
        position: u64,
        /// What was wrong with it.
        reason: String,
    },
    /// The read models could not apply a stored event.
    #[error("the read models could not apply the event at position {position}: {reason}")]
    Unapplied {
        /// The position of the event.
        position: u64,
        /// What went wrong.
        reason: String,
    },
    /// Another process (a second server on the same database) moved the
    /// read models past where this one started: nothing was written; start
    /// again from their checkpoint.
    #[error("the read models were at position {found}, not {expected}: another server applied those events")]
    ReadModelsMoved {
        /// Where this projector started.
        expected: u64,
        /// Where the stored checkpoint was.
        found: u64,
    },
    /// This server does not lead on its database (another server does, or
    /// this one lost its lock): only the leader stores checkpoints, so
    /// nothing was stored. Wait for the leader's checkpoint instead.
    #[error("this server does not lead on its database (it does not hold the leader's lock), so it stored no checkpoint: the leading server issues them")]
    NotLeader,
    /// A checkpoint of this tree size is already stored with a different
    /// signed note: the log's history at that size differs from what was
    /// signed then, or another key signs now. The stored one is kept.
    #[error("a different checkpoint of tree size {tree_size} is already stored: the log was rewritten, or another key signs it; the stored one is kept")]
    CheckpointDiffers {
        /// The tree size both checkpoints claim.
        tree_size: u64,
    },
    /// Applying the schema migrations failed.
    #[error("migration failed: {0}")]
    Migration(#[source] Arc<sqlx::migrate::MigrateError>),
    /// Migrations are pending and this database role may not apply them
    /// (the least-privilege application role): the owner must migrate.
    #[error("the database needs migrating, which the role {role} may not do ({reason}): run `advice-log migrate --grant-to {role}` as the database's owner, then start again as {role}")]
    MigrateAsOwner {
        /// The role connected.
        role: String,
        /// What the database answered.
        reason: String,
    },
    /// A write was cut short before it committed (nothing of it was kept).
    #[error("interrupted: {0}")]
    Interrupted(String),
    /// The store is shutting down and takes no more appends.
    #[error("the event store is closed")]
    Closed,
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        StoreError::Database(Arc::new(error))
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migration(Arc::new(error))
    }
}
