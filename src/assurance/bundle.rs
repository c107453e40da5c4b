//! Export bundles: what an auditor takes away and checks with no database
//! and no network.
//!
//! A bundle is a folder with `events.jsonl` (each event's canonical bytes, a
//! line each), `checkpoint.txt` (the signed checkpoint), `proofs.json` (an
//! inclusion proof per event against that checkpoint), `public-key.txt`,
//! `trail.csv`, `report.html` and `manifest.json` (SHA-256 of every other
//! file). `trail.csv` and `report.html` are rendered from the events alone,
//! so checking re-renders and compares them too: every byte is covered.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::checkpoint::Checkpoint;
use super::error::AssuranceError;
use super::keys::VerifierKey;
use super::merkle::{verify_inclusion, Hash};
use super::service::Assurance;
use crate::domain::proposal::ProposalId;
use crate::domain::{PersonId, TeamId};
use crate::store::canonical::{event_bytes, leaf_hash};
use crate::store::{EventStore, RecordedEvent};

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
    sha256: BTreeMap<String, String>,
}

fn io(path: &Path, error: std::io::Error) -> AssuranceError {
    AssuranceError::Io {
        path: path.display().to_string(),
        error,
    }
}

/// Chooses the events to export, with the registrations of every person
/// they name (so the report can name them).
async fn select(
    store: &dyn EventStore,
    selection: Selection,
    progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<Vec<RecordedEvent>, AssuranceError> {
    let mut chosen = Vec::new();
    let mut proposals: BTreeSet<String> = BTreeSet::new();
    let mut registrations: BTreeMap<String, RecordedEvent> = BTreeMap::new();
    let mut cursor = 0;
    loop {
        let page = store.read_all(cursor, 2048).await?;
        let Some(last) = page.last() else { break };
        cursor = last.position;
        for event in page {
            if event.event_type == "PersonRegistered" {
                registrations.insert(event.stream_id.clone(), event.clone());
            }
            let keep = match selection {
                Selection::All => true,
                Selection::Proposal(id) => event.stream_id == id.stream(),
                Selection::Team(team) => {
                    if event.event_type == "ProposalRaised"
                        && event.payload.pointer("/owner/team")
                            == Some(&Value::String(team.0.to_string()))
                    {
                        proposals.insert(event.stream_id.clone());
                    }
                    event.stream_id == team.stream() || proposals.contains(&event.stream_id)
                }
            };
            if keep {
                chosen.push(event);
            }
        }
        progress(cursor);
    }
    if !matches!(selection, Selection::All) {
        let named: BTreeSet<String> = chosen
            .iter()
            .flat_map(people_named)
            .map(|p| p.stream())
            .collect();
        let mut extra: Vec<RecordedEvent> = named
            .iter()
            .filter_map(|s| registrations.get(s).cloned())
            .collect();
        chosen.append(&mut extra);
        chosen.sort_by_key(|e| e.position);
        chosen.dedup_by_key(|e| e.position);
    }
    Ok(chosen)
}

/// Every person id an event names, in its metadata or payload.
fn people_named(event: &RecordedEvent) -> Vec<PersonId> {
    let mut found = Vec::new();
    let mut visit = |value: &Value| {
        if let Some(id) = value.as_str().and_then(|s| uuid::Uuid::parse_str(s).ok()) {
            found.push(PersonId(id));
        }
    };
    for key in ["actor"] {
        if let Some(v) = event.metadata.get(key) {
            visit(v);
        }
    }
    for key in ["proposer", "decider", "by", "person_id", "admin"] {
        if let Some(v) = event.payload.get(key) {
            visit(v);
        }
    }
    if let Some(v) = event.payload.pointer("/adviser/person") {
        visit(v);
    }
    found
}

/// Writes a bundle of the selection to `dir`, signing a fresh checkpoint
/// that covers the whole log. Answers how many events it holds.
pub async fn export(
    store: &dyn EventStore,
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
    let parsed = parse_events(&events_jsonl)?;
    let files = [
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
        ("trail.csv", trail_csv(&parsed)),
        ("report.html", report_html(&parsed, &checkpoint.note)),
    ];
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let mut manifest = Manifest {
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

/// An event as a bundle line holds it.
#[derive(Debug, Clone)]
struct Line {
    bytes: Vec<u8>,
    doc: Value,
}

impl Line {
    fn position(&self) -> u64 {
        self.doc["position"].as_u64().unwrap_or(0)
    }
    fn str(&self, pointer: &str) -> String {
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

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The trail as CSV, for spreadsheets.
fn trail_csv(events: &[Line]) -> String {
    let names = names(events);
    let mut out =
        String::from("position,recorded_at,stream_id,event_type,actor,actor_name,role,reason\n");
    for e in events {
        let actor = e.str("/metadata/actor");
        let row = [
            e.position().to_string(),
            e.str("/recorded_at"),
            e.str("/stream_id"),
            e.str("/event_type"),
            actor.clone(),
            names.get(&actor).cloned().unwrap_or_default(),
            e.str("/metadata/role"),
            e.str("/metadata/reason"),
        ];
        let row: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
        let _ = writeln!(out, "{}", row.join(","));
    }
    out
}

/// Person id to name, from the registrations in the bundle.
fn names(events: &[Line]) -> BTreeMap<String, String> {
    events
        .iter()
        .filter(|e| e.str("/event_type") == "PersonRegistered")
        .map(|e| {
            (
                e.str("/stream_id")
                    .trim_start_matches("person-")
                    .to_string(),
                e.str("/payload/name"),
            )
        })
        .collect()
}

fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A printable report: for each proposal, who was asked, what they said,
/// the objections and how each was resolved, and the decision; with the
/// checkpoint's root on every printed page.
fn report_html(events: &[Line], note: &str) -> String {
    let names = names(events);
    let who = |id: &str| html(names.get(id).map(String::as_str).unwrap_or(id));
    let root_line = note.lines().take(3).collect::<Vec<_>>().join(" · ");
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>advice-log audit report</title>\n<style>\
         body{{font-family:sans-serif;margin:2em 2em 4em}} h2{{page-break-before:always}} h2:first-of-type{{page-break-before:auto}}\
         table{{border-collapse:collapse}} td,th{{border:1px solid #999;padding:2px 6px;text-align:left;vertical-align:top}}\
         .root{{position:fixed;bottom:0;left:0;right:0;font-size:9pt;background:#fff;border-top:1px solid #999;padding:4px}}\
         </style></head><body>\n<div class=\"root\">Checkpoint: {}</div>\n<h1>advice-log audit report</h1>\n<p>{} events. Every event is proven to be in the signed checkpoint below; check with <code>advice-log verify-bundle</code>.</p>\n<pre>{}</pre>\n",
        html(&root_line),
        events.len(),
        html(note)
    );
    let mut by_proposal: BTreeMap<String, Vec<&Line>> = BTreeMap::new();
    for e in events
        .iter()
        .filter(|e| e.str("/stream_id").starts_with("proposal-"))
    {
        by_proposal.entry(e.str("/stream_id")).or_default().push(e);
    }
    for (stream, lines) in &by_proposal {
        let raised = lines
            .iter()
            .find(|e| e.str("/event_type") == "ProposalRaised");
        let title = raised
            .map(|e| e.str("/payload/title"))
            .unwrap_or_else(|| stream.clone());
        let _ = write!(
            out,
            "<h2>{}</h2>\n<p>{} · rule {} · raised by {}</p>\n",
            html(&title),
            html(stream),
            html(&raised.map(|e| e.str("/payload/rule")).unwrap_or_default()),
            who(&raised
                .map(|e| e.str("/payload/proposer"))
                .unwrap_or_default())
        );
        out.push_str(
            "<h3>Who was asked</h3><table><tr><th>adviser</th><th>why</th><th>at</th></tr>\n",
        );
        for e in lines
            .iter()
            .filter(|e| e.str("/event_type") == "AdviceRequested")
        {
            let adviser = if e.doc.pointer("/payload/adviser/person").is_some() {
                who(&e.str("/payload/adviser/person"))
            } else {
                format!("team {}", html(&e.str("/payload/adviser/team")))
            };
            let _ = writeln!(
                out,
                "<tr><td>{adviser}</td><td>{}</td><td>{}</td></tr>",
                html(&e.str("/payload/reason")),
                html(&e.str("/recorded_at"))
            );
        }
        out.push_str("</table>\n<h3>What they said</h3><table><tr><th>who</th><th>stance</th><th>advice</th><th>id</th></tr>\n");
        for e in lines
            .iter()
            .filter(|e| e.str("/event_type") == "AdviceGiven")
        {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                who(&e.str("/payload/by")),
                html(&e.str("/payload/stance")),
                html(&e.str("/payload/text")),
                html(&e.str("/payload/advice_id"))
            );
        }
        out.push_str("</table>\n<h3>Objections</h3><table><tr><th>who</th><th>objection</th><th>resolution</th><th>id</th></tr>\n");
        for e in lines
            .iter()
            .filter(|e| e.str("/event_type") == "ObjectionRaised")
        {
            let id = e.str("/payload/objection_id");
            let resolution = lines
                .iter()
                .find(|r| {
                    r.str("/event_type") == "ObjectionResolved"
                        && r.str("/payload/objection_id") == id
                })
                .map(|r| {
                    format!(
                        "{}: {} {}",
                        r.str("/payload/resolution"),
                        r.str("/payload/note"),
                        r.str("/payload/validity_test")
                    )
                })
                .unwrap_or_else(|| "OPEN".into());
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                who(&e.str("/payload/by")),
                html(&e.str("/payload/reason")),
                html(&resolution),
                html(&id)
            );
        }
        out.push_str("</table>\n<h3>Amendments</h3><ol>\n");
        for e in lines
            .iter()
            .filter(|e| e.str("/event_type") == "ProposalAmended")
        {
            let _ = writeln!(
                out,
                "<li>{} <em>({})</em></li>",
                html(&e.str("/payload/body")),
                html(&e.str("/payload/reason"))
            );
        }
        out.push_str("</ol>\n<h3>Decision</h3>\n");
        match lines
            .iter()
            .find(|e| e.str("/event_type") == "ProposalDecided")
        {
            Some(d) => {
                let _ = writeln!(
                    out,
                    "<p><strong>{}</strong> by {} at {}: {}</p><ul>",
                    html(&d.str("/payload/outcome")),
                    who(&d.str("/metadata/actor")),
                    html(&d.str("/recorded_at")),
                    html(&d.str("/payload/rationale"))
                );
                for n in d
                    .doc
                    .pointer("/payload/notes")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let _ = writeln!(
                        out,
                        "<li>{}: {}</li>",
                        html(n["ref_id"].as_str().unwrap_or_default()),
                        html(n["note"].as_str().unwrap_or_default())
                    );
                }
                out.push_str("</ul>\n");
            }
            None => out.push_str("<p>Not decided.</p>\n"),
        }
        for e in lines
            .iter()
            .filter(|e| e.str("/event_type") == "DecisionReviewed")
        {
            let _ = writeln!(
                out,
                "<p>Reviewed {} by {}: {}</p>",
                html(&e.str("/payload/outcome")),
                who(&e.str("/metadata/actor")),
                html(&e.str("/payload/note"))
            );
        }
    }
    out.push_str("</body></html>\n");
    out
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
    let listed: BTreeSet<&str> = manifest.sha256.keys().map(String::as_str).collect();
    if listed != FILES.iter().copied().collect() {
        return Err(fail(
            "manifest.json does not list exactly the bundle's files".into(),
        ));
    }
    let mut contents = BTreeMap::new();
    for name in FILES {
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
    if trail_csv(&events) != contents["trail.csv"] {
        return Err(fail(
            "trail.csv is not the trail of the bundle's events".into(),
        ));
    }
    if report_html(&events, &contents["checkpoint.txt"]) != contents["report.html"] {
        return Err(fail(
            "report.html is not the report of the bundle's events".into(),
        ));
    }
    Ok(BundleReport {
        events: events.len(),
        tree_size: checkpoint.size,
    })
}
