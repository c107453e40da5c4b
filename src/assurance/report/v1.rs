//! The report of layout 1, as bundles exported before layout 2 hold it:
//! proposals in stream id order, teams by id, no votes, spend or verdict.
//! Kept byte for byte (template and code) so that `verify-bundle` still
//! re-renders those bundles' `report.html` exactly. Do not change it; a
//! new report is a new layout (see [`super`]).

use std::collections::BTreeMap;

use askama::Template;
use serde_json::Value;

use crate::assurance::bundle::{names, render_error, Line};
use crate::assurance::error::AssuranceError;

/// The report page of layout 1 (`templates/bundle/report-v1.html`). Every
/// value is plain text: the template escapes it.
#[derive(Template)]
#[template(path = "bundle/report-v1.html", escape = "report")]
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
pub(in crate::assurance) fn render(events: &[Line], note: &str) -> Result<String, AssuranceError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assurance::bundle::tests::{events, HOSTILE, NOTE};

    #[test]
    fn hostile_text_is_escaped_in_the_report() {
        let html = render(&events(HOSTILE), NOTE).expect("html");
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
    fn an_undecided_proposal_says_so() {
        let events: Vec<Line> = events("x").into_iter().take(4).collect();
        let html = render(&events, NOTE).expect("html");
        assert!(
            html.contains("<h3>Decision</h3>\n<p>Not decided.</p>\n</body></html>\n"),
            "{html}"
        );
    }
}
