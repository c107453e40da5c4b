//! The key store in SQL, written once and expanded for SQLite and
//! PostgreSQL: the statements are the same (`$n` placeholders, which both
//! take), ids are text, times Unix milliseconds, wrapped keys bytes.
//! On SQLite the store's connections run with `secure_delete` (see
//! `SqliteStore::open`), so a destroyed key's bytes are overwritten in the
//! file, not merely unlinked; on PostgreSQL the old row version is dead and
//! no dump or query shows it (its bytes stay in the data files until
//! vacuumed and overwritten, as any updated row's old version does).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{PgPool, SqlitePool};
use uuid::Uuid;

use super::seal::Sealed;
use super::store::{FieldKeyRecord, KekCheck, KeyState, KeyStore, PersonKeyRecord, PutOutcome};
use crate::domain::PersonId;
use crate::store::{KeyDestruction, StoreError};

/// The name of the one key-encryption key check row.
const CHECK_NAME: &str = "kek";

/// On SQLite, after a key's bytes are overwritten: copy the log's WAL into
/// the file and empty it, so the old page (with the key) is not left in the
/// WAL until the next checkpoint happens to reuse its place. If a reader
/// holds the WAL past the busy timeout, this checkpoint is partial and the
/// next one finishes the work.
const SQLITE_AFTER_DESTROY: &str = "PRAGMA wal_checkpoint(TRUNCATE)";

/// On SQLite, whether the file takes writes again (after a full disk): the
/// log's own probe row, rewritten. Nothing in the key tables changes.
const SQLITE_PROBE: &str = "INSERT INTO write_probe (id, at) VALUES (1, datetime('now')) \
                            ON CONFLICT (id) DO UPDATE SET at = excluded.at";

/// On PostgreSQL, which recovers from a full disk by itself (as the log's
/// sequencer relies on too), a round trip.
const POSTGRES_PROBE: &str = "SELECT 1";

/// A person key row: id, wrapped bytes, destroyed at, reason.
type PersonRow = (String, Option<Vec<u8>>, Option<i64>, Option<String>);

/// A field key row: id, author, kept, wrapped bytes, destroyed at, reason.
type FieldRow = (
    String,
    String,
    bool,
    Option<Vec<u8>>,
    Option<i64>,
    Option<String>,
);

const PERSON_COLUMNS: &str = "person_id, wrapped, destroyed_at, reason";
const FIELD_COLUMNS: &str = "key_id, author_id, kept, wrapped, destroyed_at, reason";

/// A stored value that does not read back.
fn corrupt(what: String) -> StoreError {
    StoreError::Corrupt {
        position: 0,
        reason: what,
    }
}

fn uuid(text: &str, what: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|_| corrupt(format!("{what} {text:?} is not a UUID")))
}

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn state(
    id: &str,
    wrapped: Option<Vec<u8>>,
    destroyed_at: Option<i64>,
    reason: Option<String>,
) -> Result<KeyState, StoreError> {
    match (wrapped, destroyed_at) {
        (Some(bytes), None) => Sealed::from_bytes(&bytes)
            .map(KeyState::Live)
            .map_err(|_| corrupt(format!("the wrapped key {id} is too short"))),
        (None, Some(at)) => Ok(KeyState::Destroyed {
            at: DateTime::from_timestamp_millis(at).unwrap_or_default(),
            reason: reason.unwrap_or_default(),
        }),
        _ => Err(corrupt(format!(
            "the key {id} is neither live nor destroyed"
        ))),
    }
}

fn person_record((id, wrapped, at, reason): PersonRow) -> Result<PersonKeyRecord, StoreError> {
    Ok(PersonKeyRecord {
        person: PersonId(uuid(&id, "person key")?),
        state: state(&id, wrapped, at, reason)?,
    })
}

fn field_record(
    (id, author, kept, wrapped, at, reason): FieldRow,
) -> Result<FieldKeyRecord, StoreError> {
    Ok(FieldKeyRecord {
        key_id: uuid(&id, "field key")?,
        author: PersonId(uuid(&author, "field key author")?),
        kept,
        state: state(&id, wrapped, at, reason)?,
    })
}

/// Defines a key store over one backend's pools.
macro_rules! key_store_for {
    ($(#[$doc:meta])* $name:ident, $pool:ty, $after_destroy:expr, $probe:expr) => {
        $(#[$doc])*
        pub struct $name {
            write: $pool,
            read: $pool,
        }

        impl $name {
            /// A key store that writes on `write` and reads on `read`
            /// (which may be the same pool).
            pub fn new(write: $pool, read: $pool) -> Self {
                $name { write, read }
            }

            async fn person_row(&self, person: PersonId) -> Result<KeyState, StoreError> {
                let sql = format!("SELECT {PERSON_COLUMNS} FROM person_keys WHERE person_id = $1");
                let row: Option<PersonRow> = sqlx::query_as(&sql)
                    .bind(person.0.to_string())
                    .fetch_optional(&self.write)
                    .await?;
                match row {
                    Some(row) => Ok(person_record(row)?.state),
                    None => Ok(KeyState::Missing),
                }
            }

            async fn field_row(
                &self,
                key_id: Uuid,
                pool: &$pool,
            ) -> Result<Option<FieldKeyRecord>, StoreError> {
                let sql = format!("SELECT {FIELD_COLUMNS} FROM field_keys WHERE key_id = $1");
                let row: Option<FieldRow> = sqlx::query_as(&sql)
                    .bind(key_id.to_string())
                    .fetch_optional(pool)
                    .await?;
                row.map(field_record).transpose()
            }
        }

        #[async_trait]
        impl KeyStore for $name {
            async fn probe(&self) -> Result<(), StoreError> {
                sqlx::query($probe).execute(&self.write).await?;
                Ok(())
            }

            async fn put_person_key(
                &self,
                person: PersonId,
                wrapped: &Sealed,
                at: DateTime<Utc>,
            ) -> Result<PutOutcome, StoreError> {
                let inserted = sqlx::query(
                    "INSERT INTO person_keys (person_id, wrapped, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (person_id) DO NOTHING",
                )
                .bind(person.0.to_string())
                .bind(wrapped.to_bytes())
                .bind(millis(at))
                .execute(&self.write)
                .await?
                .rows_affected();
                if inserted > 0 {
                    return Ok(PutOutcome::Stored);
                }
                Ok(PutOutcome::Existing(self.person_row(person).await?))
            }

            async fn person_key(&self, person: PersonId) -> Result<KeyState, StoreError> {
                self.person_row(person).await
            }

            async fn destroy(&self, destruction: &KeyDestruction) -> Result<u64, StoreError> {
                let (statement, id) = destruction.statement();
                let changed = sqlx::query(statement)
                    .bind(id)
                    .bind(millis(destruction.at))
                    .bind(destruction.reason.as_str())
                    .execute(&self.write)
                    .await?
                    .rows_affected();
                self.after_destruction().await?;
                Ok(changed)
            }

            async fn after_destruction(&self) -> Result<(), StoreError> {
                let statement: Option<&str> = $after_destroy;
                if let Some(statement) = statement {
                    sqlx::query(statement).execute(&self.write).await?;
                }
                Ok(())
            }

            async fn all_person_keys(&self) -> Result<Vec<PersonKeyRecord>, StoreError> {
                let sql = format!("SELECT {PERSON_COLUMNS} FROM person_keys ORDER BY person_id");
                let rows: Vec<PersonRow> = sqlx::query_as(&sql).fetch_all(&self.read).await?;
                rows.into_iter().map(person_record).collect()
            }

            async fn put_field_key(
                &self,
                key_id: Uuid,
                author: PersonId,
                wrapped: &Sealed,
                at: DateTime<Utc>,
            ) -> Result<PutOutcome, StoreError> {
                let inserted = sqlx::query(
                    "INSERT INTO field_keys (key_id, author_id, wrapped, created_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (key_id) DO NOTHING",
                )
                .bind(key_id.to_string())
                .bind(author.0.to_string())
                .bind(wrapped.to_bytes())
                .bind(millis(at))
                .execute(&self.write)
                .await?
                .rows_affected();
                if inserted > 0 {
                    return Ok(PutOutcome::Stored);
                }
                let stored = self.field_row(key_id, &self.write).await?;
                Ok(PutOutcome::Existing(
                    stored.map_or(KeyState::Missing, |record| record.state),
                ))
            }

            async fn field_key(&self, key_id: Uuid) -> Result<Option<FieldKeyRecord>, StoreError> {
                self.field_row(key_id, &self.read).await
            }

            async fn all_field_keys(&self) -> Result<Vec<FieldKeyRecord>, StoreError> {
                let sql = format!("SELECT {FIELD_COLUMNS} FROM field_keys ORDER BY key_id");
                let rows: Vec<FieldRow> = sqlx::query_as(&sql).fetch_all(&self.read).await?;
                rows.into_iter().map(field_record).collect()
            }

            async fn keep_field_key(
                &self,
                key_id: Uuid,
                rewrapped: &Sealed,
            ) -> Result<bool, StoreError> {
                let updated = sqlx::query(
                    "UPDATE field_keys SET wrapped = $2, kept = TRUE \
                     WHERE key_id = $1 AND wrapped IS NOT NULL",
                )
                .bind(key_id.to_string())
                .bind(rewrapped.to_bytes())
                .execute(&self.write)
                .await?
                .rows_affected();
                Ok(updated > 0)
            }

            async fn kek_check(&self) -> Result<Option<KekCheck>, StoreError> {
                let row: Option<(String, Vec<u8>)> =
                    sqlx::query_as("SELECT fingerprint, sealed FROM key_check WHERE name = $1")
                        .bind(CHECK_NAME)
                        .fetch_optional(&self.write)
                        .await?;
                row.map(|(fingerprint, sealed)| {
                    Ok(KekCheck {
                        fingerprint,
                        sealed: Sealed::from_bytes(&sealed)
                            .map_err(|_| corrupt("the key check row is too short".into()))?,
                    })
                })
                .transpose()
            }

            async fn put_kek_check(
                &self,
                check: &KekCheck,
                at: DateTime<Utc>,
            ) -> Result<KekCheck, StoreError> {
                sqlx::query(
                    "INSERT INTO key_check (name, fingerprint, sealed, created_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING",
                )
                .bind(CHECK_NAME)
                .bind(&check.fingerprint)
                .bind(check.sealed.to_bytes())
                .bind(millis(at))
                .execute(&self.write)
                .await?;
                self.kek_check()
                    .await?
                    .ok_or_else(|| corrupt("the key check row did not stay".into()))
            }
        }
    };
}

key_store_for!(
    /// The key store in a SQLite file, beside the log.
    SqliteKeyStore,
    SqlitePool,
    Some(SQLITE_AFTER_DESTROY),
    SQLITE_PROBE
);

key_store_for!(
    /// The key store in a PostgreSQL database, beside the log.
    PgKeyStore,
    PgPool,
    None,
    POSTGRES_PROBE
);
