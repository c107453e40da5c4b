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
            open: proposals(state: OPEN) { edges { node { title rule compliance { missingAdvisers { id } openObjections { id } } amendments { nodes { reason } } } } }
            decisions { edges { node { title decision { outcome } } } }
            withdrawn: proposals(state: WITHDRAWN) { edges { node { title } } } } } }
          groups { edges { node { name representatives { nodes { person { name } } } budget { allocated committed remaining }
            proposals { edges { node { title state spend } } } } } }
          dueForReview { edges { node { title } } } }", json!({})).await;
        let teams = overview["teams"]["edges"].as_array().expect("teams");
        assert_eq!(teams.len(), 3);
        let all_open: Vec<&serde_json::Value> = teams.iter().flat_map(|t| t["node"]["open"]["edges"].as_array().expect("open")).collect();
        assert!(all_open.iter().any(|p| !p["node"]["compliance"]["missingAdvisers"].as_array().expect("missing").is_empty()), "one waits for advice");
        assert!(all_open.iter().any(|p| !p["node"]["compliance"]["openObjections"].as_array().expect("objections").is_empty()
            && !p["node"]["amendments"]["nodes"].as_array().expect("amendments").is_empty()), "an objection is being integrated");
        let decided: usize = teams.iter().map(|t| t["node"]["decisions"]["edges"].as_array().expect("d").len()).sum();
        assert!(decided >= 3, "decisions were made");
        let withdrawn: usize = teams.iter().map(|t| t["node"]["withdrawn"]["edges"].as_array().expect("w").len()).sum();
        assert_eq!(withdrawn, 1);
        let due: Vec<&str> = overview["dueForReview"]["edges"].as_array().expect("due").iter().map(|e| e["node"]["title"].as_str().expect("title")).collect();
        assert!(due.contains(&"Winter rota: swap Friday nights"), "a decision is due for review: {due:?}");
        let group = &overview["groups"]["edges"][0]["node"];
        assert_eq!(group["representatives"]["nodes"].as_array().expect("reps").len(), 3);
        assert_eq!(group["budget"], json!({"allocated": 1_200_000, "committed": 450_000, "remaining": 750_000}));
        let states: Vec<&str> = group["proposals"]["edges"].as_array().expect("p").iter().map(|e| e["node"]["state"].as_str().expect("s")).collect();
        assert!(states.contains(&"OPEN") && states.contains(&"DECIDED"));

        // The coach has advice to give, and may not propose.
        let asked = app.ok(&tokens.coach, "{ me { name } myAdviceRequests { edges { node { proposal { title } reason } } } }", json!({})).await;
        assert_eq!(asked["me"]["name"], "Grace Hill");
        assert_eq!(app.ok(&tokens.second_member, "{ me { name } }", json!({})).await["me"]["name"], "Priya Shah");
        assert_eq!(tokens.people.len(), 14, "a sign-in line per person");
        assert_eq!(tokens.people.last().map(|p| p.token.as_str()), Some(tokens.admin.as_str()), "the admin last");
        assert!(!asked["myAdviceRequests"]["edges"].as_array().expect("requests").is_empty());
        let team_id = app.ok(&tokens.member, "{ me { teams { edges { node { team { id } } } } } }", json!({})).await["me"]["teams"]["edges"][0]["node"]["team"]["id"].clone();
        let raise = "mutation($t: ID!) { raiseProposal(input: {teamId: $t, title: \"T\", body: \"B\", rule: CONSENT}) { position } }";
        let (_, body) = app.graphql_as(Some(&tokens.coach), raise, json!({"t": team_id})).await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"));
        // A member may.
        app.ok(&tokens.member, raise, json!({"t": team_id})).await;

        // E-mail addresses and the raw log: admins and auditors only; the auditor writes nothing.
        let emails = "{ teams { edges { node { members { nodes { person { email } } } } } } }";
        for token in [&tokens.admin, &tokens.auditor] {
            let data = app.ok(token, emails, json!({})).await;
            assert!(data["teams"]["edges"][0]["node"]["members"]["nodes"][0]["person"]["email"].as_str().expect("email").ends_with("example.nhs.uk"));
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

/// The token on the sign-in line of `name` in the demo's output.
fn token_of<'a>(lines: &[&'a str], name: &str) -> &'a str {
    let line = lines
        .iter()
        .find(|line| line.trim_start().starts_with(name))
        .unwrap_or_else(|| panic!("a sign-in line for {name} in {lines:#?}"));
    line.split_whitespace().last().expect("a token")
}

on_both_backends! {
    async fn the_readme_walkthrough_works_with_the_printed_tokens(backend: Backend) {
        let db = TestDb::new(backend).await;
        let demo = std::process::Command::new(env!("CARGO_BIN_EXE_advice-log"))
            .arg("demo")
            .env("DATABASE_URL", db.raw_url())
            .env("ADVICE_LOG_DATA_KEY", db.data_key())
            .env("ADVICE_LOG_LOG", "warn")
            .output()
            .expect("run advice-log demo");
        assert!(demo.status.success(), "{demo:?}");
        let stdout = String::from_utf8_lossy(&demo.stdout).to_string();
        let lines: Vec<&str> = stdout.lines().collect();

        // A sign-in line per person: name, role, team, token; the admin's
        // token alone on the last line.
        let people = ["Sam Patel", "Priya Shah", "Tom Evans", "Lena Novak", "Grace Hill", "Noor Ahmed",
            "Ben Clarke", "Ivy Chen", "Olu Adeyemi", "Maya Brown", "Jon Reed", "Ruth King", "Quinn Harper"];
        for (name, role, team) in [("Sam Patel", "MEMBER", "North Station Ambulance Team"),
            ("Priya Shah", "MEMBER", "North Station Ambulance Team"), ("Grace Hill", "COACH", "North Station Ambulance Team"),
            ("Noor Ahmed", "MEMBER", "Riverside Community Nursing"), ("Quinn Harper", "AUDITOR", "the organisation")] {
            let line = lines.iter().find(|l| l.trim_start().starts_with(name)).unwrap_or_else(|| panic!("{name}: {stdout}"));
            assert!(line.contains(role) && line.contains(team), "{line}");
        }
        let mut tokens: Vec<&str> = people.iter().map(|name| token_of(&lines, name)).collect();
        let admin = *lines.last().expect("a last line");
        assert!(admin.starts_with("al_") && !admin.contains(' '), "the admin's token alone on the last line: {stdout}");
        let ada = lines[lines.len() - 2];
        assert!(ada.contains("Ada Okafor") && ada.contains("ADMIN"), "{stdout}");
        tokens.push(admin);
        assert!(tokens.iter().all(|t| t.starts_with("al_")), "{stdout}");
        let distinct: std::collections::BTreeSet<&&str> = tokens.iter().collect();
        assert_eq!(distinct.len(), people.len() + 1, "a token each: {stdout}");

        let app = TestApp::spawn(&db).await;
        let (sam, priya, noor) = (token_of(&lines, "Sam Patel"), token_of(&lines, "Priya Shah"), token_of(&lines, "Noor Ahmed"));
        for (token, name) in [(sam, "Sam Patel"), (priya, "Priya Shah"), (noor, "Noor Ahmed"), (admin, "Ada Okafor")] {
            assert_eq!(app.ok(token, "{ me { name } }", json!({})).await["me"]["name"], name);
        }

        // As Sam: the README's first query, then the threshold walk.
        let me = app.ok(sam, "{ me { name teams { edges { node { team { id name } role } } } }
            myAdviceRequests { edges { node { proposal { title } reason } } }
            dueForReview { edges { node { title reviewBy decision { outcome rationale } } } } }", json!({})).await;
        let due: Vec<&str> = me["dueForReview"]["edges"].as_array().expect("due").iter().map(|e| e["node"]["title"].as_str().expect("title")).collect();
        assert!(due.contains(&"Winter rota: swap Friday nights"), "a decision is due for review: {me}");
        let station = me["me"]["teams"]["edges"].as_array().expect("teams").iter()
            .find(|t| t["node"]["team"]["name"] == "North Station Ambulance Team").expect("Sam's station")["node"]["team"]["id"]
            .as_str().expect("id").to_string();
        let raised = app.ok(sam, &format!("mutation {{ raiseProposal(input: {{ teamId: \"{station}\", title: \"Bank holiday cover\",
            body: \"Add a fourth crew on bank holidays.\", rule: THRESHOLD, threshold: 0.5 }}) {{
            proposal {{ id state eligibleMembers }} position }} }}"), json!({})).await;
        assert_eq!(raised["raiseProposal"]["proposal"]["eligibleMembers"], 4);
        let id = raised["raiseProposal"]["proposal"]["id"].as_str().expect("id").to_string();
        let vote = format!("mutation {{ castVote(input: {{ proposalId: \"{id}\", agree: true }}) {{ proposal {{ votes {{ nodes {{ agree by {{ name }} }} }} }} }} }}");
        let decide = format!("mutation {{ decide(input: {{ proposalId: \"{id}\", outcome: ADOPTED, rationale: \"Half the team agrees.\" }}) {{
            proposal {{ state decision {{ outcome agreeVotes requiredVotes }} }} }} }}");
        app.ok(sam, &vote, json!({})).await;
        let (_, body) = app.graphql_as(Some(sam), &decide, json!({})).await;
        assert_eq!(error_code(&body), Some("THRESHOLD_NOT_MET"), "Sam's vote alone is not enough: {body}");
        // As Priya, the second member.
        let votes = app.ok(priya, &vote, json!({})).await;
        assert_eq!(votes["castVote"]["proposal"]["votes"]["nodes"].as_array().expect("votes").len(), 2);
        let decided = app.ok(sam, &decide, json!({})).await;
        assert_eq!(decided["decide"]["proposal"]["state"], "DECIDED");
        assert_eq!(decided["decide"]["proposal"]["decision"], json!({"outcome": "ADOPTED", "agreeVotes": 2, "requiredVotes": 2}));

        // The handover really waits for advice: its deadline is ahead, and
        // Noor cannot decide it yet.
        let open = app.ok(noor, "{ me { teams { edges { node { team { proposals(state: OPEN) { edges { node { id title adviceDeadline
            compliance { missingAdvisers { id } } } } } } } } } } }", json!({})).await;
        let handover = open["me"]["teams"]["edges"].as_array().expect("teams").iter()
            .flat_map(|t| t["node"]["team"]["proposals"]["edges"].as_array().expect("edges").iter())
            .find(|e| e["node"]["title"] == "Move morning handover to 07:45").expect("the handover is open")["node"].clone();
        let deadline: chrono::DateTime<chrono::Utc> = handover["adviceDeadline"].as_str().expect("a deadline").parse().expect("RFC 3339");
        assert!(deadline > chrono::Utc::now() + chrono::Duration::days(1), "the deadline is ahead: {deadline}");
        assert!(!handover["compliance"]["missingAdvisers"].as_array().expect("missing").is_empty(), "{handover}");
        let (_, body) = app.graphql_as(Some(noor), &format!("mutation {{ decide(input: {{ proposalId: \"{}\", outcome: ADOPTED,
            rationale: \"Advice heard.\" }}) {{ position }} }}", handover["id"].as_str().expect("id")), json!({})).await;
        assert_eq!(error_code(&body), Some("ADVICE_PENDING"), "{body}");
        app.stop().await;
    }
}
