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
/// they did themselves (but a review falls due for whoever decided), and
/// nobody is told the same kind twice for one event.
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
        // A review falls due for its decider too; nothing else tells
        // someone of what they did themselves.
        let own = Some(person) == actor && kind != Kind::ReviewDue;
        if !own && !exists {
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
                    add(
                        Kind::AdviceDueSoon,
                        person,
                        Some(due_soon(due)),
                        Some(due),
                        None,
                    );
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
                    add(
                        Kind::AdviceDueSoon,
                        person,
                        Some(due_soon(new)),
                        Some(new),
                        None,
                    );
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::proposal::{evolve, Rule};
    use uuid::Uuid;

    /// A team of ann (proposer), bob and a coach; cat in another team.
    struct World {
        team: TeamId,
        other: TeamId,
        ann: PersonId,
        bob: PersonId,
        coach: PersonId,
        cat: PersonId,
        now: DateTime<Utc>,
    }

    impl People for World {
        fn in_team(&self, team: TeamId) -> Vec<PersonId> {
            if team == self.team {
                vec![self.ann, self.bob, self.coach]
            } else if team == self.other {
                vec![self.cat]
            } else {
                vec![]
            }
        }

        fn reviewers(&self, _owner: Owner) -> Vec<PersonId> {
            vec![self.ann, self.bob]
        }
    }

    fn world() -> World {
        World {
            team: TeamId::random(),
            other: TeamId::random(),
            ann: PersonId::random(),
            bob: PersonId::random(),
            coach: PersonId::random(),
            cat: PersonId::random(),
            now: "2026-11-30T09:00:00Z".parse().expect("time"),
        }
    }

    fn hours(h: i64) -> chrono::Duration {
        chrono::Duration::hours(h)
    }

    /// A proposal of ann's with a deadline three days away.
    fn raised(w: &World) -> ProposalState {
        let event = ProposalEvent::ProposalRaised {
            owner: Owner::Team(w.team),
            proposer: w.ann,
            decider: w.ann,
            title: "Winter rota".into(),
            body: "Two on nights.".into(),
            rule: Rule::Consent,
            threshold_bp: None,
            advice_deadline: Some(w.now + hours(72)),
            area: None,
            spend: None,
            review_by: Some(w.now + hours(24 * 90)),
            eligible: vec![w.ann, w.bob],
            supersedes: None,
            advice_window_hours: None,
        };
        evolve(ProposalState::default(), &event, w.now)
    }

    /// Applies `event` by `actor` to `before` and plans.
    fn when(
        w: &World,
        before: &ProposalState,
        event: ProposalEvent,
        actor: PersonId,
    ) -> (ProposalState, Vec<Planned>) {
        let after = evolve(before.clone(), &event, w.now);
        let planned = plan(&event, Some(actor), before, &after, w);
        (after, planned)
    }

    fn who(planned: &[Planned], kind: Kind) -> Vec<PersonId> {
        planned
            .iter()
            .filter(|p| p.kind == kind)
            .map(|p| p.person)
            .collect()
    }

    fn ask(adviser: Adviser) -> ProposalEvent {
        ProposalEvent::AdviceRequested {
            request_id: Uuid::new_v4(),
            adviser,
            reason: AdviceReason::Affected,
            respond_by: None,
        }
    }

    #[test]
    fn given_a_proposal_when_a_team_is_asked_then_each_of_its_people_but_the_asker_is_told_and_reminded(
    ) {
        let w = world();
        let (_, planned) = when(&w, &raised(&w), ask(Adviser::Team(w.team)), w.ann);
        assert_eq!(who(&planned, Kind::AdviceRequested), vec![w.bob, w.coach]);
        let reminders: Vec<_> = planned
            .iter()
            .filter(|p| p.kind == Kind::AdviceDueSoon)
            .collect();
        assert_eq!(reminders.len(), 2);
        for reminder in reminders {
            assert_eq!(reminder.act_by, Some(w.now + hours(72)));
            assert_eq!(reminder.send_at, Some(w.now + hours(48)));
        }
    }

    #[test]
    fn given_a_proposal_when_a_person_is_asked_then_only_they_are_told_by_when() {
        let w = world();
        let (_, planned) = when(&w, &raised(&w), ask(Adviser::Person(w.cat)), w.ann);
        assert_eq!(who(&planned, Kind::AdviceRequested), vec![w.cat]);
        assert!(planned.iter().all(|p| p.act_by == Some(w.now + hours(72))));
        assert!(planned
            .iter()
            .filter(|p| p.kind == Kind::AdviceRequested)
            .all(|p| p.send_at.is_none()));
    }

    #[test]
    fn given_an_unanswered_request_when_the_deadline_moves_then_a_new_reminder_is_planned() {
        let w = world();
        let (asked, _) = when(&w, &raised(&w), ask(Adviser::Person(w.cat)), w.ann);
        let moved = ProposalEvent::AdviceDeadlineSet {
            deadline: w.now + hours(120),
            reason: "Holidays".into(),
        };
        let (after, planned) = when(&w, &asked, moved, w.ann);
        assert_eq!(who(&planned, Kind::AdviceDueSoon), vec![w.cat]);
        assert_eq!(planned[0].send_at, Some(w.now + hours(96)));
        // The first reminder no longer applies; the new one does.
        let teams = [w.other];
        let old = w.now + hours(72);
        let new = w.now + hours(120);
        assert!(!still_applies(
            Kind::AdviceDueSoon,
            &after,
            w.cat,
            &teams,
            Some(old),
            w.now
        ));
        assert!(still_applies(
            Kind::AdviceDueSoon,
            &after,
            w.cat,
            &teams,
            Some(new),
            w.now
        ));
    }

    #[test]
    fn given_a_request_when_it_is_answered_then_its_reminder_no_longer_applies() {
        let w = world();
        let request_id = Uuid::new_v4();
        let asked = evolve(
            raised(&w),
            &ProposalEvent::AdviceRequested {
                request_id,
                adviser: Adviser::Team(w.other),
                reason: AdviceReason::Expert,
                respond_by: None,
            },
            w.now,
        );
        let due = Some(w.now + hours(72));
        assert!(still_applies(
            Kind::AdviceDueSoon,
            &asked,
            w.cat,
            &[w.other],
            due,
            w.now
        ));
        let answered = evolve(
            asked,
            &ProposalEvent::AdviceGiven {
                advice_id: Uuid::new_v4(),
                by: w.cat,
                stance: crate::domain::proposal::Stance::Support,
                text: "Fine".into(),
                answers: vec![request_id],
            },
            w.now,
        );
        assert!(!still_applies(
            Kind::AdviceDueSoon,
            &answered,
            w.cat,
            &[w.other],
            due,
            w.now
        ));
        // Nor after the deadline itself.
        let late = w.now + hours(73);
        let (asked_again, _) = when(&w, &raised(&w), ask(Adviser::Person(w.cat)), w.ann);
        assert!(!still_applies(
            Kind::AdviceDueSoon,
            &asked_again,
            w.cat,
            &[],
            due,
            late
        ));
    }

    #[test]
    fn given_a_proposal_when_someone_objects_then_the_proposer_is_told_with_the_reason() {
        let w = world();
        let objection = ProposalEvent::ObjectionRaised {
            objection_id: Uuid::new_v4(),
            by: w.bob,
            reason: "Nights need three.".into(),
        };
        let (_, planned) = when(&w, &raised(&w), objection, w.bob);
        assert_eq!(who(&planned, Kind::ObjectionRaised), vec![w.ann]);
        assert_eq!(
            planned[0].note.as_deref(),
            Some("The objection: Nights need three.")
        );
    }

    #[test]
    fn given_an_open_objection_when_the_proposal_is_amended_then_the_objector_is_asked_to_confirm()
    {
        let w = world();
        let objected = evolve(
            raised(&w),
            &ProposalEvent::ObjectionRaised {
                objection_id: Uuid::new_v4(),
                by: w.bob,
                reason: "Nights need three.".into(),
            },
            w.now,
        );
        let amended = ProposalEvent::ProposalAmended {
            version: 2,
            body: "Three on nights.".into(),
            reason: "Bob's objection".into(),
        };
        let (_, planned) = when(&w, &objected, amended, w.ann);
        assert_eq!(who(&planned, Kind::AmendedAfterObjection), vec![w.bob]);
    }

    #[test]
    fn given_advice_objections_and_votes_when_decided_then_everyone_who_took_part_hears_once() {
        let w = world();
        let mut state = raised(&w);
        for event in [
            ask(Adviser::Team(w.other)),
            ask(Adviser::Person(w.bob)),
            ProposalEvent::ObjectionRaised {
                objection_id: Uuid::new_v4(),
                by: w.bob,
                reason: "Too few.".into(),
            },
            ProposalEvent::VoteCast {
                by: w.coach,
                agree: true,
            },
        ] {
            state = evolve(state, &event, w.now);
        }
        let decided = ProposalEvent::ProposalDecided {
            outcome: Outcome::Adopted,
            rationale: "Tried it.".into(),
            notes: vec![],
            missing_advisers: vec![],
            agree_votes: 1,
            required_votes: 1,
            budget_remaining: None,
        };
        let (_, planned) = when(&w, &state, decided, w.ann);
        // cat (team asked), bob (asked, objected: once), the coach (voted);
        // not ann, who decided.
        assert_eq!(who(&planned, Kind::Decided), vec![w.cat, w.bob, w.coach]);
        assert_eq!(planned[0].note.as_deref(), Some("It was adopted."));
        // Adopted with a review date: the decider and the reviewers are
        // reminded then.
        assert_eq!(who(&planned, Kind::ReviewDue), vec![w.ann, w.bob]);
        let review = planned
            .iter()
            .find(|p| p.kind == Kind::ReviewDue)
            .expect("a review reminder");
        assert_eq!(review.send_at, Some(w.now + hours(24 * 90)));
    }

    #[test]
    fn given_a_decision_when_it_is_reviewed_then_the_old_review_reminder_no_longer_applies() {
        let w = world();
        let decided = evolve(
            raised(&w),
            &ProposalEvent::ProposalDecided {
                outcome: Outcome::Adopted,
                rationale: "Tried it.".into(),
                notes: vec![],
                missing_advisers: vec![],
                agree_votes: 0,
                required_votes: 0,
                budget_remaining: None,
            },
            w.now,
        );
        let first = Some(w.now + hours(24 * 90));
        assert!(still_applies(
            Kind::ReviewDue,
            &decided,
            w.bob,
            &[],
            first,
            w.now
        ));
        let next = w.now + hours(24 * 180);
        let reviewed = ProposalEvent::DecisionReviewed {
            outcome: crate::domain::proposal::ReviewOutcome::Keep,
            note: "Works.".into(),
            next_review_by: Some(next),
        };
        let (after, planned) = when(&w, &decided, reviewed, w.bob);
        assert!(!still_applies(
            Kind::ReviewDue,
            &after,
            w.bob,
            &[],
            first,
            w.now
        ));
        assert_eq!(who(&planned, Kind::ReviewDue), vec![w.ann, w.bob]);
        assert!(still_applies(
            Kind::ReviewDue,
            &after,
            w.ann,
            &[],
            Some(next),
            w.now
        ));
    }

    #[test]
    fn given_a_long_objection_then_the_note_is_cut_at_a_character_boundary() {
        let long = "é".repeat(400);
        let cut = excerpt(&long);
        assert!(cut.ends_with('…'));
        assert_eq!(cut.chars().count(), 281);
    }
}
