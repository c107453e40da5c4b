//! Typed ids. Each aggregate's id also names its stream.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::DomainError;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $label:literal, $stream:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new random id.
            pub fn random() -> Self {
                $name(Uuid::new_v4())
            }

            /// Reads an id given by a client; a malformed one is `INVALID_INPUT`.
            pub fn parse(text: &str) -> Result<Self, DomainError> {
                Uuid::parse_str(text.trim()).map($name).map_err(|_| {
                    DomainError::InvalidInput(format!("{} id {:?} is not a UUID", $label, text))
                })
            }

            /// The stream that holds this aggregate's events.
            pub fn stream(&self) -> String {
                format!(concat!($stream, "-{}"), self.0)
            }

            /// The id a stream name carries, if it is this aggregate's stream.
            pub fn from_stream(stream: &str) -> Option<Self> {
                stream
                    .strip_prefix(concat!($stream, "-"))
                    .and_then(|rest| Uuid::parse_str(rest).ok())
                    .map($name)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A person with an account.
    PersonId, "person", "person"
);
id_type!(
    /// A team.
    TeamId, "team", "team"
);
id_type!(
    /// A cross-team group.
    GroupId, "group", "group"
);
id_type!(
    /// A proposal.
    ProposalId, "proposal", "proposal"
);
id_type!(
    /// An API token (its id, not its secret).
    TokenId, "token", "token"
);
id_type!(
    /// A webhook registered by an admin.
    WebhookId, "webhook", "webhook"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_name_their_streams_and_are_read_back_from_them() {
        let team = TeamId::random();
        assert_eq!(team.stream(), format!("team-{}", team.0));
        assert_eq!(TeamId::from_stream(&team.stream()), Some(team));
        assert_eq!(PersonId::from_stream(&team.stream()), None);
    }

    #[test]
    fn a_malformed_id_is_invalid_input() {
        assert_eq!(
            PersonId::parse("nope").map_err(|e| e.code()),
            Err("INVALID_INPUT")
        );
    }
}
