//! Which fields of which events hold personal data, and under whose key
//! each is kept: the one list the erasure layer (`crate::erasure`) seals on
//! writing and opens on reading, and `redactText` checks a field against.
//!
//! - **Identity**: a person's name and e-mail address, in their own
//!   stream's events, sealed under that person's key. Erasing the person
//!   destroys the key.
//! - **Contribution**: free text someone wrote (a proposal's body, advice,
//!   an objection's reason, notes, rationales, reasons), each value sealed
//!   under a key of its own that is wrapped by its author's key. Destroying
//!   the field key redacts that one field; erasing the author with their
//!   contributions destroys them all.
//!
//! Everything else (ids, stances, votes, outcomes, dates, titles, team and
//! group names) is the record's structure and stays readable, so a
//! decision's verdict can still be checked after an erasure.

/// How a field's value is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protection {
    /// Sealed under the key of the person whose stream it is.
    Identity,
    /// Sealed under a key of its own, wrapped by its author's key.
    Contribution,
}

/// One field holding personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersonalField {
    /// The payload field's name as stored (e.g. `reason`); inside each
    /// element of the array `within` when that is set.
    pub name: &'static str,
    /// The array field whose elements hold it (`notes` of a decision).
    pub within: Option<&'static str>,
    /// How it is protected.
    pub protection: Protection,
}

impl PersonalField {
    /// The name `redactText` takes for it: `name`, or `within` for a field
    /// of an array's elements (all of them are redacted together).
    pub fn redaction_name(&self) -> &'static str {
        self.within.unwrap_or(self.name)
    }
}

const fn identity(name: &'static str) -> PersonalField {
    PersonalField {
        name,
        within: None,
        protection: Protection::Identity,
    }
}

const fn text(name: &'static str) -> PersonalField {
    PersonalField {
        name,
        within: None,
        protection: Protection::Contribution,
    }
}

const fn text_within(within: &'static str, name: &'static str) -> PersonalField {
    PersonalField {
        name,
        within: Some(within),
        protection: Protection::Contribution,
    }
}

/// The fields of an event type that hold personal data (none for most).
pub fn personal_fields(event_type: &str) -> &'static [PersonalField] {
    const NAME_AND_EMAIL: &[PersonalField] = &[identity("name"), identity("email")];
    const BODY: &[PersonalField] = &[text("body")];
    const REASON: &[PersonalField] = &[text("reason")];
    const TEXT: &[PersonalField] = &[text("text")];
    const NOTE: &[PersonalField] = &[text("note")];
    const AMENDED: &[PersonalField] = &[text("body"), text("reason")];
    const DECIDED: &[PersonalField] = &[text("rationale"), text_within("notes", "note")];
    match event_type {
        "PersonRegistered" | "PersonDetailsCorrected" => NAME_AND_EMAIL,
        "ProposalRaised" => BODY,
        "AdviceDeadlineSet" | "ObjectionRaised" | "ProposalWithdrawn" | "BudgetAllocated" => REASON,
        "AdviceGiven" => TEXT,
        "ObjectionResolved" | "DecisionReviewed" => NOTE,
        "ProposalAmended" => AMENDED,
        "ProposalDecided" => DECIDED,
        _ => &[],
    }
}

/// The payload field that says why an event was recorded, for the event
/// types whose reason is free text of the event itself (an objection's
/// reason, a rationale, a note). Such a reason is not copied into the
/// event's metadata, which is never sealed, so erasing the text erases it.
pub fn reason_field(event_type: &str) -> Option<&'static str> {
    match event_type {
        "AdviceDeadlineSet" | "ObjectionRaised" | "ProposalAmended" | "ProposalWithdrawn"
        | "BudgetAllocated" => Some("reason"),
        "ObjectionResolved" | "DecisionReviewed" => Some("note"),
        "ProposalDecided" => Some("rationale"),
        _ => None,
    }
}

/// The free-text fields of `event_type` that `redactText` can redact, by
/// the name it takes.
pub fn redactable(event_type: &str, field: &str) -> bool {
    personal_fields(event_type)
        .iter()
        .any(|f| f.protection == Protection::Contribution && f.redaction_name() == field)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::events::DomainEvent;
    use crate::domain::person::PersonEvent;
    use crate::domain::proposal::ProposalEvent;

    #[test]
    fn every_listed_event_type_exists() {
        let known = |t: &str| {
            PersonEvent::handles(t)
                || ProposalEvent::handles(t)
                || crate::domain::budget::BudgetEvent::handles(t)
        };
        for event_type in [
            "PersonRegistered",
            "PersonDetailsCorrected",
            "ProposalRaised",
            "AdviceDeadlineSet",
            "ObjectionRaised",
            "ProposalWithdrawn",
            "BudgetAllocated",
            "AdviceGiven",
            "ObjectionResolved",
            "DecisionReviewed",
            "ProposalAmended",
            "ProposalDecided",
        ] {
            assert!(known(event_type), "{event_type}");
            assert!(!personal_fields(event_type).is_empty(), "{event_type}");
        }
    }

    #[test]
    fn names_are_identity_and_free_text_is_a_contribution_redacted_by_its_stored_name() {
        assert!(personal_fields("PersonRegistered")
            .iter()
            .all(|f| f.protection == Protection::Identity));
        assert!(redactable("ObjectionRaised", "reason"));
        assert!(redactable("ProposalDecided", "notes"));
        assert!(redactable("ProposalDecided", "rationale"));
        assert!(!redactable("ProposalDecided", "note"));
        assert!(!redactable("PersonRegistered", "name"), "erase the person");
        assert!(!redactable("ProposalRaised", "title"), "structure");
        assert!(personal_fields("VoteCast").is_empty());
    }

    #[test]
    fn every_reason_read_from_an_event_is_one_of_its_sealed_fields() {
        for event_type in [
            "AdviceDeadlineSet",
            "ObjectionRaised",
            "ProposalAmended",
            "ProposalWithdrawn",
            "BudgetAllocated",
            "ObjectionResolved",
            "DecisionReviewed",
            "ProposalDecided",
        ] {
            let field = reason_field(event_type).expect(event_type);
            assert!(
                personal_fields(event_type)
                    .iter()
                    .any(|f| f.name == field && f.within.is_none()),
                "{event_type}.{field}"
            );
        }
        assert_eq!(reason_field("PersonLeft"), None);
    }
}
