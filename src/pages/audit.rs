//! `/audit`: the latest signed checkpoint and whether it holds, bundle
//! downloads for auditors and admins, and a decision's audit page: its
//! verdict, check by check, and every event of it proven to be in the
//! signed log.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::error::PageError;
use super::format::{any_name, event_words, owner_link, owner_name};
use super::session::{CsrfForm, SignedIn};
use super::{Chrome, FormErrors, PagesState, SelectOption};
use crate::assurance::audit::{AuditSummary, Inclusion};
use crate::assurance::bundle::{export, Selection};
use crate::domain::proposal::compliance::compliance_named;
use crate::domain::proposal::{Outcome, ProposalId, Status};
use crate::domain::{Actor, TeamId};

/// A checkpoint as the page shows it.
struct CheckpointRow {
    size: u64,
    issued: String,
    note: String,
    holds: bool,
    why: String,
}

/// The audit page.
#[derive(Template)]
#[template(path = "pages/audit.html")]
struct AuditPage {
    chrome: Chrome,
    latest: Option<CheckpointRow>,
    earlier: Vec<CheckpointRow>,
    stored: usize,
    all_hold: bool,
    public_key: String,
    may_download: bool,
    teams: Vec<SelectOption>,
    errors: FormErrors,
}

fn rows(summary: &AuditSummary, state: &PagesState) -> (Option<CheckpointRow>, Vec<CheckpointRow>) {
    let f = state.formatter();
    let row = |c: &crate::assurance::audit::CheckedCheckpoint| CheckpointRow {
        size: c.tree_size,
        issued: f.when(c.issued_at),
        note: c.note.clone(),
        holds: c.signature_holds && c.extended.is_ok(),
        why: match (&c.extended, c.signature_holds) {
            (_, false) => "its signature is not the log key's".into(),
            (Err(why), true) => why.clone(),
            (Ok(()), true) => String::new(),
        },
    };
    (
        summary.latest.as_ref().map(row),
        summary.earlier.iter().map(row).collect(),
    )
}

/// Auditors and admins may take the record away.
fn may_download(actor: &Actor) -> bool {
    actor.is_auditor() || actor.is_admin()
}

/// `GET /audit`.
pub async fn page(
    State(state): State<PagesState>,
    viewer: SignedIn,
) -> Result<Response, PageError> {
    let assurance = state
        .app
        .assurance
        .clone()
        .ok_or_else(|| PageError::NotFound("this server keeps no signed checkpoints".into()))?;
    let summary = assurance
        .audit_summary()
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let (latest, earlier) = rows(&summary, &state);
    let teams = {
        let directory = state.app.read.directory();
        directory
            .teams()
            .map(|t| SelectOption::new(t.id.0.to_string(), t.name.clone(), ""))
            .collect()
    };
    let page = AuditPage {
        chrome: Chrome::new(
            &state,
            &viewer.session,
            Some(&viewer.actor),
            "Audit",
            "/audit",
        ),
        latest,
        earlier,
        stored: summary.stored,
        all_hold: summary.all_hold(),
        public_key: assurance.key.verifier().encode(),
        may_download: may_download(&viewer.actor),
        teams,
        errors: FormErrors::default(),
    };
    render(&page)
}

/// What a bundle download posts.
#[derive(Debug, Deserialize)]
pub struct BundleForm {
    #[serde(default)]
    scope: String,
    #[serde(default)]
    team: String,
    #[serde(default)]
    proposal: String,
}

/// `POST /audit/bundle`: a bundle of everything, a team or a proposal, as a
/// tar file to check with `advice-log verify-bundle` after unpacking.
pub async fn bundle(
    State(state): State<PagesState>,
    viewer: SignedIn,
    CsrfForm(form): CsrfForm<BundleForm>,
) -> Result<Response, PageError> {
    if !may_download(&viewer.actor) {
        return Err(PageError::Forbidden(
            "Only auditors and organisation admins can download bundles: they hold everyone's names and e-mail addresses.".into(),
        ));
    }
    let assurance = state
        .app
        .assurance
        .clone()
        .ok_or_else(|| PageError::NotFound("this server keeps no signed checkpoints".into()))?;
    let parse = |text: &str, what: &str| {
        Uuid::try_parse(text.trim()).map_err(|_| PageError::BadForm(format!("choose a {what}")))
    };
    let (selection, name) = match form.scope.as_str() {
        "team" => {
            let id = parse(&form.team, "team")?;
            (
                Selection::Team(TeamId(id)),
                format!("team-{}", &id.simple().to_string()[..8]),
            )
        }
        "proposal" => {
            let id = parse(&form.proposal, "proposal")?;
            (
                Selection::Proposal(ProposalId(id)),
                format!("proposal-{}", &id.simple().to_string()[..8]),
            )
        }
        _ => (Selection::All, "everything".to_string()),
    };
    let dir = tempfile::tempdir().map_err(|e| PageError::Internal(e.to_string()))?;
    let folder = format!("advice-log-bundle-{name}");
    let path = dir.path().join(&folder);
    let now = state.app.clock.now();
    export(
        &*state.app.log,
        state.app.keyring.as_deref(),
        &assurance,
        selection,
        &path,
        now,
        &|_| {},
    )
    .await
    .map_err(|e| PageError::Internal(e.to_string()))?;
    let tar = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
        let mut builder = tar::Builder::new(Vec::new());
        builder.append_dir_all(&folder, &path)?;
        builder.into_inner()
    })
    .await
    .map_err(|e| PageError::Internal(e.to_string()))?
    .map_err(|e| PageError::Internal(e.to_string()))?;
    drop(dir);
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-tar".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"advice-log-bundle-{name}.tar\""),
            ),
        ],
        tar,
    )
        .into_response())
}

/// One check of the verdict, as the page shows it.
struct CheckRow {
    label: &'static str,
    name: &'static str,
    passed: bool,
    detail: String,
}

/// One event of the record, as the page shows it.
struct EventRow {
    position: u64,
    what: String,
    who: String,
    when: String,
    proven: &'static str,
    failure: String,
}

/// A decision's audit page.
#[derive(Template)]
#[template(path = "pages/audit_proposal.html")]
struct ProposalAuditPage {
    chrome: Chrome,
    id: String,
    title: String,
    owner: String,
    owner_href: String,
    outcome: String,
    followed: bool,
    decided: bool,
    checks: Vec<CheckRow>,
    events: Vec<EventRow>,
    checkpoint: String,
    all_proven: bool,
    may_download: bool,
}

/// `GET /audit/proposals/{id}`.
pub async fn proposal(
    State(state): State<PagesState>,
    viewer: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = ProposalId(
        Uuid::try_parse(&id)
            .map_err(|_| PageError::NotFound("There is no such proposal.".into()))?,
    );
    let loaded = state.app.load_proposal(id, None).await?;
    let proposal = &loaded.projected.state;
    if proposal.status == Status::Unraised {
        return Err(PageError::NotFound("There is no such proposal.".into()));
    }
    let assurance = state
        .app
        .assurance
        .clone()
        .ok_or_else(|| PageError::NotFound("this server keeps no signed checkpoints".into()))?;
    let (checkpoint, inclusion) = assurance
        .prove_included(&loaded.events)
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let f = state.formatter();
    let directory = state.app.read.directory();
    let name = |id| any_name(&directory, id);
    let verdict = compliance_named(proposal, f.now(), &name);
    let checks = verdict
        .checks
        .iter()
        .map(|c| CheckRow {
            label: c.name.label(),
            name: c.name.as_str(),
            passed: c.passed,
            detail: c.detail.clone(),
        })
        .collect();
    let events: Vec<EventRow> = loaded
        .events
        .iter()
        .zip(&loaded.metadata)
        .zip(&inclusion)
        .map(|((event, meta), proven)| EventRow {
            position: event.position,
            what: event_words(&event.event_type),
            who: meta
                .actor
                .map(|p| name(p.0))
                .unwrap_or_else(|| "the operator".into()),
            when: f.time(event.recorded_at),
            proven: match proven {
                Inclusion::Proven => "Proven",
                Inclusion::NotYetCheckpointed => "Not yet in a checkpoint",
                Inclusion::Fails(_) => "Fails",
            },
            failure: match proven {
                Inclusion::Fails(why) => why.clone(),
                _ => String::new(),
            },
        })
        .collect();
    let all_proven = inclusion.iter().all(|i| *i == Inclusion::Proven);
    let owner = proposal.owner;
    let page = ProposalAuditPage {
        chrome: Chrome::new(
            &state,
            &viewer.session,
            Some(&viewer.actor),
            format!("Audit: {}", proposal.title),
            "/audit",
        ),
        id: id.0.to_string(),
        title: proposal.title.clone(),
        owner: owner.map(|o| owner_name(&directory, o)).unwrap_or_default(),
        owner_href: owner.map(owner_link).unwrap_or_default(),
        outcome: match (&proposal.decision, proposal.status) {
            (Some(d), _) => match d.outcome {
                Outcome::Adopted => "Adopted",
                Outcome::Rejected => "Rejected",
            },
            (None, Status::Withdrawn) => "Withdrawn",
            _ => "Open: not decided yet",
        }
        .to_string(),
        followed: verdict.advice_process_followed,
        decided: proposal.status == Status::Decided,
        checks,
        events,
        checkpoint: checkpoint
            .map(|c| format!("{} events, signed {}", c.tree_size, f.when(c.issued_at)))
            .unwrap_or_else(|| "none yet".into()),
        all_proven,
        may_download: may_download(&viewer.actor),
    };
    drop(directory);
    render(&page)
}

fn render(page: &impl Template) -> Result<Response, PageError> {
    let html = page
        .render()
        .map_err(|e| PageError::Internal(e.to_string()))?;
    Ok(Html(html).into_response())
}
