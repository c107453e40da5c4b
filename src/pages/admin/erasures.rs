//! The admin page's personal data requests (UK GDPR): erase a person's
//! personal data, and correct a person's name or e-mail address. Both call
//! the application ([`crate::app::App::erase_person`],
//! [`crate::app::App::correct_person`]); the record's proof is unchanged.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use uuid::Uuid;

use super::{beside, command, done, refused, require_admin, AdminForm};
use crate::app::AppError;
use crate::domain::{validate, DomainError, PersonId};
use crate::pages::error::PageError;
use crate::pages::session::{CsrfForm, SignedIn};
use crate::pages::{FormErrors, PagesState, SelectOption};
use crate::read::directory::PersonView;

/// The personal data requests part of one rendering of the admin page.
pub struct ErasuresPart {
    /// The people whose data may be erased or corrected (not yet erased).
    pub erase_options: Vec<SelectOption>,
    /// The same, for the correction form.
    pub correct_options: Vec<SelectOption>,
    /// Whether the erasure form's box for what they wrote is ticked.
    pub contributions: bool,
    /// The erasure form's command id.
    pub erase_command: String,
    /// The correction form's command id.
    pub correct_command: String,
}

impl ErasuresPart {
    /// The part for `people` (by name) in the rendering `page_id`.
    pub fn build(people: &[&PersonView], form: &AdminForm, page_id: Uuid) -> Self {
        let command = |what: &str| Uuid::new_v5(&page_id, what.as_bytes()).to_string();
        let options = |chosen: &str| {
            let mut all = vec![SelectOption::new("", "Choose a person", chosen)];
            all.extend(people.iter().filter(|p| p.erased_at.is_none()).map(|p| {
                SelectOption::new(
                    p.id.0.to_string(),
                    format!("{} ({})", p.name, p.email),
                    chosen,
                )
            }));
            all
        };
        ErasuresPart {
            erase_options: options(&form.erase_person),
            correct_options: options(&form.correct_person),
            contributions: form.erase_contributions == "yes",
            erase_command: command("erase"),
            correct_command: command("correct"),
        }
    }
}

/// The confirmation of an erasure at log `position`, or `None` when `key`
/// is not one.
pub fn erased_confirmation(key: &str, position: Option<u64>) -> Option<String> {
    let text = match key {
        "person-erased" => "what they wrote stays as it was",
        "person-erased-with-text" => "what they wrote (advice, objections, notes) is erased too",
        _ => return None,
    };
    let at = position
        .map(|p| format!(" at log position {p}"))
        .unwrap_or_default();
    Some(format!(
        "Done: the person now reads as \"Erased person\" everywhere, and {text}. The erasure is recorded{at}, with your name and the reason. Their tokens are revoked and their sessions ended."
    ))
}

fn person_of(state: &PagesState, text: &str) -> Option<PersonId> {
    let id = super::form::id(text).map(PersonId)?;
    let directory = state.app.read.directory();
    directory
        .person(id)
        .filter(|p| p.erased_at.is_none())
        .map(|p| p.id)
}

/// `POST /admin/erasures`: erases a person's personal data.
pub async fn erase(
    State(state): State<PagesState>,
    SignedIn { actor, session }: SignedIn,
    CsrfForm(form): CsrfForm<AdminForm>,
) -> Result<Response, PageError> {
    require_admin(&actor)?;
    let mut errors = FormErrors::default();
    let person = person_of(&state, &form.erase_person);
    if person.is_none() {
        errors.add(
            "erase-person",
            "Choose the person whose personal data is to be erased.",
        );
    }
    if form.erase_reason.trim().is_empty() {
        errors.add(
            "erase-reason",
            "Enter the reason, like the erasure request's reference. Do not write the person's name.",
        );
    }
    if let (Some(person), true) = (person, errors.is_empty()) {
        let meta = command(&actor, &form);
        let with_text = form.erase_contributions == "yes";
        match state
            .app
            .erase_person(&meta, person, form.erase_reason.trim(), with_text)
            .await
        {
            Ok(outcome) => {
                let key = if with_text {
                    "person-erased-with-text"
                } else {
                    "person-erased"
                };
                return Ok(Redirect::to(&format!(
                    "/admin?done={key}&position={}#requests",
                    outcome.position
                ))
                .into_response());
            }
            // The person is chosen from the list: the one input refused
            // here is the reason (too long, or control characters).
            Err(error @ AppError::Domain(DomainError::InvalidInput(_))) => {
                beside(&mut errors, "erase-reason", error)?
            }
            Err(error) => beside(&mut errors, "erase-person", error)?,
        }
    }
    refused(&state, &actor, &session, errors, form)
}

/// `POST /admin/corrections`: corrects a person's name or e-mail address.
pub async fn correct(
    State(state): State<PagesState>,
    SignedIn { actor, session }: SignedIn,
    CsrfForm(form): CsrfForm<AdminForm>,
) -> Result<Response, PageError> {
    require_admin(&actor)?;
    let mut errors = FormErrors::default();
    let person = person_of(&state, &form.correct_person);
    if person.is_none() {
        errors.add("correct-person", "Choose whose details to correct.");
    }
    let name = Some(form.correct_name.trim()).filter(|n| !n.is_empty());
    let email = Some(form.correct_email.trim()).filter(|e| !e.is_empty());
    if person.is_some() && name.is_none() && email.is_none() {
        errors.add(
            "correct-name",
            "Enter the name or the e-mail address as it should read (or both).",
        );
    }
    // Each field is checked with the domain's own rules first, so an
    // error is placed by the field it is about, never by its words.
    if let Some(Err(error)) = name.map(|n| validate::name("a person's name", n)) {
        errors.add("correct-name", error.to_string());
    }
    if let Some(Err(error)) = email.map(validate::email) {
        errors.add("correct-email", error.to_string());
    }
    if let (Some(person), true) = (person, errors.is_empty()) {
        let meta = command(&actor, &form);
        match state.app.correct_person(&meta, person, name, email).await {
            Ok(_) => return Ok(done("person-corrected", "requests")),
            // With the fields checked above: an address someone else has.
            Err(error @ AppError::Domain(DomainError::InvalidState(_))) if email.is_some() => {
                beside(&mut errors, "correct-email", error)?
            }
            // Nothing to correct: the details are already as given.
            Err(error @ AppError::Domain(DomainError::InvalidInput(_))) => {
                beside(&mut errors, "correct-name", error)?
            }
            Err(error) => beside(&mut errors, "correct-person", error)?,
        }
    }
    refused(&state, &actor, &session, errors, form)
}
