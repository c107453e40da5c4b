//! A proposal's trail in words: every event of its stream, in order, with
//! who did it, in which role, when and why.

use uuid::Uuid;

use super::words;
use crate::app::proposals::LoadedProposal;
use crate::domain::personal_data::{personal_fields, Protection};
use crate::domain::proposal::{ProposalEvent, Rule};
use crate::pages::format::{any_name, person_name, Formatter};
use crate::read::directory::Directory;

/// One event of the trail.
pub struct TrailRow {
    /// Its log position.
    pub position: u64,
    /// What happened, in words.
    pub what: String,
    /// Who did it.
    pub who: String,
    /// The role they acted in, in words.
    pub role: String,
    /// When.
    pub when: String,
    /// Why, where the command gave a reason.
    pub reason: Option<String>,
    /// The event's id (what a redaction names).
    pub event_id: String,
    /// Whether it holds free text not yet redacted (an admin may redact it).
    pub redactable: bool,
}

/// The free-text fields of `event` that may still be redacted, by the name
/// `redactText` takes, each once.
pub fn open_fields(
    event: &crate::store::RecordedEvent,
    redacted: &std::collections::BTreeSet<(Uuid, String)>,
) -> Vec<&'static str> {
    let mut fields: Vec<&'static str> = Vec::new();
    for field in personal_fields(&event.event_type) {
        let name = field.redaction_name();
        if field.protection == Protection::Contribution
            && !fields.contains(&name)
            && !redacted.contains(&(event.event_id, name.to_string()))
        {
            fields.push(name);
        }
    }
    fields
}

/// Every event of a loaded proposal, in words.
pub fn trail(loaded: &LoadedProposal, directory: &Directory, f: &Formatter) -> Vec<TrailRow> {
    let name = |id: Uuid| any_name(directory, id);
    let consent = loaded.projected.state.rule == Some(Rule::Consent);
    let redacted = &loaded.projected.state.redacted;
    loaded
        .events
        .iter()
        .zip(&loaded.metadata)
        .map(|(event, meta)| {
            let what = match crate::stored::decode::<ProposalEvent>(event) {
                Ok(Some(decoded)) => describe(&decoded, consent, &name, f),
                _ => event.event_type.clone(),
            };
            TrailRow {
                position: event.position,
                what,
                who: meta
                    .actor
                    .map(|p| person_name(directory, p))
                    .unwrap_or_else(|| "the operator".into()),
                role: meta
                    .role_name()
                    .map(|r| r.to_lowercase())
                    .unwrap_or_default(),
                when: f.time(event.recorded_at),
                reason: crate::stored::reason_of(event, meta),
                event_id: event.event_id.to_string(),
                redactable: !open_fields(event, redacted).is_empty(),
            }
        })
        .collect()
}

/// What an event did, in words.
fn describe(
    event: &ProposalEvent,
    consent: bool,
    name: &dyn Fn(Uuid) -> String,
    f: &Formatter,
) -> String {
    match event {
        ProposalEvent::ProposalRaised { .. } => "Raised the proposal".into(),
        ProposalEvent::AdviceRequested {
            adviser, reason, ..
        } => format!(
            "Asked {} for advice ({})",
            super::view::adviser(*adviser, name),
            words::reason(*reason).to_lowercase()
        ),
        ProposalEvent::AdviceDeadlineSet { deadline, .. } => {
            format!("Set the advice deadline to {}", f.time(*deadline))
        }
        ProposalEvent::AdviceGiven { stance, .. } => {
            format!("Gave advice ({})", words::stance(*stance).to_lowercase())
        }
        ProposalEvent::ObjectionRaised { .. } => "Objected".into(),
        ProposalEvent::ObjectionResolved { resolution, .. } => format!(
            "Resolved an objection ({})",
            words::resolution(*resolution).to_lowercase()
        ),
        ProposalEvent::ProposalAmended { version, .. } => {
            format!("Amended the proposal (version {version})")
        }
        ProposalEvent::VoteCast { agree: true, .. } if consent => "Said: no objection".into(),
        ProposalEvent::VoteCast { agree: true, .. } => "Voted: agrees".into(),
        ProposalEvent::VoteCast { agree: false, .. } => "Voted: disagrees".into(),
        ProposalEvent::ProposalDecided { outcome, .. } => {
            format!("Decided: {}", words::outcome(*outcome).to_lowercase())
        }
        ProposalEvent::DecisionSuperseded { .. } => "Superseded by a later decision".into(),
        ProposalEvent::ProposalWithdrawn { .. } => "Withdrew the proposal".into(),
        ProposalEvent::DecisionReviewed { outcome, .. } => {
            format!("Reviewed: {}", words::review(*outcome).to_lowercase())
        }
        ProposalEvent::TextRedacted { field, .. } => {
            format!("Redacted text (the {field} of an earlier entry)")
        }
    }
}
