//! The organisation itself: founded once, by the first admin.

use serde::{Deserialize, Serialize};

use super::events::DomainEvent;
use super::{ActingRole, Caller, Decided, DomainError, PersonId};

/// The stream that records the organisation's founding.
pub const STREAM: &str = "organisation";

/// The organisation's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrganisationState {
    /// The first admin, once founded.
    pub founded_by: Option<PersonId>,
}

/// Something that happened to the organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::VariantNames)]
#[serde(tag = "event_type", content = "payload")]
pub enum OrganisationEvent {
    /// The first admin was created at the command line.
    OrganisationFounded {
        /// The first admin.
        admin: PersonId,
    },
}

impl DomainEvent for OrganisationEvent {}

/// Founds the organisation with its first admin; only the operator may, and
/// only once.
pub fn found(
    state: &OrganisationState,
    admin: PersonId,
    caller: &Caller,
) -> Result<Decided<OrganisationEvent>, DomainError> {
    if *caller != Caller::Operator {
        return Err(DomainError::Forbidden(
            "only the operator at the command line can bootstrap".into(),
        ));
    }
    if state.founded_by.is_some() {
        return Err(DomainError::InvalidState(
            "an admin already exists: ask them for a token, or use `advice-log token create --person ID`".into(),
        ));
    }
    Ok(Decided::new(
        ActingRole::Operator,
        vec![OrganisationEvent::OrganisationFounded { admin }],
    ))
}

/// Applies an event.
pub fn evolve(mut state: OrganisationState, event: &OrganisationEvent) -> OrganisationState {
    match event {
        OrganisationEvent::OrganisationFounded { admin } => state.founded_by = Some(*admin),
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Actor;

    #[test]
    fn given_no_organisation_when_the_operator_bootstraps_then_it_is_founded() {
        let admin = PersonId::random();
        let decided =
            found(&OrganisationState::default(), admin, &Caller::Operator).expect("founded");
        assert_eq!(
            decided.events,
            vec![OrganisationEvent::OrganisationFounded { admin }]
        );
    }

    #[test]
    fn given_a_founded_organisation_when_bootstrapping_again_then_it_is_refused() {
        let state = evolve(
            OrganisationState::default(),
            &OrganisationEvent::OrganisationFounded {
                admin: PersonId::random(),
            },
        );
        let error = found(&state, PersonId::random(), &Caller::Operator).expect_err("refused");
        assert_eq!(error.code(), "INVALID_STATE");
    }

    #[test]
    fn given_anyone_but_the_operator_when_bootstrapping_then_it_is_forbidden() {
        let caller = Caller::Person(Actor {
            person: PersonId::random(),
            org_role: Some(crate::domain::OrgRole::Admin),
        });
        let error =
            found(&OrganisationState::default(), PersonId::random(), &caller).expect_err("refused");
        assert_eq!(error.code(), "FORBIDDEN");
    }
}
