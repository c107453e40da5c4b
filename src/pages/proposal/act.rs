//! The actions posted from a proposal's page. Each calls the application as
//! the signed-in person; done, it redirects to the page with a short
//! confirmation; refused, the page comes back (422) with the refusal in the
//! error summary and beside the field it concerns, and what was typed kept.
//! A refused action appends nothing.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use uuid::Uuid;

use super::forms::Posted;
use super::refusals::{place, primary, view_name};
use super::{parse_id, render, words};
use crate::app::{AppError, CommandMeta};
use crate::domain::proposal::{
    AdviceReason, Adviser, Outcome, ProposalId, Resolution, ReviewOutcome, Stance, WeighingNote,
};
use crate::domain::{Caller, DomainError, PersonId, TeamId};
use crate::pages::error::PageError;
use crate::pages::forms::parse_local;
use crate::pages::session::{CsrfForm, SignedIn};
use crate::pages::{FormErrors, PagesState};

/// Which form was posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Form {
    /// Give advice.
    Advice,
    /// Object.
    Objection,
    /// Amend the body.
    Amend,
    /// Vote or consent.
    Vote,
    /// Record the decision.
    Decide,
    /// Withdraw the proposal.
    Withdraw,
    /// Review the decision.
    Review,
    /// Ask for advice.
    RequestAdvice,
    /// Move the advice deadline.
    Deadline,
    /// Resolve an objection, as the objector or a coach.
    Resolve(Uuid, Resolution),
}

/// `POST /proposals/{id}/{action}`: `advice`, `objections`, `amend`,
/// `vote`, `decide`, `withdraw`, `review`, `request-advice` or `deadline`.
pub async fn submit(
    State(state): State<PagesState>,
    signed_in: SignedIn,
    Path((id, action)): Path<(String, String)>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let form = match action.as_str() {
        "advice" => Form::Advice,
        "objections" => Form::Objection,
        "amend" => Form::Amend,
        "vote" => Form::Vote,
        "decide" => Form::Decide,
        "withdraw" => Form::Withdraw,
        "review" => Form::Review,
        "request-advice" => Form::RequestAdvice,
        "deadline" => Form::Deadline,
        _ => return Err(PageError::NotFound("There is no such action.".into())),
    };
    act(&state, &signed_in, id, form, Posted::new(fields)).await
}

/// `POST /proposals/{id}/objections/{objection}/resolve`, with `resolution`
/// `INTEGRATED` or `WITHDRAWN` (the objector) or `RULED_INVALID` (a coach).
pub async fn resolve(
    State(state): State<PagesState>,
    signed_in: SignedIn,
    Path((id, objection)): Path<(String, String)>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let objection = Uuid::parse_str(&objection)
        .map_err(|_| PageError::NotFound("There is no such objection.".into()))?;
    let posted = Posted::new(fields);
    let resolution = match posted.v("resolution") {
        "INTEGRATED" => Resolution::Integrated,
        "WITHDRAWN" => Resolution::Withdrawn,
        "RULED_INVALID" => Resolution::RuledInvalid,
        _ => {
            return Err(PageError::BadForm(
                "choose how the objection is resolved".into(),
            ))
        }
    };
    act(
        &state,
        &signed_in,
        id,
        Form::Resolve(objection, resolution),
        posted,
    )
    .await
}

/// Runs a posted form: the page-level checks (a choice made, a date that
/// reads), then the application.
async fn act(
    state: &PagesState,
    signed_in: &SignedIn,
    id: ProposalId,
    form: Form,
    posted: Posted,
) -> Result<Response, PageError> {
    let meta = CommandMeta::new(Caller::Person(signed_in.actor), None);
    let app = &state.app;
    let zone = state.time_zone;
    let mut errors = FormErrors::default();
    let v = |field: &str| posted.v(field).to_string();
    let result: Result<&'static str, AppError> = match form {
        Form::Advice => match stance(posted.v("advice-stance")) {
            Some(stance) => app
                .give_advice(&meta, id, stance, posted.v("advice-text"))
                .await
                .map(|_| "advice"),
            None => {
                errors.add(
                    "advice-stance",
                    "Choose whether you support it, have a concern or object",
                );
                Ok("")
            }
        },
        Form::Objection => app
            .raise_objection(&meta, id, posted.v("objection-reason"))
            .await
            .map(|_| "objection"),
        Form::Amend => app
            .amend_proposal(&meta, id, posted.v("amend-body"), posted.v("amend-reason"))
            .await
            .map(|_| "amended"),
        Form::Vote => match posted.v("vote-agree") {
            "true" | "false" => app
                .cast_vote(&meta, id, posted.v("vote-agree") == "true")
                .await
                .map(|_| "vote"),
            _ => {
                errors.add("vote-agree", "Choose whether you agree or disagree");
                Ok("")
            }
        },
        Form::Decide => {
            let outcome = match posted.v("decide-outcome") {
                "ADOPTED" => Some(Outcome::Adopted),
                "REJECTED" => Some(Outcome::Rejected),
                _ => None,
            };
            let notes: Vec<WeighingNote> = decide_notes(&posted);
            match outcome {
                Some(outcome) => app
                    .decide_proposal(&meta, id, outcome, posted.v("decide-rationale"), notes)
                    .await
                    .map(|_| "decided"),
                None => {
                    errors.add("decide-outcome", "Choose whether to adopt or reject it");
                    Ok("")
                }
            }
        }
        Form::Withdraw => app
            .withdraw_proposal(&meta, id, posted.v("withdraw-reason"))
            .await
            .map(|_| "withdrawn"),
        Form::Review => match parse_local(posted.v("review-date"), "", zone) {
            Ok(next) => app
                .review_decision(
                    &meta,
                    id,
                    ReviewOutcome::Keep,
                    posted.v("review-note"),
                    Some(next),
                )
                .await
                .map(|_| "reviewed"),
            Err(message) => {
                errors.add("review-date", message);
                Ok("")
            }
        },
        Form::RequestAdvice => {
            let adviser = adviser(posted.v("request-adviser"));
            let reason = match posted.v("request-reason") {
                "AFFECTED" => Some(AdviceReason::Affected),
                "EXPERT" => Some(AdviceReason::Expert),
                _ => None,
            };
            let respond_by = match posted.v("request-respond-date").trim() {
                "" => Ok(None),
                date => parse_local(date, posted.v("request-respond-time"), zone).map(Some),
            };
            if adviser.is_none() {
                errors.add("request-adviser", "Choose a person or team to ask");
            }
            if reason.is_none() {
                errors.add(
                    "request-reason",
                    "Choose whether they would be affected or know the subject",
                );
            }
            if let Err(message) = &respond_by {
                errors.add("request-respond-date", message.clone());
            }
            match (adviser, reason, respond_by) {
                (Some(adviser), Some(reason), Ok(respond_by)) => app
                    .request_advice(&meta, id, adviser, reason, respond_by)
                    .await
                    .map(|_| "asked"),
                _ => Ok(""),
            }
        }
        Form::Deadline => {
            match parse_local(posted.v("deadline-date"), posted.v("deadline-time"), zone) {
                Ok(deadline) => app
                    .set_advice_deadline(&meta, id, deadline, posted.v("deadline-reason"))
                    .await
                    .map(|_| "deadline"),
                Err(message) => {
                    errors.add("deadline-date", message);
                    Ok("")
                }
            }
        }
        Form::Resolve(objection, resolution) => {
            let (note, test) = match resolution {
                Resolution::RuledInvalid => (
                    v(&format!("invalid-{objection}-note")),
                    match validity_test(posted.v(&format!("invalid-{objection}-test"))) {
                        Some(test) => Some(test),
                        None => {
                            errors.add(
                                &format!("invalid-{objection}-test"),
                                "Choose the validity test the objection failed",
                            );
                            None
                        }
                    },
                ),
                Resolution::Integrated | Resolution::Withdrawn => {
                    (v(&format!("resolve-{objection}-note")), None)
                }
            };
            if errors.is_empty() {
                app.resolve_objection(&meta, id, objection, resolution, &note, test)
                    .await
                    .map(|_| "resolved")
            } else {
                Ok("")
            }
        }
    };
    match result {
        Ok(done) if errors.is_empty() => {
            Ok(Redirect::to(&format!("/proposals/{}?done={done}", id.0)).into_response())
        }
        Ok(_) => render(state, signed_in, id, errors, posted, None).await,
        Err(AppError::Domain(error @ (DomainError::Forbidden(_) | DomainError::NotFound(_)))) => {
            Err(PageError::from(AppError::Domain(error)))
        }
        Err(AppError::Domain(error)) => {
            let loaded = app.load_proposal(id, None).await?;
            {
                let directory = app.read.directory();
                let view = |view: Uuid| view_name(&loaded.projected.state, &directory, view);
                place(
                    &mut errors,
                    form,
                    &error,
                    &posted,
                    &view,
                    &state.formatter(),
                );
            }
            render(state, signed_in, id, errors, posted, None).await
        }
        Err(AppError::Conflict(_)) => {
            errors.add(
                &primary(form),
                "Someone changed this proposal at the same moment, so nothing was recorded. Check the page and send it again.",
            );
            render(state, signed_in, id, errors, posted, None).await
        }
        Err(other) => Err(PageError::from(other)),
    }
}

/// The weighing notes typed in the decide form: every `note-<id>` field
/// with text.
fn decide_notes(posted: &Posted) -> Vec<WeighingNote> {
    posted
        .fields()
        .filter_map(|(key, value)| {
            let id = key.strip_prefix("note-")?;
            let ref_id = Uuid::parse_str(id).ok()?;
            (!value.trim().is_empty()).then(|| WeighingNote {
                ref_id,
                note: value.to_string(),
            })
        })
        .collect()
}

fn stance(value: &str) -> Option<Stance> {
    match value {
        "SUPPORT" => Some(Stance::Support),
        "CONCERN" => Some(Stance::Concern),
        "OBJECT" => Some(Stance::Object),
        _ => None,
    }
}

fn validity_test(value: &str) -> Option<crate::domain::proposal::ValidityTest> {
    words::VALIDITY_TESTS
        .iter()
        .find(|(_, name, _)| *name == value)
        .map(|(test, _, _)| *test)
}

/// A person (`person:<id>`) or team (`team:<id>`) from the adviser select.
fn adviser(value: &str) -> Option<Adviser> {
    let (kind, id) = value.split_once(':')?;
    let id = Uuid::parse_str(id).ok()?;
    match kind {
        "person" => Some(Adviser::Person(PersonId(id))),
        "team" => Some(Adviser::Team(TeamId(id))),
        _ => None,
    }
}
