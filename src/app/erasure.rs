//! Honouring erasure and rectification requests (UK GDPR): erasing a
//! person, correcting their name or e-mail, redacting one field of free
//! text. Each is one append: the event (who, when, why) and, in the same
//! transaction, the destruction of the key that sealed the data, so the
//! record and the erasure cannot part. Then what the server keeps in
//! memory and in its read models is read again from the log, where the data
//! now reads as erased. The log's bytes, and so every proof, never change.
//!
//! Logs written before erasures were one append may record an erasure whose
//! key was never destroyed (the server stopped in between): the next start
//! finishes it ([`App::finish_erasures`]).

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::json;
use uuid::Uuid;

use super::{App, AppError, CommandMeta, Outcome, Plan};
use crate::domain::person::{self, PersonCommand};
use crate::domain::personal_data::personal_fields;
use crate::domain::proposal::redaction::{decide_redaction, RedactionTarget};
use crate::domain::proposal::{ProposalId, ProposalState};
use crate::domain::{validate, DomainError, PersonId};
use crate::erasure::{field_keys_of, person_erasure, ErasureError, KeyLookup, Keyring};
use crate::store::{DestroyedKeys, KeyDestruction, StoreError};

/// The longest reason accepted, in characters.
const MAX_REASON: usize = 2_000;

/// How many events one scan of the log reads at a time.
const SCAN_PAGE: u32 = 2_048;

impl App {
    /// Erases a person's personal data (admin), recording why: their tokens
    /// are revoked and identities unlinked as for a leaver, `PersonErased`
    /// is appended, then their key is destroyed. Their name reads as
    /// "Erased person" everywhere from then on; with `include_contributions`
    /// the free text they wrote reads as erased too, else it stays.
    pub async fn erase_person(
        &self,
        meta: &CommandMeta,
        person_id: PersonId,
        reason: &str,
        include_contributions: bool,
    ) -> Result<Outcome, AppError> {
        let keyring = self.keyring_or_refuse()?;
        let input = json!({
            "personId": person_id,
            "reason": reason,
            "includeContributions": include_contributions,
        });
        let meta = meta.with_reason(reason);
        let at = self.clock.now();
        let outcome = self
            .execute(&meta, "erasePerson", &input, || async {
                let (state, version) = self.load(&person_id.stream(), person::evolve).await?;
                let command = PersonCommand::Erase {
                    include_contributions,
                };
                let decided = person::decide(&state, command, &meta.caller)?;
                validate::text("the reason for the erasure", reason, MAX_REASON)?;
                self.refuse_leaving_without_an_admin(person_id)?;
                let keep = !include_contributions;
                if keep {
                    // What they wrote is wrapped again under the operator's
                    // key first, so it outlives theirs.
                    keyring
                        .keep_contributions(person_id)
                        .await
                        .map_err(erasure_failed)?;
                }
                // Their key is destroyed in the append that records it.
                let plan = Plan::default().write(person_id.stream(), version, decided);
                Ok(person_erasure(person_id, reason, at, keep)
                    .into_iter()
                    .fold(plan, Plan::destroy_keys))
            })
            .await?;
        self.read
            .wait_for(outcome.position, super::execute::READ_YOUR_WRITES)
            .await;
        let touched = if include_contributions {
            self.proposals_written_by(person_id).await?
        } else {
            BTreeSet::new()
        };
        self.forget_erased(outcome.position, touched).await?;
        Ok(outcome)
    }

    /// Corrects a person's name or e-mail address (admin, rectification):
    /// a new event with both as they now are. The old values stay in the
    /// earlier event, sealed under the person's key, until they are erased.
    pub async fn correct_person(
        &self,
        meta: &CommandMeta,
        person_id: PersonId,
        name: Option<&str>,
        email: Option<&str>,
    ) -> Result<Outcome, AppError> {
        let input = json!({ "personId": person_id, "name": name, "email": email });
        self.execute(meta, "correctPerson", &input, || async {
            let (state, version) = self.load(&person_id.stream(), person::evolve).await?;
            let command = PersonCommand::CorrectDetails {
                name: name.map(str::to_owned),
                email: email.map(str::to_owned),
            };
            let decided = person::decide(&state, command, &meta.caller)?;
            if let Some(email) = email {
                if self.read.directory().email_taken(email, Some(person_id)) {
                    return Err(DomainError::InvalidState(format!(
                        "someone else is registered with {}",
                        email.trim()
                    ))
                    .into());
                }
            }
            Ok(Plan::default().write(person_id.stream(), version, decided))
        })
        .await
    }

    /// Redacts one free-text field of one of a proposal's events (admin):
    /// `TextRedacted` is appended to the proposal and the field's key is
    /// destroyed with it, so it reads as erased; nothing else changes.
    pub async fn redact_text(
        &self,
        meta: &CommandMeta,
        event_id: Uuid,
        field: &str,
        reason: &str,
    ) -> Result<Outcome, AppError> {
        self.keyring_or_refuse()?;
        let stored = self
            .log
            .read_event(event_id)
            .await?
            .ok_or_else(|| DomainError::NotFound(format!("no event {event_id}")))?;
        let proposal = ProposalId::from_stream(&stored.stream_id).ok_or_else(|| {
            DomainError::InvalidInput(format!(
                "event {event_id} is not a proposal's; only text in proposals can be redacted one field at a time (erase its author to erase the rest)"
            ))
        })?;
        let field = field.trim();
        let keys = field_keys_of(&stored.event_type, &stored.payload, field);
        let input = json!({ "eventId": event_id, "field": field, "reason": reason });
        let meta = meta.with_reason(reason);
        let at = self.clock.now();
        let target = RedactionTarget {
            event_id,
            event_type: stored.event_type.clone(),
            in_this_proposal: true,
        };
        let outcome = self
            .execute(&meta, "redactText", &input, || async {
                let (state, version) = self
                    .load_folded::<ProposalState>(
                        &proposal.stream(),
                        Arc::new(crate::stored::proposal_step),
                    )
                    .await?;
                let decided = decide_redaction(&state, &target, field, &meta.caller)?;
                validate::text("the reason for the redaction", reason, MAX_REASON)?;
                let has_text = personal_fields(&target.event_type)
                    .iter()
                    .any(|f| f.redaction_name() == field);
                if has_text && keys.is_empty() {
                    return Err(DomainError::InvalidState(format!(
                        "the {field} of event {event_id} was stored before personal data was sealed (or by the operator), so it cannot be erased; see README, \"Erasure\""
                    ))
                    .into());
                }
                // The field's keys are destroyed in the append that
                // records the redaction.
                let plan = Plan::default().write(proposal.stream(), version, decided);
                Ok(keys.iter().fold(plan, |plan, key_id| {
                    plan.destroy_keys(KeyDestruction {
                        keys: DestroyedKeys::Field(*key_id),
                        reason: reason.to_string(),
                        at,
                    })
                }))
            })
            .await?;
        self.forget_erased(outcome.position, BTreeSet::from([proposal]))
            .await?;
        Ok(outcome)
    }

    /// Finishes erasures and redactions the log records but whose keys are
    /// still there (the server stopped in between): run at start.
    pub async fn finish_erasures(&self) -> Result<(), AppError> {
        let Some(keyring) = self.keyring.clone() else {
            return Ok(());
        };
        let erased: Vec<(PersonId, bool)> = self
            .read
            .directory()
            .people()
            .filter(|p| p.erased_at.is_some())
            .map(|p| (p.id, p.contributions_erased))
            .filter(|(id, _)| !matches!(keyring.person_key(*id), KeyLookup::Erased))
            .collect();
        for (person, contributions_erased) in erased {
            tracing::warn!(%person, "finishing an erasure the log records: destroying their key");
            keyring
                .erase_person(
                    person,
                    "erased (finished at start)",
                    self.clock.now(),
                    !contributions_erased,
                )
                .await
                .map_err(erasure_failed)?;
        }
        Ok(())
    }

    fn keyring_or_refuse(&self) -> Result<Arc<Keyring>, AppError> {
        self.keyring.clone().ok_or_else(|| {
            DomainError::InvalidState(
                "this server was started without a data key, so it cannot erase personal data"
                    .into(),
            )
            .into()
        })
    }

    /// The proposals in which `person` wrote anything (as the actor of an
    /// event of theirs), from a scan of the log.
    async fn proposals_written_by(
        &self,
        person: PersonId,
    ) -> Result<BTreeSet<ProposalId>, AppError> {
        let mut found = BTreeSet::new();
        let mut after = 0;
        loop {
            let page = self.log.read_all(after, SCAN_PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.position;
            for event in &page {
                let Some(id) = ProposalId::from_stream(&event.stream_id) else {
                    continue;
                };
                if crate::stored::actor_of(event)? == Some(person) {
                    found.insert(id);
                }
            }
        }
        Ok(found)
    }

    /// After keys were destroyed: nothing kept in memory still holds what
    /// they sealed (the feed's recent events, folded aggregates), the
    /// directory's snapshot is written anew, and the read models of the
    /// proposals touched are projected again from the log.
    async fn forget_erased(
        &self,
        position: u64,
        proposals: BTreeSet<ProposalId>,
    ) -> Result<(), AppError> {
        self.feed.forget_recent();
        self.read.aggregates().clear();
        self.read
            .wait_for(position, super::execute::READ_YOUR_WRITES)
            .await;
        self.read.save_snapshot().await;
        self.projector
            .wait_for(position, super::execute::READ_YOUR_WRITES)
            .await;
        let ids: Vec<ProposalId> = proposals.into_iter().collect();
        self.projector.reproject(&ids).await?;
        Ok(())
    }
}

/// The key layer failed (keeping an erased person's contributions, or
/// finishing an earlier erasure at start); the caller hears it failed.
fn erasure_failed(error: ErasureError) -> AppError {
    match error {
        ErasureError::Store(store) => AppError::from(store),
        other => AppError::from(StoreError::Sealing(other.to_string())),
    }
}
