//! `/groups/{id}`: a cross-team group's member teams and their
//! representatives, its mandate, its budget with the ledger (each
//! allocation, commitment and release, with what remained after it), and
//! its open proposals and decisions.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;

use super::error::PageError;
use super::format::{person_name, pounds};
use super::session::SignedIn;
use super::team::lists::{self, DecisionItem, StageGroup};
use super::team::render;
use super::{Chrome, PagesState};
use crate::app::organisation::LedgerEntry;
use crate::domain::budget::BudgetEvent;
use crate::domain::proposal::{Owner, ProposalId};
use crate::domain::{GroupId, TeamRole};
use crate::read::directory::{Directory, GroupView};

/// A member team and who represents it.
struct TeamRow {
    name: String,
    href: String,
    representatives: Vec<String>,
}

/// One entry of the ledger.
struct LedgerRow {
    when: String,
    kind: &'static str,
    /// Its effect on what remains, signed ("+£1,000.00", "-£450.00").
    amount: String,
    reason: Option<String>,
    /// The decision that committed or released spend: title and page.
    proposal: Option<(String, String)>,
    by: Option<String>,
    remaining: String,
}

/// The group page.
#[derive(Template)]
#[template(path = "pages/group.html")]
struct GroupPage {
    chrome: Chrome,
    name: String,
    formed: String,
    is_representative: bool,
    raise_href: Option<String>,
    teams: Vec<TeamRow>,
    mandate: Vec<String>,
    allocated: String,
    committed: String,
    remaining: String,
    ledger: Vec<LedgerRow>,
    stages: Vec<StageGroup>,
    open_count: usize,
    decisions: Vec<DecisionItem>,
    /// The register, filtered to this group.
    register_href: String,
}

/// Whether `person` represents a member team of `group` now: delegated by
/// it and still a `MEMBER` of it.
pub fn represents(
    directory: &Directory,
    group: &GroupView,
    person: crate::domain::PersonId,
) -> bool {
    group.representatives.iter().any(|r| {
        r.person == person
            && group.teams.contains(&r.team)
            && directory.team(r.team).and_then(|t| t.role_of(person)) == Some(TeamRole::Member)
    })
}

/// `GET /groups/{id}`.
pub async fn page(
    State(state): State<PagesState>,
    SignedIn { actor, session }: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let not_found = || PageError::NotFound("There is no group at this address.".into());
    let id = uuid::Uuid::parse_str(&id)
        .map(GroupId)
        .map_err(|_| not_found())?;
    let group = state
        .app
        .read
        .directory()
        .group(id)
        .cloned()
        .ok_or_else(not_found)?;
    let owner = Owner::Group(id);
    let f = state.formatter();
    let (stages, decisions, (budget, entries)) = tokio::try_join!(
        lists::open_by_stage(&state, owner, &f),
        lists::decisions(&state, owner, &f),
        async { Ok::<_, PageError>(state.app.load_budget(id).await?) },
    )?;
    let titles = proposal_titles(&state, &entries).await?;
    let directory = state.app.read.directory();
    let teams = group
        .teams
        .iter()
        .filter_map(|team_id| directory.team(*team_id))
        .map(|team| TeamRow {
            name: team.name.clone(),
            href: format!("/teams/{}", team.id.0),
            representatives: group
                .representatives
                .iter()
                .filter(|r| r.team == team.id && team.role_of(r.person) == Some(TeamRole::Member))
                .map(|r| person_name(&directory, r.person))
                .collect(),
        })
        .collect();
    let mut remaining = 0i64;
    let ledger = entries
        .iter()
        .map(|entry| {
            let (kind, effect, proposal) = match entry.event {
                BudgetEvent::BudgetAllocated { amount, .. } => ("Allocation", amount, None),
                BudgetEvent::SpendCommitted {
                    proposal_id,
                    amount,
                } => ("Commitment", -amount, Some(proposal_id)),
                BudgetEvent::SpendReleased {
                    proposal_id,
                    amount,
                } => ("Release", amount, Some(proposal_id)),
            };
            remaining = remaining.saturating_add(effect);
            let period = match &entry.event {
                BudgetEvent::BudgetAllocated { period, .. } => period.clone(),
                _ => None,
            };
            let reason = match (entry.reason(), period) {
                (Some(reason), Some(period)) => Some(format!("{reason} (period {period})")),
                (Some(reason), None) => Some(reason),
                (None, Some(period)) => Some(format!("Period {period}")),
                (None, None) => None,
            };
            LedgerRow {
                when: f.time(entry.stored.recorded_at),
                kind,
                amount: if effect >= 0 {
                    format!("+{}", pounds(effect))
                } else {
                    pounds(effect)
                },
                reason,
                proposal: proposal.map(|p| {
                    (
                        titles
                            .get(&p)
                            .cloned()
                            .unwrap_or_else(|| "a proposal".into()),
                        format!("/proposals/{}", p.0),
                    )
                }),
                by: entry.metadata.actor.map(|p| person_name(&directory, p)),
                remaining: pounds(remaining),
            }
        })
        .collect();
    let is_representative = represents(&directory, &group, actor.person);
    drop(directory);
    let page = GroupPage {
        chrome: Chrome::new(&state, &session, Some(&actor), group.name.clone(), ""),
        formed: f.date(group.formed_at),
        is_representative,
        raise_href: is_representative.then(|| format!("/proposals/new?owner=group:{}", id.0)),
        register_href: format!("/register?group={}", id.0),
        teams,
        mandate: group.mandate.clone(),
        allocated: pounds(budget.allocated),
        committed: pounds(budget.committed),
        remaining: pounds(budget.remaining()),
        ledger,
        open_count: stages.iter().map(|s| s.items.len()).sum(),
        stages,
        decisions,
        name: group.name,
    };
    render(&page)
}

/// The titles of the proposals the ledger names: one query.
async fn proposal_titles(
    state: &PagesState,
    entries: &[LedgerEntry],
) -> Result<HashMap<ProposalId, String>, PageError> {
    let mut ids: Vec<ProposalId> = entries
        .iter()
        .filter_map(|e| match e.event {
            BudgetEvent::SpendCommitted { proposal_id, .. }
            | BudgetEvent::SpendReleased { proposal_id, .. } => Some(proposal_id),
            BudgetEvent::BudgetAllocated { .. } => None,
        })
        .collect();
    ids.sort_by_key(|id| id.0);
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let loaded = state.app.projector.views().load(&ids).await?;
    Ok(loaded.into_iter().map(|p| (p.id, p.state.title)).collect())
}
