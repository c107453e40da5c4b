//! Given/when/then tests of erasing and correcting a person's personal data.

use super::*;
use crate::domain::Actor;

fn admin() -> Caller {
    Caller::Person(Actor {
        person: PersonId::random(),
        org_role: Some(OrgRole::Admin),
    })
}
fn member() -> Caller {
    Caller::Person(Actor {
        person: PersonId::random(),
        org_role: None,
    })
}
fn auditor() -> Caller {
    Caller::Person(Actor {
        person: PersonId::random(),
        org_role: Some(OrgRole::Auditor),
    })
}
fn with(state: PersonState, events: &[PersonEvent]) -> PersonState {
    events.iter().fold(state, evolve)
}
fn ann() -> PersonState {
    with(
        PersonState::default(),
        &[PersonEvent::PersonRegistered {
            name: "Ann Smith".into(),
            email: "ann@example.org".into(),
            org_role: None,
        }],
    )
}
fn erase(include_contributions: bool) -> PersonCommand {
    PersonCommand::Erase {
        include_contributions,
    }
}
fn correct(name: Option<&str>, email: Option<&str>) -> PersonCommand {
    PersonCommand::CorrectDetails {
        name: name.map(str::to_owned),
        email: email.map(str::to_owned),
    }
}

#[test]
fn given_a_person_with_a_token_and_a_link_when_an_admin_erases_them_then_both_end_and_they_read_as_erased(
) {
    let token_id = TokenId::random();
    let state = with(
        ann(),
        &[
            PersonEvent::TokenIssued {
                token_id,
                secret_hash: "h".into(),
            },
            PersonEvent::IdentityLinked {
                issuer: "https://login.example.org".into(),
                subject: "ann".into(),
            },
        ],
    );
    let decided = decide(&state, erase(true), &admin()).expect("erased");
    assert_eq!(decided.role, ActingRole::Admin);
    assert_eq!(
        decided.events,
        vec![
            PersonEvent::TokenRevoked { token_id },
            PersonEvent::IdentityUnlinked {
                issuer: "https://login.example.org".into(),
                subject: "ann".into(),
            },
            PersonEvent::PersonErased {
                include_contributions: true
            },
        ]
    );
    let state = with(state, &decided.events);
    assert!(state.erased && state.left);
    assert_eq!(state.name, ERASED_NAME);
    assert_eq!(state.email, "");
}

#[test]
fn given_a_person_who_left_when_an_admin_erases_them_then_it_is_allowed() {
    let state = with(ann(), &[PersonEvent::PersonLeft {}]);
    let decided = decide(&state, erase(false), &admin()).expect("erased");
    assert_eq!(
        decided.events,
        vec![PersonEvent::PersonErased {
            include_contributions: false
        }]
    );
}

#[test]
fn given_an_erased_person_when_erasing_or_correcting_again_then_it_is_invalid_state() {
    let state = with(
        ann(),
        &[PersonEvent::PersonErased {
            include_contributions: false,
        }],
    );
    for command in [erase(true), correct(Some("Ann Jones"), None)] {
        let error = decide(&state, command.clone(), &admin()).expect_err("refused");
        assert_eq!(error.code(), "INVALID_STATE", "{command:?}");
        assert!(error.to_string().contains("already been erased"), "{error}");
    }
}

#[test]
fn only_an_admin_erases_or_corrects_someone() {
    for caller in [member(), auditor()] {
        for command in [erase(true), correct(Some("Ann Jones"), None)] {
            let error = decide(&ann(), command, &caller).expect_err("refused");
            assert_eq!(error.code(), "FORBIDDEN");
        }
    }
}

#[test]
fn given_nobody_when_erasing_them_then_it_is_not_found() {
    let error = decide(&PersonState::default(), erase(true), &admin()).expect_err("refused");
    assert_eq!(error.code(), "NOT_FOUND");
}

#[test]
fn given_a_person_when_an_admin_corrects_their_name_then_the_new_name_and_the_kept_email_are_recorded(
) {
    let decided = decide(&ann(), correct(Some("  Ann Jones "), None), &admin()).expect("corrected");
    assert_eq!(
        decided.events,
        vec![PersonEvent::PersonDetailsCorrected {
            name: "Ann Jones".into(),
            email: "ann@example.org".into(),
        }]
    );
    let state = with(ann(), &decided.events);
    assert_eq!(
        (state.name.as_str(), state.email.as_str()),
        ("Ann Jones", "ann@example.org")
    );
}

#[test]
fn given_a_person_when_a_correction_changes_nothing_or_is_not_valid_then_it_is_invalid_input() {
    for command in [
        correct(None, None),
        correct(Some("Ann Smith"), Some("ann@example.org")),
        correct(None, Some("not an address")),
        correct(Some(""), None),
    ] {
        let error = decide(&ann(), command.clone(), &admin()).expect_err("refused");
        assert_eq!(error.code(), "INVALID_INPUT", "{command:?}");
    }
}
