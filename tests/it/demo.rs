//! The demo organisation, loaded into a fresh database: every stage is there
//! and each role's token sees what it should.

use serde_json::json;

use crate::on_both_backends;
use crate::support::{error_code, TestApp, TestDb};

on_both_backends! {
    async fn the_demo_has_every_stage_and_each_role_sees_what_it_should(backend: Backend) {
        let db = TestDb::new(backend).await;
        let clock = advice_log::demo::demo_clock();
        let app = TestApp::spawn_with_clock(&db, clock.clone()).await;
        let tokens = advice_log::demo::load(&app.app, &clock, &|_| {}).await.expect("the demo loads");
        // The server then runs on today's clock, as `advice-log serve` would.
        let now = chrono::Utc::now();
        clock.advance(now - advice_log::app::Clock::now(&*clock));
        let head = app.store.head().await.expect("head");
        assert!(app.app.wait_for(head, std::time::Duration::from_secs(10)).await);

        let overview = app.ok(&tokens.member, "{ teams { edges { node { name
            open: proposals(state: OPEN) { edges { node { title rule compliance { missingAdvisers { id } openObjections { id } } amendments { reason } } } }
            decisions { edges { node { title decision { outcome } } } }
            withdrawn: proposals(state: WITHDRAWN) { edges { node { title } } } } } }
          groups { edges { node { name representatives { person { name } } budget { allocated committed remaining }
            proposals { edges { node { title state spend } } } } } }
          dueForReview { edges { node { title } } } }", json!({})).await;
        let teams = overview["teams"]["edges"].as_array().expect("teams");
        assert_eq!(teams.len(), 3);
        let all_open: Vec<&serde_json::Value> = teams.iter().flat_map(|t| t["node"]["open"]["edges"].as_array().expect("open")).collect();
        assert!(all_open.iter().any(|p| !p["node"]["compliance"]["missingAdvisers"].as_array().expect("missing").is_empty()), "one waits for advice");
        assert!(all_open.iter().any(|p| !p["node"]["compliance"]["openObjections"].as_array().expect("objections").is_empty()
            && !p["node"]["amendments"].as_array().expect("amendments").is_empty()), "an objection is being integrated");
        let decided: usize = teams.iter().map(|t| t["node"]["decisions"]["edges"].as_array().expect("d").len()).sum();
        assert!(decided >= 3, "decisions were made");
        let withdrawn: usize = teams.iter().map(|t| t["node"]["withdrawn"]["edges"].as_array().expect("w").len()).sum();
        assert_eq!(withdrawn, 1);
        let due: Vec<&str> = overview["dueForReview"]["edges"].as_array().expect("due").iter().map(|e| e["node"]["title"].as_str().expect("title")).collect();
        assert!(due.contains(&"Winter rota: swap Friday nights"), "a decision is due for review: {due:?}");
        let group = &overview["groups"]["edges"][0]["node"];
        assert_eq!(group["representatives"].as_array().expect("reps").len(), 3);
        assert_eq!(group["budget"], json!({"allocated": 1_200_000, "committed": 450_000, "remaining": 750_000}));
        let states: Vec<&str> = group["proposals"]["edges"].as_array().expect("p").iter().map(|e| e["node"]["state"].as_str().expect("s")).collect();
        assert!(states.contains(&"OPEN") && states.contains(&"DECIDED"));

        // The coach has advice to give, and may not propose.
        let asked = app.ok(&tokens.coach, "{ me { name } myAdviceRequests { edges { node { proposal { title } reason } } } }", json!({})).await;
        assert_eq!(asked["me"]["name"], "Grace Hill");
        assert!(!asked["myAdviceRequests"]["edges"].as_array().expect("requests").is_empty());
        let team_id = app.ok(&tokens.member, "{ me { teams { team { id } } } }", json!({})).await["me"]["teams"][0]["team"]["id"].clone();
        let raise = "mutation($t: ID!) { raiseProposal(input: {teamId: $t, title: \"T\", body: \"B\", rule: CONSENT}) { position } }";
        let (_, body) = app.graphql_as(Some(&tokens.coach), raise, json!({"t": team_id})).await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"));
        // A member may.
        app.ok(&tokens.member, raise, json!({"t": team_id})).await;

        // E-mail addresses and the raw log: admins and auditors only; the auditor writes nothing.
        let emails = "{ teams { edges { node { members { person { email } } } } } }";
        for token in [&tokens.admin, &tokens.auditor] {
            let data = app.ok(token, emails, json!({})).await;
            assert!(data["teams"]["edges"][0]["node"]["members"][0]["person"]["email"].as_str().expect("email").ends_with("example.nhs.uk"));
            app.ok(token, "{ events(first: 5) { edges { node { position } } } }", json!({})).await;
        }
        for token in [&tokens.member, &tokens.coach] {
            let (_, body) = app.graphql_as(Some(token), "{ events(first: 5) { edges { node { position } } } }", json!({})).await;
            assert_eq!(error_code(&body), Some("FORBIDDEN"));
            let (_, body) = app.graphql_as(Some(token), emails, json!({})).await;
            assert_eq!(error_code(&body), Some("FORBIDDEN"));
        }
        let (_, body) = app.graphql_as(Some(&tokens.auditor), "mutation { formTeam(input: {name: \"X\"}) { position } }", json!({})).await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"));
        app.ok(&tokens.admin, "mutation { formTeam(input: {name: \"X\"}) { position } }", json!({})).await;
        app.stop().await;
    }
}
