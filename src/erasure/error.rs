//! What can go wrong with the keys that make personal data erasable.

use uuid::Uuid;

use crate::domain::PersonId;
use crate::store::StoreError;

/// A failure of the key layer.
#[derive(Debug, thiserror::Error)]
pub enum ErasureError {
    /// A sealed value did not open: the wrong key, the wrong associated
    /// data, or changed bytes. Says nothing of which.
    #[error("the sealed value does not open with this key (wrong key or changed bytes)")]
    Unreadable,
    /// The key-encryption key given is not the one the database was set up
    /// with. Nothing was written.
    #[error(
        "the data key at {path} is not the one this database was set up with \
         (this key's fingerprint is {given_fingerprint}, the database expects \
         {expected_fingerprint}); start with the right --data-key; nothing was written"
    )]
    WrongKek {
        /// Where the key given was read from (as the operator named it).
        path: String,
        /// The fingerprint of the key the database was set up with.
        expected_fingerprint: String,
        /// The fingerprint of the key given.
        given_fingerprint: String,
    },
    /// The person's key was destroyed: nothing can be written or read for
    /// them any more.
    #[error("person {0} is erased")]
    Erased(PersonId),
    /// A field key that the store does not hold.
    #[error("no field key {0} is stored")]
    NoSuchFieldKey(Uuid),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A key file could not be read or written.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        #[source]
        error: std::io::Error,
    },
    /// A key is malformed, or no random bytes could be had for a new one.
    #[error("key: {0}")]
    Key(String),
}
