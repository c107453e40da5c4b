//! The admin page's teams: form a team, add someone to a team as a member
//! or coach, take someone out of a team.

use axum::extract::State;
use axum::response::Response;

use super::form::{id, pair};
use super::{beside, command, done, refused, require_admin, AdminForm};
use crate::domain::{PersonId, TeamId, TeamRole};
use crate::pages::error::PageError;
use crate::pages::format::person_name;
use crate::pages::session::{CsrfForm, SignedIn};
use crate::pages::team::role_words;
use crate::pages::{FormErrors, PagesState};

/// `POST /admin/teams`: forms a team.
pub async fn form_team(
    State(state): State<PagesState>,
    SignedIn { actor, session }: SignedIn,
    CsrfForm(form): CsrfForm<AdminForm>,
) -> Result<Response, PageError> {
    require_admin(&actor)?;
    let mut errors = FormErrors::default();
    if form.team_name.trim().is_empty() {
        errors.add("team-name", "Enter the team's name.");
    } else {
        match state
            .app
            .form_team(&command(&actor, &form), &form.team_name)
            .await
        {
            Ok(_) => return Ok(done("team-formed", "teams")),
            Err(error) => beside(&mut errors, "team-name", error)?,
        }
    }
    refused(&state, &actor, &session, errors, form)
}

/// `POST /admin/members`: adds someone to a team in a role.
pub async fn join(
    State(state): State<PagesState>,
    SignedIn { actor, session }: SignedIn,
    CsrfForm(form): CsrfForm<AdminForm>,
) -> Result<Response, PageError> {
    require_admin(&actor)?;
    let mut errors = FormErrors::default();
    let team = id(&form.member_team).map(TeamId);
    let person = id(&form.member_person).map(PersonId);
    let role = match form.member_role.as_str() {
        "member" => Some(TeamRole::Member),
        "coach" => Some(TeamRole::Coach),
        _ => None,
    };
    {
        let directory = state.app.read.directory();
        let team_view = team.and_then(|t| directory.team(t));
        if team_view.is_none() {
            errors.add("member-team", "Choose the team.");
        }
        let known = person.is_some_and(|p| directory.person(p).is_some());
        if !known {
            errors.add("member-person", "Choose the person to add.");
        }
        if role.is_none() {
            errors.add("member-role", "Choose member or coach.");
        }
        if let (Some(team_view), Some(p)) = (team_view, person.filter(|_| known)) {
            if let Some(current) = team_view.role_of(p) {
                errors.add(
                    "member-person",
                    format!(
                        "{} is already in {} as a {}.",
                        person_name(&directory, p),
                        team_view.name,
                        role_words(current)
                    ),
                );
            }
        }
    }
    if let (true, Some(team), Some(person), Some(role)) = (errors.is_empty(), team, person, role) {
        match state
            .app
            .join_team(&command(&actor, &form), team, person, role)
            .await
        {
            Ok(_) => return Ok(done("member-added", "teams")),
            Err(error) => beside(&mut errors, "member-person", error)?,
        }
    }
    refused(&state, &actor, &session, errors, form)
}

/// `POST /admin/members/remove`: takes someone out of a team.
pub async fn leave(
    State(state): State<PagesState>,
    SignedIn { actor, session }: SignedIn,
    CsrfForm(form): CsrfForm<AdminForm>,
) -> Result<Response, PageError> {
    require_admin(&actor)?;
    let mut errors = FormErrors::default();
    let chosen = pair(&form.leave_membership).map(|(t, p)| (TeamId(t), PersonId(p)));
    let current = chosen.is_some_and(|(t, p)| {
        state
            .app
            .read
            .directory()
            .team(t)
            .is_some_and(|team| team.role_of(p).is_some())
    });
    match chosen.filter(|_| current) {
        None => errors.add("leave-membership", "Choose who leaves which team."),
        Some((team, person)) => {
            match state
                .app
                .leave_team(&command(&actor, &form), team, person)
                .await
            {
                Ok(_) => return Ok(done("member-removed", "teams")),
                Err(error) => beside(&mut errors, "leave-membership", error)?,
            }
        }
    }
    refused(&state, &actor, &session, errors, form)
}
