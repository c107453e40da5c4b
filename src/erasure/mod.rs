//! Crypto-shredding: personal data is sealed under keys kept outside the
//! log, so destroying a key erases what it sealed while every stored event
//! (and so every leaf hash and checkpoint) stays as it was.
//!
//! Three levels of keys: the operator's key-encryption key
//! ([`KeyEncryptionKey`], a file) wraps one key per person, and each
//! person's key wraps one key per free-text field they wrote (so one field
//! can be redacted alone). The wrapped keys live in tables of their own
//! ([`KeyStore`]); a [`Keyring`] holds them unwrapped in memory. Nothing
//! here knows HTTP or GraphQL.

mod error;
mod kek;
mod key;
mod keyring;
mod seal;
mod sealed_store;
mod sealing;
mod sql;
mod store;

pub use error::ErasureError;
pub use kek::KeyEncryptionKey;
pub use key::{DataKey, KEY_LEN};
pub use keyring::{person_erasure, KeyLookup, Keyring};
pub use seal::{open, seal, unwrap, wrap, Sealed, NONCE_LEN, TAG_LEN};
pub use sealed_store::SealedStore;
pub use sealing::{
    erased_placeholder, field_keys_of, open_event, open_payload, opening, seal_event,
    sealed_values, value_aad, KeyRef, Opening, SealedValue, ERASED_TEXT,
};
pub use sql::{PgKeyStore, SqliteKeyStore};
pub use store::{
    field_key_aad, person_key_aad, FieldKeyRecord, KekCheck, KeyState, KeyStore, PersonKeyRecord,
    PutOutcome,
};
