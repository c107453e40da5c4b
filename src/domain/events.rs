//! Turning domain events into stored `(event_type, schema_version, payload)`
//! and back.
//!
//! Each aggregate's event enum is serde-tagged as
//! `{"event_type": "...", "payload": {...}}`; the store keeps the parts in
//! their own columns. Reading one back has three honest answers: the event
//! (upcast first if it was stored in an older shape), "another aggregate's
//! type" (a team stream is not folded from proposal events), or a
//! [`DecodeError`] — a known type whose payload does not decode, a type no
//! aggregate knows, or a schema version this server cannot read. Nothing is
//! skipped silently.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

pub use super::upcast::{Upcast, Upcasters, FIRST_VERSION};

/// Why a stored event could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// No aggregate of this server knows the event type.
    #[error("the event type {event_type} is not one this server knows")]
    UnknownType {
        /// The stored type.
        event_type: String,
    },
    /// The type is known but its payload does not have that type's shape.
    #[error("{event_type} (schema version {schema_version}) does not decode: {reason}")]
    Payload {
        /// The stored type.
        event_type: String,
        /// The stored schema version.
        schema_version: i32,
        /// What serde said.
        reason: String,
    },
    /// The event was written in a newer shape than this server reads (a
    /// newer server wrote it).
    #[error("{event_type} has schema version {schema_version}, newer than {current}, the newest this server reads")]
    NewerVersion {
        /// The stored type.
        event_type: String,
        /// The stored schema version.
        schema_version: i32,
        /// The newest version this server reads.
        current: i32,
    },
    /// An older shape with no upcaster to the next version, or an upcaster
    /// that refused the payload.
    #[error("{event_type} at schema version {schema_version} cannot be upcast: {reason}")]
    Upcast {
        /// The stored type.
        event_type: String,
        /// The version that could not be upcast.
        schema_version: i32,
        /// Why.
        reason: String,
    },
}

/// An event enum that can be stored.
pub trait DomainEvent: Serialize + DeserializeOwned + strum::VariantNames {
    /// The event types of this enum: its variants' names, which serde uses
    /// as the `event_type` tag (no variant is renamed; a test checks that
    /// serde reads every one).
    fn event_types() -> &'static [&'static str] {
        Self::VARIANTS
    }

    /// Whether `event_type` is one of this enum's types.
    fn handles(event_type: &str) -> bool {
        Self::event_types().contains(&event_type)
    }

    /// Splits the event into its type name and payload.
    fn to_stored(&self) -> (String, Value) {
        let mut tagged = serde_json::to_value(self).unwrap_or(Value::Null);
        let event_type = tagged
            .get("event_type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let payload = tagged
            .get_mut("payload")
            .map(Value::take)
            .unwrap_or_else(|| json!({}));
        (event_type, payload)
    }

    /// Reads a stored event back with the standard upcasters: `Ok(None)`
    /// when the type is another aggregate's, an error when it is this
    /// enum's and does not decode, or no aggregate's at all.
    fn decode(
        event_type: &str,
        schema_version: i32,
        payload: &Value,
    ) -> Result<Option<Self>, DecodeError> {
        Self::decode_with(Upcasters::standard(), event_type, schema_version, payload)
    }

    /// [`decode`](Self::decode) with the given upcasters.
    fn decode_with(
        upcasters: &Upcasters,
        event_type: &str,
        schema_version: i32,
        payload: &Value,
    ) -> Result<Option<Self>, DecodeError> {
        if !Self::handles(event_type) {
            return if is_known(event_type) {
                Ok(None)
            } else {
                Err(DecodeError::UnknownType {
                    event_type: event_type.to_string(),
                })
            };
        }
        let payload = upcasters.upcast(event_type, schema_version, payload)?;
        serde_json::from_value(json!({ "event_type": event_type, "payload": payload }))
            .map(Some)
            .map_err(|e| DecodeError::Payload {
                event_type: event_type.to_string(),
                schema_version,
                reason: e.to_string(),
            })
    }
}

/// Whether any aggregate of this server knows `event_type`.
pub fn is_known(event_type: &str) -> bool {
    use super::{budget, group, organisation, person, proposal, team, webhook};
    person::PersonEvent::handles(event_type)
        || webhook::WebhookEvent::handles(event_type)
        || team::TeamEvent::handles(event_type)
        || group::GroupEvent::handles(event_type)
        || budget::BudgetEvent::handles(event_type)
        || proposal::ProposalEvent::handles(event_type)
        || organisation::OrganisationEvent::handles(event_type)
}

/// Checks that `event_type` is known to some aggregate, for a reader that
/// uses only some types but must not pass over one nobody can read.
pub fn check_known(event_type: &str) -> Result<(), DecodeError> {
    if is_known(event_type) {
        Ok(())
    } else {
        Err(DecodeError::UnknownType {
            event_type: event_type.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::budget::BudgetEvent;
    use crate::domain::person::PersonEvent;
    use crate::domain::proposal::{Owner, ProposalEvent, Rule};
    use crate::domain::team::TeamEvent;
    use crate::domain::{PersonId, TeamId};
    use uuid::Uuid;

    fn raised() -> ProposalEvent {
        ProposalEvent::ProposalRaised {
            owner: Owner::Team(TeamId(Uuid::from_u128(1))),
            proposer: PersonId(Uuid::from_u128(2)),
            decider: PersonId(Uuid::from_u128(2)),
            title: "Bank holiday cover".into(),
            body: "Add a fourth crew.".into(),
            rule: Rule::Advice,
            threshold_bp: None,
            advice_deadline: None,
            area: None,
            spend: None,
            review_by: None,
            eligible: vec![PersonId(Uuid::from_u128(2))],
            supersedes: None,
            advice_window_hours: None,
        }
    }

    #[test]
    fn each_enum_knows_its_own_types() {
        assert!(ProposalEvent::handles("ProposalRaised"));
        assert!(ProposalEvent::handles("AdviceRequested"));
        assert!(!ProposalEvent::handles("TeamFormed"));
        assert_eq!(
            BudgetEvent::event_types(),
            ["BudgetAllocated", "SpendCommitted", "SpendReleased"]
        );
        assert!(TeamEvent::handles("TeamFormed"));
        assert!(!TeamEvent::handles("ProposalRaised"));
        for types in [
            ProposalEvent::event_types(),
            TeamEvent::event_types(),
            PersonEvent::event_types(),
            crate::domain::group::GroupEvent::event_types(),
            crate::domain::organisation::OrganisationEvent::event_types(),
        ] {
            assert!(!types.is_empty());
            assert!(types.iter().all(|t| is_known(t)));
        }
    }

    /// The variants serde's `Deserialize` names when offered a tag it lacks
    /// ("expected `A`", "`A` or `B`", "one of `A`, `B`, `C`").
    fn serde_names<E: DomainEvent>() -> Vec<String> {
        let error =
            serde_json::from_value::<E>(json!({ "event_type": "NoSuchEvent", "payload": {} }))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
        let listed = error
            .split(", expected ")
            .nth(1)
            .unwrap_or_else(|| panic!("serde lists its variants: {error}"));
        listed
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn the_strum_names_are_the_serde_tags() {
        fn check<E: DomainEvent>() {
            assert_eq!(serde_names::<E>(), E::event_types());
        }
        check::<ProposalEvent>();
        check::<TeamEvent>();
        check::<PersonEvent>();
        check::<BudgetEvent>();
        check::<crate::domain::group::GroupEvent>();
        check::<crate::domain::organisation::OrganisationEvent>();
    }

    #[test]
    fn an_event_round_trips() {
        let (event_type, payload) = raised().to_stored();
        assert_eq!(event_type, "ProposalRaised");
        let read = ProposalEvent::decode(&event_type, FIRST_VERSION, &payload);
        assert_eq!(read, Ok(Some(raised())));
    }

    #[test]
    fn another_aggregates_type_is_not_mine_and_not_an_error() {
        let (event_type, payload) = raised().to_stored();
        assert_eq!(
            TeamEvent::decode(&event_type, FIRST_VERSION, &payload),
            Ok(None)
        );
    }

    #[test]
    fn a_known_type_whose_payload_does_not_decode_is_an_error() {
        let read = ProposalEvent::decode("AdviceRequested", 1, &json!({ "request_id": 5 }));
        assert!(
            matches!(&read, Err(DecodeError::Payload { event_type, .. }) if event_type == "AdviceRequested"),
            "{read:?}"
        );
    }

    #[test]
    fn a_type_nobody_knows_is_an_error_for_every_reader() {
        let unknown = || DecodeError::UnknownType {
            event_type: "ProposalTeleported".into(),
        };
        assert_eq!(
            ProposalEvent::decode("ProposalTeleported", 1, &json!({})),
            Err(unknown())
        );
        assert_eq!(
            TeamEvent::decode("ProposalTeleported", 1, &json!({})),
            Err(unknown())
        );
        assert_eq!(check_known("ProposalTeleported"), Err(unknown()));
        assert_eq!(check_known("TeamFormed"), Ok(()));
    }

    /// Version 1 of `ProposalRaised` in this test called the title
    /// `summary` and had no `eligible`; version 2 is today's shape.
    fn rename_summary(mut payload: Value) -> Result<Value, String> {
        let object = payload.as_object_mut().ok_or("not an object")?;
        let summary = object.remove("summary").ok_or("no summary")?;
        object.insert("title".into(), summary);
        object.entry("eligible").or_insert_with(|| json!([]));
        Ok(payload)
    }

    #[test]
    fn a_version_1_event_is_read_through_its_upcaster() {
        let upcasters = Upcasters::new().register("ProposalRaised", 1, rename_summary);
        assert_eq!(upcasters.current_version("ProposalRaised"), 2);
        assert_eq!(upcasters.current_version("AdviceRequested"), 1);
        let (_, current) = raised().to_stored();
        let mut old = current.clone();
        let object = old.as_object_mut().expect("object");
        let title = object.remove("title").expect("title");
        object.insert("summary".into(), title);
        object.remove("eligible");

        let read = ProposalEvent::decode_with(&upcasters, "ProposalRaised", 1, &old);
        let Ok(Some(ProposalEvent::ProposalRaised {
            title, eligible, ..
        })) = read
        else {
            panic!("{read:?}");
        };
        assert_eq!(title, "Bank holiday cover");
        assert!(eligible.is_empty());
        // Today's shape is read as it is.
        let read = ProposalEvent::decode_with(&upcasters, "ProposalRaised", 2, &current);
        assert_eq!(read, Ok(Some(raised())));
        // Without the upcaster, the old shape does not decode: an error.
        let read = ProposalEvent::decode("ProposalRaised", 1, &old);
        assert!(matches!(read, Err(DecodeError::Payload { .. })), "{read:?}");
    }

    #[test]
    fn a_refusing_upcaster_is_an_error() {
        let upcasters = Upcasters::new().register("ProposalRaised", 1, rename_summary);
        let (_, current) = raised().to_stored();
        let read = ProposalEvent::decode_with(&upcasters, "ProposalRaised", 1, &current);
        assert!(
            matches!(&read, Err(DecodeError::Upcast { reason, schema_version: 1, .. }) if reason == "no summary"),
            "{read:?}"
        );
    }

    #[test]
    fn a_newer_or_missing_version_is_an_error() {
        let (event_type, payload) = raised().to_stored();
        assert_eq!(
            ProposalEvent::decode(&event_type, 2, &payload),
            Err(DecodeError::NewerVersion {
                event_type: "ProposalRaised".into(),
                schema_version: 2,
                current: 1
            })
        );
        // Version 3 with upcasters from 2 only: no way from 1 to 2.
        let upcasters = Upcasters::new().register("ProposalRaised", 2, Ok);
        let read = ProposalEvent::decode_with(&upcasters, &event_type, 1, &payload);
        assert!(
            matches!(
                read,
                Err(DecodeError::Upcast {
                    schema_version: 1,
                    ..
                })
            ),
            "{read:?}"
        );
        let read = ProposalEvent::decode(&event_type, 0, &payload);
        assert!(matches!(read, Err(DecodeError::Upcast { .. })), "{read:?}");
    }
}
