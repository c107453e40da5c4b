//! Turning application errors into GraphQL errors with `extensions.code`.

use async_graphql::{Context, ErrorExtensions};

use crate::app::AppError;
use crate::domain::{Actor, DomainError};

/// The caller of a request, as the HTTP layer authenticated it.
#[derive(Debug, Clone, Copy)]
pub struct Viewer(pub Option<Actor>);

/// The bearer token a WebSocket connection was opened with, so that its
/// subscriptions end when the token is revoked.
#[derive(Clone)]
pub struct Credential(pub String);

/// Answers an application error as a GraphQL error with its code. Internal
/// errors are logged in full and answered without detail.
pub fn to_graphql(error: AppError) -> async_graphql::Error {
    if let AppError::Internal(inner) = &error {
        tracing::error!(error = ?inner, "internal error");
    }
    let code = error.code();
    crate::metrics::error(code);
    async_graphql::Error::new(error.to_string()).extend_with(|_, e| e.set("code", code))
}

/// Result type of resolvers.
pub type GqlResult<T> = Result<T, async_graphql::Error>;

/// Maps any application-level error into a GraphQL one.
pub trait OrGraphql<T> {
    /// Converts the error side.
    fn gql(self) -> GqlResult<T>;
}

impl<T, E: Into<AppError>> OrGraphql<T> for Result<T, E> {
    fn gql(self) -> GqlResult<T> {
        self.map_err(|e| to_graphql(e.into()))
    }
}

/// The authenticated caller, or `UNAUTHENTICATED`.
pub fn actor(ctx: &Context<'_>) -> GqlResult<Actor> {
    match ctx.data_opt::<Viewer>() {
        Some(Viewer(Some(actor))) => Ok(*actor),
        _ => Err(to_graphql(AppError::Unauthenticated)),
    }
}

/// A `NOT_FOUND` error for an id.
pub fn not_found(what: &str, id: impl std::fmt::Display) -> async_graphql::Error {
    to_graphql(AppError::Domain(DomainError::NotFound(format!(
        "no {what} {id}"
    ))))
}

/// A `FORBIDDEN` error.
pub fn forbidden(message: &str) -> async_graphql::Error {
    to_graphql(AppError::Domain(DomainError::Forbidden(
        message.to_string(),
    )))
}

/// An `INVALID_INPUT` error.
pub fn invalid_input(message: String) -> async_graphql::Error {
    to_graphql(AppError::Domain(DomainError::InvalidInput(message)))
}
