//! The admin page's groups: form a group of teams with a mandate, delegate
//! a representative, allocate budget in pounds.

use axum::extract::State;
use axum::response::Response;

use super::form::{id, pair};
use super::{beside, command, done, refused, require_admin, AdminForm};
use crate::app::AppError;
use crate::domain::{DomainError, GroupId, PersonId, TeamId, TeamRole};
use crate::pages::error::PageError;
use crate::pages::format::{person_name, pounds};
use crate::pages::forms::parse_pounds;
use crate::pages::session::{CsrfForm, SignedIn};
use crate::pages::{FormErrors, PagesState};

/// `POST /admin/groups`: forms a group of teams with a mandate.
pub async fn form_group(
    State(state): State<PagesState>,
    SignedIn { actor, session }: SignedIn,
    CsrfForm(form): CsrfForm<AdminForm>,
) -> Result<Response, PageError> {
    require_admin(&actor)?;
    let mut errors = FormErrors::default();
    if form.group_name.trim().is_empty() {
        errors.add("group-name", "Enter the group's name.");
    }
    let mut teams: Vec<TeamId> = Vec::new();
    {
        let directory = state.app.read.directory();
        for value in &form.group_teams {
            match id(value)
                .map(TeamId)
                .filter(|t| directory.team(*t).is_some())
            {
                Some(team) if !teams.contains(&team) => teams.push(team),
                Some(_) => {}
                None => errors.add("group-teams", "Choose the member teams from the list."),
            }
        }
    }
    if teams.is_empty() {
        errors.add("group-teams", "Choose at least one member team.");
    }
    let mandate: Vec<String> = form
        .group_mandate
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    if mandate.is_empty() {
        errors.add(
            "group-mandate",
            "Enter at least one decision area the teams delegate to the group, one per line.",
        );
    }
    if errors.is_empty() {
        let meta = command(&actor, &form);
        match state
            .app
            .form_group(&meta, &form.group_name, &teams, &mandate)
            .await
        {
            Ok(_) => return Ok(done("group-formed", "groups")),
            Err(error) => {
                let field = if error.to_string().contains("mandate") {
                    "group-mandate"
                } else {
                    "group-name"
                };
                beside(&mut errors, field, error)?;
            }
        }
    }
    refused(&state, &actor, &session, errors, form)
}

/// `POST /admin/representatives`: delegates a member of a member team as
/// its representative in a group.
pub async fn delegate(
    State(state): State<PagesState>,
    SignedIn { actor, session }: SignedIn,
    CsrfForm(form): CsrfForm<AdminForm>,
) -> Result<Response, PageError> {
    require_admin(&actor)?;
    let mut errors = FormErrors::default();
    let group = id(&form.rep_group).map(GroupId);
    let chosen = pair(&form.rep_member).map(|(t, p)| (TeamId(t), PersonId(p)));
    {
        let directory = state.app.read.directory();
        let group_view = group.and_then(|g| directory.group(g));
        if group_view.is_none() {
            errors.add("rep-group", "Choose the group.");
        }
        let member = chosen.and_then(|(t, p)| {
            let team = directory.team(t)?;
            (team.role_of(p) == Some(TeamRole::Member)).then_some((team, p))
        });
        match (group_view, member) {
            (_, None) => errors.add(
                "rep-member",
                "Choose the member who will represent their team.",
            ),
            (Some(g), Some((team, p))) => {
                let name = person_name(&directory, p);
                if !g.teams.contains(&team.id) {
                    errors.add(
                        "rep-member",
                        format!(
                            "{} is not a member team of {}: choose a member of one of its teams.",
                            team.name, g.name
                        ),
                    );
                } else if g
                    .representatives
                    .iter()
                    .any(|r| r.team == team.id && r.person == p)
                {
                    errors.add(
                        "rep-member",
                        format!("{name} already represents {} in {}.", team.name, g.name),
                    );
                }
            }
            (None, Some(_)) => {}
        }
    }
    if let (true, Some(group), Some((team, person))) = (errors.is_empty(), group, chosen) {
        match state
            .app
            .delegate_representative(&command(&actor, &form), group, team, person)
            .await
        {
            Ok(_) => return Ok(done("representative-delegated", "groups")),
            Err(error) => beside(&mut errors, "rep-member", error)?,
        }
    }
    refused(&state, &actor, &session, errors, form)
}

/// Reads an amount in pounds that may start with a minus sign (money taken
/// back), as pence.
fn signed_pounds(text: &str) -> Result<i64, String> {
    let trimmed = text.trim();
    match trimmed
        .strip_prefix('-')
        .or_else(|| trimmed.strip_prefix('\u{2212}'))
    {
        Some(rest) => parse_pounds(rest).map(|p| -p),
        None => parse_pounds(trimmed),
    }
}

/// `POST /admin/budgets`: allocates money to a group's budget (or, with a
/// minus sign, takes some back).
pub async fn allocate(
    State(state): State<PagesState>,
    SignedIn { actor, session }: SignedIn,
    CsrfForm(form): CsrfForm<AdminForm>,
) -> Result<Response, PageError> {
    require_admin(&actor)?;
    let mut errors = FormErrors::default();
    let group = id(&form.budget_group)
        .map(GroupId)
        .filter(|g| state.app.read.directory().group(*g).is_some());
    if group.is_none() {
        errors.add("budget-group", "Choose the group.");
    }
    let amount = match signed_pounds(&form.budget_amount) {
        Ok(0) => {
            errors.add("budget-amount", "Enter an amount other than zero.");
            None
        }
        Ok(amount) => Some(amount),
        Err(message) => {
            errors.add("budget-amount", message);
            None
        }
    };
    if form.budget_reason.trim().is_empty() {
        errors.add("budget-reason", "Say why, as the ledger will show it.");
    }
    if let (true, Some(group), Some(amount)) = (errors.is_empty(), group, amount) {
        let period = Some(form.budget_period.clone()).filter(|p| !p.trim().is_empty());
        let meta = command(&actor, &form);
        let reason = Some(form.budget_reason.clone());
        match state
            .app
            .allocate_budget(&meta, group, amount, reason, period)
            .await
        {
            Ok(_) => return Ok(done("budget-allocated", "groups")),
            Err(AppError::Domain(DomainError::BudgetExceeded(_))) => {
                let (budget, _) = state.app.load_budget(group).await?;
                errors.add(
                    "budget-amount",
                    format!(
                        "Taking back {} would leave the budget below zero: {} remains.",
                        pounds(-amount),
                        pounds(budget.remaining())
                    ),
                );
            }
            Err(error) => {
                let field = if error.to_string().contains("period") {
                    "budget-period"
                } else if error.to_string().contains("reason") {
                    "budget-reason"
                } else {
                    "budget-amount"
                };
                beside(&mut errors, field, error)?;
            }
        }
    }
    refused(&state, &actor, &session, errors, form)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_may_take_money_back_with_a_minus_sign() {
        assert_eq!(signed_pounds("£1,000"), Ok(100_000));
        assert_eq!(signed_pounds("-250.50"), Ok(-25_050));
        assert!(signed_pounds("--5").is_err());
    }
}
