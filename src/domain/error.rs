//! Why the domain refuses a command.

/// A refused command. The message says what was wrong, in the users' words;
/// [`DomainError::code`] is the stable code clients match on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// Something the command names does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The command itself is malformed.
    #[error("{0}")]
    InvalidInput(String),
    /// The command does not fit the current state.
    #[error("{0}")]
    InvalidState(String),
    /// Under the advice rule, requested advisers have not answered and the
    /// advice deadline has not passed.
    #[error("{0}")]
    AdvicePending(String),
    /// Under the consent rule, an objection is still open.
    #[error("{0}")]
    ObjectionsOpen(String),
    /// Under the threshold rule, too few eligible members agree.
    #[error("{0}")]
    ThresholdNotMet(String),
    /// The group's remaining budget is smaller than the spend.
    #[error("{0}")]
    BudgetExceeded(String),
    /// The decision area is not in the group's mandate.
    #[error("{0}")]
    OutsideMandate(String),
}

impl DomainError {
    /// The stable error code of DESIGN.md.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::Forbidden(_) => "FORBIDDEN",
            DomainError::NotFound(_) => "NOT_FOUND",
            DomainError::InvalidInput(_) => "INVALID_INPUT",
            DomainError::InvalidState(_) => "INVALID_STATE",
            DomainError::AdvicePending(_) => "ADVICE_PENDING",
            DomainError::ObjectionsOpen(_) => "OBJECTIONS_OPEN",
            DomainError::ThresholdNotMet(_) => "THRESHOLD_NOT_MET",
            DomainError::BudgetExceeded(_) => "BUDGET_EXCEEDED",
            DomainError::OutsideMandate(_) => "OUTSIDE_MANDATE",
        }
    }
}
