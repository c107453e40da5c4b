//! Export bundles: what an auditor takes away and checks with no database
//! and no network.
//!
//! A bundle is a folder with `events.jsonl` (each event's canonical bytes, a
//! line each), `checkpoint.txt` (the signed checkpoint), `proofs.json` (an
//! inclusion proof per event against that checkpoint), `public-key.txt`,
//! `trail.csv`, `report.html` and `manifest.json` (SHA-256 of every other
//! file, and the layout of `report.html`). `trail.csv` and `report.html` are
//! rendered from the events alone, so checking re-renders and compares them
//! too: every byte is covered. A bundle of less than the whole log also
//! holds the registrations of the people, teams and groups its events name,
//! and its proposals' budget commitments, so the report names them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::bundle_keys::{BundleKeys, KEYS_FILE};
use super::checkpoint::Checkpoint;
use super::error::AssuranceError;
use super::keys::VerifierKey;
use super::merkle::{verify_inclusion, Hash};
use super::report;
use super::selection::select;
use super::service::Assurance;
use crate::domain::personal_data::reason_field;
use crate::domain::proposal::ProposalId;
use crate::domain::TeamId;
use crate::erasure::Keyring;
use crate::store::canonical::{event_bytes, leaf_hash};
use crate::store::EventStore;

/// The files of a bundle, in the order the manifest lists them.
pub const FILES: [&str; 6] = [
    "events.jsonl",
    "checkpoint.txt",
    "proofs.json",
    "public-key.txt",
    "trail.csv",
    "report.html",
];

/// What to export.
#[derive(Debug, Clone, Copy)]
pub enum Selection {
    /// One proposal's events.
    Proposal(ProposalId),
    /// A team's events and those of its proposals.
    Team(TeamId),
    /// The whole log.
    All,
}

#[derive(Debug, Serialize, Deserialize)]
struct Proofs {
    tree_size: u64,
    proofs: Vec<ProofEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ProofEntry {
    position: u64,
    leaf_hash: String,
    hashes: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    /// The layout `report.html` was rendered in (see [`super::report`]);
    /// bundles exported before layouts were named lack it: layout 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    report_layout: Option<u32>,
    sha256: BTreeMap<String, String>,
}

fn io(path: &Path, error: std::io::Error) -> AssuranceError {
    AssuranceError::Io {
        path: path.display().to_string(),
        error,
    }
}

/// Writes a bundle of the selection to `dir`, signing a fresh checkpoint
/// that covers the whole log. Answers how many events it holds.
pub async fn export(
    store: &dyn EventStore,
    keyring: Option<&Keyring>,
    assurance: &Assurance,
    selection: Selection,
    dir: &Path,
    now: chrono::DateTime<chrono::Utc>,
    progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<usize, AssuranceError> {
    let events = select(store, selection, progress).await?;
    let checkpoint = assurance
        .issue(now)
        .await?
        .ok_or(AssuranceError::TooShort { have: 0, want: 1 })?;
    let mut proofs = Vec::with_capacity(events.len());
    for event in &events {
        let hashes = assurance
            .tree
            .inclusion_proof(event.position - 1, checkpoint.tree_size)
            .await?;
        proofs.push(ProofEntry {
            position: event.position,
            leaf_hash: BASE64.encode(event.leaf_hash),
            hashes: hashes.iter().map(|h| BASE64.encode(h)).collect(),
        });
    }
    let lines: Vec<String> = events
        .iter()
        .map(|e| String::from_utf8_lossy(&event_bytes(e)).into_owned())
        .collect();
    let events_jsonl: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let keys = match keyring {
        Some(keyring) => Some(BundleKeys::gather(keyring, &events).await?),
        None => None,
    };
    let parsed = parse_events(&events_jsonl)?;
    let parsed = match &keys {
        Some(keys) => keys.open(&parsed)?,
        None => parsed,
    };
    let mut files = vec![
        ("events.jsonl", events_jsonl.clone()),
        ("checkpoint.txt", checkpoint.note.clone()),
        (
            "proofs.json",
            pretty(&Proofs {
                tree_size: checkpoint.tree_size,
                proofs,
            })?,
        ),
        (
            "public-key.txt",
            format!("{}\n", assurance.key.verifier().encode()),
        ),
        ("trail.csv", trail_csv(&parsed)?),
        (
            "report.html",
            report::render(report::LAYOUT, &parsed, &checkpoint.note)?,
        ),
    ];
    if let Some(keys) = &keys {
        files.push((KEYS_FILE, keys.to_text()?));
    }
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let mut manifest = Manifest {
        report_layout: Some(report::LAYOUT),
        sha256: BTreeMap::new(),
    };
    for (name, content) in &files {
        let path = dir.join(name);
        std::fs::write(&path, content).map_err(|e| io(&path, e))?;
        manifest.sha256.insert(
            name.to_string(),
            hex::encode(Sha256::digest(content.as_bytes())),
        );
    }
    let path = dir.join("manifest.json");
    std::fs::write(&path, pretty(&manifest)?).map_err(|e| io(&path, e))?;
    Ok(events.len())
}

fn pretty<T: Serialize>(value: &T) -> Result<String, AssuranceError> {
    serde_json::to_string_pretty(value)
        .map(|s| format!("{s}\n"))
        .map_err(|e| AssuranceError::Note(e.to_string()))
}

/// An event as a bundle line holds it: its canonical bytes, and those
/// bytes read as JSON.
#[derive(Debug, Clone)]
pub(super) struct Line {
    /// The line's bytes (the event's canonical bytes).
    pub(super) bytes: Vec<u8>,
    /// The line read as JSON.
    pub(super) doc: Value,
}

impl Line {
    /// Its log position (0 if it has none).
    pub(super) fn position(&self) -> u64 {
        self.doc["position"].as_u64().unwrap_or(0)
    }
    /// The text at a JSON pointer (empty if there is none).
    pub(super) fn str(&self, pointer: &str) -> String {
        self.doc
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }
}

fn parse_events(text: &str) -> Result<Vec<Line>, AssuranceError> {
    let mut lines = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let doc: Value = serde_json::from_str(line)
            .map_err(|e| AssuranceError::Note(format!("events.jsonl line {}: {e}", n + 1)))?;
        lines.push(Line {
            bytes: line.as_bytes().to_vec(),
            doc,
        });
    }
    Ok(lines)
}

/// The trail's columns, in order.
const TRAIL_HEADER: [&str; 8] = [
    "position",
    "recorded_at",
    "stream_id",
    "event_type",
    "actor",
    "actor_name",
    "role",
    "reason",
];

/// The error of a file that could not be rendered.
pub(super) fn render_error(file: &'static str) -> impl Fn(String) -> AssuranceError {
    move |reason| AssuranceError::Render { file, reason }
}

/// The trail as CSV, for spreadsheets.
fn trail_csv(events: &[Line]) -> Result<String, AssuranceError> {
    let fail = render_error("trail.csv");
    let names = names(events);
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(TRAIL_HEADER)
        .map_err(|e| fail(e.to_string()))?;
    for e in events {
        let actor = e.str("/metadata/actor");
        let actor_name = names.get(&actor).cloned().unwrap_or_default();
        // As `stored::reason_of`: a reason that is the event's own free
        // text is read from the event (opened), not from the metadata.
        let reason = match reason_field(&e.str("/event_type")) {
            Some(field) => e.str(&format!("/payload/{field}")),
            None => e.str("/metadata/reason"),
        };
        out.write_record([
            e.position().to_string(),
            e.str("/recorded_at"),
            e.str("/stream_id"),
            e.str("/event_type"),
            actor,
            actor_name,
            e.str("/metadata/role"),
            reason,
        ])
        .map_err(|e| fail(e.to_string()))?;
    }
    let bytes = out.into_inner().map_err(|e| fail(e.error().to_string()))?;
    String::from_utf8(bytes).map_err(|e| fail(e.to_string()))
}

/// Person id to name, from the registrations in the bundle (and the
/// corrections and erasures after them, in order).
pub(super) fn names(events: &[Line]) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for e in events {
        let name = match e.str("/event_type").as_str() {
            "PersonRegistered" | "PersonDetailsCorrected" => e.str("/payload/name"),
            "PersonErased" => crate::domain::person::ERASED_NAME.to_string(),
            _ => continue,
        };
        let id = e
            .str("/stream_id")
            .trim_start_matches("person-")
            .to_string();
        names.insert(id, name);
    }
    names
}

/// What checking a bundle found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleReport {
    /// Events proven.
    pub events: usize,
    /// The checkpoint's tree size.
    pub tree_size: u64,
}

fn fail(why: String) -> AssuranceError {
    AssuranceError::Note(why)
}

/// Checks a bundle offline: the manifest's sums, the checkpoint's signature
/// (by `key`, or by the bundle's own key if none is given), each event's
/// inclusion proof, and that the trail and report are exactly those of the
/// events.
pub fn verify_bundle(
    dir: &Path,
    key: Option<&VerifierKey>,
) -> Result<BundleReport, AssuranceError> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path).map_err(|e| io(&path, e))
    };
    let manifest: Manifest = serde_json::from_slice(&read("manifest.json")?)
        .map_err(|e| fail(format!("manifest.json: {e}")))?;
    let mut listed: BTreeSet<&str> = manifest.sha256.keys().map(String::as_str).collect();
    // Bundles made before personal data was sealed have no keys file.
    let has_keys = listed.remove(KEYS_FILE);
    if listed != FILES.iter().copied().collect() {
        return Err(fail(
            "manifest.json does not list exactly the bundle's files".into(),
        ));
    }
    let mut contents = BTreeMap::new();
    let names = FILES.iter().copied().chain(has_keys.then_some(KEYS_FILE));
    for name in names {
        let bytes = read(name)?;
        if hex::encode(Sha256::digest(&bytes)) != manifest.sha256[name] {
            return Err(fail(format!("{name}: its SHA-256 is not the manifest's")));
        }
        contents.insert(
            name,
            String::from_utf8(bytes).map_err(|_| fail(format!("{name} is not UTF-8")))?,
        );
    }
    let bundled_key = VerifierKey::decode(&contents["public-key.txt"])?;
    let key = key.unwrap_or(&bundled_key);
    let checkpoint = Checkpoint::open(&contents["checkpoint.txt"], key)?;
    let proofs: Proofs = serde_json::from_str(&contents["proofs.json"])
        .map_err(|e| fail(format!("proofs.json: {e}")))?;
    if proofs.tree_size != checkpoint.size {
        return Err(fail(
            "proofs.json is for another tree size than the checkpoint".into(),
        ));
    }
    let events = parse_events(&contents["events.jsonl"])?;
    if events.len() != proofs.proofs.len() {
        return Err(fail("there is not exactly one proof per event".into()));
    }
    for (event, proof) in events.iter().zip(&proofs.proofs) {
        let position = event.position();
        let leaf: Hash = leaf_hash(&event.bytes);
        if proof.position != position || BASE64.encode(leaf) != proof.leaf_hash {
            return Err(fail(format!(
                "event at position {position}: its proof is for another event"
            )));
        }
        let hashes = proof
            .hashes
            .iter()
            .map(|h| BASE64.decode(h).ok().and_then(|b| <Hash>::try_from(b).ok()))
            .collect::<Option<Vec<Hash>>>()
            .ok_or_else(|| {
                fail(format!(
                    "event at position {position}: a proof hash is not base64 SHA-256"
                ))
            })?;
        verify_inclusion(
            &leaf,
            position.saturating_sub(1),
            checkpoint.size,
            &hashes,
            &checkpoint.root,
        )
        .map_err(|e| fail(format!("event at position {position}: {e}")))?;
    }
    let events = match contents.get(KEYS_FILE) {
        Some(keys) => BundleKeys::parse(keys)?.open(&events)?,
        None => events,
    };
    if trail_csv(&events)? != contents["trail.csv"] {
        return Err(fail(
            "trail.csv is not the trail of the bundle's events".into(),
        ));
    }
    let layout = manifest.report_layout.unwrap_or(1);
    if report::render(layout, &events, &contents["checkpoint.txt"])? != contents["report.html"] {
        return Err(fail(
            "report.html is not the report of the bundle's events".into(),
        ));
    }
    Ok(BundleReport {
        events: events.len(),
        tree_size: checkpoint.size,
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use serde_json::json;

    const PROPOSER: &str = "00000000-0000-0000-0000-000000000001";
    const ADVISER: &str = "00000000-0000-0000-0000-000000000002";

    pub(in crate::assurance) fn line(doc: Value) -> Line {
        Line {
            bytes: serde_json::to_vec(&doc).expect("json"),
            doc,
        }
    }

    /// A person, and a proposal taken through every step the report shows,
    /// with `text` in each free-text field.
    pub(in crate::assurance) fn events(text: &str) -> Vec<Line> {
        let event = |position: u64, stream: &str, event_type: &str, payload: Value| {
            line(json!({
                "position": position,
                "recorded_at": format!("2025-01-0{position}T10:00:00Z"),
                "stream_id": stream,
                "event_type": event_type,
                "metadata": { "actor": PROPOSER, "role": "MEMBER", "reason": text },
                "payload": payload,
            }))
        };
        let p = "proposal-7";
        vec![
            event(
                1,
                &format!("person-{PROPOSER}"),
                "PersonRegistered",
                json!({ "name": text }),
            ),
            event(
                2,
                p,
                "ProposalRaised",
                json!({ "title": text, "rule": "CONSENT", "proposer": PROPOSER }),
            ),
            event(
                3,
                p,
                "AdviceRequested",
                json!({ "adviser": { "person": ADVISER }, "reason": "AFFECTED" }),
            ),
            event(
                4,
                p,
                "AdviceRequested",
                json!({ "adviser": { "team": "t-1" }, "reason": "EXPERT" }),
            ),
            event(
                5,
                p,
                "AdviceGiven",
                json!({ "by": ADVISER, "stance": "CONCERN", "text": text, "advice_id": "a-1" }),
            ),
            event(
                6,
                p,
                "ObjectionRaised",
                json!({ "by": ADVISER, "reason": text, "objection_id": "o-1" }),
            ),
            event(
                7,
                p,
                "ObjectionRaised",
                json!({ "by": PROPOSER, "reason": text, "objection_id": "o-2" }),
            ),
            event(
                8,
                p,
                "ObjectionResolved",
                json!({ "objection_id": "o-1", "resolution": "WITHDRAWN", "note": text }),
            ),
            event(
                9,
                p,
                "ProposalAmended",
                json!({ "body": text, "reason": text }),
            ),
            event(
                9,
                p,
                "ProposalDecided",
                json!({ "outcome": "ADOPTED", "rationale": text, "notes": [{ "ref_id": "a-1", "note": text }] }),
            ),
            event(
                9,
                p,
                "DecisionReviewed",
                json!({ "outcome": "KEEP", "note": text }),
            ),
        ]
    }

    pub(in crate::assurance) const NOTE: &str = "advice-log\n11\nroot\n\n— advice-log sig\n";

    pub(in crate::assurance) const HOSTILE: &str =
        "<script>alert(\"x\")</script>, 'quoted' & \"double\"\nsecond line";

    #[test]
    fn hostile_text_round_trips_through_a_csv_reader() {
        let events = events(HOSTILE);
        let text = trail_csv(&events).expect("csv");
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .expect("header")
            .iter()
            .map(str::to_string)
            .collect();
        assert_eq!(header, TRAIL_HEADER);
        let rows: Vec<csv::StringRecord> =
            reader.records().collect::<Result<_, _>>().expect("rows");
        assert_eq!(rows.len(), events.len());
        for (row, event) in rows.iter().zip(&events) {
            assert_eq!(row.len(), TRAIL_HEADER.len());
            assert_eq!(&row[0], event.position().to_string());
            assert_eq!(&row[3], event.str("/event_type"));
            assert_eq!(&row[4], PROPOSER);
            assert_eq!(&row[5], HOSTILE, "the actor's name");
            assert_eq!(&row[6], "MEMBER");
            assert_eq!(&row[7], HOSTILE, "the reason");
        }
    }

    #[test]
    fn plain_text_is_not_quoted() {
        let text = trail_csv(&events("Bank holiday cover")).expect("csv");
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("position,recorded_at,stream_id,event_type,actor,actor_name,role,reason")
        );
        assert_eq!(
            lines.next(),
            Some(
                "1,2025-01-01T10:00:00Z,person-00000000-0000-0000-0000-000000000001,\
                 PersonRegistered,00000000-0000-0000-0000-000000000001,Bank holiday cover,\
                 MEMBER,Bank holiday cover"
            )
        );
        assert!(text.ends_with("Bank holiday cover\n"));
    }
}
