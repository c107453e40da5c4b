//! `/preferences`: how the signed-in person hears from advice-log by
//! e-mail (each time, a daily digest, or not at all). Every e-mail's
//! `List-Unsubscribe` link comes here, so a signed-out visitor is sent to
//! sign in and brought back.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::admin::{beside, Done};
use super::error::PageError;
use super::session::{CsrfForm, Session, SignedIn};
use super::team::render;
use super::{Chrome, FormErrors, PagesState, SelectOption};
use crate::app::CommandMeta;
use crate::domain::notification::Frequency;
use crate::domain::{Actor, Caller};

/// The preferences page.
#[derive(Template)]
#[template(path = "pages/preferences.html")]
struct PreferencesPage {
    chrome: Chrome,
    errors: FormErrors,
    /// Where the e-mails go.
    email: String,
    /// The choice saved now, in words.
    current: &'static str,
    options: Vec<SelectOption>,
    /// This rendering's command id: a form sent twice acts once.
    command: String,
}

/// What the form posts.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PreferencesForm {
    /// The form's command id.
    command: String,
    /// `immediate`, `daily` or `off`.
    frequency: String,
}

/// A frequency as the form posts it.
fn value(frequency: Frequency) -> &'static str {
    match frequency {
        Frequency::Immediate => "immediate",
        Frequency::Daily => "daily",
        Frequency::Off => "off",
    }
}

/// A frequency in words, as the radios say it.
fn words(frequency: Frequency) -> &'static str {
    match frequency {
        Frequency::Immediate => "Each time something needs you",
        Frequency::Daily => "One e-mail a day with everything",
        Frequency::Off => "No e-mails: I'll check advice-log myself",
    }
}

/// The confirmation shown after saving, by its key.
fn confirmation(key: &str) -> Option<String> {
    let frequency = match key {
        "immediate" => Frequency::Immediate,
        "daily" => Frequency::Daily,
        "off" => Frequency::Off,
        _ => return None,
    };
    Some(format!("Saved. From now on: {}.", words(frequency)))
}

/// The page's header and title for `actor`.
fn chrome(state: &PagesState, session: &Session, actor: &Actor) -> Chrome {
    Chrome::new(
        state,
        session,
        Some(actor),
        "How you hear from advice-log",
        "/preferences",
    )
}

/// The page for `actor`, with `chosen` selected (the saved choice unless a
/// refused form chose another).
fn build(
    state: &PagesState,
    chrome: Chrome,
    actor: &Actor,
    errors: FormErrors,
    chosen: Option<&str>,
) -> Result<PreferencesPage, PageError> {
    let directory = state.app.read.directory();
    let person = directory
        .person(actor.person)
        .ok_or_else(|| PageError::NotFound("you are no longer registered".into()))?;
    let saved = person.frequency;
    let chosen = chosen.unwrap_or(value(saved));
    Ok(PreferencesPage {
        chrome,
        errors,
        email: person.email.clone(),
        current: words(saved),
        options: [Frequency::Immediate, Frequency::Daily, Frequency::Off]
            .into_iter()
            .map(|f| SelectOption::new(value(f), words(f), chosen))
            .collect(),
        command: Uuid::new_v4().to_string(),
    })
}

/// `GET /preferences`.
pub async fn page(
    State(state): State<PagesState>,
    SignedIn { actor, session }: SignedIn,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    let chrome = chrome(&state, &session, &actor).with_flash(confirmation(done.key()));
    let page = build(&state, chrome, &actor, FormErrors::default(), None)?;
    render(&page)
}

/// `POST /preferences`: saves the choice.
pub async fn save(
    State(state): State<PagesState>,
    SignedIn { actor, session }: SignedIn,
    CsrfForm(form): CsrfForm<PreferencesForm>,
) -> Result<Response, PageError> {
    let mut errors = FormErrors::default();
    let frequency = match form.frequency.as_str() {
        "immediate" => Some(Frequency::Immediate),
        "daily" => Some(Frequency::Daily),
        "off" => Some(Frequency::Off),
        _ => None,
    };
    match frequency {
        None => errors.add(
            "frequency",
            "Choose how often advice-log should e-mail you.",
        ),
        Some(frequency) => {
            let meta = CommandMeta::new(
                Caller::Person(actor),
                Uuid::parse_str(form.command.trim()).ok(),
            );
            match state
                .app
                .set_notification_preference(&meta, frequency)
                .await
            {
                Ok(_) => {
                    return Ok(
                        Redirect::to(&format!("/preferences?done={}", value(frequency)))
                            .into_response(),
                    )
                }
                Err(error) => beside(&mut errors, "frequency", error)?,
            }
        }
    }
    let chrome = chrome(&state, &session, &actor).with_errors(&errors);
    let chosen = (!form.frequency.is_empty()).then_some(form.frequency.as_str());
    let page = build(&state, chrome, &actor, errors, chosen)?;
    let mut response = render(&page)?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confirmations_are_fixed_text_chosen_by_key() {
        assert_eq!(
            confirmation("daily").as_deref(),
            Some("Saved. From now on: One e-mail a day with everything.")
        );
        assert_eq!(confirmation("<b>hi</b>"), None);
    }
}
