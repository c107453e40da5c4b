//! Upcasters: older stored shapes of an event brought to today's shape on
//! read. Stored bytes never change; each upcaster takes a payload of one
//! event type from one schema version to the next, and reading chains them.
//!
//! An event type's current version is one more than the highest version an
//! upcaster starts from (1 when it has none); writers store that version.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde_json::Value;

use super::events::DecodeError;

/// The schema version of every event type that has never changed shape.
pub const FIRST_VERSION: i32 = 1;

/// Takes a payload of one version to the next, or says why it cannot.
pub type Upcast = fn(Value) -> Result<Value, String>;

/// Upcasters keyed by (event type, the version they upcast from).
#[derive(Debug, Clone, Default)]
pub struct Upcasters {
    by_key: BTreeMap<(String, i32), Upcast>,
}

/// The upcasters of the shapes this server has changed. None yet: every
/// event type is at version 1. When a payload's shape changes, register
/// `(type, old version) -> upcast` here; writers then store the new version.
static STANDARD: LazyLock<Upcasters> = LazyLock::new(Upcasters::new);

impl Upcasters {
    /// No upcasters: every type at version 1.
    pub fn new() -> Self {
        Upcasters::default()
    }

    /// The upcasters this server reads its log with.
    pub fn standard() -> &'static Upcasters {
        &STANDARD
    }

    /// Adds the upcaster of `event_type` from `from_version` to the next.
    pub fn register(mut self, event_type: &str, from_version: i32, upcast: Upcast) -> Self {
        self.by_key
            .insert((event_type.to_string(), from_version), upcast);
        self
    }

    /// The version `event_type` is written in today.
    pub fn current_version(&self, event_type: &str) -> i32 {
        self.by_key
            .range((event_type.to_string(), i32::MIN)..=(event_type.to_string(), i32::MAX))
            .map(|((_, from), _)| from.saturating_add(1))
            .max()
            .unwrap_or(FIRST_VERSION)
    }

    /// `payload`, stored as `event_type` at `schema_version`, in today's
    /// shape: borrowed when it already is, else upcast step by step.
    pub fn upcast<'a>(
        &self,
        event_type: &str,
        schema_version: i32,
        payload: &'a Value,
    ) -> Result<Cow<'a, Value>, DecodeError> {
        let current = self.current_version(event_type);
        if schema_version > current {
            return Err(DecodeError::NewerVersion {
                event_type: event_type.to_string(),
                schema_version,
                current,
            });
        }
        let mut payload = Cow::Borrowed(payload);
        for version in schema_version..current {
            let upcast = self
                .by_key
                .get(&(event_type.to_string(), version))
                .ok_or_else(|| DecodeError::Upcast {
                    event_type: event_type.to_string(),
                    schema_version: version,
                    reason: format!("no upcaster from version {version}"),
                })?;
            let next = upcast(payload.into_owned()).map_err(|reason| DecodeError::Upcast {
                event_type: event_type.to_string(),
                schema_version: version,
                reason,
            })?;
            payload = Cow::Owned(next);
        }
        Ok(payload)
    }
}
