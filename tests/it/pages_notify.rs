//! The notification pages over real HTTP, on both backends, as a browser
//! without JavaScript uses them: `/preferences`, `/admin/webhooks` and
//! `/admin/deliveries`.

use advice_log::domain::notification::Frequency;
use advice_log::domain::PersonId;
use advice_log::outbox::{Channel, Finish, NewNotification};

use crate::on_both_backends;
use crate::page_visitor::{command_of, csrf, issued_token, option_value, value_after, Visitor};
use crate::support::{outbox_row, TestApp, TestDb};

/// A server that accepts webhooks on loopback addresses, as the tests use.
async fn server(db: &TestDb) -> TestApp {
    TestApp::spawn_with_settings(
        db,
        advice_log::server::Settings {
            webhook_allow_private: true,
            ..Default::default()
        },
    )
    .await
}

/// Signs in as a new admin and answers the visitor.
async fn admin(app: &TestApp) -> Visitor {
    let (_, token) = app.bootstrap().await;
    let mut ada = Visitor::new(app);
    ada.sign_in(&token).await;
    ada
}

/// Registers someone through the admin page, signs them in, and answers
/// their id and visitor.
async fn someone(app: &TestApp, ada: &mut Visitor, name: &str, role: &str) -> (PersonId, Visitor) {
    let email = format!(
        "{}@example.org",
        name.split(' ').next().unwrap_or(name).to_lowercase()
    );
    let done = ada
        .admin_post(
            "/admin/people",
            &[
                ("person-name", name),
                ("person-email", &email),
                ("person-role", role),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let id = option_value(&ada.get("/admin").await.body, "token-person", name);
    let issued = ada
        .admin_post("/admin/tokens", &[("token-person", &id)])
        .await;
    let mut visitor = Visitor::new(app);
    visitor.sign_in(&issued_token(&issued.body)).await;
    (PersonId(id.parse().expect("uuid")), visitor)
}

/// Posts a form of the page at `page` to `action`, with the page's CSRF
/// token and the form's command id, plus `fields`.
async fn post_from(
    visitor: &mut Visitor,
    page: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> crate::page_visitor::Answer {
    let html = visitor.get(page).await.body;
    let csrf = csrf(&html);
    let command = command_of(&html, action);
    let mut all = vec![("csrf", csrf.as_str()), ("command", command.as_str())];
    all.extend_from_slice(fields);
    visitor.post(action, &all).await
}

async fn events(app: &TestApp) -> usize {
    app.store.read_all(0, 100_000).await.expect("read").len()
}

on_both_backends! {
    async fn a_person_chooses_how_they_hear_on_the_preferences_page(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = server(&db).await;
        let anonymous = Visitor::new(&app).get("/preferences").await;
        assert_eq!((anonymous.status, anonymous.location.as_deref()), (303, Some("/sign-in?next=/preferences")), "signed-out visitors sign in and come back");

        let mut ada = admin(&app).await;
        let (sam_id, mut sam) = someone(&app, &mut ada, "Sam Patel", "none").await;
        let home = sam.get("/").await.body;
        assert!(home.contains("href=\"/preferences\""), "the header links to it");
        let page = sam.get("/preferences").await;
        assert_eq!(page.status, 200);
        for expected in ["<h1>How you hear from advice-log</h1>", "sam@example.org", "Each time something needs you", "One e-mail a day with everything", "No e-mails: I&#39;ll check advice-log myself", "value=\"immediate\" checked"] {
            assert!(page.body.contains(expected), "the page shows {expected:?}: {}", page.body);
        }

        let before = events(&app).await;
        let forged = sam.post("/preferences", &[("frequency", "off")]).await;
        assert_eq!(forged.status, 403, "no CSRF token");
        assert_eq!(events(&app).await, before, "nothing appended");

        let saved = post_from(&mut sam, "/preferences", "/preferences", &[("frequency", "daily")]).await;
        assert_eq!((saved.status, saved.location.as_deref()), (303, Some("/preferences?done=daily")));
        let shown = sam.get("/preferences?done=daily").await.body;
        assert!(shown.contains("Saved. From now on: One e-mail a day with everything."), "{shown}");
        assert!(shown.contains("value=\"daily\" checked") && !shown.contains("value=\"immediate\" checked"), "the choice is shown");
        assert_eq!(app.app.read.directory().person(sam_id).map(|p| p.frequency), Some(Frequency::Daily));

        let refused = post_from(&mut sam, "/preferences", "/preferences", &[("frequency", "sometimes")]).await;
        assert_eq!(refused.status, 422);
        assert!(refused.body.contains("There is a problem") && refused.body.contains("href=\"#frequency\"") && refused.body.contains("Choose how often advice-log should e-mail you."), "{}", refused.body);
        app.stop().await;
    }
}

on_both_backends! {
    async fn an_admin_registers_a_webhook_sees_its_secret_once_and_deletes_it(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = server(&db).await;
        let mut ada = admin(&app).await;
        let admin_page = ada.get("/admin").await.body;
        assert!(admin_page.contains("href=\"/admin/webhooks\"") && admin_page.contains("href=\"/admin/deliveries\""), "the admin page links both");
        assert_eq!(ada.admin_post("/admin/teams", &[("team-name", "North Station")]).await.status, 303);
        let empty = ada.get("/admin/webhooks").await;
        assert_eq!(empty.status, 200);
        assert!(empty.body.contains("No webhooks have been registered."));

        let before = events(&app).await;
        let forged = ada.post("/admin/webhooks", &[("webhook-url", "http://127.0.0.1:9/x"), ("webhook-scope", "everything")]).await;
        assert_eq!(forged.status, 403, "no CSRF token");
        assert_eq!(events(&app).await, before, "nothing appended");

        let bad = post_from(&mut ada, "/admin/webhooks", "/admin/webhooks", &[("webhook-url", "ftp://hooks.example.org/"), ("webhook-scope", "everything")]).await;
        assert_eq!(bad.status, 422);
        assert!(bad.body.contains("webhook-url-error") && bad.body.contains("https:// or http://") && bad.body.contains("value=\"ftp://hooks.example.org/\""), "the error is beside the address, which is kept: {}", bad.body);
        let blank = post_from(&mut ada, "/admin/webhooks", "/admin/webhooks", &[("webhook-url", " "), ("webhook-scope", "everything")]).await;
        assert_eq!(blank.status, 422);
        assert!(blank.body.contains("Enter the address advice-log should call"), "{}", blank.body);

        let page = ada.get("/admin/webhooks").await.body;
        let team = option_value(&page, "webhook-scope", "Team: North Station");
        let (csrf_token, command) = (csrf(&page), command_of(&page, "/admin/webhooks"));
        let fields = [("csrf", csrf_token.as_str()), ("command", command.as_str()), ("webhook-url", "http://127.0.0.1:9/north"), ("webhook-scope", team.as_str())];
        let registered = ada.post("/admin/webhooks", &fields).await;
        assert_eq!(registered.status, 200, "{}", registered.body);
        assert_eq!(registered.cache_control.as_deref(), Some("no-store"));
        assert!(registered.body.contains("Standard Webhooks"), "how to verify the calls");
        let start = registered.body.find("whsec_").expect("the secret is shown");
        let secret = registered.body[start..start + registered.body[start..].find('<').expect("it ends")].to_string();
        assert!(secret.starts_with("whsec_"), "{secret}");
        let again = ada.post("/admin/webhooks", &fields).await;
        assert_eq!(again.status, 200);
        assert!(again.body.contains("This secret was already shown") && !again.body.contains(&secret), "a form sent twice registers once and shows no secret");

        let list = ada.get("/admin/webhooks").await.body;
        assert!(!list.contains(&secret), "the secret is shown once only");
        for expected in ["http://127.0.0.1:9/north", "Team: North Station", "Active"] {
            assert!(list.contains(expected), "the list shows {expected:?}: {list}");
        }
        assert_eq!(list.matches("name=\"webhook\" value=\"").count(), 1, "registered once");

        let (_, mut member) = someone(&app, &mut ada, "Sam Patel", "none").await;
        assert_eq!(member.get("/admin/webhooks").await.status, 403);
        let member_csrf = csrf(&member.get("/").await.body);
        let hook = value_after(&list, "name=\"webhook\" value=\"").expect("a delete form");
        let posted = member.post("/admin/webhooks/delete", &[("csrf", &member_csrf), ("webhook", &hook)]).await;
        assert_eq!(posted.status, 403, "a member cannot delete");

        let list = ada.get("/admin/webhooks").await.body;
        let form = &list[list.find("action=\"/admin/webhooks/delete\"").expect("a delete form")..];
        let command = value_after(form, "name=\"command\" value=\"").expect("its command id");
        let deleted = ada.post("/admin/webhooks/delete", &[("csrf", &csrf(&list)), ("command", &command), ("webhook", &hook)]).await;
        assert_eq!((deleted.status, deleted.location.as_deref()), (303, Some("/admin/webhooks?done=webhook-deleted")), "{}", deleted.body);
        let after = ada.get("/admin/webhooks?done=webhook-deleted").await.body;
        assert!(after.contains("The webhook is deleted") && after.contains(">Deleted<") && !after.contains("name=\"webhook\" value=\""), "{after}");
        let twice = ada.post("/admin/webhooks/delete", &[("csrf", &csrf(&after)), ("webhook", &hook)]).await;
        assert_eq!(twice.status, 422, "deleting again is refused in words");
        assert!(twice.body.contains("webhooks-error") && twice.body.contains("already deleted"), "{}", twice.body);
        app.stop().await;
    }
}

on_both_backends! {
    async fn the_delivery_log_shows_counts_and_pages_for_admins_and_auditors_only(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = server(&db).await;
        let mut ada = admin(&app).await;
        let (sam_id, mut sam) = someone(&app, &mut ada, "Sam Patel", "none").await;
        let (_, mut aud) = someone(&app, &mut ada, "Aud Itor", "auditor").await;
        let empty = ada.get("/admin/deliveries").await;
        assert_eq!(empty.status, 200);
        assert!(empty.body.contains("Nothing to show"), "{}", empty.body);

        let mut rows: Vec<NewNotification> = (1..=55).map(|p| outbox_row(p, Channel::Email, sam_id.0, "ADVICE_REQUESTED")).collect();
        rows.push(outbox_row(56, Channel::Email, sam_id.0, "DECIDED"));
        app.app.outbox.add(&rows).await.expect("add");
        let newest = app.app.outbox.list(None, None, 1).await.expect("list");
        app.app.outbox.finish(&[newest[0].id], &Finish::Failed("the mail server refused: 550 no such user".into()), chrono::Utc::now()).await.expect("finish");

        let page = ada.get("/admin/deliveries").await;
        assert_eq!(page.status, 200);
        for expected in ["<h1>Delivery log</h1>", "Waiting to be sent", "Sam Patel (e-mail)", "Advice requested", "Decided", "Winter rota", ">Failed<", "550 no such user", "href=\"/admin/deliveries?status=failed\""] {
            assert!(page.body.contains(expected), "the log shows {expected:?}");
        }
        assert_eq!(page.body.matches("<tr class=\"nhsuk-table__row\">").count(), 1 + 50, "50 a page");
        let older = value_after(&page.body, "nhsuk-pagination__link--next\" href=\"").expect("an older page");
        let older_page = ada.get(&older.replace("&amp;", "&")).await.body;
        assert_eq!(older_page.matches("<tr class=\"nhsuk-table__row\">").count(), 1 + 6, "the rest");
        assert!(older_page.contains("Back to the newest deliveries"));

        let failed = ada.get("/admin/deliveries?status=failed").await.body;
        assert_eq!(failed.matches("<tr class=\"nhsuk-table__row\">").count(), 1 + 1, "only the failed one");
        assert!(failed.contains("550 no such user") && failed.contains("aria-current=\"page\""));

        assert_eq!(aud.get("/admin/deliveries").await.status, 200, "auditors read it");
        let refused = sam.get("/admin/deliveries").await;
        assert_eq!(refused.status, 403, "members do not");
        assert!(refused.body.contains("Only the organisation&#39;s admins and auditors"), "{}", refused.body);
        app.stop().await;
    }
}
