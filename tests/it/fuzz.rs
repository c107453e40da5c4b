//! A bounded fuzz of `/graphql` (issue 13): random documents built from the
//! exported schema (real fields and arguments, random values, variables,
//! aliases, fragments, and some plain garbage), sent with and without an
//! admin's token. No answer may be a 5xx, an internal error or a leak of
//! internals, and the server must keep serving.

use std::collections::BTreeMap;

use async_graphql::parser::types::{BaseType, Type, TypeKind, TypeSystemDefinition};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};

use crate::support::{TestApp, TestDb};
use advice_log::store::Backend;

/// Cases per backend.
const CASES: u32 = 400;

/// A field of an object type: its arguments (name, type) and the named type
/// it returns.
#[derive(Clone, Debug)]
struct Field {
    name: String,
    args: Vec<(String, String)>,
    returns: String,
}

/// What the generator knows of the schema: object and interface fields,
/// enum values and input object fields (name, type), by type name.
#[derive(Default)]
struct Schema {
    objects: BTreeMap<String, Vec<Field>>,
    enums: BTreeMap<String, Vec<String>>,
    inputs: BTreeMap<String, Vec<(String, String)>>,
}

/// The exported schema, as the generator uses it.
fn schema() -> Schema {
    let sdl = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schema/schema.graphql"
    ))
    .expect("schema/schema.graphql");
    let document = async_graphql::parser::parse_schema(&sdl).expect("the SDL parses");
    let mut schema = Schema::default();
    for definition in document.definitions {
        let TypeSystemDefinition::Type(definition) = definition else {
            continue;
        };
        let name = definition.node.name.node.to_string();
        let fields = match &definition.node.kind {
            TypeKind::Object(object) => &object.fields,
            TypeKind::Interface(interface) => &interface.fields,
            TypeKind::Enum(values) => {
                let values = values
                    .values
                    .iter()
                    .map(|v| v.node.value.node.to_string())
                    .collect();
                schema.enums.insert(name, values);
                continue;
            }
            TypeKind::InputObject(input) => {
                let fields = input
                    .fields
                    .iter()
                    .map(|f| (f.node.name.node.to_string(), f.node.ty.node.to_string()))
                    .collect();
                schema.inputs.insert(name, fields);
                continue;
            }
            _ => continue,
        };
        let fields = fields
            .iter()
            .map(|field| Field {
                name: field.node.name.node.to_string(),
                args: field
                    .node
                    .arguments
                    .iter()
                    .map(|arg| (arg.node.name.node.to_string(), arg.node.ty.node.to_string()))
                    .collect(),
                returns: base_name(&field.node.ty.node),
            })
            .collect();
        schema.objects.insert(name, fields);
    }
    schema
}

fn base_name(ty: &Type) -> String {
    match &ty.base {
        BaseType::Named(name) => name.to_string(),
        BaseType::List(inner) => base_name(inner),
    }
}

/// Turns random numbers and strings into a document and its variables.
struct Builder<'a> {
    schema: &'a Schema,
    choices: &'a [u32],
    strings: &'a [String],
    /// Ids of things that exist (a person, a team, a proposal).
    ids: &'a [String],
    next: usize,
    variables: serde_json::Map<String, Value>,
    declared: Vec<String>,
}

impl Builder<'_> {
    fn pick(&mut self, below: u32) -> u32 {
        let choice = self.choices[self.next % self.choices.len()];
        self.next += 1;
        choice.wrapping_add(u32::try_from(self.next).unwrap_or(0)) % below.max(1)
    }

    fn string(&mut self) -> String {
        let i = self.pick(u32::try_from(self.strings.len()).unwrap_or(1)) as usize;
        self.strings[i].clone()
    }

    /// A value for an argument of type `ty` (as the SDL writes it): mostly
    /// one of that type, sometimes a variable, sometimes anything at all.
    fn value(&mut self, ty: &str, depth: usize) -> String {
        match self.pick(12) {
            0 => return self.anything(depth),
            1 => return self.variable(ty),
            _ => {}
        }
        let required = ty.ends_with('!');
        let ty = ty.trim_end_matches('!');
        if !required && self.pick(8) == 0 {
            return "null".into();
        }
        if let Some(inner) = ty.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            let items: Vec<String> = (0..self.pick(4))
                .map(|_| self.value(inner, depth + 1))
                .collect();
            return format!("[{}]", items.join(", "));
        }
        match ty {
            "String" => serde_json::to_string(&self.string()).unwrap_or_default(),
            "ID" => match self.pick(4) {
                0 => serde_json::to_string(&self.string()).unwrap_or_default(),
                1 => format!("\"{}\"", uuid::Uuid::from_u128(u128::from(self.pick(4)))),
                _ => {
                    let i = self.pick(u32::try_from(self.ids.len()).unwrap_or(1)) as usize;
                    format!("\"{}\"", self.ids[i])
                }
            },
            "Int" => match self.pick(4) {
                0 => format!("{}", i64::from(self.pick(u32::MAX)) << 8),
                1 => format!("-{}", self.pick(1000)),
                _ => format!("{}", self.pick(200)),
            },
            "Float" => format!("{}.{:03}", self.pick(3), self.pick(1000)),
            "Boolean" => ["true", "false"][self.pick(2) as usize].into(),
            "DateTime" => format!(
                "\"20{:02}-{:02}-01T12:00:00Z\"",
                20 + self.pick(20),
                1 + self.pick(12)
            ),
            other => {
                if let Some(values) = self.schema.enums.get(other) {
                    let values = values.clone();
                    return values[self.pick(u32::try_from(values.len()).unwrap_or(1)) as usize]
                        .clone();
                }
                if let Some(fields) = self.schema.inputs.get(other) {
                    let fields = fields.clone();
                    let mut parts = Vec::new();
                    for (name, ty) in fields {
                        if ty.ends_with('!') || self.pick(3) == 0 {
                            parts.push(format!("{name}: {}", self.value(&ty, depth + 1)));
                        }
                    }
                    return format!("{{ {} }}", parts.join(", "));
                }
                self.anything(depth)
            }
        }
    }

    /// A variable of type `ty` with a random JSON value.
    fn variable(&mut self, ty: &str) -> String {
        let name = format!("v{}", self.declared.len());
        let value = match self.pick(5) {
            0 => json!(self.string()),
            1 => json!(i64::from(self.pick(u32::MAX)) << 20),
            2 => json!([self.string(), null]),
            3 => json!({ "title": self.string(), "teamId": self.string() }),
            _ => Value::Null,
        };
        self.variables.insert(name.clone(), value);
        self.declared.push(format!("${name}: {ty}"));
        format!("${name}")
    }

    /// Any value literal at all.
    fn anything(&mut self, depth: usize) -> String {
        match self.pick(if depth > 2 { 5 } else { 7 }) {
            0 => serde_json::to_string(&self.string()).unwrap_or_default(),
            1 => format!("{}", i64::from(self.pick(u32::MAX)) * -1_000_000),
            2 => format!(
                "{}.{}e{}",
                self.pick(100),
                self.pick(1000),
                i64::from(self.pick(700)) - 350
            ),
            3 => ["true", "false", "null", "NOPE"][self.pick(4) as usize].into(),
            4 => format!("\"{}\"", uuid::Uuid::from_u128(u128::from(self.pick(4)))),
            5 => format!(
                "[{}, {}]",
                self.anything(depth + 1),
                self.anything(depth + 1)
            ),
            _ => format!(
                "{{ title: {}, body: {} }}",
                self.anything(depth + 1),
                self.anything(depth + 1)
            ),
        }
    }

    fn selection(&mut self, type_name: &str, depth: usize) -> String {
        let Some(fields) = self.schema.objects.get(type_name).cloned() else {
            return String::new();
        };
        if fields.is_empty() {
            return String::new();
        }
        let mut out = String::from("{");
        for _ in 0..=self.pick(3) {
            if self.pick(6) == 0 {
                out.push_str(" __typename");
                continue;
            }
            let field = &fields[self.pick(u32::try_from(fields.len()).unwrap_or(1)) as usize];
            out.push(' ');
            if self.pick(4) == 0 {
                out.push_str(&format!("a{}: ", self.pick(50)));
            }
            out.push_str(&field.name);
            let mut args = Vec::new();
            for (name, ty) in &field.args {
                if ty.ends_with('!') || self.pick(3) == 0 {
                    args.push(format!("{name}: {}", self.value(ty, 0)));
                }
            }
            if !args.is_empty() {
                out.push_str(&format!("({})", args.join(", ")));
            }
            if self.schema.objects.contains_key(&field.returns) {
                out.push(' ');
                if depth < 4 {
                    out.push_str(&self.selection(&field.returns.clone(), depth + 1));
                } else {
                    out.push_str("{ __typename }");
                }
            } else if self.pick(40) == 0 {
                out.push_str(" { nonsense }");
            }
        }
        out.push_str(" }");
        out
    }

    /// A whole request body.
    fn request(mut self) -> Value {
        if self.pick(25) == 0 {
            // Garbage: a random string as the document.
            return json!({ "query": self.string() });
        }
        let (keyword, root) = if self.pick(4) == 0 {
            ("mutation", "Mutation")
        } else {
            ("query", "Query")
        };
        let body = self.selection(root, 0);
        let fragment = if self.pick(5) == 0 {
            format!(" fragment F on {root} {}", self.selection(root, 2))
        } else {
            String::new()
        };
        let body = if fragment.is_empty() {
            body
        } else {
            body.replacen('{', "{ ...F", 1)
        };
        let declared = if self.declared.is_empty() {
            String::new()
        } else {
            format!("({})", self.declared.join(", "))
        };
        json!({ "query": format!("{keyword} Fuzz{declared} {body}{fragment}"), "variables": self.variables })
    }
}

/// Strings that a hostile client would send.
fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        "[\\x00-\\x1f\\x7f]{1,8}",
        Just(String::new()),
        Just("a\u{0}b".to_string()),
        Just("\u{202e}reversed".to_string()),
        (1usize..30_000).prop_map(|n| "x".repeat(n)),
        Just("{ __typename }".to_string()),
        Just("query { ".repeat(40)),
    ]
}

/// What an answer must never hold.
const LEAKS: [&str; 8] = [
    "sqlx",
    "panicked",
    "database error",
    "src/",
    "unwrap",
    "stack backtrace",
    "SQLITE",
    "postgres",
];

fn fuzz(backend: Backend) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let db = runtime.block_on(TestDb::new(backend));
    let app = runtime.block_on(TestApp::spawn(&db));
    let (admin_id, admin) = runtime.block_on(app.bootstrap());
    let ids = runtime.block_on(existing_ids(&app, &admin, &admin_id));
    let schema = schema();
    let strategy = (
        prop::collection::vec(any::<u32>(), 8..96),
        prop::collection::vec(hostile_string(), 1..6),
        any::<bool>(),
    );
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let executed = std::sync::atomic::AtomicU32::new(0);
    let result = runner.run(&strategy, |(choices, strings, as_admin)| {
        let request = Builder {
            schema: &schema,
            choices: &choices,
            strings: &strings,
            ids: &ids,
            next: 0,
            variables: serde_json::Map::new(),
            declared: Vec::new(),
        }
        .request();
        let (status, text) = runtime.block_on(async {
            let mut post = app
                .client
                .post(format!("{}/graphql", app.base))
                .json(&request);
            if as_admin {
                post = post.bearer_auth(&admin);
            }
            let response = post.send().await.expect("the server answers");
            (
                response.status().as_u16(),
                response.text().await.expect("a body"),
            )
        });
        prop_assert!(status < 500, "{status} for {request}: {text}");
        if std::env::var("FUZZ_SHOW").is_ok() {
            eprintln!("{request}\n  -> {}", &text[..text.len().min(300)]);
        }
        let body: Value = serde_json::from_str(&text)
            .map_err(|e| TestCaseError::fail(format!("not JSON ({e}) for {request}: {text}")))?;
        if !body["data"].is_null() {
            executed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        for error in body["errors"].as_array().into_iter().flatten() {
            prop_assert_ne!(
                &error["extensions"]["code"],
                "INTERNAL",
                "{} for {}",
                error,
                request
            );
            let message = error["message"].as_str().unwrap_or_default();
            for leak in LEAKS {
                prop_assert!(
                    !message.contains(leak),
                    "{message:?} leaks {leak:?} for {request}"
                );
            }
        }
        Ok(())
    });
    if let Err(error) = result {
        panic!("{error}");
    }
    // The documents are mostly well-formed, so the fuzz reaches execution,
    // not only the parser and validation.
    let executed = executed.into_inner();
    assert!(
        executed >= CASES / 5,
        "only {executed} of {CASES} documents ran"
    );
    // And it still serves.
    let (status, body) = runtime.block_on(app.graphql("{ __typename }"));
    assert_eq!(
        (status, body["data"]["__typename"].as_str()),
        (200, Some("Query"))
    );
    runtime.block_on(app.stop());
}

/// A team with the admin as a member and a proposal raised in it, so that
/// the fuzz reaches commands on things that exist: answers their ids.
async fn existing_ids(app: &TestApp, admin: &str, admin_id: &str) -> Vec<String> {
    let team = app
        .ok(
            admin,
            "mutation { formTeam(input: { name: \"Fuzz\" }) { team { id } } }",
            json!({}),
        )
        .await["formTeam"]["team"]["id"]
        .as_str()
        .expect("team")
        .to_string();
    app.ok(
        admin,
        "mutation($i: JoinTeamInput!) { joinTeam(input: $i) { position } }",
        json!({ "i": { "teamId": team, "personId": admin_id, "role": "MEMBER" } }),
    )
    .await;
    let proposal = app
        .ok(
            admin,
            "mutation($i: RaiseProposalInput!) { raiseProposal(input: $i) { proposal { id } } }",
            json!({ "i": { "teamId": team, "title": "Fuzzed", "body": "Anything.", "rule": "CONSENT" } }),
        )
        .await["raiseProposal"]["proposal"]["id"]
        .as_str()
        .expect("proposal")
        .to_string();
    vec![admin_id.to_string(), team, proposal]
}

#[test]
fn sqlite() {
    fuzz(Backend::Sqlite);
}

#[test]
fn postgres() {
    fuzz(Backend::Postgres);
}
