//! Redacting one free-text field of a proposal's event (`redactText`): the
//! rule an admin's request must pass before the field's key is destroyed.

use uuid::Uuid;

use super::{ProposalEvent, ProposalState};
use crate::domain::personal_data::redactable;
use crate::domain::{Caller, Decided, DomainError};

/// The event whose field is to be redacted, as the log holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedactionTarget {
    /// Its id.
    pub event_id: Uuid,
    /// Its type.
    pub event_type: String,
    /// Whether it is one of this proposal's events.
    pub in_this_proposal: bool,
}

/// Decides a redaction: admins only; the event must be this proposal's,
/// the field one of its type's free-text fields, and not redacted already.
pub fn decide_redaction(
    state: &ProposalState,
    target: &RedactionTarget,
    field: &str,
    caller: &Caller,
) -> Result<Decided<ProposalEvent>, DomainError> {
    let role = caller.require_admin("redact text")?;
    if state.owner.is_none() || !target.in_this_proposal {
        return Err(DomainError::NotFound(format!(
            "event {} is not one of this proposal's",
            target.event_id
        )));
    }
    let field = field.trim();
    if !redactable(&target.event_type, field) {
        return Err(DomainError::InvalidInput(format!(
            "{field:?} is not free text of a {} event; only what people wrote (a body, advice, a reason, a note, a rationale) can be redacted",
            target.event_type
        )));
    }
    if state
        .redacted
        .contains(&(target.event_id, field.to_string()))
    {
        return Err(DomainError::InvalidState(format!(
            "the {field} of event {} has already been redacted",
            target.event_id
        )));
    }
    Ok(Decided::new(
        role,
        vec![ProposalEvent::TextRedacted {
            event_id: target.event_id,
            field: field.to_string(),
        }],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::proposal::Owner;
    use crate::domain::{Actor, OrgRole, PersonId, TeamId};

    fn admin() -> Caller {
        Caller::Person(Actor {
            person: PersonId::random(),
            org_role: Some(OrgRole::Admin),
        })
    }
    fn raised() -> ProposalState {
        ProposalState {
            owner: Some(Owner::Team(TeamId::random())),
            ..ProposalState::default()
        }
    }
    fn objection(in_this_proposal: bool) -> RedactionTarget {
        RedactionTarget {
            event_id: Uuid::from_u128(7),
            event_type: "ObjectionRaised".into(),
            in_this_proposal,
        }
    }

    #[test]
    fn given_an_objection_when_an_admin_redacts_its_reason_then_text_redacted_is_recorded_once() {
        let decided =
            decide_redaction(&raised(), &objection(true), " reason ", &admin()).expect("redacted");
        assert_eq!(
            decided.events,
            vec![ProposalEvent::TextRedacted {
                event_id: Uuid::from_u128(7),
                field: "reason".into()
            }]
        );
        let mut state = raised();
        state.redacted.insert((Uuid::from_u128(7), "reason".into()));
        let again =
            decide_redaction(&state, &objection(true), "reason", &admin()).expect_err("once");
        assert_eq!(again.code(), "INVALID_STATE");
    }

    #[test]
    fn only_an_admin_redacts() {
        let member = Caller::Person(Actor {
            person: PersonId::random(),
            org_role: None,
        });
        let error =
            decide_redaction(&raised(), &objection(true), "reason", &member).expect_err("refused");
        assert_eq!(error.code(), "FORBIDDEN");
    }

    #[test]
    fn a_field_that_is_not_free_text_or_an_event_of_another_proposal_is_refused() {
        let wrong_field =
            decide_redaction(&raised(), &objection(true), "stance", &admin()).expect_err("field");
        assert_eq!(wrong_field.code(), "INVALID_INPUT");
        let vote = RedactionTarget {
            event_type: "VoteCast".into(),
            ..objection(true)
        };
        assert_eq!(
            decide_redaction(&raised(), &vote, "reason", &admin())
                .expect_err("a vote has no text")
                .code(),
            "INVALID_INPUT"
        );
        let elsewhere =
            decide_redaction(&raised(), &objection(false), "reason", &admin()).expect_err("other");
        assert_eq!(elsewhere.code(), "NOT_FOUND");
    }
}
