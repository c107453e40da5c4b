//! The admin page's identities and leavers: link a person to the identity
//! their organisation's identity provider knows them by, unlink one, and
//! mark someone as left (which revokes their tokens, unlinks their
//! identities and ends their sessions at once).

use axum::extract::State;
use axum::response::Response;
use uuid::Uuid;

use super::{beside, command, done, refused, require_admin, AdminForm};
use crate::app::AppError;
use crate::domain::{validate, DomainError, PersonId};
use crate::pages::error::PageError;
use crate::pages::format::Formatter;
use crate::pages::session::{CsrfForm, SignedIn};
use crate::pages::{FormErrors, PagesState, SelectOption};
use crate::read::directory::PersonView;

/// One linked identity, with its unlink form's fields.
pub struct IdentityRow {
    /// Whose it is.
    pub person: String,
    /// Their id.
    pub person_id: String,
    /// The provider's issuer.
    pub issuer: String,
    /// The subject there.
    pub subject: String,
    /// The unlink form's command id.
    pub command: String,
}

/// The identities and leavers part of one rendering of the admin page.
pub struct IdentitiesPart {
    /// Every linked identity, by person.
    pub rows: Vec<IdentityRow>,
    /// The people who may be linked or marked as left (those who have not
    /// left), for the link form.
    pub link_options: Vec<SelectOption>,
    /// The same, for the leaving form.
    pub left_options: Vec<SelectOption>,
    /// The link form's command id.
    pub link_command: String,
    /// The leaving form's command id.
    pub left_command: String,
}

impl IdentitiesPart {
    /// The part for `people` (by name) in the rendering `page_id`.
    pub fn build(people: &[&PersonView], form: &AdminForm, page_id: Uuid) -> Self {
        let command = |what: &str| Uuid::new_v5(&page_id, what.as_bytes()).to_string();
        let rows = people
            .iter()
            .flat_map(|p| {
                p.identities.iter().map(|i| IdentityRow {
                    person: p.name.clone(),
                    person_id: p.id.0.to_string(),
                    issuer: i.issuer.clone(),
                    subject: i.subject.clone(),
                    command: command(&format!("unlink/{}/{}/{}", p.id.0, i.issuer, i.subject)),
                })
            })
            .collect();
        let options = |chosen: &str| {
            let mut all = vec![SelectOption::new("", "Choose a person", chosen)];
            all.extend(people.iter().filter(|p| !p.left()).map(|p| {
                SelectOption::new(
                    p.id.0.to_string(),
                    format!("{} ({})", p.name, p.email),
                    chosen,
                )
            }));
            all
        };
        IdentitiesPart {
            rows,
            link_options: options(&form.link_person),
            left_options: options(&form.left_person),
            link_command: command("link"),
            left_command: command("left"),
        }
    }
}

/// How a person stands, for the people table: in use, when they left, or
/// when their personal data was erased.
pub fn standing(person: &PersonView, f: &Formatter) -> String {
    match (person.erased_at, person.left_at) {
        (Some(at), _) => format!("Erased on {}", f.time(at)),
        (None, Some(at)) => format!("Left on {}", f.time(at)),
        (None, None) => "Active".into(),
    }
}

fn person_of(text: &str) -> Option<PersonId> {
    super::form::id(text).map(PersonId)
}

/// `POST /admin/identities`: links an identity to a person.
pub async fn link(
    State(state): State<PagesState>,
    SignedIn { actor, session }: SignedIn,
    CsrfForm(form): CsrfForm<AdminForm>,
) -> Result<Response, PageError> {
    require_admin(&actor)?;
    let mut errors = FormErrors::default();
    let person = person_of(&form.link_person);
    if person.is_none() {
        errors.add("link-person", "Choose whose identity it is.");
    }
    if form.link_issuer.trim().is_empty() {
        errors.add(
            "link-issuer",
            "Enter the identity provider's issuer, like https://login.microsoftonline.com/your-tenant/v2.0.",
        );
    } else if let Err(error) = validate::issuer(&form.link_issuer) {
        errors.add("link-issuer", error.to_string());
    }
    if form.link_subject.trim().is_empty() {
        errors.add(
            "link-subject",
            "Enter the subject the identity provider knows them by.",
        );
    } else if let Err(error) = validate::subject(&form.link_subject) {
        errors.add("link-subject", error.to_string());
    }
    if let (Some(person), true) = (person, errors.is_empty()) {
        let meta = command(&actor, &form);
        let linked = state
            .app
            .link_identity(&meta, person, &form.link_issuer, &form.link_subject)
            .await;
        match linked {
            Ok(_) => return Ok(done("identity-linked", "identities")),
            // With the fields checked above, the one input refused here is
            // an identity already linked to someone else.
            Err(error @ AppError::Domain(DomainError::InvalidInput(_))) => {
                beside(&mut errors, "link-subject", error)?
            }
            Err(error) => beside(&mut errors, "link-person", error)?,
        }
    }
    refused(&state, &actor, &session, errors, form)
}

/// `POST /admin/identities/unlink`: unlinks an identity from a person.
pub async fn unlink(
    State(state): State<PagesState>,
    SignedIn { actor, session }: SignedIn,
    CsrfForm(form): CsrfForm<AdminForm>,
) -> Result<Response, PageError> {
    require_admin(&actor)?;
    let mut errors = FormErrors::default();
    let Some(person) = person_of(&form.unlink_person) else {
        errors.add("identities", "Choose an identity to unlink from the list.");
        return refused(&state, &actor, &session, errors, form);
    };
    let meta = command(&actor, &form);
    let unlinked = state
        .app
        .unlink_identity(&meta, person, &form.unlink_issuer, &form.unlink_subject)
        .await;
    match unlinked {
        Ok(_) => Ok(done("identity-unlinked", "identities")),
        Err(error) => {
            beside(&mut errors, "identities", error)?;
            refused(&state, &actor, &session, errors, form)
        }
    }
}

/// `POST /admin/leavers`: marks a person as left.
pub async fn mark_left(
    State(state): State<PagesState>,
    SignedIn { actor, session }: SignedIn,
    CsrfForm(form): CsrfForm<AdminForm>,
) -> Result<Response, PageError> {
    require_admin(&actor)?;
    let mut errors = FormErrors::default();
    let person = person_of(&form.left_person);
    if person.is_none() {
        errors.add("left-person", "Choose the person who has left.");
    }
    if form.left_reason.trim().is_empty() {
        errors.add(
            "left-reason",
            "Enter why they are marked as left, like \"Moved to another trust\".",
        );
    }
    if let (Some(person), true) = (person, errors.is_empty()) {
        let meta = command(&actor, &form);
        match state
            .app
            .mark_person_left(&meta, person, &form.left_reason)
            .await
        {
            Ok(_) => return Ok(done("person-left", "identities")),
            // The person is chosen from the list: the one input refused
            // here is the reason (too long, or control characters).
            Err(error @ AppError::Domain(DomainError::InvalidInput(_))) => {
                beside(&mut errors, "left-reason", error)?
            }
            Err(error) => beside(&mut errors, "left-person", error)?,
        }
    }
    refused(&state, &actor, &session, errors, form)
}
