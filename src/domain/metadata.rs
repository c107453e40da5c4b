//! What is recorded with every event besides its payload: who did it, in
//! which role, through which command, and why. Written by the command runner
//! and read by everything that shows it, through this one type.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{ActingRole, PersonId};

/// An event's metadata. Every field may be missing from older events (they
/// read as `None`); keys this server does not know are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Metadata {
    /// The person who sent the command (`None` for the operator).
    pub actor: Option<PersonId>,
    /// The role they acted in.
    pub role: Option<ActingRole>,
    /// The command's name, e.g. `raiseProposal`.
    pub command: Option<String>,
    /// The client's id for the command, if it sent one.
    pub command_id: Option<Uuid>,
    /// Ties together the events of one piece of work (the command id when
    /// there is one).
    pub correlation_id: Option<Uuid>,
    /// The event that caused this one, if an event did.
    pub causation_id: Option<Uuid>,
    /// Why, where the command carries a reason.
    pub reason: Option<String>,
    /// A digest of the command and its arguments, to tell a repeated command
    /// id from a reused one.
    pub fingerprint: Option<String>,
}

impl Metadata {
    /// The metadata as stored (every field present, `null` when unset).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Reads stored metadata; fields it lacks are `None`.
    pub fn from_value(value: &Value) -> Result<Self, serde_json::Error> {
        Metadata::deserialize(value)
    }

    /// The acting role's API name (`MEMBER`, `COACH`, ...).
    pub fn role_name(&self) -> Option<&'static str> {
        self.role.map(Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn metadata_round_trips() {
        let metadata = Metadata {
            actor: Some(PersonId(Uuid::from_u128(7))),
            role: Some(ActingRole::Coach),
            command: Some("decideProposal".into()),
            command_id: Some(Uuid::from_u128(8)),
            correlation_id: Some(Uuid::from_u128(8)),
            causation_id: Some(Uuid::from_u128(9)),
            reason: Some("Because".into()),
            fingerprint: Some("abc".into()),
        };
        let stored = metadata.to_value();
        assert_eq!(stored["role"], "COACH");
        assert_eq!(stored["command_id"], Uuid::from_u128(8).to_string());
        assert_eq!(Metadata::from_value(&stored).expect("reads"), metadata);
        assert_eq!(metadata.role_name(), Some("COACH"));
    }

    #[test]
    fn unset_fields_are_stored_as_null_as_before() {
        let stored = Metadata::default().to_value();
        for key in [
            "actor",
            "role",
            "command",
            "command_id",
            "correlation_id",
            "causation_id",
            "reason",
            "fingerprint",
        ] {
            assert_eq!(stored.get(key), Some(&Value::Null), "{key}");
        }
    }

    #[test]
    fn old_metadata_lacking_fields_still_reads() {
        let actor = Uuid::from_u128(3);
        let read = Metadata::from_value(&json!({ "actor": actor, "role": "MEMBER", "extra": 1 }))
            .expect("reads");
        assert_eq!(read.actor, Some(PersonId(actor)));
        assert_eq!(read.role, Some(ActingRole::Member));
        assert_eq!(read.reason, None);
        assert_eq!(read.causation_id, None);
        assert_eq!(
            Metadata::from_value(&json!({})).expect("reads"),
            Metadata::default()
        );
    }

    #[test]
    fn metadata_of_the_wrong_shape_is_an_error() {
        assert!(Metadata::from_value(&json!({ "actor": "not a person" })).is_err());
        assert!(Metadata::from_value(&json!([1])).is_err());
    }
}
