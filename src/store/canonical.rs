//! Canonical bytes of events and their RFC 6962 leaf hashes.
//!
//! Canonical JSON here means: object keys sorted by their UTF-8 bytes, no
//! insignificant white space, strings escaped as `serde_json` escapes them,
//! numbers as `serde_json` prints them. The same value always gives the same
//! bytes, whatever order its keys were built in.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::event::RecordedEvent;

/// The value as canonical JSON text.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(item, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// A time as the log writes it: RFC 3339, UTC, microseconds, `Z`.
pub fn format_time(time: &DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The canonical bytes of a stored event: every stored field but the leaf hash.
pub fn event_bytes(event: &RecordedEvent) -> Vec<u8> {
    let document = json!({
        "event_id": event.event_id.to_string(),
        "event_type": event.event_type,
        "metadata": event.metadata,
        "payload": event.payload,
        "position": event.position,
        "recorded_at": format_time(&event.recorded_at),
        "schema_version": event.schema_version,
        "stream_id": event.stream_id,
        "stream_version": event.stream_version,
    });
    canonical_json(&document).into_bytes()
}

/// RFC 6962 leaf hash: SHA-256(0x00 || bytes).
pub fn leaf_hash(bytes: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update([0u8]);
    hasher.update(bytes);
    hasher.finalize().into()
}

/// The leaf hash of a stored event, computed from its fields.
pub fn event_leaf_hash(event: &RecordedEvent) -> [u8; 32] {
    leaf_hash(&event_bytes(event))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_sorted_at_every_depth_and_whitespace_is_dropped() {
        let value: Value = serde_json::from_str(
            r#"{ "b": 1, "a": { "z": [ 1, {"y": true, "x": null} ], "c": "é\n" } }"#,
        )
        .expect("valid json");
        assert_eq!(
            canonical_json(&value),
            r#"{"a":{"c":"é\n","z":[1,{"x":null,"y":true}]},"b":1}"#
        );
    }

    #[test]
    fn leaf_hash_prefixes_a_zero_byte() {
        // RFC 6962: the hash of an empty leaf is SHA-256 of the single byte 0x00.
        assert_eq!(
            hex::encode(leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }

    #[test]
    fn times_have_microseconds_and_z() {
        let t = DateTime::parse_from_rfc3339("2026-11-22T10:00:00.123456789+01:00")
            .expect("valid time")
            .with_timezone(&Utc);
        assert_eq!(format_time(&t), "2026-11-22T09:00:00.123456Z");
    }
}
