//! The admin page as it is shown: the organisation's people, tokens, teams
//! and groups from the directory (in memory: no query), and every form with
//! what was typed and its errors.

use askama::Template;
use uuid::Uuid;

use super::super::{Chrome, FormErrors, PagesState, SelectOption};
use super::form::AdminForm;
use crate::domain::{OrgRole, TeamRole};
use crate::read::directory::Directory;

/// One person.
pub struct PersonRow {
    name: String,
    email: String,
    role: &'static str,
    teams: String,
    /// Active, or when they left or were erased.
    standing: String,
    /// Whether their personal data was erased.
    erased: bool,
}

/// One token of one person.
pub struct TokenRow {
    person: String,
    /// How the token starts, which its holder can recognise.
    starts: String,
    issued: String,
    revoked: bool,
    id: String,
    command: String,
}

/// One team.
pub struct TeamRow {
    name: String,
    href: String,
    members: String,
    coaches: String,
}

/// One group.
pub struct GroupRow {
    name: String,
    href: String,
    teams: String,
    mandate: String,
    representatives: String,
}

/// A checkbox.
pub struct Checkbox {
    value: String,
    label: String,
    checked: bool,
}

/// The admin page.
#[derive(Template)]
#[template(path = "pages/admin.html")]
pub struct AdminPage {
    chrome: Chrome,
    errors: FormErrors,
    form: AdminForm,
    people: Vec<PersonRow>,
    tokens: Vec<TokenRow>,
    /// Linked identities and the link and leaving forms.
    identities: super::identities::IdentitiesPart,
    /// The erasure and correction forms.
    requests: super::erasures::ErasuresPart,
    teams: Vec<TeamRow>,
    groups: Vec<GroupRow>,
    person_options: Vec<SelectOption>,
    token_person_options: Vec<SelectOption>,
    org_roles: Vec<SelectOption>,
    member_team_options: Vec<SelectOption>,
    member_roles: Vec<SelectOption>,
    membership_options: Vec<SelectOption>,
    group_team_boxes: Vec<Checkbox>,
    rep_group_options: Vec<SelectOption>,
    rep_member_options: Vec<SelectOption>,
    budget_group_options: Vec<SelectOption>,
    /// This rendering's command ids, one per form.
    commands: Commands,
}

/// A command id per form of one rendering: a form sent twice acts once.
pub struct Commands {
    register: String,
    issue: String,
    form_team: String,
    join: String,
    leave: String,
    form_group: String,
    delegate: String,
    allocate: String,
}

/// The command id of one form of a rendering.
fn command(page: Uuid, form: &str) -> String {
    Uuid::new_v5(&page, form.as_bytes()).to_string()
}

fn with_placeholder(
    placeholder: &str,
    chosen: &str,
    options: Vec<SelectOption>,
) -> Vec<SelectOption> {
    let mut all = vec![SelectOption::new("", placeholder, chosen)];
    all.extend(options);
    all
}

fn role_words(role: TeamRole) -> &'static str {
    super::super::team::role_words(role)
}

fn names(list: Vec<String>) -> String {
    if list.is_empty() {
        "none".into()
    } else {
        list.join(", ")
    }
}

impl AdminPage {
    /// The page as the directory stands, with `form`'s values and `errors`.
    pub fn build(state: &PagesState, chrome: Chrome, errors: FormErrors, form: AdminForm) -> Self {
        let f = state.formatter();
        let directory = state.app.read.directory();
        let page_id = Uuid::new_v4();
        let people = directory.people_by_name();
        let person_rows = people
            .iter()
            .map(|p| PersonRow {
                name: p.name.clone(),
                email: p.email.clone(),
                role: match p.org_role {
                    Some(OrgRole::Admin) => "admin",
                    Some(OrgRole::Auditor) => "auditor",
                    None => "none",
                },
                teams: names(
                    directory
                        .teams_of(p.id)
                        .iter()
                        .filter_map(|t| {
                            t.role_of(p.id)
                                .map(|r| format!("{} ({})", t.name, role_words(r)))
                        })
                        .collect(),
                ),
                standing: super::identities::standing(p, &f),
                erased: p.erased_at.is_some(),
            })
            .collect();
        let identities = super::identities::IdentitiesPart::build(&people, &form, page_id);
        let requests = super::erasures::ErasuresPart::build(&people, &form, page_id);
        let tokens = people
            .iter()
            .flat_map(|p| {
                directory
                    .tokens_of(p.id)
                    .into_iter()
                    .map(|(id, token)| TokenRow {
                        person: p.name.clone(),
                        starts: format!("al_{}…", &id.0.simple().to_string()[..8]),
                        issued: f.time(token.issued_at),
                        revoked: token.revoked,
                        id: id.0.to_string(),
                        command: command(page_id, &format!("revoke/{}", id.0)),
                    })
            })
            .collect();
        let person_options: Vec<SelectOption> = people
            .iter()
            .map(|p| {
                SelectOption::new(
                    p.id.0.to_string(),
                    format!("{} ({})", p.name, p.email),
                    &form.member_person,
                )
            })
            .collect();
        let token_person_options = people
            .iter()
            .filter(|p| !p.left() && p.erased_at.is_none())
            .map(|p| {
                SelectOption::new(
                    p.id.0.to_string(),
                    format!("{} ({})", p.name, p.email),
                    &form.token_person,
                )
            })
            .collect();
        let team_options = |chosen: &str| -> Vec<SelectOption> {
            directory
                .teams()
                .map(|t| SelectOption::new(t.id.0.to_string(), t.name.clone(), chosen))
                .collect()
        };
        let group_options = |chosen: &str| -> Vec<SelectOption> {
            directory
                .groups()
                .map(|g| SelectOption::new(g.id.0.to_string(), g.name.clone(), chosen))
                .collect()
        };
        let mut membership_options = Vec::new();
        let mut rep_member_options = Vec::new();
        let mut team_rows = Vec::new();
        for team in directory.teams() {
            let mut members = Vec::new();
            let mut coaches = Vec::new();
            for m in team.current_members() {
                let name = super::super::format::person_name(&directory, m.person);
                let pair = format!("{}/{}", team.id.0, m.person.0);
                membership_options.push(SelectOption::new(
                    pair.clone(),
                    format!("{name} from {} ({})", team.name, role_words(m.role)),
                    &form.leave_membership,
                ));
                match m.role {
                    TeamRole::Member => {
                        rep_member_options.push(SelectOption::new(
                            pair,
                            format!("{name} for {}", team.name),
                            &form.rep_member,
                        ));
                        members.push(name);
                    }
                    TeamRole::Coach => coaches.push(name),
                }
            }
            team_rows.push(TeamRow {
                name: team.name.clone(),
                href: format!("/teams/{}", team.id.0),
                members: names(members),
                coaches: names(coaches),
            });
        }
        let group_rows = directory
            .groups()
            .map(|g| GroupRow {
                name: g.name.clone(),
                href: format!("/groups/{}", g.id.0),
                teams: names(
                    g.teams
                        .iter()
                        .filter_map(|t| directory.team(*t))
                        .map(|t| t.name.clone())
                        .collect(),
                ),
                mandate: names(g.mandate.clone()),
                representatives: names(representatives(&directory, g)),
            })
            .collect();
        let group_team_boxes = directory
            .teams()
            .map(|t| Checkbox {
                value: t.id.0.to_string(),
                label: t.name.clone(),
                checked: form
                    .group_teams
                    .iter()
                    .any(|v| v.trim() == t.id.0.to_string()),
            })
            .collect();
        let role = if form.person_role.is_empty() {
            "none"
        } else {
            form.person_role.as_str()
        };
        let member_role = if form.member_role.is_empty() {
            "member"
        } else {
            form.member_role.as_str()
        };
        AdminPage {
            people: person_rows,
            tokens,
            identities,
            requests,
            teams: team_rows,
            groups: group_rows,
            person_options: with_placeholder(
                "Choose a person",
                &form.member_person,
                person_options,
            ),
            token_person_options: with_placeholder(
                "Choose a person",
                &form.token_person,
                token_person_options,
            ),
            org_roles: vec![
                SelectOption::new(
                    "none",
                    "No organisation role: takes part through their teams",
                    role,
                ),
                SelectOption::new(
                    "admin",
                    "Admin: shapes the organisation (people, teams, groups, budgets)",
                    role,
                ),
                SelectOption::new("auditor", "Auditor: reads everything, writes nothing", role),
            ],
            member_team_options: with_placeholder(
                "Choose a team",
                &form.member_team,
                team_options(&form.member_team),
            ),
            member_roles: vec![
                SelectOption::new("member", "Member: proposes, votes and decides", member_role),
                SelectOption::new(
                    "coach",
                    "Coach: advises and facilitates, never counts toward a decision",
                    member_role,
                ),
            ],
            membership_options: with_placeholder(
                "Choose who leaves which team",
                &form.leave_membership,
                membership_options,
            ),
            group_team_boxes,
            rep_group_options: with_placeholder(
                "Choose a group",
                &form.rep_group,
                group_options(&form.rep_group),
            ),
            rep_member_options: with_placeholder(
                "Choose a member and their team",
                &form.rep_member,
                rep_member_options,
            ),
            budget_group_options: with_placeholder(
                "Choose a group",
                &form.budget_group,
                group_options(&form.budget_group),
            ),
            commands: Commands {
                register: command(page_id, "register"),
                issue: command(page_id, "issue"),
                form_team: command(page_id, "form-team"),
                join: command(page_id, "join"),
                leave: command(page_id, "leave"),
                form_group: command(page_id, "form-group"),
                delegate: command(page_id, "delegate"),
                allocate: command(page_id, "allocate"),
            },
            chrome,
            errors,
            form,
        }
    }
}

/// A group's current representatives, by name and team.
fn representatives(
    directory: &Directory,
    group: &crate::read::directory::GroupView,
) -> Vec<String> {
    group
        .representatives
        .iter()
        .filter(|r| {
            group.teams.contains(&r.team)
                && directory.team(r.team).and_then(|t| t.role_of(r.person))
                    == Some(TeamRole::Member)
        })
        .map(|r| {
            format!(
                "{} for {}",
                super::super::format::person_name(directory, r.person),
                directory
                    .team(r.team)
                    .map(|t| t.name.as_str())
                    .unwrap_or("a team")
            )
        })
        .collect()
}
