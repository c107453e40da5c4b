//! Linking people to identities at the organisation's identity provider,
//! and leavers: an identity belongs to one person; marking someone as left
//! revokes every live token of theirs, unlinks their identities and records
//! the leaving in one append, and their API token and page session stop
//! working at once. Auditors can do none of it; the directory rebuilt from
//! the log says the same.

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::page_visitor::Visitor;
use crate::support::{error_code, TestApp, TestDb};
use advice_log::domain::PersonId;
use advice_log::read::directory::Directory;

const ISSUER: &str = "https://login.example.org/tenant/v2.0";
const REGISTER: &str =
    "mutation($input: RegisterPersonInput!) { registerPerson(input: $input) { person { id } } }";
const ISSUE: &str = "mutation($input: IssueTokenInput!) { issueToken(input: $input) { token } }";
const LINK: &str = "mutation($input: IdentityInput!) { linkIdentity(input: $input) { person { id identities { issuer subject } } position } }";
const UNLINK: &str = "mutation($input: IdentityInput!) { unlinkIdentity(input: $input) { person { id identities { issuer subject } } position } }";
const LEAVE: &str = "mutation($input: MarkPersonLeftInput!) { markPersonLeft(input: $input) { person { id left leftAt identities { subject } } position } }";
const PERSON: &str = "query($id: ID!) { node(id: $id) { ... on Person { id left leftAt identities { issuer subject } } } }";

async fn register(app: &TestApp, admin: &str, name: &str, email: &str, role: Value) -> String {
    let input = json!({ "input": { "name": name, "email": email, "orgRole": role } });
    let data = app.ok(admin, REGISTER, input).await;
    data["registerPerson"]["person"]["id"]
        .as_str()
        .expect("an id")
        .to_string()
}

async fn token_for(app: &TestApp, admin: &str, person: &str) -> String {
    let data = app
        .ok(admin, ISSUE, json!({ "input": { "personId": person } }))
        .await;
    data["issueToken"]["token"]
        .as_str()
        .expect("a token")
        .to_string()
}

fn identity(person: &str, subject: &str) -> Value {
    json!({ "input": { "personId": person, "issuer": ISSUER, "subject": subject } })
}

fn id_of(text: &str) -> PersonId {
    PersonId::parse(text).expect("a person id")
}

on_both_backends! {
    async fn a_linked_identity_finds_its_person_and_no_one_else_can_take_it(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::spawn(&db).await;
        let (_, admin) = app.bootstrap().await;
        let ann = register(&app, &admin, "Ann Lee", "Ann.Lee@example.org", Value::Null).await;
        let bob = register(&app, &admin, "Bob Ray", "bob@example.org", Value::Null).await;
        let bob_token = token_for(&app, &admin, &bob).await;

        let data = app.ok(&admin, LINK, identity(&ann, "ann-248289761001")).await;
        assert_eq!(
            data["linkIdentity"]["person"]["identities"],
            json!([{ "issuer": ISSUER, "subject": "ann-248289761001" }])
        );
        {
            let directory = app.app.read.directory();
            let found = directory.person_by_identity(ISSUER, "ann-248289761001").map(|p| p.id);
            assert_eq!(found, Some(id_of(&ann)));
            assert_eq!(directory.person_by_identity(ISSUER, "ANN-248289761001").map(|p| p.id), None, "subjects are exact");
            assert_eq!(directory.person_by_identity("https://other.example.org", "ann-248289761001").map(|p| p.id), None);
            let by_email = directory.person_by_verified_email(" ann.lee@EXAMPLE.org").map(|p| p.id);
            assert_eq!(by_email, Some(id_of(&ann)), "e-mail matches in any case");
        }

        // The same identity cannot be Bob's while it is Ann's.
        let (_, body) = app.graphql_as(Some(&admin), LINK, identity(&bob, "ann-248289761001")).await;
        assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{body}");
        assert!(body.to_string().contains("already linked to Ann Lee"), "{body}");
        // Linking it to Ann twice is refused too; a bad issuer is invalid input.
        let (_, body) = app.graphql_as(Some(&admin), LINK, identity(&ann, "ann-248289761001")).await;
        assert_eq!(error_code(&body), Some("INVALID_STATE"), "{body}");
        let bad = json!({ "input": { "personId": ann, "issuer": "login.example.org", "subject": "x" } });
        let (_, body) = app.graphql_as(Some(&admin), LINK, bad).await;
        assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{body}");

        // Bob reads his own identities but not Ann's.
        app.ok(&admin, LINK, identity(&bob, "bob-1")).await;
        let mine = app.ok(&bob_token, PERSON, json!({ "id": bob })).await;
        assert_eq!(mine["node"]["identities"][0]["subject"], "bob-1");
        let (_, body) = app.graphql_as(Some(&bob_token), PERSON, json!({ "id": ann })).await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");

        // Unlinking ends that identity's sign-in and nothing else.
        let data = app.ok(&admin, UNLINK, identity(&bob, "bob-1")).await;
        assert_eq!(data["unlinkIdentity"]["person"]["identities"], json!([]));
        assert!(app.app.read.directory().person_by_identity(ISSUER, "bob-1").is_none());
        app.ok(&bob_token, "{ me { id } }", json!({})).await;
        let (_, body) = app.graphql_as(Some(&admin), UNLINK, identity(&bob, "bob-1")).await;
        assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
        // Now free, the identity may be linked to Bob.
        app.ok(&admin, UNLINK, identity(&ann, "ann-248289761001")).await;
        app.ok(&admin, LINK, identity(&bob, "ann-248289761001")).await;
        let found = app.app.read.directory().person_by_identity(ISSUER, "ann-248289761001").map(|p| p.id);
        assert_eq!(found, Some(id_of(&bob)));
        app.stop().await;
    }
}

on_both_backends! {
    async fn a_leaver_loses_every_token_link_and_session_in_one_append(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::spawn(&db).await;
        let (_, admin) = app.bootstrap().await;
        let ann = register(&app, &admin, "Ann Lee", "ann@example.org", Value::Null).await;
        let first = token_for(&app, &admin, &ann).await;
        let second = token_for(&app, &admin, &ann).await;
        let third = token_for(&app, &admin, &ann).await;
        let (third_id, _) = advice_log::auth::parse(&third).expect("a token");
        let meta = crate::support::as_admin(&app.app);
        app.app.revoke_token(&meta, third_id).await.expect("revoked before leaving");
        app.ok(&admin, LINK, identity(&ann, "ann-1")).await;
        let mut browser = Visitor::new(&app);
        browser.sign_in(&first).await;
        assert_eq!(browser.get("/register").await.status, 200, "signed in");
        let blank = json!({ "input": { "personId": ann, "reason": " " } });
        let (_, body) = app.graphql_as(Some(&admin), LEAVE, blank).await;
        assert_eq!(error_code(&body), Some("INVALID_INPUT"), "a reason is needed: {body}");
        let before = app.store.head().await.expect("head");

        let input = json!({ "input": { "personId": ann, "reason": "Moved to another trust" } });
        let data = app.ok(&admin, LEAVE, input).await;
        let left = &data["markPersonLeft"];
        assert_eq!(left["person"]["left"], true);
        assert!(left["person"]["leftAt"].is_string(), "{left}");
        assert_eq!(left["person"]["identities"], json!([]));

        // One append: the two live tokens revoked, the link dropped and the
        // leaving, at consecutive positions ending at the answered one.
        let appended = app.store.read_all(before, 100).await.expect("the log");
        let kinds: Vec<&str> = appended.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(kinds, ["TokenRevoked", "TokenRevoked", "IdentityUnlinked", "PersonLeft"]);
        let positions: Vec<u64> = appended.iter().map(|e| e.position).collect();
        assert_eq!(positions, (before + 1..=before + 4).collect::<Vec<_>>());
        assert_eq!(left["position"], json!(before + 4));
        assert!(appended.iter().all(|e| e.stream_id == id_of(&ann).stream()));
        let revoked: Vec<Value> = appended[..2].iter().map(|e| e.payload["token_id"].clone()).collect();
        assert!(!revoked.contains(&json!(third_id)), "an already revoked token is not revoked again");
        assert_eq!(appended[3].metadata["reason"], "Moved to another trust", "{}", appended[3].metadata);

        // At once: no token of theirs works, their page session is over.
        for token in [&first, &second] {
            let (_, body) = app.graphql_as(Some(token), "{ me { id } }", json!({})).await;
            assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
        }
        assert_eq!(browser.get("/register").await.status, 303, "the session ended");
        {
            let directory = app.app.read.directory();
            assert!(directory.person_by_identity(ISSUER, "ann-1").is_none());
            assert!(directory.person_by_verified_email("ann@example.org").is_none(), "a leaver is not found by e-mail");
        }

        // They cannot be given a token, linked, or leave again.
        let (_, body) = app.graphql_as(Some(&admin), ISSUE, json!({ "input": { "personId": ann } })).await;
        assert_eq!(error_code(&body), Some("INVALID_STATE"), "{body}");
        let (_, body) = app.graphql_as(Some(&admin), LINK, identity(&ann, "ann-2")).await;
        assert_eq!(error_code(&body), Some("INVALID_STATE"), "{body}");
        let again = json!({ "input": { "personId": ann, "reason": "again" } });
        let (_, body) = app.graphql_as(Some(&admin), LEAVE, again).await;
        assert_eq!(error_code(&body), Some("INVALID_STATE"), "{body}");

        // The record stays, marked as left; the directory rebuilt from the
        // log and read back from its snapshot says the same.
        let shown = app.ok(&admin, PERSON, json!({ "id": ann })).await;
        assert_eq!(shown["node"]["left"], true);
        let mut rebuilt = Directory::default();
        for event in app.store.read_all(0, 10_000).await.expect("the log") {
            rebuilt.apply(&event).expect("applies");
        }
        let live: Value = serde_json::from_slice(&app.app.read.directory().to_snapshot().expect("snapshot")).expect("json");
        let fresh: Value = serde_json::from_slice(&rebuilt.to_snapshot().expect("snapshot")).expect("json");
        assert_eq!(live, fresh);
        let restored = Directory::from_snapshot(&rebuilt.to_snapshot().expect("snapshot")).expect("reads back");
        let view = restored.person(id_of(&ann)).expect("still in the directory");
        assert!(view.left() && view.identities.is_empty());
        assert!(advice_log::read::directory::SNAPSHOT_FORMAT.starts_with("directory/6"));
        app.stop().await;
    }
}

on_both_backends! {
    async fn auditors_cannot_link_unlink_or_mark_leavers(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::spawn(&db).await;
        let (_, admin) = app.bootstrap().await;
        let auditor = register(&app, &admin, "Aud Itor", "audit@example.org", json!("AUDITOR")).await;
        let auditor_token = token_for(&app, &admin, &auditor).await;
        let ann = register(&app, &admin, "Ann Lee", "ann@example.org", Value::Null).await;
        let ann_token = token_for(&app, &admin, &ann).await;
        app.ok(&admin, LINK, identity(&ann, "ann-1")).await;
        let before = app.store.head().await.expect("head");
        let leave = json!({ "input": { "personId": ann, "reason": "Left" } });
        for (query, variables) in [(LINK, identity(&ann, "ann-2")), (UNLINK, identity(&ann, "ann-1")), (LEAVE, leave.clone())] {
            for token in [&auditor_token, &ann_token] {
                let (_, body) = app.graphql_as(Some(token), query, variables.clone()).await;
                assert_eq!(error_code(&body), Some("FORBIDDEN"), "{query}: {body}");
            }
        }
        assert_eq!(app.store.head().await.expect("head"), before, "nothing was written");
        // Auditors read identities.
        let seen = app.ok(&auditor_token, PERSON, json!({ "id": ann })).await;
        assert_eq!(seen["node"]["identities"][0]["subject"], "ann-1");
        assert_eq!(seen["node"]["left"], false);
        app.stop().await;
    }
}

on_both_backends! {
    async fn on_the_admin_page_an_admin_links_unlinks_and_marks_a_leaver(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::spawn(&db).await;
        let (_, admin) = app.bootstrap().await;
        let ann = register(&app, &admin, "Ann Lee", "ann@example.org", Value::Null).await;
        let ann_token = token_for(&app, &admin, &ann).await;
        let mut ann_browser = Visitor::new(&app);
        ann_browser.sign_in(&ann_token).await;
        let mut browser = Visitor::new(&app);
        browser.sign_in(&admin).await;

        // A subject left empty is answered beside its field, and nothing is linked.
        let fields = [("link-person", ann.as_str()), ("link-issuer", ISSUER), ("link-subject", " ")];
        let answer = browser.admin_post("/admin/identities", &fields).await;
        assert_eq!(answer.status, 422, "{}", answer.body);
        assert!(answer.body.contains("link-subject-error"), "{}", answer.body);

        let fields = [("link-person", ann.as_str()), ("link-issuer", ISSUER), ("link-subject", "ann-sub-1")];
        let answer = browser.admin_post("/admin/identities", &fields).await;
        assert_eq!((answer.status, answer.location.as_deref()), (303, Some("/admin?done=identity-linked#identities")));
        let page = browser.get("/admin?done=identity-linked").await.body;
        assert!(page.contains("<code>ann-sub-1</code>") && page.contains("The identity is linked"), "{page}");
        assert!(app.app.read.directory().person_by_identity(ISSUER, "ann-sub-1").is_some());

        let fields = [("unlink-person", ann.as_str()), ("unlink-issuer", ISSUER), ("unlink-subject", "ann-sub-1")];
        let answer = browser.admin_post("/admin/identities/unlink", &fields).await;
        assert_eq!(answer.status, 303, "{}", answer.body);
        assert!(app.app.read.directory().person_by_identity(ISSUER, "ann-sub-1").is_none());
        assert_eq!(ann_browser.get("/register").await.status, 200, "unlinking leaves her token session");

        let fields = [("left-person", ann.as_str()), ("left-reason", "Retired")];
        let answer = browser.admin_post("/admin/leavers", &fields).await;
        assert_eq!((answer.status, answer.location.as_deref()), (303, Some("/admin?done=person-left#identities")));
        let page = browser.get("/admin").await.body;
        assert!(page.contains("Left on"), "{page}");
        assert_eq!(ann_browser.get("/register").await.status, 303, "her session ended");
        assert!(app.app.read.directory().person(id_of(&ann)).expect("kept").left());
        app.stop().await;
    }
}

on_both_backends! {
    async fn the_last_admin_still_here_cannot_be_marked_as_left(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::spawn(&db).await;
        let (first, admin) = app.bootstrap().await;
        let first = first.to_string();
        let leave = |id: &str| json!({ "input": { "personId": id, "reason": "Retired" } });

        let head = app.store.head().await.expect("head");
        let (_, body) = app.graphql_as(Some(&admin), LEAVE, leave(&first)).await;
        assert_eq!(error_code(&body), Some("INVALID_STATE"), "{body}");
        assert!(body.to_string().contains("only admin"), "{body}");
        assert_eq!(app.store.head().await.expect("head"), head, "nothing is written");

        // With a second admin, the first may leave; then the second is the last.
        let second = register(&app, &admin, "Sam Ode", "sam@example.org", json!("ADMIN")).await;
        let second_token = token_for(&app, &admin, &second).await;
        app.ok(&admin, LEAVE, leave(&first)).await;
        let (_, body) = app.graphql_as(Some(&second_token), LEAVE, leave(&second)).await;
        assert_eq!(error_code(&body), Some("INVALID_STATE"), "{body}");
        app.stop().await;
    }
}
