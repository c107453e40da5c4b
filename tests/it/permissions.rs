//! The permission matrix: every mutation x every kind of caller, through HTTP,
//! each asserting allowed or the exact error code, and that a refused command
//! left the log unchanged.

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{error_code, TestApp, TestDb};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    NoToken,
    BadToken,
    RevokedToken,
    Admin,
    Auditor,
    Member,
    Coach,
    Outsider,
}

const EVERYONE: [Who; 8] = [
    Who::NoToken,
    Who::BadToken,
    Who::RevokedToken,
    Who::Admin,
    Who::Auditor,
    Who::Member,
    Who::Coach,
    Who::Outsider,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Row {
    RegisterPerson,
    IssueToken,
    RevokeOwnToken,
    RevokeOthersToken,
    FormTeam,
    JoinTeam,
    LeaveTeamSelf,
    LeaveTeamOther,
    FormGroup,
    DelegateRepresentative,
}

const ROWS: [Row; 10] = [
    Row::RegisterPerson,
    Row::IssueToken,
    Row::RevokeOwnToken,
    Row::RevokeOthersToken,
    Row::FormTeam,
    Row::JoinTeam,
    Row::LeaveTeamSelf,
    Row::LeaveTeamOther,
    Row::FormGroup,
    Row::DelegateRepresentative,
];

/// What each caller must get: `None` for allowed, or the error code.
fn expected(row: Row, who: Who) -> Option<&'static str> {
    use Who::*;
    match who {
        NoToken | BadToken | RevokedToken => return Some("UNAUTHENTICATED"),
        Auditor => return Some("FORBIDDEN"),
        Admin => {
            return match row {
                Row::LeaveTeamSelf => Some("INVALID_STATE"),
                _ => None,
            }
        }
        _ => {}
    }
    match (row, who) {
        (Row::RevokeOwnToken, _) => None,
        (Row::LeaveTeamSelf, Member | Coach) => None,
        (Row::LeaveTeamSelf, _) => Some("INVALID_STATE"),
        (Row::DelegateRepresentative, Member) => None,
        _ => Some("FORBIDDEN"),
    }
}

const REGISTER: &str = "mutation($input: RegisterPersonInput!) { registerPerson(input: $input) { person { id } position } }";
const ISSUE: &str =
    "mutation($input: IssueTokenInput!) { issueToken(input: $input) { tokenId token position } }";
const REVOKE: &str =
    "mutation($input: RevokeTokenInput!) { revokeToken(input: $input) { person { id } position } }";
const FORM_TEAM: &str =
    "mutation($input: FormTeamInput!) { formTeam(input: $input) { team { id } position } }";
const JOIN: &str =
    "mutation($input: JoinTeamInput!) { joinTeam(input: $input) { team { id } position } }";
const LEAVE: &str =
    "mutation($input: LeaveTeamInput!) { leaveTeam(input: $input) { team { id } position } }";
const FORM_GROUP: &str =
    "mutation($input: FormGroupInput!) { formGroup(input: $input) { group { id } position } }";
const DELEGATE: &str = "mutation($input: DelegateRepresentativeInput!) { delegateRepresentative(input: $input) { group { id } position } }";

struct World {
    app: TestApp,
    admin: String,
    auditor: String,
    team: String,
    group: String,
    people: std::cell::Cell<u32>,
}

impl World {
    async fn new(db: &TestDb) -> World {
        let app = TestApp::spawn(db).await;
        let (_, admin) = app.bootstrap().await;
        let team = app
            .ok(
                &admin,
                FORM_TEAM,
                json!({"input": {"name": "North ambulance station"}}),
            )
            .await["formTeam"]["team"]["id"]
            .as_str()
            .expect("team id")
            .to_string();
        let other = app
            .ok(
                &admin,
                FORM_TEAM,
                json!({"input": {"name": "Community nursing"}}),
            )
            .await["formTeam"]["team"]["id"]
            .as_str()
            .expect("team id")
            .to_string();
        let group = app
            .ok(&admin, FORM_GROUP, json!({"input": {"name": "Staff training", "teamIds": [team, other], "mandate": ["training"]}}))
            .await["formGroup"]["group"]["id"]
            .as_str().expect("group id").to_string();
        let mut world = World {
            app,
            admin,
            auditor: String::new(),
            team,
            group,
            people: std::cell::Cell::new(0),
        };
        let auditor = world.register(Some("AUDITOR")).await;
        world.auditor = world.token_for(&auditor).await.1;
        world
    }

    async fn register(&self, org_role: Option<&str>) -> String {
        let n = self.people.get() + 1;
        self.people.set(n);
        let input = json!({"name": format!("Person {n}"), "email": format!("person{n}@example.org"), "orgRole": org_role});
        self.app
            .ok(&self.admin, REGISTER, json!({"input": input}))
            .await["registerPerson"]["person"]["id"]
            .as_str()
            .expect("person id")
            .to_string()
    }

    /// A new token for a person: (token id, token).
    async fn token_for(&self, person: &str) -> (String, String) {
        let data = self
            .app
            .ok(&self.admin, ISSUE, json!({"input": {"personId": person}}))
            .await;
        (
            data["issueToken"]["tokenId"]
                .as_str()
                .expect("token id")
                .to_string(),
            data["issueToken"]["token"]
                .as_str()
                .expect("token")
                .to_string(),
        )
    }

    async fn join(&self, person: &str, role: &str) {
        self.app
            .ok(
                &self.admin,
                JOIN,
                json!({"input": {"teamId": self.team, "personId": person, "role": role}}),
            )
            .await;
    }

    /// A caller of the given kind: (token, person id).
    async fn caller(&self, who: Who) -> (Option<String>, Option<String>) {
        match who {
            Who::NoToken => (None, None),
            Who::BadToken => (
                Some(format!(
                    "al_{}_{}",
                    uuid::Uuid::new_v4().simple(),
                    "ab".repeat(32)
                )),
                None,
            ),
            Who::RevokedToken => {
                let person = self.register(None).await;
                self.join(&person, "MEMBER").await;
                let (id, token) = self.token_for(&person).await;
                self.app
                    .ok(&self.admin, REVOKE, json!({"input": {"tokenId": id}}))
                    .await;
                (Some(token), Some(person))
            }
            Who::Admin => {
                let me = self.app.ok(&self.admin, "{ me { id } }", json!({})).await;
                (
                    Some(self.admin.clone()),
                    me["me"]["id"].as_str().map(str::to_string),
                )
            }
            Who::Auditor => {
                let me = self.app.ok(&self.auditor, "{ me { id } }", json!({})).await;
                (
                    Some(self.auditor.clone()),
                    me["me"]["id"].as_str().map(str::to_string),
                )
            }
            Who::Member | Who::Coach | Who::Outsider => {
                let person = self.register(None).await;
                match who {
                    Who::Member => self.join(&person, "MEMBER").await,
                    Who::Coach => self.join(&person, "COACH").await,
                    _ => {}
                }
                (Some(self.token_for(&person).await.1), Some(person))
            }
        }
    }

    /// The mutation and variables for a row, with fresh inputs so that an
    /// allowed call succeeds.
    async fn prepare(&self, row: Row, caller: Option<&str>) -> (&'static str, Value) {
        match row {
            Row::RegisterPerson => {
                let n = uuid::Uuid::new_v4().simple();
                (
                    REGISTER,
                    json!({"input": {"name": "New person", "email": format!("new-{n}@example.org")}}),
                )
            }
            Row::IssueToken => (
                ISSUE,
                json!({"input": {"personId": self.register(None).await}}),
            ),
            Row::RevokeOwnToken => {
                let owner = match caller {
                    Some(person) => person.to_string(),
                    None => self.register(None).await,
                };
                (
                    REVOKE,
                    json!({"input": {"tokenId": self.token_for(&owner).await.0}}),
                )
            }
            Row::RevokeOthersToken => {
                let other = self.register(None).await;
                (
                    REVOKE,
                    json!({"input": {"tokenId": self.token_for(&other).await.0}}),
                )
            }
            Row::FormTeam => (FORM_TEAM, json!({"input": {"name": "Another team"}})),
            Row::JoinTeam => (
                JOIN,
                json!({"input": {"teamId": self.team, "personId": self.register(None).await, "role": "MEMBER"}}),
            ),
            Row::LeaveTeamSelf => {
                let person = match caller {
                    Some(person) => person.to_string(),
                    None => self.register(None).await,
                };
                (
                    LEAVE,
                    json!({"input": {"teamId": self.team, "personId": person}}),
                )
            }
            Row::LeaveTeamOther => {
                let other = self.register(None).await;
                self.join(&other, "MEMBER").await;
                (
                    LEAVE,
                    json!({"input": {"teamId": self.team, "personId": other}}),
                )
            }
            Row::FormGroup => (
                FORM_GROUP,
                json!({"input": {"name": "Another group", "teamIds": [self.team], "mandate": ["rotas"]}}),
            ),
            Row::DelegateRepresentative => {
                let other = self.register(None).await;
                self.join(&other, "MEMBER").await;
                (
                    DELEGATE,
                    json!({"input": {"groupId": self.group, "teamId": self.team, "personId": other}}),
                )
            }
        }
    }
}

on_both_backends! {
    async fn every_mutation_for_every_kind_of_caller(backend: Backend) {
        let db = TestDb::new(backend).await;
        let world = World::new(&db).await;
        let mut failures = Vec::new();
        for row in ROWS {
            for who in EVERYONE {
                let (token, person) = world.caller(who).await;
                let (query, variables) = world.prepare(row, person.as_deref()).await;
                let before = world.app.store.head().await.expect("head");
                let (status, body) = world.app.graphql_as(token.as_deref(), query, variables).await;
                let after = world.app.store.head().await.expect("head");
                let want = expected(row, who);
                let got = error_code(&body);
                if got != want {
                    failures.push(format!("{row:?} as {who:?}: expected {want:?}, got {got:?}: {body}"));
                    continue;
                }
                match want {
                    None => {
                        assert_eq!(status, 200);
                        assert!(after > before, "{row:?} as {who:?} was allowed but appended nothing");
                        let payload = body["data"].as_object().and_then(|d| d.values().next()).expect("payload");
                        assert_eq!(payload["position"].as_u64(), Some(after), "{row:?} as {who:?} answers its position");
                    }
                    Some(code) => {
                        assert_eq!(after, before, "{row:?} as {who:?} was refused but the log changed");
                        let want_status = if matches!(who, Who::BadToken | Who::RevokedToken) { 401 } else { 200 };
                        assert_eq!(status, want_status, "{row:?} as {who:?}: {body}");
                        assert!(body["data"].is_null(), "{row:?} as {who:?} got data with {code}: {body}");
                    }
                }
            }
        }
        assert!(failures.is_empty(), "{} cases differ:\n{}", failures.len(), failures.join("\n"));
        world.app.stop().await;
    }
}
