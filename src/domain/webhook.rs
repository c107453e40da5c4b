//! Webhooks: an admin registers a URL for the whole organisation, a team or
//! a group, and deletes it. Its secret is never in the log: the server
//! derives it from its signing key and the webhook's id.

use serde::{Deserialize, Serialize};

use super::events::DomainEvent;
use super::{Caller, Decided, DomainError, GroupId, TeamId};

/// The longest webhook URL accepted.
pub const MAX_URL: usize = 2000;

/// A webhook's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookState {
    /// Whether it was registered.
    pub registered: bool,
    /// Whether it was deleted.
    pub deleted: bool,
}

/// What a webhook receives: every proposal's events, or one team's or one
/// group's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// The whole organisation.
    Organisation,
    /// One team: its proposals' events and the requests made to it.
    Team(TeamId),
    /// One group: its proposals' events.
    Group(GroupId),
}

/// Something that happened to a webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::VariantNames)]
#[serde(tag = "event_type", content = "payload")]
pub enum WebhookEvent {
    /// An admin registered a webhook.
    WebhookRegistered {
        /// Where its calls go.
        url: String,
        /// What it receives.
        scope: Scope,
    },
    /// An admin deleted it: nothing more is sent to it.
    WebhookDeleted {},
}

impl DomainEvent for WebhookEvent {}

/// What can be asked of a webhook.
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookCommand {
    /// Register it (the scope's team or group is known to exist).
    Register {
        /// Where its calls go.
        url: String,
        /// What it receives.
        scope: Scope,
    },
    /// Delete it.
    Delete,
}

/// Decides a command against a webhook's state.
pub fn decide(
    state: &WebhookState,
    command: WebhookCommand,
    caller: &Caller,
) -> Result<Decided<WebhookEvent>, DomainError> {
    match command {
        WebhookCommand::Register { url, scope } => {
            let role = caller.require_admin("register webhooks")?;
            let url = url_syntax(&url)?;
            if state.registered {
                return Err(DomainError::InvalidState(
                    "this webhook is already registered".into(),
                ));
            }
            Ok(Decided::new(
                role,
                vec![WebhookEvent::WebhookRegistered { url, scope }],
            ))
        }
        WebhookCommand::Delete => {
            let role = caller.require_admin("delete webhooks")?;
            if !state.registered {
                return Err(DomainError::NotFound("no such webhook".into()));
            }
            if state.deleted {
                return Err(DomainError::InvalidState(
                    "this webhook is already deleted".into(),
                ));
            }
            Ok(Decided::new(role, vec![WebhookEvent::WebhookDeleted {}]))
        }
    }
}

/// Applies an event.
pub fn evolve(mut state: WebhookState, event: &WebhookEvent) -> WebhookState {
    match event {
        WebhookEvent::WebhookRegistered { .. } => state.registered = true,
        WebhookEvent::WebhookDeleted {} => state.deleted = true,
    }
    state
}

/// A URL's shape: `http://` or `https://`, a host, no spaces or control
/// characters, no user name or password, at most [`MAX_URL`] characters.
/// Whether its host is on a private network is checked where names can be
/// looked up, outside the domain.
fn url_syntax(url: &str) -> Result<String, DomainError> {
    let url = url.trim();
    let invalid = |why: &str| {
        Err(DomainError::InvalidInput(format!(
            "the webhook address {why}"
        )))
    };
    if url.chars().count() > MAX_URL {
        return invalid(&format!("is longer than {MAX_URL} characters"));
    }
    let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    else {
        return invalid("must start with https:// or http://");
    };
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return invalid("must not contain spaces or control characters");
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() {
        return invalid("must name a host");
    }
    if authority.contains('@') {
        return invalid("must not contain a user name or password");
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Actor, OrgRole, PersonId};

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

    fn register(url: &str) -> WebhookCommand {
        WebhookCommand::Register {
            url: url.into(),
            scope: Scope::Organisation,
        }
    }

    #[test]
    fn given_nothing_when_an_admin_registers_a_webhook_then_it_is_registered() {
        let decided = decide(
            &WebhookState::default(),
            register(" https://hooks.example.org/advice "),
            &admin(),
        )
        .expect("registered");
        assert_eq!(
            decided.events,
            vec![WebhookEvent::WebhookRegistered {
                url: "https://hooks.example.org/advice".into(),
                scope: Scope::Organisation
            }]
        );
    }

    #[test]
    fn given_nothing_when_a_member_registers_a_webhook_then_it_is_forbidden() {
        let refused = decide(
            &WebhookState::default(),
            register("https://hooks.example.org/"),
            &member(),
        );
        assert!(
            matches!(refused, Err(DomainError::Forbidden(_))),
            "{refused:?}"
        );
    }

    #[test]
    fn given_nothing_when_the_address_is_not_a_web_address_then_it_is_invalid_input() {
        for url in [
            "ftp://example.org/",
            "https://",
            "https://user:pw@example.org/",
            "https://example.org/a b",
            "example.org",
        ] {
            let refused = decide(&WebhookState::default(), register(url), &admin());
            assert!(
                matches!(refused, Err(DomainError::InvalidInput(_))),
                "{url}: {refused:?}"
            );
        }
        let long = format!("https://example.org/{}", "a".repeat(MAX_URL));
        let refused = decide(&WebhookState::default(), register(&long), &admin());
        assert!(matches!(refused, Err(DomainError::InvalidInput(_))));
    }

    #[test]
    fn given_a_deleted_webhook_when_deleting_again_then_it_is_invalid_state() {
        let registered = evolve(
            WebhookState::default(),
            &WebhookEvent::WebhookRegistered {
                url: "https://example.org/".into(),
                scope: Scope::Organisation,
            },
        );
        let decided = decide(&registered, WebhookCommand::Delete, &admin()).expect("deleted");
        let deleted = decided.events.iter().fold(registered, evolve);
        let again = decide(&deleted, WebhookCommand::Delete, &admin());
        assert!(
            matches!(again, Err(DomainError::InvalidState(_))),
            "{again:?}"
        );
    }

    #[test]
    fn given_no_webhook_when_deleting_then_it_is_not_found() {
        let refused = decide(&WebhookState::default(), WebhookCommand::Delete, &admin());
        assert!(
            matches!(refused, Err(DomainError::NotFound(_))),
            "{refused:?}"
        );
    }
}
