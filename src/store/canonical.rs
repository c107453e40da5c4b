//! Canonical bytes of events and their RFC 6962 leaf hashes.
//!
//! Canonical JSON here means: object keys sorted by their UTF-8 bytes, no
//! insignificant white space, strings escaped as `serde_json` escapes them,
//! numbers as `serde_json` prints them. The same value always gives the same
//! bytes, whatever order its keys were built in.

use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::event::RecordedEvent;

/// The value as canonical JSON text.
pub fn canonical_json(value: &Value) -> String {
    let mut out = Vec::new();
    write_canonical(value, &mut out);
    // Only whole UTF-8 strings and ASCII are written, so this never loses
    // anything; the lossy branch is never taken.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Writes the canonical JSON of `value` to `out`, without allocating for
/// keys or scalars (strings as `serde_json` escapes them, numbers as it
/// prints them).
fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            out.push(b'{');
            // `serde_json`'s map keeps its keys in byte order unless its
            // `preserve_order` feature is on; sort only when they are not.
            let sorted = map
                .keys()
                .zip(map.keys().skip(1))
                .all(|(a, b)| a.as_bytes() < b.as_bytes());
            if sorted {
                for (i, (key, item)) in map.iter().enumerate() {
                    write_entry(out, i, key, item);
                }
            } else {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                for (i, (key, item)) in entries.into_iter().enumerate() {
                    write_entry(out, i, key, item);
                }
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        Value::String(text) => write_string(out, text),
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => {
            // Writing a number into a `Vec` cannot fail.
            if serde_json::to_writer(&mut *out, number).is_err() {
                out.extend_from_slice(number.to_string().as_bytes());
            }
        }
    }
}

/// One `"key":value` of an object, after a comma unless it is the first.
fn write_entry(out: &mut Vec<u8>, i: usize, key: &str, item: &Value) {
    if i > 0 {
        out.push(b',');
    }
    write_string(out, key);
    out.push(b':');
    write_canonical(item, out);
}

/// A string as `serde_json` writes it (writing into a `Vec` cannot fail).
fn write_string(out: &mut Vec<u8>, text: &str) {
    if write_json_string(out, text).is_none() {
        out.extend_from_slice(Value::String(text.to_string()).to_string().as_bytes());
    }
}

/// A time as the log writes it: RFC 3339, UTC, microseconds, `Z`.
pub fn format_time(time: &DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The canonical bytes of a stored event: every stored field but the leaf hash.
pub fn event_bytes(event: &RecordedEvent) -> Vec<u8> {
    event_bytes_with(
        event,
        &canonical_json(&event.payload),
        &canonical_json(&event.metadata),
    )
}

/// [`event_bytes`] of an event whose payload and metadata are given as
/// their [`canonical_json`] text (so a writer that also stores that text
/// makes it once).
pub fn event_bytes_with(event: &RecordedEvent, payload: &str, metadata: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + metadata.len() + 256);
    let stored = StoredEvent {
        position: event.position,
        event_id: StoredId::Uuid(event.event_id),
        stream_id: &event.stream_id,
        stream_version: event.stream_version,
        event_type: &event.event_type,
        schema_version: event.schema_version,
        payload,
        metadata,
        recorded_at: StoredTime::Time(event.recorded_at),
        leaf_hash: &[],
    };
    write_fields(&mut out, &stored);
    out
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

/// An event's identifier as a database hands it over: a typed UUID, or the
/// text SQLite stores.
#[derive(Debug, Clone, Copy)]
pub enum StoredId<'a> {
    /// A typed UUID (PostgreSQL's `uuid`).
    Uuid(Uuid),
    /// The stored text (SQLite).
    Text(&'a str),
}

/// An event's `recorded_at` as a database hands it over: a typed time, or the
/// text SQLite stores.
#[derive(Debug, Clone, Copy)]
pub enum StoredTime<'a> {
    /// A typed time (PostgreSQL's `timestamptz`).
    Time(DateTime<Utc>),
    /// The stored text (SQLite).
    Text(&'a str),
}

/// One stored row of the events table, as borrowed from the database's answer,
/// with payload and metadata as the stored JSON text.
#[derive(Debug, Clone, Copy)]
pub struct StoredEvent<'a> {
    /// Global position.
    pub position: u64,
    /// The event's id.
    pub event_id: StoredId<'a>,
    /// Its stream.
    pub stream_id: &'a str,
    /// Its version within the stream.
    pub stream_version: u64,
    /// What happened.
    pub event_type: &'a str,
    /// Version of the payload's shape.
    pub schema_version: i32,
    /// The stored payload text.
    pub payload: &'a str,
    /// The stored metadata text.
    pub metadata: &'a str,
    /// When it was recorded.
    pub recorded_at: StoredTime<'a>,
    /// The stored leaf hash.
    pub leaf_hash: &'a [u8],
}

/// The canonical bytes of consecutive stored events (exactly what
/// [`event_bytes`] makes of each), with their positions and stored leaf
/// hashes, in one buffer.
#[derive(Debug, Clone, Default)]
pub struct CanonicalPage {
    bytes: Vec<u8>,
    events: Vec<PageEntry>,
}

#[derive(Debug, Clone, Copy)]
struct PageEntry {
    position: u64,
    end: usize,
    leaf_hash: [u8; 32],
}

/// One event of a [`CanonicalPage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CanonicalEvent<'a> {
    /// Its global position as stored.
    pub position: u64,
    /// Its canonical bytes.
    pub bytes: &'a [u8],
    /// Its stored leaf hash.
    pub leaf_hash: [u8; 32],
}

impl CanonicalPage {
    /// An empty page with room for `events` events of `bytes` bytes in all.
    pub fn with_capacity(events: usize, bytes: usize) -> Self {
        CanonicalPage {
            bytes: Vec::with_capacity(bytes),
            events: Vec::with_capacity(events),
        }
    }

    /// How many events.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether the page has no events.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The position of the last event, if any.
    pub fn last_position(&self) -> Option<u64> {
        self.events.last().map(|e| e.position)
    }

    /// The events, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = CanonicalEvent<'_>> + '_ {
        let mut start = 0;
        self.events.iter().map(move |e| {
            let bytes = &self.bytes[start..e.end];
            start = e.end;
            CanonicalEvent {
                position: e.position,
                bytes,
                leaf_hash: e.leaf_hash,
            }
        })
    }

    /// Adds a decoded event: its [`event_bytes`].
    pub fn push_event(&mut self, event: &RecordedEvent) {
        self.bytes.extend_from_slice(&event_bytes(event));
        self.events.push(PageEntry {
            position: event.position,
            end: self.bytes.len(),
            leaf_hash: event.leaf_hash,
        });
    }

    /// Adds a stored row by copying its stored text into place, without
    /// parsing its JSON, when that gives exactly the bytes [`event_bytes`]
    /// would make of the decoded row: payload and metadata already canonical
    /// JSON, a SQLite id and time already in the form the log writes, a leaf
    /// hash of 32 bytes. Otherwise adds nothing and answers `false`: the
    /// caller decodes the row as `read_all` does and adds it with
    /// [`CanonicalPage::push_event`] (which also reports a corrupt row the
    /// same way).
    pub fn push_stored(&mut self, event: &StoredEvent<'_>) -> bool {
        let start = self.bytes.len();
        match write_stored(&mut self.bytes, event) {
            Some(leaf_hash) => {
                self.events.push(PageEntry {
                    position: event.position,
                    end: self.bytes.len(),
                    leaf_hash,
                });
                true
            }
            None => {
                self.bytes.truncate(start);
                false
            }
        }
    }
}

/// Writes the canonical bytes of `event` (keys in sorted order) to `out`;
/// `None` (with `out` partly written) where only decoding can tell them.
fn write_stored(out: &mut Vec<u8>, event: &StoredEvent<'_>) -> Option<[u8; 32]> {
    let leaf_hash: [u8; 32] = event.leaf_hash.try_into().ok()?;
    if !is_canonical_json(event.metadata) || !is_canonical_json(event.payload) {
        return None;
    }
    if let StoredId::Text(text) = event.event_id {
        if !is_canonical_uuid(text) {
            return None;
        }
    }
    if let StoredTime::Text(text) = event.recorded_at {
        if !is_canonical_time(text) {
            return None;
        }
    }
    write_fields(out, event);
    Some(leaf_hash)
}

/// Writes the canonical bytes of `event`, taking its payload and metadata
/// (and a SQLite id and time) as already canonical text; its leaf hash is
/// not read.
fn write_fields(out: &mut Vec<u8>, event: &StoredEvent<'_>) {
    out.extend_from_slice(b"{\"event_id\":\"");
    match event.event_id {
        StoredId::Uuid(id) => {
            let mut buffer = Uuid::encode_buffer();
            out.extend_from_slice(id.hyphenated().encode_lower(&mut buffer).as_bytes());
        }
        StoredId::Text(text) => out.extend_from_slice(text.as_bytes()),
    }
    out.extend_from_slice(b"\",\"event_type\":");
    write_string(out, event.event_type);
    out.extend_from_slice(b",\"metadata\":");
    out.extend_from_slice(event.metadata.as_bytes());
    out.extend_from_slice(b",\"payload\":");
    out.extend_from_slice(event.payload.as_bytes());
    out.extend_from_slice(b",\"position\":");
    write_integer(out, false, event.position);
    out.extend_from_slice(b",\"recorded_at\":\"");
    match event.recorded_at {
        StoredTime::Time(time) => write_time(out, &time),
        StoredTime::Text(text) => out.extend_from_slice(text.as_bytes()),
    }
    out.extend_from_slice(b"\",\"schema_version\":");
    write_integer(
        out,
        event.schema_version < 0,
        u64::from(event.schema_version.unsigned_abs()),
    );
    out.extend_from_slice(b",\"stream_id\":");
    write_string(out, event.stream_id);
    out.extend_from_slice(b",\"stream_version\":");
    write_integer(out, false, event.stream_version);
    out.push(b'}');
}

/// Whether a byte stands for itself inside a `serde_json` string (the
/// others are `"`, `\` and the control characters, which it escapes).
fn plain_string_byte(byte: u8) -> bool {
    byte >= 0x20 && byte != b'"' && byte != b'\\'
}

/// A string as `serde_json` writes it.
fn write_json_string(out: &mut Vec<u8>, text: &str) -> Option<()> {
    if text.bytes().all(plain_string_byte) {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
        Some(())
    } else {
        serde_json::to_writer(&mut *out, text).ok()
    }
}

/// An integer in decimal, as `serde_json` (and `itoa`) writes it.
fn write_integer(out: &mut Vec<u8>, negative: bool, mut magnitude: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (magnitude % 10) as u8;
        magnitude /= 10;
        if magnitude == 0 {
            break;
        }
    }
    if negative {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[at..]);
}

/// [`format_time`] without its allocations, for the years it writes with four
/// digits.
fn write_time(out: &mut Vec<u8>, time: &DateTime<Utc>) {
    let naive = time.naive_utc();
    let nanos = naive.nanosecond();
    let year = naive.year();
    let Ok(year) = u32::try_from(year) else {
        out.extend_from_slice(format_time(time).as_bytes());
        return;
    };
    if year > 9999 || nanos >= 1_000_000_000 {
        out.extend_from_slice(format_time(time).as_bytes());
        return;
    }
    let mut text = *b"0000-00-00T00:00:00.000000Z";
    let mut put = |at: usize, width: usize, mut value: u32| {
        for i in (at..at + width).rev() {
            text[i] = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, naive.month());
    put(8, 2, naive.day());
    put(11, 2, naive.hour());
    put(14, 2, naive.minute());
    put(17, 2, naive.second());
    put(20, 6, nanos / 1000);
    out.extend_from_slice(&text);
}

/// Whether `text` is a UUID as `Uuid`'s `to_string` writes it (hyphenated,
/// lower case).
fn is_canonical_uuid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

/// Whether `text` is a valid time exactly as [`format_time`] writes it
/// (`YYYY-MM-DDTHH:MM:SS.ffffffZ`), so that reading and writing it again
/// gives the same text.
fn is_canonical_time(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() != 27 {
        return false;
    }
    let shape = b"0000-00-00T00:00:00.000000Z";
    if !b.iter().zip(shape).all(|(&c, &s)| {
        if s == b'0' {
            c.is_ascii_digit()
        } else {
            c == s
        }
    }) {
        return false;
    }
    let number = |from: usize, to: usize| {
        b[from..to]
            .iter()
            .fold(0u32, |n, &d| n * 10 + u32::from(d - b'0'))
    };
    let year = i32::try_from(number(0, 4)).unwrap_or(-1);
    chrono::NaiveDate::from_ymd_opt(year, number(5, 7), number(8, 10)).is_some()
        && number(11, 13) < 24
        && number(14, 16) < 60
        && number(17, 19) < 60
}

/// How deep [`is_canonical_json`] follows nesting (`serde_json` refuses more
/// than 127 levels; deeper text is left to it).
const MAX_DEPTH: u32 = 100;

/// Whether `text` is exactly the [`canonical_json`] of the value it parses to,
/// so that its bytes can be hashed as they are. Sound, not complete: it
/// answers `false` for anything it is not sure of (numbers with a fraction or
/// exponent, object keys with escapes, deep nesting), which the caller then
/// parses and writes again.
pub(crate) fn is_canonical_json(text: &str) -> bool {
    let mut reader = CanonicalReader {
        bytes: text.as_bytes(),
        at: 0,
    };
    reader.value(0) && reader.at == reader.bytes.len()
}

struct CanonicalReader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl CanonicalReader<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        if self.bytes[self.at..].starts_with(word) {
            self.at += word.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: u32) -> bool {
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string(true),
            Some(b'n') => self.literal(b"null"),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'-' | b'0'..=b'9') => self.integer(),
            _ => false,
        }
    }

    fn object(&mut self, depth: u32) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        self.at += 1;
        if self.eat(b'}') {
            return true;
        }
        let mut previous: Option<&[u8]> = None;
        loop {
            let start = self.at + 1;
            // Keys are compared as their stored bytes, which are their
            // unescaped bytes only when they have no escapes.
            if !self.string(false) {
                return false;
            }
            let key = &self.bytes[start..self.at - 1];
            if previous.is_some_and(|p| p >= key) {
                return false;
            }
            previous = Some(key);
            if !self.eat(b':') || !self.value(depth) {
                return false;
            }
            if !self.eat(b',') {
                return self.eat(b'}');
            }
        }
    }

    fn array(&mut self, depth: u32) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        self.at += 1;
        if self.eat(b']') {
            return true;
        }
        loop {
            if !self.value(depth) {
                return false;
            }
            if !self.eat(b',') {
                return self.eat(b']');
            }
        }
    }

    /// A string whose escapes are exactly those `serde_json` writes (none at
    /// all when `escapes` is false).
    fn string(&mut self, escapes: bool) -> bool {
        if !self.eat(b'"') {
            return false;
        }
        loop {
            self.skip_plain_string_bytes();
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    return true;
                }
                Some(b'\\') if escapes => {
                    let Some(&kind) = self.bytes.get(self.at + 1) else {
                        return false;
                    };
                    match kind {
                        b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => self.at += 2,
                        b'u' => {
                            // `serde_json` writes \u00xx (lower case) for the
                            // control characters without a short escape.
                            let Some(code) = self.bytes.get(self.at + 2..self.at + 6) else {
                                return false;
                            };
                            let hex = |b: u8| match b {
                                b'0'..=b'9' => Some(b - b'0'),
                                b'a'..=b'f' => Some(b - b'a' + 10),
                                _ => None,
                            };
                            let (Some(high), Some(low)) = (hex(code[2]), hex(code[3])) else {
                                return false;
                            };
                            let byte = high * 16 + low;
                            if &code[..2] != b"00"
                                || byte >= 0x20
                                || matches!(byte, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d)
                            {
                                return false;
                            }
                            self.at += 6;
                        }
                        _ => return false,
                    }
                }
                _ => return false,
            }
        }
    }

    /// Moves past bytes that stand for themselves in a string, eight at a
    /// time while none of the eight is `"`, `\\` or a control character.
    fn skip_plain_string_bytes(&mut self) {
        const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
        const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
        // A high bit for each byte equal to zero (and maybe, after a zero
        // byte, for the bytes that follow it, which then are looked at one
        // by one anyway).
        let zero = |w: u64| w.wrapping_sub(ONES) & !w & HIGHS;
        while let Some(chunk) = self.bytes.get(self.at..self.at + 8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            let w = u64::from_le_bytes(word);
            let special = (w.wrapping_sub(ONES * 0x20) & !w & HIGHS)
                | zero(w ^ (ONES * u64::from(b'"')))
                | zero(w ^ (ONES * u64::from(b'\\')));
            if special != 0 {
                break;
            }
            self.at += 8;
        }
        while self
            .bytes
            .get(self.at)
            .is_some_and(|&b| plain_string_byte(b))
        {
            self.at += 1;
        }
    }

    /// An integer as `serde_json` writes the `u64` or `i64` it parses to;
    /// numbers with a fraction or exponent are not judged.
    fn integer(&mut self) -> bool {
        let negative = self.eat(b'-');
        let start = self.at;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
        let digits = &self.bytes[start..self.at];
        if digits.is_empty()
            || (digits[0] == b'0' && (digits.len() > 1 || negative))
            || matches!(self.peek(), Some(b'.' | b'e' | b'E'))
        {
            return false;
        }
        let mut value: u64 = 0;
        for &d in digits {
            match value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(d - b'0')))
            {
                Some(v) => value = v,
                None => return false,
            }
        }
        !negative || value <= 1 << 63
    }
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

    use proptest::prelude::*;

    /// Any JSON value: every kind of string (escapes, control characters,
    /// non-ASCII), integers at the edges, floats, nesting, keys that need
    /// escaping, and the key `payload` nested where it could be confused
    /// with the document's own.
    fn any_value() -> impl Strategy<Value = Value> {
        let text = prop_oneof![
            "[a-z]{0,6}",
            any::<String>(),
            "[\\x00-\\x20\"\\\\/\\x7f é€😀]{0,8}",
            Just("payload".to_string()),
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<u64>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            prop_oneof![Just(0u64), Just(u64::MAX), Just(1 << 63)].prop_map(Value::from),
            prop_oneof![Just(i64::MIN), Just(-1i64)].prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            text.clone().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(text.clone(), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Whether the fast path must take a value's canonical text as it is: no
    /// floats and no object keys that need escaping.
    fn plain(value: &Value) -> bool {
        match value {
            Value::Number(n) => !n.is_f64(),
            Value::Array(items) => items.iter().all(plain),
            Value::Object(map) => map
                .iter()
                .all(|(k, v)| k.bytes().all(plain_string_byte) && plain(v)),
            _ => true,
        }
    }

    fn any_time() -> impl Strategy<Value = DateTime<Utc>> {
        prop_oneof![
            // Years 0000 to 9999, at microseconds and at nanoseconds.
            (-62_167_219_200_000_000i64..253_402_300_799_999_999i64)
                .prop_map(|micros| DateTime::from_timestamp_micros(micros).expect("in range")),
            (0i64..4_102_444_800, 0u32..1_000_000_000)
                .prop_map(|(s, n)| DateTime::from_timestamp(s, n).expect("in range")),
            // Years chrono writes with a sign or five digits.
            (-8_000_000_000_000i64..-62_167_219_201i64)
                .prop_map(|s| DateTime::from_timestamp(s, 0).expect("in range")),
            (253_402_300_800i64..300_000_000_000i64)
                .prop_map(|s| DateTime::from_timestamp(s, 0).expect("in range")),
        ]
    }

    prop_compose! {
        fn any_event()(
            position in any::<u64>(),
            stream_version in any::<u64>(),
            schema_version in any::<i32>(),
            stream_id in prop_oneof!["[a-z-]{1,12}", any::<String>()],
            event_type in prop_oneof!["[A-Za-z]{1,12}", any::<String>()],
            payload in any_value(),
            metadata in any_value(),
            recorded_at in any_time(),
            id in any::<u128>(),
            leaf_hash in any::<[u8; 32]>(),
        ) -> RecordedEvent {
            RecordedEvent {
                position,
                event_id: Uuid::from_u128(id),
                stream_id,
                stream_version,
                event_type,
                schema_version,
                payload,
                metadata,
                recorded_at,
                leaf_hash,
            }
        }
    }

    /// The canonical JSON as it was first written (a `Value` per key and
    /// scalar, through `Display`): what the log's leaf hashes were made with.
    fn reference_json(value: &Value, out: &mut String) {
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
                    reference_json(item, out);
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    reference_json(item, out);
                }
                out.push(']');
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }

    /// The canonical bytes of an event as they were first made: a JSON
    /// document of its fields, canonicalised by [`reference_json`].
    fn reference_event_bytes(event: &RecordedEvent) -> Vec<u8> {
        let document = serde_json::json!({
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
        let mut out = String::new();
        reference_json(&document, &mut out);
        out.into_bytes()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn canonical_json_writes_the_bytes_it_always_wrote(value in any_value()) {
            let mut want = String::new();
            reference_json(&value, &mut want);
            prop_assert_eq!(canonical_json(&value), want);
        }

        #[test]
        fn event_bytes_are_the_bytes_they_always_were(event in any_event()) {
            prop_assert_eq!(event_bytes(&event), reference_event_bytes(&event));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn stored_text_copied_in_place_gives_the_bytes_of_event_bytes(event in any_event()) {
            let payload = canonical_json(&event.payload);
            let metadata = canonical_json(&event.metadata);
            let id = event.event_id.to_string();
            let time = format_time(&event.recorded_at);
            let want = event_bytes(&event);
            let typed = StoredEvent {
                position: event.position,
                event_id: StoredId::Uuid(event.event_id),
                stream_id: &event.stream_id,
                stream_version: event.stream_version,
                event_type: &event.event_type,
                schema_version: event.schema_version,
                payload: &payload,
                metadata: &metadata,
                recorded_at: StoredTime::Time(event.recorded_at),
                leaf_hash: &event.leaf_hash,
            };
            let text = StoredEvent {
                event_id: StoredId::Text(&id),
                recorded_at: StoredTime::Text(&time),
                ..typed
            };
            let four_digit_year = (0..=9999).contains(&event.recorded_at.year());
            for (stored, must_take) in [(typed, true), (text, four_digit_year)] {
                let mut page = CanonicalPage::default();
                page.push_event(&event);
                let taken = page.push_stored(&stored);
                if plain(&event.payload) && plain(&event.metadata) && must_take {
                    prop_assert!(taken, "canonical text was not taken as it is");
                }
                let events: Vec<_> = page.iter().collect();
                prop_assert_eq!(events.len(), if taken { 2 } else { 1 });
                if taken {
                    prop_assert_eq!(events[1].bytes, &want[..]);
                    prop_assert_eq!(events[1].position, event.position);
                    prop_assert_eq!(events[1].leaf_hash, event.leaf_hash);
                }
                prop_assert_eq!(events[0].bytes, &want[..]);
            }
        }

        #[test]
        fn text_judged_canonical_is_what_parsing_and_writing_again_gives(
            value in any_value(),
            edits in prop::collection::vec(
                (any::<prop::sample::Index>(), 0..3u8, prop::sample::select(
                    " \t\n{}[]\",:\\/0123456789-+.eEabfnrtu".chars().collect::<Vec<_>>())),
                0..4,
            ),
        ) {
            let mut text: Vec<char> = canonical_json(&value).chars().collect();
            for (at, op, c) in edits {
                let i = at.index(text.len() + 1);
                match op {
                    0 => text.insert(i, c),
                    1 if i < text.len() => { text.remove(i); }
                    _ if i < text.len() => text[i] = c,
                    _ => {}
                }
            }
            let text: String = text.into_iter().collect();
            if is_canonical_json(&text) {
                let parsed: Value = serde_json::from_str(&text).map_err(|e| {
                    TestCaseError::fail(format!("{text:?} was judged canonical but does not parse: {e}"))
                })?;
                prop_assert_eq!(canonical_json(&parsed), text);
            }
        }

        #[test]
        fn typed_times_are_written_as_format_time_writes_them(time in any_time()) {
            let mut out = Vec::new();
            write_time(&mut out, &time);
            prop_assert_eq!(String::from_utf8(out).expect("ascii"), format_time(&time));
        }

        #[test]
        fn time_text_judged_canonical_reads_and_writes_back_the_same(
            digits in prop::collection::vec(0u8..10, 20),
            nudge in any::<bool>(),
        ) {
            let d: Vec<char> = digits.iter().map(|&d| char::from(b'0' + d)).collect();
            // Bias towards valid dates and times so both answers are tried.
            let (month, day, hour) = if nudge {
                (format!("0{}", 1 + digits[4] % 9), format!("{}{}", digits[6] % 3, d[7]), format!("{}{}", digits[8] % 2, d[9]))
            } else {
                (format!("{}{}", d[4], d[5]), format!("{}{}", d[6], d[7]), format!("{}{}", d[8], d[9]))
            };
            let text = format!(
                "{}{}{}{}-{month}-{day}T{hour}:{}{}:{}{}.{}{}{}{}{}{}Z",
                d[0], d[1], d[2], d[3], d[10], d[11], d[12], d[13], d[14], d[15], d[16], d[17], d[18], d[19]
            );
            if is_canonical_time(&text) {
                let parsed = DateTime::parse_from_rfc3339(&text).map_err(|e| {
                    TestCaseError::fail(format!("{text} was judged canonical but does not parse: {e}"))
                })?;
                prop_assert_eq!(format_time(&parsed.with_timezone(&Utc)), text);
            } else {
                // A leap second (:60) parses but is left to the slow path.
                let leap = &text[17..19] == "60";
                prop_assert!(leap || DateTime::parse_from_rfc3339(&text).is_err(), "{} parses but was not taken", text);
            }
        }
    }

    #[test]
    fn every_ascii_character_in_a_string_is_judged_as_serde_json_writes_it() {
        for byte in 0u8..0x80 {
            // At every offset in and around the eight bytes looked at at once.
            for at in 0..20 {
                let raw = format!(
                    "{}{}{}é",
                    "a".repeat(at),
                    char::from(byte),
                    "b".repeat(20 - at)
                );
                let text = canonical_json(&Value::String(raw.clone()));
                assert!(is_canonical_json(&text), "{text:?}");
                let unescaped = format!("\"{raw}\"");
                if unescaped == text {
                    assert!(is_canonical_json(&unescaped));
                } else if is_canonical_json(&unescaped) {
                    // A backslash that makes an escape with the next letter.
                    let value: Value = serde_json::from_str(&unescaped).expect("parses");
                    assert_eq!(canonical_json(&value), unescaped);
                    assert_eq!(byte, b'\\');
                }
            }
        }
        for not_canonical in [
            r#""\/""#,
            r#""\u0041""#,
            r#""\u001F""#,
            r#""\u000a""#,
            "\"\u{1}\"",
            r#"{"b":1,"a":2}"#,
            r#"{"a":1,"a":2}"#,
            r#"{"a\n":1}"#,
            r#"{"a": 1}"#,
            " 1",
            "1 ",
            "-0",
            "01",
            "1.0",
            "1e3",
            "18446744073709551616",
            "-9223372036854775809",
            "[1,]",
            "{",
            "",
            "nul",
            "[1]]",
        ] {
            assert!(!is_canonical_json(not_canonical), "{not_canonical:?}");
        }
        for canonical in [
            "18446744073709551615",
            "-9223372036854775808",
            "[]",
            "{}",
            r#"{"":[{},[]]}"#,
        ] {
            assert!(is_canonical_json(canonical), "{canonical:?}");
        }
        let deep = format!("{}{}", "[".repeat(128), "]".repeat(128));
        assert!(serde_json::from_str::<Value>(&deep).is_err());
        assert!(!is_canonical_json(&deep));
    }

    #[test]
    fn only_lower_case_hyphenated_uuids_are_taken_as_they_are() {
        let id = Uuid::new_v4();
        assert!(is_canonical_uuid(&id.to_string()));
        assert!(!is_canonical_uuid(&id.to_string().to_uppercase()));
        assert!(!is_canonical_uuid(&id.simple().to_string()));
        assert!(!is_canonical_uuid(&id.braced().to_string()));
    }
}
