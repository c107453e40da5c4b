//! What the raise form offers: the teams and groups a person may propose
//! in, and for the chosen one its members as deciders, its decision areas
//! and its decisions that may be replaced.

use uuid::Uuid;

use super::forms::{options, Posted};
use crate::domain::proposal::Owner;
use crate::domain::{GroupId, PersonId, TeamId, TeamRole};
use crate::pages::format::owner_name;
use crate::pages::{PagesState, SelectOption};

/// The chosen owner and what its form offers.
pub(super) struct Chosen {
    /// `team:<id>` or `group:<id>`.
    pub(super) value: String,
    /// Its name.
    pub(super) name: String,
    /// Whether it is a group (area and spend apply).
    pub(super) group: bool,
    pub(super) rules: Vec<SelectOption>,
    pub(super) areas: Vec<SelectOption>,
    pub(super) deciders: Vec<SelectOption>,
    pub(super) supersedes: Vec<SelectOption>,
    /// Whether the person may choose among more than one owner.
    pub(super) others: bool,
}

/// An owner as the form posts it.
pub fn owner_value(owner: Owner) -> String {
    match owner {
        Owner::Team(id) => format!("team:{}", id.0),
        Owner::Group(id) => format!("group:{}", id.0),
    }
}

/// An owner from the form: `team:<id>` or `group:<id>`.
pub(super) fn parse_owner(value: &str) -> Option<Owner> {
    let (kind, id) = value.split_once(':')?;
    let id = Uuid::parse_str(id.trim()).ok()?;
    match kind {
        "team" => Some(Owner::Team(TeamId(id))),
        "group" => Some(Owner::Group(GroupId(id))),
        _ => None,
    }
}

/// The teams and groups a person may propose in, by name.
pub(super) fn owners_of(state: &PagesState, person: PersonId) -> Vec<(Owner, String)> {
    let standing = state.app.standing(person);
    let directory = state.app.read.directory();
    let mut owners: Vec<(Owner, String)> = standing
        .owners
        .into_iter()
        .map(|owner| {
            let kind = match owner {
                Owner::Team(_) => "team",
                Owner::Group(_) => "group",
            };
            (owner, format!("{} ({kind})", owner_name(&directory, owner)))
        })
        .collect();
    owners.sort_by(|a, b| a.1.cmp(&b.1));
    owners
}

/// The form's choices for `owner`: its members as deciders (the person
/// first), and for a group the areas of its mandate.
pub(super) fn chosen_form(
    state: &PagesState,
    owner: Owner,
    person: PersonId,
    supersedes: Vec<SelectOption>,
    posted: &Posted,
    others: bool,
) -> Chosen {
    let directory = state.app.read.directory();
    let mut members: Vec<(PersonId, String)> = match owner {
        Owner::Team(team) => directory
            .team(team)
            .map(|t| {
                t.current_members()
                    .filter(|m| m.role == TeamRole::Member)
                    .map(|m| m.person)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default(),
        Owner::Group(group) => directory
            .group(group)
            .map(|g| {
                g.representatives
                    .iter()
                    .filter(|r| {
                        directory.team(r.team).and_then(|t| t.role_of(r.person))
                            == Some(TeamRole::Member)
                    })
                    .map(|r| r.person)
                    .collect()
            })
            .unwrap_or_default(),
    }
    .into_iter()
    .filter_map(|p| directory.person(p).map(|view| (p, view.name.clone())))
    .collect();
    members.sort_by(|a, b| (a.0 != person, &a.1).cmp(&(b.0 != person, &b.1)));
    members.dedup_by_key(|m| m.0);
    let me = person.0.to_string();
    let decider = posted.or("decider", &me);
    let deciders = members
        .into_iter()
        .map(|(id, name)| {
            let label = if id == person {
                format!("{name} (you)")
            } else {
                name
            };
            SelectOption::new(id.0.to_string(), label, &decider)
        })
        .collect();
    let mut areas = vec![SelectOption::new("", "Choose an area", posted.v("area"))];
    if let Owner::Group(group) = owner {
        if let Some(g) = directory.group(group) {
            areas.extend(
                g.mandate
                    .iter()
                    .map(|a| SelectOption::new(a.clone(), a.clone(), posted.v("area"))),
            );
        }
    }
    Chosen {
        value: owner_value(owner),
        name: owner_name(&directory, owner),
        group: matches!(owner, Owner::Group(_)),
        rules: options(
            &[
                (
                    "ADVICE",
                    "Advice: you decide once you have heard the advice you asked for",
                ),
                (
                    "CONSENT",
                    "Consent: adopted when no one has an open objection",
                ),
                (
                    "THRESHOLD",
                    "Threshold: adopted when a share of the members agree",
                ),
            ],
            posted.v("rule"),
        ),
        areas,
        deciders,
        supersedes,
        others,
    }
}
