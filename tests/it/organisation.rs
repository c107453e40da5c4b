//! A new admin shapes an organisation through HTTP, and every role sees
//! exactly what it should.

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{error_code, TestApp, TestDb};

const REGISTER: &str = "mutation($input: RegisterPersonInput!) { registerPerson(input: $input) { person { id name email orgRole } position replayed } }";
const ISSUE: &str = "mutation($input: IssueTokenInput!) { issueToken(input: $input) { person { id } tokenId token position replayed } }";
const FORM_TEAM: &str = "mutation($input: FormTeamInput!) { formTeam(input: $input) { team { id name } position replayed } }";
const JOIN: &str = "mutation($input: JoinTeamInput!) { joinTeam(input: $input) { team { id members { nodes { person { id } role } } } position } }";
const LEAVE: &str =
    "mutation($input: LeaveTeamInput!) { leaveTeam(input: $input) { team { id } position } }";
const FORM_GROUP: &str = "mutation($input: FormGroupInput!) { formGroup(input: $input) { group { id name mandate teams { edges { node { id } } } } position } }";
const DELEGATE: &str = "mutation($input: DelegateRepresentativeInput!) { delegateRepresentative(input: $input) { group { representatives { nodes { person { id } team { id } } } } position } }";

fn id(value: &Value) -> String {
    value.as_str().expect("an id").to_string()
}

struct Org {
    app: TestApp,
    admin: String,
    nurse: (String, String),
    coach: (String, String),
    auditor: (String, String),
    paramedic: (String, String),
    nursing: String,
    station: String,
    training: String,
}

async fn person(
    app: &TestApp,
    admin: &str,
    name: &str,
    email: &str,
    role: Option<&str>,
) -> (String, String) {
    let data = app
        .ok(
            admin,
            REGISTER,
            json!({"input": {"name": name, "email": email, "orgRole": role}}),
        )
        .await;
    let person = id(&data["registerPerson"]["person"]["id"]);
    let token = app
        .ok(admin, ISSUE, json!({"input": {"personId": person}}))
        .await["issueToken"]["token"]
        .as_str()
        .expect("token")
        .to_string();
    (person, token)
}

async fn organisation(db: &TestDb) -> Org {
    let app = TestApp::spawn(db).await;
    let (_, admin) = app.bootstrap().await;
    let nurse = person(&app, &admin, "Noor Nurse", "noor@example.org", None).await;
    let coach = person(&app, &admin, "Cas Coach", "cas@example.org", None).await;
    let auditor = person(
        &app,
        &admin,
        "Aud Itor",
        "audit@example.org",
        Some("AUDITOR"),
    )
    .await;
    let paramedic = person(&app, &admin, "Pat Paramedic", "pat@example.org", None).await;
    let nursing = id(&app
        .ok(
            &admin,
            FORM_TEAM,
            json!({"input": {"name": "Community nursing"}}),
        )
        .await["formTeam"]["team"]["id"]);
    let station = id(&app
        .ok(
            &admin,
            FORM_TEAM,
            json!({"input": {"name": "North ambulance station"}}),
        )
        .await["formTeam"]["team"]["id"]);
    for (team, who, role) in [
        (&nursing, &nurse.0, "MEMBER"),
        (&nursing, &coach.0, "COACH"),
        (&station, &paramedic.0, "MEMBER"),
    ] {
        app.ok(
            &admin,
            JOIN,
            json!({"input": {"teamId": team, "personId": who, "role": role}}),
        )
        .await;
    }
    let training = id(&app
        .ok(&admin, FORM_GROUP, json!({"input": {"name": "Staff training", "teamIds": [nursing, station], "mandate": ["training", "courses"]}}))
        .await["formGroup"]["group"]["id"]);
    // A team delegates its own representative; the admin delegates the other.
    app.ok(
        &nurse.1,
        DELEGATE,
        json!({"input": {"groupId": training, "teamId": nursing, "personId": nurse.0}}),
    )
    .await;
    app.ok(
        &admin,
        DELEGATE,
        json!({"input": {"groupId": training, "teamId": station, "personId": paramedic.0}}),
    )
    .await;
    Org {
        app,
        admin,
        nurse,
        coach,
        auditor,
        paramedic,
        nursing,
        station,
        training,
    }
}

on_both_backends! {
    async fn an_admin_builds_the_organisation_and_each_role_sees_what_it_should(backend: Backend) {
        let db = TestDb::new(backend).await;
        let org = organisation(&db).await;
        let app = &org.app;

        // Everyone authenticated reads every team and group.
        for token in [&org.admin, &org.nurse.1, &org.coach.1, &org.auditor.1, &org.paramedic.1] {
            let data = app.ok(token, "{ teams { edges { node { name members { nodes { person { name } role } } } } } groups { edges { node { name mandate teams { edges { node { name } } } representatives { nodes { person { name } team { name } } } } } } }", json!({})).await;
            assert_eq!(
                data["teams"]["edges"].as_array().expect("edges").iter().map(|e| e["node"]["name"].clone()).collect::<Vec<_>>(),
                vec![json!("Community nursing"), json!("North ambulance station")]
            );
            assert_eq!(data["teams"]["edges"][0]["node"]["members"]["nodes"], json!([
                {"person": {"name": "Noor Nurse"}, "role": "MEMBER"},
                {"person": {"name": "Cas Coach"}, "role": "COACH"},
            ]));
            let group = &data["groups"]["edges"][0]["node"];
            assert_eq!(group["mandate"], json!(["training", "courses"]));
            assert_eq!(group["teams"]["edges"], json!([{"node": {"name": "Community nursing"}}, {"node": {"name": "North ambulance station"}}]));
            assert_eq!(group["representatives"]["nodes"], json!([
                {"person": {"name": "Noor Nurse"}, "team": {"name": "Community nursing"}},
                {"person": {"name": "Pat Paramedic"}, "team": {"name": "North ambulance station"}},
            ]));
        }

        // me: each person sees themselves, their own e-mail and their teams.
        let me = app.ok(&org.coach.1, "{ me { id name email orgRole teams { edges { node { team { name } role } } } } }", json!({})).await;
        assert_eq!(me["me"], json!({"id": org.coach.0, "name": "Cas Coach", "email": "cas@example.org", "orgRole": null, "teams": {"edges": [{"node": {"team": {"name": "Community nursing"}, "role": "COACH"}}]}}));

        // E-mail addresses of others: admins and auditors only.
        let query = "query($id: ID!) { team(id: $id) { members { nodes { person { name email } } } } }";
        for token in [&org.admin, &org.auditor.1] {
            let data = app.ok(token, query, json!({"id": org.station})).await;
            assert_eq!(data["team"]["members"]["nodes"][0]["person"]["email"], "pat@example.org");
        }
        for token in [&org.nurse.1, &org.coach.1] {
            let (_, body) = app.graphql_as(Some(token), query, json!({"id": org.station})).await;
            assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
            let person = &body["data"]["team"]["members"]["nodes"][0]["person"];
            assert_eq!(person["name"], "Pat Paramedic", "the rest of the answer stands");
            assert_eq!(person["email"], Value::Null);
        }

        // Lists are Relay connections: page through the teams one at a time.
        let query = "query($after: String) { teams(first: 1, after: $after) { edges { cursor node { name } } pageInfo { hasNextPage } } }";
        let page1 = app.ok(&org.nurse.1, query, json!({})).await;
        assert_eq!(page1["teams"]["edges"][0]["node"]["name"], "Community nursing");
        assert_eq!(page1["teams"]["pageInfo"]["hasNextPage"], true);
        let page2 = app.ok(&org.nurse.1, query, json!({"after": page1["teams"]["edges"][0]["cursor"]})).await;
        assert_eq!(page2["teams"]["edges"][0]["node"]["name"], "North ambulance station");
        assert_eq!(page2["teams"]["pageInfo"]["hasNextPage"], false);
        let (_, body) = app.graphql_as(Some(&org.nurse.1), query, json!({"after": "not a cursor"})).await;
        assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{body}");

        // The raw event log is for admins and auditors.
        let events = "{ events(first: 3) { edges { node { position eventType } } pageInfo { hasNextPage } } }";
        for token in [&org.admin, &org.auditor.1] {
            let data = app.ok(token, events, json!({})).await;
            assert_eq!(data["events"]["edges"][0]["node"], json!({"position": 1, "eventType": "PersonRegistered"}));
            assert_eq!(data["events"]["pageInfo"]["hasNextPage"], true);
        }
        for token in [&org.nurse.1, &org.coach.1] {
            let (_, body) = app.graphql_as(Some(token), events, json!({})).await;
            assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
        }

        // A single team and group by id.
        let data = app.ok(&org.paramedic.1, "query($t: ID!, $g: ID!) { team(id: $t) { name groups { edges { node { name } } } } group(id: $g) { name teams { edges { node { id } } } } }", json!({"t": org.nursing, "g": org.training})).await;
        assert_eq!(data["team"], json!({"name": "Community nursing", "groups": {"edges": [{"node": {"name": "Staff training"}}]}}));
        assert_eq!(data["group"]["teams"]["edges"], json!([{"node": {"id": org.nursing}}, {"node": {"id": org.station}}]));
        org.app.stop().await;
    }
}

on_both_backends! {
    async fn leaving_keeps_history_and_ends_representation(backend: Backend) {
        let db = TestDb::new(backend).await;
        let org = organisation(&db).await;
        let app = &org.app;
        app.ok(&org.nurse.1, LEAVE, json!({"input": {"teamId": org.nursing, "personId": org.nurse.0}})).await;
        let data = app.ok(&org.coach.1, "query($t: ID!, $g: ID!) { team(id: $t) { now: members { nodes { person { name } } } all: members(includeFormer: true) { nodes { person { name } role leftAt } } } group(id: $g) { representatives { nodes { person { name } } } } }", json!({"t": org.nursing, "g": org.training})).await;
        assert_eq!(data["team"]["now"]["nodes"], json!([{"person": {"name": "Cas Coach"}}]));
        let all = data["team"]["all"]["nodes"].as_array().expect("spells");
        assert_eq!(all.len(), 2);
        assert_eq!(all[0]["person"]["name"], "Noor Nurse");
        assert!(all[0]["leftAt"].is_string(), "the spell that ended says when");
        assert!(all[1]["leftAt"].is_null());
        assert_eq!(data["group"]["representatives"]["nodes"], json!([{"person": {"name": "Pat Paramedic"}}]));
        // A former member can no longer delegate for the team.
        let (_, body) = app.graphql_as(Some(&org.nurse.1), DELEGATE, json!({"input": {"groupId": org.training, "teamId": org.nursing, "personId": org.nurse.0}})).await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
        // And the admin cannot delegate someone who is not a MEMBER.
        let (_, body) = app.graphql_as(Some(&org.admin), DELEGATE, json!({"input": {"groupId": org.training, "teamId": org.nursing, "personId": org.coach.0}})).await;
        assert_eq!(error_code(&body), Some("INVALID_STATE"), "{body}");
        org.app.stop().await;
    }
}

on_both_backends! {
    async fn bad_commands_get_their_codes_and_change_nothing(backend: Backend) {
        let db = TestDb::new(backend).await;
        let org = organisation(&db).await;
        let app = &org.app;
        let unknown = uuid::Uuid::new_v4().to_string();
        let cases = [
            (JOIN, json!({"input": {"teamId": unknown, "personId": org.nurse.0, "role": "MEMBER"}}), "NOT_FOUND"),
            (JOIN, json!({"input": {"teamId": org.nursing, "personId": unknown, "role": "MEMBER"}}), "NOT_FOUND"),
            (JOIN, json!({"input": {"teamId": "not-a-uuid", "personId": org.nurse.0, "role": "MEMBER"}}), "INVALID_INPUT"),
            (JOIN, json!({"input": {"teamId": org.nursing, "personId": org.nurse.0, "role": "MEMBER"}}), "INVALID_STATE"),
            (FORM_TEAM, json!({"input": {"name": "   "}}), "INVALID_INPUT"),
            (FORM_TEAM, json!({"input": {"name": "x", "commandId": "nope"}}), "INVALID_INPUT"),
            (REGISTER, json!({"input": {"name": "", "email": "e@example.org"}}), "INVALID_INPUT"),
            (REGISTER, json!({"input": {"name": "Eve", "email": "not an email"}}), "INVALID_INPUT"),
            (REGISTER, json!({"input": {"name": "Noor Again", "email": "NOOR@example.org"}}), "INVALID_STATE"),
            (ISSUE, json!({"input": {"personId": unknown}}), "NOT_FOUND"),
            (FORM_GROUP, json!({"input": {"name": "G", "teamIds": [unknown], "mandate": ["x"]}}), "NOT_FOUND"),
            (FORM_GROUP, json!({"input": {"name": "G", "teamIds": [], "mandate": ["x"]}}), "INVALID_INPUT"),
            (FORM_GROUP, json!({"input": {"name": "G", "teamIds": [org.nursing], "mandate": []}}), "INVALID_INPUT"),
            (DELEGATE, json!({"input": {"groupId": unknown, "teamId": org.nursing, "personId": org.nurse.0}}), "NOT_FOUND"),
            (LEAVE, json!({"input": {"teamId": org.station, "personId": org.nurse.0}}), "INVALID_STATE"),
        ];
        for (query, variables, code) in cases {
            let before = app.store.head().await.expect("head");
            let (_, body) = app.graphql_as(Some(&org.admin), query, variables.clone()).await;
            assert_eq!(error_code(&body), Some(code), "{variables}: {body}");
            assert!(body["data"].is_null(), "{body}");
            assert_eq!(app.store.head().await.expect("head"), before, "{variables} changed the log");
        }
        for (query, variables) in [
            ("query($id: ID!) { team(id: $id) { name } }", json!({"id": uuid::Uuid::new_v4()})),
            ("query($id: ID!) { group(id: $id) { name } }", json!({"id": uuid::Uuid::new_v4()})),
        ] {
            let (_, body) = app.graphql_as(Some(&org.nurse.1), query, variables).await;
            assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
        }
        let (_, body) = app.graphql_as(Some(&org.nurse.1), "{ team(id: \"zzz\") { name } }", json!({})).await;
        assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{body}");
        org.app.stop().await;
    }
}

on_both_backends! {
    async fn a_repeated_command_id_appends_once_and_answers_the_same(backend: Backend) {
        let db = TestDb::new(backend).await;
        let org = organisation(&db).await;
        let app = &org.app;
        let command_id = uuid::Uuid::new_v4().to_string();
        let input = json!({"input": {"name": "Night shift", "commandId": command_id}});
        let first = app.ok(&org.admin, FORM_TEAM, input.clone()).await;
        let head = app.store.head().await.expect("head");
        let again = app.ok(&org.admin, FORM_TEAM, input).await;
        assert_eq!(app.store.head().await.expect("head"), head);
        assert_eq!(first["formTeam"]["team"], again["formTeam"]["team"]);
        assert_eq!(first["formTeam"]["position"], again["formTeam"]["position"]);
        assert_eq!((first["formTeam"]["replayed"].clone(), again["formTeam"]["replayed"].clone()), (json!(false), json!(true)));

        // The same id for another command is refused and changes nothing.
        let (_, body) = app.graphql_as(Some(&org.admin), FORM_TEAM, json!({"input": {"name": "Day shift", "commandId": command_id}})).await;
        assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{body}");
        // ...and so is the same command from someone else.
        let (_, body) = app.graphql_as(Some(&org.nurse.1), FORM_TEAM, json!({"input": {"name": "Night shift", "commandId": command_id}})).await;
        assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{body}");
        assert_eq!(app.store.head().await.expect("head"), head);

        // A repeated issueToken answers the same token id, but not the secret again.
        let token_command = json!({"input": {"personId": org.nurse.0, "commandId": uuid::Uuid::new_v4()}});
        let issued = app.ok(&org.admin, ISSUE, token_command.clone()).await;
        let repeated = app.ok(&org.admin, ISSUE, token_command).await;
        assert_eq!(issued["issueToken"]["tokenId"], repeated["issueToken"]["tokenId"]);
        assert!(issued["issueToken"]["token"].is_string());
        assert!(repeated["issueToken"]["token"].is_null());
        assert_eq!(repeated["issueToken"]["replayed"], true);
        let token = issued["issueToken"]["token"].as_str().expect("token");
        assert_eq!(app.ok(token, "{ me { id } }", json!({})).await["me"]["id"], json!(org.nurse.0));
        org.app.stop().await;
    }
}

on_both_backends! {
    async fn concurrent_commands_with_one_command_id_append_once(backend: Backend) {
        let db = TestDb::new(backend).await;
        let org = organisation(&db).await;
        let command_id = uuid::Uuid::new_v4().to_string();
        let head = org.app.store.head().await.expect("head");
        let input = json!({"input": {"name": "Rota group", "commandId": command_id}});
        let answers = futures::future::join_all((0..16).map(|_| org.app.graphql_as(Some(&org.admin), FORM_TEAM, input.clone()))).await;
        let ids: std::collections::HashSet<String> = answers
            .iter()
            .map(|(_, body)| body["data"]["formTeam"]["team"]["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_string())
            .collect();
        assert_eq!(ids.len(), 1, "every answer names the same team");
        assert_eq!(org.app.store.head().await.expect("head"), head + 1, "one event appended");
        org.app.stop().await;
    }
}

on_both_backends! {
    async fn internal_errors_never_leak_detail(backend: Backend) {
        let db = TestDb::new(backend).await;
        let org = organisation(&db).await;
        // Break the database under the running server.
        org.app.store.close().await;
        let (_, body) = org.app.graphql_as(Some(&org.admin), FORM_TEAM, json!({"input": {"name": "After close"}})).await;
        assert_eq!(error_code(&body), Some("INTERNAL"), "{body}");
        assert_eq!(body["errors"][0]["message"], "internal error");
        let text = body.to_string().to_lowercase();
        for leak in ["sql", "pool", "closed", "database", "panicked", ".rs"] {
            assert!(!text.contains(leak), "the answer leaks {leak:?}: {body}");
        }
    }
}
