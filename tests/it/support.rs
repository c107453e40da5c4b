//! The test harness: a fresh database per test on either backend, a store on
//! it, and the real HTTP server on a random port.

use std::sync::Arc;

use advice_log::app::App;
use advice_log::store::{Backend, DatabaseUrl, EventStore};
use sqlx::Connection;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The variable that names the PostgreSQL server the tests use. `scripts/test`
/// sets it; without it the PostgreSQL tests fail rather than skip.
pub const POSTGRES_ENV: &str = "ADVICE_LOG_TEST_POSTGRES";

/// A fresh, empty database that lives as long as the test.
pub struct TestDb {
    /// Where it is.
    pub url: DatabaseUrl,
    /// Keeps a SQLite file's folder alive.
    _dir: Option<tempfile::TempDir>,
    /// The folder of its key-encryption key (`data.key`), which every
    /// server started on it shares, as servers in production do.
    keys: Arc<tempfile::TempDir>,
}

fn key_folder() -> Arc<tempfile::TempDir> {
    Arc::new(tempfile::tempdir().expect("a folder for the data key"))
}

impl TestDb {
    /// Creates a new empty database on `backend`.
    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary folder");
                let path = dir.path().join("advice-log.db");
                TestDb {
                    url: DatabaseUrl::Sqlite(format!("sqlite://{}", path.display())),
                    _dir: Some(dir),
                    keys: key_folder(),
                }
            }
            Backend::Postgres => {
                let server = std::env::var(POSTGRES_ENV).unwrap_or_else(|_| {
                    panic!(
                        "{POSTGRES_ENV} is not set: the PostgreSQL tests need a server \
                         (postgres://USER:PASSWORD@HOST:PORT, a role that may create \
                         databases). Run `scripts/test`, which starts one."
                    )
                });
                let server = server.trim_end_matches('/');
                let name = format!("advice_log_t_{}", uuid::Uuid::new_v4().simple());
                let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
                    .await
                    .expect("connect to the PostgreSQL test server");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .expect("create a test database");
                admin.close().await.ok();
                TestDb {
                    url: DatabaseUrl::Postgres(format!("{server}/{name}")),
                    _dir: None,
                    keys: key_folder(),
                }
            }
        }
    }

    /// A SQLite database at `path`, in a folder the caller keeps.
    pub fn sqlite_at(path: &std::path::Path) -> TestDb {
        TestDb {
            url: DatabaseUrl::Sqlite(format!("sqlite://{}", path.display())),
            _dir: None,
            keys: key_folder(),
        }
    }

    /// The path of its key-encryption key (made by the first server).
    pub fn data_key(&self) -> std::path::PathBuf {
        self.keys.path().join("data.key")
    }

    /// Opens the event store on this database.
    pub async fn store(&self) -> Arc<dyn EventStore> {
        self.storage().await.events
    }

    /// Opens everything this database holds (log, read models, snapshots).
    pub async fn storage(&self) -> advice_log::backend::Storage {
        advice_log::backend::open(&self.url)
            .await
            .expect("open the database")
    }

    /// [`TestDb::storage`], unlocked with the database's data key (as the
    /// servers started on it are), so personal data opens.
    pub async fn unlocked(&self) -> advice_log::backend::Storage {
        let (kek, _) = advice_log::erasure::KeyEncryptionKey::load_or_create(&self.data_key())
            .expect("data key");
        self.storage().await.unlock(kek).await.expect("unlock")
    }

    /// Asserts that the read-model tables equal a rebuild from the log:
    /// dumps them, empties them, replays the whole log into them and
    /// compares (the tables are left rebuilt).
    pub async fn assert_views_equal_a_rebuild(&self) {
        let storage = self.unlocked().await;
        let views = storage.views.clone();
        let incremental = views.dump().await.expect("dump");
        views.reset().await.expect("reset");
        let feed = advice_log::store::Feed::start(storage.sealed_events())
            .await
            .expect("feed");
        let rebuilt = advice_log::projection::Projector::new(feed, views.clone())
            .await
            .expect("projector");
        rebuilt.catch_up(&|_| {}).await.expect("rebuild");
        assert_eq!(
            views.dump().await.expect("dump"),
            incremental,
            "incremental equals a rebuild"
        );
        storage.close().await;
    }

    /// The URL as `sqlx` takes it.
    pub fn raw_url(&self) -> &str {
        match &self.url {
            DatabaseUrl::Sqlite(url) | DatabaseUrl::Postgres(url) => url,
        }
    }

    /// The URL the server uses: on PostgreSQL the least-privilege
    /// application role [`APP_ROLE`] (which `scripts/postgres-for-tests`
    /// creates) instead of the owner; on SQLite the file, as before.
    pub fn app_url(&self) -> String {
        match &self.url {
            DatabaseUrl::Sqlite(url) => url.clone(),
            DatabaseUrl::Postgres(url) => {
                let host = url
                    .split_once('@')
                    .map(|(_, host)| host)
                    .expect("a PostgreSQL URL with credentials");
                format!("postgres://{APP_ROLE}:{APP_PASSWORD}@{host}")
            }
        }
    }
}

impl TestDb {
    /// Migrates as the owner and grants the application role what the
    /// server needs, as `advice-log migrate --grant-to` does (on SQLite:
    /// migrates; a file has no roles).
    pub async fn migrate_and_grant(&self) {
        self.store().await.close().await;
        if let DatabaseUrl::Postgres(url) = &self.url {
            let pool = sqlx::PgPool::connect(url).await.expect("connect as owner");
            advice_log::store::postgres::grant_to(&pool, APP_ROLE)
                .await
                .expect("grant the application role");
            pool.close().await;
        }
    }

    /// Where the server connects: on PostgreSQL as the application role.
    pub fn app_database(&self) -> DatabaseUrl {
        match &self.url {
            DatabaseUrl::Sqlite(_) => self.url.clone(),
            DatabaseUrl::Postgres(_) => DatabaseUrl::Postgres(self.app_url()),
        }
    }
}

/// The PostgreSQL role the server runs as in the tests: it may read and
/// append, never alter (created by `scripts/postgres-for-tests`).
pub const APP_ROLE: &str = "advice_log_app";

/// Its password.
pub const APP_PASSWORD: &str = "advice_log_app";

/// The real server on 127.0.0.1 and a random port.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The store the server writes to (on PostgreSQL connected as the
    /// application role), as the application reads it: personal data
    /// opened (`app.log` is the log as stored, sealed).
    pub store: Arc<dyn EventStore>,
    /// The application the server runs.
    pub app: Arc<App>,
    /// An HTTP client.
    pub client: reqwest::Client,
    /// The folder of the signing key.
    _key_dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestApp {
    /// Starts the server on `db` with the default body limit.
    pub async fn spawn(db: &TestDb) -> TestApp {
        Self::spawn_with_limit(db, advice_log::http::DEFAULT_BODY_LIMIT).await
    }

    /// Starts the server on `db` accepting bodies up to `body_limit` bytes.
    pub async fn spawn_with_limit(db: &TestDb, body_limit: usize) -> TestApp {
        let settings = advice_log::server::Settings {
            body_limit,
            ..Default::default()
        };
        Self::start(db, settings, Arc::new(advice_log::app::SystemClock)).await
    }

    /// Starts the server on `db` with these settings.
    pub async fn spawn_with_settings(
        db: &TestDb,
        settings: advice_log::server::Settings,
    ) -> TestApp {
        Self::start(db, settings, Arc::new(advice_log::app::SystemClock)).await
    }

    /// Starts the server on `db` with these settings on a listener the
    /// test bound first (so it knows the server's address beforehand, e.g.
    /// for a redirect URI registered at an identity provider).
    pub async fn spawn_on(
        db: &TestDb,
        settings: advice_log::server::Settings,
        listener: tokio::net::TcpListener,
    ) -> TestApp {
        Self::start_on(
            db,
            settings,
            Arc::new(advice_log::app::SystemClock),
            Some(listener),
        )
        .await
    }

    /// Starts the server on `db` with a clock the test moves.
    pub async fn spawn_with_clock(
        db: &TestDb,
        clock: Arc<advice_log::app::ManualClock>,
    ) -> TestApp {
        Self::start(db, advice_log::server::Settings::default(), clock).await
    }

    async fn start(
        db: &TestDb,
        settings: advice_log::server::Settings,
        clock: Arc<dyn advice_log::app::Clock>,
    ) -> TestApp {
        Self::start_on(db, settings, clock, None).await
    }

    async fn start_on(
        db: &TestDb,
        settings: advice_log::server::Settings,
        clock: Arc<dyn advice_log::app::Clock>,
        listener: Option<tokio::net::TcpListener>,
    ) -> TestApp {
        // As in production: the owner migrates, the server runs as a role
        // that may only read and append (PostgreSQL).
        db.migrate_and_grant().await;
        let storage = advice_log::backend::open_with_clock(&db.app_database(), clock.clone())
            .await
            .expect("open the database as the application role");
        let key_dir = tempfile::tempdir().expect("temporary folder");
        let (key, _) = advice_log::assurance::keys::LogKey::load_or_create(
            &key_dir.path().join("signing.key"),
        )
        .expect("signing key");
        // As in production: personal data is sealed under a data key.
        let (kek, _) = advice_log::erasure::KeyEncryptionKey::load_or_create(&db.data_key())
            .expect("data key");
        let storage = storage.unlock(kek).await.expect("unlock the personal data");
        let policy = advice_log::assurance::service::CheckpointPolicy {
            every_events: u64::MAX,
            every: std::time::Duration::from_secs(3600),
            dir: None,
        };
        let app = App::start_full(storage, clock, Some((key, policy)))
            .await
            .expect("start the application");
        let store = app.store.clone();
        let listener = match listener {
            Some(listener) => listener,
            None => tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind a random port"),
        };
        let base = format!("http://{}", listener.local_addr().expect("local address"));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(advice_log::server::serve(
            listener,
            app.clone(),
            settings,
            async move {
                stopped.await.ok();
            },
        ));
        TestApp {
            base,
            store,
            app,
            _key_dir: key_dir,
            client: reqwest::Client::new(),
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Posts a GraphQL query with no token and answers the JSON response
    /// with its status.
    pub async fn graphql(&self, query: &str) -> (u16, serde_json::Value) {
        self.graphql_as(None, query, serde_json::json!({})).await
    }

    /// Posts a GraphQL query with variables, as the holder of `token`.
    pub async fn graphql_as(
        &self,
        token: Option<&str>,
        query: &str,
        variables: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.base))
            .json(&serde_json::json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("a JSON body, not {text:?} ({status}): {error}"));
        (status, body)
    }

    /// Runs a query that must succeed as `token`, and answers its `data`.
    pub async fn ok(
        &self,
        token: &str,
        query: &str,
        variables: serde_json::Value,
    ) -> serde_json::Value {
        let (status, body) = self.graphql_as(Some(token), query, variables).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "{query} failed: {body}");
        body["data"].clone()
    }

    /// `/readyz` as (status, body).
    pub async fn readyz(&self) -> (u16, serde_json::Value) {
        let response = self
            .client
            .get(format!("{}/readyz", self.base))
            .send()
            .await
            .expect("readyz answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON"))
    }

    /// Waits up to `within` for `/readyz` to answer `want`; answers what it
    /// answered last.
    pub async fn ready_becomes(
        &self,
        want: u16,
        within: std::time::Duration,
    ) -> (u16, serde_json::Value) {
        let deadline = std::time::Instant::now() + within;
        loop {
            let (status, body) = self.readyz().await;
            if status == want || std::time::Instant::now() > deadline {
                return (status, body);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Creates the first admin, as `advice-log bootstrap` does, and answers
    /// their person id and token.
    pub async fn bootstrap(&self) -> (String, String) {
        let issued = self
            .app
            .bootstrap("Ada Admin", "ada@example.org")
            .await
            .expect("bootstrap");
        (
            issued.outcome.subject.to_string(),
            issued.token.expect("a new token"),
        )
    }

    /// Stops the server gracefully and waits until the store is closed.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        if let Some(task) = self.task.take() {
            task.await
                .expect("server task")
                .expect("server ran cleanly");
        }
    }
}

/// Runs one async test body on each backend, as two tests named `sqlite` and
/// `postgres` inside a module named for the case.
#[macro_export]
macro_rules! on_both_backends {
    ($(#[$meta:meta])* async fn $name:ident($backend:ident: Backend) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            use advice_log::store::Backend;

            $(#[$meta])*
            async fn case($backend: Backend) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                case(Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                case(Backend::Postgres).await
            }
        }
    };
}

/// A new event with a fresh id and the given payload.
pub fn event(payload: serde_json::Value) -> advice_log::store::EventData {
    advice_log::store::EventData {
        event_id: uuid::Uuid::new_v4(),
        event_type: "TestNoted".into(),
        schema_version: 1,
        payload,
        metadata: serde_json::json!({ "actor": "test" }),
    }
}

/// The `extensions.code` of the first error of a response, if any.
pub fn error_code(body: &serde_json::Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

/// A command sent by `person` through the API (no organisation role).
pub fn as_person(person: advice_log::domain::PersonId) -> advice_log::app::CommandMeta {
    advice_log::app::CommandMeta::new(
        advice_log::domain::Caller::Person(advice_log::domain::Actor {
            person,
            org_role: None,
        }),
        None,
    )
}

/// Reads a started `advice-log serve`'s standard output (piped) up to the
/// line that names its address; answers the URL, without a trailing slash,
/// and the rest of the output.
pub fn served_url(
    child: &mut std::process::Child,
) -> (
    String,
    std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
) {
    use std::io::BufRead;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut lines = std::io::BufReader::new(stdout).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| {
            line.split_whitespace()
                .find(|w| w.starts_with("http://"))
                .map(|w| w.trim_end_matches('/').to_string())
        })
        .expect("a line with the URL");
    (url, lines)
}

/// The command metadata of the organisation's first admin, as the app's
/// commands take it.
pub fn as_admin(app: &advice_log::app::App) -> advice_log::app::CommandMeta {
    let admin = app
        .read
        .directory()
        .people()
        .find(|p| p.org_role == Some(advice_log::domain::OrgRole::Admin))
        .map(|p| p.id)
        .expect("the organisation has an admin");
    advice_log::app::CommandMeta::new(
        advice_log::domain::Caller::Person(advice_log::domain::Actor {
            person: admin,
            org_role: Some(advice_log::domain::OrgRole::Admin),
        }),
        None,
    )
}

/// A row of the outbox as the notifier would add it: due now, about a
/// proposal titled "Winter rota".
pub fn outbox_row(
    position: u64,
    channel: advice_log::outbox::Channel,
    recipient: uuid::Uuid,
    kind: &str,
) -> advice_log::outbox::NewNotification {
    let now = chrono::Utc::now();
    advice_log::outbox::NewNotification {
        position,
        channel,
        recipient,
        kind: kind.into(),
        proposal: Some(advice_log::domain::ProposalId(uuid::Uuid::new_v4())),
        detail: serde_json::json!({ "title": "Winter rota" }),
        digest: false,
        created_at: now,
        due_at: now,
    }
}
