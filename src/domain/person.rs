//! People and their API tokens. Personal data (name, e-mail) lives only in
//! these events.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::events::DomainEvent;
use super::notification::Frequency;
use super::{validate, ActingRole, Caller, Decided, DomainError, OrgRole, PersonId, TokenId};

/// A person's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PersonState {
    /// Whether the person exists.
    pub registered: bool,
    /// Their name.
    pub name: String,
    /// Their e-mail address.
    pub email: String,
    /// Their organisation role.
    pub org_role: Option<OrgRole>,
    /// Their tokens by id: the SHA-256 of the secret, and whether revoked.
    pub tokens: BTreeMap<TokenId, TokenState>,
    /// How often they want to hear by e-mail.
    pub frequency: Frequency,
}

/// One token as the person's state knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenState {
    /// Hex SHA-256 of the token's secret.
    pub secret_hash: String,
    /// Whether it was revoked.
    pub revoked: bool,
}

/// Something that happened to a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::VariantNames)]
#[serde(tag = "event_type", content = "payload")]
pub enum PersonEvent {
    /// A person got an account.
    PersonRegistered {
        /// Their name.
        name: String,
        /// Their e-mail address.
        email: String,
        /// Their organisation role, if any.
        org_role: Option<OrgRole>,
    },
    /// A token was issued; only the hash of its secret is kept.
    TokenIssued {
        /// The token's id (part of the token itself).
        token_id: TokenId,
        /// Hex SHA-256 of the secret.
        secret_hash: String,
    },
    /// A token was revoked and no longer authenticates.
    TokenRevoked {
        /// The token's id.
        token_id: TokenId,
    },
    /// The person chose how often to hear by e-mail.
    NotificationPreferenceSet {
        /// Each notification, a daily digest, or none.
        frequency: Frequency,
    },
}

impl DomainEvent for PersonEvent {}

/// What can be asked of a person aggregate.
#[derive(Debug, Clone, PartialEq)]
pub enum PersonCommand {
    /// Give someone an account.
    Register {
        /// Their name.
        name: String,
        /// Their e-mail address.
        email: String,
        /// Their organisation role, if any.
        org_role: Option<OrgRole>,
    },
    /// Issue a new token whose secret hashes to `secret_hash`.
    IssueToken {
        /// The new token's id.
        token_id: TokenId,
        /// Hex SHA-256 of its secret.
        secret_hash: String,
    },
    /// Revoke a token.
    RevokeToken {
        /// The person whose token it is (this aggregate's id).
        owner: PersonId,
        /// The token's id.
        token_id: TokenId,
    },
    /// Choose how often to hear by e-mail (the person themselves).
    SetNotificationPreference {
        /// The person (this aggregate's id).
        owner: PersonId,
        /// Each notification, a daily digest, or none.
        frequency: Frequency,
    },
}

/// Decides a command against a person's state.
pub fn decide(
    state: &PersonState,
    command: PersonCommand,
    caller: &Caller,
) -> Result<Decided<PersonEvent>, DomainError> {
    match command {
        PersonCommand::Register {
            name,
            email,
            org_role,
        } => {
            let role = caller.require_admin("register people")?;
            let name = validate::name("a person's name", &name)?;
            let email = validate::email(&email)?;
            if state.registered {
                return Err(DomainError::InvalidState(
                    "this person is already registered".into(),
                ));
            }
            Ok(Decided::new(
                role,
                vec![PersonEvent::PersonRegistered {
                    name,
                    email,
                    org_role,
                }],
            ))
        }
        PersonCommand::IssueToken {
            token_id,
            secret_hash,
        } => {
            let role = caller.require_admin("issue tokens")?;
            require_registered(state)?;
            Ok(Decided::new(
                role,
                vec![PersonEvent::TokenIssued {
                    token_id,
                    secret_hash,
                }],
            ))
        }
        PersonCommand::RevokeToken { owner, token_id } => {
            caller.refuse_auditor("revoke tokens")?;
            let role = match caller {
                Caller::Operator => ActingRole::Operator,
                Caller::Person(actor) if actor.is_admin() => ActingRole::Admin,
                Caller::Person(actor) if actor.person == owner => ActingRole::Person,
                Caller::Person(_) => {
                    return Err(DomainError::Forbidden(
                        "only an admin or the token's owner can revoke a token".into(),
                    ))
                }
            };
            require_registered(state)?;
            let token = state
                .tokens
                .get(&token_id)
                .ok_or_else(|| DomainError::NotFound(format!("no token {token_id}")))?;
            if token.revoked {
                return Err(DomainError::InvalidState(format!(
                    "token {token_id} is already revoked"
                )));
            }
            Ok(Decided::new(
                role,
                vec![PersonEvent::TokenRevoked { token_id }],
            ))
        }
        PersonCommand::SetNotificationPreference { owner, frequency } => {
            caller.refuse_auditor("change how someone is notified")?;
            match caller {
                Caller::Person(actor) if actor.person == owner => {}
                _ => {
                    return Err(DomainError::Forbidden(
                        "only the person themselves can choose how they are notified".into(),
                    ))
                }
            }
            require_registered(state)?;
            Ok(Decided::new(
                ActingRole::Person,
                vec![PersonEvent::NotificationPreferenceSet { frequency }],
            ))
        }
    }
}

fn require_registered(state: &PersonState) -> Result<(), DomainError> {
    if state.registered {
        Ok(())
    } else {
        Err(DomainError::NotFound("no such person".into()))
    }
}

/// Applies an event.
pub fn evolve(mut state: PersonState, event: &PersonEvent) -> PersonState {
    match event {
        PersonEvent::PersonRegistered {
            name,
            email,
            org_role,
        } => {
            state.registered = true;
            state.name.clone_from(name);
            state.email.clone_from(email);
            state.org_role = *org_role;
        }
        PersonEvent::TokenIssued {
            token_id,
            secret_hash,
        } => {
            state.tokens.insert(
                *token_id,
                TokenState {
                    secret_hash: secret_hash.clone(),
                    revoked: false,
                },
            );
        }
        PersonEvent::TokenRevoked { token_id } => {
            if let Some(token) = state.tokens.get_mut(token_id) {
                token.revoked = true;
            }
        }
        PersonEvent::NotificationPreferenceSet { frequency } => state.frequency = *frequency,
    }
    state
}

#[cfg(test)]
mod tests {
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
        let error = decide(&registered(), register("Ann", "ann@example.org"), &admin())
            .expect_err("refused");
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
    fn given_an_issued_token_when_it_is_revoked_then_it_is_marked_revoked_and_cannot_be_revoked_again(
    ) {
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
}
