//! Turning domain events into stored `(event_type, payload)` pairs and back.
//!
//! Each aggregate's event enum is serde-tagged as
//! `{"event_type": "...", "payload": {...}}`; the store keeps the two parts in
//! their own columns.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

/// The version of every event shape written today.
pub const SCHEMA_VERSION: i32 = 1;

/// An event enum that can be stored.
pub trait DomainEvent: Serialize + DeserializeOwned {
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

    /// Reads a stored event back; `None` if the type is not one of this enum's.
    fn from_stored(event_type: &str, payload: &Value) -> Option<Self> {
        serde_json::from_value(json!({ "event_type": event_type, "payload": payload })).ok()
    }
}
