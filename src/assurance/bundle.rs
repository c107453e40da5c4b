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
use std::path::Path;

use askama::Template;
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
        ("trail.csv", trail_csv(&parsed)?),
        ("report.html", report_html(&parsed, &checkpoint.note)?),
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

fn render_error(file: &'static str) -> impl Fn(String) -> AssuranceError {
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
        out.write_record([
            e.position().to_string(),
            e.str("/recorded_at"),
            e.str("/stream_id"),
            e.str("/event_type"),
            actor,
            actor_name,
            e.str("/metadata/role"),
            e.str("/metadata/reason"),
        ])
        .map_err(|e| fail(e.to_string()))?;
    }
    let bytes = out.into_inner().map_err(|e| fail(e.error().to_string()))?;
    String::from_utf8(bytes).map_err(|e| fail(e.to_string()))
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

/// The report page (`templates/bundle/report.html`). Every value is plain
/// text: the template escapes it.
#[derive(Template)]
#[template(path = "bundle/report.html", escape = "report")]
struct Report<'a> {
    /// The checkpoint's first three lines, for the footer of every page.
    root_line: String,
    /// How many events the bundle holds.
    events: usize,
    /// The signed checkpoint note.
    note: &'a str,
    /// A section per proposal, in stream id order.
    proposals: Vec<ProposalSection>,
}

/// One proposal's section of the report.
struct ProposalSection {
    title: String,
    stream: String,
    rule: String,
    proposer: String,
    asked: Vec<Asked>,
    advice: Vec<Said>,
    objections: Vec<ObjectionRow>,
    amendments: Vec<AmendmentItem>,
    decision: Option<DecisionSection>,
    reviews: Vec<ReviewItem>,
}

/// A row of "Who was asked".
struct Asked {
    adviser: String,
    reason: String,
    at: String,
}

/// A row of "What they said".
struct Said {
    by: String,
    stance: String,
    text: String,
    id: String,
}

/// A row of "Objections".
struct ObjectionRow {
    by: String,
    reason: String,
    resolution: String,
    id: String,
}

/// An item of "Amendments".
struct AmendmentItem {
    body: String,
    reason: String,
}

/// The decision, with its weighing notes.
struct DecisionSection {
    outcome: String,
    by: String,
    at: String,
    rationale: String,
    notes: Vec<NoteItem>,
}

/// A weighing note of the decision.
struct NoteItem {
    ref_id: String,
    note: String,
}

/// A review of the decision.
struct ReviewItem {
    outcome: String,
    by: String,
    note: String,
}

/// One proposal's section, from its events.
fn proposal_section(
    stream: &str,
    lines: &[&Line],
    who: &dyn Fn(&str) -> String,
) -> ProposalSection {
    let of_type = |event_type: &'static str| {
        lines
            .iter()
            .copied()
            .filter(move |e| e.str("/event_type") == event_type)
    };
    let raised = of_type("ProposalRaised").next();
    let asked = of_type("AdviceRequested")
        .map(|e| Asked {
            adviser: if e.doc.pointer("/payload/adviser/person").is_some() {
                who(&e.str("/payload/adviser/person"))
            } else {
                format!("team {}", e.str("/payload/adviser/team"))
            },
            reason: e.str("/payload/reason"),
            at: e.str("/recorded_at"),
        })
        .collect();
    let advice = of_type("AdviceGiven")
        .map(|e| Said {
            by: who(&e.str("/payload/by")),
            stance: e.str("/payload/stance"),
            text: e.str("/payload/text"),
            id: e.str("/payload/advice_id"),
        })
        .collect();
    let objections = of_type("ObjectionRaised")
        .map(|e| {
            let id = e.str("/payload/objection_id");
            let resolution = of_type("ObjectionResolved")
                .find(|r| r.str("/payload/objection_id") == id)
                .map(|r| {
                    format!(
                        "{}: {} {}",
                        r.str("/payload/resolution"),
                        r.str("/payload/note"),
                        r.str("/payload/validity_test")
                    )
                })
                .unwrap_or_else(|| "OPEN".into());
            ObjectionRow {
                by: who(&e.str("/payload/by")),
                reason: e.str("/payload/reason"),
                resolution,
                id,
            }
        })
        .collect();
    let amendments = of_type("ProposalAmended")
        .map(|e| AmendmentItem {
            body: e.str("/payload/body"),
            reason: e.str("/payload/reason"),
        })
        .collect();
    let decision = of_type("ProposalDecided").next().map(|d| DecisionSection {
        outcome: d.str("/payload/outcome"),
        by: who(&d.str("/metadata/actor")),
        at: d.str("/recorded_at"),
        rationale: d.str("/payload/rationale"),
        notes: d
            .doc
            .pointer("/payload/notes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|n| NoteItem {
                ref_id: n["ref_id"].as_str().unwrap_or_default().to_string(),
                note: n["note"].as_str().unwrap_or_default().to_string(),
            })
            .collect(),
    });
    let reviews = of_type("DecisionReviewed")
        .map(|e| ReviewItem {
            outcome: e.str("/payload/outcome"),
            by: who(&e.str("/metadata/actor")),
            note: e.str("/payload/note"),
        })
        .collect();
    ProposalSection {
        title: raised
            .map(|e| e.str("/payload/title"))
            .unwrap_or_else(|| stream.to_string()),
        stream: stream.to_string(),
        rule: raised.map(|e| e.str("/payload/rule")).unwrap_or_default(),
        proposer: who(&raised
            .map(|e| e.str("/payload/proposer"))
            .unwrap_or_default()),
        asked,
        advice,
        objections,
        amendments,
        decision,
        reviews,
    }
}

/// A printable report: for each proposal, who was asked, what they said,
/// the objections and how each was resolved, and the decision; with the
/// checkpoint's root on every printed page.
fn report_html(events: &[Line], note: &str) -> Result<String, AssuranceError> {
    let names = names(events);
    let who = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let mut by_proposal: BTreeMap<String, Vec<&Line>> = BTreeMap::new();
    for e in events
        .iter()
        .filter(|e| e.str("/stream_id").starts_with("proposal-"))
    {
        by_proposal.entry(e.str("/stream_id")).or_default().push(e);
    }
    let report = Report {
        root_line: note.lines().take(3).collect::<Vec<_>>().join(" · "),
        events: events.len(),
        note,
        proposals: by_proposal
            .iter()
            .map(|(stream, lines)| proposal_section(stream, lines, &who))
            .collect(),
    };
    let mut out = report
        .render()
        .map_err(|e| render_error("report.html")(e.to_string()))?;
    out.push('\n');
    Ok(out)
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
    if trail_csv(&events)? != contents["trail.csv"] {
        return Err(fail(
            "trail.csv is not the trail of the bundle's events".into(),
        ));
    }
    if report_html(&events, &contents["checkpoint.txt"])? != contents["report.html"] {
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
mod tests {
    use super::*;
    use serde_json::json;

    const PROPOSER: &str = "00000000-0000-0000-0000-000000000001";
    const ADVISER: &str = "00000000-0000-0000-0000-000000000002";

    fn line(doc: Value) -> Line {
        Line {
            bytes: serde_json::to_vec(&doc).expect("json"),
            doc,
        }
    }

    /// A person, and a proposal taken through every step the report shows,
    /// with `text` in each free-text field.
    fn events(text: &str) -> Vec<Line> {
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

    const NOTE: &str = "advice-log\n11\nroot\n\n— advice-log sig\n";

    const HOSTILE: &str = "<script>alert(\"x\")</script>, 'quoted' & \"double\"\nsecond line";

    #[test]
    fn hostile_text_is_escaped_in_the_report() {
        let html = report_html(&events(HOSTILE), NOTE).expect("html");
        assert!(!html.contains("<script>"), "{html}");
        // The named entities reports have always used (see report_escape).
        let escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;, \
                       'quoted' &amp; &quot;double&quot;\nsecond line";
        assert!(html.contains(&format!("<h2>{escaped}</h2>")), "{html}");
        assert!(
            html.contains(&format!("raised by {escaped}</p>")),
            "the proposer's name"
        );
        // The title; the proposer's name wherever they act (raised by, an
        // objection, the decision, the review); the advice; both objections
        // and a resolution; the amendment's body and reason; the rationale,
        // the weighing note and the review's note.
        assert_eq!(html.matches(escaped).count(), 14, "{html}");
    }

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

    #[test]
    fn an_undecided_proposal_says_so() {
        let events: Vec<Line> = events("x").into_iter().take(4).collect();
        let html = report_html(&events, NOTE).expect("html");
        assert!(
            html.contains("<h3>Decision</h3>\n<p>Not decided.</p>\n</body></html>\n"),
            "{html}"
        );
    }
}
