//! `/proposals/{id}/redact?event=`: an admin erases one field of free text
//! of one entry of a proposal's trail (a patient's name typed into an
//! objection, say) with [`crate::app::App::redact_text`]. The entry stays
//! in the trail, the field reads "[This text has been erased]", and the
//! redaction is itself an entry, with who did it and why.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::parse_id;
use super::trail::{open_fields, trail, TrailRow};
use crate::app::{AppError, CommandMeta};
use crate::domain::proposal::ProposalId;
use crate::domain::{Actor, Caller, DomainError};
use crate::pages::error::PageError;
use crate::pages::session::{CsrfForm, Session, SignedIn};
use crate::pages::team::render as render_template;
use crate::pages::{Chrome, FormErrors, PagesState, SelectOption};

/// One free-text field of the entry, as it reads now.
pub struct FieldText {
    /// What it is, in words.
    label: &'static str,
    /// What it says.
    text: String,
}

/// The page that redacts a field of one entry.
#[derive(Template)]
#[template(path = "pages/proposal_redact.html")]
struct RedactPage {
    chrome: Chrome,
    errors: FormErrors,
    /// The proposal's id and title.
    proposal_id: String,
    title: String,
    /// The entry, as the trail shows it.
    entry: TrailRow,
    /// Its free text, field by field.
    texts: Vec<FieldText>,
    /// The fields that may still be redacted, as radios.
    fields: Vec<SelectOption>,
    /// The reason typed.
    reason: String,
    /// The form's command id: a form sent twice acts once.
    command: String,
}

/// Which entry the page is about.
#[derive(Debug, Deserialize)]
pub struct RedactQuery {
    /// The event's id.
    #[serde(default)]
    event: String,
}

/// What the form posts.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct RedactForm {
    /// The form's command id.
    command: String,
    /// The event's id.
    event: String,
    /// The field to redact, by the name `redactText` takes.
    redact_field: String,
    /// Why (kept in the record).
    redact_reason: String,
}

/// A free-text field in words.
fn field_words(name: &str) -> &'static str {
    match name {
        "body" => "The proposal's text",
        "reason" => "The reason",
        "text" => "The advice",
        "note" => "The note",
        "rationale" => "The rationale of the decision",
        "notes" => "The notes on the advice and objections weighed",
        _ => "The text",
    }
}

/// What a field of `payload` says now (the notes of a decision one per line).
fn field_text(payload: &Value, name: &str) -> String {
    match payload.get(name) {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|item| item.get("note").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

fn require_admin(actor: &Actor) -> Result<(), PageError> {
    if actor.is_admin() {
        Ok(())
    } else {
        Err(PageError::Forbidden(
            "Only the organisation's admins can erase text from a proposal. If something here should not have been written, ask one of your advice-log admins."
                .into(),
        ))
    }
}

fn no_entry() -> PageError {
    PageError::NotFound("There is no such entry in this proposal's trail.".into())
}

/// `GET /proposals/{id}/redact?event=`.
pub async fn form(
    State(state): State<PagesState>,
    SignedIn { actor, session }: SignedIn,
    Path(id): Path<String>,
    Query(query): Query<RedactQuery>,
) -> Result<Response, PageError> {
    require_admin(&actor)?;
    let id = parse_id(&id)?;
    let event = Uuid::parse_str(query.event.trim()).map_err(|_| no_entry())?;
    let posted = RedactForm {
        event: event.to_string(),
        ..RedactForm::default()
    };
    show(&state, &actor, &session, id, posted, FormErrors::default()).await
}

/// `POST /proposals/{id}/redact`: redacts the field chosen.
pub async fn submit(
    State(state): State<PagesState>,
    SignedIn { actor, session }: SignedIn,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<RedactForm>,
) -> Result<Response, PageError> {
    require_admin(&actor)?;
    let id = parse_id(&id)?;
    let event = Uuid::parse_str(form.event.trim()).map_err(|_| no_entry())?;
    let mut errors = FormErrors::default();
    if form.redact_field.trim().is_empty() {
        errors.add("redact-field", "Choose which text to erase.");
    }
    if form.redact_reason.trim().is_empty() {
        errors.add(
            "redact-reason",
            "Enter the reason, like the request's reference. Do not repeat the text being erased.",
        );
    }
    if errors.is_empty() {
        let meta = CommandMeta::new(
            Caller::Person(actor),
            Uuid::parse_str(form.command.trim()).ok(),
        );
        let redacted = state
            .app
            .redact_text(
                &meta,
                event,
                form.redact_field.trim(),
                form.redact_reason.trim(),
            )
            .await;
        match redacted {
            Ok(_) => {
                return Ok(
                    Redirect::to(&format!("/proposals/{}?done=redacted#trail", id.0))
                        .into_response(),
                )
            }
            Err(AppError::Domain(DomainError::NotFound(_))) => return Err(no_entry()),
            // The reason is the one free input: too long, or control
            // characters. Any other input refused is the field chosen.
            Err(error @ AppError::Domain(DomainError::InvalidInput(_)))
                if error.to_string().contains("the reason for the redaction") =>
            {
                crate::pages::admin::beside(&mut errors, "redact-reason", error)?
            }
            Err(AppError::Domain(DomainError::InvalidInput(_))) => errors.add(
                "redact-field",
                "Choose one of the texts listed: only what someone wrote can be erased here.",
            ),
            Err(error) => crate::pages::admin::beside(&mut errors, "redact-field", error)?,
        }
    }
    show(&state, &actor, &session, id, form, errors).await
}

/// The page for the entry `posted.event` of proposal `id`, with `errors`
/// (422 when there are some).
async fn show(
    state: &PagesState,
    actor: &Actor,
    session: &Session,
    id: ProposalId,
    posted: RedactForm,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let loaded = super::load_raised(state, id).await?;
    let proposal = &loaded.projected.state;
    let event_id = Uuid::parse_str(posted.event.trim()).map_err(|_| no_entry())?;
    let Some(index) = loaded.events.iter().position(|e| e.event_id == event_id) else {
        return Err(no_entry());
    };
    let event = &loaded.events[index];
    let f = state.formatter();
    let entry = {
        let directory = state.app.read.directory();
        trail(&loaded, &directory, &f)
            .into_iter()
            .nth(index)
            .ok_or_else(no_entry)?
    };
    let open = open_fields(event, &proposal.redacted);
    let chosen = if open.len() == 1 && posted.redact_field.is_empty() {
        open[0].to_string()
    } else {
        posted.redact_field.trim().to_string()
    };
    let mut texts: Vec<FieldText> = Vec::new();
    for field in crate::domain::personal_data::personal_fields(&event.event_type) {
        let name = field.redaction_name();
        if field.protection == crate::domain::personal_data::Protection::Contribution
            && !texts.iter().any(|t| t.label == field_words(name))
        {
            texts.push(FieldText {
                label: field_words(name),
                text: field_text(&event.payload, name),
            });
        }
    }
    let chrome = Chrome::new(state, session, Some(actor), "Redact text", "").with_errors(&errors);
    let page = RedactPage {
        chrome,
        proposal_id: id.0.to_string(),
        title: proposal.title.clone(),
        entry,
        texts,
        fields: open
            .iter()
            .map(|name| SelectOption::new(*name, field_words(name), &chosen))
            .collect(),
        reason: posted.redact_reason,
        command: Uuid::new_v4().to_string(),
        errors,
    };
    let mut response = render_template(&page)?;
    if !page.errors.is_empty() {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}
