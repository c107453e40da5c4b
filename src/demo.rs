//! `advice-log demo`: a realistic organisation, loaded through the same
//! application commands the API runs, with proposals at every stage.
//!
//! The story starts ten weeks ago (the demo's clock moves on as it goes), so
//! the record has realistic times and one decision is due for review today.

use std::sync::Arc;

use chrono::{Duration, Utc};

use crate::app::{App, AppError, CommandMeta, ManualClock, RaiseProposal};
use crate::clock::Clock;
use crate::domain::proposal::{
    AdviceReason, Adviser, Outcome, Owner, ProposalId, Resolution, Rule, Stance, WeighingNote,
};
use crate::domain::{Actor, Caller, GroupId, OrgRole, PersonId, TeamId, TeamRole};

/// The tokens the demo prints, one per role.
#[derive(Debug, Clone)]
pub struct DemoTokens {
    /// Ada, the organisation's admin.
    pub admin: String,
    /// Sam, a paramedic and member of the ambulance station team.
    pub member: String,
    /// Grace, the ambulance station's coach.
    pub coach: String,
    /// Quinn, the quality auditor.
    pub auditor: String,
}

struct Demo<'a> {
    app: &'a App,
    clock: &'a ManualClock,
    admin: CommandMeta,
    step: &'a (dyn Fn(&str) + Send + Sync),
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
        review_in_days: Option<i64>,
    ) -> Result<ProposalId, AppError> {
        (self.step)(&format!("raising \u{201c}{title}\u{201d}"));
        let now = self.clock.now();
        let raise = RaiseProposal {
            owner,
            title: title.into(),
            body: body.into(),
            rule,
            threshold: (rule == Rule::Threshold).then_some(0.5),
            advice_deadline: Some(now + Duration::days(14)),
            area: area.map(str::to_string),
            spend,
            review_by: review_in_days.map(|d| now + Duration::days(d)),
            decider: None,
            supersedes: None,
        };
        Ok(ProposalId(
            self.app.raise_proposal(&person(who), raise).await?.subject,
        ))
    }
}

/// Loads the demo organisation into an empty log and answers a token per role.
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
    let station = d
        .team(
            "North Station Ambulance Team",
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
            "Riverside Community Nursing",
            &[(noor, Member), (ben, Member), (ivy, Member), (olu, Coach)],
        )
        .await?;
    let crisis = d
        .team(
            "Crisis Mental Health Team",
            &[(maya, Member), (jon, Member), (ruth, Member)],
        )
        .await?;

    step("forming the Staff Training Group");
    let mandate = [
        "training".to_string(),
        "conferences".to_string(),
        "training equipment".to_string(),
    ];
    let group = GroupId(
        app.form_group(
            &d.admin,
            "Staff Training Group",
            &[station, nursing, crisis],
            &mandate,
        )
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

    // The ambulance station signs off its rota when half the team agrees.
    d.later(1, 0);
    let rota = d.raise(sam, Owner::Team(station), "Winter rota: swap Friday nights",
        "From December, the Friday night shift moves one paramedic from the day crew so nights have two double-crewed ambulances.",
        Rule::Threshold, None, None, Some(40)).await?;
    step("the station votes on its rota");
    d.later(0, 6);
    for (who, agree) in [(sam, true), (priya, true), (tom, false), (lena, true)] {
        app.cast_vote(&person(who), rota, agree).await?;
    }
    d.later(1, 0);
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
        Rule::Advice, None, None, Some(60)).await?;
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
    d.later(1, 0);
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

    d.later(2, 0);
    let handover = d
        .raise(
            noor,
            Owner::Team(nursing),
            "Move morning handover to 07:45",
            "Handover starts fifteen minutes earlier so the first visits begin at 08:30.",
            Rule::Advice,
            None,
            None,
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
    app.give_advice(
        &person(ivy),
        handover,
        Stance::Support,
        "Works for school drop-offs if it is 07:45, not 07:30.",
    )
    .await?;

    // The crisis team decides by consent.
    d.later(2, 0);
    let visits = d
        .raise(
            maya,
            Owner::Team(crisis),
            "Two-person visits after 20:00",
            "All home visits that start after 20:00 are made by two people.",
            Rule::Consent,
            None,
            None,
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

    let reflective = d
        .raise(
            ruth,
            Owner::Team(crisis),
            "Weekly reflective practice slot",
            "Thursday 14:00 to 15:00 is kept free for reflective practice.",
            Rule::Consent,
            None,
            None,
            Some(90),
        )
        .await?;
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
    d.later(1, 0);
    app.decide_proposal(
        &person(ruth),
        reflective,
        Outcome::Adopted,
        "No objection stands.",
        vec![],
    )
    .await?;

    // The staff training group spends its budget for all three teams.
    d.later(3, 0);
    let first_aid = d.raise(sam, Owner::Group(group), "First-aid refresher for all three teams",
        "Book two trainers for four half-day sessions in March, open to every member of the three teams.",
        Rule::Consent, Some("training"), Some(450_000), Some(120)).await?;
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
    d.later(2, 0);
    app.decide_proposal(
        &person(sam),
        first_aid,
        Outcome::Adopted,
        "All three teams support it; within the training budget.",
        vec![],
    )
    .await?;

    d.later(1, 0);
    d.raise(noor, Owner::Group(group), "Send two staff to the RCN congress",
        "Two places at the RCN congress in May, with travel, for nurses who will share what they learn.",
        Rule::Consent, Some("conferences"), Some(300_000), None).await?;

    step("issuing tokens");
    Ok(DemoTokens {
        admin: boot.token.unwrap_or_default(),
        member: d.token(sam).await?,
        coach: d.token(grace).await?,
        auditor: d.token(quinn).await?,
    })
}

/// The clock a demo starts on: ten weeks ago.
pub fn demo_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(Utc::now() - Duration::days(70)))
}
