//! What an append changes in the key tables beside the log (see
//! `crate::erasure`), in the same transaction as its events: the keys that
//! seal its free text are stored, and the keys an erasure or a redaction
//! destroys are destroyed, exactly when (and only if) its events are
//! stored. So the record of an erasure and the erasure itself cannot part.
//! The statements are the same on SQLite and PostgreSQL (`$n` placeholders,
//! ids as text, times as Unix milliseconds).

use std::fmt;

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A free-text value's data key, wrapped under its author's key, to store
/// with the append whose event it seals.
#[derive(Clone, PartialEq, Eq)]
pub struct FieldKeyRow {
    /// The key's id, which the sealed value names.
    pub key_id: Uuid,
    /// Who wrote the value (a person's id): the key is wrapped under theirs.
    pub author: Uuid,
    /// The wrapped key: nonce then ciphertext.
    pub wrapped: Vec<u8>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

impl fmt::Debug for FieldKeyRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The wrapped bytes are of no use to a reader of logs.
        f.debug_struct("FieldKeyRow")
            .field("key_id", &self.key_id)
            .field("author", &self.author)
            .finish_non_exhaustive()
    }
}

/// Which keys a destruction removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DestroyedKeys {
    /// A person's key (a tombstone is left even if they had none yet, so
    /// none is made later). What it wraps can no longer be opened.
    Person(Uuid),
    /// One field's key (a redaction).
    Field(Uuid),
    /// Every field key of this author's that was kept beyond their own key
    /// (wrapped under the key-encryption key instead).
    KeptFieldsOf(Uuid),
}

/// Keys an append destroys: their bytes are removed and a tombstone left
/// (when, why). A second destruction keeps the first one's time and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDestruction {
    /// Which keys.
    pub keys: DestroyedKeys,
    /// Why, as the admin said.
    pub reason: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// Stores a field key: `$1` key id, `$2` author, `$3` wrapped, `$4` made at.
pub const INSERT_FIELD_KEY: &str =
    "INSERT INTO field_keys (key_id, author_id, wrapped, created_at) VALUES ($1, $2, $3, $4)";

impl KeyDestruction {
    /// The statement and its id parameter (`$1`); `$2` is the time in
    /// milliseconds and `$3` the reason.
    pub fn statement(&self) -> (&'static str, String) {
        match self.keys {
            DestroyedKeys::Person(person) => (
                "INSERT INTO person_keys (person_id, wrapped, created_at, destroyed_at, reason) \
                 VALUES ($1, NULL, $2, $2, $3) \
                 ON CONFLICT (person_id) DO UPDATE SET wrapped = NULL, \
                 destroyed_at = COALESCE(person_keys.destroyed_at, excluded.destroyed_at), \
                 reason = COALESCE(person_keys.reason, excluded.reason)",
                person.to_string(),
            ),
            DestroyedKeys::Field(key_id) => (
                "UPDATE field_keys SET wrapped = NULL, \
                 destroyed_at = COALESCE(destroyed_at, $2), reason = COALESCE(reason, $3) \
                 WHERE key_id = $1",
                key_id.to_string(),
            ),
            DestroyedKeys::KeptFieldsOf(author) => (
                "UPDATE field_keys SET wrapped = NULL, \
                 destroyed_at = COALESCE(destroyed_at, $2), reason = COALESCE(reason, $3) \
                 WHERE author_id = $1 AND kept AND wrapped IS NOT NULL",
                author.to_string(),
            ),
        }
    }
}

/// Runs an append's key destructions on `$tx` (a transaction of either
/// backend).
#[macro_export]
#[doc(hidden)]
macro_rules! destroy_keys_in {
    ($tx:expr, $destructions:expr) => {
        for destruction in $destructions {
            let (statement, id) = destruction.statement();
            sqlx::query(statement)
                .bind(id)
                .bind(destruction.at.timestamp_millis())
                .bind(destruction.reason.as_str())
                .execute(&mut *$tx)
                .await?;
        }
    };
}
