//! Personal data requests honoured through the pages, over real HTTP, on
//! both backends, as a browser without JavaScript uses them: the admin
//! page's erasure and correction forms, and redacting one field of a
//! proposal's trail entry from the proposal's page.

use advice_log::domain::proposal::ProposalId;
use advice_log::domain::PersonId;
use serde_json::json;

use crate::hostile::Team;
use crate::on_both_backends;
use crate::page_visitor::{csrf, issued_token, option_value, value_after, Visitor};
use crate::support::{as_person, TestApp, TestDb};

const ERASED_TEXT: &str = "[This text has been erased]";
const PERSON: &str = "query($id: ID!) { node(id: $id) { ... on Person { name email erased } } }";
const OBJECTION: &str = "Mrs Ivy Pennington-Brask at number 4 would be left without a visit.";

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
    assert_eq!(done.status, 303, "{}", done.body);
    option_value(&ada.get("/admin").await.body, "erase-person", name)
}

async fn head(app: &TestApp) -> u64 {
    app.store.head().await.expect("head")
}

on_both_backends! {
    async fn an_admin_erases_and_corrects_people_on_the_admin_page(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::spawn(&db).await;
        let (_, admin_token) = app.bootstrap().await;
        let mut ada = Visitor::new(&app);
        ada.sign_in(&admin_token).await;
        let sam = register(&mut ada, "Sam Patel", "sam@example.org").await;
        let robin = register(&mut ada, "Robin Quayle", "robin.quayle@example.org").await;
        let page = ada.get("/admin").await.body;
        for expected in ["Personal data requests", "Erase a person's personal data", "nhsuk-warning-callout",
                         "Also erase what they wrote (advice, objections, notes)", "do not write the person&#39;s name here: the reason is kept",
                         "action=\"/admin/erasures\"", "action=\"/admin/corrections\""] {
            assert!(page.contains(expected), "the admin page shows {expected:?}");
        }

        // A member may not erase anyone.
        let issued = ada.admin_post("/admin/tokens", &[("token-person", &sam)]).await;
        let mut member = Visitor::new(&app);
        member.sign_in(&issued_token(&issued.body)).await;
        let before = head(&app).await;
        let member_csrf = csrf(&member.get("/").await.body);
        let refused = member.post("/admin/erasures", &[("csrf", &member_csrf), ("erase-person", &robin), ("erase-reason", "ER-1")]).await;
        assert_eq!(refused.status, 403, "{}", refused.body);
        let refused = member.post("/admin/corrections", &[("csrf", &member_csrf), ("correct-person", &robin), ("correct-name", "Mine")]).await;
        assert_eq!(refused.status, 403, "{}", refused.body);
        let forged = ada.post("/admin/erasures", &[("erase-person", &robin), ("erase-reason", "ER-1")]).await;
        assert_eq!(forged.status, 403, "no CSRF token");
        assert_eq!(head(&app).await, before, "nothing appended");

        // A missing reason is shown in the error summary and nothing changes.
        let missing = ada.admin_post("/admin/erasures", &[("erase-person", &robin), ("erase-reason", "  "), ("erase-contributions", "yes")]).await;
        assert_eq!(missing.status, 422);
        assert!(missing.body.contains("There is a problem") && missing.body.contains("href=\"#erase-reason\""), "{}", missing.body);
        assert!(missing.body.contains("Enter the reason, like the erasure request&#39;s reference."), "{}", missing.body);
        assert!(missing.body.contains("id=\"erase-contributions\" name=\"erase-contributions\" type=\"checkbox\" value=\"yes\" checked"), "the box stays ticked");
        let nobody = ada.admin_post("/admin/erasures", &[("erase-reason", "ER-1")]).await;
        assert_eq!(nobody.status, 422);
        assert!(nobody.body.contains("Choose the person whose personal data is to be erased."));
        assert_eq!(head(&app).await, before, "nothing appended");

        // A correction.
        let nothing = ada.admin_post("/admin/corrections", &[("correct-person", &sam)]).await;
        assert_eq!(nothing.status, 422);
        assert!(nothing.body.contains("Enter the name or the e-mail address as it should read"));
        let corrected = ada.admin_post("/admin/corrections", &[("correct-person", &sam), ("correct-name", "Sam Okafor")]).await;
        assert_eq!((corrected.status, corrected.location.as_deref()), (303, Some("/admin?done=person-corrected#requests")), "{}", corrected.body);
        let page = ada.get("/admin?done=person-corrected").await.body;
        assert!(page.contains("The correction is recorded.") && page.contains("Sam Okafor") && !page.contains("Sam Patel"), "{page}");
        let taken = ada.admin_post("/admin/corrections", &[("correct-person", &sam), ("correct-email", "ROBIN.quayle@example.org")]).await;
        assert_eq!(taken.status, 422);
        assert!(taken.body.contains("correct-email-error") && taken.body.contains("Someone else is registered with"), "{}", taken.body);

        // The erasure.
        let erased = ada.admin_post("/admin/erasures", &[("erase-person", &robin), ("erase-reason", "Erasure request ER-2026-17"), ("erase-contributions", "yes")]).await;
        assert_eq!(erased.status, 303, "{}", erased.body);
        let location = erased.location.expect("a redirect");
        let position = head(&app).await;
        assert!(location.starts_with(&format!("/admin?done=person-erased-with-text&position={position}")), "{location}");
        let page = ada.get(&location).await.body;
        assert!(page.contains("Done: the person now reads as &quot;Erased person&quot; everywhere") || page.contains("Done: the person now reads as &#34;Erased person&#34; everywhere"), "{page}");
        assert!(page.contains(&format!("at log position {position}")), "the confirmation names the position");
        assert!(page.contains("Erased person</th>") && page.contains("nhsuk-tag--grey\">Erased</strong> Erased on"), "the people list says so");
        assert!(!page.contains("Robin Quayle") && !page.contains("robin.quayle@example.org"), "the name and e-mail are gone");
        let erase_select = &page[page.find("id=\"erase-person\"").expect("the select")..];
        assert!(!erase_select[..erase_select.find("</select>").expect("ends")].contains("Erased person"), "an erased person cannot be chosen again");
        let node = app.ok(&admin_token, PERSON, json!({ "id": robin })).await;
        assert_eq!(node["node"]["erased"], true, "{node}");
        assert_eq!(node["node"]["name"], "Erased person");
        app.stop().await;
    }
}

on_both_backends! {
    async fn an_admin_redacts_an_objection_reason_from_the_proposal_page(backend: Backend) {
        let db = TestDb::new(backend).await;
        let team = Team::new(&db).await;
        let app = &team.app;
        let (status, raised) = team.raise(json!({})).await;
        assert_eq!(status, 200, "{raised}");
        let id = raised["data"]["raiseProposal"]["proposal"]["id"].as_str().expect("raised").to_string();
        let sam = app.ok(&team.member, "{ me { id } }", json!({})).await["me"]["id"].as_str().expect("id").to_string();
        let proposal = ProposalId(id.parse().expect("uuid"));
        app.app.raise_objection(&as_person(PersonId(sam.parse().expect("uuid"))), proposal, OBJECTION).await.expect("object");
        let trail = app.ok(&team.admin, "query($id: ID!) { proposal(id: $id) { trail { eventId eventType } } }", json!({ "id": id })).await;
        let objection = trail["proposal"]["trail"].as_array().expect("a trail").iter()
            .find(|e| e["eventType"] == "ObjectionRaised").expect("the objection")["eventId"].as_str().expect("id").to_string();
        let address = format!("/proposals/{id}/redact?event={objection}");

        // Only admins see the link, or the page.
        let mut member = Visitor::new(app);
        member.sign_in(&team.member).await;
        assert!(!member.get(&format!("/proposals/{id}")).await.body.contains("Redact text"));
        assert_eq!(member.get(&address).await.status, 403);

        let mut ada = Visitor::new(app);
        ada.sign_in(&team.admin).await;
        let page = ada.get(&format!("/proposals/{id}")).await.body;
        assert!(page.contains(OBJECTION));
        assert!(page.contains(&format!("href=\"{address}\">Redact text")), "the trail links each entry with text");
        let form = ada.get(&address).await;
        assert_eq!(form.status, 200, "{}", form.body);
        assert!(form.body.contains("<h1>Redact text</h1>") && form.body.contains(OBJECTION) && form.body.contains("value=\"reason\" checked"), "{}", form.body);
        let (token, command) = (csrf(&form.body), value_after(&form.body, "name=\"command\" value=\"").expect("a command id"));
        let post = format!("/proposals/{id}/redact");

        let before = head(app).await;
        let missing = ada.post(&post, &[("csrf", &token), ("command", &command), ("event", &objection), ("redact-field", "reason"), ("redact-reason", "")]).await;
        assert_eq!(missing.status, 422);
        assert!(missing.body.contains("There is a problem") && missing.body.contains("href=\"#redact-reason\""), "{}", missing.body);
        let wrong = ada.post(&post, &[("csrf", &token), ("command", &command), ("event", &objection), ("redact-field", "stance"), ("redact-reason", "R-9")]).await;
        assert_eq!(wrong.status, 422);
        assert!(wrong.body.contains("redact-field-error") && wrong.body.contains("Choose one of the texts listed"), "{}", wrong.body);
        let member_csrf = csrf(&member.get(&format!("/proposals/{id}")).await.body);
        let refused = member.post(&post, &[("csrf", &member_csrf), ("event", &objection), ("redact-field", "reason"), ("redact-reason", "R-9")]).await;
        assert_eq!(refused.status, 403);
        assert_eq!(head(app).await, before, "nothing appended");

        let done = ada.post(&post, &[("csrf", &token), ("command", &command), ("event", &objection), ("redact-field", "reason"), ("redact-reason", "Patient named: request R-9")]).await;
        assert_eq!((done.status, done.location.as_deref()), (303, Some(format!("/proposals/{id}?done=redacted#trail").as_str())), "{}", done.body);
        let page = ada.get(&format!("/proposals/{id}?done=redacted")).await.body;
        assert!(page.contains("The text is erased."), "a confirmation");
        assert!(page.contains(ERASED_TEXT), "the objection reads as erased");
        assert!(!page.contains("Pennington-Brask"), "the text is nowhere on the page: {page}");
        assert!(page.contains("Redacted text (the reason of an earlier entry)") && page.contains("Patient named: request R-9"), "the trail shows the redaction and why");
        let again = ada.get(&address).await.body;
        assert!(again.contains("All the text of this entry has been erased already."), "{again}");
        team.app.stop().await;
    }
}
