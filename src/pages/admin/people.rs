//! The admin page's people and tokens: register a person, issue a token
//! (shown once, on the page that answers), revoke a token.

use askama::Template;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::{beside, command, done, refused, require_admin, AdminForm};
use crate::domain::{OrgRole, PersonId, TokenId};
use crate::pages::error::PageError;
use crate::pages::session::{CsrfForm, SignedIn};
use crate::pages::team::render;
use crate::pages::{Chrome, FormErrors, PagesState};

/// The page that shows a new token, once.
#[derive(Template)]
#[template(path = "pages/admin_token.html")]
struct TokenPage {
    chrome: Chrome,
    person: String,
    /// The token, or `None` when this repeats a form already answered.
    token: Option<String>,
}

/// `POST /admin/people`: registers a person.
pub async fn register(
    State(state): State<PagesState>,
    SignedIn { actor, session }: SignedIn,
    CsrfForm(form): CsrfForm<AdminForm>,
) -> Result<Response, PageError> {
    require_admin(&actor)?;
    let mut errors = FormErrors::default();
    if form.person_name.trim().is_empty() {
        errors.add("person-name", "Enter the person's full name.");
    }
    if form.person_email.trim().is_empty() {
        errors.add(
            "person-email",
            "Enter the person's e-mail address, like name@example.nhs.uk.",
        );
    }
    let role = match form.person_role.as_str() {
        "" | "none" => None,
        "admin" => Some(OrgRole::Admin),
        "auditor" => Some(OrgRole::Auditor),
        _ => {
            errors.add(
                "person-role",
                "Choose no organisation role, admin or auditor.",
            );
            None
        }
    };
    if errors.is_empty() {
        let meta = command(&actor, &form);
        match state
            .app
            .register_person(&meta, &form.person_name, &form.person_email, role)
            .await
        {
            Ok(_) => return Ok(done("person-registered", "tokens")),
            Err(error) => {
                let message = error.to_string();
                let field = if message.contains("e-mail") || message.contains("registered with") {
                    "person-email"
                } else {
                    "person-name"
                };
                beside(&mut errors, field, error)?;
            }
        }
    }
    refused(&state, &actor, &session, errors, form)
}

/// `POST /admin/tokens`: issues a token and shows it, once.
pub async fn issue(
    State(state): State<PagesState>,
    SignedIn { actor, session }: SignedIn,
    CsrfForm(form): CsrfForm<AdminForm>,
) -> Result<Response, PageError> {
    require_admin(&actor)?;
    let mut errors = FormErrors::default();
    let person = super::form::id(&form.token_person).map(PersonId);
    let name = person.and_then(|p| state.app.read.directory().person(p).map(|v| v.name.clone()));
    let (Some(person), Some(name)) = (person, name) else {
        errors.add("token-person", "Choose the person the token is for.");
        return refused(&state, &actor, &session, errors, form);
    };
    let meta = command(&actor, &form);
    match state.app.issue_token(&meta, person).await {
        Ok(issued) => {
            let page = TokenPage {
                chrome: Chrome::new(
                    &state,
                    &session,
                    Some(&actor),
                    format!("Sign-in token for {name}"),
                    "/admin",
                ),
                person: name,
                token: issued.token,
            };
            let mut response = render(&page)?;
            // The token is on this page alone: no cache may keep it.
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            Ok(response.into_response())
        }
        Err(error) => {
            beside(&mut errors, "token-person", error)?;
            refused(&state, &actor, &session, errors, form)
        }
    }
}

/// `POST /admin/tokens/revoke`: revokes a token.
pub async fn revoke(
    State(state): State<PagesState>,
    SignedIn { actor, session }: SignedIn,
    CsrfForm(form): CsrfForm<AdminForm>,
) -> Result<Response, PageError> {
    require_admin(&actor)?;
    let mut errors = FormErrors::default();
    let Some(token) = super::form::id(&form.revoke_token).map(TokenId) else {
        errors.add("tokens", "Choose a token to revoke from the list.");
        return refused(&state, &actor, &session, errors, form);
    };
    let meta = command(&actor, &form);
    match state.app.revoke_token(&meta, token).await {
        Ok(_) => Ok(done("token-revoked", "tokens")),
        Err(error) => {
            beside(&mut errors, "tokens", error)?;
            refused(&state, &actor, &session, errors, form)
        }
    }
}
