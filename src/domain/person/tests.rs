//! Given/when/then tests of a person's decisions.

use super::*;
use crate::domain::Actor;

fn admin() -> Caller {
    Caller::Person(Actor {
        person: PersonId::random(),
        org_role: Some(OrgRole::Admin),
    })
}
fn auditor() -> Caller {
    Caller::Person(Actor {
        person: PersonId::random(),
        org_role: Some(OrgRole::Auditor),
    })
}
fn someone() -> Caller {
    Caller::Person(Actor {
        person: PersonId::random(),
        org_role: None,
    })
}
fn register(name: &str, email: &str) -> PersonCommand {
    PersonCommand::Register {
        name: name.into(),
        email: email.into(),
        org_role: None,
    }
}
fn given(events: &[PersonEvent]) -> PersonState {
    events.iter().fold(PersonState::default(), evolve)
}
fn registered() -> PersonState {
    given(&[PersonEvent::PersonRegistered {
        name: "Ann".into(),
        email: "ann@example.org".into(),
        org_role: None,
    }])
}

#[test]
fn given_nobody_when_an_admin_registers_a_person_then_they_are_registered_trimmed() {
    let decided = decide(
        &PersonState::default(),
        register(" Ann ", "ann@example.org"),
        &admin(),
    )
    .expect("registered");
    assert_eq!(decided.role, ActingRole::Admin);
    assert_eq!(
        decided.events,
        vec![PersonEvent::PersonRegistered {
            name: "Ann".into(),
            email: "ann@example.org".into(),
            org_role: None
        }]
    );
}

#[test]
fn when_a_non_admin_registers_a_person_then_it_is_forbidden() {
    for caller in [auditor(), someone()] {
        let error = decide(
            &PersonState::default(),
            register("Ann", "ann@example.org"),
            &caller,
        )
        .expect_err("refused");
        assert_eq!(error.code(), "FORBIDDEN");
    }
}

#[test]
fn when_the_name_is_empty_or_the_email_malformed_then_it_is_invalid_input() {
    for command in [
        register("  ", "ann@example.org"),
        register("Ann", "not-an-email"),
    ] {
        let error = decide(&PersonState::default(), command, &admin()).expect_err("refused");
        assert_eq!(error.code(), "INVALID_INPUT");
    }
}

#[test]
fn given_a_registered_person_when_registering_again_then_it_is_invalid_state() {
    let error =
        decide(&registered(), register("Ann", "ann@example.org"), &admin()).expect_err("refused");
    assert_eq!(error.code(), "INVALID_STATE");
}

#[test]
fn given_nobody_when_issuing_a_token_then_it_is_not_found() {
    let command = PersonCommand::IssueToken {
        token_id: TokenId::random(),
        secret_hash: "h".into(),
    };
    let error = decide(&PersonState::default(), command, &admin()).expect_err("refused");
    assert_eq!(error.code(), "NOT_FOUND");
}

#[test]
fn only_the_operator_or_an_admin_issues_tokens() {
    let command = PersonCommand::IssueToken {
        token_id: TokenId::random(),
        secret_hash: "h".into(),
    };
    assert_eq!(
        decide(&registered(), command.clone(), &Caller::Operator)
            .expect("operator")
            .role,
        ActingRole::Operator
    );
    assert_eq!(
        decide(&registered(), command.clone(), &admin())
            .expect("admin")
            .role,
        ActingRole::Admin
    );
    for caller in [auditor(), someone()] {
        assert_eq!(
            decide(&registered(), command.clone(), &caller)
                .expect_err("refused")
                .code(),
            "FORBIDDEN"
        );
    }
}

#[test]
fn given_an_issued_token_when_it_is_revoked_then_it_is_marked_revoked_and_cannot_be_revoked_again()
{
    let token_id = TokenId::random();
    let owner = PersonId::random();
    let as_owner = Caller::Person(Actor {
        person: owner,
        org_role: None,
    });
    let mut state = registered();
    state = evolve(
        state,
        &PersonEvent::TokenIssued {
            token_id,
            secret_hash: "h".into(),
        },
    );
    let error = decide(
        &state,
        PersonCommand::RevokeToken { owner, token_id },
        &someone(),
    )
    .expect_err("not theirs");
    assert_eq!(error.code(), "FORBIDDEN");
    let decided = decide(
        &state,
        PersonCommand::RevokeToken { owner, token_id },
        &as_owner,
    )
    .expect("revoked");
    assert_eq!(decided.role, ActingRole::Person);
    state = decided.events.iter().fold(state, evolve);
    assert!(state.tokens[&token_id].revoked);
    let error = decide(
        &state,
        PersonCommand::RevokeToken { owner, token_id },
        &admin(),
    )
    .expect_err("again");
    assert_eq!(error.code(), "INVALID_STATE");
    let unknown = decide(
        &state,
        PersonCommand::RevokeToken {
            owner,
            token_id: TokenId::random(),
        },
        &admin(),
    )
    .expect_err("unknown");
    assert_eq!(unknown.code(), "NOT_FOUND");
}

#[test]
fn auditors_cannot_revoke_tokens() {
    let token_id = TokenId::random();
    let state = evolve(
        registered(),
        &PersonEvent::TokenIssued {
            token_id,
            secret_hash: "h".into(),
        },
    );
    let error = decide(
        &state,
        PersonCommand::RevokeToken {
            owner: PersonId::random(),
            token_id,
        },
        &auditor(),
    )
    .expect_err("refused");
    assert_eq!(error.code(), "FORBIDDEN");
}

#[test]
fn events_round_trip_through_their_stored_form() {
    let event = PersonEvent::TokenIssued {
        token_id: TokenId::random(),
        secret_hash: "ab".into(),
    };
    let (event_type, payload) = event.to_stored();
    assert_eq!(event_type, "TokenIssued");
    assert_eq!(
        PersonEvent::decode(&event_type, 1, &payload),
        Ok(Some(event))
    );
}

const ISSUER: &str = "https://login.example.org/tenant/v2.0";

fn link(subject: &str) -> PersonCommand {
    PersonCommand::LinkIdentity {
        issuer: ISSUER.into(),
        subject: subject.into(),
    }
}
fn unlink(subject: &str) -> PersonCommand {
    PersonCommand::UnlinkIdentity {
        issuer: ISSUER.into(),
        subject: subject.into(),
    }
}
fn issued(token_id: TokenId) -> PersonEvent {
    PersonEvent::TokenIssued {
        token_id,
        secret_hash: "h".into(),
    }
}
fn linked(subject: &str) -> PersonEvent {
    PersonEvent::IdentityLinked {
        issuer: ISSUER.into(),
        subject: subject.into(),
    }
}
fn with(state: PersonState, events: &[PersonEvent]) -> PersonState {
    events.iter().fold(state, evolve)
}

#[test]
fn given_a_person_when_an_admin_links_an_identity_then_it_is_linked_trimmed() {
    let decided = decide(
        &registered(),
        PersonCommand::LinkIdentity {
            issuer: format!(" {ISSUER} "),
            subject: " 248289761001 ".into(),
        },
        &admin(),
    )
    .expect("linked");
    assert_eq!(decided.role, ActingRole::Admin);
    assert_eq!(decided.events, vec![linked("248289761001")]);
    let state = with(registered(), &decided.events);
    assert!(state
        .identities
        .contains(&(ISSUER.to_string(), "248289761001".to_string())));
}

#[test]
fn when_the_issuer_is_not_a_web_url_or_the_subject_is_bad_then_it_is_invalid_input() {
    let long = "s".repeat(256);
    for (issuer, subject) in [
        ("login.example.org", "ann"),
        ("ftp://login.example.org", "ann"),
        ("https://", "ann"),
        (ISSUER, "  "),
        (ISSUER, long.as_str()),
        (ISSUER, "an\u{0}n"),
    ] {
        let command = PersonCommand::LinkIdentity {
            issuer: issuer.into(),
            subject: subject.into(),
        };
        let error = decide(&registered(), command, &admin()).expect_err("refused");
        assert_eq!(error.code(), "INVALID_INPUT", "{issuer} {subject:?}");
    }
    let exactly = "s".repeat(255);
    decide(&registered(), link(&exactly), &admin()).expect("255 characters is fine");
    let http = PersonCommand::LinkIdentity {
        issuer: "http://localhost:9090".into(),
        subject: "ann".into(),
    };
    decide(&registered(), http, &admin()).expect("http is fine");
}

#[test]
fn given_a_linked_identity_when_linking_it_again_then_it_is_invalid_state() {
    let state = with(registered(), &[linked("ann")]);
    let error = decide(&state, link("ann"), &admin()).expect_err("refused");
    assert_eq!(error.code(), "INVALID_STATE");
}

#[test]
fn given_a_linked_identity_when_it_is_unlinked_then_it_is_gone_and_cannot_be_unlinked_again() {
    let state = with(registered(), &[linked("ann")]);
    let decided = decide(&state, unlink("ann"), &admin()).expect("unlinked");
    assert_eq!(
        decided.events,
        vec![PersonEvent::IdentityUnlinked {
            issuer: ISSUER.into(),
            subject: "ann".into()
        }]
    );
    let state = with(state, &decided.events);
    assert!(state.identities.is_empty());
    let error = decide(&state, unlink("ann"), &admin()).expect_err("again");
    assert_eq!(error.code(), "NOT_FOUND");
}

#[test]
fn only_an_admin_links_unlinks_or_marks_someone_as_left() {
    let state = with(registered(), &[linked("ann")]);
    for caller in [auditor(), someone()] {
        for command in [link("bob"), unlink("ann"), PersonCommand::MarkLeft] {
            let error = decide(&state, command, &caller).expect_err("refused");
            assert_eq!(error.code(), "FORBIDDEN");
        }
    }
}

#[test]
fn given_tokens_and_links_when_the_person_leaves_then_live_tokens_are_revoked_and_links_dropped_in_one_decision(
) {
    let (live, revoked, other) = (TokenId::random(), TokenId::random(), TokenId::random());
    let state = with(
        registered(),
        &[
            issued(live),
            issued(revoked),
            PersonEvent::TokenRevoked { token_id: revoked },
            issued(other),
            linked("ann"),
        ],
    );
    let decided = decide(&state, PersonCommand::MarkLeft, &admin()).expect("left");
    assert_eq!(decided.role, ActingRole::Admin);
    let mut expected_revoked = vec![live, other];
    expected_revoked.sort();
    let mut events = expected_revoked
        .into_iter()
        .map(|token_id| PersonEvent::TokenRevoked { token_id })
        .collect::<Vec<_>>();
    events.push(PersonEvent::IdentityUnlinked {
        issuer: ISSUER.into(),
        subject: "ann".into(),
    });
    events.push(PersonEvent::PersonLeft {});
    assert_eq!(decided.events, events);
    let state = with(state, &decided.events);
    assert!(state.left);
    assert!(state.tokens.values().all(|t| t.revoked));
    assert!(state.identities.is_empty());
}

#[test]
fn given_a_person_who_left_when_leaving_again_issuing_a_token_or_linking_then_it_is_invalid_state()
{
    let state = with(registered(), &[PersonEvent::PersonLeft {}]);
    let commands = [
        PersonCommand::MarkLeft,
        PersonCommand::IssueToken {
            token_id: TokenId::random(),
            secret_hash: "h".into(),
        },
        link("ann"),
    ];
    for command in commands {
        let error = decide(&state, command.clone(), &admin()).expect_err("refused");
        assert_eq!(error.code(), "INVALID_STATE", "{command:?}");
        assert!(error.to_string().contains("has left"), "{error}");
    }
}

#[test]
fn given_nobody_when_marking_them_as_left_then_it_is_not_found() {
    let error =
        decide(&PersonState::default(), PersonCommand::MarkLeft, &admin()).expect_err("refused");
    assert_eq!(error.code(), "NOT_FOUND");
}
