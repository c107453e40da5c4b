//! Notifications across crashes and servers: `advice-log serve` killed with
//! SIGKILL while the outbox holds undelivered rows and while a webhook call
//! is in flight, then started again; and two servers on one PostgreSQL
//! database, of which exactly one delivers each notification.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use advice_log::domain::webhook::Scope;
use advice_log::outbox::Status;
use serde_json::json;

use crate::failover::{post, Served, RAISE};
use crate::hostile::Team;
use crate::on_both_backends;
use crate::support::{as_admin, TestDb};
use crate::webhook_receiver::{Receiver, ReceiverOptions};

/// The arguments that let a test server deliver to a local receiver and
/// retry soon.
const DELIVER_HERE: [&str; 5] = [
    "--webhook-allow-private",
    "--delivery-retry-seconds",
    "1",
    "--delivery-retry-max-seconds",
    "2",
];

/// The organisation (a team of four), an organisation-wide webhook to
/// `receiver` signed with the key at `key`; the in-process server that made
/// them stops. Answers the member's token and the team's id.
async fn organisation(db: &TestDb, receiver: &Receiver, key: &std::path::Path) -> (String, String) {
    let team = Team::new(db).await;
    let meta = as_admin(&team.app.app);
    let hook = team
        .app
        .app
        .register_webhook(&meta, &receiver.url(), Scope::Organisation)
        .await
        .expect("the admin registers a webhook");
    let log_key = advice_log::assurance::keys::LogKey::load_or_create(key)
        .expect("the log's key")
        .0;
    receiver.add_secret(&advice_log::notify::webhook::webhook_secret(
        &log_key,
        hook.subject,
    ));
    let Team {
        app, member, team, ..
    } = team;
    app.stop().await;
    (member, team)
}

/// Raises `n` proposals through `url`.
async fn raise(
    client: &reqwest::Client,
    url: &str,
    member: &str,
    team: &str,
    n: usize,
    from: usize,
) {
    for i in from..from + n {
        let input = json!({"i": {"teamId": team, "title": format!("Rota {i}"), "body": "Swap nights.", "rule": "ADVICE"}});
        let (status, body) = post(client, url, member, RAISE, input, None).await;
        assert!(
            status == 200 && body.get("errors").is_none(),
            "{status} {body}"
        );
    }
}

/// The outbox's webhook rows, by id, once every one is sent (or the time
/// runs out: then as they stand).
async fn sent_rows(db: &TestDb, expected: usize, within: Duration) -> BTreeMap<i64, Status> {
    let storage = db.unlocked().await;
    let deadline = Instant::now() + within;
    loop {
        let rows: BTreeMap<i64, Status> = storage
            .outbox
            .list(None, None, 1000)
            .await
            .expect("the outbox")
            .into_iter()
            .map(|r| (r.id, r.status))
            .collect();
        let done = rows.len() == expected && rows.values().all(|s| *s == Status::Sent);
        if done || Instant::now() > deadline {
            storage.close().await;
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

on_both_backends! {
    async fn kill_9_while_rows_wait_and_a_call_is_in_flight_loses_and_repeats_nothing(backend: Backend) {
        let db = TestDb::new(backend).await;
        let files = tempfile::tempdir().expect("dir");
        let key = files.path().join("signing.key");
        // Each call is held three seconds before it is answered.
        let receiver = Receiver::start_with(ReceiverOptions {
            hold: Some(Duration::from_secs(3)),
            ..Default::default()
        });
        let (member, team) = organisation(&db, &receiver, &key).await;
        let client = reqwest::Client::new();
        let mut server = Served::start_with(&db, &key, &files.path().join("a"), &DELIVER_HERE);
        raise(&client, &server.url, &member, &team, 5, 0).await;
        // The first call reaches the receiver and waits for its answer: kill
        // the server then, with that call in flight and the rest waiting.
        receiver.wait_for(1, Duration::from_secs(20)).await;
        server.kill();
        let before: Vec<String> = receiver.calls().iter().filter_map(|c| c.id.clone()).collect();
        assert!(before.len() < 5, "some rows were still waiting: {before:?}");

        let _again = Served::start_with(&db, &key, &files.path().join("b"), &DELIVER_HERE);
        let rows = sent_rows(&db, 5, Duration::from_secs(60)).await;
        // One row per event, never a second; every one sent.
        assert_eq!(rows.len(), 5, "{rows:?}");
        assert!(rows.values().all(|s| *s == Status::Sent), "{rows:?}");
        // Each row reached the receiver at least once, with a valid
        // signature; only the one in flight may have come twice.
        let calls = receiver.calls();
        assert!(calls.iter().all(|c| c.verified), "{}", receiver.log());
        let ids: BTreeSet<String> = calls.iter().filter_map(|c| c.id.clone()).collect();
        let expected: BTreeSet<String> = rows.keys().map(|id| format!("msg_{id}")).collect();
        assert_eq!(ids, expected, "{}", receiver.log());
        assert!(calls.len() <= 6, "only the call in flight comes again: {}", receiver.log());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_two_servers_deliver_each_notification_once() {
    let db = TestDb::new(advice_log::store::Backend::Postgres).await;
    let files = tempfile::tempdir().expect("dir");
    let key = files.path().join("signing.key");
    let receiver = Receiver::start_with(ReceiverOptions::default());
    let (member, team) = organisation(&db, &receiver, &key).await;
    let client = reqwest::Client::new();
    let servers = [
        Served::start_with(&db, &key, &files.path().join("a"), &DELIVER_HERE),
        Served::start_with(&db, &key, &files.path().join("b"), &DELIVER_HERE),
    ];
    // Writes alternate between the servers.
    for i in 0..10 {
        raise(&client, &servers[i % 2].url, &member, &team, 1, i).await;
    }
    let rows = sent_rows(&db, 10, Duration::from_secs(30)).await;
    assert_eq!(rows.len(), 10, "{rows:?}");
    assert!(rows.values().all(|s| *s == Status::Sent), "{rows:?}");
    // Give a second delivery time to happen, were there one.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let calls = receiver.calls();
    let ids: BTreeSet<String> = calls.iter().filter_map(|c| c.id.clone()).collect();
    assert_eq!(ids.len(), 10, "{}", receiver.log());
    assert_eq!(calls.len(), 10, "each delivered once: {}", receiver.log());
    assert!(calls.iter().all(|c| c.verified), "{}", receiver.log());
}

const ASK: &str = "mutation($i: RequestAdviceInput!) { requestAdvice(input: $i) { position } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reminder_survives_a_kill_9_and_comes_when_due() {
    let db = TestDb::new(advice_log::store::Backend::Sqlite).await;
    let files = tempfile::tempdir().expect("dir");
    let key = files.path().join("signing.key");
    let receiver = Receiver::start_with(ReceiverOptions::default());
    let (member, team) = organisation(&db, &receiver, &key).await;
    let smtp = crate::smtp::SmtpServer::start();
    let smtp_url = smtp.url();
    let mut args: Vec<&str> = DELIVER_HERE.to_vec();
    args.extend(["--smtp-url", smtp_url.as_str()]);
    let client = reqwest::Client::new();
    let mut server = Served::start_with(&db, &key, &files.path().join("a"), &args);
    // The advice is due in a day and ten seconds: the reminder, 24 hours
    // before, is due in ten seconds.
    let deadline = chrono::Utc::now() + chrono::Duration::hours(24) + chrono::Duration::seconds(10);
    let input = json!({"i": {"teamId": team, "title": "Bank holiday cover", "body": "A fourth crew.",
        "rule": "ADVICE", "adviceDeadline": deadline.to_rfc3339()}});
    let (_, raised) = post(&client, &server.url, &member, RAISE, input, None).await;
    let id = raised["data"]["raiseProposal"]["proposal"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let ask = json!({"i": {"proposalId": id, "teamId": team, "reason": "AFFECTED"}});
    let (status, asked) = post(&client, &server.url, &member, ASK, ask, None).await;
    assert!(status == 200 && asked.get("errors").is_none(), "{asked}");
    // The three others are told at once; then the server dies.
    let told = smtp.wait_for(3, Duration::from_secs(20)).await;
    server.kill();
    let _again = Served::start_with(&db, &key, &files.path().join("b"), &args);
    // A mail sent just before the kill, but not yet marked sent, is sent
    // again (at least once) with the same Message-ID; the reminders come
    // when due.
    let is_told = |m: &crate::smtp::ReceivedMail| told.iter().any(|t| t.message_id == m.message_id);
    let deadline = Instant::now() + Duration::from_secs(40);
    let (mails, reminders) = loop {
        let mails = smtp.messages();
        let reminders: BTreeSet<_> = mails
            .iter()
            .filter(|m| !is_told(m))
            .filter_map(|m| m.message_id.clone())
            .collect();
        if reminders.len() >= 3 || Instant::now() > deadline {
            break (mails, reminders);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(reminders.len(), 3, "{mails:#?}");
    let reminders: Vec<_> = mails.iter().filter(|m| !is_told(m)).collect();
    let first_requests = mails
        .iter()
        .filter(|m| m.subject == told[0].subject)
        .count();
    assert!(
        first_requests >= 3,
        "every request arrived, some perhaps twice"
    );
    let link = format!("/proposals/{id}");
    for reminder in reminders {
        assert!(reminder.text.clone().unwrap_or_default().contains(&link));
        assert_ne!(reminder.subject, told[0].subject, "a reminder reads as one");
    }
}
