//! Who is told what, and when: the kinds of notification and how often a
//! person wants to hear. Pure: which notifications an event causes is
//! decided here from the proposal's state before and after it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::proposal::{
    AdviceReason, Adviser, Outcome, Owner, ProposalEvent, ProposalState, Status,
};
use super::{PersonId, TeamId};

/// A kind of notification (DESIGN.md, "Notifications").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[derive(strum::IntoStaticStr, strum::EnumString, strum::VariantArray)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum Kind {
    /// Their advice was asked (them, or a team they are in).
    AdviceRequested,
    /// 24 hours before their time to answer ends, and they have not answered.
    AdviceDueSoon,
    /// Someone objected to their proposal.
    ObjectionRaised,
    /// The proposal they objected to was amended: confirm or withdraw.
    AmendedAfterObjection,
    /// A proposal they took part in was decided.
    Decided,
    /// A decision they made, or of their team, is due for review.
    ReviewDue,
    /// A webhook was disabled after a day of failed deliveries (admins).
    WebhookDisabled,
}

/// How often a person wants to hear by e-mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[derive(strum::IntoStaticStr, strum::EnumString, strum::VariantArray)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum Frequency {
    /// Each notification as it happens.
    #[default]
    Immediate,
    /// One digest a day.
    Daily,
    /// Nothing by e-mail.
    Off,
}

/// How long before an adviser's time to answer ends they are reminded.
pub const DUE_SOON_HOURS: i64 = 24;

/// What planning needs to know of the organisation now.
pub trait People {
    /// Everyone in a team now, in any role.
    fn in_team(&self, team: TeamId) -> Vec<PersonId>;
    /// Who reviews an owner's decisions: a team's `MEMBER`s, or a group's
    /// representatives.
    fn reviewers(&self, owner: Owner) -> Vec<PersonId>;
}

/// One notification an event causes for one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// What kind.
    pub kind: Kind,
    /// Whom it tells.
    pub person: PersonId,
    /// When to send it: `None` at once; a reminder's due time otherwise.
    pub send_at: Option<DateTime<Utc>>,
    /// By when the person is asked to act, if there is a time.
    pub act_by: Option<DateTime<Utc>>,
    /// A few plain words more (no names: the event refers to people by id).
    pub note: Option<String>,
}

/// The notifications `event`, done by `actor`, causes: `before` is the
/// proposal's state before it, `after` after it. Nobody is told of what
/// they did themselves, and nobody is told the same kind twice for one
/// event.
pub fn plan(
    event: &ProposalEvent,
    actor: Option<PersonId>,
    before: &ProposalState,
    after: &ProposalState,
    people: &dyn People,
) -> Vec<Planned> {
    let mut planned = Vec::new();
    let mut add = |kind, person, send_at, act_by, note: Option<String>| {
        let exists = planned
            .iter()
            .any(|p: &Planned| p.kind == kind && p.person == person);
        if Some(person) != actor && !exists {
            planned.push(Planned {
                kind,
                person,
                send_at,
                act_by,
                note,
            });
        }
    };
    match event {
        ProposalEvent::AdviceRequested {
            request_id, reason, ..
        } => {
            let Some(request) = after.requests.iter().find(|r| r.id == *request_id) else {
                return planned;
            };
            let due = after.due(request);
            let note = match reason {
                AdviceReason::Affected => "You are asked as someone it would affect.",
                AdviceReason::Expert => "You are asked for your expertise.",
            };
            for person in asked(request.adviser, people) {
                add(
                    Kind::AdviceRequested,
                    person,
                    None,
                    due,
                    Some(note.to_string()),
                );
                if let Some(due) = due {
                    add(Kind::AdviceDueSoon, person, Some(due_soon(due)), Some(due), None);
                }
            }
        }
        ProposalEvent::AdviceDeadlineSet { .. } => {
            // Each adviser still to answer is reminded by their new time.
            for request in after.unanswered() {
                let (old, new) = (before.due(request), after.due(request));
                let Some(new) = new.filter(|new| Some(*new) != old) else {
                    continue;
                };
                for person in asked(request.adviser, people) {
                    add(Kind::AdviceDueSoon, person, Some(due_soon(new)), Some(new), None);
                }
            }
        }
        ProposalEvent::ObjectionRaised { reason, .. } => {
            if let Some(proposer) = after.proposer {
                add(
                    Kind::ObjectionRaised,
                    proposer,
                    None,
                    None,
                    Some(format!("The objection: {}", excerpt(reason))),
                );
            }
        }
        ProposalEvent::ProposalAmended { .. } => {
            for objection in after.objections.iter().filter(|o| o.is_open()) {
                add(
                    Kind::AmendedAfterObjection,
                    objection.by,
                    None,
                    None,
                    Some("Confirm that the amendment meets your objection, or withdraw it.".into()),
                );
            }
        }
        ProposalEvent::ProposalDecided { outcome, .. } => {
            let note = match outcome {
                Outcome::Adopted => "It was adopted.",
                Outcome::Rejected => "It was rejected.",
            };
            for person in took_part(after, people) {
                add(Kind::Decided, person, None, None, Some(note.to_string()));
            }
            if *outcome == Outcome::Adopted {
                review_due(after, people, &mut add);
            }
        }
        ProposalEvent::DecisionReviewed { .. } => review_due(after, people, &mut add),
        _ => {}
    }
    planned
}

/// Whether a reminder of `kind` planned for `person`, to act by `act_by`,
/// still applies to `state` at `now` (`teams`: the teams the person is in
/// now). A reminder whose moment has passed (the advice was given, the
/// deadline moved, the decision reviewed or replaced) is not sent.
pub fn still_applies(
    kind: Kind,
    state: &ProposalState,
    person: PersonId,
    teams: &[TeamId],
    act_by: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    match kind {
        Kind::AdviceDueSoon => {
            let Some(act_by) = act_by else { return false };
            state.status == Status::Open
                && act_by > now
                && state.unanswered().any(|r| {
                    let mine = match r.adviser {
                        Adviser::Person(p) => p == person,
                        Adviser::Team(t) => teams.contains(&t),
                    };
                    mine && state.due(r) == Some(act_by)
                })
        }
        Kind::ReviewDue => state.in_force() && act_by.is_some() && state.next_review_by() == act_by,
        _ => true,
    }
}

/// The people a request asks: the person, or everyone in the team.
fn asked(adviser: Adviser, people: &dyn People) -> Vec<PersonId> {
    match adviser {
        Adviser::Person(person) => vec![person],
        Adviser::Team(team) => people.in_team(team),
    }
}

/// When to remind someone whose time to answer ends at `due`.
fn due_soon(due: DateTime<Utc>) -> DateTime<Utc> {
    due - chrono::Duration::hours(DUE_SOON_HOURS)
}

/// Everyone who took part in a proposal: everyone asked for advice (each
/// person of a team asked), everyone who gave advice, objected or voted.
fn took_part(state: &ProposalState, people: &dyn People) -> Vec<PersonId> {
    let mut found: Vec<PersonId> = Vec::new();
    let asked_people = state.requests.iter().flat_map(|r| asked(r.adviser, people));
    let others = state
        .advice
        .iter()
        .map(|a| a.by)
        .chain(state.objections.iter().map(|o| o.by))
        .chain(state.votes.iter().map(|v| v.by));
    for person in asked_people.chain(others) {
        if !found.contains(&person) {
            found.push(person);
        }
    }
    found
}

/// The review reminder of an adopted decision in force: to its decider and
/// its owner's reviewers, at its review date.
fn review_due(
    state: &ProposalState,
    people: &dyn People,
    add: &mut impl FnMut(Kind, PersonId, Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<String>),
) {
    let (Some(due), Some(owner)) = (state.next_review_by(), state.owner) else {
        return;
    };
    if !state.in_force() {
        return;
    }
    let reviewers = state.decider.into_iter().chain(people.reviewers(owner));
    for person in reviewers {
        add(Kind::ReviewDue, person, Some(due), Some(due), None);
    }
}

/// The start of a long text, for a message.
fn excerpt(text: &str) -> String {
    const MAX: usize = 280;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", text[..cut].trim_end()),
        None => text.to_string(),
    }
}
