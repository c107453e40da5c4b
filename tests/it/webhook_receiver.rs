//! The webhook channel against a real receiver: `tests/webhooks/receiver.py`,
//! which checks each call's signature with the Standard Webhooks reference
//! library (PyPI `standardwebhooks`; `scripts/test` installs it).
//!
//! [`Receiver`] is the support type other tests use to receive webhooks.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use advice_log::assurance::keys::LogKey;
use advice_log::notify::message::Hook;
use advice_log::notify::webhook::{
    check_url, sign, webhook_secret, UrlRefused, WebhookError, WebhookSender,
};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

/// The receiver's options: its secrets, how many calls it fails first, and
/// how long it holds each answer.
#[derive(Debug, Default, Clone)]
pub struct ReceiverOptions {
    /// The secrets it verifies with (`whsec_...`); more can be added later.
    pub secrets: Vec<String>,
    /// Answer 503 to this many calls first.
    pub fail_first: u32,
    /// Wait this long before each answer (after recording the call).
    pub hold: Option<Duration>,
}

/// One call the receiver recorded (every call after the `fail_first` ones).
#[derive(Debug, Clone, Deserialize)]
pub struct ReceivedCall {
    /// Its number among every call the receiver had, from 1.
    pub n: u64,
    /// The `webhook-id`.
    pub id: Option<String>,
    /// The `webhook-timestamp`.
    pub timestamp: Option<String>,
    /// The path it was sent to.
    pub path: String,
    /// The `user-agent`.
    pub user_agent: Option<String>,
    /// The index of the secret that verified it.
    pub secret: Option<usize>,
    /// The body, parsed.
    pub body: serde_json::Value,
    /// Whether a secret verified it (then it was answered 204, else 400).
    pub verified: bool,
    /// Why it did not verify.
    pub error: Option<String>,
}

/// One call as the receiver answered it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Attempt {
    /// Its number, from 1.
    pub n: u64,
    /// The `webhook-id`.
    pub id: Option<String>,
    /// The path it was sent to.
    pub path: String,
    /// The status answered.
    pub status: u16,
}

/// `tests/webhooks/receiver.py`, running on a free port; killed on drop.
pub struct Receiver {
    child: Child,
    folder: tempfile::TempDir,
    address: String,
}

impl Receiver {
    /// A receiver verifying with `secrets`, answering every call.
    pub fn start(secrets: &[&str]) -> Receiver {
        Receiver::start_with(ReceiverOptions {
            secrets: secrets.iter().map(|s| s.to_string()).collect(),
            ..ReceiverOptions::default()
        })
    }

    /// A receiver with `options`.
    pub fn start_with(options: ReceiverOptions) -> Receiver {
        let folder = tempfile::tempdir().expect("receiver folder");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/webhooks/receiver.py");
        let log = std::fs::File::create(folder.path().join("receiver.log")).expect("log");
        let mut command = Command::new("python3");
        command
            .arg(script)
            .args(["--port", "0", "--folder"])
            .arg(folder.path())
            .args(["--fail-first", &options.fail_first.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log);
        for secret in &options.secrets {
            command.args(["--secret", secret]);
        }
        if let Some(hold) = options.hold {
            command.args(["--hold", &hold.as_secs_f64().to_string()]);
        }
        let mut child = command
            .spawn()
            .expect("start python3 tests/webhooks/receiver.py");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("read");
        let Some(address) = line.trim().strip_prefix("listening ") else {
            let _ = child.kill();
            let _ = child.wait();
            let log =
                std::fs::read_to_string(folder.path().join("receiver.log")).unwrap_or_default();
            panic!(
                "the webhook receiver did not start (is standardwebhooks installed? \
                 scripts/test installs it): {line:?}\n{log}"
            );
        };
        Receiver {
            address: address.to_string(),
            child,
            folder,
        }
    }

    /// The address to send webhooks to.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.address)
    }

    /// The receiver's `host:port`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Verifies later calls with `secret` too (its index follows those
    /// given at the start and added before).
    pub fn add_secret(&self, secret: &str) {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.folder.path().join("secrets"))
            .expect("secrets");
        writeln!(file, "{secret}").expect("write secret");
    }

    fn path(&self, name: &str) -> PathBuf {
        self.folder.path().join(name)
    }

    /// The calls recorded so far, in order of arrival.
    pub fn calls(&self) -> Vec<ReceivedCall> {
        let mut calls: Vec<ReceivedCall> = std::fs::read_dir(self.folder.path())
            .expect("read folder")
            .filter_map(|entry| {
                let path = entry.expect("entry").path();
                let name = path.file_name()?.to_str()?;
                let stem = name.strip_suffix(".json")?;
                stem.parse::<u64>().ok()?;
                let text = std::fs::read_to_string(&path).expect("read call");
                Some(serde_json::from_str(&text).expect("a recorded call"))
            })
            .collect();
        calls.sort_by_key(|call| call.n);
        calls
    }

    /// Every call answered so far, failed ones too, in order of arrival.
    pub fn attempts(&self) -> Vec<Attempt> {
        std::fs::read_to_string(self.path("attempts.log"))
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).expect("an attempt"))
            .collect()
    }

    /// Waits until at least `n` calls are recorded, and answers them; fails
    /// the test after `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedCall> {
        let start = Instant::now();
        loop {
            let calls = self.calls();
            if calls.len() >= n {
                return calls;
            }
            if start.elapsed() > timeout {
                panic!(
                    "the webhook receiver had {} calls, not {n}, after {timeout:?}; attempts: {:?}\n{}",
                    calls.len(),
                    self.attempts(),
                    self.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// What the receiver wrote to its standard error.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.path("receiver.log")).unwrap_or_default()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn log_key() -> (tempfile::TempDir, LogKey) {
    let dir = tempfile::tempdir().expect("dir");
    let (key, _) = LogKey::load_or_create(&dir.path().join("log.key")).expect("key");
    (dir, key)
}

fn hook(url: &str, secret: &str, id: &str) -> Hook {
    Hook {
        message_id: id.to_string(),
        url: url.to_string(),
        secret: secret.to_string(),
        timestamp: Utc::now(),
        body: json!({
            "type": "DECIDED",
            "timestamp": "2030-01-02T03:04:05Z",
            "data": {"proposal": "Move the stand-up to 10:00", "outcome": "ACCEPTED", "note": "café ✓"}
        }),
    }
}

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_signed_call_verifies_with_the_reference_library() {
    let (_dir, key) = log_key();
    let secret = webhook_secret(&key, uuid::Uuid::new_v4());
    let receiver = Receiver::start(&[&secret]);
    let sender = WebhookSender::new(true).expect("sender");
    let sent = hook(&receiver.url(), &secret, "msg_outbox-1");
    sender
        .send(&sent)
        .await
        .expect("a verified call is answered 204");
    let calls = receiver.wait_for(1, WAIT).await;
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert!(call.verified, "{call:?}\n{}", receiver.log());
    assert_eq!(call.secret, Some(0));
    assert_eq!(call.id.as_deref(), Some("msg_outbox-1"));
    assert_eq!(call.path, "/hook");
    assert_eq!(call.body, sent.body);
    assert_eq!(
        call.timestamp.as_deref(),
        Some(sent.timestamp.timestamp().to_string().as_str())
    );
    let agent = call.user_agent.as_deref().unwrap_or_default();
    assert_eq!(agent, format!("advice-log/{}", env!("CARGO_PKG_VERSION")));
    assert_eq!(receiver.attempts().len(), 1);
    assert_eq!(receiver.attempts()[0].status, 204);
}

#[tokio::test]
async fn a_call_signed_with_another_secret_is_refused() {
    let (_dir, key) = log_key();
    let secret = webhook_secret(&key, uuid::Uuid::new_v4());
    let other = webhook_secret(&key, uuid::Uuid::new_v4());
    let receiver = Receiver::start(&[&secret]);
    let sender = WebhookSender::new(true).expect("sender");
    let error = sender
        .send(&hook(&receiver.url(), &other, "msg_wrong-secret"))
        .await
        .expect_err("refused");
    assert!(
        matches!(&error, WebhookError::Status { status: 400, body } if body.contains("400")),
        "{error:?}"
    );
    assert!(error.retryable());
    let calls = receiver.calls();
    assert_eq!(calls.len(), 1);
    assert!(!calls[0].verified);
    assert!(
        calls[0]
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("signature"),
        "{:?}",
        calls[0]
    );
}

#[tokio::test]
async fn a_tampered_body_is_refused() {
    let (_dir, key) = log_key();
    let secret = webhook_secret(&key, uuid::Uuid::new_v4());
    let receiver = Receiver::start(&[&secret]);
    let signed = hook(&receiver.url(), &secret, "msg_tampered");
    let call = sign(&signed).expect("signed");
    let tampered = serde_json::to_vec(&json!({"type": "DECIDED", "data": {"outcome": "REJECTED"}}))
        .expect("json");
    assert_ne!(tampered, call.body);
    let client = reqwest::Client::new();
    let send = |body: Vec<u8>| {
        let mut request = client.post(receiver.url());
        for (name, value) in &call.headers {
            request = request.header(*name, value);
        }
        request.body(body).send()
    };
    let answer = send(tampered).await.expect("sent");
    assert_eq!(answer.status().as_u16(), 400);
    // The same headers with the body they signed verify.
    let answer = send(call.body.clone()).await.expect("sent");
    assert_eq!(answer.status().as_u16(), 204);
    let calls = receiver.calls();
    assert_eq!(calls.len(), 2);
    assert!(!calls[0].verified);
    assert_eq!(calls[0].body["data"]["outcome"], "REJECTED");
    assert!(calls[1].verified);
    assert_eq!(calls[1].body, signed.body);
}

#[tokio::test]
async fn a_secret_known_only_after_registering_can_be_added() {
    let (_dir, key) = log_key();
    let secret = webhook_secret(&key, uuid::Uuid::new_v4());
    let receiver = Receiver::start(&[]);
    let sender = WebhookSender::new(true).expect("sender");
    let sent = hook(&receiver.url(), &secret, "msg_later");
    let error = sender.send(&sent).await.expect_err("no secret yet");
    assert!(
        matches!(error, WebhookError::Status { status: 400, .. }),
        "{error:?}"
    );
    receiver.add_secret(&webhook_secret(&key, uuid::Uuid::new_v4()));
    receiver.add_secret(&secret);
    sender.send(&sent).await.expect("verified now");
    let calls = receiver.calls();
    assert_eq!(calls.len(), 2);
    assert!(!calls[0].verified);
    assert!(calls[1].verified);
    assert_eq!(calls[1].secret, Some(1));
}

#[tokio::test]
async fn three_failures_then_success() {
    let (_dir, key) = log_key();
    let secret = webhook_secret(&key, uuid::Uuid::new_v4());
    let receiver = Receiver::start_with(ReceiverOptions {
        secrets: vec![secret.clone()],
        fail_first: 3,
        hold: None,
    });
    let sender = WebhookSender::new(true).expect("sender");
    let sent = hook(&receiver.url(), &secret, "msg_retried");
    for _ in 0..3 {
        let error = sender.send(&sent).await.expect_err("503");
        assert!(
            matches!(&error, WebhookError::Status { status: 503, body } if body == "status 503 from the test receiver"),
            "{error:?}"
        );
        assert!(error.retryable());
        assert_eq!(
            error.to_string(),
            "the receiver answered 503: status 503 from the test receiver"
        );
    }
    sender.send(&sent).await.expect("the fourth call succeeds");
    let statuses: Vec<u16> = receiver.attempts().iter().map(|a| a.status).collect();
    assert_eq!(statuses, [503, 503, 503, 204]);
    assert!(receiver
        .attempts()
        .iter()
        .all(|a| a.id.as_deref() == Some("msg_retried")));
    let calls = receiver.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].n, 4);
    assert!(calls[0].verified);
}

#[tokio::test]
async fn a_held_answer_leaves_the_call_in_flight() {
    let (_dir, key) = log_key();
    let secret = webhook_secret(&key, uuid::Uuid::new_v4());
    let receiver = Receiver::start_with(ReceiverOptions {
        secrets: vec![secret.clone()],
        fail_first: 0,
        hold: Some(Duration::from_secs(30)),
    });
    let sender = WebhookSender::new(true).expect("sender");
    let sent = hook(&receiver.url(), &secret, "msg_held");
    let task = tokio::spawn(async move { sender.send(&sent).await });
    let calls = receiver.wait_for(1, WAIT).await;
    assert!(calls[0].verified);
    assert!(!task.is_finished(), "the answer is held");
    task.abort();
    assert!(task.await.expect_err("aborted").is_cancelled());
    assert_eq!(receiver.attempts().len(), 1);
}

#[tokio::test]
async fn check_url_refuses_loopback_unless_allowed() {
    let receiver = Receiver::start(&[]);
    for url in [
        receiver.url(),
        "http://127.0.0.1:9/".to_string(),
        "http://localhost/".to_string(),
        "http://[::1]:8080/hooks".to_string(),
        "http://[::ffff:7f00:1]/".to_string(),
        "http://192.168.0.10/".to_string(),
    ] {
        let refused = check_url(&url, false).await.expect_err("refused");
        assert!(
            matches!(refused, UrlRefused::NotPublic { .. }),
            "{url}: {refused:?}"
        );
        assert!(
            refused
                .to_string()
                .starts_with("This address is on a private network"),
            "{refused}"
        );
        let allowed = check_url(&url, true).await.expect("allowed");
        assert_eq!(allowed.host_str().map(|h| !h.is_empty()), Some(true));
    }
    let refused = check_url("ftp://93.184.216.34/", false)
        .await
        .expect_err("scheme");
    assert!(refused
        .to_string()
        .contains("Use an address starting with https:// or http://"));
}

#[tokio::test]
async fn public_literal_addresses_pass() {
    for url in [
        "http://93.184.216.34/",
        "https://93.184.216.34:8443/hooks/advice-log?team=1",
        "https://[2606:4700:4700::1111]/hook",
    ] {
        let checked = check_url(url, false).await.expect("public");
        assert_eq!(checked.as_str(), url);
    }
}

#[tokio::test]
async fn the_sender_refuses_private_addresses_unless_allowed() {
    let (_dir, key) = log_key();
    let secret = webhook_secret(&key, uuid::Uuid::new_v4());
    let receiver = Receiver::start(&[&secret]);
    let sender = WebhookSender::new(false).expect("sender");
    assert!(!sender.allow_private());
    let port = receiver.address().rsplit(':').next().expect("port");
    // A literal address, and a name the sender's resolver finds private.
    for url in [receiver.url(), format!("http://localhost:{port}/hook")] {
        let error = sender
            .send(&hook(&url, &secret, "msg_private"))
            .await
            .expect_err("refused");
        assert!(
            matches!(&error, WebhookError::Refused(UrlRefused::NotPublic { .. })),
            "{url}: {error:?}"
        );
        assert!(!error.retryable());
    }
    assert!(receiver.attempts().is_empty(), "nothing reached it");
    let allowed = WebhookSender::new(true).expect("sender");
    allowed
        .send(&hook(
            &format!("http://localhost:{port}/hook"),
            &secret,
            "msg_local",
        ))
        .await
        .expect("allowed");
    assert_eq!(receiver.calls().len(), 1);
}

#[tokio::test]
async fn an_unreachable_receiver_is_a_network_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    drop(listener);
    let sender = WebhookSender::new(true).expect("sender");
    let error = sender
        .send(&hook(
            &format!("http://{address}/"),
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_x",
        ))
        .await
        .expect_err("nobody listens");
    assert!(
        matches!(&error, WebhookError::Network(reason) if reason.len() <= 200),
        "{error:?}"
    );
    assert!(error.retryable());
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let receiver = Receiver::start(&["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let target = receiver.url();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut stream, _) = listener.accept().await.expect("accept");
        let mut buffer = [0u8; 4096];
        let _ = stream.read(&mut buffer).await;
        let answer = format!(
            "HTTP/1.1 307 Temporary Redirect\r\nlocation: {target}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        );
        let _ = stream.write_all(answer.as_bytes()).await;
    });
    let sender = WebhookSender::new(true).expect("sender");
    let error = sender
        .send(&hook(
            &format!("http://{address}/"),
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_r",
        ))
        .await
        .expect_err("a redirect is not success");
    assert!(
        matches!(error, WebhookError::Status { status: 307, .. }),
        "{error:?}"
    );
    assert!(
        receiver.attempts().is_empty(),
        "the redirect was not followed"
    );
}
