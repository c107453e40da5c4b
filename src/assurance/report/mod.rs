//! The bundle's printable `report.html`, rendered from the bundle's events
//! alone, so `verify-bundle` renders it again and compares the bytes.
//!
//! A bundle's manifest names the layout its report was rendered in
//! (`report_layout`; bundles without it are of layout 1), and checking
//! re-renders that layout: a bundle exported before a new layout keeps
//! verifying byte for byte. Layout 1 ([`v1`]) is frozen. Layout 2, the one
//! exported now, is an auditor's record of each proposal, in the order
//! raised: its facts (owner, rule, who, when, spend and budget), the body as
//! raised and every amendment, who was asked and whether they answered,
//! advice, objections and their resolutions, votes with the count a
//! threshold needs, the decision with each view beside how it was weighed,
//! reviews, and the verdict as the domain's `compliance` judges it. Each
//! proposal's events are folded into its domain state by the domain's own
//! `evolve` ([`fold`]), and people, teams and groups are named from their
//! registrations in the bundle. Times are UTC, as `27 Nov 2026 17:15 UTC`;
//! money is in pounds.

mod fold;
mod records;
mod section;
#[cfg(test)]
mod tests;
mod v1;

use askama::Template;

use super::bundle::{render_error, Line};
use super::error::AssuranceError;
use section::{section, when, Section};

/// The layout new bundles' reports are rendered in.
pub(super) const LAYOUT: u32 = 2;

/// Renders the report of `events` under the checkpoint `note` in
/// `layout`; a layout this version does not know is an error.
pub(super) fn render(layout: u32, events: &[Line], note: &str) -> Result<String, AssuranceError> {
    match layout {
        1 => v1::render(events, note),
        2 => render_v2(events, note),
        other => Err(render_error("report.html")(format!(
            "the manifest names report layout {other}, which this version of advice-log \
             does not know (it knows 1 and 2)"
        ))),
    }
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
    /// The time of the bundle's last event (open proposals are judged then).
    as_of: String,
    /// A section per proposal, in the order raised.
    proposals: Vec<Section>,
}

/// Layout 2: the auditor's record of each proposal.
fn render_v2(events: &[Line], note: &str) -> Result<String, AssuranceError> {
    let fail = render_error("report.html");
    let bundle = fold::read(events).map_err(&fail)?;
    let as_of = bundle.as_of.unwrap_or_default();
    let report = Report {
        root_line: note.lines().take(3).collect::<Vec<_>>().join(" · "),
        events: events.len(),
        note,
        as_of: bundle.as_of.map(when).unwrap_or_default(),
        proposals: bundle
            .proposals
            .iter()
            .enumerate()
            .map(|(n, p)| section(n + 1, p, &bundle.directory, as_of))
            .collect(),
    };
    let mut out = report.render().map_err(|e| fail(e.to_string()))?;
    out.push('\n');
    Ok(out)
}
