//! The forms of a proposal's page: one per action the viewer may take now,
//! each with what it waits for, and with what was typed kept when a form
//! comes back refused. Field ids are unique on the page (a form's name
//! leads each), and every field is posted under its id.

use std::collections::HashMap;

use uuid::Uuid;

use super::words;
use crate::domain::proposal::actions::{Action, ActionKind};
use crate::domain::proposal::{Adviser, ProposalState, Rule, Stance};
use crate::domain::OrgRole;
use crate::domain::PersonId;
use crate::pages::format::{person_name, Formatter};
use crate::pages::SelectOption;
use crate::read::directory::Directory;

/// What a refused form posted, by field id, to show it again.
#[derive(Debug, Default, Clone)]
pub struct Posted(HashMap<String, String>);

impl Posted {
    /// The fields of a posted form (a field posted twice keeps its last value).
    pub fn new(fields: Vec<(String, String)>) -> Self {
        Posted(fields.into_iter().collect())
    }

    /// A field's value, or "" if it was not posted.
    pub fn v(&self, id: &str) -> &str {
        self.0.get(id).map(String::as_str).unwrap_or_default()
    }

    /// Every field posted, in no particular order.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// A field's value, or `default` if the form was not posted at all.
    pub fn or(&self, id: &str, default: &str) -> String {
        match self.0.is_empty() {
            true => default.to_string(),
            false => self.v(id).to_string(),
        }
    }
}

/// An action offered, and what it waits for (in plain words), if anything.
pub struct Offer {
    /// The refusal it would meet now.
    pub waits_for: Option<String>,
}

/// The note field beside one view the decision must weigh.
pub struct NoteField {
    /// The field's id (`note-<view id>`).
    pub id: String,
    /// "How you weighed the concern of Grace Hill".
    pub label: String,
    /// What they said, quoted.
    pub said: String,
    /// What was typed.
    pub value: String,
}

/// The form that records the decision.
pub struct DecideForm {
    /// The outcome's hint: what adopting waits for, if anything.
    pub hint: String,
    /// Adopted or rejected.
    pub outcomes: Vec<SelectOption>,
    /// A note field per view.
    pub notes: Vec<NoteField>,
}

/// The vote (threshold) or consent (consent) form.
pub struct VoteForm {
    /// What a vote waits for, if anything.
    pub waits_for: Option<String>,
    /// Under consent, only "no objection" is cast here.
    pub consent: bool,
    /// Agree or disagree.
    pub options: Vec<SelectOption>,
    /// The viewer's latest vote, in words.
    pub yours: Option<&'static str>,
}

/// The objector's form on their own open objection.
pub struct ObjectorForm {
    /// The objection's id.
    pub id: String,
    /// What they objected.
    pub reason: String,
    /// Confirming it integrated, if offered.
    pub confirm: Option<Offer>,
    /// Whether withdrawing is offered.
    pub withdraw: bool,
    /// The note field's id (`resolve-<id>-note`).
    pub note_id: String,
    /// What was typed in it.
    pub note: String,
}

/// A coach's form to rule an objection invalid.
pub struct RulingForm {
    /// The objection's id.
    pub id: String,
    /// Who objected.
    pub by: String,
    /// What they objected.
    pub reason: String,
    /// The validity tests.
    pub tests: Vec<SelectOption>,
    /// The test radios' id (`invalid-<id>-test`).
    pub test_id: String,
    /// The note field's id (`invalid-<id>-note`).
    pub note_id: String,
    /// What was typed in it.
    pub note: String,
}

/// The form asking someone for advice.
pub struct RequestForm {
    /// What asking waits for.
    pub waits_for: Option<String>,
    /// The people and teams not asked yet, by name.
    pub advisers: Vec<SelectOption>,
    /// Affected or expert.
    pub reasons: Vec<SelectOption>,
}

/// Every form the viewer is offered.
#[derive(Default)]
pub struct ActionForms {
    /// Record the decision.
    pub decide: Option<DecideForm>,
    /// Vote or consent.
    pub vote: Option<VoteForm>,
    /// Give advice (with its stances).
    pub advice: Option<Vec<SelectOption>>,
    /// Whether the viewer was asked for advice and has not answered.
    pub asked: bool,
    /// Object.
    pub object: Option<Offer>,
    /// The viewer's own open objections.
    pub objector: Vec<ObjectorForm>,
    /// Objections a coach may rule invalid.
    pub rulings: Vec<RulingForm>,
    /// Amend the body.
    pub amend: Option<Offer>,
    /// Ask for advice.
    pub request: Option<RequestForm>,
    /// Move the advice deadline.
    pub deadline: Option<Offer>,
    /// Withdraw the proposal.
    pub withdraw: Option<Offer>,
    /// Review the decision.
    pub review: Option<Offer>,
}

impl ActionForms {
    /// Whether any form is offered.
    pub fn any(&self) -> bool {
        self.decide.is_some()
            || self.vote.is_some()
            || self.advice.is_some()
            || self.object.is_some()
            || !self.objector.is_empty()
            || !self.rulings.is_empty()
            || self.amend.is_some()
            || self.request.is_some()
            || self.deadline.is_some()
            || self.withdraw.is_some()
            || self.review.is_some()
    }
}

/// The options of a radio group or select, `chosen` selected.
pub fn options(choices: &[(&str, &str)], chosen: &str) -> Vec<SelectOption> {
    choices
        .iter()
        .map(|(value, label)| SelectOption::new(*value, *label, chosen))
        .collect()
}

/// The forms for `actions` on `state`, for `viewer`.
pub fn build(
    actions: &[Action],
    state: &ProposalState,
    viewer: PersonId,
    directory: &Directory,
    posted: &Posted,
    f: &Formatter,
) -> ActionForms {
    let person = |id: PersonId| person_name(directory, id);
    let mut forms = ActionForms::default();
    for action in actions {
        let waits_for = action
            .waits_for
            .as_ref()
            .map(|e| words::sentence(&e.to_string(), f));
        let offer = || Offer {
            waits_for: waits_for.clone(),
        };
        match action.kind {
            ActionKind::Decide => {
                let mut notes = Vec::new();
                for a in state.advice.iter().filter(|a| a.stance != Stance::Support) {
                    notes.push((a.id, words::view_kind(a.stance), a.by, a.text.clone()));
                }
                for o in &state.objections {
                    notes.push((o.id, "objection", o.by, o.reason.clone()));
                }
                forms.decide = Some(DecideForm {
                    hint: match &waits_for {
                        Some(waits) => format!(
                            "Adopting it now would be refused: {waits} You may reject it now."
                        ),
                        None => "The rules allow adopting it now.".into(),
                    },
                    outcomes: options(
                        &[("ADOPTED", "Adopt it"), ("REJECTED", "Reject it")],
                        posted.v("decide-outcome"),
                    ),
                    notes: notes
                        .into_iter()
                        .map(|(id, kind, by, said)| NoteField {
                            id: note_id(id),
                            label: format!("How you weighed the {kind} of {}", person(by)),
                            said: format!("They said: \u{201c}{said}\u{201d}"),
                            value: posted.v(&note_id(id)).to_string(),
                        })
                        .collect(),
                });
            }
            ActionKind::Vote => {
                let consent = state.rule == Some(Rule::Consent);
                let yours =
                    state
                        .votes
                        .iter()
                        .find(|v| v.by == viewer)
                        .map(|v| match (consent, v.agree) {
                            (true, _) => "You said you have no objection.",
                            (false, true) => "You voted to agree.",
                            (false, false) => "You voted to disagree.",
                        });
                forms.vote = Some(VoteForm {
                    waits_for,
                    consent,
                    options: options(
                        &[("true", "I agree"), ("false", "I disagree")],
                        posted.v("vote-agree"),
                    ),
                    yours,
                });
            }
            ActionKind::GiveAdvice => {
                forms.advice = Some(options(
                    &[
                        ("SUPPORT", "Support: I am for it"),
                        ("CONCERN", "Concern: I am worried about something"),
                        ("OBJECT", "Object: I am against it (advice never vetoes)"),
                    ],
                    posted.v("advice-stance"),
                ));
            }
            ActionKind::RaiseObjection => forms.object = Some(offer()),
            ActionKind::ConfirmIntegrated(id) | ActionKind::WithdrawObjection(id) => {
                let Some(objection) = state.objections.iter().find(|o| o.id == id) else {
                    continue;
                };
                let index = match forms.objector.iter().position(|o| o.id == id.to_string()) {
                    Some(index) => index,
                    None => {
                        let note_id = format!("resolve-{id}-note");
                        forms.objector.push(ObjectorForm {
                            id: id.to_string(),
                            reason: objection.reason.clone(),
                            confirm: None,
                            withdraw: false,
                            note: posted.v(&note_id).to_string(),
                            note_id,
                        });
                        forms.objector.len() - 1
                    }
                };
                let form = &mut forms.objector[index];
                match action.kind {
                    ActionKind::ConfirmIntegrated(_) => form.confirm = Some(offer()),
                    _ => form.withdraw = true,
                }
            }
            ActionKind::RuleInvalid(id) => {
                let Some(objection) = state.objections.iter().find(|o| o.id == id) else {
                    continue;
                };
                let tests: Vec<(&str, &str)> = words::VALIDITY_TESTS
                    .iter()
                    .map(|(_, value, label)| (*value, *label))
                    .collect();
                let test_id = format!("invalid-{id}-test");
                let note_id = format!("invalid-{id}-note");
                forms.rulings.push(RulingForm {
                    id: id.to_string(),
                    by: person(objection.by),
                    reason: objection.reason.clone(),
                    tests: options(&tests, posted.v(&test_id)),
                    note: posted.v(&note_id).to_string(),
                    test_id,
                    note_id,
                });
            }
            ActionKind::Amend => forms.amend = Some(offer()),
            ActionKind::RequestAdvice => {
                forms.request = Some(RequestForm {
                    waits_for,
                    advisers: advisers(state, directory, posted.v("request-adviser")),
                    reasons: options(
                        &[
                            ("AFFECTED", "They would be affected"),
                            ("EXPERT", "They know the subject"),
                        ],
                        posted.v("request-reason"),
                    ),
                });
            }
            ActionKind::SetAdviceDeadline => forms.deadline = Some(offer()),
            ActionKind::Withdraw => forms.withdraw = Some(offer()),
            ActionKind::Review => forms.review = Some(offer()),
        }
    }
    forms.asked = state.unanswered().any(|r| match r.adviser {
        Adviser::Person(p) => p == viewer,
        Adviser::Team(t) => directory
            .team(t)
            .is_some_and(|team| team.role_of(viewer).is_some()),
    });
    forms
}

/// The id of the note field beside a view.
pub fn note_id(view: Uuid) -> String {
    format!("note-{view}")
}

/// The people and teams not yet asked, other than the proposer and the
/// decider, by name: a person as `person:<id>`, a team as `team:<id>`.
fn advisers(state: &ProposalState, directory: &Directory, chosen: &str) -> Vec<SelectOption> {
    let asked = |adviser: Adviser| state.requests.iter().any(|r| r.adviser == adviser);
    let mut people: Vec<(String, String)> = directory
        .people()
        .filter(|p| Some(p.id) != state.proposer && Some(p.id) != state.decider)
        .filter(|p| p.org_role != Some(OrgRole::Auditor))
        .filter(|p| !asked(Adviser::Person(p.id)))
        .map(|p| (format!("person:{}", p.id.0), p.name.clone()))
        .collect();
    people.sort_by(|a, b| a.1.cmp(&b.1));
    let teams = directory
        .teams()
        .filter(|t| !asked(Adviser::Team(t.id)))
        .map(|t| (format!("team:{}", t.id.0), format!("The team {}", t.name)));
    let mut list = vec![SelectOption::new("", "Choose a person or team", chosen)];
    list.extend(
        people
            .into_iter()
            .chain(teams)
            .map(|(value, label)| SelectOption::new(value, label, chosen)),
    );
    list
}
