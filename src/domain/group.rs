//! Cross-team groups: member teams, their representatives, and the mandate
//! the teams delegated to the group.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::events::DomainEvent;
use super::team::TeamState;
use super::{validate, ActingRole, Caller, Decided, DomainError, PersonId, TeamId, TeamRole};

/// A group's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupState {
    /// Whether the group exists.
    pub formed: bool,
    /// Its name.
    pub name: String,
    /// Its member teams.
    pub teams: BTreeSet<TeamId>,
    /// The decision areas delegated to it.
    pub mandate: Vec<String>,
    /// Representatives as (team, person), in the order delegated.
    pub representatives: Vec<(TeamId, PersonId)>,
    /// The shortest fair time to answer its requests for advice, in hours,
    /// if it set one (otherwise 24).
    pub advice_window_hours: Option<u32>,
}

/// Something that happened to a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::VariantNames)]
#[serde(tag = "event_type", content = "payload")]
pub enum GroupEvent {
    /// A group was formed by its member teams with a mandate.
    GroupFormed {
        /// Its name.
        name: String,
        /// Its member teams.
        team_ids: Vec<TeamId>,
        /// The decision areas delegated to it.
        mandate: Vec<String>,
    },
    /// A member team delegated a representative.
    RepresentativeDelegated {
        /// The team represented.
        team_id: TeamId,
        /// The person representing it.
        person_id: PersonId,
    },
    /// A team joined the group.
    TeamJoinedGroup {
        /// The team.
        team_id: TeamId,
    },
    /// A team left the group; its representatives no longer act for it.
    TeamLeftGroup {
        /// The team.
        team_id: TeamId,
    },
    /// The group set the shortest fair time to answer its requests for advice.
    AdviceWindowSet {
        /// In hours.
        hours: u32,
    },
}

impl DomainEvent for GroupEvent {}

/// What can be asked of a group.
#[derive(Debug, Clone, PartialEq)]
pub enum GroupCommand {
    /// Form a group.
    Form {
        /// Its name.
        name: String,
        /// Its member teams.
        team_ids: Vec<TeamId>,
        /// The decision areas delegated to it.
        mandate: Vec<String>,
        /// Those of `team_ids` that do not exist.
        missing_teams: Vec<TeamId>,
    },
    /// Delegate a team's representative.
    Delegate {
        /// The team represented.
        team_id: TeamId,
        /// The person to represent it.
        person_id: PersonId,
        /// That team's current state.
        team: TeamState,
    },
    /// Add a team to the group (admin).
    AddTeam {
        /// The team.
        team_id: TeamId,
        /// Whether it exists.
        team_exists: bool,
    },
    /// Take a team out of the group (admin, or a `MEMBER` of that team).
    RemoveTeam {
        /// The team.
        team_id: TeamId,
        /// That team's current state.
        team: TeamState,
    },
    /// Set the shortest fair time to answer the group's requests for advice.
    SetAdviceWindow {
        /// In hours.
        hours: u32,
    },
}

/// Decides a command against a group's state.
pub fn decide(
    state: &GroupState,
    command: GroupCommand,
    caller: &Caller,
) -> Result<Decided<GroupEvent>, DomainError> {
    match command {
        GroupCommand::SetAdviceWindow { hours } => {
            let role = caller.require_admin("set a group's time to answer advice")?;
            require_formed(state)?;
            let hours = validate::advice_window(hours)?;
            Ok(Decided::new(
                role,
                vec![GroupEvent::AdviceWindowSet { hours }],
            ))
        }
        GroupCommand::Form {
            name,
            team_ids,
            mandate,
            missing_teams,
        } => {
            let role = caller.require_admin("form groups")?;
            let name = validate::name("a group's name", &name)?;
            validate::items("a group's member teams", &team_ids)?;
            validate::items("a group's mandate", &mandate)?;
            if team_ids.is_empty() {
                return Err(DomainError::InvalidInput(
                    "a group needs at least one member team".into(),
                ));
            }
            let unique: BTreeSet<_> = team_ids.iter().collect();
            if unique.len() != team_ids.len() {
                return Err(DomainError::InvalidInput(
                    "a team is named twice in teamIds".into(),
                ));
            }
            if let Some(missing) = missing_teams.first() {
                return Err(DomainError::NotFound(format!("no team {missing}")));
            }
            let mut areas: Vec<String> = Vec::new();
            for area in &mandate {
                let area = validate::name("a mandate area", area)?;
                if !areas.contains(&area) {
                    areas.push(area);
                }
            }
            if areas.is_empty() {
                return Err(DomainError::InvalidInput(
                    "a group's mandate needs at least one decision area".into(),
                ));
            }
            if state.formed {
                return Err(DomainError::InvalidState(
                    "this group already exists".into(),
                ));
            }
            Ok(Decided::new(
                role,
                vec![GroupEvent::GroupFormed {
                    name,
                    team_ids,
                    mandate: areas,
                }],
            ))
        }
        GroupCommand::Delegate {
            team_id,
            person_id,
            team,
        } => {
            caller.refuse_auditor("delegate representatives")?;
            let role = match caller {
                Caller::Operator => ActingRole::Operator,
                Caller::Person(actor) if actor.is_admin() => ActingRole::Admin,
                Caller::Person(actor) if team.role_of(actor.person) == Some(TeamRole::Member) => {
                    ActingRole::Member
                }
                Caller::Person(_) => {
                    return Err(DomainError::Forbidden(
                        "only an admin or a member of the team can delegate its representative"
                            .into(),
                    ))
                }
            };
            if !state.formed {
                return Err(DomainError::NotFound("no such group".into()));
            }
            if !team.formed {
                return Err(DomainError::NotFound(format!("no team {team_id}")));
            }
            if !state.teams.contains(&team_id) {
                return Err(DomainError::InvalidState(format!(
                    "{} is not a member team of {}",
                    team.name, state.name
                )));
            }
            match team.role_of(person_id) {
                Some(TeamRole::Member) => {}
                Some(TeamRole::Coach) => {
                    return Err(DomainError::InvalidState(format!(
                        "{person_id} is a coach of {}: a representative must be a MEMBER of the team",
                        team.name
                    )))
                }
                None => {
                    return Err(DomainError::InvalidState(format!(
                        "{person_id} is not a member of {}: a representative must be a MEMBER of the team",
                        team.name
                    )))
                }
            }
            if state.representatives.contains(&(team_id, person_id)) {
                return Err(DomainError::InvalidState(format!(
                    "{person_id} already represents {} in {}",
                    team.name, state.name
                )));
            }
            Ok(Decided::new(
                role,
                vec![GroupEvent::RepresentativeDelegated { team_id, person_id }],
            ))
        }
        GroupCommand::AddTeam {
            team_id,
            team_exists,
        } => {
            let role = caller.require_admin("add teams to groups")?;
            require_formed(state)?;
            if !team_exists {
                return Err(DomainError::NotFound(format!("no team {team_id}")));
            }
            if state.teams.contains(&team_id) {
                return Err(DomainError::InvalidState(
                    "that team is already in the group".into(),
                ));
            }
            Ok(Decided::new(
                role,
                vec![GroupEvent::TeamJoinedGroup { team_id }],
            ))
        }
        GroupCommand::RemoveTeam { team_id, team } => {
            caller.refuse_auditor("change groups")?;
            let role = match caller {
                Caller::Operator => ActingRole::Operator,
                Caller::Person(actor) if actor.is_admin() => ActingRole::Admin,
                Caller::Person(actor) if team.role_of(actor.person) == Some(TeamRole::Member) => {
                    ActingRole::Member
                }
                Caller::Person(_) => {
                    return Err(DomainError::Forbidden(
                        "only an admin or a member of the team can take it out of a group".into(),
                    ))
                }
            };
            require_formed(state)?;
            if !state.teams.contains(&team_id) {
                return Err(DomainError::InvalidState(
                    "that team is not in the group".into(),
                ));
            }
            Ok(Decided::new(
                role,
                vec![GroupEvent::TeamLeftGroup { team_id }],
            ))
        }
    }
}

fn require_formed(state: &GroupState) -> Result<(), DomainError> {
    if state.formed {
        Ok(())
    } else {
        Err(DomainError::NotFound("no such group".into()))
    }
}

/// Applies an event.
pub fn evolve(mut state: GroupState, event: &GroupEvent) -> GroupState {
    match event {
        GroupEvent::GroupFormed {
            name,
            team_ids,
            mandate,
        } => {
            state.formed = true;
            state.name.clone_from(name);
            state.teams = team_ids.iter().copied().collect();
            state.mandate.clone_from(mandate);
        }
        GroupEvent::RepresentativeDelegated { team_id, person_id } => {
            state.representatives.push((*team_id, *person_id));
        }
        GroupEvent::TeamJoinedGroup { team_id } => {
            state.teams.insert(*team_id);
        }
        GroupEvent::AdviceWindowSet { hours } => state.advice_window_hours = Some(*hours),
        GroupEvent::TeamLeftGroup { team_id } => {
            state.teams.remove(team_id);
            // Its delegations end with its membership; a team that rejoins
            // delegates afresh.
            state.representatives.retain(|(team, _)| team != team_id);
        }
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::team::{self, TeamEvent};
    use crate::domain::{Actor, OrgRole};

    fn caller(person: PersonId, org_role: Option<OrgRole>) -> Caller {
        Caller::Person(Actor { person, org_role })
    }
    fn admin() -> Caller {
        caller(PersonId::random(), Some(OrgRole::Admin))
    }
    fn form(team_ids: Vec<TeamId>, mandate: &[&str]) -> GroupCommand {
        GroupCommand::Form {
            name: "Staff training".into(),
            team_ids,
            mandate: mandate.iter().map(|s| s.to_string()).collect(),
            missing_teams: vec![],
        }
    }
    fn team_with(members: &[(PersonId, TeamRole)]) -> TeamState {
        let mut events = vec![TeamEvent::TeamFormed {
            name: "Nursing".into(),
        }];
        events.extend(members.iter().map(|(p, r)| TeamEvent::MemberJoined {
            person_id: *p,
            role: *r,
        }));
        events.iter().fold(TeamState::default(), team::evolve)
    }
    fn group_of(team_id: TeamId) -> GroupState {
        evolve(
            GroupState::default(),
            &GroupEvent::GroupFormed {
                name: "Staff training".into(),
                team_ids: vec![team_id],
                mandate: vec!["training".into()],
            },
        )
    }

    #[test]
    fn given_teams_when_an_admin_forms_a_group_then_it_has_its_teams_and_mandate() {
        let teams = vec![TeamId::random(), TeamId::random()];
        let decided = decide(
            &GroupState::default(),
            form(teams.clone(), &["training", " courses ", "training"]),
            &admin(),
        )
        .expect("formed");
        assert_eq!(
            decided.events,
            vec![GroupEvent::GroupFormed {
                name: "Staff training".into(),
                team_ids: teams,
                mandate: vec!["training".into(), "courses".into()]
            }]
        );
    }

    #[test]
    fn forming_a_group_is_refused_without_teams_or_mandate_with_unknown_teams_or_for_non_admins() {
        let team = TeamId::random();
        let state = GroupState::default();
        assert_eq!(
            decide(&state, form(vec![], &["training"]), &admin())
                .expect_err("no teams")
                .code(),
            "INVALID_INPUT"
        );
        assert_eq!(
            decide(&state, form(vec![team, team], &["training"]), &admin())
                .expect_err("twice")
                .code(),
            "INVALID_INPUT"
        );
        assert_eq!(
            decide(&state, form(vec![team], &[]), &admin())
                .expect_err("no mandate")
                .code(),
            "INVALID_INPUT"
        );
        assert_eq!(
            decide(&state, form(vec![team], &[" "]), &admin())
                .expect_err("blank area")
                .code(),
            "INVALID_INPUT"
        );
        let missing = GroupCommand::Form {
            name: "G".into(),
            team_ids: vec![team],
            mandate: vec!["a".into()],
            missing_teams: vec![team],
        };
        assert_eq!(
            decide(&state, missing, &admin())
                .expect_err("unknown team")
                .code(),
            "NOT_FOUND"
        );
        assert_eq!(
            decide(
                &state,
                form(vec![team], &["a"]),
                &caller(PersonId::random(), None)
            )
            .expect_err("member")
            .code(),
            "FORBIDDEN"
        );
    }

    #[test]
    fn a_member_of_a_member_team_may_delegate_a_fellow_member() {
        let (ann, bob) = (PersonId::random(), PersonId::random());
        let team = team_with(&[(ann, TeamRole::Member), (bob, TeamRole::Member)]);
        let team_id = TeamId::random();
        let command = GroupCommand::Delegate {
            team_id,
            person_id: bob,
            team,
        };
        let decided = decide(&group_of(team_id), command, &caller(ann, None)).expect("delegated");
        assert_eq!(decided.role, ActingRole::Member);
        assert_eq!(
            decided.events,
            vec![GroupEvent::RepresentativeDelegated {
                team_id,
                person_id: bob
            }]
        );
    }

    #[test]
    fn a_representative_must_be_a_member_not_a_coach_or_an_outsider() {
        let (coach, outsider) = (PersonId::random(), PersonId::random());
        let team_id = TeamId::random();
        let team = team_with(&[(coach, TeamRole::Coach)]);
        for person_id in [coach, outsider] {
            let command = GroupCommand::Delegate {
                team_id,
                person_id,
                team: team.clone(),
            };
            assert_eq!(
                decide(&group_of(team_id), command, &admin())
                    .expect_err("refused")
                    .code(),
                "INVALID_STATE"
            );
        }
    }

    #[test]
    fn coaches_outsiders_and_auditors_cannot_delegate() {
        let (coach, member) = (PersonId::random(), PersonId::random());
        let team_id = TeamId::random();
        let team = team_with(&[(coach, TeamRole::Coach), (member, TeamRole::Member)]);
        for who in [
            caller(coach, None),
            caller(PersonId::random(), None),
            caller(PersonId::random(), Some(OrgRole::Auditor)),
        ] {
            let command = GroupCommand::Delegate {
                team_id,
                person_id: member,
                team: team.clone(),
            };
            assert_eq!(
                decide(&group_of(team_id), command, &who)
                    .expect_err("refused")
                    .code(),
                "FORBIDDEN"
            );
        }
    }

    #[test]
    fn delegating_for_a_team_outside_the_group_or_twice_is_invalid_state() {
        let member = PersonId::random();
        let team = team_with(&[(member, TeamRole::Member)]);
        let team_id = TeamId::random();
        let elsewhere = GroupCommand::Delegate {
            team_id: TeamId::random(),
            person_id: member,
            team: team.clone(),
        };
        assert_eq!(
            decide(&group_of(team_id), elsewhere, &admin())
                .expect_err("outside")
                .code(),
            "INVALID_STATE"
        );
        let state = evolve(
            group_of(team_id),
            &GroupEvent::RepresentativeDelegated {
                team_id,
                person_id: member,
            },
        );
        let again = GroupCommand::Delegate {
            team_id,
            person_id: member,
            team,
        };
        assert_eq!(
            decide(&state, again, &admin()).expect_err("twice").code(),
            "INVALID_STATE"
        );
    }

    #[test]
    fn a_team_leaving_the_group_takes_its_representatives_with_it() {
        let member = PersonId::random();
        let team = team_with(&[(member, TeamRole::Member)]);
        let team_id = TeamId::random();
        let state = evolve(
            group_of(team_id),
            &GroupEvent::RepresentativeDelegated {
                team_id,
                person_id: member,
            },
        );
        let left = decide(
            &state,
            GroupCommand::RemoveTeam {
                team_id,
                team: team.clone(),
            },
            &caller(member, None),
        )
        .expect("a member may");
        let state = left.events.iter().fold(state, evolve);
        assert!(state.teams.is_empty());
        assert!(state.representatives.is_empty());
        let again = GroupCommand::Delegate {
            team_id,
            person_id: member,
            team: team.clone(),
        };
        assert_eq!(
            decide(&state, again, &admin())
                .expect_err("not in group")
                .code(),
            "INVALID_STATE"
        );
        assert_eq!(
            decide(&state, GroupCommand::RemoveTeam { team_id, team }, &admin())
                .expect_err("gone")
                .code(),
            "INVALID_STATE"
        );
    }

    #[test]
    fn only_admins_add_teams_and_only_once() {
        let team_id = TeamId::random();
        let state = GroupState {
            formed: true,
            ..GroupState::default()
        };
        let add = GroupCommand::AddTeam {
            team_id,
            team_exists: true,
        };
        assert_eq!(
            decide(&state, add.clone(), &caller(PersonId::random(), None))
                .expect_err("member")
                .code(),
            "FORBIDDEN"
        );
        let state = decide(&state, add.clone(), &admin())
            .expect("added")
            .events
            .iter()
            .fold(state, evolve);
        assert_eq!(
            decide(&state, add, &admin()).expect_err("twice").code(),
            "INVALID_STATE"
        );
        let ghost = GroupCommand::AddTeam {
            team_id: TeamId::random(),
            team_exists: false,
        };
        assert_eq!(
            decide(&state, ghost, &admin()).expect_err("unknown").code(),
            "NOT_FOUND"
        );
    }

    #[test]
    fn delegating_in_an_unknown_group_is_not_found() {
        let member = PersonId::random();
        let command = GroupCommand::Delegate {
            team_id: TeamId::random(),
            person_id: member,
            team: team_with(&[(member, TeamRole::Member)]),
        };
        assert_eq!(
            decide(&GroupState::default(), command, &admin())
                .expect_err("no group")
                .code(),
            "NOT_FOUND"
        );
    }
}
