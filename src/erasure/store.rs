//! Where wrapped keys are kept: tables of their own beside the log (never
//! in `events`, whose rows never change), so destroying a key removes its
//! bytes while every event stays as it was. Behind a trait with a SQLite
//! and a PostgreSQL implementation (`sql.rs`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::error::ErasureError;
use super::kek::KeyEncryptionKey;
use super::seal::{open, seal, Sealed};
use crate::domain::PersonId;
use crate::store::{KeyDestruction, StoreError};

/// What the KEK check row seals: opening it proves the key is the same.
const CHECK_PLAINTEXT: &[u8] = b"advice-log key-encryption key check, version 1";

/// The associated data of the KEK check row.
const CHECK_AAD: &[u8] = b"advice-log kek check";

/// Where a stored key stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyState {
    /// The key, wrapped.
    Live(Sealed),
    /// The key was destroyed: only this tombstone is left.
    Destroyed {
        /// When.
        at: DateTime<Utc>,
        /// Why (as the admin said).
        reason: String,
    },
    /// No key was ever stored.
    Missing,
}

/// What storing a new key did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutOutcome {
    /// The key given is now the stored one.
    Stored,
    /// Another key (or a tombstone) was there first and was kept: this is
    /// what is stored. Two servers racing to create one person's key end
    /// with the one key that won.
    Existing(KeyState),
}

/// A person's stored key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonKeyRecord {
    /// Whose key.
    pub person: PersonId,
    /// The key wrapped under the key-encryption key, or its tombstone.
    pub state: KeyState,
}

/// A field's stored key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldKeyRecord {
    /// The key's id (what an encrypted field names).
    pub key_id: Uuid,
    /// Who wrote the field: the key is wrapped under their key.
    pub author: PersonId,
    /// Whether the key outlives its author's: when the author was erased
    /// without their contributions, it was wrapped again under the
    /// key-encryption key.
    pub kept: bool,
    /// The wrapped key, or its tombstone.
    pub state: KeyState,
}

/// The row that tells whether a key-encryption key is the database's own:
/// a known constant sealed under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KekCheck {
    /// The key's fingerprint, for messages.
    pub fingerprint: String,
    /// The constant, sealed under the key.
    pub sealed: Sealed,
}

/// The associated data of a person's wrapped key.
pub fn person_key_aad(person: PersonId) -> Vec<u8> {
    format!("advice-log person key {}", person.0).into_bytes()
}

/// The associated data of a field's wrapped key.
pub fn field_key_aad(key_id: Uuid) -> Vec<u8> {
    format!("advice-log field key {key_id}").into_bytes()
}

/// The tables of wrapped keys. Destroying a key leaves a tombstone (who,
/// when, why) and none of its bytes.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Learns whether the key tables take writes again (after a full
    /// disk), leaving nothing behind in them.
    async fn probe(&self) -> Result<(), StoreError>;

    /// Stores a person's wrapped key unless they have a key (or a
    /// tombstone) already; then that one is kept and answered.
    async fn put_person_key(
        &self,
        person: PersonId,
        wrapped: &Sealed,
        at: DateTime<Utc>,
    ) -> Result<PutOutcome, StoreError>;

    /// A person's stored key.
    async fn person_key(&self, person: PersonId) -> Result<KeyState, StoreError>;

    /// Destroys keys outside any append (see [`KeyDestruction`]; an
    /// erasure or redaction the application makes destroys its keys in its
    /// append instead), then finishes as [`KeyStore::after_destruction`].
    /// Answers how many keys it changed.
    async fn destroy(&self, destruction: &KeyDestruction) -> Result<u64, StoreError>;

    /// Finishes destructions: on SQLite, empties the WAL, so the pages that
    /// held the destroyed keys' bytes are not left in it.
    async fn after_destruction(&self) -> Result<(), StoreError>;

    /// Every person's key, tombstones included.
    async fn all_person_keys(&self) -> Result<Vec<PersonKeyRecord>, StoreError>;

    /// Stores a field's wrapped key unless its id is taken; then the stored
    /// one is kept and answered.
    async fn put_field_key(
        &self,
        key_id: Uuid,
        author: PersonId,
        wrapped: &Sealed,
        at: DateTime<Utc>,
    ) -> Result<PutOutcome, StoreError>;

    /// A field's stored key, if there is one (or its tombstone).
    async fn field_key(&self, key_id: Uuid) -> Result<Option<FieldKeyRecord>, StoreError>;

    /// Every field's key, tombstones included.
    async fn all_field_keys(&self) -> Result<Vec<FieldKeyRecord>, StoreError>;

    /// Keeps a live field key beyond its author's: replaces its wrapped
    /// bytes with `rewrapped` (the same key under the key-encryption key)
    /// and marks it kept. Answers whether a live key was changed.
    async fn keep_field_key(&self, key_id: Uuid, rewrapped: &Sealed) -> Result<bool, StoreError>;

    /// The key-encryption key check row, if one was written.
    async fn kek_check(&self) -> Result<Option<KekCheck>, StoreError>;

    /// Writes the check row unless one is there; answers the stored one.
    async fn put_kek_check(
        &self,
        check: &KekCheck,
        at: DateTime<Utc>,
    ) -> Result<KekCheck, StoreError>;

    /// Checks that `kek` is the key this database was set up with, writing
    /// the check row on first use. Another key is
    /// [`ErasureError::WrongKek`], and then nothing was written.
    async fn check_kek(&self, kek: &KeyEncryptionKey) -> Result<(), ErasureError> {
        let stored = match self.kek_check().await? {
            Some(stored) => stored,
            None => {
                let check = KekCheck {
                    fingerprint: kek.fingerprint(),
                    sealed: seal(kek.key(), CHECK_PLAINTEXT, CHECK_AAD)?,
                };
                // Another server may have set the database up meanwhile:
                // the stored row decides.
                self.put_kek_check(&check, Utc::now()).await?
            }
        };
        match open(kek.key(), &stored.sealed, CHECK_AAD) {
            Ok(plain) if plain == CHECK_PLAINTEXT => Ok(()),
            _ => Err(ErasureError::WrongKek {
                path: kek.origin().to_string(),
                expected_fingerprint: stored.fingerprint,
                given_fingerprint: kek.fingerprint(),
            }),
        }
    }
}
