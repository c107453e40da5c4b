//! The rows of a proposal's page: each part of the proposal as the page
//! shows it, in names and words.

use super::words::DiffLine;

/// A link to another proposal.
pub struct Link {
    /// Its title.
    pub title: String,
    /// Its page.
    pub href: String,
}

/// One earlier version of the body and what the next one changed.
pub struct VersionRow {
    /// The version this amendment made.
    pub version: u32,
    /// Why it was amended.
    pub reason: String,
    /// When.
    pub when: String,
    /// The text before this amendment.
    pub before: String,
    /// What changed, line by line.
    pub diff: Vec<DiffLine>,
}

/// One person or team asked for advice.
pub struct AdviserRow {
    /// Their name ("the team ..." for a team).
    pub who: String,
    /// Why they were asked.
    pub reason: &'static str,
    /// When they were asked.
    pub asked: String,
    /// Their time to answer, if any.
    pub due: Option<String>,
    /// Whether they answered.
    pub answered: bool,
}

/// One piece of advice, with the decision's note on it.
pub struct AdviceRow {
    /// Who gave it.
    pub by: String,
    /// The stance in words.
    pub stance: &'static str,
    /// The tag's colour class.
    pub tag: &'static str,
    /// What they said.
    pub text: String,
    /// When.
    pub when: String,
}

/// One objection, its state and resolution.
pub struct ObjectionRow {
    /// Who raised it.
    pub by: String,
    /// The harm it claims.
    pub reason: String,
    /// When.
    pub when: String,
    /// "Open" or how it was resolved.
    pub state: &'static str,
    /// The resolution's note, if resolved.
    pub note: Option<String>,
    /// Who resolved it, if resolved.
    pub resolved_by: Option<String>,
    /// For a ruling: the test it failed, in words.
    pub validity_test: Option<&'static str>,
}

/// One member's latest vote.
pub struct VoteRow {
    /// Who.
    pub by: String,
    /// "Agrees", "Disagrees" or "No objection".
    pub vote: &'static str,
    /// When.
    pub when: String,
}

/// A view the decision weighed, with its note.
pub struct WeighedRow {
    /// "the concern of Grace Hill".
    pub view: String,
    /// What they said.
    pub said: String,
    /// How it was weighed.
    pub note: String,
}

/// The decision.
pub struct DecisionView {
    /// Adopted or rejected.
    pub outcome: &'static str,
    /// Why.
    pub rationale: String,
    /// Who recorded it.
    pub by: String,
    /// When.
    pub when: String,
    /// For a threshold: the votes counted and needed.
    pub votes: Option<String>,
    /// Advisers who never answered.
    pub missing: Vec<String>,
    /// Each view weighed, with its note.
    pub weighed: Vec<WeighedRow>,
}

/// One review of the decision.
pub struct ReviewRow {
    /// Kept, or what an older review decided.
    pub outcome: &'static str,
    /// What it found.
    pub note: String,
    /// Who reviewed.
    pub by: String,
    /// When.
    pub when: String,
    /// When it is next due.
    pub next: Option<String>,
}

/// One verdict check.
pub struct CheckRow {
    /// Its name in words.
    pub name: &'static str,
    /// Whether it passed.
    pub passed: bool,
    /// What was found.
    pub detail: String,
}
