//! What a page answers when it cannot show what was asked: a page in the
//! same layout, in plain words, with the right status.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::app::AppError;
use crate::domain::DomainError;

/// Why a page could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// Nobody is signed in; the path to come back to after signing in.
    #[error("sign in to see this page")]
    SignInNeeded(String),
    /// A form came without this session's CSRF token.
    #[error("this form has expired or did not come from advice-log")]
    Csrf,
    /// The form could not be read at all.
    #[error("the form could not be read: {0}")]
    BadForm(String),
    /// Nothing here.
    #[error("{0}")]
    NotFound(String),
    /// Not for this person.
    #[error("{0}")]
    Forbidden(String),
    /// A failure that is not the visitor's; details are logged only.
    #[error("something went wrong on our side")]
    Internal(String),
}

impl From<AppError> for PageError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Domain(DomainError::NotFound(message)) => PageError::NotFound(message),
            AppError::Domain(DomainError::Forbidden(message)) => PageError::Forbidden(message),
            AppError::Unauthenticated => PageError::SignInNeeded("/".into()),
            other => PageError::Internal(format!("{other:#}: {:?}", other)),
        }
    }
}

impl From<crate::store::StoreError> for PageError {
    fn from(error: crate::store::StoreError) -> Self {
        PageError::from(AppError::from(error))
    }
}

/// The error page.
#[derive(Template)]
#[template(path = "pages/error.html")]
struct ErrorPage {
    heading: &'static str,
    message: String,
    status: u16,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, heading) = match &self {
            PageError::SignInNeeded(next) => {
                let safe = next.starts_with('/') && !next.starts_with("//");
                let target = if safe && next != "/" {
                    format!("/sign-in?next={}", urlencode(next))
                } else {
                    "/sign-in".to_string()
                };
                return Redirect::to(&target).into_response();
            }
            PageError::Csrf => (StatusCode::FORBIDDEN, "This form cannot be accepted"),
            PageError::BadForm(_) => (StatusCode::BAD_REQUEST, "This form cannot be read"),
            PageError::NotFound(_) => (StatusCode::NOT_FOUND, "Page not found"),
            PageError::Forbidden(_) => (StatusCode::FORBIDDEN, "You cannot see this"),
            PageError::Internal(detail) => {
                tracing::error!(%detail, "a page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Sorry, there is a problem with the service",
                )
            }
        };
        let message = match &self {
            PageError::Csrf => "Nothing was changed. The form may have been open too long, or come from another site. Go back, reload the page and try again.".to_string(),
            PageError::Internal(_) => "Nothing you sent was lost or half-done. Try again in a moment; if it keeps happening, tell your advice-log administrator.".to_string(),
            other => other.to_string(),
        };
        let page = ErrorPage {
            heading,
            message,
            status: status.as_u16(),
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, heading).into_response(),
        }
    }
}

/// Percent-encodes a path for a query string.
pub fn urlencode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}
