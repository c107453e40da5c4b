//! Linking people to the identities their organisation's identity provider
//! knows them by, and marking leavers.
//!
//! An identity `(issuer, subject)` belongs to at most one person at a time:
//! the directory is asked before linking. Two admins linking the same
//! identity to two people at the same instant could both pass that check;
//! the directory then finds the one linked first, and an admin sees both
//! links on the people's pages and can unlink one.

use serde_json::json;

use super::{App, AppError, CommandMeta, Outcome, Plan};
use crate::domain::person::{self, PersonCommand};
use crate::domain::{validate, DomainError, PersonId};

/// The longest reason for a leaving accepted, in characters.
const MAX_REASON: usize = 2_000;

impl App {
    /// Links an identity at an identity provider to a person (admin).
    /// Refused (`INVALID_INPUT`) when the identity is linked to someone
    /// else, or (`INVALID_STATE`) when the person has left.
    pub async fn link_identity(
        &self,
        meta: &CommandMeta,
        person_id: PersonId,
        issuer: &str,
        subject: &str,
    ) -> Result<Outcome, AppError> {
        let input = json!({ "personId": person_id, "issuer": issuer, "subject": subject });
        self.execute(meta, "linkIdentity", &input, || async {
            let (state, version) = self.load(&person_id.stream(), person::evolve).await?;
            let command = PersonCommand::LinkIdentity {
                issuer: issuer.to_string(),
                subject: subject.to_string(),
            };
            let decided = person::decide(&state, command, &meta.caller)?;
            let (issuer, subject) = (validate::issuer(issuer)?, validate::subject(subject)?);
            let holder = self
                .read
                .directory()
                .person_by_identity(&issuer, &subject)
                .filter(|p| p.id != person_id)
                .map(|p| p.name.clone());
            if let Some(name) = holder {
                return Err(DomainError::InvalidInput(format!(
                    "{subject} at {issuer} is already linked to {name}; unlink it there first"
                ))
                .into());
            }
            Ok(Plan::default().write(person_id.stream(), version, decided))
        })
        .await
    }

    /// Unlinks an identity from a person (admin): that identity no longer
    /// signs them in; their tokens and sessions by token are untouched.
    pub async fn unlink_identity(
        &self,
        meta: &CommandMeta,
        person_id: PersonId,
        issuer: &str,
        subject: &str,
    ) -> Result<Outcome, AppError> {
        let input = json!({ "personId": person_id, "issuer": issuer, "subject": subject });
        self.execute(meta, "unlinkIdentity", &input, || async {
            let (state, version) = self.load(&person_id.stream(), person::evolve).await?;
            let command = PersonCommand::UnlinkIdentity {
                issuer: issuer.to_string(),
                subject: subject.to_string(),
            };
            let decided = person::decide(&state, command, &meta.caller)?;
            Ok(Plan::default().write(person_id.stream(), version, decided))
        })
        .await
    }

    /// Marks a person as left (admin), recording why: in one append every
    /// live token of theirs is revoked, every identity unlinked, and
    /// `PersonLeft` written, so nothing signs them in from that position on.
    pub async fn mark_person_left(
        &self,
        meta: &CommandMeta,
        person_id: PersonId,
        reason: &str,
    ) -> Result<Outcome, AppError> {
        let input = json!({ "personId": person_id, "reason": reason });
        let meta = meta.with_reason(reason);
        self.execute(&meta, "markPersonLeft", &input, || async {
            let (state, version) = self.load(&person_id.stream(), person::evolve).await?;
            let decided = person::decide(&state, PersonCommand::MarkLeft, &meta.caller)?;
            validate::text("the reason they left", reason, MAX_REASON)?;
            self.refuse_leaving_without_an_admin(person_id)?;
            Ok(Plan::default().write(person_id.stream(), version, decided))
        })
        .await
    }

    /// Refuses to mark the last admin still here as left: nobody could then
    /// register people, issue tokens or link identities.
    pub(super) fn refuse_leaving_without_an_admin(
        &self,
        person_id: PersonId,
    ) -> Result<(), AppError> {
        let directory = self.read.directory();
        let is_admin = |p: &crate::read::directory::PersonView| {
            p.org_role == Some(crate::domain::OrgRole::Admin) && !p.left()
        };
        let leaving_admin = directory.person(person_id).is_some_and(is_admin);
        let others = directory
            .people()
            .filter(|p| p.id != person_id)
            .any(is_admin);
        if leaving_admin && !others {
            return Err(DomainError::InvalidState(
                "they are the only admin still here; register another admin before marking them as left"
                    .into(),
            )
            .into());
        }
        Ok(())
    }
}
