//! The proposal pages' words: the rule, stances, states and checks as a care
//! worker reads them, messages without ids or API names, and what changed
//! between two versions of a body.

use chrono::NaiveDateTime;

use crate::domain::proposal::{
    required_votes, AdviceReason, CheckName, Outcome, ProposalState, Resolution, ReviewOutcome,
    Rule, Stance, ValidityTest,
};
use crate::pages::format::Formatter;

/// The rule in words, with the threshold as a percentage and the votes it
/// needs: "Threshold: 50% of the 4 eligible members must agree (2 votes)".
pub fn rule(state: &ProposalState) -> String {
    let eligible = state.eligible.len();
    match state.rule {
        Some(Rule::Advice) => {
            "Advice: the decider decides once advice is heard; advice never vetoes".into()
        }
        Some(Rule::Consent) => {
            "Consent: adopted only when no objection is open and everyone could object".into()
        }
        Some(Rule::Threshold) => {
            let bp = state.threshold_bp.unwrap_or(10_000);
            let needed = required_votes(bp, eligible);
            format!(
                "Threshold: {} of the {eligible} eligible member{} must agree ({needed} vote{})",
                percent(bp),
                if eligible == 1 { "" } else { "s" },
                if needed == 1 { "" } else { "s" }
            )
        }
        None => String::new(),
    }
}

/// A share in basis points as a percentage: 5000 is "50%", 3333 "33.33%".
pub fn percent(bp: u32) -> String {
    if bp % 100 == 0 {
        format!("{}%", bp / 100)
    } else {
        let text = format!("{:.2}", f64::from(bp) / 100.0);
        format!("{}%", text.trim_end_matches('0').trim_end_matches('.'))
    }
}

/// A stance in words.
pub fn stance(stance: Stance) -> &'static str {
    match stance {
        Stance::Support => "Support",
        Stance::Concern => "Concern",
        Stance::Object => "Object",
    }
}

/// A stance as the kind of view a decision weighs.
pub fn view_kind(stance: Stance) -> &'static str {
    match stance {
        Stance::Support => "support",
        Stance::Concern => "concern",
        Stance::Object => "objecting advice",
    }
}

/// Why someone was asked, in words.
pub fn reason(reason: AdviceReason) -> &'static str {
    match reason {
        AdviceReason::Affected => "Affected",
        AdviceReason::Expert => "Expert",
    }
}

/// How an objection was resolved, in words.
pub fn resolution(resolution: Resolution) -> &'static str {
    match resolution {
        Resolution::Integrated => "Integrated",
        Resolution::Withdrawn => "Withdrawn",
        Resolution::RuledInvalid => "Ruled invalid",
    }
}

/// Every validity test with its words, in the order a form offers them.
pub const VALIDITY_TESTS: [(ValidityTest, &str, &str); 4] = [
    (
        ValidityTest::NoHarmShown,
        "NO_HARM_SHOWN",
        "It names no harm, only a preference",
    ),
    (
        ValidityTest::NotCausedByProposal,
        "NOT_CAUSED_BY_PROPOSAL",
        "The harm would not be caused by this proposal",
    ),
    (
        ValidityTest::NotAboutProposal,
        "NOT_ABOUT_PROPOSAL",
        "It is not about this proposal",
    ),
    (
        ValidityTest::SafeToTry,
        "SAFE_TO_TRY",
        "The proposal is safe enough to try and will be reviewed",
    ),
];

/// A validity test in words.
pub fn validity_test(test: ValidityTest) -> &'static str {
    VALIDITY_TESTS
        .iter()
        .find(|(t, _, _)| *t == test)
        .map(|(_, _, words)| *words)
        .unwrap_or_default()
}

/// An outcome in words.
pub fn outcome(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Adopted => "Adopted",
        Outcome::Rejected => "Rejected",
    }
}

/// A review's outcome in words.
pub fn review(outcome: ReviewOutcome) -> &'static str {
    match outcome {
        ReviewOutcome::Keep => "Kept",
        ReviewOutcome::Amend => "To be amended",
        ReviewOutcome::Revoke => "Revoked",
    }
}

/// A verdict check's name in words.
pub fn check(name: CheckName) -> &'static str {
    match name {
        CheckName::AdviceSought => "Advice was sought",
        CheckName::AdvisersHeard => "Everyone asked was heard",
        CheckName::FairWindow => "Everyone asked had a fair time to answer",
        CheckName::ViewsWeighed => "Every concern and objection was weighed",
        CheckName::ObjectionWindow => "Everyone could object",
        CheckName::ObjectionsResolved => "No objection is open",
        CheckName::ThresholdMet => "Enough members agree",
        CheckName::WithinMandate => "Within the group's mandate",
        CheckName::WithinBudget => "Within the group's budget",
    }
}

/// The API's words in a message, as the pages name the same things.
const PLAIN: [(&str, &str); 7] = [
    (
        "setAdviceDeadline",
        "\u{201c}Move the advice deadline\u{201d}",
    ),
    ("raiseObjection", "\u{201c}Object\u{201d}"),
    ("respondBy", "their own time to answer"),
    ("nextReviewBy", "the next review date"),
    ("(agree: true)", ""),
    ("agree: true", "\u{201c}no objection\u{201d}"),
    ("THRESHOLD rule", "threshold rule"),
];

/// A domain message in plain words: no ids in brackets, the pages' names for
/// what the API calls by field and mutation names, and a capital first.
pub fn plain(message: &str) -> String {
    let mut text = strip_ids(message);
    for (api, words) in PLAIN {
        text = text.replace(api, words);
    }
    let text = text.replace("  ", " ");
    let mut chars = text.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A message as a sentence: in plain words, its times in the organisation's
/// zone, ending with a full stop.
pub fn sentence(message: &str, f: &Formatter) -> String {
    let text = local_times(&plain(message), f);
    match text.chars().last() {
        Some('.' | '!' | '?') | None => text,
        Some(_) => format!("{text}."),
    }
}

/// The text with each time the domain writes in UTC ("5 Dec 2026 18:21
/// UTC") shown in the organisation's zone, as every other time is.
pub fn local_times(text: &str, f: &Formatter) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(" UTC") {
        let (before, after) = rest.split_at(at);
        let parsed = [17, 16].into_iter().find_map(|len| {
            let start = before.len().checked_sub(len)?;
            let candidate = before.get(start..)?;
            let time = NaiveDateTime::parse_from_str(candidate.trim(), "%d %b %Y %H:%M").ok()?;
            Some((start, time.and_utc()))
        });
        match parsed {
            Some((start, time)) => {
                out.push_str(&before[..start]);
                if before[start..].starts_with(' ') {
                    out.push(' ');
                }
                out.push_str(&f.time(time));
            }
            None => {
                out.push_str(before);
                out.push_str(" UTC");
            }
        }
        rest = &after[4..];
    }
    out.push_str(rest);
    out
}

/// The text without ids: " (<uuid>)" and "someone (<uuid>)" become nothing
/// and "someone", and a bare uuid "one of them".
fn strip_ids(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix(" (") {
            if let Some(tail) = uuid_prefix(after).and_then(|t| t.strip_prefix(')')) {
                rest = tail;
                continue;
            }
        }
        if let Some(tail) = uuid_prefix(rest) {
            out.push_str("one of them");
            rest = tail;
            continue;
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out
}

/// The rest of `text` after a uuid at its start, if it starts with one.
fn uuid_prefix(text: &str) -> Option<&str> {
    let candidate = text.get(..36)?;
    uuid::Uuid::parse_str(candidate).ok()?;
    text.get(36..)
}

/// One line of a diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    /// "added", "removed" or "same".
    pub kind: &'static str,
    /// The line.
    pub text: String,
}

/// The most line pairs compared before a diff shows the whole text replaced.
const DIFF_CELLS: usize = 1_000_000;

/// What changed from `before` to `after`, line by line (longest common
/// subsequence).
pub fn diff(before: &str, after: &str) -> Vec<DiffLine> {
    let old: Vec<&str> = before.lines().collect();
    let new: Vec<&str> = after.lines().collect();
    let line = |kind, text: &str| DiffLine {
        kind,
        text: text.to_string(),
    };
    if old.len().saturating_mul(new.len()) > DIFF_CELLS {
        return old
            .iter()
            .map(|l| line("removed", l))
            .chain(new.iter().map(|l| line("added", l)))
            .collect();
    }
    // common[i][j]: the longest common subsequence of old[i..] and new[j..].
    let mut common = vec![vec![0usize; new.len() + 1]; old.len() + 1];
    for i in (0..old.len()).rev() {
        for j in (0..new.len()).rev() {
            common[i][j] = if old[i] == new[j] {
                common[i + 1][j + 1] + 1
            } else {
                common[i + 1][j].max(common[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut lines = Vec::new();
    while i < old.len() || j < new.len() {
        if i < old.len() && j < new.len() && old[i] == new[j] {
            lines.push(line("same", old[i]));
            i += 1;
            j += 1;
        } else if i < old.len() && (j == new.len() || common[i + 1][j] >= common[i][j + 1]) {
            lines.push(line("removed", old[i]));
            i += 1;
        } else {
            lines.push(line("added", new[j]));
            j += 1;
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_read_as_percentages() {
        assert_eq!(percent(5000), "50%");
        assert_eq!(percent(3333), "33.33%");
        assert_eq!(percent(6650), "66.5%");
    }

    #[test]
    fn messages_lose_their_ids_and_api_names() {
        let id = "0b6f1c2e-8f7a-4c39-9a51-3f2d1e0c9b8a";
        assert_eq!(
            plain(&format!("no note for the concern of Grace Hill ({id})")),
            "No note for the concern of Grace Hill"
        );
        assert_eq!(
            plain("move it later with setAdviceDeadline before asking anyone else"),
            "Move it later with \u{201c}Move the advice deadline\u{201d} before asking anyone else"
        );
        assert_eq!(
            plain(&format!("no objection {id}")),
            "No objection one of them"
        );
    }

    #[test]
    fn utc_times_read_in_the_organisation_zone() {
        use chrono::TimeZone;
        let now = chrono::Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
        let f = Formatter::new(chrono_tz::Europe::London, now);
        assert_eq!(
            local_times("waiting for Ann (until 15 Jun 2026 16:00 UTC) and Bob (until 5 Jun 2026 09:30 UTC)", &f),
            "waiting for Ann (until Mon 15 Jun 2026, 17:00) and Bob (until Fri 5 Jun 2026, 10:30)"
        );
        assert_eq!(local_times("all UTC here", &f), "all UTC here");
    }

    #[test]
    fn a_diff_shows_lines_removed_and_added() {
        let lines = diff("one\ntwo\nthree", "one\n2\nthree\nfour");
        let shown: Vec<(&str, &str)> = lines.iter().map(|l| (l.kind, l.text.as_str())).collect();
        assert_eq!(
            shown,
            vec![
                ("same", "one"),
                ("removed", "two"),
                ("added", "2"),
                ("same", "three"),
                ("added", "four"),
            ]
        );
    }
}
