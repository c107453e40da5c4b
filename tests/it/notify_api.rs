//! Notifications over GraphQL, on both backends: a person's choice of how
//! often to hear, webhooks (admins; the secret answered once) and the
//! delivery log (admins and auditors).

use advice_log::outbox::{Channel, Finish};
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{error_code, outbox_row, TestApp, TestDb};

const REGISTER_PERSON: &str =
    "mutation($input: RegisterPersonInput!) { registerPerson(input: $input) { person { id } } }";
const ISSUE: &str = "mutation($input: IssueTokenInput!) { issueToken(input: $input) { token } }";
const FORM_TEAM: &str =
    "mutation($input: FormTeamInput!) { formTeam(input: $input) { team { id } } }";
const JOIN: &str = "mutation($input: JoinTeamInput!) { joinTeam(input: $input) { position } }";
const SET: &str = "mutation($input: SetNotificationPreferenceInput!) { setNotificationPreference(input: $input) { person { id notificationPreference } position replayed } }";
const REGISTER: &str = "mutation($input: RegisterWebhookInput!) { registerWebhook(input: $input) { webhook { id url scope team { id } group { id } deleted disabled } secret position replayed } }";
const DELETE: &str = "mutation($input: DeleteWebhookInput!) { deleteWebhook(input: $input) { webhook { id deleted } position } }";
const WEBHOOKS: &str = "query($all: Boolean! = false) { webhooks(includeDeleted: $all) { id url scope deleted disabled disabledReason } }";
const DELIVERIES: &str = "query($status: DeliveryStatus, $first: Int, $after: String) { notificationDeliveries(status: $status, first: $first, after: $after) { edges { cursor node { id kind channel recipientId person { name } webhook { url } status attempts dueAt nextAttemptAt lastError doneAt } } pageInfo { hasNextPage hasPreviousPage } } }";

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

/// Registers someone and answers their id and token.
async fn person(app: &TestApp, admin: &str, name: &str, role: Option<&str>) -> (String, String) {
    let email = format!("{}@example.org", name.to_lowercase().replace(' ', "."));
    let data = app
        .ok(
            admin,
            REGISTER_PERSON,
            json!({"input": {"name": name, "email": email, "orgRole": role}}),
        )
        .await;
    let id = data["registerPerson"]["person"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let token = app
        .ok(admin, ISSUE, json!({"input": {"personId": id}}))
        .await["issueToken"]["token"]
        .as_str()
        .expect("token")
        .to_string();
    (id, token)
}

fn codes(body: &Value) -> Vec<&str> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["extensions"]["code"].as_str())
                .collect()
        })
        .unwrap_or_default()
}

on_both_backends! {
    async fn a_member_chooses_how_they_hear_and_reads_it_back(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = server(&db).await;
        let (_, admin) = app.bootstrap().await;
        let (noor, noor_token) = person(&app, &admin, "Noor Nurse", None).await;
        let (_, pat_token) = person(&app, &admin, "Pat Paramedic", None).await;
        let team = app.ok(&admin, FORM_TEAM, json!({"input": {"name": "Community nursing"}})).await["formTeam"]["team"]["id"].clone();
        for who in [&noor] {
            app.ok(&admin, JOIN, json!({"input": {"teamId": team, "personId": who, "role": "MEMBER"}})).await;
        }

        let me = app.ok(&noor_token, "{ me { notificationPreference } }", json!({})).await;
        assert_eq!(me["me"]["notificationPreference"], "IMMEDIATE", "each time, until chosen");
        let command = uuid::Uuid::new_v4().to_string();
        let set = app.ok(&noor_token, SET, json!({"input": {"frequency": "DAILY", "commandId": command}})).await;
        assert_eq!(set["setNotificationPreference"]["person"], json!({"id": noor, "notificationPreference": "DAILY"}));
        assert!(set["setNotificationPreference"]["position"].as_u64().expect("a position") > 0);
        let again = app.ok(&noor_token, SET, json!({"input": {"frequency": "DAILY", "commandId": command}})).await;
        assert_eq!(again["setNotificationPreference"]["replayed"], true, "the same command id acts once");
        let me = app.ok(&noor_token, "{ me { notificationPreference } }", json!({})).await;
        assert_eq!(me["me"]["notificationPreference"], "DAILY");
        app.ok(&noor_token, SET, json!({"input": {"frequency": "OFF"}})).await;

        let members = "query($id: ID!) { team(id: $id) { members { nodes { person { name notificationPreference } } } } }";
        let seen = app.ok(&admin, members, json!({"id": team})).await;
        assert_eq!(seen["team"]["members"]["nodes"][0]["person"], json!({"name": "Noor Nurse", "notificationPreference": "OFF"}), "an admin sees it");
        let (_, body) = app.graphql_as(Some(&pat_token), members, json!({"id": team})).await;
        assert_eq!(codes(&body), vec!["FORBIDDEN"], "another member does not: {body}");

        let (_, body) = app.graphql_as(None, SET, json!({"input": {"frequency": "OFF"}})).await;
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
        let (_, body) = app.graphql_as(Some(&noor_token), SET, json!({"input": {"frequency": "SOMETIMES"}})).await;
        assert!(body["errors"].is_array(), "an unknown frequency is refused: {body}");
        app.stop().await;
    }
}

on_both_backends! {
    async fn admins_register_list_and_delete_webhooks_and_the_secret_is_answered_once(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = server(&db).await;
        let (_, admin) = app.bootstrap().await;
        let (_, member) = person(&app, &admin, "Noor Nurse", None).await;
        let (_, auditor) = person(&app, &admin, "Aud Itor", Some("AUDITOR")).await;
        let team = app.ok(&admin, FORM_TEAM, json!({"input": {"name": "Community nursing"}})).await["formTeam"]["team"]["id"].clone();
        let url = "http://127.0.0.1:9/advice-log";

        let (_, body) = app.graphql_as(Some(&member), REGISTER, json!({"input": {"url": url}})).await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
        let (_, body) = app.graphql_as(Some(&auditor), REGISTER, json!({"input": {"url": url}})).await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "auditors write nothing: {body}");

        let command = uuid::Uuid::new_v4().to_string();
        let first = app.ok(&admin, REGISTER, json!({"input": {"url": url, "commandId": command}})).await["registerWebhook"].clone();
        let secret = first["secret"].as_str().expect("the secret, once").to_string();
        assert!(secret.starts_with("whsec_"), "{secret}");
        assert_eq!(first["webhook"]["url"], url);
        assert_eq!(first["webhook"]["scope"], "ORGANISATION");
        assert_eq!((first["webhook"]["deleted"].clone(), first["webhook"]["disabled"].clone(), first["replayed"].clone()), (json!(false), json!(false), json!(false)));
        let replay = app.ok(&admin, REGISTER, json!({"input": {"url": url, "commandId": command}})).await["registerWebhook"].clone();
        assert_eq!(replay["secret"], Value::Null, "a replay answers no secret");
        assert_eq!(replay["replayed"], true);
        assert_eq!(replay["webhook"]["id"], first["webhook"]["id"], "and the same webhook");
        assert_eq!(replay["position"], first["position"]);
        let stored = app.store.read_all(0, 100_000).await.expect("read");
        let raw = secret.trim_start_matches("whsec_");
        assert!(stored.iter().all(|e| !e.payload.to_string().contains(raw)), "the secret is never stored");

        let teams = app.ok(&admin, REGISTER, json!({"input": {"url": "https://hooks.example.org/nursing", "teamId": team}})).await["registerWebhook"].clone();
        assert_eq!(teams["webhook"]["scope"], "TEAM");
        assert_eq!(teams["webhook"]["team"]["id"], team);
        assert_eq!(teams["webhook"]["group"], Value::Null);
        assert_ne!(teams["secret"], first["secret"], "each webhook has its own secret");

        for (input, code) in [
            (json!({"url": "ftp://hooks.example.org/"}), "INVALID_INPUT"),
            (json!({"url": "not an address"}), "INVALID_INPUT"),
            (json!({"url": "https://user:pw@hooks.example.org/"}), "INVALID_INPUT"),
            (json!({"url": url, "teamId": team, "groupId": team}), "INVALID_INPUT"),
            (json!({"url": url, "teamId": "nonsense"}), "INVALID_INPUT"),
            (json!({"url": url, "teamId": uuid::Uuid::new_v4().to_string()}), "NOT_FOUND"),
        ] {
            let (_, body) = app.graphql_as(Some(&admin), REGISTER, json!({"input": input})).await;
            assert_eq!(error_code(&body), Some(code), "{input}: {body}");
        }

        let listed = app.ok(&admin, WEBHOOKS, json!({})).await["webhooks"].clone();
        assert_eq!(listed.as_array().map(Vec::len), Some(2), "{listed}");
        assert_eq!(listed[0]["id"], first["webhook"]["id"], "in the order registered");
        assert_eq!(listed[0]["disabledReason"], Value::Null);
        let by_auditor = app.ok(&auditor, WEBHOOKS, json!({})).await["webhooks"].clone();
        assert_eq!(by_auditor, listed, "auditors read them too");
        let (_, body) = app.graphql_as(Some(&member), WEBHOOKS, json!({})).await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");

        let (_, body) = app.graphql_as(Some(&member), DELETE, json!({"input": {"webhookId": first["webhook"]["id"]}})).await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
        let deleted = app.ok(&admin, DELETE, json!({"input": {"webhookId": first["webhook"]["id"]}})).await;
        assert_eq!(deleted["deleteWebhook"]["webhook"], json!({"id": first["webhook"]["id"], "deleted": true}));
        let (_, body) = app.graphql_as(Some(&admin), DELETE, json!({"input": {"webhookId": first["webhook"]["id"]}})).await;
        assert_eq!(error_code(&body), Some("INVALID_STATE"), "deleted once: {body}");
        let (_, body) = app.graphql_as(Some(&admin), DELETE, json!({"input": {"webhookId": uuid::Uuid::new_v4().to_string()}})).await;
        assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");

        let active = app.ok(&admin, WEBHOOKS, json!({})).await["webhooks"].clone();
        assert_eq!(active.as_array().map(Vec::len), Some(1), "deleted ones are left out: {active}");
        let all = app.ok(&admin, WEBHOOKS, json!({"all": true})).await["webhooks"].clone();
        assert_eq!(all[0]["deleted"], true, "unless asked for: {all}");

        // The worker disabled the other after a day of failures.
        let hook = advice_log::domain::WebhookId(teams["webhook"]["id"].as_str().expect("id").parse().expect("uuid"));
        app.app.outbox.disable_webhook(hook, "every call failed for a day: connection refused", chrono::Utc::now()).await.expect("disable");
        let active = app.ok(&admin, WEBHOOKS, json!({})).await["webhooks"].clone();
        assert_eq!((active[0]["disabled"].clone(), active[0]["disabledReason"].clone()), (json!(true), json!("every call failed for a day: connection refused")));
        app.stop().await;
    }
}

on_both_backends! {
    async fn the_delivery_log_pages_newest_first_for_admins_and_auditors(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = server(&db).await;
        let (_, admin) = app.bootstrap().await;
        let (noor, member) = person(&app, &admin, "Noor Nurse", None).await;
        let (_, auditor) = person(&app, &admin, "Aud Itor", Some("AUDITOR")).await;
        let hook = app.ok(&admin, REGISTER, json!({"input": {"url": "http://127.0.0.1:9/hook"}})).await["registerWebhook"]["webhook"]["id"].as_str().expect("id").to_string();
        let noor_id: uuid::Uuid = noor.parse().expect("uuid");
        app.app.outbox.add(&[
            outbox_row(1, Channel::Email, noor_id, "ADVICE_REQUESTED"),
            outbox_row(2, Channel::Webhook, hook.parse().expect("uuid"), "ProposalRaised"),
            outbox_row(3, Channel::Email, noor_id, "DECIDED"),
        ]).await.expect("add");
        let rows = app.app.outbox.list(None, None, 10).await.expect("list");
        let failed = rows.iter().find(|r| r.planned.kind == "ProposalRaised").expect("the webhook's").id;
        app.app.outbox.finish(&[failed], &Finish::Failed("HTTP 500 from the receiver".into()), chrono::Utc::now()).await.expect("finish");

        let page = app.ok(&admin, DELIVERIES, json!({"first": 2})).await["notificationDeliveries"].clone();
        let edges = page["edges"].as_array().expect("edges");
        assert_eq!(edges.len(), 2);
        assert_eq!(edges[0]["node"]["kind"], "DECIDED", "newest first: {page}");
        assert_eq!(edges[0]["node"]["channel"], "EMAIL");
        assert_eq!(edges[0]["node"]["person"]["name"], "Noor Nurse");
        assert_eq!(edges[0]["node"]["recipientId"], noor);
        assert_eq!(edges[0]["node"]["status"], "PENDING");
        assert!(edges[0]["node"]["nextAttemptAt"].is_string(), "a pending row's next try");
        assert_eq!(edges[1]["node"]["webhook"]["url"], "http://127.0.0.1:9/hook");
        assert_eq!(edges[1]["node"]["person"], Value::Null);
        assert_eq!(page["pageInfo"]["hasNextPage"], true);
        let cursor = edges[1]["cursor"].as_str().expect("cursor");
        let rest = app.ok(&auditor, DELIVERIES, json!({"first": 2, "after": cursor})).await["notificationDeliveries"].clone();
        assert_eq!(rest["edges"].as_array().map(Vec::len), Some(1), "{rest}");
        assert_eq!(rest["edges"][0]["node"]["kind"], "ADVICE_REQUESTED");
        assert_eq!((rest["pageInfo"]["hasNextPage"].clone(), rest["pageInfo"]["hasPreviousPage"].clone()), (json!(false), json!(true)));

        let failures = app.ok(&admin, DELIVERIES, json!({"status": "FAILED"})).await["notificationDeliveries"]["edges"].clone();
        assert_eq!(failures.as_array().map(Vec::len), Some(1), "{failures}");
        assert_eq!(failures[0]["node"]["lastError"], "HTTP 500 from the receiver");
        assert!(failures[0]["node"]["doneAt"].is_string());
        assert_eq!(failures[0]["node"]["nextAttemptAt"], Value::Null);

        let (_, body) = app.graphql_as(Some(&member), DELIVERIES, json!({})).await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
        let (_, body) = app.graphql_as(Some(&admin), DELIVERIES, json!({"after": "nonsense"})).await;
        assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{body}");
        app.stop().await;
    }
}

on_both_backends! {
    async fn a_webhook_on_a_private_or_loopback_address_is_refused_unless_allowed(backend: Backend) {
        let db = TestDb::new(backend).await;
        // The default: no private addresses.
        let app = TestApp::spawn(&db).await;
        let (_, admin) = app.bootstrap().await;
        let before = app.store.head().await.expect("head");
        for url in [
            "http://127.0.0.1:9/hook",
            "http://localhost/hook",
            "http://10.1.2.3/hook",
            "http://192.168.1.20/hook",
            "http://[::1]/hook",
            "http://169.254.169.254/latest/meta-data",
        ] {
            let (_, body) = app.graphql_as(Some(&admin), REGISTER, json!({"input": {"url": url}})).await;
            assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{url}: {body}");
            let message = body["errors"][0]["message"].as_str().unwrap_or_default();
            assert!(message.contains("private") || message.contains("loopback") || message.contains("this computer") || message.contains("network"), "{url}: {message}");
        }
        assert_eq!(app.store.head().await.expect("head"), before, "nothing was appended");
    }
}
