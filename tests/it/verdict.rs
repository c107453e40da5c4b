//! The gaming routes of issue 14 through the API, each refused or shown as
//! a failing named check, and `myWork`, on both backends.

use chrono::Duration;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::proposals::{station, Person, Station};
use crate::support::TestDb;

const CHECKS: &str = "query($id: ID!) { proposal(id: $id) { compliance { adviceProcessFollowed checks { name passed detail } } } }";

async fn checks(s: &Station, id: &str) -> Value {
    s.app.ok(&s.coach.token, CHECKS, json!({"id": id})).await["proposal"]["compliance"].clone()
}

fn check<'a>(compliance: &'a Value, name: &str) -> &'a Value {
    compliance["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no {name} in {compliance}"))
}

fn ask(id: &str, person: &Person) -> Value {
    json!({"proposalId": id, "personId": person.id, "reason": "AFFECTED"})
}

on_both_backends! {
    async fn asking_only_yourself_is_refused_and_never_counts(backend: Backend) {
        let db = TestDb::new(backend).await;
        let s = station(&db).await;
        let id = s.raise("ADVICE", json!({})).await;
        s.refused(&s.ann, "requestAdvice", "RequestAdviceInput", ask(&id, &s.ann), "INVALID_INPUT").await;
        s.refused(&s.ann, "decide", "DecideInput", json!({"proposalId": id, "outcome": "ADOPTED", "rationale": "r"}), "ADVICE_PENDING").await;
        let compliance = checks(&s, &id).await;
        assert_eq!(check(&compliance, "ADVICE_SOUGHT")["passed"], false, "{compliance}");
        assert_eq!(compliance["adviceProcessFollowed"], false);
    }
}

on_both_backends! {
    async fn a_request_after_the_deadline_waits_for_the_deadline_to_move(backend: Backend) {
        let db = TestDb::new(backend).await;
        let s = station(&db).await;
        let id = s.raise("ADVICE", json!({})).await;
        s.ok(&s.ann, "requestAdvice", "RequestAdviceInput", ask(&id, &s.bob)).await;
        s.clock.advance(Duration::days(8));
        // Asking someone seconds before deciding would make them "missing" at once.
        s.refused(&s.ann, "requestAdvice", "RequestAdviceInput", ask(&id, &s.expert), "INVALID_STATE").await;
        let earlier = (s.clock_now() - Duration::days(2)).to_rfc3339();
        s.refused(&s.ann, "setAdviceDeadline", "SetAdviceDeadlineInput", json!({"proposalId": id, "deadline": earlier, "reason": "r"}), "INVALID_INPUT").await;
        let later = (s.clock_now() + Duration::days(3)).to_rfc3339();
        s.ok(&s.ann, "setAdviceDeadline", "SetAdviceDeadlineInput", json!({"proposalId": id, "deadline": later, "reason": "The expert should be heard."})).await;
        s.ok(&s.ann, "requestAdvice", "RequestAdviceInput", ask(&id, &s.expert)).await;
        s.refused(&s.ann, "decide", "DecideInput", json!({"proposalId": id, "outcome": "ADOPTED", "rationale": "r"}), "ADVICE_PENDING").await;
        let proposal = s.proposal(&id, None).await;
        assert_eq!(proposal["trail"].as_array().expect("trail").iter().filter(|e| e["eventType"] == "AdviceDeadlineSet").count(), 1);
    }
}

on_both_backends! {
    async fn a_threshold_adoption_over_unweighed_views_is_refused(backend: Backend) {
        let db = TestDb::new(backend).await;
        let s = station(&db).await;
        let id = s.raise("THRESHOLD", json!({"threshold": 0.5})).await;
        let concern = s.ok(&s.cat, "giveAdvice", "GiveAdviceInput", json!({"proposalId": id, "stance": "CONCERN", "text": "Fatigue on the third night."})).await["createdId"].clone();
        let objection = s.ok(&s.bob, "raiseObjection", "RaiseObjectionInput", json!({"proposalId": id, "reason": "One crew is unsafe at night."})).await["createdId"].clone();
        for who in [&s.ann, &s.dee] {
            s.ok(who, "castVote", "CastVoteInput", json!({"proposalId": id, "agree": true})).await;
        }
        let decide = |notes: Value| json!({"proposalId": id, "outcome": "ADOPTED", "rationale": "Half agree.", "notes": notes});
        s.refused(&s.ann, "decide", "DecideInput", decide(json!([])), "INVALID_INPUT").await;
        let decided = s.ok(&s.ann, "decide", "DecideInput", decide(json!([
            {"refId": concern, "note": "At most two nights in a row."},
            {"refId": objection, "note": "A second crew joins at 02:00."},
        ]))).await;
        assert_eq!(decided["proposal"]["compliance"]["adviceProcessFollowed"], true, "{}", decided["proposal"]["compliance"]);
        let compliance = checks(&s, &id).await;
        assert_eq!(check(&compliance, "THRESHOLD_MET")["detail"], "2 of 4 eligible members agree; 2 must");
        assert_eq!(check(&compliance, "VIEWS_WEIGHED")["passed"], true);
    }
}

on_both_backends! {
    async fn a_silent_adviser_with_no_deadline_does_not_leave_a_proposal_stuck(backend: Backend) {
        let db = TestDb::new(backend).await;
        let s = station(&db).await;
        let id = s.raise("ADVICE", json!({"adviceDeadline": null})).await;
        s.ok(&s.ann, "requestAdvice", "RequestAdviceInput", ask(&id, &s.expert)).await;
        s.clock.advance(Duration::days(30));
        s.refused(&s.ann, "decide", "DecideInput", json!({"proposalId": id, "outcome": "ADOPTED", "rationale": "r"}), "ADVICE_PENDING").await;
        let compliance = checks(&s, &id).await;
        let heard = check(&compliance, "ADVISERS_HEARD");
        assert!(heard["detail"].as_str().unwrap_or_default().contains("Expert (no deadline: set one with setAdviceDeadline)"), "{heard}");
        let deadline = (s.clock_now() + Duration::days(2)).to_rfc3339();
        s.ok(&s.ann, "setAdviceDeadline", "SetAdviceDeadlineInput", json!({"proposalId": id, "deadline": deadline, "reason": "Two more days, then we decide."})).await;
        s.clock.advance(Duration::days(3));
        let decided = s.ok(&s.ann, "decide", "DecideInput", json!({"proposalId": id, "outcome": "ADOPTED", "rationale": "Asked; no answer in time."})).await;
        assert_eq!(decided["proposal"]["compliance"]["adviceProcessFollowed"], true, "{}", decided["proposal"]["compliance"]);
        // Rejecting never waits.
        let other = s.raise("ADVICE", json!({"adviceDeadline": null})).await;
        s.ok(&s.ann, "requestAdvice", "RequestAdviceInput", ask(&other, &s.expert)).await;
        s.ok(&s.ann, "decide", "DecideInput", json!({"proposalId": other, "outcome": "REJECTED", "rationale": "Not now."})).await;
    }
}

on_both_backends! {
    async fn too_little_time_to_answer_is_allowed_but_fails_fair_window(backend: Backend) {
        let db = TestDb::new(backend).await;
        let s = station(&db).await;
        let soon = (s.clock_now() + Duration::hours(2)).to_rfc3339();
        let id = s.raise("ADVICE", json!({"adviceDeadline": soon})).await;
        s.ok(&s.ann, "requestAdvice", "RequestAdviceInput", ask(&id, &s.expert)).await;
        s.clock.advance(Duration::hours(3));
        let decided = s.ok(&s.ann, "decide", "DecideInput", json!({"proposalId": id, "outcome": "ADOPTED", "rationale": "r"})).await;
        let compliance = &decided["proposal"]["compliance"];
        assert_eq!(check(compliance, "FAIR_WINDOW")["passed"], false, "{compliance}");
        assert_eq!(compliance["adviceProcessFollowed"], false);
        // And it counts against the team's share.
        settled(&s).await;
        let stats = s.app.ok(&s.ann.token, "query($t: ID!) { team(id: $t) { stats { adviceProcessFollowedShare } } }", json!({"t": s.team})).await;
        assert_eq!(stats["team"]["stats"]["adviceProcessFollowedShare"], 0.0, "{stats}");
    }
}

const MY_WORK: &str = "{ myWork(first: 20) { edges { node { kind dueAt proposal { id } } } } }";

/// Waits until the read models have applied everything written so far.
async fn settled(s: &Station) {
    let head = s.app.store.head().await.expect("head");
    assert!(
        s.app
            .app
            .wait_for(head, std::time::Duration::from_secs(5))
            .await
    );
}

async fn my_work(s: &Station, who: &Person) -> Vec<(String, String)> {
    settled(s).await;
    let data = s.app.ok(&who.token, MY_WORK, json!({})).await;
    data["myWork"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| {
            (
                e["node"]["kind"].as_str().expect("kind").to_string(),
                e["node"]["proposal"]["id"]
                    .as_str()
                    .expect("id")
                    .to_string(),
            )
        })
        .collect()
}

fn has(work: &[(String, String)], kind: &str, id: &str) -> bool {
    work.iter().any(|(k, p)| k == kind && p == id)
}

on_both_backends! {
    async fn my_work_lists_what_waits_for_me(backend: Backend) {
        let db = TestDb::new(backend).await;
        let s = station(&db).await;
        let id = s.raise("CONSENT", json!({"reviewBy": (s.clock_now() + Duration::days(20)).to_rfc3339()})).await;
        s.ok(&s.ann, "requestAdvice", "RequestAdviceInput", json!({"proposalId": id, "teamId": s.nursing, "reason": "AFFECTED"})).await;
        let work = my_work(&s, &s.nurse).await;
        assert_eq!(work, vec![("GIVE_ADVICE".to_string(), id.clone())], "the nurse is asked through her team");
        let ann = my_work(&s, &s.ann).await;
        assert!(has(&ann, "RECORD_DECISION", &id) && has(&ann, "CAST_VOTE", &id), "{ann:?}");
        assert!(has(&my_work(&s, &s.bob).await, "CAST_VOTE", &id));
        assert!(my_work(&s, &s.coach).await.is_empty(), "coaches neither vote nor decide");

        // Bob objects; once Ann amends, Bob is asked to confirm or withdraw.
        let objection = s.ok(&s.bob, "raiseObjection", "RaiseObjectionInput", json!({"proposalId": id, "reason": "Saturdays short."})).await["createdId"].clone();
        assert!(!has(&my_work(&s, &s.bob).await, "CAST_VOTE", &id), "objecting answers the consent question");
        s.ok(&s.ann, "amendProposal", "AmendProposalInput", json!({"proposalId": id, "body": "Saturdays keep two crews.", "reason": "Meets Bob's objection."})).await;
        assert!(has(&my_work(&s, &s.bob).await, "CONFIRM_OBJECTION", &id));
        s.ok(&s.bob, "resolveObjection", "ResolveObjectionInput", json!({"proposalId": id, "objectionId": objection, "resolution": "INTEGRATED", "note": "Fixed."})).await;
        assert!(!has(&my_work(&s, &s.bob).await, "CONFIRM_OBJECTION", &id));

        // Once the deadline passes, the request is no longer listed.
        s.clock.advance(Duration::days(8));
        assert!(my_work(&s, &s.nurse).await.is_empty(), "expired requests are not listed");
        s.ok(&s.ann, "decide", "DecideInput", json!({"proposalId": id, "outcome": "ADOPTED", "rationale": "Window closed.", "notes": [{"refId": objection, "note": "Integrated."}]})).await;
        assert!(!has(&my_work(&s, &s.ann).await, "RECORD_DECISION", &id));

        // When its review falls due, the decider and the members are asked.
        s.clock.advance(Duration::days(13));
        let ann = my_work(&s, &s.ann).await;
        assert!(has(&ann, "REVIEW_DECISION", &id), "{ann:?}");
        assert!(has(&my_work(&s, &s.cat).await, "REVIEW_DECISION", &id));
        assert!(!has(&my_work(&s, &s.nurse).await, "REVIEW_DECISION", &id));
        s.ok(&s.cat, "reviewDecision", "ReviewDecisionInput", json!({"proposalId": id, "outcome": "KEEP", "note": "Works.", "nextReviewBy": (s.clock_now() + Duration::days(90)).to_rfc3339()})).await;
        assert!(!has(&my_work(&s, &s.ann).await, "REVIEW_DECISION", &id));
    }
}

on_both_backends! {
    async fn a_team_sets_its_own_minimum_time_to_answer(backend: Backend) {
        let db = TestDb::new(backend).await;
        let s = station(&db).await;
        let set = "mutation($i: SetAdviceWindowInput!) { setAdviceWindow(input: $i) { team { adviceWindowHours } position } }";
        let (_, body) = s.app.graphql_as(Some(&s.ann.token), set, json!({"i": {"teamId": s.team, "hours": 48}})).await;
        assert_eq!(crate::support::error_code(&body), Some("FORBIDDEN"), "{body}");
        let (_, body) = s.app.graphql_as(Some(&s.admin), set, json!({"i": {"teamId": s.team, "hours": 0}})).await;
        assert_eq!(crate::support::error_code(&body), Some("INVALID_INPUT"), "{body}");
        let answered = s.app.ok(&s.admin, set, json!({"i": {"teamId": s.team, "hours": 48}})).await;
        assert_eq!(answered["setAdviceWindow"]["team"]["adviceWindowHours"], 48);
        // A day and a half to answer was fair by the default; not by this team's.
        let deadline = (s.clock_now() + Duration::hours(36)).to_rfc3339();
        let id = s.raise("ADVICE", json!({"adviceDeadline": deadline})).await;
        s.ok(&s.ann, "requestAdvice", "RequestAdviceInput", ask(&id, &s.expert)).await;
        s.clock.advance(Duration::hours(37));
        let decided = s.ok(&s.ann, "decide", "DecideInput", json!({"proposalId": id, "outcome": "ADOPTED", "rationale": "r"})).await;
        let fair = check(&decided["proposal"]["compliance"], "FAIR_WINDOW").clone();
        assert_eq!(fair["passed"], false, "{fair}");
        assert!(fair["detail"].as_str().unwrap_or_default().contains("48 hours"), "{fair}");
    }
}
