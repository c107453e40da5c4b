//! `/teams/{id}`: a team's open proposals by stage, its decisions, its
//! members and coaches, and its statistics with small charts.

pub mod chart;
pub mod lists;
pub mod stats;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};

use super::error::PageError;
use super::format::person_name;
use super::session::SignedIn;
use super::{Chrome, PagesState};
use crate::domain::proposal::Owner;
use crate::domain::{TeamId, TeamRole};
use lists::{DecisionItem, StageGroup};
use stats::{Month, Statistics};

/// One member or coach.
struct MemberRow {
    name: String,
    role: &'static str,
    since: String,
}

/// A group the team belongs to.
struct GroupLink {
    name: String,
    href: String,
}

/// The team page.
#[derive(Template)]
#[template(path = "pages/team.html")]
struct TeamPage {
    chrome: Chrome,
    name: String,
    formed: String,
    /// The viewer's role in the team, in words, if they are in it.
    viewer_role: Option<&'static str>,
    /// Where a member raises a proposal, if the viewer may.
    raise_href: Option<String>,
    stages: Vec<StageGroup>,
    open_count: usize,
    decisions: Vec<DecisionItem>,
    members: Vec<MemberRow>,
    groups: Vec<GroupLink>,
    stats: Statistics,
    /// The register, filtered to this team.
    register_href: String,
}

/// Reads a team's id from its address; anything else is not found.
fn team_id(text: &str) -> Result<TeamId, PageError> {
    uuid::Uuid::parse_str(text)
        .map(TeamId)
        .map_err(|_| PageError::NotFound("There is no team at this address.".into()))
}

/// An owner's decisions per month, for the charts: one query.
pub async fn months(state: &PagesState, owner: Owner) -> Result<Vec<Month>, PageError> {
    let rows = state.app.projector.views().monthly(owner).await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let median_seconds = row.median_seconds();
            let (year, month) = Month::parse(&row.month)?;
            Some(Month {
                year,
                month,
                decisions: row.decisions,
                followed: row.followed,
                median_seconds,
            })
        })
        .collect())
}

/// `GET /teams/{id}`.
pub async fn page(
    State(state): State<PagesState>,
    SignedIn { actor, session }: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = team_id(&id)?;
    let team = state
        .app
        .read
        .directory()
        .team(id)
        .cloned()
        .ok_or_else(|| PageError::NotFound("There is no team at this address.".into()))?;
    let owner = Owner::Team(id);
    let f = state.formatter();
    let views = state.app.projector.views();
    let (stages, decisions, totals, monthly) = tokio::try_join!(
        lists::open_by_stage(&state, owner, &f),
        lists::decisions(&state, owner, &f),
        async { Ok::<_, PageError>(views.stats(owner).await?) },
        months(&state, owner),
    )?;
    let directory = state.app.read.directory();
    let mut members: Vec<(TeamRole, MemberRow)> = team
        .current_members()
        .map(|m| {
            (
                m.role,
                MemberRow {
                    name: person_name(&directory, m.person),
                    role: role_words(m.role),
                    since: f.date(m.joined_at),
                },
            )
        })
        .collect();
    members.sort_by(|(ra, a), (rb, b)| {
        (*ra == TeamRole::Coach, &a.name).cmp(&(*rb == TeamRole::Coach, &b.name))
    });
    let groups = directory
        .groups_of(id)
        .into_iter()
        .map(|g| GroupLink {
            name: g.name.clone(),
            href: format!("/groups/{}", g.id.0),
        })
        .collect();
    drop(directory);
    let viewer = team.role_of(actor.person);
    let page = TeamPage {
        chrome: Chrome::new(&state, &session, Some(&actor), team.name.clone(), ""),
        formed: f.date(team.formed_at),
        viewer_role: viewer.map(role_words),
        raise_href: (viewer == Some(TeamRole::Member))
            .then(|| format!("/proposals/new?owner=team:{}", id.0)),
        open_count: stages.iter().map(|s| s.items.len()).sum(),
        stages,
        decisions,
        members: members.into_iter().map(|(_, m)| m).collect(),
        groups,
        stats: stats::statistics("team", &team.name, &totals, &monthly, f.now()),
        register_href: format!("/register?team={}", id.0),
        name: team.name,
    };
    render(&page)
}

/// A team role in words.
pub fn role_words(role: TeamRole) -> &'static str {
    match role {
        TeamRole::Member => "member",
        TeamRole::Coach => "coach",
    }
}

/// Renders a page template.
pub fn render(page: &impl Template) -> Result<Response, PageError> {
    let html = page
        .render()
        .map_err(|e| PageError::Internal(e.to_string()))?;
    Ok(Html(html).into_response())
}
