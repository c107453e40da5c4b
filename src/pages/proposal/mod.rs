//! `/proposals/{id}`: everything about a proposal (the body and every
//! earlier version, who was asked and what they said, objections, votes, the
//! decision with its notes, reviews, the verdict's checks and the trail),
//! and a form for exactly each action the viewer may take now, with what it
//! waits for; `/proposals/new` raises one; `/proposals/{id}/updates` tells
//! an open page when the proposal changes.
//!
//! Anyone signed in may read a proposal (as the API's `proposal` query
//! allows); what they may do is the domain's to say
//! ([`crate::domain::proposal::actions`]).

mod act;
mod choices;
mod forms;
pub mod raise;
pub mod redact;
mod refusals;
mod rows;
mod trail;
pub mod updates;
mod view;
mod words;

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

pub use act::{resolve, submit};
use forms::{ActionForms, Posted};
use view::ProposalView;

use super::error::PageError;
use super::session::SignedIn;
use super::{Chrome, FormErrors, PagesState};
use crate::app::proposals::LoadedProposal;
use crate::domain::proposal::{Owner, ProposalId, Status};

/// The page of a proposal.
#[derive(Template)]
#[template(path = "pages/proposal.html")]
struct ProposalPage {
    chrome: Chrome,
    errors: FormErrors,
    posted: Posted,
    p: ProposalView,
    forms: ActionForms,
    /// The log position of the proposal's last event shown.
    after: u64,
    /// Whether the viewer is an admin (who may redact text in the trail).
    admin: bool,
}

/// What `/proposals/{id}` may be asked.
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    /// The action just done, for its confirmation.
    done: Option<String>,
}

/// The confirmation of an action just done (never text from the URL).
fn done_message(done: &str) -> Option<&'static str> {
    Some(match done {
        "raised" => {
            "Your proposal is raised. Ask the people affected and those who know for advice."
        }
        "advice" => "Your advice is recorded.",
        "objection" => "Your objection is recorded.",
        "resolved" => "The objection is resolved.",
        "amended" => "The proposal is amended. Earlier versions stay on this page.",
        "vote" => "Your vote is recorded.",
        "decided" => "The decision is recorded.",
        "withdrawn" => "The proposal is withdrawn.",
        "reviewed" => "Your review is recorded.",
        "asked" => "Your request for advice is recorded.",
        "deadline" => "The advice deadline is moved.",
        "redacted" => {
            "The text is erased. The trail records who erased it and why; nothing else changed."
        }
        _ => return None,
    })
}

/// The page where an owner's members raise a proposal.
pub fn raise_href(owner: Owner) -> String {
    format!("/proposals/new?owner={}", choices::owner_value(owner))
}

/// `GET` of a form's address (a form's page reloaded, or the page a sign-in
/// came back to after a post): back to the proposal.
pub async fn back(Path(path): Path<Vec<String>>) -> Result<Response, PageError> {
    let id = parse_id(path.first().map(String::as_str).unwrap_or_default())?;
    Ok(Redirect::to(&format!("/proposals/{}", id.0)).into_response())
}

/// What a proposal page says when there is no proposal at its address.
const NO_PROPOSAL: &str = "There is no proposal at this address.";

/// A proposal id from the path; anything else is not found.
fn parse_id(text: &str) -> Result<ProposalId, PageError> {
    ProposalId::parse(text).map_err(|_| PageError::NotFound(NO_PROPOSAL.into()))
}

/// Proposal `id` as it stands, read from the log; not found unless raised.
async fn load_raised(state: &PagesState, id: ProposalId) -> Result<LoadedProposal, PageError> {
    let loaded = state.app.load_proposal(id, None).await?;
    if loaded.projected.state.status == Status::Unraised {
        return Err(PageError::NotFound(NO_PROPOSAL.into()));
    }
    Ok(loaded)
}

/// `GET /proposals/{id}`.
pub async fn page(
    State(state): State<PagesState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let flash = query
        .done
        .as_deref()
        .and_then(done_message)
        .map(String::from);
    render(
        &state,
        &signed_in,
        id,
        FormErrors::default(),
        Posted::default(),
        flash,
    )
    .await
}

/// The page of proposal `id` as it stands, with `errors` beside the fields
/// of a refused form and what it `posted` (status 422 when there are errors).
async fn render(
    state: &PagesState,
    signed_in: &SignedIn,
    id: ProposalId,
    errors: FormErrors,
    posted: Posted,
    flash: Option<String>,
) -> Result<Response, PageError> {
    let loaded = load_raised(state, id).await?;
    let proposal = &loaded.projected.state;
    let actions = state.app.actions_on(signed_in.actor, proposal).await?;
    let linked: Vec<ProposalId> = proposal
        .supersedes
        .iter()
        .chain(proposal.superseded_by.iter())
        .copied()
        .collect();
    let titles: HashMap<uuid::Uuid, String> = if linked.is_empty() {
        HashMap::new()
    } else {
        state
            .app
            .projector
            .views()
            .load(&linked)
            .await?
            .into_iter()
            .map(|p| (p.id.0, p.state.title))
            .collect()
    };
    let f = state.formatter();
    let directory = state.app.read.directory();
    let p = view::build(&loaded, &directory, &f, &titles);
    let forms = forms::build(
        &actions,
        proposal,
        signed_in.actor.person,
        &directory,
        &posted,
        &f,
    );
    drop(directory);
    let chrome = Chrome::new(
        state,
        &signed_in.session,
        Some(&signed_in.actor),
        p.title.clone(),
        "",
    )
    .with_errors(&errors)
    .with_flash(flash);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = ProposalPage {
        chrome,
        errors,
        posted,
        p,
        forms,
        after: loaded.events.last().map(|e| e.position).unwrap_or(0),
        admin: signed_in.actor.is_admin(),
    };
    let html = page
        .render()
        .map_err(|e| PageError::Internal(e.to_string()))?;
    Ok((status, Html(html)).into_response())
}
