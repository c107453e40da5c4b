//! Errors a command or query answers, each with a stable code.

use crate::domain::DomainError;
use crate::store::StoreError;

/// Why a request was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No valid token came with the request.
    #[error("a valid token is needed: send `Authorization: Bearer <token>`")]
    Unauthenticated,
    /// The domain refused the command.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// Something changed concurrently; retrying is safe.
    #[error("{0}; it is safe to retry")]
    Conflict(String),
    /// A `commandId` already used for a different command.
    #[error("commandId {0} was already used for a different command")]
    CommandIdReused(uuid::Uuid),
    /// A failure that is not the caller's; details are logged, not answered.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl AppError {
    /// The stable error code of DESIGN.md.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated => "UNAUTHENTICATED",
            AppError::Domain(error) => error.code(),
            AppError::Conflict(_) => "CONFLICT",
            AppError::CommandIdReused(_) => "INVALID_INPUT",
            AppError::Internal(_) => "INTERNAL",
        }
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict { .. } => AppError::Conflict(error.to_string()),
            StoreError::InvalidAppend(message) => {
                AppError::Domain(DomainError::InvalidInput(message))
            }
            other => AppError::Internal(other.into()),
        }
    }
}
