//! People, their API tokens, the identities an organisation's identity
//! provider knows them by, and their leaving. Personal data (name, e-mail)
//! lives only in these events.
//!
//! Leaving is one decision of several events: every live token is revoked
//! (`TokenRevoked`) and every identity unlinked (`IdentityUnlinked`) before
//! `PersonLeft`, all in one append, so the log says each thing that ended
//! and a reader needs no rule that `PersonLeft` implies them. A person who
//! has left cannot be given a token, be linked, or leave again.
//!
//! Erasure (UK GDPR) is decided the same way: every live token revoked and
//! every identity unlinked, then `PersonErased`. The events keep their
//! bytes; the person's name and e-mail were stored encrypted under their
//! own key (`crate::erasure`), which the application destroys once
//! `PersonErased` is appended, so from then on they read as
//! [`ERASED_NAME`]. A correction (`PersonDetailsCorrected`) records a new
//! name or e-mail; the old value stays in the earlier event until the
//! person is erased.

use std::collections::{BTreeMap, BTreeSet};

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
    /// The identities linked to them: `(issuer, subject)`.
    pub identities: BTreeSet<(String, String)>,
    /// Whether they were marked as left.
    pub left: bool,
    /// Whether their personal data was erased (they have also left).
    pub erased: bool,
}

/// What an erased person's name reads as everywhere.
pub const ERASED_NAME: &str = "Erased person";

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
    /// An identity at an organisation's identity provider now signs this
    /// person in.
    IdentityLinked {
        /// The provider's issuer URL.
        issuer: String,
        /// The subject the provider knows them by.
        subject: String,
    },
    /// An identity no longer signs this person in.
    IdentityUnlinked {
        /// The provider's issuer URL.
        issuer: String,
        /// The subject the provider knows them by.
        subject: String,
    },
    /// The person left the organisation: nothing signs them in any more.
    /// Their tokens were revoked and identities unlinked by the events
    /// before it in the same append.
    PersonLeft {},
    /// Their name or e-mail address was corrected (rectification); both
    /// are given as they now are.
    PersonDetailsCorrected {
        /// Their name.
        name: String,
        /// Their e-mail address.
        email: String,
    },
    /// Their personal data was erased: their key is destroyed once this is
    /// appended. Their tokens were revoked and identities unlinked by the
    /// events before it in the same append.
    PersonErased {
        /// Whether the free text they wrote is erased too (else it stays
        /// readable, their name gone from it only where they signed it).
        include_contributions: bool,
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
    /// Link an identity at an identity provider to this person (admin).
    LinkIdentity {
        /// The provider's issuer URL.
        issuer: String,
        /// The subject the provider knows them by.
        subject: String,
    },
    /// Unlink an identity from this person (admin).
    UnlinkIdentity {
        /// The provider's issuer URL.
        issuer: String,
        /// The subject the provider knows them by.
        subject: String,
    },
    /// Mark the person as left (admin): revokes their live tokens and
    /// unlinks their identities in the same decision.
    MarkLeft,
    /// Correct their name or e-mail address (admin); `None` keeps it.
    CorrectDetails {
        /// The corrected name.
        name: Option<String>,
        /// The corrected e-mail address.
        email: Option<String>,
    },
    /// Erase their personal data (admin): as leaving, then `PersonErased`.
    Erase {
        /// Whether the free text they wrote is erased too.
        include_contributions: bool,
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
            require_present(state, "be given a token")?;
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
        PersonCommand::LinkIdentity { issuer, subject } => {
            let role = caller.require_admin("link identities")?;
            let issuer = validate::issuer(&issuer)?;
            let subject = validate::subject(&subject)?;
            require_present(state, "be linked to an identity")?;
            if state
                .identities
                .contains(&(issuer.clone(), subject.clone()))
            {
                return Err(DomainError::InvalidState(format!(
                    "{subject} at {issuer} is already linked to this person"
                )));
            }
            Ok(Decided::new(
                role,
                vec![PersonEvent::IdentityLinked { issuer, subject }],
            ))
        }
        PersonCommand::UnlinkIdentity { issuer, subject } => {
            let role = caller.require_admin("unlink identities")?;
            require_registered(state)?;
            let (issuer, subject) = (issuer.trim().to_string(), subject.trim().to_string());
            if !state
                .identities
                .contains(&(issuer.clone(), subject.clone()))
            {
                return Err(DomainError::NotFound(format!(
                    "{subject} at {issuer} is not linked to this person"
                )));
            }
            Ok(Decided::new(
                role,
                vec![PersonEvent::IdentityUnlinked { issuer, subject }],
            ))
        }
        PersonCommand::MarkLeft => {
            let role = caller.require_admin("mark people as left")?;
            require_present(state, "leave")?;
            let events = ending(state).chain([PersonEvent::PersonLeft {}]).collect();
            Ok(Decided::new(role, events))
        }
        PersonCommand::CorrectDetails { name, email } => {
            let role = caller.require_admin("correct people's details")?;
            require_not_erased(state)?;
            let name = match name {
                Some(name) => validate::name("a person's name", &name)?,
                None => state.name.clone(),
            };
            let email = match email {
                Some(email) => validate::email(&email)?,
                None => state.email.clone(),
            };
            if name == state.name && email == state.email {
                return Err(DomainError::InvalidInput(
                    "the name and e-mail address are already as given; nothing to correct".into(),
                ));
            }
            Ok(Decided::new(
                role,
                vec![PersonEvent::PersonDetailsCorrected { name, email }],
            ))
        }
        PersonCommand::Erase {
            include_contributions,
        } => {
            let role = caller.require_admin("erase people's personal data")?;
            require_not_erased(state)?;
            let events = ending(state)
                .chain([PersonEvent::PersonErased {
                    include_contributions,
                }])
                .collect();
            Ok(Decided::new(role, events))
        }
    }
}

/// What ends with a person's time here: a `TokenRevoked` for each live
/// token and an `IdentityUnlinked` for each linked identity.
fn ending(state: &PersonState) -> impl Iterator<Item = PersonEvent> + '_ {
    let revoked = state
        .tokens
        .iter()
        .filter(|(_, token)| !token.revoked)
        .map(|(token_id, _)| PersonEvent::TokenRevoked {
            token_id: *token_id,
        });
    let unlinked = state
        .identities
        .iter()
        .map(|(issuer, subject)| PersonEvent::IdentityUnlinked {
            issuer: issuer.clone(),
            subject: subject.clone(),
        });
    revoked.chain(unlinked)
}

/// Refuses a person who does not exist or whose data was erased already.
fn require_not_erased(state: &PersonState) -> Result<(), DomainError> {
    require_registered(state)?;
    if state.erased {
        return Err(DomainError::InvalidState(
            "this person's personal data has already been erased".into(),
        ));
    }
    Ok(())
}

/// Refuses a person who does not exist (`NOT_FOUND`) or has left
/// (`INVALID_STATE`, saying they cannot `what`).
fn require_present(state: &PersonState, what: &str) -> Result<(), DomainError> {
    require_registered(state)?;
    if state.left {
        return Err(DomainError::InvalidState(format!(
            "this person has left the organisation and cannot {what}"
        )));
    }
    Ok(())
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
        PersonEvent::IdentityLinked { issuer, subject } => {
            state.identities.insert((issuer.clone(), subject.clone()));
        }
        PersonEvent::IdentityUnlinked { issuer, subject } => {
            state.identities.remove(&(issuer.clone(), subject.clone()));
        }
        PersonEvent::PersonLeft {} => state.left = true,
        PersonEvent::PersonDetailsCorrected { name, email } => {
            state.name.clone_from(name);
            state.email.clone_from(email);
        }
        PersonEvent::PersonErased { .. } => {
            state.left = true;
            state.erased = true;
            state.name = ERASED_NAME.to_string();
            state.email.clear();
        }
    }
    state
}

#[cfg(test)]
mod erasure_tests;
#[cfg(test)]
mod tests;
