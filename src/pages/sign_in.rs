//! Signing in with a token pasted once, and signing out.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::PrivateCookieJar;
use serde::Deserialize;

use super::error::PageError;
use super::session::{over_https, CsrfForm, Identified, Session};
use super::{Chrome, FormErrors, PagesState};
use crate::auth;

/// The sign-in page.
#[derive(Template)]
#[template(path = "pages/sign_in.html")]
struct SignInPage {
    chrome: Chrome,
    errors: FormErrors,
    next: String,
    /// Whether sign-in with the organisation's identity provider is on.
    provider: bool,
}

/// Where to go after signing in.
#[derive(Debug, Deserialize)]
pub struct Next {
    #[serde(default)]
    next: String,
}

/// What the sign-in form posts.
#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    next: String,
}

/// An empty form (sign-out posts only its CSRF token).
#[derive(Debug, Deserialize)]
pub struct Empty {}

/// Only paths on this site: never another site, never a scheme.
pub(super) fn local_path(next: &str) -> String {
    let ok = next.starts_with('/') && !next.starts_with("//") && !next.contains('\\');
    if ok {
        next.to_string()
    } else {
        "/".to_string()
    }
}

fn render(page: SignInPage) -> Result<Response, PageError> {
    let html = page
        .render()
        .map_err(|e| PageError::Internal(e.to_string()))?;
    Ok(Html(html).into_response())
}

/// `GET /sign-in`: the form.
pub async fn form(
    State(state): State<PagesState>,
    session: Session,
    Query(next): Query<Next>,
) -> Result<Response, PageError> {
    render(SignInPage {
        chrome: Chrome::new(&state, &session, None, "Sign in", ""),
        errors: FormErrors::default(),
        next: local_path(&next.next),
        provider: state.oidc.is_some(),
    })
}

/// `POST /sign-in`: checks the token and opens a session for its person.
pub async fn submit(
    State(state): State<PagesState>,
    session: Session,
    jar: PrivateCookieJar,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<SignInForm>,
) -> Result<Response, PageError> {
    let next = local_path(&form.next);
    let token = form.token.trim();
    let mut errors = FormErrors::default();
    if token.is_empty() {
        errors.add("token", "Paste the sign-in token you were given");
    } else {
        match (auth::parse(token), state.app.authenticate(token).await) {
            (Some((id, _)), Ok(actor)) => {
                let now = state.app.clock.now();
                let signed_in = Session::signed_in(actor.person, Identified::Token { id }, now);
                let jar = jar.add(signed_in.cookie(over_https(&headers)));
                return Ok((jar, Redirect::to(&next)).into_response());
            }
            (None, _) => errors.add(
                "token",
                "That is not a sign-in token: it starts with al_ and is about 100 characters long",
            ),
            (Some(_), _) => errors.add(
                "token",
                "That token is not known or no longer works: ask your advice-log administrator for a new one",
            ),
        }
    }
    let chrome = Chrome::new(&state, &session, None, "Sign in", "").with_errors(&errors);
    render(SignInPage {
        chrome,
        errors,
        next,
        provider: state.oidc.is_some(),
    })
}

/// `POST /sign-out`: ends the session; a session opened through the
/// identity provider is then ended there too (RP-initiated logout, when the
/// provider offers it, coming back to the public URL), else home.
pub async fn sign_out(
    State(state): State<PagesState>,
    session: Session,
    jar: PrivateCookieJar,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<Empty>,
) -> Response {
    let fresh = Session::anonymous(state.app.clock.now());
    let jar = jar.add(fresh.cookie(over_https(&headers)));
    let by_provider = matches!(session.person, Some((_, Identified::Provider { .. })));
    let at_provider = state
        .oidc
        .as_ref()
        .filter(|_| by_provider)
        .and_then(|oidc| oidc.logout_url());
    match at_provider {
        Some(url) => (jar, Redirect::to(&url)).into_response(),
        None => (jar, Redirect::to("/")).into_response(),
    }
}
