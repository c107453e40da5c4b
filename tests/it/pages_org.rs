//! The team, group and admin pages over real HTTP, on both backends, as a
//! browser without JavaScript uses them: sign in through the form, post
//! each admin form with the CSRF token read from the page, follow the
//! redirect, read what the pages say.

use advice_log::app::RaiseProposal;
use advice_log::domain::proposal::{AdviceReason, Adviser, Outcome, Owner, Rule, Stance};
use advice_log::domain::{PersonId, ProposalId, TeamId};

use crate::on_both_backends;
use crate::page_visitor::{
    checkbox_value, csrf, issued_token, link, option_value, value_after, Visitor,
};
use crate::support::{as_person, TestApp, TestDb};

/// Signs in as a new admin and answers the visitor.
async fn admin(app: &TestApp) -> Visitor {
    let (_, token) = app.bootstrap().await;
    let mut ada = Visitor::new(app);
    ada.sign_in(&token).await;
    ada
}

/// Registers someone through the admin page and answers their person id.
async fn register(ada: &mut Visitor, name: &str, email: &str) -> String {
    let done = ada
        .admin_post(
            "/admin/people",
            &[
                ("person-name", name),
                ("person-email", email),
                ("person-role", "none"),
            ],
        )
        .await;
    assert_eq!(
        (done.status, done.location.as_deref()),
        (303, Some("/admin?done=person-registered#tokens")),
        "{}",
        done.body
    );
    option_value(&ada.get("/admin").await.body, "token-person", name)
}

/// Adds someone to a team through the admin page.
async fn add_member(ada: &mut Visitor, team: &str, name: &str, role: &str) {
    let page = ada.get("/admin").await.body;
    let team = option_value(&page, "member-team", team);
    let person = option_value(&page, "member-person", name);
    let done = ada
        .admin_post(
            "/admin/members",
            &[
                ("member-team", &team),
                ("member-person", &person),
                ("member-role", role),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
}

async fn events(app: &TestApp) -> u64 {
    app.store.read_all(0, 100_000).await.expect("read").len() as u64
}

on_both_backends! {
    async fn an_admin_forms_a_team_issues_a_token_once_and_the_member_sees_the_team(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::spawn(&db).await;
        let mut ada = admin(&app).await;

        let empty = ada.admin_post("/admin/teams", &[("team-name", "  ")]).await;
        assert_eq!(empty.status, 422, "a refused form is shown again");
        assert!(empty.body.contains("There is a problem") && empty.body.contains("Enter the team&#39;s name."), "{}", empty.body);
        assert!(empty.body.contains("aria-describedby=\" team-name-error\""), "the error is linked to its field");

        let formed = ada.admin_post("/admin/teams", &[("team-name", "North Station")]).await;
        assert_eq!((formed.status, formed.location.as_deref()), (303, Some("/admin?done=team-formed#teams")));
        let confirmed = ada.get("/admin?done=team-formed").await;
        assert!(confirmed.body.contains("The team is formed."), "a fixed confirmation");
        let odd = ada.get("/admin?done=%3Cb%3EYou+won%3C%2Fb%3E").await;
        assert!(!odd.body.contains("You won"), "nothing from the address is shown");

        let sam = register(&mut ada, "Sam Patel", "sam@example.org").await;
        register(&mut ada, "Ann Jones", "ann@example.org").await;
        let twice = ada.admin_post("/admin/people", &[("person-name", "Sam Again"), ("person-email", "SAM@example.org")]).await;
        assert_eq!(twice.status, 422);
        assert!(twice.body.contains("person-email-error") && twice.body.contains("value=\"Sam Again\""), "the error is beside the e-mail and the name is kept: {}", twice.body);

        let issued = ada.admin_post("/admin/tokens", &[("token-person", &sam)]).await;
        assert_eq!(issued.status, 200, "{}", issued.body);
        assert!(issued.body.contains("it is shown only this once"), "a warning");
        assert_eq!(issued.cache_control.as_deref(), Some("no-store"));
        let token = issued_token(&issued.body);
        assert!(token.starts_with("al_"), "{token}");
        let admin_page = ada.get("/admin").await.body;
        assert!(!admin_page.contains(&token), "the token is shown once only");
        assert!(admin_page.contains(&token[..11]), "the list shows how it starts");
        let stored = app.store.read_all(0, 100_000).await.expect("read");
        let secret = token.rsplit('_').next().expect("a secret");
        assert!(stored.iter().all(|e| !e.payload.to_string().contains(secret) && !e.metadata.to_string().contains(secret)), "the secret is never stored");

        add_member(&mut ada, "North Station", "Sam Patel", "member").await;
        add_member(&mut ada, "North Station", "Ann Jones", "coach").await;
        let again = ada.get("/admin").await.body;
        let (team_id, person) = (option_value(&again, "member-team", "North Station"), option_value(&again, "member-person", "Sam Patel"));
        let duplicate = ada.admin_post("/admin/members", &[("member-team", &team_id), ("member-person", &person), ("member-role", "member")]).await;
        assert_eq!(duplicate.status, 422);
        assert!(duplicate.body.contains("Sam Patel is already in North Station as a member."), "{}", duplicate.body);

        // Sam decides something after asking Ann, so there is something to chart.
        let (team, sam_id) = (TeamId(team_id.parse().expect("uuid")), PersonId(sam.parse().expect("uuid")));
        let ann_id = PersonId(option_value(&again, "member-person", "Ann Jones").parse().expect("uuid"));
        let raised = app.app.raise_proposal(&as_person(sam_id), RaiseProposal {
            owner: Owner::Team(team), title: "Winter rota".into(), body: "Two crews on Friday nights.".into(),
            rule: Rule::Advice, threshold: None, advice_deadline: Some(chrono::Utc::now() + chrono::Duration::days(2)), area: None, spend: None,
            review_by: None, decider: None, supersedes: None,
        }).await.expect("raise");
        let proposal = ProposalId(raised.subject);
        app.app.request_advice(&as_person(sam_id), proposal, Adviser::Person(ann_id), AdviceReason::Expert, None).await.expect("ask");
        app.app.give_advice(&as_person(ann_id), proposal, Stance::Support, "Yes").await.expect("advise");
        app.app.decide_proposal(&as_person(sam_id), proposal, Outcome::Adopted, "Advised", vec![]).await.expect("decide");
        app.app.raise_proposal(&as_person(sam_id), RaiseProposal {
            owner: Owner::Team(team), title: "Quiet room".into(), body: "Keep the side room quiet.".into(),
            rule: Rule::Advice, threshold: None, advice_deadline: None, area: None, spend: None,
            review_by: None, decider: None, supersedes: None,
        }).await.expect("raise");

        // The read models follow the log: wait until they show it all.
        let head = app.store.head().await.expect("head");
        assert!(app.app.wait_for(head, std::time::Duration::from_secs(10)).await);

        let mut member = Visitor::new(&app);
        member.sign_in(&token).await;
        let home = member.get("/").await.body;
        let team_page = member.get(&link(&home, "/teams/")).await;
        assert_eq!(team_page.status, 200);
        let body = team_page.body;
        for expected in ["<h1>North Station</h1>", "Sam Patel", "Ann Jones", ">coach<", "Winter rota", "Every check passed",
                         "Quiet room", "Advice still to be sought", "Raise a proposal", &format!("/proposals/new?owner=team:{}", team.0),
                         "<svg class=\"app-chart\" role=\"img\" aria-labelledby=\"team-per-month-title team-per-month-desc\"",
                         "Median days to decide", "Decisions with every check passed", "1 of 1 requests for advice answered (100%)",
                         "<th class=\"nhsuk-table__header\" scope=\"row\">Sam Patel</th>"] {
            assert!(body.contains(expected), "the team page shows {expected:?}");
        }
        let this_month = chrono::Utc::now().format("%B %Y");
        let row = format!("scope=\"row\" class=\"nhsuk-table__header\">{this_month}</th><td class=\"nhsuk-table__cell\">1</td>");
        assert!(body.contains(&row), "this month's decision is in the chart's numbers: {row}");
        assert!(body.contains(&format!("{this_month}</th><td class=\"nhsuk-table__cell\">100% (1 of 1)</td>")), "and every check passed");

        // Ann leaves the team: the team page lists her no more.
        let membership = option_value(&ada.get("/admin").await.body, "leave-membership", "Ann Jones from North Station");
        let left = ada.admin_post("/admin/members/remove", &[("leave-membership", &membership)]).await;
        assert_eq!((left.status, left.location.as_deref()), (303, Some("/admin?done=member-removed#teams")));
        let after = member.get(&link(&home, "/teams/")).await.body;
        assert!(after.contains("Sam Patel") && !after.contains("Ann Jones"), "Ann is no longer listed");
        app.stop().await;
    }
}

on_both_backends! {
    async fn only_admins_see_the_admin_page_and_every_form_needs_its_csrf_token(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::spawn(&db).await;
        let mut ada = admin(&app).await;
        let sam = register(&mut ada, "Sam Patel", "sam@example.org").await;
        let issued = ada.admin_post("/admin/tokens", &[("token-person", &sam)]).await;
        let token = issued_token(&issued.body);

        let before = events(&app).await;
        let forged = ada.post("/admin/teams", &[("team-name", "Forged")]).await;
        assert_eq!(forged.status, 403, "no CSRF token");
        assert!(forged.body.contains("Nothing was changed"));
        let wrong = ada.post("/admin/teams", &[("csrf", "not-the-token"), ("team-name", "Forged")]).await;
        assert_eq!(wrong.status, 403, "the wrong CSRF token");
        assert_eq!(events(&app).await, before, "nothing appended");

        let mut sam = Visitor::new(&app);
        sam.sign_in(&token).await;
        let refused = sam.get("/admin").await;
        assert_eq!(refused.status, 403);
        assert!(refused.body.contains("Only the organisation&#39;s admins can use the admin page"), "{}", refused.body);
        let sam_csrf = csrf(&sam.get("/").await.body);
        let posted = sam.post("/admin/teams", &[("csrf", &sam_csrf), ("team-name", "Mine")]).await;
        assert_eq!(posted.status, 403, "a non-admin's post is refused too");
        assert_eq!(events(&app).await, before, "nothing appended");

        // The admin revokes Sam's token: his session ends with it.
        let page = ada.get("/admin").await.body;
        let row = &page[page.find(&token[..11]).expect("Sam's token is listed")..];
        let revoke = value_after(row, "name=\"revoke-token\" value=\"").expect("a revoke form");
        let command = value_after(row, "name=\"command\" value=\"").expect("its command id");
        let csrf_token = csrf(&page);
        let revoked = ada.post("/admin/tokens/revoke", &[("csrf", &csrf_token), ("command", &command), ("revoke-token", &revoke)]).await;
        assert_eq!((revoked.status, revoked.location.as_deref()), (303, Some("/admin?done=token-revoked#tokens")));
        assert!(ada.get("/admin").await.body.contains("Revoked"), "the list says so");
        let ended = sam.get("/admin").await;
        assert_eq!(ended.location.as_deref(), Some("/sign-in?next=/admin"), "Sam must sign in again");

        let anonymous = Visitor::new(&app).get("/admin").await;
        assert_eq!((anonymous.status, anonymous.location.as_deref()), (303, Some("/sign-in?next=/admin")));
        app.stop().await;
    }
}

on_both_backends! {
    async fn the_group_page_shows_representatives_mandate_and_the_ledger_in_pounds(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::spawn(&db).await;
        let mut ada = admin(&app).await;
        for team in ["North Station", "Riverside Nursing"] {
            assert_eq!(ada.admin_post("/admin/teams", &[("team-name", team)]).await.status, 303);
        }
        register(&mut ada, "Noor Ahmed", "noor@example.org").await;
        add_member(&mut ada, "Riverside Nursing", "Noor Ahmed", "member").await;

        let page = ada.get("/admin").await.body;
        let (north, river) = (checkbox_value(&page, "North Station"), checkbox_value(&page, "Riverside Nursing"));
        let missing = ada.admin_post("/admin/groups", &[("group-name", "Training"), ("group-mandate", "training")]).await;
        assert_eq!(missing.status, 422);
        assert!(missing.body.contains("Choose at least one member team.") && missing.body.contains("href=\"#group-teams\""), "{}", missing.body);
        let formed = ada.admin_post("/admin/groups", &[("group-name", "Staff Training Group"), ("group-teams", &north), ("group-teams", &river), ("group-mandate", "training\r\nconferences\r\n")]).await;
        assert_eq!(formed.status, 303, "{}", formed.body);

        let page = ada.get("/admin").await.body;
        let group = option_value(&page, "rep-group", "Staff Training Group");
        let noor = option_value(&page, "rep-member", "Noor Ahmed for Riverside Nursing");
        assert_eq!(ada.admin_post("/admin/representatives", &[("rep-group", &group), ("rep-member", &noor)]).await.status, 303);
        let allocated = ada.admin_post("/admin/budgets", &[("budget-group", &group), ("budget-amount", "£1,250.50"), ("budget-reason", "Training fund"), ("budget-period", "2026/27")]).await;
        assert_eq!(allocated.status, 303, "{}", allocated.body);
        let too_much = ada.admin_post("/admin/budgets", &[("budget-group", &group), ("budget-amount", "-2000"), ("budget-reason", "Cut")]).await;
        assert_eq!(too_much.status, 422);
        assert!(too_much.body.contains("Taking back £2,000.00 would leave the budget below zero: £1,250.50 remains.") && too_much.body.contains("value=\"-2000\""), "{}", too_much.body);
        let back = ada.admin_post("/admin/budgets", &[("budget-group", &group), ("budget-amount", "-250.50"), ("budget-reason", "Returned to the trust")]).await;
        assert_eq!(back.status, 303);

        let group_page = ada.get(&format!("/groups/{group}")).await;
        assert_eq!(group_page.status, 200);
        let body = group_page.body;
        for expected in ["<h1>Staff Training Group</h1>", "Riverside Nursing", "Noor Ahmed", "No representative yet", "<li>training</li>", "<li>conferences</li>",
                         "+£1,250.50", "Training fund (period 2026/27)", "-£250.50", "Returned to the trust", "£1,000.00", "by Ada Admin"] {
            assert!(body.contains(expected), "the group page shows {expected:?}");
        }
        assert!(!body.contains("?owner=group:"), "only representatives raise from the group page");
        assert_eq!(ada.get(&format!("/groups/{}", uuid::Uuid::new_v4())).await.status, 404);
        assert_eq!(ada.get("/groups/not-a-group").await.status, 404);
        app.stop().await;
    }
}

on_both_backends! {
    async fn a_script_in_a_team_name_is_shown_as_text(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::spawn(&db).await;
        let mut ada = admin(&app).await;
        let name = "<script>alert('x')</script> crew";
        assert_eq!(ada.admin_post("/admin/teams", &[("team-name", name)]).await.status, 303);
        let admin_page = ada.get("/admin").await.body;
        assert!(!admin_page.contains("<script>alert"), "escaped on the admin page");
        let team = link(&admin_page, "/teams/");
        let page = ada.get(&team).await.body;
        assert!(!page.contains("<script>alert"), "escaped on the team page");
        assert!(page.contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62; crew"), "shown as text: {page}");
        app.stop().await;
    }
}
