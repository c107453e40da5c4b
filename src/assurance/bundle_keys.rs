//! The keys a bundle carries (`keys.json`) so the personal data sealed in
//! its events reads offline: for each sealed value, the key it names, as
//! long as that key was not destroyed when the bundle was made. The events
//! keep their sealed bytes (which the proofs cover); the trail and report
//! are made from the events opened with these keys, and `verify-bundle`
//! opens them the same way, so a key that does not open its value (a
//! changed byte anywhere) fails the check. A value whose key is not in the
//! file reads as erased.
//!
//! A bundle is a copy outside the service: what it holds cannot be erased
//! later (README, "Erasure").

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use uuid::Uuid;

use super::bundle::Line;
use super::error::AssuranceError;
use crate::erasure::{
    open_payload, opening, sealed_values, DataKey, KeyLookup, KeyRef, Keyring, Opening,
};
use crate::store::RecordedEvent;

/// The file's name in a bundle.
pub const KEYS_FILE: &str = "keys.json";

/// Keys by the reference sealed values name (`person:<id>`, `field:<id>`),
/// base64.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BundleKeys {
    keys: BTreeMap<String, String>,
}

impl BundleKeys {
    /// The live keys the sealed values of `events` name.
    pub async fn gather(
        keyring: &Keyring,
        events: &[RecordedEvent],
    ) -> Result<BundleKeys, AssuranceError> {
        let mut keys = BTreeMap::new();
        for event in events {
            for (_, value) in sealed_values(&event.event_type, &event.payload) {
                let name = value.key.to_text();
                if keys.contains_key(&name) {
                    continue;
                }
                let lookup = match value.key {
                    KeyRef::Person(person) => keyring.load_person_key(person).await,
                    KeyRef::Field(key_id) => keyring.load_field_key(key_id).await,
                }
                .map_err(|e| AssuranceError::Note(format!("{KEYS_FILE}: {e}")))?;
                if let KeyLookup::Live(key) = lookup {
                    keys.insert(name, BASE64.encode(key.as_bytes()));
                }
            }
        }
        Ok(BundleKeys { keys })
    }

    /// Reads `keys.json`.
    pub fn parse(text: &str) -> Result<BundleKeys, AssuranceError> {
        serde_json::from_str(text).map_err(|e| AssuranceError::Note(format!("{KEYS_FILE}: {e}")))
    }

    /// As `keys.json` holds it.
    pub fn to_text(&self) -> Result<String, AssuranceError> {
        serde_json::to_string_pretty(self)
            .map(|text| format!("{text}\n"))
            .map_err(|e| AssuranceError::Note(e.to_string()))
    }

    fn opening(&self, key: KeyRef) -> Opening {
        match self.keys.get(&key.to_text()) {
            None => opening(KeyLookup::Erased),
            Some(text) => match BASE64
                .decode(text)
                .ok()
                .and_then(|bytes| DataKey::from_slice(&bytes).ok())
            {
                Some(key) => Opening::Key(Arc::new(key)),
                None => Opening::Missing,
            },
        }
    }

    /// The lines with their personal data opened (the bytes, which the
    /// proofs cover, stay as they were).
    pub(super) fn open(&self, lines: &[Line]) -> Result<Vec<Line>, AssuranceError> {
        lines
            .iter()
            .map(|line| {
                let mut doc = line.doc.clone();
                let event_type = line.str("/event_type");
                let event_id = Uuid::parse_str(&line.str("/event_id")).unwrap_or_default();
                if let Some(payload) = doc.get_mut("payload").filter(|p| !p.is_null()) {
                    let key_for = |key: KeyRef| self.opening(key);
                    open_payload(&event_type, event_id, payload, &key_for).map_err(|why| {
                        AssuranceError::Note(format!(
                            "event at position {}: {why} ({KEYS_FILE})",
                            line.position()
                        ))
                    })?;
                }
                Ok(Line {
                    bytes: line.bytes.clone(),
                    doc,
                })
            })
            .collect()
    }
}
