//! `/`: what needs the signed-in person now, and the teams and groups they
//! are in; for a visitor, what advice-log is and a way to sign in.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};

use super::error::PageError;
use super::format::{any_name, owner_link, owner_name};
use super::session::Session;
use super::{Chrome, PagesState};
use crate::domain::proposal::compliance::compliance_named;
use crate::domain::proposal::rules::refusal;
use crate::domain::proposal::work::WorkKind;
use crate::domain::proposal::Status;
use crate::domain::TeamRole;

/// One thing waiting for the viewer.
struct WorkRow {
    title: String,
    href: String,
    owner: String,
    owner_href: String,
    due: Option<String>,
    /// For a decision to record: what it still waits for, if anything.
    waits_for: Option<String>,
}

/// The items of one kind.
struct WorkGroup {
    heading: &'static str,
    id: &'static str,
    order: u8,
    rows: Vec<WorkRow>,
}

/// A team or group the viewer is in.
struct Place {
    name: String,
    href: String,
    role: &'static str,
}

/// The home page.
#[derive(Template)]
#[template(path = "pages/home.html")]
struct HomePage {
    chrome: Chrome,
    signed_in: bool,
    groups: Vec<WorkGroup>,
    places: Vec<Place>,
    total: usize,
}

/// The heading and anchor of a kind of work, and its place on the page.
fn heading(kind: WorkKind) -> (&'static str, &'static str) {
    match kind {
        WorkKind::GiveAdvice => ("Advice to give", "give-advice"),
        WorkKind::CastVote => ("Votes to cast", "cast-vote"),
        WorkKind::ConfirmObjection => ("Objections to confirm or withdraw", "confirm-objection"),
        WorkKind::RecordDecision => ("Decisions to record", "record-decision"),
        WorkKind::ReviewDecision => ("Decisions due for review", "review-decision"),
    }
}

/// `GET /`.
pub async fn page(
    State(state): State<PagesState>,
    session: Session,
) -> Result<Response, PageError> {
    let actor = session.actor(&state.app.read.directory());
    let Some(actor) = actor else {
        let page = HomePage {
            chrome: Chrome::new(
                &state,
                &session,
                None,
                "Decisions your team can stand behind",
                "/",
            ),
            signed_in: false,
            groups: Vec::new(),
            places: Vec::new(),
            total: 0,
        };
        return render(page);
    };
    let f = state.formatter();
    let work = state.app.my_work(actor.person, f.now()).await?;
    let directory = state.app.read.directory();
    let name = |id| any_name(&directory, id);
    let mut groups: Vec<WorkGroup> = Vec::new();
    for item in &work {
        let (heading, id) = heading(item.kind);
        let order = item.kind as u8;
        let proposal = &item.proposal;
        let owner = proposal.state.owner;
        let waits_for =
            if item.kind == WorkKind::RecordDecision && proposal.state.status == Status::Open {
                let verdict = compliance_named(&proposal.state, f.now(), &name);
                Some(
                    verdict
                        .checks
                        .iter()
                        .find_map(|check| refusal(check).map(|_| check.detail.clone()))
                        .map(|d| format!("Waits: {d}"))
                        .unwrap_or_else(|| "You can record the decision now.".into()),
                )
            } else {
                None
            };
        let row = WorkRow {
            title: proposal.state.title.clone(),
            href: format!("/proposals/{}", proposal.id.0),
            owner: owner.map(|o| owner_name(&directory, o)).unwrap_or_default(),
            owner_href: owner.map(owner_link).unwrap_or_default(),
            due: item.due_at.map(|at| f.when(at)),
            waits_for,
        };
        match groups.iter_mut().find(|g| g.id == id) {
            Some(group) => group.rows.push(row),
            None => groups.push(WorkGroup {
                heading,
                id,
                order,
                rows: vec![row],
            }),
        }
    }
    groups.sort_by_key(|g| g.order);
    let mut places: Vec<Place> = directory
        .teams_of(actor.person)
        .into_iter()
        .map(|team| Place {
            name: team.name.clone(),
            href: format!("/teams/{}", team.id.0),
            role: match team.role_of(actor.person) {
                Some(TeamRole::Coach) => "coach",
                _ => "member",
            },
        })
        .collect();
    for group in directory.groups() {
        if group
            .representatives
            .iter()
            .any(|r| r.person == actor.person)
        {
            places.push(Place {
                name: group.name.clone(),
                href: format!("/groups/{}", group.id.0),
                role: "representative",
            });
        }
    }
    drop(directory);
    let page = HomePage {
        chrome: Chrome::new(&state, &session, Some(&actor), "What needs you now", "/"),
        signed_in: true,
        total: work.len(),
        groups,
        places,
    };
    render(page)
}

fn render(page: HomePage) -> Result<Response, PageError> {
    let html = page
        .render()
        .map_err(|e| PageError::Internal(e.to_string()))?;
    Ok(Html(html).into_response())
}
