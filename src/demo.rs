//! `advice-log demo`: a realistic organisation, loaded through the same
//! application commands the API runs, with proposals at every stage.
//!
//! The story starts ten weeks ago (the demo's clock moves on as it goes), so
//! the record has realistic times. Every date that matters after the demo has
//! run is set from the moment it runs ("today"), not from the story's clock:
//! the proposals still open were raised in the last few days and wait for
//! advice until days from now, and one decision was due for review yesterday.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::app::{App, AppError, CommandMeta, ManualClock, RaiseProposal};
use crate::clock::Clock;
use crate::domain::proposal::{
    AdviceReason, Adviser, Outcome, Owner, ProposalId, Resolution, Rule, Stance, WeighingNote,
};
use crate::domain::{Actor, Caller, GroupId, OrgRole, PersonId, TeamId, TeamRole};

/// How one person of the demo signs in: who they are, their role and team,
/// and a token of their own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    /// Their name.
    pub name: String,
    /// Their role: `ADMIN`, `AUDITOR`, `MEMBER` or `COACH`.
    pub role: String,
    /// Where they hold that role: a team (and a group they represent it in),
    /// or the organisation.
    pub team: String,
    /// A token for them (`Authorization: Bearer <token>`).
    pub token: String,
}

/// The tokens the demo prints: the walkthrough's people by name, and a
/// sign-in line for everyone, the admin last.
#[derive(Debug, Clone)]
pub struct DemoTokens {
    /// Ada, the organisation's admin.
    pub admin: String,
    /// Sam, a paramedic and member of the ambulance station team.
    pub member: String,
    /// Priya, a second member of the ambulance station team, so that a
    /// threshold of half the team can be met in the walkthrough.
    pub second_member: String,
    /// Grace, the ambulance station's coach.
    pub coach: String,
    /// Quinn, the quality auditor.
    pub auditor: String,
    /// Everyone in the demo, one sign-in line each, the admin last.
    pub people: Vec<SignIn>,
}

struct Demo<'a> {
    app: &'a App,
    clock: &'a ManualClock,
    admin: CommandMeta,
    step: &'a (dyn Fn(&str) + Send + Sync),
    /// The moment the demo runs: the dates still ahead when it has run are
    /// set from it.
    today: DateTime<Utc>,
}

/// When a proposal's advice deadline or review date falls.
#[derive(Debug, Clone, Copy)]
enum Due {
    /// Days after it is raised, on the story's clock.
    AfterRaising(i64),
    /// Days from the moment the demo runs (negative: already past).
    FromToday(i64),
}

fn person(id: PersonId) -> CommandMeta {
    CommandMeta::new(
        Caller::Person(Actor {
            person: id,
            org_role: None,
        }),
        None,
    )
}

impl Demo<'_> {
    fn later(&self, days: i64, hours: i64) {
        self.clock
            .advance(Duration::days(days) + Duration::hours(hours));
    }

    /// Moves the story's clock on to `days` before today (never back).
    fn days_before_today(&self, days: i64) {
        let by = self.today - Duration::days(days) - self.clock.now();
        if by > Duration::zero() {
            self.clock.advance(by);
        }
    }

    fn date(&self, due: Due) -> DateTime<Utc> {
        match due {
            Due::AfterRaising(days) => self.clock.now() + Duration::days(days),
            Due::FromToday(days) => self.today + Duration::days(days),
        }
    }

    async fn person(
        &self,
        name: &str,
        email: &str,
        role: Option<OrgRole>,
    ) -> Result<PersonId, AppError> {
        (self.step)(&format!("registering {name}"));
        Ok(PersonId(
            self.app
                .register_person(&self.admin, name, email, role)
                .await?
                .subject,
        ))
    }

    async fn token(&self, person: PersonId) -> Result<String, AppError> {
        Ok(self
            .app
            .issue_token(&self.admin, person)
            .await?
            .token
            .unwrap_or_default())
    }

    async fn team(&self, name: &str, members: &[(PersonId, TeamRole)]) -> Result<TeamId, AppError> {
        (self.step)(&format!("forming {name}"));
        let team = TeamId(self.app.form_team(&self.admin, name).await?.subject);
        for (who, role) in members {
            self.app.join_team(&self.admin, team, *who, *role).await?;
        }
        Ok(team)
    }

    #[allow(clippy::too_many_arguments)]
    async fn raise(
        &self,
        who: PersonId,
        owner: Owner,
        title: &str,
        body: &str,
        rule: Rule,
        area: Option<&str>,
        spend: Option<i64>,
        deadline: Due,
        review: Option<Due>,
    ) -> Result<ProposalId, AppError> {
        (self.step)(&format!("raising \u{201c}{title}\u{201d}"));
        let raise = RaiseProposal {
            owner,
            title: title.into(),
            body: body.into(),
            rule,
            threshold: (rule == Rule::Threshold).then_some(0.5),
            advice_deadline: Some(self.date(deadline)),
            area: area.map(str::to_string),
            spend,
            review_by: review.map(|due| self.date(due)),
            decider: None,
            supersedes: None,
        };
        Ok(ProposalId(
            self.app.raise_proposal(&person(who), raise).await?.subject,
        ))
    }
}

/// Loads the demo organisation into an empty log and answers a sign-in line
/// per person. The story runs on `clock` (start it with [`demo_clock`]); the
/// dates still ahead afterwards are set from the moment this runs.
pub async fn load(
    app: &App,
    clock: &ManualClock,
    step: &(dyn Fn(&str) + Send + Sync),
) -> Result<DemoTokens, AppError> {
    let boot = app
        .bootstrap("Ada Okafor", "ada.okafor@example.nhs.uk")
        .await?;
    let ada = PersonId(boot.outcome.subject);
    let admin = CommandMeta::new(
        Caller::Person(Actor {
            person: ada,
            org_role: Some(OrgRole::Admin),
        }),
        None,
    );
    let d = Demo {
        app,
        clock,
        admin,
        step,
        today: Utc::now(),
    };

    let quinn = d
        .person(
            "Quinn Harper",
            "quality@example.nhs.uk",
            Some(OrgRole::Auditor),
        )
        .await?;
    let sam = d
        .person("Sam Patel", "sam.patel@example.nhs.uk", None)
        .await?;
    let priya = d
        .person("Priya Shah", "priya.shah@example.nhs.uk", None)
        .await?;
    let tom = d
        .person("Tom Evans", "tom.evans@example.nhs.uk", None)
        .await?;
    let lena = d
        .person("Lena Novak", "lena.novak@example.nhs.uk", None)
        .await?;
    let grace = d
        .person("Grace Hill", "grace.hill@example.nhs.uk", None)
        .await?;
    let noor = d
        .person("Noor Ahmed", "noor.ahmed@example.nhs.uk", None)
        .await?;
    let ben = d
        .person("Ben Clarke", "ben.clarke@example.nhs.uk", None)
        .await?;
    let ivy = d
        .person("Ivy Chen", "ivy.chen@example.nhs.uk", None)
        .await?;
    let olu = d
        .person("Olu Adeyemi", "olu.adeyemi@example.nhs.uk", None)
        .await?;
    let maya = d
        .person("Maya Brown", "maya.brown@example.nhs.uk", None)
        .await?;
    let jon = d
        .person("Jon Reed", "jon.reed@example.nhs.uk", None)
        .await?;
    let ruth = d
        .person("Ruth King", "ruth.king@example.nhs.uk", None)
        .await?;

    use TeamRole::{Coach, Member};
    const STATION: &str = "North Station Ambulance Team";
    const NURSING: &str = "Riverside Community Nursing";
    const CRISIS: &str = "Crisis Mental Health Team";
    const GROUP: &str = "Staff Training Group";
    let station = d
        .team(
            STATION,
            &[
                (sam, Member),
                (priya, Member),
                (tom, Member),
                (lena, Member),
                (grace, Coach),
            ],
        )
        .await?;
    let nursing = d
        .team(
            NURSING,
            &[(noor, Member), (ben, Member), (ivy, Member), (olu, Coach)],
        )
        .await?;
    let crisis = d
        .team(CRISIS, &[(maya, Member), (jon, Member), (ruth, Member)])
        .await?;

    step("forming the Staff Training Group");
    let mandate = [
        "training".to_string(),
        "conferences".to_string(),
        "training equipment".to_string(),
    ];
    let group = GroupId(
        app.form_group(&d.admin, GROUP, &[station, nursing, crisis], &mandate)
            .await?
            .subject,
    );
    for (team, rep) in [(station, sam), (nursing, noor), (crisis, maya)] {
        app.delegate_representative(&person(rep), group, team, rep)
            .await?;
    }
    app.allocate_budget(
        &d.admin,
        group,
        1_200_000,
        Some("Training fund for 2026/27".into()),
        Some("2026/27".into()),
    )
    .await?;

    // Weeks ago: decisions made, after every deadline had passed, and one
    // proposal withdrawn.

    // The ambulance station signs off its rota when half the team agrees;
    // it was due for review yesterday.
    d.later(1, 0);
    let rota = d.raise(sam, Owner::Team(station), "Winter rota: swap Friday nights",
        "From December, the Friday night shift moves one paramedic from the day crew so nights have two double-crewed ambulances.",
        Rule::Threshold, None, None, Due::AfterRaising(2), Some(Due::FromToday(-1))).await?;
    step("the station votes on its rota");
    d.later(0, 6);
    for (who, agree) in [(sam, true), (priya, true), (tom, false), (lena, true)] {
        app.cast_vote(&person(who), rota, agree).await?;
    }
    d.later(2, 0);
    app.decide_proposal(
        &person(sam),
        rota,
        Outcome::Adopted,
        "Three of four members agree; half were needed.",
        vec![],
    )
    .await?;

    let withdrawn = d
        .raise(
            tom,
            Owner::Team(station),
            "Switch to 12-hour shifts",
            "Replace the 8-hour pattern with 12-hour shifts.",
            Rule::Threshold,
            None,
            None,
            Due::AfterRaising(7),
            None,
        )
        .await?;
    d.later(2, 0);
    app.withdraw_proposal(
        &person(tom),
        withdrawn,
        "Fatigue data from the trust says no; withdrawn after talking to Grace.",
    )
    .await?;

    // Community nursing uses the advice process, with a coach.
    d.later(3, 0);
    let kit = d.raise(noor, Owner::Team(nursing), "Trial a shared wound-care kit",
        "Each car carries one shared wound-care kit instead of three personal ones, for a six-week trial.",
        Rule::Advice, None, None, Due::AfterRaising(2), Some(Due::FromToday(30))).await?;
    step("nursing asks for advice on the wound-care kit");
    app.request_advice(
        &person(noor),
        kit,
        Adviser::Person(ben),
        AdviceReason::Affected,
        None,
    )
    .await?;
    app.request_advice(
        &person(noor),
        kit,
        Adviser::Person(olu),
        AdviceReason::Expert,
        None,
    )
    .await?;
    d.later(1, 0);
    let concern = app
        .give_advice(
            &person(ben),
            kit,
            Stance::Concern,
            "Restocking needs an owner or kits will run dry at weekends.",
        )
        .await?
        .id;
    app.give_advice(
        &person(olu),
        kit,
        Stance::Support,
        "Tissue viability team supports fewer, better-stocked kits.",
    )
    .await?;
    d.later(1, 1);
    app.decide_proposal(
        &person(noor),
        kit,
        Outcome::Adopted,
        "Advice heard; the trial goes ahead with a named restocking owner.",
        vec![WeighingNote {
            ref_id: concern,
            note: "Ivy owns weekend restocking during the trial.".into(),
        }],
    )
    .await?;

    // The crisis team decides by consent.
    d.later(2, 0);
    let reflective = d
        .raise(
            ruth,
            Owner::Team(crisis),
            "Weekly reflective practice slot",
            "Thursday 14:00 to 15:00 is kept free for reflective practice.",
            Rule::Consent,
            None,
            None,
            Due::AfterRaising(2),
            Some(Due::FromToday(60)),
        )
        .await?;
    step("the crisis team hears an objection on reflective practice");
    let preference = app
        .raise_objection(
            &person(jon),
            reflective,
            "I would rather have it on Fridays.",
        )
        .await?
        .id;
    app.resolve_objection(
        &person(jon),
        reflective,
        preference,
        Resolution::Withdrawn,
        "Thursday is fine once we rotate the phone.",
        None,
    )
    .await?;
    d.later(2, 1);
    app.decide_proposal(
        &person(ruth),
        reflective,
        Outcome::Adopted,
        "No objection stands.",
        vec![WeighingNote {
            ref_id: preference,
            note: "Jon withdrew it: the phone rota makes Thursday work.".into(),
        }],
    )
    .await?;

    // The staff training group spends its budget for all three teams.
    d.later(3, 0);
    let first_aid = d.raise(sam, Owner::Group(group), "First-aid refresher for all three teams",
        "Book two trainers for four half-day sessions in March, open to every member of the three teams.",
        Rule::Consent, Some("training"), Some(450_000), Due::AfterRaising(3), Some(Due::FromToday(90))).await?;
    step("the training group hears its member teams");
    app.give_advice(
        &person(ben),
        first_aid,
        Stance::Support,
        "Nursing wants the paediatric module included.",
    )
    .await?;
    app.give_advice(
        &person(jon),
        first_aid,
        Stance::Support,
        "Crisis team can send two people per session.",
    )
    .await?;
    d.later(3, 1);
    app.decide_proposal(
        &person(sam),
        first_aid,
        Outcome::Adopted,
        "All three teams support it; within the training budget.",
        vec![],
    )
    .await?;

    // These last days: proposals still open, their deadlines days ahead.
    d.days_before_today(4);
    let handover = d
        .raise(
            noor,
            Owner::Team(nursing),
            "Move morning handover to 07:45",
            "Handover starts fifteen minutes earlier so the first visits begin at 08:30.",
            Rule::Advice,
            None,
            None,
            Due::FromToday(7),
            None,
        )
        .await?;
    step("nursing waits for advice on the handover");
    app.request_advice(
        &person(noor),
        handover,
        Adviser::Team(station),
        AdviceReason::Affected,
        None,
    )
    .await?;
    app.request_advice(
        &person(noor),
        handover,
        Adviser::Person(ivy),
        AdviceReason::Affected,
        None,
    )
    .await?;
    app.request_advice(
        &person(noor),
        handover,
        Adviser::Person(grace),
        AdviceReason::Expert,
        None,
    )
    .await?;
    d.later(0, 5);
    app.give_advice(
        &person(ivy),
        handover,
        Stance::Support,
        "Works for school drop-offs if it is 07:45, not 07:30.",
    )
    .await?;

    d.days_before_today(3);
    let visits = d
        .raise(
            maya,
            Owner::Team(crisis),
            "Two-person visits after 20:00",
            "All home visits that start after 20:00 are made by two people.",
            Rule::Consent,
            None,
            None,
            Due::FromToday(5),
            None,
        )
        .await?;
    step("the crisis team works through an objection");
    app.raise_objection(
        &person(jon),
        visits,
        "With three of us, two-person visits leave no one for the phone line.",
    )
    .await?;
    d.later(1, 0);
    app.amend_proposal(&person(maya), visits,
        "All home visits that start after 20:00 are made by two people; the phone line diverts to the out-of-hours hub while both are out.",
        "Meets Jon's objection about the phone line.").await?;

    d.days_before_today(1);
    d.raise(noor, Owner::Group(group), "Send two staff to the RCN congress",
        "Two places at the RCN congress in May, with travel, for nurses who will share what they learn.",
        Rule::Consent, Some("conferences"), Some(300_000), Due::FromToday(10), None).await?;

    step("issuing tokens");
    let station_rep = format!("{STATION}; represents it in the {GROUP}");
    let nursing_rep = format!("{NURSING}; represents it in the {GROUP}");
    let crisis_rep = format!("{CRISIS}; represents it in the {GROUP}");
    let everyone: [(PersonId, &str, &str, &str); 13] = [
        (sam, "Sam Patel", "MEMBER", &station_rep),
        (priya, "Priya Shah", "MEMBER", STATION),
        (tom, "Tom Evans", "MEMBER", STATION),
        (lena, "Lena Novak", "MEMBER", STATION),
        (grace, "Grace Hill", "COACH", STATION),
        (noor, "Noor Ahmed", "MEMBER", &nursing_rep),
        (ben, "Ben Clarke", "MEMBER", NURSING),
        (ivy, "Ivy Chen", "MEMBER", NURSING),
        (olu, "Olu Adeyemi", "COACH", NURSING),
        (maya, "Maya Brown", "MEMBER", &crisis_rep),
        (jon, "Jon Reed", "MEMBER", CRISIS),
        (ruth, "Ruth King", "MEMBER", CRISIS),
        (quinn, "Quinn Harper", "AUDITOR", "the organisation"),
    ];
    let mut people = Vec::with_capacity(everyone.len() + 1);
    for (id, name, role, team) in everyone {
        people.push(SignIn {
            name: name.into(),
            role: role.into(),
            team: team.into(),
            token: d.token(id).await?,
        });
    }
    let admin = boot.token.unwrap_or_default();
    people.push(SignIn {
        name: "Ada Okafor".into(),
        role: "ADMIN".into(),
        team: "the organisation".into(),
        token: admin.clone(),
    });
    let token_of = |name: &str| {
        people
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.token.clone())
            .unwrap_or_default()
    };
    Ok(DemoTokens {
        admin,
        member: token_of("Sam Patel"),
        second_member: token_of("Priya Shah"),
        coach: token_of("Grace Hill"),
        auditor: token_of("Quinn Harper"),
        people,
    })
}

/// What `advice-log demo` prints for `people`: a line per person with their
/// name, role, team and token, in columns, except that the admin (last) has
/// their token alone on the last line, as `bootstrap` prints it.
pub fn sign_in_lines(people: &[SignIn]) -> Vec<String> {
    let name = people
        .iter()
        .map(|p| p.name.chars().count())
        .max()
        .unwrap_or(0);
    let role = people
        .iter()
        .map(|p| p.role.chars().count())
        .max()
        .unwrap_or(0);
    let team = people
        .iter()
        .map(|p| p.team.chars().count())
        .max()
        .unwrap_or(0);
    let mut lines = Vec::with_capacity(people.len() + 1);
    for (i, p) in people.iter().enumerate() {
        let last = i + 1 == people.len();
        let token = if last {
            "token on the last line"
        } else {
            p.token.as_str()
        };
        lines.push(format!(
            "  {:name$}  {:role$}  {:team$}  {token}",
            p.name, p.role, p.team
        ));
        if last {
            lines.push(p.token.clone());
        }
    }
    lines
}

/// The clock a demo starts on: ten weeks ago.
pub fn demo_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(Utc::now() - Duration::days(70)))
}
