//! What can go wrong checking or proving the log.

use crate::store::StoreError;

use super::merkle::ProofError;

/// An assurance failure (not a finding of `verify`: those are reports).
#[derive(Debug, thiserror::Error)]
pub enum AssuranceError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The log holds fewer events than asked about.
    #[error("the log holds {have} events, not {want}")]
    TooShort {
        /// Events in the log.
        have: u64,
        /// Events asked about.
        want: u64,
    },
    /// A proof did not check.
    #[error(transparent)]
    Proof(#[from] ProofError),
    /// A key or key file is unusable.
    #[error("signing key: {0}")]
    Key(String),
    /// A signed note is malformed or its signature does not check.
    #[error("checkpoint note: {0}")]
    Note(String),
    /// Work handed to another thread did not finish (the runtime is
    /// shutting down).
    #[error("interrupted: {0}")]
    Interrupted(String),
    /// The checkpoint folder already holds a different note for the same
    /// tree size: the log's history at that size is not what was signed
    /// then (or another key signs now). The file is never replaced.
    #[error("{path} holds a different checkpoint of the same size: the log was rewritten, or another key signs it; the file is kept")]
    CheckpointDiffers {
        /// The file.
        path: String,
    },
    /// A trusted checkpoint note (`verify --trusted-checkpoint`) is not a
    /// note signed by the log's key.
    #[error("trusted checkpoint {path}: {reason}")]
    Trusted {
        /// The file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        error: std::io::Error,
    },
    /// A bundle file could not be rendered.
    #[error("rendering {file}: {reason}")]
    Render {
        /// The bundle file.
        file: &'static str,
        /// What failed.
        reason: String,
    },
}
