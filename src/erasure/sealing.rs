//! Sealing an event's personal data as it is appended, and opening it as
//! it is read: the fields `domain::personal_data` lists are replaced in the
//! stored payload by `{"sealed": "<nonce and ciphertext>", "key": "<ref>"}`
//! and put back (or, once their key is destroyed, replaced by the erased
//! placeholder) on reading. The associated data binds each sealed value to
//! its event's id, its place in the payload and its key, so a sealed value
//! copied into another event or field does not open.
//!
//! A value is sealed only where there is a key to seal it under: a name or
//! e-mail in a person's own stream, free text with an author (a command by
//! a person; the operator's commands have none and stay as they are).
//! Events written before this encoding are plain and are read as they are.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};
use uuid::Uuid;

use super::error::ErasureError;
use super::key::DataKey;
use super::keyring::{KeyLookup, Keyring};
use super::seal::{open, seal, Sealed};
use crate::domain::person::ERASED_NAME;
use crate::domain::personal_data::{personal_fields, PersonalField, Protection};
use crate::domain::PersonId;
use crate::store::{EventData, FieldKeyRow, RecordedEvent, StoreError};

/// What erased free text reads as.
pub const ERASED_TEXT: &str = "[This text has been erased]";

/// The key a sealed value names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyRef {
    /// A person's own key (their name and e-mail).
    Person(PersonId),
    /// One field's key, wrapped by its author's.
    Field(Uuid),
}

impl KeyRef {
    /// As stored: `person:<uuid>` or `field:<uuid>`.
    pub fn to_text(self) -> String {
        match self {
            KeyRef::Person(person) => format!("person:{}", person.0),
            KeyRef::Field(key_id) => format!("field:{key_id}"),
        }
    }

    /// Reads the stored form.
    pub fn parse(text: &str) -> Option<KeyRef> {
        let (kind, id) = text.split_once(':')?;
        let id = Uuid::parse_str(id).ok()?;
        match kind {
            "person" => Some(KeyRef::Person(PersonId(id))),
            "field" => Some(KeyRef::Field(id)),
            _ => None,
        }
    }
}

/// A sealed value in a payload: its key and its sealed bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedValue {
    /// The key it is sealed under.
    pub key: KeyRef,
    /// Nonce and ciphertext.
    pub sealed: Sealed,
}

impl SealedValue {
    /// Reads a payload value as a sealed one; `None` for anything else (a
    /// plain string written before sealing, a null).
    pub fn from_json(value: &Value) -> Option<SealedValue> {
        let object = value.as_object()?;
        if object.len() != 2 {
            return None;
        }
        let key = KeyRef::parse(object.get("key")?.as_str()?)?;
        let sealed = Sealed::from_text(object.get("sealed")?.as_str()?).ok()?;
        Some(SealedValue { key, sealed })
    }

    fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("sealed".into(), Value::String(self.sealed.to_text()));
        object.insert("key".into(), Value::String(self.key.to_text()));
        Value::Object(object)
    }
}

/// The associated data of one sealed value: the event, the value's place
/// in its payload, and its key.
pub fn value_aad(event_id: Uuid, path: &str, key: KeyRef) -> Vec<u8> {
    format!(
        "advice-log sealed value {event_id} {path} {}",
        key.to_text()
    )
    .into_bytes()
}

/// The places in `payload` of a personal field: `name`, or `notes/0/note`
/// for each element of an array.
fn places(payload: &Value, field: &PersonalField) -> Vec<String> {
    match field.within {
        None => vec![field.name.to_string()],
        Some(array) => payload
            .get(array)
            .and_then(Value::as_array)
            .map(|items| {
                (0..items.len())
                    .map(|i| format!("{array}/{i}/{}", field.name))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn at_mut<'a>(payload: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    payload.pointer_mut(&format!("/{path}"))
}

/// A field key made to seal a value, with the row that stores it.
pub type MadeFieldKey = (FieldKeyRow, Arc<DataKey>);

/// Seals the personal data of an event about to be appended to
/// `stream_id`, in place. Each free-text value gets a new field key: they
/// are answered, for the append to store with the event (a person's key is
/// stored once, before their first sealed value).
pub async fn seal_event(
    keyring: &Keyring,
    stream_id: &str,
    event: &mut EventData,
) -> Result<Vec<MadeFieldKey>, ErasureError> {
    let mut made = Vec::new();
    let fields = personal_fields(&event.event_type);
    if fields.is_empty() {
        return Ok(made);
    }
    let author = crate::domain::metadata::Metadata::from_value(&event.metadata)
        .ok()
        .and_then(|metadata| metadata.actor);
    for field in fields {
        for path in places(&event.payload, field) {
            let Some(Value::String(plain)) = at_mut(&mut event.payload, &path).map(|v| v.take())
            else {
                continue;
            };
            let keyed = match field.protection {
                Protection::Identity => match PersonId::from_stream(stream_id) {
                    Some(person) => Some((
                        KeyRef::Person(person),
                        keyring.person_key_for_writing(person).await?,
                    )),
                    None => None,
                },
                Protection::Contribution => match author {
                    Some(author) => {
                        let (row, key) = keyring.make_field_key(author).await?;
                        let key_ref = KeyRef::Field(row.key_id);
                        made.push((row, key.clone()));
                        Some((key_ref, key))
                    }
                    None => None,
                },
            };
            let value = match keyed {
                Some((key, data_key)) => {
                    let aad = value_aad(event.event_id, &path, key);
                    let sealed = seal(&data_key, plain.as_bytes(), &aad)?;
                    SealedValue { key, sealed }.to_json()
                }
                None => Value::String(plain),
            };
            if let Some(slot) = at_mut(&mut event.payload, &path) {
                *slot = value;
            }
        }
    }
    Ok(made)
}

/// What opening a sealed value has to go on.
#[derive(Debug, Clone)]
pub enum Opening {
    /// Its key.
    Key(Arc<DataKey>),
    /// Its key was destroyed: it reads as erased.
    Erased,
    /// No key is known for it.
    Missing,
}

/// Opens every sealed value of a payload in place, with the key
/// `key_for` gives for each: its text again, or the erased placeholder.
/// A value whose key is missing, or that does not open, is an error
/// naming its place.
pub fn open_payload(
    event_type: &str,
    event_id: Uuid,
    payload: &mut Value,
    key_for: &dyn Fn(KeyRef) -> Opening,
) -> Result<(), String> {
    for field in personal_fields(event_type) {
        for path in places(payload, field) {
            let Some(found) = at_mut(payload, &path).and_then(|v| SealedValue::from_json(v)) else {
                continue;
            };
            let text = match key_for(found.key) {
                Opening::Key(key) => {
                    let aad = value_aad(event_id, &path, found.key);
                    let bytes = open(&key, &found.sealed, &aad)
                        .map_err(|e| format!("the sealed {path} does not open: {e}"))?;
                    String::from_utf8(bytes)
                        .map_err(|_| format!("the sealed {path} is not UTF-8 text"))?
                }
                Opening::Erased => erased_placeholder(field).to_string(),
                Opening::Missing => {
                    return Err(format!(
                        "the sealed {path} names the key {}, which is not to be had",
                        found.key.to_text()
                    ))
                }
            };
            if let Some(slot) = at_mut(payload, &path) {
                *slot = Value::String(text);
            }
        }
    }
    Ok(())
}

/// Opens the personal data of an event read from the store, in place: each
/// sealed value becomes its text again, or the erased placeholder when its
/// key was destroyed. A sealed value whose key is unknown, or that does not
/// open, is an error naming the event's position.
pub async fn open_event(keyring: &Keyring, event: &mut RecordedEvent) -> Result<(), StoreError> {
    let sealed = sealed_values(&event.event_type, &event.payload);
    if sealed.is_empty() {
        return Ok(());
    }
    let corrupt = |event: &RecordedEvent, why: String| StoreError::Corrupt {
        position: event.position,
        reason: format!("{}: {why}", event.event_type),
    };
    let mut keys = HashMap::new();
    for (_, value) in &sealed {
        let lookup = match value.key {
            KeyRef::Person(person) => keyring.load_person_key(person).await,
            KeyRef::Field(key_id) => keyring.load_field_key(key_id).await,
        }
        .map_err(|e| corrupt(event, e.to_string()))?;
        keys.insert(value.key, opening(lookup));
    }
    let key_for = |key: KeyRef| keys.get(&key).cloned().unwrap_or(Opening::Missing);
    open_payload(
        &event.event_type,
        event.event_id,
        &mut event.payload,
        &key_for,
    )
    .map_err(|why| corrupt(event, why))
}

/// A keyring's answer as an opening.
pub fn opening(lookup: KeyLookup) -> Opening {
    match lookup {
        KeyLookup::Live(key) => Opening::Key(key),
        KeyLookup::Erased => Opening::Erased,
        KeyLookup::Unknown => Opening::Missing,
    }
}

/// What an erased field reads as.
pub fn erased_placeholder(field: &PersonalField) -> &'static str {
    match (field.protection, field.name) {
        (Protection::Identity, "name") => ERASED_NAME,
        (Protection::Identity, _) => "",
        (Protection::Contribution, _) => ERASED_TEXT,
    }
}

/// The sealed values of a stored event's payload, with their places (for
/// redacting one field, and for a bundle's keys).
pub fn sealed_values(event_type: &str, payload: &Value) -> Vec<(String, SealedValue)> {
    personal_fields(event_type)
        .iter()
        .flat_map(|field| {
            places(payload, field).into_iter().filter_map(|path| {
                payload
                    .pointer(&format!("/{path}"))
                    .and_then(SealedValue::from_json)
                    .map(|value| (path, value))
            })
        })
        .collect()
}

/// The ids of the field keys that seal one field of a stored event (`field`
/// as a redaction names it: a field, or an array whose items hold one).
pub fn field_keys_of(event_type: &str, payload: &Value, field: &str) -> Vec<Uuid> {
    let within = format!("{field}/");
    sealed_values(event_type, payload)
        .into_iter()
        .filter(|(path, _)| path == field || path.starts_with(&within))
        .filter_map(|(_, value)| match value.key {
            KeyRef::Field(key_id) => Some(key_id),
            KeyRef::Person(_) => None,
        })
        .collect()
}
