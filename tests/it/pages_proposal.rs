//! The proposal pages over HTTP, as a browser without JavaScript uses them:
//! signing in through the form, raising a 50% threshold proposal at
//! `/proposals/new`, voting and deciding through the page's forms; a form
//! without its CSRF token, a refused decision and a coach's page; escaping.

use std::sync::Mutex;

use advice_log::app::CommandMeta;
use advice_log::domain::{Actor, Caller, OrgRole, PersonId, TeamId, TeamRole};

use crate::on_both_backends;
use crate::support::{TestApp, TestDb};

/// A browser without JavaScript: it keeps the session cookie, follows no
/// redirect by itself, and reads each form's CSRF token from the page.
struct Visitor {
    base: String,
    client: reqwest::Client,
    cookie: Mutex<Option<String>>,
}

/// A page as answered: status, `Location` and body.
struct Answer {
    status: u16,
    location: String,
    body: String,
}

impl Visitor {
    fn new(base: &str) -> Visitor {
        Visitor {
            base: base.to_string(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookie: Mutex::new(None),
        }
    }

    /// Signs in with `token` through the sign-in form.
    async fn signed_in(base: &str, token: &str) -> Visitor {
        let visitor = Visitor::new(base);
        let form = visitor.get("/sign-in").await;
        let csrf = csrf(&form.body);
        let done = visitor
            .post(
                "/sign-in",
                &[("csrf", &csrf), ("token", token), ("next", "/")],
            )
            .await;
        assert_eq!(done.status, 303, "signed in: {}", done.body);
        visitor
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let request = match self.cookie.lock().expect("cookie").clone() {
            Some(cookie) => request.header("cookie", cookie),
            None => request,
        };
        let response = request.send().await.expect("the server answers");
        if let Some(set) = response.headers().get("set-cookie") {
            let pair = set
                .to_str()
                .expect("a cookie")
                .split(';')
                .next()
                .unwrap_or_default();
            *self.cookie.lock().expect("cookie") = Some(pair.to_string());
        }
        Answer {
            status: response.status().as_u16(),
            location: response
                .headers()
                .get("location")
                .map(|l| l.to_str().expect("location").to_string())
                .unwrap_or_default(),
            body: response.text().await.expect("a body"),
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(self.client.get(format!("{}{path}", self.base)))
            .await
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        self.send(
            self.client
                .post(format!("{}{path}", self.base))
                .form(fields),
        )
        .await
    }

    /// Posts a form from the page at `page`, with that page's CSRF token.
    async fn submit(&self, page: &str, action: &str, fields: &[(&str, &str)]) -> Answer {
        let token = csrf(&self.get(page).await.body);
        let mut all = vec![("csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post(action, &all).await
    }
}

/// The CSRF token in a page's first form.
fn csrf(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    html[start..]
        .split('"')
        .next()
        .expect("a token")
        .to_string()
}

/// A team of four members (Ann proposes) and a coach, each with a token,
/// and an auditor.
struct Crew {
    admin: CommandMeta,
    team: TeamId,
    ann_id: PersonId,
    auditor: String,
    ann: String,
    bob: String,
    cat: String,
    grace: String,
}

async fn crew(app: &TestApp) -> Crew {
    let boot = app
        .app
        .bootstrap("Ada Admin", "ada@example.org")
        .await
        .expect("bootstrap");
    let admin = CommandMeta::new(
        Caller::Person(Actor {
            person: PersonId(boot.outcome.subject),
            org_role: Some(OrgRole::Admin),
        }),
        None,
    );
    let team = TeamId(
        app.app
            .form_team(&admin, "North Station")
            .await
            .expect("team")
            .subject,
    );
    let mut tokens = Vec::new();
    let mut ids = Vec::new();
    for (name, role) in [
        ("Ann Lee", TeamRole::Member),
        ("Bob Ray", TeamRole::Member),
        ("Cat Orr", TeamRole::Member),
        ("Dan Fox", TeamRole::Member),
        ("Grace Hill", TeamRole::Coach),
    ] {
        let email = format!("{}@example.org", name.replace(' ', "."));
        let person = PersonId(
            app.app
                .register_person(&admin, name, &email, None)
                .await
                .expect("person")
                .subject,
        );
        app.app
            .join_team(&admin, team, person, role)
            .await
            .expect("join");
        let token = app.app.issue_token(&admin, person).await.expect("token");
        tokens.push(token.token.expect("a new token"));
        ids.push(person);
    }
    let auditor = PersonId(
        app.app
            .register_person(
                &admin,
                "Quinn Harper",
                "quinn@example.org",
                Some(OrgRole::Auditor),
            )
            .await
            .expect("auditor")
            .subject,
    );
    let auditor = app
        .app
        .issue_token(&admin, auditor)
        .await
        .expect("token")
        .token
        .expect("a new token");
    Crew {
        admin,
        team,
        ann_id: ids[0],
        auditor,
        ann: tokens[0].clone(),
        bob: tokens[1].clone(),
        cat: tokens[2].clone(),
        grace: tokens[4].clone(),
    }
}

/// Raises a 50% threshold proposal as `visitor` through `/proposals/new`;
/// answers its page's path.
async fn raise(visitor: &Visitor, crew: &Crew, title: &str) -> String {
    let owner = format!("team:{}", crew.team.0);
    let form = format!("/proposals/new?owner={owner}");
    let chooser = visitor.get(&form).await;
    assert_eq!(chooser.status, 200);
    assert!(chooser.body.contains("Share of members who must agree"));
    let raised = visitor
        .submit(
            &form,
            "/proposals/new",
            &[
                ("owner", &owner),
                ("title", title),
                ("body", "Two crews on Friday nights from January."),
                ("rule", "THRESHOLD"),
                ("threshold", "50"),
                ("deadline-date", ""),
                ("review-date", ""),
                ("decider", ""),
                ("supersedes", ""),
            ],
        )
        .await;
    assert_eq!(raised.status, 303, "raised: {}", raised.body);
    assert!(
        raised.location.ends_with("?done=raised"),
        "{}",
        raised.location
    );
    raised.location.trim_end_matches("?done=raised").to_string()
}

async fn head(app: &TestApp) -> u64 {
    app.store.head().await.expect("head")
}

on_both_backends! {
    async fn a_member_raises_a_half_rota_two_members_vote_and_the_proposer_decides(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::spawn(&db).await;
        let crew = crew(&app).await;
        let ann = Visitor::signed_in(&app.base, &crew.ann).await;
        let page = raise(&ann, &crew, "Winter rota").await;
        let shown = ann.get(&format!("{page}?done=raised")).await;
        assert!(shown.body.contains("Your proposal is raised."));
        assert!(shown.body.contains("Threshold: 50% of the 4 eligible members must agree (2 votes)"), "{}", shown.body);
        for token in [&crew.bob, &crew.cat] {
            let member = Visitor::signed_in(&app.base, token).await;
            let own = member.get(&page).await;
            assert!(own.body.contains(&format!("action=\"{page}/vote\"")), "a member may vote");
            assert!(!own.body.contains(&format!("action=\"{page}/decide\"")), "only the decider decides");
            let voted = member.submit(&page, &format!("{page}/vote"), &[("vote-agree", "true")]).await;
            assert_eq!(voted.status, 303, "{}", voted.body);
            assert_eq!(voted.location, format!("{page}?done=vote"));
        }
        let decided = ann
            .submit(&page, &format!("{page}/decide"), &[("decide-outcome", "ADOPTED"), ("decide-rationale", "Half the team agrees.")])
            .await;
        assert_eq!(decided.status, 303, "{}", decided.body);
        let after = ann.get(&format!("{page}?done=decided")).await;
        assert!(after.body.contains("The decision is recorded."));
        assert!(after.body.contains(">Adopted</strong> by Ann Lee"), "{}", after.body);
        assert!(after.body.contains("2 agree votes counted; 2 were needed"));
        assert!(!after.body.contains(&format!("action=\"{page}/vote\"")), "nothing to vote on once decided");
        app.stop().await;
    }
}

on_both_backends! {
    async fn a_form_without_its_csrf_token_is_403_and_changes_nothing(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::spawn(&db).await;
        let crew = crew(&app).await;
        let ann = Visitor::signed_in(&app.base, &crew.ann).await;
        let page = raise(&ann, &crew, "Winter rota").await;
        let before = head(&app).await;
        for fields in [vec![("vote-agree", "true")], vec![("csrf", "not-the-token"), ("vote-agree", "true")]] {
            let refused = ann.post(&format!("{page}/vote"), &fields).await;
            assert_eq!(refused.status, 403, "{}", refused.body);
            assert!(refused.body.contains("Nothing was changed"));
        }
        assert_eq!(head(&app).await, before, "nothing appended");
        app.stop().await;
    }
}

on_both_backends! {
    async fn a_refused_decision_shows_why_beside_its_field_and_appends_nothing(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::spawn(&db).await;
        let crew = crew(&app).await;
        let ann = Visitor::signed_in(&app.base, &crew.ann).await;
        let page = raise(&ann, &crew, "Winter rota").await;
        let shown = ann.get(&page).await;
        assert!(shown.body.contains("Adopting it now would be refused: 0 of 4 eligible members agree; 2 must."), "what deciding waits for, beside its form");
        let before = head(&app).await;
        let refused = ann
            .submit(&page, &format!("{page}/decide"), &[("decide-outcome", "ADOPTED"), ("decide-rationale", "Everyone likes it.")])
            .await;
        assert_eq!(refused.status, 422);
        assert!(refused.body.contains("<title>Error: Winter rota"), "the title says so first");
        assert!(refused.body.contains("href=\"#decide-outcome\""), "the summary links to the field");
        let beside = refused.body.find("id=\"decide-outcome-error\"").expect("an error beside the outcome");
        assert!(refused.body[beside..].starts_with("id=\"decide-outcome-error\"><span class=\"nhsuk-u-visually-hidden\">Error:</span> 0 of 4 eligible members agree; 2 must."), "{}", &refused.body[beside..beside + 200]);
        assert!(refused.body.contains(">Everyone likes it.</textarea>"), "what was typed is kept");
        assert_eq!(head(&app).await, before, "nothing appended");

        // A concern must be weighed: a decision without its note is refused beside the note.
        let bob = Visitor::signed_in(&app.base, &crew.bob).await;
        let advised = bob.submit(&page, &format!("{page}/advice"), &[("advice-stance", "CONCERN"), ("advice-text", "Mind the handover.")]).await;
        assert_eq!(advised.status, 303, "{}", advised.body);
        let form = ann.get(&page).await.body;
        let start = form.find("name=\"note-").expect("a note field beside the concern") + 6;
        let note = form[start..].split('"').next().expect("a name").to_string();
        let before = head(&app).await;
        let refused = ann
            .submit(&page, &format!("{page}/decide"), &[("decide-outcome", "REJECTED"), ("decide-rationale", "Not now."), (&note, "")])
            .await;
        assert_eq!(refused.status, 422);
        assert!(refused.body.contains(&format!("id=\"{note}-error\"><span class=\"nhsuk-u-visually-hidden\">Error:</span> Say how you weighed the concern of Bob Ray")), "{}", refused.body);
        assert_eq!(head(&app).await, before, "nothing appended");
        let done = ann
            .submit(&page, &format!("{page}/decide"), &[("decide-outcome", "REJECTED"), ("decide-rationale", "Not now."), (&note, "Handover stays at 19:00.")])
            .await;
        assert_eq!(done.status, 303, "{}", done.body);
        let decided = ann.get(&page).await.body;
        assert!(decided.contains("The concern of Bob Ray"), "the note beside the view it weighs");
        assert!(decided.contains("Handover stays at 19:00."));
        app.stop().await;
    }
}

on_both_backends! {
    async fn a_coach_sees_no_vote_or_decide_form_and_cannot_post_one(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::spawn(&db).await;
        let crew = crew(&app).await;
        let ann = Visitor::signed_in(&app.base, &crew.ann).await;
        let page = raise(&ann, &crew, "Winter rota").await;
        let grace = Visitor::signed_in(&app.base, &crew.grace).await;
        let shown = grace.get(&page).await;
        assert_eq!(shown.status, 200);
        assert!(shown.body.contains(&format!("action=\"{page}/advice\"")), "a coach may advise");
        for never in ["vote", "decide", "amend", "withdraw", "objections"] {
            assert!(!shown.body.contains(&format!("action=\"{page}/{never}\"")), "a coach is not offered {never}");
        }
        let before = head(&app).await;
        let refused = grace.submit(&page, &format!("{page}/vote"), &[("vote-agree", "true")]).await;
        assert_eq!(refused.status, 403);
        assert_eq!(head(&app).await, before, "nothing appended");
        let chooser = grace.get("/proposals/new").await;
        assert!(chooser.body.contains("coaches and auditors advise and check, but do not propose"));

        // An auditor reads everything and is offered nothing.
        let quinn = Visitor::signed_in(&app.base, &crew.auditor).await;
        let read = quinn.get(&page).await;
        assert_eq!(read.status, 200);
        assert!(read.body.contains("The verdict&#39;s checks") || read.body.contains("The verdict's checks"));
        assert!(!read.body.contains("What you can do"), "an auditor writes nothing");
        // A form's address opened in the browser (after signing in from a
        // post, say) leads back to the proposal.
        let back = quinn.get(&format!("{page}/vote")).await;
        assert_eq!((back.status, back.location.as_str()), (303, page.as_str()));
        app.stop().await;
    }
}

on_both_backends! {
    async fn titles_and_text_are_escaped_and_updates_arrive_as_server_sent_events(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::spawn(&db).await;
        let crew = crew(&app).await;
        let ann = Visitor::signed_in(&app.base, &crew.ann).await;
        let page = raise(&ann, &crew, "<script>alert(1)</script> rota").await;
        let shown = ann.get(&page).await;
        assert!(!shown.body.contains("<script>alert(1)"), "escaped");
        assert!(shown.body.contains("&#60;script&#62;alert(1)&#60;/script&#62; rota"), "shown as text");

        // An open page hears of a vote as it is recorded.
        let position = head(&app).await;
        let cookie = ann.cookie.lock().expect("cookie").clone().expect("a session");
        let mut updates = reqwest::Client::new()
            .get(format!("{}{page}/updates?after={position}", app.base))
            .header("cookie", cookie)
            .send()
            .await
            .expect("updates");
        assert_eq!(updates.status().as_u16(), 200);
        assert_eq!(updates.headers()["content-type"], "text/event-stream");
        let bob = Visitor::signed_in(&app.base, &crew.bob).await;
        let voted = bob.submit(&page, &format!("{page}/vote"), &[("vote-agree", "true")]).await;
        assert_eq!(voted.status, 303);
        let mut heard = String::new();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while !heard.contains("event: changed") {
            let chunk = tokio::time::timeout_at(deadline, updates.chunk())
                .await
                .expect("an update within 10 s")
                .expect("a chunk")
                .expect("the stream goes on");
            heard.push_str(&String::from_utf8_lossy(&chunk));
        }
        assert!(heard.contains(&format!("id: {}", head(&app).await)), "{heard}");
        drop(updates);
        app.stop().await;
    }
}

on_both_backends! {
    async fn a_representative_raises_in_a_group_with_an_area_and_spend_in_pounds(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::spawn(&db).await;
        let crew = crew(&app).await;
        let group = advice_log::domain::GroupId(
            app.app
                .form_group(&crew.admin, "Staff Training Group", &[crew.team], &["training".to_string()])
                .await
                .expect("group")
                .subject,
        );
        app.app
            .delegate_representative(&crew.admin, group, crew.team, crew.ann_id)
            .await
            .expect("representative");
        app.app
            .allocate_budget(&crew.admin, group, 1_000_000, Some("Training fund".into()), None)
            .await
            .expect("budget");
        let ann = Visitor::signed_in(&app.base, &crew.ann).await;
        let chooser = ann.get("/proposals/new").await;
        assert!(chooser.body.contains("Which team or group is it for?"), "two owners: she chooses first");
        assert!(chooser.body.contains("Staff Training Group (group)"));
        let owner = format!("group:{}", group.0);
        let form = format!("/proposals/new?owner={owner}");
        let shown = ann.get(&form).await;
        assert!(shown.body.contains("<option value=\"training\">training</option>"), "the mandate's areas");
        assert!(shown.body.contains("Spend from the group"));
        let fields = |area: &'static str, spend: &'static str| {
            vec![("owner", owner.clone()), ("title", "First-aid refresher".to_string()), ("body", "Two trainers, four sessions.".to_string()),
                 ("rule", "CONSENT".to_string()), ("area", area.to_string()), ("spend", spend.to_string())]
        };
        let before = head(&app).await;
        let send = |fields: Vec<(&'static str, String)>| {
            let ann = &ann;
            let form = form.clone();
            async move {
                let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                ann.submit(&form, "/proposals/new", &pairs).await
            }
        };
        let refused = send(fields("cooking", "£1,250.50")).await;
        assert_eq!(refused.status, 422);
        assert!(refused.body.contains("id=\"area-error\""), "outside the mandate, beside the area: {}", refused.body);
        let refused = send(fields("training", "lots")).await;
        assert_eq!(refused.status, 422);
        assert!(refused.body.contains("id=\"spend-error\""), "not an amount, beside the spend");
        assert!(refused.body.contains("value=\"lots\""), "what was typed is kept");
        assert_eq!(head(&app).await, before, "nothing appended");
        let raised = send(fields("training", "£1,250.50")).await;
        assert_eq!(raised.status, 303, "{}", raised.body);
        let page = ann.get(&raised.location).await.body;
        assert!(page.contains("£1,250.50"), "spend in pounds");
        assert!(page.contains("the team North Station"), "the member team is asked for advice, by name");
        app.stop().await;
    }
}
