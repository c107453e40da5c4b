//! Request ids in the log and OpenTelemetry traces, against the real
//! binary: its standard error read at the default log level, and an OTLP
//! receiver in the test that decodes what it is sent as the protocol's own
//! `ExportTraceServiceRequest` (the `opentelemetry-proto` crate).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;
use serde_json::json;

use crate::on_both_backends;
use crate::support::TestDb;

const BIN: &str = env!("CARGO_BIN_EXE_advice-log");

/// The trace and parent span a client sends in `traceparent`.
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";

fn traceparent() -> String {
    format!("00-{TRACE_ID}-{PARENT_ID}-01")
}

/// `advice-log serve` on a random port, its standard error kept line by line.
struct Served {
    child: Child,
    url: String,
    log: Arc<Mutex<Vec<String>>>,
    _stdout: std::io::Lines<BufReader<std::process::ChildStdout>>,
    _keys: tempfile::TempDir,
}

impl Served {
    /// Starts the server on `db` with the default log level, no `OTEL_*`
    /// variable but those in `env`.
    fn start(db: &TestDb, env: &[(&str, String)]) -> Served {
        let keys = tempfile::tempdir().expect("dir");
        let mut command = Command::new(BIN);
        command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("DATABASE_URL", db.raw_url())
            .env("ADVICE_LOG_DATA_KEY", db.data_key())
            .env("ADVICE_LOG_SIGNING_KEY", keys.path().join("signing.key"))
            .env_remove("ADVICE_LOG_LOG")
            .env_remove("ADVICE_LOG_LOG_JSON")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("OTEL_")) {
            command.env_remove(name);
        }
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("start advice-log serve");
        let stderr = child.stderr.take().expect("stderr is piped");
        let log = Arc::new(Mutex::new(Vec::new()));
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                lines.lock().expect("log").push(line);
            }
        });
        let (url, stdout) = crate::support::served_url(&mut child);
        Served {
            child,
            url,
            log,
            _stdout: stdout,
            _keys: keys,
        }
    }

    /// The first log line `matches` accepts, waiting up to 10 s for it.
    async fn line(&self, matches: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(line) = self.log.lock().expect("log").iter().find(|l| matches(l)) {
                return line.clone();
            }
            if Instant::now() > deadline {
                panic!("no such log line in {:#?}", self.log.lock().expect("log"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the server as an operator would (SIGTERM) and waits for it.
    fn stop(&mut self) {
        let killed = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(killed.success());
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "serve exits 0 after SIGTERM: {status:?}");
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        // A server not stopped (a failed test, a broken database) is killed.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An OTLP/HTTP receiver: every `POST /v1/traces` decoded and kept.
#[derive(Clone, Default)]
struct Collector {
    requests: Arc<Mutex<Vec<ExportTraceServiceRequest>>>,
}

impl Collector {
    /// Listens on `addr` (port 0: any); its base URL.
    async fn start(self, addr: SocketAddr) -> std::io::Result<String> {
        async fn receive(
            State(collector): State<Collector>,
            body: Bytes,
        ) -> (
            axum::http::StatusCode,
            [(&'static str, &'static str); 1],
            Vec<u8>,
        ) {
            let request = ExportTraceServiceRequest::decode(body).expect("an OTLP trace export");
            collector.requests.lock().expect("requests").push(request);
            let answer = opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse::default();
            (
                axum::http::StatusCode::OK,
                [("content-type", "application/x-protobuf")],
                answer.encode_to_vec(),
            )
        }
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let bound = listener.local_addr()?;
        let app = Router::new()
            .route("/v1/traces", post(receive))
            .with_state(self);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(format!("http://{bound}"))
    }

    /// Every span received, with its resource's `service.name`.
    fn spans(&self) -> Vec<(String, Span)> {
        let requests = self.requests.lock().expect("requests");
        let mut spans = Vec::new();
        for request in requests.iter() {
            for resource in &request.resource_spans {
                let service = resource
                    .resource
                    .as_ref()
                    .and_then(|r| string_attribute(&r.attributes, "service.name"))
                    .unwrap_or_default();
                for scope in &resource.scope_spans {
                    for span in &scope.spans {
                        spans.push((service.clone(), span.clone()));
                    }
                }
            }
        }
        spans
    }
}

fn string_attribute(
    attributes: &[opentelemetry_proto::tonic::common::v1::KeyValue],
    key: &str,
) -> Option<String> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| match &v.value {
            Some(AnyValue::StringValue(s)) => Some(s.clone()),
            Some(AnyValue::IntValue(i)) => Some(i.to_string()),
            _ => None,
        })
}

/// The trace id and span id of a `traceparent` header.
fn parse_traceparent(value: &str) -> (String, String) {
    let parts: Vec<&str> = value.split('-').collect();
    assert_eq!(parts.len(), 4, "traceparent {value:?}");
    assert_eq!(parts[0], "00", "version 00");
    (parts[1].to_string(), parts[2].to_string())
}

/// Sends `{ __typename }` as operation `Probe` with the client's
/// `traceparent`; the answer's `traceparent`.
async fn probe(url: &str) -> String {
    let response = reqwest::Client::new()
        .post(format!("{url}/graphql"))
        .header("traceparent", traceparent())
        .json(&json!({"query": "query Probe { __typename }", "operationName": "Probe"}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    assert!(
        response.headers().get("tracestate").is_none(),
        "no empty tracestate"
    );
    response
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .expect("the answer carries traceparent")
        .to_string()
}

on_both_backends! {
    async fn request_ids_are_on_every_request_line_at_the_default_level(backend: Backend) {
        let db = TestDb::new(backend).await;
        let served = Served::start(&db, &[]);
        let client = reqwest::Client::new();

        // A request with its own id: the id comes back and the request's
        // line names it, with the method, path, status and latency.
        let response = client
            .get(format!("{}/healthz", served.url))
            .header("x-request-id", "abc")
            .send().await.expect("request");
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["x-request-id"], "abc");
        let line = served
            .line(|l| l.contains("request finished") && l.contains("request_id=abc"))
            .await;
        assert!(line.contains(" INFO "), "{line}");
        assert!(line.contains("method=GET") && line.contains("path=/healthz"), "{line}");
        assert!(line.contains("status=200") && line.contains("latency_ms="), "{line}");

        // A request without one gets a UUID, in the answer and in the log.
        let response = client.get(format!("{}/healthz", served.url)).send().await.expect("request");
        let generated = response.headers()["x-request-id"].to_str().expect("ASCII").to_string();
        assert!(uuid::Uuid::parse_str(&generated).is_ok(), "{generated}");
        served.line(|l| l.contains(&format!("request_id={generated}"))).await;

        // An error path: the log table is gone, so checking an unknown
        // token fails inside the request; the error and the request's own
        // line both carry its id.
        rename_events_table(&db).await;
        let token = format!("al_{}_{}", uuid::Uuid::new_v4().simple(), "ab".repeat(32));
        let response = client
            .post(format!("{}/graphql", served.url))
            .header("x-request-id", "abc-error")
            .bearer_auth(token)
            .json(&json!({"query": "{ __typename }"}))
            .send().await.expect("request");
        assert_eq!(response.status(), 500);
        let error = served
            .line(|l| l.contains("checking a token failed") && l.contains("request_id=abc-error"))
            .await;
        assert!(error.contains(" ERROR "), "{error}");
        let failed = served
            .line(|l| l.contains("request failed") && l.contains("request_id=abc-error"))
            .await;
        assert!(failed.contains("status=500"), "{failed}");
    }
}

/// Renames the table of events behind the running server's back, so its
/// next read of the log fails.
async fn rename_events_table(db: &TestDb) {
    use sqlx::Connection as _;
    match &db.url {
        advice_log::store::DatabaseUrl::Sqlite(url) => {
            let mut conn = sqlx::SqliteConnection::connect(url).await.expect("connect");
            sqlx::query("ALTER TABLE events RENAME TO events_gone")
                .execute(&mut conn)
                .await
                .expect("rename");
        }
        advice_log::store::DatabaseUrl::Postgres(url) => {
            let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
            sqlx::query("ALTER TABLE events RENAME TO events_gone")
                .execute(&mut conn)
                .await
                .expect("rename");
        }
    }
}

on_both_backends! {
    async fn spans_continue_the_callers_trace_and_are_exported_over_otlp(backend: Backend) {
        let db = TestDb::new(backend).await;
        let collector = Collector::default();
        let endpoint = collector.clone().start(([127, 0, 0, 1], 0).into()).await.expect("listen");
        let mut served = Served::start(&db, &[("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)]);

        let answered = probe(&served.url).await;
        let (trace, span_id) = parse_traceparent(&answered);
        assert_eq!(trace, TRACE_ID, "the answer continues the caller's trace");
        assert_ne!(span_id, PARENT_ID, "with the server's own span");

        // Shutting down sends what is left.
        served.stop();
        let spans = collector.spans();
        let request = spans
            .iter()
            .find(|(_, s)| s.name == "POST /graphql")
            .unwrap_or_else(|| {
                let names: Vec<&str> = spans.iter().map(|(_, s)| s.name.as_str()).collect();
                panic!("a request span among {names:?}")
            });
        assert_eq!(request.0, "advice-log", "the default service name");
        assert_eq!(hex::encode(&request.1.trace_id), TRACE_ID);
        assert_eq!(hex::encode(&request.1.parent_span_id), PARENT_ID);
        assert_eq!(hex::encode(&request.1.span_id), span_id, "the span the answer named");
        assert_eq!(
            request.1.kind,
            opentelemetry_proto::tonic::trace::v1::span::SpanKind::Server as i32
        );
        assert_eq!(string_attribute(&request.1.attributes, "http.route").as_deref(), Some("/graphql"));
        assert_eq!(string_attribute(&request.1.attributes, "http.response.status_code").as_deref(), Some("200"));
        assert!(string_attribute(&request.1.attributes, "request_id").is_some());

        let operation = spans
            .iter()
            .find(|(_, s)| s.name == "query Probe")
            .unwrap_or_else(|| {
                let names: Vec<&str> = spans.iter().map(|(_, s)| s.name.as_str()).collect();
                panic!("an operation span among {names:?}")
            });
        assert_eq!(hex::encode(&operation.1.trace_id), TRACE_ID);
        assert_eq!(hex::encode(&operation.1.parent_span_id), span_id, "inside the request's span");
    }
}

on_both_backends! {
    async fn without_an_endpoint_nothing_is_exported_but_traceparent_is_answered(backend: Backend) {
        let db = TestDb::new(backend).await;

        // Turned off explicitly, with an endpoint set: nothing is sent.
        let collector = Collector::default();
        let endpoint = collector.clone().start(([127, 0, 0, 1], 0).into()).await.expect("listen");
        let mut served = Served::start(
            &db,
            &[("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint), ("OTEL_TRACES_EXPORTER", "none".into())],
        );
        let (trace, _) = parse_traceparent(&probe(&served.url).await);
        assert_eq!(trace, TRACE_ID);
        served.stop();
        assert!(collector.spans().is_empty(), "nothing exported when turned off");

        // Not configured at all: nothing reaches OTLP's default port
        // either (when this test can listen there).
        let default = Collector::default();
        let listening = default.clone().start(([127, 0, 0, 1], 4318).into()).await.is_ok();
        let mut served = Served::start(&db, &[]);
        let (trace, _) = parse_traceparent(&probe(&served.url).await);
        assert_eq!(trace, TRACE_ID, "propagation works without export");
        served.stop();
        if listening {
            assert!(default.spans().is_empty(), "nothing exported without configuration");
        }
    }
}

/// A webhook call carries `traceparent` for its own span, a child of the
/// span it is sent from.
#[tokio::test(flavor = "current_thread")]
async fn webhook_calls_carry_traceparent() {
    use advice_log::notify::webhook::WebhookSender;
    use opentelemetry::trace::TracerProvider as _;
    use tracing::Instrument as _;
    use tracing_subscriber::layer::SubscriberExt as _;

    let seen: Arc<Mutex<Vec<HeaderMap>>> = Arc::default();
    let record = seen.clone();
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap| {
            let record = record.clone();
            async move {
                record.lock().expect("seen").push(headers);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listen");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });

    // The server's span layer, on this thread only (the test's runtime has
    // one thread), with no exporter.
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    let _default = tracing::subscriber::set_default(subscriber);

    let outer = tracing::info_span!("outer");
    let outer_id = {
        use opentelemetry::trace::TraceContextExt as _;
        use tracing_opentelemetry::OpenTelemetrySpanExt as _;
        let context = outer.context();
        let span = context.span();
        let ids = span.span_context();
        (ids.trace_id().to_string(), ids.span_id().to_string())
    };
    let hook = advice_log::notify::message::Hook {
        message_id: "msg_1".into(),
        url: format!("http://{addr}/hook"),
        secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
        timestamp: chrono::Utc::now(),
        body: json!({"type": "DECIDED"}),
    };
    WebhookSender::new(true)
        .expect("sender")
        .send(&hook)
        .instrument(outer)
        .await
        .expect("delivered");

    let seen = seen.lock().expect("seen");
    let header = seen[0]
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .expect("the call carries traceparent");
    let (trace, span) = parse_traceparent(header);
    assert_eq!(
        trace, outer_id.0,
        "in the trace of the span it was sent from"
    );
    assert_ne!(span, outer_id.1, "with the call's own span");
    assert!(seen[0].contains_key("webhook-signature"), "still signed");
}
