//! Where a refused action's error goes on a proposal's page: beside the
//! field it concerns, in plain words.

use uuid::Uuid;

use super::act::Form;
use super::forms::{note_id, Posted};
use super::words;
use crate::domain::proposal::Resolution;
use crate::domain::DomainError;
use crate::pages::FormErrors;

/// "the concern of Grace Hill": a view a decision weighs, by its id.
pub(super) fn view_name(
    state: &crate::domain::proposal::ProposalState,
    directory: &crate::read::directory::Directory,
    view: Uuid,
) -> Option<String> {
    let name = |p| crate::pages::format::person_name(directory, p);
    if let Some(advice) = state.advice.iter().find(|a| a.id == view) {
        return Some(format!(
            "the {} of {}",
            words::view_kind(advice.stance),
            name(advice.by)
        ));
    }
    state
        .objections
        .iter()
        .find(|o| o.id == view)
        .map(|o| format!("the objection of {}", name(o.by)))
}

/// The field a form's errors go beside when nothing more precise is known.
pub(super) fn primary(form: Form) -> String {
    let field = match form {
        Form::Advice => "advice-text",
        Form::Objection => "objection-reason",
        Form::Amend => "amend-body",
        Form::Vote => "vote-agree",
        Form::Decide => "decide-outcome",
        Form::Withdraw => "withdraw-reason",
        Form::Review => "review-note",
        Form::RequestAdvice => "request-adviser",
        Form::Deadline => "deadline-date",
        Form::Resolve(objection, Resolution::RuledInvalid) => {
            return format!("invalid-{objection}-note")
        }
        Form::Resolve(objection, _) => return format!("resolve-{objection}-note"),
    };
    field.to_string()
}

/// Puts a refusal beside the field it concerns: a missing weighing note
/// beside each view it names, a rule's refusal beside the decision's
/// outcome, a text's fault beside that text.
pub(super) fn place(
    errors: &mut FormErrors,
    form: Form,
    error: &DomainError,
    posted: &Posted,
    view: &dyn Fn(Uuid) -> Option<String>,
    f: &crate::pages::Formatter,
) {
    let raw = error.to_string();
    let message = words::sentence(&raw, f);
    let said = |word: &str| raw.contains(word);
    let field: String = match form {
        Form::Decide => {
            let missing: Vec<&str> = posted
                .fields()
                .filter_map(|(key, _)| key.strip_prefix("note-"))
                .filter(|id| raw.contains(id))
                .collect();
            if !missing.is_empty() {
                for id in missing {
                    if let Ok(id) = Uuid::parse_str(id) {
                        let named = view(id).unwrap_or_else(|| "this view".into());
                        errors.add(&note_id(id), format!("Say how you weighed {named}"));
                    }
                }
                return;
            }
            if said("rationale") {
                "decide-rationale".into()
            } else {
                "decide-outcome".into()
            }
        }
        Form::Amend if said("reason") => "amend-reason".into(),
        Form::Review if said("review date") || said("nextReviewBy") => "review-date".into(),
        Form::RequestAdvice if said("respondBy") => "request-respond-date".into(),
        Form::Deadline if said("the reason") => "deadline-reason".into(),
        Form::Resolve(objection, Resolution::RuledInvalid) if said("validity test") => {
            format!("invalid-{objection}-test")
        }
        other => primary(other),
    };
    errors.add(&field, message);
}
