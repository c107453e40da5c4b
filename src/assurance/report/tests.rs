//! Layout 2 of the report, from events made with the domain's own types
//! (so they are read back exactly as stored events are).

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use super::section::{percent, when};
use super::{render, LAYOUT};
use crate::assurance::bundle::tests::{line, HOSTILE, NOTE};
use crate::assurance::bundle::Line;
use crate::domain::budget::BudgetEvent;
use crate::domain::events::DomainEvent;
use crate::domain::group::GroupEvent;
use crate::domain::person::PersonEvent;
use crate::domain::proposal::{
    AdviceReason, Adviser, Outcome, Owner, ProposalEvent, ProposalId, Resolution, ReviewOutcome,
    Rule, Stance, WeighingNote,
};
use crate::domain::team::TeamEvent;
use crate::domain::{GroupId, PersonId, TeamId};

const NELL: PersonId = PersonId(Uuid::from_u128(0x11));
const RENA: PersonId = PersonId(Uuid::from_u128(0x12));
const CORA: PersonId = PersonId(Uuid::from_u128(0x13));
const TARIQ: PersonId = PersonId(Uuid::from_u128(0x14));
const NURSING: TeamId = TeamId(Uuid::from_u128(0x21));
const TRAINING: GroupId = GroupId(Uuid::from_u128(0x31));
/// Raised first, though its id sorts last.
const ROTA: ProposalId = ProposalId(Uuid::from_u128(u128::MAX));
/// Raised second, though its id sorts first.
const COURSE: ProposalId = ProposalId(Uuid::from_u128(0x41));
/// Raised third and still open.
const HANDOVER: ProposalId = ProposalId(Uuid::from_u128(0x42));

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x1000 + n)
}

/// Appends events to a bundle, a minute apart from 27 Nov 2026 17:00.
struct Log {
    lines: Vec<Line>,
}

impl Log {
    fn at(position: u64) -> DateTime<Utc> {
        let start = Utc
            .with_ymd_and_hms(2026, 11, 27, 17, 0, 0)
            .single()
            .expect("a time");
        start
            + Duration::minutes(i64::try_from(position).expect("small"))
            + Duration::nanoseconds(123_456_000)
    }

    fn push(&mut self, stream: String, actor: Option<PersonId>, event: &impl DomainEvent) {
        let (event_type, payload) = event.to_stored();
        let position = self.lines.len() as u64 + 1;
        self.lines.push(line(json!({
            "position": position,
            "recorded_at": Self::at(position).to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "stream_id": stream,
            "event_type": event_type,
            "schema_version": 1,
            "metadata": { "actor": actor, "role": "MEMBER", "reason": null },
            "payload": payload,
        })));
    }

    fn proposal(&mut self, p: ProposalId, actor: PersonId, event: ProposalEvent) {
        self.push(p.stream(), Some(actor), &event);
    }
}

fn raised(owner: Owner, by: PersonId, title: &str, body: &str, rule: Rule) -> ProposalEvent {
    ProposalEvent::ProposalRaised {
        owner,
        proposer: by,
        decider: by,
        title: title.into(),
        body: body.into(),
        rule,
        threshold_bp: (rule == Rule::Threshold).then_some(5000),
        advice_deadline: None,
        area: matches!(owner, Owner::Group(_)).then(|| "training".into()),
        spend: matches!(owner, Owner::Group(_)).then_some(123_450),
        review_by: None,
        eligible: vec![NELL, RENA, TARIQ],
        supersedes: None,
        advice_window_hours: None,
    }
}

fn decided(notes: Vec<WeighingNote>, agree: u32, left: Option<i64>) -> ProposalEvent {
    ProposalEvent::ProposalDecided {
        outcome: Outcome::Adopted,
        rationale: "Enough of us agree.".into(),
        notes,
        missing_advisers: Vec::new(),
        agree_votes: agree,
        required_votes: 2,
        budget_remaining: left,
    }
}

/// People, a team, a group; a threshold proposal taken through every step,
/// a group's consent proposal with spend, and an open advice proposal.
/// `text` is every person's, team's and group's name prefix and each free
/// text's.
fn bundle(text: &str) -> Vec<Line> {
    let mut log = Log { lines: Vec::new() };
    for (who, name) in [
        (NELL, "Nell"),
        (RENA, "Rena"),
        (CORA, "Cora"),
        (TARIQ, "Tariq"),
    ] {
        let registered = PersonEvent::PersonRegistered {
            name: format!("{name} {text}"),
            email: format!("{name}@example.org"),
            org_role: None,
        };
        log.push(who.stream(), None, &registered);
    }
    let formed = TeamEvent::TeamFormed {
        name: format!("Community nursing {text}"),
    };
    log.push(NURSING.stream(), None, &formed);
    let group = GroupEvent::GroupFormed {
        name: format!("Staff training {text}"),
        team_ids: vec![NURSING],
        mandate: vec!["training".into()],
    };
    log.push(TRAINING.stream(), None, &group);

    let (rota, nursing) = (ROTA, Owner::Team(NURSING));
    log.proposal(
        rota,
        NELL,
        raised(
            nursing,
            NELL,
            "Winter rota",
            &format!("Body one {text}"),
            Rule::Threshold,
        ),
    );
    log.proposal(
        rota,
        NELL,
        ProposalEvent::AdviceRequested {
            request_id: id(1),
            adviser: Adviser::Team(NURSING),
            reason: AdviceReason::Affected,
            respond_by: None,
        },
    );
    log.proposal(
        rota,
        NELL,
        ProposalEvent::AdviceRequested {
            request_id: id(2),
            adviser: Adviser::Person(CORA),
            reason: AdviceReason::Expert,
            respond_by: None,
        },
    );
    log.proposal(
        rota,
        CORA,
        ProposalEvent::AdviceGiven {
            advice_id: id(3),
            by: CORA,
            stance: Stance::Concern,
            text: format!("Concern {text}"),
            answers: vec![id(2)],
        },
    );
    log.proposal(
        rota,
        RENA,
        ProposalEvent::ObjectionRaised {
            objection_id: id(4),
            by: RENA,
            reason: format!("Objection {text}"),
        },
    );
    log.proposal(
        rota,
        NELL,
        ProposalEvent::ProposalAmended {
            version: 2,
            body: format!("Body two {text}"),
            reason: format!("Amended {text}"),
        },
    );
    log.proposal(
        rota,
        RENA,
        ProposalEvent::ObjectionResolved {
            objection_id: id(4),
            resolution: Resolution::Integrated,
            note: format!("Resolved {text}"),
            validity_test: None,
        },
    );
    log.proposal(
        rota,
        NELL,
        ProposalEvent::VoteCast {
            by: NELL,
            agree: true,
        },
    );
    log.proposal(
        rota,
        RENA,
        ProposalEvent::VoteCast {
            by: RENA,
            agree: true,
        },
    );
    log.proposal(
        rota,
        TARIQ,
        ProposalEvent::VoteCast {
            by: TARIQ,
            agree: false,
        },
    );
    log.proposal(
        rota,
        TARIQ,
        ProposalEvent::AdviceGiven {
            advice_id: id(5),
            by: TARIQ,
            stance: Stance::Support,
            text: "Fine".into(),
            answers: vec![id(1)],
        },
    );
    let notes = vec![
        WeighingNote {
            ref_id: id(3),
            note: format!("Weighed concern {text}"),
        },
        WeighingNote {
            ref_id: id(4),
            note: format!("Weighed objection {text}"),
        },
    ];
    log.proposal(rota, NELL, decided(notes, 2, None));
    log.proposal(
        rota,
        RENA,
        ProposalEvent::DecisionReviewed {
            outcome: ReviewOutcome::Keep,
            note: format!("Kept {text}"),
            next_review_by: None,
        },
    );

    let (course, training) = (COURSE, Owner::Group(TRAINING));
    log.proposal(
        course,
        RENA,
        raised(
            training,
            RENA,
            "First-aid course",
            "Two trainers",
            Rule::Consent,
        ),
    );
    log.proposal(
        course,
        RENA,
        ProposalEvent::AdviceRequested {
            request_id: id(6),
            adviser: Adviser::Team(NURSING),
            reason: AdviceReason::Affected,
            respond_by: None,
        },
    );
    log.proposal(
        course,
        NELL,
        ProposalEvent::AdviceGiven {
            advice_id: id(7),
            by: NELL,
            stance: Stance::Support,
            text: "Yes".into(),
            answers: vec![id(6)],
        },
    );
    for voter in [NELL, RENA, TARIQ] {
        log.proposal(
            course,
            voter,
            ProposalEvent::VoteCast {
                by: voter,
                agree: true,
            },
        );
    }
    log.proposal(course, RENA, decided(Vec::new(), 0, Some(500_000)));
    let commit = BudgetEvent::SpendCommitted {
        proposal_id: course,
        amount: 123_450,
    };
    log.push(crate::domain::budget::stream(TRAINING), Some(RENA), &commit);

    let handover = HANDOVER;
    log.proposal(
        handover,
        TARIQ,
        raised(nursing, TARIQ, "Earlier handover", "07:45", Rule::Advice),
    );
    log.proposal(
        handover,
        TARIQ,
        ProposalEvent::AdviceRequested {
            request_id: id(8),
            adviser: Adviser::Person(RENA),
            reason: AdviceReason::Affected,
            respond_by: None,
        },
    );
    log.lines
}

fn report(text: &str) -> String {
    render(LAYOUT, &bundle(text), NOTE).expect("the report renders")
}

/// The part of the report from one heading to the next of the same kind.
fn part<'a>(html: &'a str, from: &str, to: &str) -> &'a str {
    let start = html
        .find(from)
        .unwrap_or_else(|| panic!("{from:?} in {html}"));
    let rest = &html[start..];
    let end = rest[from.len()..]
        .find(to)
        .map_or(rest.len(), |e| e + from.len());
    &rest[..end]
}

#[test]
fn proposals_are_in_the_order_raised_not_by_id() {
    let html = report("x");
    let rota = html
        .find("<h2 id=\"p1\">1. Winter rota</h2>")
        .expect("the rota first");
    let course = html
        .find("<h2 id=\"p2\">2. First-aid course</h2>")
        .expect("the course second");
    let handover = html
        .find("<h2 id=\"p3\">3. Earlier handover</h2>")
        .expect("the handover third");
    assert!(rota < course && course < handover, "{html}");
    let summary = part(&html, "<h2>Proposals</h2>", "<h2 id=");
    assert!(
        summary.find("Winter rota") < summary.find("First-aid course"),
        "{summary}"
    );
}

#[test]
fn people_teams_and_groups_are_named_and_their_ids_never_shown() {
    let html = report("x");
    for name in [
        "Nell x",
        "Rena x",
        "Cora x",
        "Tariq x",
        "the team Community nursing x",
        "the group Staff training x",
    ] {
        assert!(html.contains(name), "{name}: {html}");
    }
    for id in [NELL.0, RENA.0, CORA.0, TARIQ.0, NURSING.0, TRAINING.0] {
        assert!(!html.contains(&id.to_string()), "{id} is shown: {html}");
    }
    assert!(!html.contains("team 0000"), "{html}");
}

#[test]
fn a_threshold_proposal_shows_its_whole_record() {
    let html = report("x");
    let rota = part(&html, "<h2 id=\"p1\">", "<h2 id=");
    for expected in [
        "<tr><th scope=\"row\">Owner</th><td>the team Community nursing x</td></tr>",
        "<td>THRESHOLD: 50% of eligible members agree</td>",
        "<tr><th scope=\"row\">Proposer</th><td>Nell x</td></tr>",
        "<tr><th scope=\"row\">Raised</th><td>27 Nov 2026 17:07 UTC (position 7)</td></tr>",
        // The body as raised and as amended, with the reason.
        "<h4>Version 1, as raised by Nell x on 27 Nov 2026 17:07 UTC</h4>",
        "<div class=\"body\">Body one x</div>",
        "<h4>Version 2, amended by Nell x on 27 Nov 2026 17:12 UTC</h4>\n<p>Why amended: Amended x</p>\n<div class=\"body\">Body two x</div>",
        // Who was asked, why, when, and their answer.
        "<tr><td>the team Community nursing x</td><td>AFFECTED</td><td>Nell x, 27 Nov 2026 17:08 UTC (position 8)</td><td>no deadline</td><td>yes, 27 Nov 2026 17:17 UTC by Tariq x (SUPPORT)</td></tr>",
        "<tr><td>Cora x</td><td>EXPERT</td>",
        // Advice and the objection with its resolution.
        "<tr><td>Cora x</td><td>CONCERN</td><td class=\"text\">Concern x</td><td>27 Nov 2026 17:10 UTC</td></tr>",
        "<tr><td>Rena x</td><td class=\"text\">Objection x</td><td>27 Nov 2026 17:11 UTC, against version 1</td><td>INTEGRATED</td><td class=\"text\">Resolved x</td><td>Rena x, 27 Nov 2026 17:13 UTC (position 13)</td></tr>",
        // Votes, the count needed and the count.
        "Required: 2 agree votes (50% of the 3 eligible when raised: Nell x, Rena x, Tariq x). Agree votes when decided: 2.",
        "<tr><td>Nell x</td><td>agrees</td><td>27 Nov 2026 17:14 UTC</td></tr>",
        "<tr><td>Tariq x</td><td>does not agree</td>",
        // The decision and each view beside its note.
        "<p><strong>ADOPTED</strong>, recorded by Nell x, 27 Nov 2026 17:18 UTC (position 18).</p>",
        "<tr><td>Advice from Cora x (CONCERN)</td><td class=\"text\">Concern x</td><td class=\"text\">Weighed concern x</td></tr>",
        "<tr><td>Objection from Rena x</td><td class=\"text\">Objection x</td><td class=\"text\">Weighed objection x</td></tr>",
        "<tr><td>KEEP</td><td>Rena x, 27 Nov 2026 17:19 UTC (position 19)</td><td class=\"text\">Kept x</td>",
        // The verdict.
        "Advice process followed (adviceProcessFollowed): <strong>yes</strong>.",
        "<tr><td>THRESHOLD_MET</td><td>passed</td><td>2 of 3 eligible members agree; 2 must</td></tr>",
    ] {
        assert!(rota.contains(expected), "{expected}\nnot in\n{rota}");
    }
    assert!(!html.contains("T17:"), "no RFC 3339 times: {html}");
}

#[test]
fn a_group_proposal_shows_its_spend_in_pounds_against_the_group_budget() {
    let html = report("x");
    let course = part(&html, "<h2 id=\"p2\">", "<h2 id=");
    for expected in [
        "<td>£1,234.50 from the budget of the group Staff training x</td>",
        "<td>£5,000.00 before this decision's spend</td>",
        "<tr><th scope=\"row\">Committed</th><td>£1,234.50 against the budget of the group Staff training x on 27 Nov 2026 17:27 UTC (position 27)</td></tr>",
        "<tr><td>Rena x</td><td>no objection (consents)</td>",
        "<tr><td>WITHIN_BUDGET</td><td>passed</td><td>the spend of £1,234.50 was within the £5,000.00 left</td></tr>",
        "<tr><td>WITHIN_MANDATE</td><td>passed</td>",
    ] {
        assert!(course.contains(expected), "{expected}\nnot in\n{course}");
    }
}

#[test]
fn every_check_of_the_verdict_is_shown_by_name() {
    let html = report("x");
    for check in [
        "ADVICE_SOUGHT",
        "ADVISERS_HEARD",
        "FAIR_WINDOW",
        "VIEWS_WEIGHED",
        "OBJECTION_WINDOW",
        "OBJECTIONS_RESOLVED",
        "THRESHOLD_MET",
        "WITHIN_MANDATE",
        "WITHIN_BUDGET",
    ] {
        assert!(
            html.contains(&format!("<tr><td>{check}</td>")),
            "{check}: {html}"
        );
    }
    let open = part(&html, "<h2 id=\"p3\">", "</body>");
    assert!(
        open.contains("Still open: judged as an adoption at 27 Nov 2026 17:29 UTC"),
        "{open}"
    );
    assert!(
        open.contains(
            "<tr><td>ADVISERS_HEARD</td><td>FAILED</td><td>waiting for advice from Rena x"
        ),
        "{open}"
    );
    assert!(open.contains("<p>Not decided.</p>"), "{open}");
}

#[test]
fn hostile_text_is_escaped_in_every_field() {
    let html = report(HOSTILE);
    assert!(!html.contains("<script>"), "{html}");
    let escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;, \
                   'quoted' &amp; &quot;double&quot;\nsecond line";
    assert!(html.contains(&format!("<td>Nell {escaped}</td>")), "{html}");
    assert!(
        html.contains(&format!("<div class=\"body\">Body two {escaped}</div>")),
        "{html}"
    );
}

#[test]
fn rendering_is_deterministic_and_an_unknown_layout_is_refused() {
    assert_eq!(report("x"), report("x"));
    let error = render(3, &bundle("x"), NOTE).expect_err("layout 3");
    assert!(error.to_string().contains("layout 3"), "{error}");
    assert!(
        render(1, &bundle("x"), NOTE).is_ok(),
        "layout 1 still renders"
    );
}

#[test]
fn an_event_the_domain_cannot_read_is_named_by_its_position() {
    let mut lines = bundle("x");
    let mut doc: Value = lines[7].doc.clone();
    doc["payload"] = json!({ "nonsense": true });
    lines[7] = line(doc);
    let error = render(LAYOUT, &lines, NOTE).expect_err("unreadable");
    assert!(error.to_string().contains("position 8"), "{error}");
}

#[test]
fn shares_and_times_read_as_people_write_them() {
    assert_eq!(percent(5000), "50%");
    assert_eq!(percent(3333), "33.33%");
    assert_eq!(percent(1250), "12.5%");
    assert_eq!(percent(10_000), "100%");
    assert_eq!(when(Log::at(15)), "27 Nov 2026 17:15 UTC");
}
