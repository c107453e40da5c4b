//! `/admin`: the organisation's admins register people, issue and revoke
//! sign-in tokens, link people to their identity provider's identities,
//! mark leavers, form teams and change who is in them, form groups,
//! delegate representatives and allocate budgets, and honour personal data
//! requests (erase a person, correct their details). Anyone else is told, in
//! plain words, that the page is not for them.
//!
//! Each action is a form of its own that posts to its own address with the
//! session's CSRF token. A refused action shows the page again (422) with
//! the error beside the field it concerns and what was typed kept; a done
//! one redirects back (303) with a fixed confirmation chosen by a key, so
//! no text from the address is ever shown. A new token is shown once, on
//! the page that answers its form, and never put in an address or kept.

pub mod deliveries;
pub mod erasures;
mod form;
pub mod groups;
pub mod identities;
pub mod people;
pub mod teams;
mod view;
pub mod webhooks;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::error::PageError;
use super::session::{Session, SignedIn};
use super::team::render;
use super::{Chrome, FormErrors, PagesState};
use crate::app::{AppError, CommandMeta};
use crate::domain::{Actor, Caller};
pub use form::AdminForm;

/// The confirmation shown after an action, by its key.
fn confirmation(key: &str) -> Option<&'static str> {
    Some(match key {
        "person-registered" => "The person is registered. Issue them a sign-in token below.",
        "token-revoked" => "The token is revoked: it no longer signs anyone in.",
        "identity-linked" => "The identity is linked: it signs the person in.",
        "identity-unlinked" => {
            "The identity is unlinked: it no longer signs the person in. Their tokens are unchanged."
        }
        "person-left" => {
            "The person is marked as left: their tokens are revoked, their identities unlinked and their sessions ended. Their part in the record stays."
        }
        "team-formed" => "The team is formed. Add its members below.",
        "member-added" => "The person is added to the team.",
        "member-removed" => {
            "The person is taken out of the team. Their earlier part in it stays in the record."
        }
        "group-formed" => {
            "The group is formed. Delegate its representatives and allocate its budget below."
        }
        "representative-delegated" => "The representative is delegated.",
        "budget-allocated" => "The allocation is in the group's budget ledger.",
        "person-corrected" => {
            "The correction is recorded. Their earlier details stay sealed in the record until the person is erased."
        }
        _ => return None,
    })
}

/// Which confirmation to show.
#[derive(Debug, Default, Deserialize)]
pub struct Done {
    #[serde(default)]
    done: String,
    /// The log position of the action, for the confirmations that name it.
    #[serde(default)]
    position: Option<u64>,
}

impl Done {
    /// The key of the confirmation asked for (empty when none).
    pub fn key(&self) -> &str {
        &self.done
    }
}

/// Refuses anyone but an organisation admin, in plain words.
pub fn require_admin(actor: &Actor) -> Result<(), PageError> {
    if actor.is_admin() {
        Ok(())
    } else {
        Err(PageError::Forbidden(
            "Only the organisation's admins can use the admin page. If someone needs registering, a team or group needs changing, or you need a new sign-in token, ask one of your advice-log admins."
                .into(),
        ))
    }
}

/// The command an admin sends from a form, with the form's command id so a
/// form sent twice acts once.
pub fn command(actor: &Actor, form: &AdminForm) -> CommandMeta {
    CommandMeta::new(
        Caller::Person(*actor),
        uuid::Uuid::parse_str(form.command.trim()).ok(),
    )
}

/// `GET /admin`.
pub async fn page(
    State(state): State<PagesState>,
    SignedIn { actor, session }: SignedIn,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    require_admin(&actor)?;
    let flash = confirmation(&done.done)
        .map(str::to_string)
        .or_else(|| erasures::erased_confirmation(&done.done, done.position));
    let chrome = Chrome::new(&state, &session, Some(&actor), "Admin", "/admin").with_flash(flash);
    let page = view::AdminPage::build(&state, chrome, FormErrors::default(), AdminForm::default());
    render(&page)
}

/// Back to the admin page with the confirmation `key`, at `section`.
pub fn done(key: &str, section: &str) -> Response {
    Redirect::to(&format!("/admin?done={key}#{section}")).into_response()
}

/// The admin page again with `errors` beside their fields and what was
/// typed kept (422).
pub fn refused(
    state: &PagesState,
    actor: &Actor,
    session: &Session,
    errors: FormErrors,
    form: AdminForm,
) -> Result<Response, PageError> {
    let chrome = Chrome::new(state, session, Some(actor), "Admin", "/admin").with_errors(&errors);
    let page = view::AdminPage::build(state, chrome, errors, form);
    let mut response = render(&page)?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

/// A refusal of the domain as an error beside `field`; anything else is
/// the page's error.
pub fn beside(errors: &mut FormErrors, field: &str, error: AppError) -> Result<(), PageError> {
    match error {
        AppError::Domain(e) => {
            errors.add(field, sentence(&e.to_string()));
            Ok(())
        }
        AppError::CommandIdReused(_) => {
            errors.add(
                field,
                "This form was already used for something else. Nothing was saved: reload the page and try again.",
            );
            Ok(())
        }
        AppError::Conflict(_) => {
            errors.add(
                field,
                "Someone changed this at the same moment. Nothing was saved: send the form again.",
            );
            Ok(())
        }
        other => Err(other.into()),
    }
}

/// A message as a sentence: a capital first letter and a full stop.
pub fn sentence(text: &str) -> String {
    let mut chars = text.trim().chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confirmations_are_fixed_text_chosen_by_key() {
        assert!(confirmation("team-formed").is_some());
        assert_eq!(confirmation("<script>alert(1)</script>"), None);
        assert_eq!(
            sentence("a team's name must not be empty"),
            "A team's name must not be empty."
        );
    }
}
