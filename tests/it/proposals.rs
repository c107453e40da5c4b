//! The three decision processes end to end through GraphQL, on both
//! backends: every breach refused with its code, and the trail and compliance
//! an auditor reads.

use std::sync::Arc;

use advice_log::app::ManualClock;
use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{error_code, TestApp, TestDb};

const REGISTER: &str =
    "mutation($input: RegisterPersonInput!) { registerPerson(input: $input) { person { id } } }";
const ISSUE: &str = "mutation($input: IssueTokenInput!) { issueToken(input: $input) { token } }";
const FORM_TEAM: &str =
    "mutation($input: FormTeamInput!) { formTeam(input: $input) { team { id } } }";
const JOIN: &str = "mutation($input: JoinTeamInput!) { joinTeam(input: $input) { position } }";

const PROPOSAL_FIELDS: &str = "id state rule threshold eligibleMembers version body originalBody reviewBy
    advisers { nodes { id person { id } team { id } reason answered } }
    advice { nodes { id stance text by { id } } }
    objections { nodes { id state reason by { id } resolutionNote validityTest } }
    amendments { nodes { version body reason } }
    votes { nodes { agree by { id } } }
    decision { outcome rationale notes { refId note } missingAdvisers { id } agreeVotes requiredVotes by { id } }
    reviews { nodes { outcome note nextReviewBy by { id } } }
    revoked
    trail { position eventType at actor { id } role reason }
    compliance { adviceProcessFollowed checks { name passed detail } missingAdvisers { id } openObjections { id } }";

fn mutation(name: &str, input_type: &str) -> String {
    format!("mutation($input: {input_type}!) {{ {name}(input: $input) {{ createdId position proposal {{ {PROPOSAL_FIELDS} }} }} }}")
}

/// A person with a token.
pub struct Person {
    /// Their id.
    pub id: String,
    /// Their token.
    pub token: String,
}

/// North ambulance station (Ann, Bob, Cat, Dee and a coach), a nurse in
/// Community nursing and an expert, on a server with a clock the test moves.
pub struct Station {
    pub app: TestApp,
    pub clock: Arc<ManualClock>,
    pub admin: String,
    pub team: String,
    pub nursing: String,
    pub ann: Person,
    pub bob: Person,
    pub cat: Person,
    pub dee: Person,
    pub coach: Person,
    pub nurse: Person,
    pub expert: Person,
}

async fn person(app: &TestApp, admin: &str, name: &str) -> Person {
    let email = format!("{}@example.org", name.to_lowercase());
    let id = app
        .ok(
            admin,
            REGISTER,
            json!({"input": {"name": name, "email": email}}),
        )
        .await["registerPerson"]["person"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let token = app
        .ok(admin, ISSUE, json!({"input": {"personId": id}}))
        .await["issueToken"]["token"]
        .as_str()
        .expect("token")
        .to_string();
    Person { id, token }
}

async fn team(app: &TestApp, admin: &str, name: &str, members: &[(&Person, &str)]) -> String {
    let id = app
        .ok(admin, FORM_TEAM, json!({"input": {"name": name}}))
        .await["formTeam"]["team"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    for (who, role) in members {
        app.ok(
            admin,
            JOIN,
            json!({"input": {"teamId": id, "personId": who.id, "role": role}}),
        )
        .await;
    }
    id
}

/// The station on a fresh server on `db`.
pub async fn station(db: &TestDb) -> Station {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let app = TestApp::spawn_with_clock(db, clock.clone()).await;
    let (_, admin) = app.bootstrap().await;
    let ann = person(&app, &admin, "Ann").await;
    let bob = person(&app, &admin, "Bob").await;
    let cat = person(&app, &admin, "Cat").await;
    let dee = person(&app, &admin, "Dee").await;
    let coach = person(&app, &admin, "Coach").await;
    let nurse = person(&app, &admin, "Nurse").await;
    let expert = person(&app, &admin, "Expert").await;
    let team = team(
        &app,
        &admin,
        "North ambulance station",
        &[
            (&ann, "MEMBER"),
            (&bob, "MEMBER"),
            (&cat, "MEMBER"),
            (&dee, "MEMBER"),
            (&coach, "COACH"),
        ],
    )
    .await;
    let nursing = self::team(&app, &admin, "Community nursing", &[(&nurse, "MEMBER")]).await;
    Station {
        app,
        clock,
        admin,
        team,
        nursing,
        ann,
        bob,
        cat,
        dee,
        coach,
        nurse,
        expert,
    }
}

impl Station {
    /// Runs a proposal mutation that must succeed; answers its payload.
    pub async fn ok(&self, who: &Person, name: &str, input_type: &str, input: Value) -> Value {
        self.app
            .ok(
                &who.token,
                &mutation(name, input_type),
                json!({"input": input}),
            )
            .await[name]
            .clone()
    }

    /// Runs a proposal mutation that must be refused with `code`, and checks
    /// that it changed nothing.
    pub async fn refused(
        &self,
        who: &Person,
        name: &str,
        input_type: &str,
        input: Value,
        code: &str,
    ) {
        let before = self.app.store.head().await.expect("head");
        let (_, body) = self
            .app
            .graphql_as(
                Some(&who.token),
                &mutation(name, input_type),
                json!({"input": input}),
            )
            .await;
        assert_eq!(
            error_code(&body),
            Some(code),
            "{name} as {}: {body}",
            who.id
        );
        assert_eq!(
            self.app.store.head().await.expect("head"),
            before,
            "a refused {name} changed the log"
        );
    }

    pub async fn raise(&self, rule: &str, extra: Value) -> String {
        let mut input = json!({
            "teamId": self.team,
            "title": "Swap the Friday night shift",
            "body": "Move one paramedic from days to nights on Fridays.",
            "rule": rule,
            "adviceDeadline": (self.clock_now() + Duration::days(7)).to_rfc3339(),
        });
        if let (Some(input), Some(extra)) = (input.as_object_mut(), extra.as_object()) {
            input.extend(extra.clone());
        }
        let raised = self
            .ok(&self.ann, "raiseProposal", "RaiseProposalInput", input)
            .await;
        assert_eq!(raised["proposal"]["state"], "OPEN");
        raised["proposal"]["id"].as_str().expect("id").to_string()
    }

    pub fn clock_now(&self) -> chrono::DateTime<Utc> {
        advice_log::app::Clock::now(&*self.clock)
    }

    pub async fn proposal(&self, id: &str, as_of: Option<String>) -> Value {
        let query = format!("query($id: ID!, $asOf: DateTime) {{ proposal(id: $id, asOf: $asOf) {{ {PROPOSAL_FIELDS} }} }}");
        self.app
            .ok(&self.coach.token, &query, json!({"id": id, "asOf": as_of}))
            .await["proposal"]
            .clone()
    }
}

fn types(trail: &Value) -> Vec<String> {
    trail
        .as_array()
        .expect("trail")
        .iter()
        .map(|e| e["eventType"].as_str().expect("type").to_string())
        .collect()
}

on_both_backends! {
    async fn the_advice_process_from_raise_to_review(backend: Backend) {
        let db = TestDb::new(backend).await;
        let s = station(&db).await;
        let id = s.raise("ADVICE", json!({})).await;
        let decide = |notes: Value| json!({"proposalId": id, "outcome": "ADOPTED", "rationale": "Safe to try for a month.", "notes": notes});

        s.refused(&s.ann, "decide", "DecideInput", decide(json!([])), "ADVICE_PENDING").await;
        let ask = |person: Option<&str>, team: Option<&str>, reason: &str| json!({"proposalId": id, "personId": person, "teamId": team, "reason": reason});
        s.refused(&s.bob, "requestAdvice", "RequestAdviceInput", ask(Some(&s.expert.id), None, "EXPERT"), "FORBIDDEN").await;
        s.ok(&s.ann, "requestAdvice", "RequestAdviceInput", ask(Some(&s.expert.id), None, "EXPERT")).await;
        s.ok(&s.ann, "requestAdvice", "RequestAdviceInput", ask(None, Some(&s.nursing), "AFFECTED")).await;
        let bob_request = s.ok(&s.ann, "requestAdvice", "RequestAdviceInput", ask(Some(&s.bob.id), None, "AFFECTED")).await["createdId"].clone();
        s.refused(&s.ann, "requestAdvice", "RequestAdviceInput", ask(Some(&s.bob.id), None, "AFFECTED"), "INVALID_STATE").await;
        s.refused(&s.ann, "requestAdvice", "RequestAdviceInput", ask(None, None, "AFFECTED"), "INVALID_INPUT").await;

        let advise = |stance: &str, text: &str| json!({"proposalId": id, "stance": stance, "text": text});
        let concern = s.ok(&s.expert, "giveAdvice", "GiveAdviceInput", advise("CONCERN", "Fatigue risk on back-to-back nights.")).await["createdId"].clone();
        s.ok(&s.nurse, "giveAdvice", "GiveAdviceInput", advise("SUPPORT", "Works for our district rounds.")).await;
        s.refused(&s.coach, "raiseObjection", "RaiseObjectionInput", json!({"proposalId": id, "reason": "I object."}), "FORBIDDEN").await;
        let objection = s.ok(&s.cat, "raiseObjection", "RaiseObjectionInput", json!({"proposalId": id, "reason": "Handover at 19:00 clashes with school runs."})).await["createdId"].clone();

        // Bob never answers; before the deadline the decision must wait.
        s.refused(&s.ann, "decide", "DecideInput", decide(json!([])), "ADVICE_PENDING").await;
        s.clock.advance(Duration::days(8));
        let before_decision = s.clock_now().to_rfc3339();
        s.clock.advance(Duration::minutes(1));
        s.refused(&s.ann, "decide", "DecideInput", decide(json!([{"refId": concern, "note": "Max two nights in a row."}])), "INVALID_INPUT").await;
        s.refused(&s.bob, "decide", "DecideInput", decide(json!([])), "FORBIDDEN").await;
        let decided = s.ok(&s.ann, "decide", "DecideInput", decide(json!([
            {"refId": concern, "note": "Max two nights in a row."},
            {"refId": objection, "note": "Handover moved to 19:30."},
        ]))).await["proposal"].clone();
        assert_eq!(decided["state"], "DECIDED");
        assert_eq!(decided["decision"]["outcome"], "ADOPTED");
        assert_eq!(decided["decision"]["by"]["id"], json!(s.ann.id));
        assert_eq!(decided["decision"]["missingAdvisers"], json!([{"id": bob_request}]), "the record names who never answered");
        assert_eq!(decided["compliance"]["adviceProcessFollowed"], true);
        assert_eq!(decided["compliance"]["missingAdvisers"], json!([{"id": bob_request}]));
        let advisers = decided["advisers"]["nodes"].as_array().expect("advisers");
        assert_eq!(advisers.iter().map(|a| a["answered"].as_bool().expect("bool")).collect::<Vec<_>>(), vec![true, true, false]);
        assert_eq!(advisers[1]["team"]["id"], json!(s.nursing), "a team counts as answered once one of its people advises");

        // The trail tells an auditor who did what, in which role, and why.
        let trail = &decided["trail"];
        assert_eq!(types(trail), ["ProposalRaised", "AdviceRequested", "AdviceRequested", "AdviceRequested", "AdviceGiven", "AdviceGiven", "ObjectionRaised", "ProposalDecided"]);
        let roles: Vec<&str> = trail.as_array().expect("trail").iter().map(|e| e["role"].as_str().expect("role")).collect();
        assert_eq!(roles, ["MEMBER", "MEMBER", "MEMBER", "MEMBER", "ADVISER", "ADVISER", "MEMBER", "MEMBER"]);
        assert_eq!(trail[4]["actor"]["id"], json!(s.expert.id));
        assert_eq!(trail[6]["reason"], "Handover at 19:00 clashes with school runs.");
        assert_eq!(trail[7]["reason"], "Safe to try for a month.");
        let positions: Vec<u64> = trail.as_array().expect("trail").iter().map(|e| e["position"].as_u64().expect("position")).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]));

        // Nothing but a review once decided.
        s.refused(&s.expert, "giveAdvice", "GiveAdviceInput", advise("SUPPORT", "late"), "INVALID_STATE").await;
        s.refused(&s.coach, "reviewDecision", "ReviewDecisionInput", json!({"proposalId": id, "outcome": "KEEP", "note": "ok"}), "FORBIDDEN").await;
        let next = (s.clock_now() + Duration::days(90)).to_rfc3339();
        let kept = s.ok(&s.bob, "reviewDecision", "ReviewDecisionInput", json!({"proposalId": id, "outcome": "KEEP", "note": "Nights are covered.", "nextReviewBy": next})).await["proposal"].clone();
        assert_eq!(kept["reviews"]["nodes"][0]["by"]["id"], json!(s.bob.id));
        assert!(kept["reviewBy"].is_string());
        // Revoking is a decision too: a review that revokes is refused.
        s.refused(&s.ann, "reviewDecision", "ReviewDecisionInput", json!({"proposalId": id, "outcome": "REVOKE", "note": "Fatigue incidents rose."}), "INVALID_INPUT").await;

        // As it stood before the decision, rebuilt from the log.
        let earlier = s.proposal(&id, Some(before_decision)).await;
        assert_eq!(earlier["state"], "OPEN");
        assert_eq!(earlier["decision"], Value::Null);
        assert_eq!(types(&earlier["trail"]).len(), 7);
        s.app.stop().await;
    }
}

on_both_backends! {
    async fn consent_with_objections_integrated_ruled_invalid_and_withdrawn(backend: Backend) {
        let db = TestDb::new(backend).await;
        let s = station(&db).await;
        let id = s.raise("CONSENT", json!({})).await;
        let decide = json!({"proposalId": id, "outcome": "ADOPTED", "rationale": "No objection stands."});
        let object = |reason: &str| json!({"proposalId": id, "reason": reason});
        let resolve = |objection: &Value, resolution: &str, test: Option<&str>| json!({"proposalId": id, "objectionId": objection, "resolution": resolution, "note": "Talked it through.", "validityTest": test});

        let bobs = s.ok(&s.bob, "raiseObjection", "RaiseObjectionInput", object("Two crews would be short on Saturday mornings.")).await["createdId"].clone();
        // Before the deadline, the objection window stays open until every
        // eligible member has consented or objected.
        s.refused(&s.ann, "decide", "DecideInput", decide.clone(), "ADVICE_PENDING").await;
        for who in [&s.ann, &s.cat, &s.dee] {
            s.ok(who, "castVote", "CastVoteInput", json!({"proposalId": id, "agree": true})).await;
        }
        s.refused(&s.dee, "castVote", "CastVoteInput", json!({"proposalId": id, "agree": false}), "INVALID_INPUT").await;
        s.refused(&s.ann, "decide", "DecideInput", decide.clone(), "OBJECTIONS_OPEN").await;
        s.refused(&s.bob, "resolveObjection", "ResolveObjectionInput", resolve(&bobs, "INTEGRATED", None), "INVALID_STATE").await;
        s.refused(&s.bob, "amendProposal", "AmendProposalInput", json!({"proposalId": id, "body": "x", "reason": "y"}), "FORBIDDEN").await;
        let amended = s.ok(&s.ann, "amendProposal", "AmendProposalInput", json!({"proposalId": id, "body": "Move one paramedic to nights on Fridays; Saturday mornings keep two crews.", "reason": "Meets Bob's objection."})).await["proposal"].clone();
        assert_eq!(amended["version"], 2);
        s.refused(&s.ann, "resolveObjection", "ResolveObjectionInput", resolve(&bobs, "INTEGRATED", None), "FORBIDDEN").await;
        s.ok(&s.bob, "resolveObjection", "ResolveObjectionInput", resolve(&bobs, "INTEGRATED", None)).await;

        let cats = s.ok(&s.cat, "raiseObjection", "RaiseObjectionInput", object("I prefer Thursdays.")).await["createdId"].clone();
        s.refused(&s.dee, "resolveObjection", "ResolveObjectionInput", resolve(&cats, "RULED_INVALID", Some("NO_HARM_SHOWN")), "FORBIDDEN").await;
        s.refused(&s.coach, "resolveObjection", "ResolveObjectionInput", resolve(&cats, "RULED_INVALID", None), "INVALID_INPUT").await;
        s.ok(&s.coach, "resolveObjection", "ResolveObjectionInput", resolve(&cats, "RULED_INVALID", Some("NO_HARM_SHOWN"))).await;

        let dees = s.ok(&s.dee, "raiseObjection", "RaiseObjectionInput", object("Not sure the rota tool supports it.")).await["createdId"].clone();
        s.refused(&s.ann, "decide", "DecideInput", decide.clone(), "OBJECTIONS_OPEN").await;
        s.ok(&s.dee, "resolveObjection", "ResolveObjectionInput", resolve(&dees, "WITHDRAWN", None)).await;

        // Every objection, resolved or not, is weighed in the decision.
        s.refused(&s.ann, "decide", "DecideInput", decide.clone(), "INVALID_INPUT").await;
        let weighed: Vec<Value> = [&bobs, &cats, &dees].iter().map(|o| json!({"refId": o, "note": "Dealt with as its resolution says."})).collect();
        let mut decide = decide;
        decide["notes"] = json!(weighed);
        let decided = s.ok(&s.ann, "decide", "DecideInput", decide).await["proposal"].clone();
        assert_eq!(decided["decision"]["outcome"], "ADOPTED");
        let states: Vec<&str> = decided["objections"]["nodes"].as_array().expect("objections").iter().map(|o| o["state"].as_str().expect("state")).collect();
        assert_eq!(states, ["INTEGRATED", "RULED_INVALID", "WITHDRAWN"]);
        assert_eq!(decided["objections"]["nodes"][1]["validityTest"], "NO_HARM_SHOWN");
        assert_eq!(decided["compliance"]["openObjections"], json!([]));
        assert_eq!(decided["amendments"]["nodes"][0]["reason"], "Meets Bob's objection.");
        assert_eq!(decided["originalBody"], "Move one paramedic from days to nights on Fridays.");
        let trail = &decided["trail"];
        assert_eq!(types(trail), ["ProposalRaised", "ObjectionRaised", "VoteCast", "VoteCast", "VoteCast", "ProposalAmended", "ObjectionResolved", "ObjectionRaised", "ObjectionResolved", "ObjectionRaised", "ObjectionResolved", "ProposalDecided"]);
        assert_eq!(trail[8]["role"], "COACH");
        assert_eq!(decided["compliance"]["adviceProcessFollowed"], true, "{}", decided["compliance"]);
        s.refused(&s.cat, "reviewDecision", "ReviewDecisionInput", json!({"proposalId": id, "outcome": "AMEND", "note": "Saturday cover needs a second look."}), "INVALID_INPUT").await;
        let reviewed = s.ok(&s.cat, "reviewDecision", "ReviewDecisionInput", json!({"proposalId": id, "outcome": "KEEP", "note": "Saturday cover holds.", "nextReviewBy": (s.clock_now() + Duration::days(60)).to_rfc3339()})).await["proposal"].clone();
        assert_eq!(reviewed["reviews"]["nodes"][0]["outcome"], "KEEP");
        assert_eq!(reviewed["revoked"], false);
        s.app.stop().await;
    }
}

on_both_backends! {
    async fn a_rota_signed_off_when_half_the_team_agrees(backend: Backend) {
        let db = TestDb::new(backend).await;
        let s = station(&db).await;
        let id = s.raise("THRESHOLD", json!({"threshold": 0.5})).await;
        let vote = |agree: bool| json!({"proposalId": id, "agree": agree});
        let decide = json!({"proposalId": id, "outcome": "ADOPTED", "rationale": "Half the team agrees."});

        // A member joining after the proposal was raised neither counts nor votes.
        let late = person(&s.app, &s.admin, "Late").await;
        s.app.ok(&s.admin, JOIN, json!({"input": {"teamId": s.team, "personId": late.id, "role": "MEMBER"}})).await;
        s.refused(&late, "castVote", "CastVoteInput", vote(true), "FORBIDDEN").await;
        s.refused(&s.coach, "castVote", "CastVoteInput", vote(true), "FORBIDDEN").await;
        s.refused(&s.nurse, "castVote", "CastVoteInput", vote(true), "FORBIDDEN").await;

        s.ok(&s.ann, "castVote", "CastVoteInput", vote(true)).await;
        s.refused(&s.ann, "decide", "DecideInput", decide.clone(), "THRESHOLD_NOT_MET").await;
        s.ok(&s.bob, "castVote", "CastVoteInput", vote(true)).await;
        s.ok(&s.bob, "castVote", "CastVoteInput", vote(false)).await;
        s.refused(&s.ann, "decide", "DecideInput", decide.clone(), "THRESHOLD_NOT_MET").await;
        let voted = s.ok(&s.cat, "castVote", "CastVoteInput", vote(true)).await["proposal"].clone();
        assert_eq!(voted["eligibleMembers"], 4, "four MEMBERs when raised; the coach does not count");
        assert_eq!(voted["votes"]["nodes"].as_array().expect("votes").len(), 3, "one latest vote per member");

        let decided = s.ok(&s.ann, "decide", "DecideInput", decide).await["proposal"].clone();
        assert_eq!(decided["decision"]["agreeVotes"], 2);
        assert_eq!(decided["decision"]["requiredVotes"], 2);
        assert_eq!(decided["threshold"], 0.5);
        assert_eq!(types(&decided["trail"]), ["ProposalRaised", "VoteCast", "VoteCast", "VoteCast", "VoteCast", "ProposalDecided"]);
        assert_eq!(decided["compliance"]["adviceProcessFollowed"], true);
        s.refused(&s.dee, "castVote", "CastVoteInput", vote(true), "INVALID_STATE").await;
        s.ok(&s.dee, "reviewDecision", "ReviewDecisionInput", json!({"proposalId": id, "outcome": "KEEP", "note": "Rota works.", "nextReviewBy": (s.clock_now() + Duration::days(60)).to_rfc3339()})).await;
        s.app.stop().await;
    }
}

on_both_backends! {
    async fn withdrawing_and_bad_input(backend: Backend) {
        let db = TestDb::new(backend).await;
        let s = station(&db).await;
        let raise = |extra: Value| {
            let mut input = json!({"teamId": s.team, "title": "T", "body": "B", "rule": "THRESHOLD", "threshold": 0.5});
            if let (Some(input), Some(extra)) = (input.as_object_mut(), extra.as_object()) {
                input.extend(extra.clone());
            }
            input
        };
        s.refused(&s.coach, "raiseProposal", "RaiseProposalInput", raise(json!({})), "FORBIDDEN").await;
        s.refused(&s.nurse, "raiseProposal", "RaiseProposalInput", raise(json!({})), "FORBIDDEN").await;
        s.refused(&s.ann, "raiseProposal", "RaiseProposalInput", raise(json!({"threshold": null})), "INVALID_INPUT").await;
        s.refused(&s.ann, "raiseProposal", "RaiseProposalInput", raise(json!({"threshold": 2.0})), "INVALID_INPUT").await;
        s.refused(&s.ann, "raiseProposal", "RaiseProposalInput", raise(json!({"title": " "})), "INVALID_INPUT").await;
        s.refused(&s.ann, "raiseProposal", "RaiseProposalInput", raise(json!({"deciderId": s.coach.id})), "INVALID_INPUT").await;
        s.refused(&s.ann, "raiseProposal", "RaiseProposalInput", raise(json!({"teamId": "nope"})), "INVALID_INPUT").await;
        s.refused(&s.ann, "raiseProposal", "RaiseProposalInput", raise(json!({"teamId": uuid::Uuid::new_v4()})), "NOT_FOUND").await;

        let id = s.raise("CONSENT", json!({"deciderId": s.bob.id})).await;
        s.refused(&s.ann, "decide", "DecideInput", json!({"proposalId": id, "outcome": "REJECTED", "rationale": "r"}), "FORBIDDEN").await;
        s.refused(&s.bob, "withdrawProposal", "WithdrawProposalInput", json!({"proposalId": id, "reason": "r"}), "FORBIDDEN").await;
        let withdrawn = s.ok(&s.ann, "withdrawProposal", "WithdrawProposalInput", json!({"proposalId": id, "reason": "The rota changed anyway."})).await["proposal"].clone();
        assert_eq!(withdrawn["state"], "WITHDRAWN");
        s.refused(&s.bob, "decide", "DecideInput", json!({"proposalId": id, "outcome": "REJECTED", "rationale": "r"}), "INVALID_STATE").await;
        s.refused(&s.ann, "castVote", "CastVoteInput", json!({"proposalId": uuid::Uuid::new_v4(), "agree": true}), "NOT_FOUND").await;
        let (_, body) = s.app.graphql_as(Some(&s.ann.token), "query($id: ID!) { proposal(id: $id) { id } }", json!({"id": uuid::Uuid::new_v4()})).await;
        assert_eq!(error_code(&body), Some("NOT_FOUND"));
        let (_, body) = s.app.graphql_as(None, "query($id: ID!) { proposal(id: $id) { id } }", json!({"id": id})).await;
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
        s.app.stop().await;
    }
}
