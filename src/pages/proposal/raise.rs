//! `/proposals/new`: raise a proposal in a team the person is a member of,
//! or a group they represent their team in. Without JavaScript one form
//! serves both: the owner is chosen first (`?owner=team:<id>` or
//! `group:<id>`, which a team's or group's page links to), and the form
//! then shows what that owner takes: a group's decision area and spend.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::choices::{chosen_form, owner_value, owners_of, parse_owner, Chosen};
use super::forms::Posted;
use super::words;
use crate::app::{AppError, CommandMeta, RaiseProposal};
use crate::domain::proposal::{Owner, ProposalId, Rule};
use crate::domain::{Caller, PersonId};
use crate::pages::error::PageError;
use crate::pages::forms::{parse_local, parse_pounds};
use crate::pages::session::{CsrfForm, SignedIn};
use crate::pages::{Chrome, FormErrors, PagesState, SelectOption};

/// The most adopted decisions offered to supersede.
const DECISIONS: u32 = 200;

/// The raise page: choosing the owner, or the form for the chosen one.
#[derive(Template)]
#[template(path = "pages/proposal_raise.html")]
struct RaisePage {
    chrome: Chrome,
    errors: FormErrors,
    posted: Posted,
    /// The owners the person may propose in (the chooser).
    owners: Vec<SelectOption>,
    /// The chosen owner, if any.
    chosen: Option<Chosen>,
}

/// What `/proposals/new` may be asked.
#[derive(Debug, Deserialize)]
pub struct RaiseQuery {
    /// The owner chosen (`team:<id>` or `group:<id>`); empty to choose again.
    owner: Option<String>,
}

/// `GET /proposals/new`.
pub async fn form(
    State(state): State<PagesState>,
    signed_in: SignedIn,
    Query(query): Query<RaiseQuery>,
) -> Result<Response, PageError> {
    let mut errors = FormErrors::default();
    let owners = owners_of(&state, signed_in.actor.person);
    let chosen = match query.owner.as_deref().map(str::trim) {
        None if owners.len() == 1 => owners.first().map(|(o, _)| *o),
        None | Some("") => None,
        Some(value) => match parse_owner(value).filter(|o| owners.iter().any(|(x, _)| x == o)) {
            Some(owner) => Some(owner),
            None => {
                errors.add(
                    "owner",
                    "You can raise proposals only in a team you are a member of, or a group you represent your team in: choose one of these",
                );
                None
            }
        },
    };
    render(&state, &signed_in, chosen, errors, Posted::default()).await
}

/// `POST /proposals/new`.
pub async fn submit(
    State(state): State<PagesState>,
    signed_in: SignedIn,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let posted = Posted::new(fields);
    let mut errors = FormErrors::default();
    let zone = state.time_zone;
    let Some(owner) = parse_owner(posted.v("owner")) else {
        errors.add("owner", "Choose the team or group the proposal is for");
        return render(&state, &signed_in, None, errors, posted).await;
    };
    let group = matches!(owner, Owner::Group(_));
    let rule = match posted.v("rule") {
        "ADVICE" => Some(Rule::Advice),
        "CONSENT" => Some(Rule::Consent),
        "THRESHOLD" => Some(Rule::Threshold),
        _ => {
            errors.add("rule", "Choose how the proposal is decided");
            None
        }
    };
    let threshold = match rule {
        Some(Rule::Threshold) => match percentage(posted.v("threshold")) {
            Ok(share) => Some(share),
            Err(message) => {
                errors.add("threshold", message);
                None
            }
        },
        _ => None,
    };
    let mut date = |field: &str, time: &str| match posted.v(field).trim() {
        "" if time.trim().is_empty() => None,
        day => match parse_local(day, time, zone) {
            Ok(at) => Some(at),
            Err(message) => {
                errors.add(field, message);
                None
            }
        },
    };
    let advice_deadline = date("deadline-date", posted.v("deadline-time"));
    let review_by = date("review-date", "");
    let spend = match (group, posted.v("spend").trim()) {
        (true, "") | (false, _) => None,
        (true, amount) => match parse_pounds(amount) {
            Ok(pence) => Some(pence),
            Err(message) => {
                errors.add("spend", message);
                None
            }
        },
    };
    let area = match (group, posted.v("area").trim()) {
        (true, "") | (false, _) => None,
        (true, area) => Some(area.to_string()),
    };
    let decider = Uuid::parse_str(posted.v("decider").trim())
        .ok()
        .map(PersonId);
    let supersedes = Uuid::parse_str(posted.v("supersedes").trim())
        .ok()
        .map(ProposalId);
    let Some(rule) = rule.filter(|_| errors.is_empty()) else {
        return render(&state, &signed_in, Some(owner), errors, posted).await;
    };
    let raise = RaiseProposal {
        owner,
        title: posted.v("title").to_string(),
        body: posted.v("body").to_string(),
        rule,
        threshold,
        advice_deadline,
        area,
        spend,
        review_by,
        decider,
        supersedes,
    };
    let meta = CommandMeta::new(Caller::Person(signed_in.actor), None);
    match state.app.raise_proposal(&meta, raise).await {
        Ok(done) => {
            Ok(Redirect::to(&format!("/proposals/{}?done=raised", done.subject)).into_response())
        }
        Err(AppError::Domain(error)) => {
            let raw = error.to_string();
            let field = field_of(error.code(), &raw);
            errors.add(field, words::sentence(&raw, &state.formatter()));
            // Not theirs to propose in: they choose again.
            let chosen = (field != "owner").then_some(owner);
            render(&state, &signed_in, chosen, errors, posted).await
        }
        Err(AppError::Conflict(_)) => {
            errors.add(
                "title",
                "The team or group changed at the same moment, so nothing was raised. Send it again.",
            );
            render(&state, &signed_in, Some(owner), errors, posted).await
        }
        Err(other) => Err(PageError::from(other)),
    }
}

/// A share typed as a percentage ("50", "50%", "66.5") as a fraction.
fn percentage(text: &str) -> Result<f64, String> {
    let cleaned = text.trim().trim_end_matches('%').trim();
    match cleaned.parse::<f64>() {
        Ok(p) if (1.0..=100.0).contains(&p) => Ok(p / 100.0),
        _ => Err(
            "Enter the share of members who must agree as a percentage from 1 to 100, like 50"
                .into(),
        ),
    }
}

/// The raise form's field a refusal concerns, by its code and words.
fn field_of(code: &str, message: &str) -> &'static str {
    let said = |word: &str| message.contains(word);
    match code {
        "FORBIDDEN" => "owner",
        "NOT_FOUND" if said("no team") || said("no group") => "owner",
        "OUTSIDE_MANDATE" => "area",
        "BUDGET_EXCEEDED" => "spend",
        _ if said("title") => "title",
        _ if said("body") => "body",
        _ if said("threshold") => "threshold",
        _ if said("advice deadline") => "deadline-date",
        _ if said("review date") => "review-date",
        _ if said("decision area") => "area",
        _ if said("spend") => "spend",
        _ if said("decider") => "decider",
        _ if said("supersede") || said("decided by another") => "supersedes",
        _ => "title",
    }
}

/// The page, for `chosen` (or the chooser), with `errors` and what was posted.
async fn render(
    state: &PagesState,
    signed_in: &SignedIn,
    chosen: Option<Owner>,
    errors: FormErrors,
    posted: Posted,
) -> Result<Response, PageError> {
    let person = signed_in.actor.person;
    let owners = owners_of(state, person);
    let chosen = match chosen {
        Some(owner) => {
            let decisions = state
                .app
                .projector
                .views()
                .decisions(owner, crate::window::Window::first(None, DECISIONS))
                .await?;
            let mut supersedes = vec![SelectOption::new(
                "",
                "None: this is a new decision",
                posted.v("supersedes"),
            )];
            supersedes.extend(
                decisions
                    .into_iter()
                    .filter(|d| d.state.in_force())
                    .map(|d| {
                        SelectOption::new(d.id.0.to_string(), d.state.title, posted.v("supersedes"))
                    }),
            );
            Some(chosen_form(
                state,
                owner,
                person,
                supersedes,
                &posted,
                owners.len() > 1,
            ))
        }
        None => None,
    };
    let first = owners
        .first()
        .map(|(o, _)| owner_value(*o))
        .unwrap_or_default();
    let chosen_value = posted.or("owner", &first);
    let owner_options = owners
        .iter()
        .map(|(owner, label)| SelectOption::new(owner_value(*owner), label.clone(), &chosen_value))
        .collect();
    let chrome = Chrome::new(
        state,
        &signed_in.session,
        Some(&signed_in.actor),
        "Raise a proposal",
        "/proposals/new",
    )
    .with_errors(&errors);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = RaisePage {
        chrome,
        errors,
        posted,
        owners: owner_options,
        chosen,
    };
    let html = page
        .render()
        .map_err(|e| PageError::Internal(e.to_string()))?;
    Ok((status, Html(html)).into_response())
}
