//! Teams and their members. Joining and leaving are events, so a person's
//! history in a team is never overwritten.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::events::DomainEvent;
use super::{validate, ActingRole, Caller, Decided, DomainError, PersonId, TeamRole};

/// A team's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TeamState {
    /// Whether the team exists.
    pub formed: bool,
    /// Its name.
    pub name: String,
    /// Its current members and their roles.
    pub members: BTreeMap<PersonId, TeamRole>,
    /// The shortest fair time to answer its requests for advice, in hours,
    /// if it set one (otherwise 24).
    pub advice_window_hours: Option<u32>,
}

impl TeamState {
    /// The current role of a person in the team, if they are in it.
    pub fn role_of(&self, person: PersonId) -> Option<TeamRole> {
        self.members.get(&person).copied()
    }

    /// How many current members have the `MEMBER` role (coaches excluded).
    pub fn member_count(&self) -> usize {
        self.members
            .values()
            .filter(|r| **r == TeamRole::Member)
            .count()
    }
}

/// Something that happened to a team.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::VariantNames)]
#[serde(tag = "event_type", content = "payload")]
pub enum TeamEvent {
    /// A team was formed.
    TeamFormed {
        /// Its name.
        name: String,
    },
    /// A person joined the team in a role.
    MemberJoined {
        /// Who.
        person_id: PersonId,
        /// In which role.
        role: TeamRole,
    },
    /// A person left the team.
    MemberLeft {
        /// Who.
        person_id: PersonId,
    },
    /// The team set the shortest fair time to answer its requests for advice.
    AdviceWindowSet {
        /// In hours.
        hours: u32,
    },
}

impl DomainEvent for TeamEvent {}

/// What can be asked of a team.
#[derive(Debug, Clone, PartialEq)]
pub enum TeamCommand {
    /// Form a new team.
    Form {
        /// Its name.
        name: String,
    },
    /// Add a person to the team.
    Join {
        /// Who.
        person_id: PersonId,
        /// In which role.
        role: TeamRole,
        /// Whether that person exists.
        person_registered: bool,
    },
    /// Take a person out of the team.
    Leave {
        /// Who.
        person_id: PersonId,
    },
    /// Set the shortest fair time to answer the team's requests for advice.
    SetAdviceWindow {
        /// In hours.
        hours: u32,
    },
}

/// Decides a command against a team's state.
pub fn decide(
    state: &TeamState,
    command: TeamCommand,
    caller: &Caller,
) -> Result<Decided<TeamEvent>, DomainError> {
    match command {
        TeamCommand::Form { name } => {
            let role = caller.require_admin("form teams")?;
            let name = validate::name("a team's name", &name)?;
            if state.formed {
                return Err(DomainError::InvalidState("this team already exists".into()));
            }
            Ok(Decided::new(role, vec![TeamEvent::TeamFormed { name }]))
        }
        TeamCommand::Join {
            person_id,
            role,
            person_registered,
        } => {
            let acting = caller.require_admin("add people to teams")?;
            require_formed(state)?;
            if !person_registered {
                return Err(DomainError::NotFound(format!("no person {person_id}")));
            }
            if let Some(current) = state.role_of(person_id) {
                return Err(DomainError::InvalidState(format!(
                    "{person_id} is already in {} as {current:?}",
                    state.name
                )));
            }
            Ok(Decided::new(
                acting,
                vec![TeamEvent::MemberJoined { person_id, role }],
            ))
        }
        TeamCommand::SetAdviceWindow { hours } => {
            let role = caller.require_admin("set a team's time to answer advice")?;
            require_formed(state)?;
            let hours = validate::advice_window(hours)?;
            Ok(Decided::new(
                role,
                vec![TeamEvent::AdviceWindowSet { hours }],
            ))
        }
        TeamCommand::Leave { person_id } => {
            caller.refuse_auditor("leave teams")?;
            let acting = match caller {
                Caller::Operator => ActingRole::Operator,
                Caller::Person(actor) if actor.is_admin() => ActingRole::Admin,
                Caller::Person(actor) if actor.person == person_id => {
                    match state.role_of(person_id) {
                        Some(TeamRole::Coach) => ActingRole::Coach,
                        _ => ActingRole::Member,
                    }
                }
                Caller::Person(_) => {
                    return Err(DomainError::Forbidden(
                        "only an admin or the person themselves can take someone out of a team"
                            .into(),
                    ))
                }
            };
            require_formed(state)?;
            if state.role_of(person_id).is_none() {
                return Err(DomainError::InvalidState(format!(
                    "{person_id} is not in {}",
                    state.name
                )));
            }
            Ok(Decided::new(
                acting,
                vec![TeamEvent::MemberLeft { person_id }],
            ))
        }
    }
}

fn require_formed(state: &TeamState) -> Result<(), DomainError> {
    if state.formed {
        Ok(())
    } else {
        Err(DomainError::NotFound("no such team".into()))
    }
}

/// Applies an event.
pub fn evolve(mut state: TeamState, event: &TeamEvent) -> TeamState {
    match event {
        TeamEvent::TeamFormed { name } => {
            state.formed = true;
            state.name.clone_from(name);
        }
        TeamEvent::MemberJoined { person_id, role } => {
            state.members.insert(*person_id, *role);
        }
        TeamEvent::MemberLeft { person_id } => {
            state.members.remove(person_id);
        }
        TeamEvent::AdviceWindowSet { hours } => state.advice_window_hours = Some(*hours),
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Actor, OrgRole};

    fn person(org_role: Option<OrgRole>) -> (PersonId, Caller) {
        let id = PersonId::random();
        (
            id,
            Caller::Person(Actor {
                person: id,
                org_role,
            }),
        )
    }
    fn admin() -> Caller {
        person(Some(OrgRole::Admin)).1
    }
    fn given(events: &[TeamEvent]) -> TeamState {
        events.iter().fold(TeamState::default(), evolve)
    }
    fn formed() -> TeamState {
        given(&[TeamEvent::TeamFormed {
            name: "North ambulance station".into(),
        }])
    }
    fn join(person_id: PersonId, role: TeamRole) -> TeamCommand {
        TeamCommand::Join {
            person_id,
            role,
            person_registered: true,
        }
    }

    #[test]
    fn given_nothing_when_an_admin_forms_a_team_then_it_is_formed() {
        let decided = decide(
            &TeamState::default(),
            TeamCommand::Form {
                name: " Rota ".into(),
            },
            &admin(),
        )
        .expect("formed");
        assert_eq!(
            decided.events,
            vec![TeamEvent::TeamFormed {
                name: "Rota".into()
            }]
        );
    }

    #[test]
    fn only_admins_form_teams_and_names_must_not_be_empty() {
        for caller in [person(None).1, person(Some(OrgRole::Auditor)).1] {
            let error = decide(
                &TeamState::default(),
                TeamCommand::Form {
                    name: "Rota".into(),
                },
                &caller,
            )
            .expect_err("refused");
            assert_eq!(error.code(), "FORBIDDEN");
        }
        let error = decide(
            &TeamState::default(),
            TeamCommand::Form { name: " ".into() },
            &admin(),
        )
        .expect_err("refused");
        assert_eq!(error.code(), "INVALID_INPUT");
    }

    #[test]
    fn given_a_team_when_an_admin_adds_a_member_then_they_are_in_it_in_their_role() {
        let (ann, _) = person(None);
        let decided = decide(&formed(), join(ann, TeamRole::Coach), &admin()).expect("joined");
        let state = decided.events.iter().fold(formed(), evolve);
        assert_eq!(state.role_of(ann), Some(TeamRole::Coach));
        assert_eq!(state.member_count(), 0, "coaches do not count as members");
    }

    #[test]
    fn joining_twice_is_invalid_state_and_unknown_teams_or_people_are_not_found() {
        let (ann, _) = person(None);
        let state = evolve(
            formed(),
            &TeamEvent::MemberJoined {
                person_id: ann,
                role: TeamRole::Member,
            },
        );
        assert_eq!(
            decide(&state, join(ann, TeamRole::Member), &admin())
                .expect_err("twice")
                .code(),
            "INVALID_STATE"
        );
        assert_eq!(
            decide(&TeamState::default(), join(ann, TeamRole::Member), &admin())
                .expect_err("no team")
                .code(),
            "NOT_FOUND"
        );
        let ghost = TeamCommand::Join {
            person_id: PersonId::random(),
            role: TeamRole::Member,
            person_registered: false,
        };
        assert_eq!(
            decide(&formed(), ghost, &admin())
                .expect_err("no person")
                .code(),
            "NOT_FOUND"
        );
    }

    #[test]
    fn members_cannot_add_people_to_teams() {
        let (ann, as_ann) = person(None);
        let state = evolve(
            formed(),
            &TeamEvent::MemberJoined {
                person_id: ann,
                role: TeamRole::Member,
            },
        );
        let error = decide(&state, join(PersonId::random(), TeamRole::Member), &as_ann)
            .expect_err("refused");
        assert_eq!(error.code(), "FORBIDDEN");
    }

    #[test]
    fn a_person_may_leave_a_team_themselves_and_an_admin_may_take_anyone_out() {
        let (ann, as_ann) = person(None);
        let (bob, as_bob) = person(None);
        let state = given(&[
            TeamEvent::TeamFormed {
                name: "Rota".into(),
            },
            TeamEvent::MemberJoined {
                person_id: ann,
                role: TeamRole::Coach,
            },
            TeamEvent::MemberJoined {
                person_id: bob,
                role: TeamRole::Member,
            },
        ]);
        assert_eq!(
            decide(&state, TeamCommand::Leave { person_id: ann }, &as_ann)
                .expect("self")
                .role,
            ActingRole::Coach
        );
        assert_eq!(
            decide(&state, TeamCommand::Leave { person_id: ann }, &as_bob)
                .expect_err("other")
                .code(),
            "FORBIDDEN"
        );
        assert_eq!(
            decide(&state, TeamCommand::Leave { person_id: ann }, &admin())
                .expect("admin")
                .role,
            ActingRole::Admin
        );
        let (_, auditor) = person(Some(OrgRole::Auditor));
        assert_eq!(
            decide(&state, TeamCommand::Leave { person_id: ann }, &auditor)
                .expect_err("auditor")
                .code(),
            "FORBIDDEN"
        );
    }

    #[test]
    fn leaving_a_team_one_is_not_in_is_invalid_state_and_rejoining_after_leaving_is_allowed() {
        let (ann, as_ann) = person(None);
        let mut state = formed();
        assert_eq!(
            decide(&state, TeamCommand::Leave { person_id: ann }, &as_ann)
                .expect_err("not in")
                .code(),
            "INVALID_STATE"
        );
        state = evolve(
            state,
            &TeamEvent::MemberJoined {
                person_id: ann,
                role: TeamRole::Member,
            },
        );
        state = evolve(state, &TeamEvent::MemberLeft { person_id: ann });
        assert_eq!(state.role_of(ann), None);
        assert!(decide(&state, join(ann, TeamRole::Coach), &admin()).is_ok());
    }
}
