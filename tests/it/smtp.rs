//! The e-mail channel against a real SMTP server: Python's aiosmtpd, run
//! by `tests/smtp/server.py` as a child process on a free port, writing
//! each message it takes to a folder (`scripts/test` installs aiosmtpd).
//! These tests fail, never skip, when it cannot start.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use advice_log::domain::notification::Kind;
use advice_log::notify::mail::{MailError, Mailer};
use advice_log::notify::message::{Mail, MailItem};
use chrono::{TimeZone, Utc};
use mail_parser::{MessageParser, MimeHeaders};

const SERVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp/server.py");

/// A real SMTP server on 127.0.0.1, for one test. It keeps what it
/// received in a folder of its own, across a stop and a start.
pub struct SmtpServer {
    port: u16,
    folder: tempfile::TempDir,
    child: Option<(Child, ChildStdout)>,
}

impl SmtpServer {
    /// Starts a server on a free port.
    pub fn start() -> SmtpServer {
        let folder = tempfile::tempdir().expect("a folder for received mail");
        let (child, stdout, port) = spawn(0, folder.path());
        SmtpServer {
            port,
            folder,
            child: Some((child, stdout)),
        }
    }

    /// The port it listens on (the same after a restart).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL a mailer sends to.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port())
    }

    /// Kills the server, as if it crashed or was switched off: nothing
    /// listens on its port until [`SmtpServer::restart`].
    pub fn stop(&mut self) {
        if let Some((mut child, _)) = self.child.take() {
            child.kill().expect("kill the SMTP server");
            child.wait().expect("wait for the SMTP server");
        }
    }

    /// Starts it again on the same port and folder.
    pub fn restart(&mut self) {
        self.stop();
        // The port was just freed; give the system a moment if it is slow.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match try_spawn(self.port, self.folder.path()) {
                Ok((child, stdout, port)) => {
                    assert_eq!(port, self.port);
                    self.child = Some((child, stdout));
                    return;
                }
                Err(why) if Instant::now() < deadline => {
                    eprintln!("SMTP server restart: {why}; trying again");
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(why) => panic!("the SMTP server did not start again: {why}"),
            }
        }
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        let mut numbers: Vec<u64> = std::fs::read_dir(self.folder.path())
            .expect("read the mail folder")
            .filter_map(|entry| {
                let name = entry.ok()?.file_name().into_string().ok()?;
                name.strip_suffix(".eml")?.parse().ok()
            })
            .collect();
        numbers.sort_unstable();
        numbers
            .into_iter()
            .map(|n| ReceivedMail::read(&self.folder.path().join(n.to_string())))
            .collect()
    }

    /// Waits until at least `n` messages have arrived, and returns them;
    /// fails the test after `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            assert!(
                Instant::now() < deadline,
                "waited {timeout:?} for {n} mails, {} arrived",
                messages.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        if let Some((mut child, _)) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn spawn(port: u16, folder: &Path) -> (Child, ChildStdout, u16) {
    try_spawn(port, folder).unwrap_or_else(|why| {
        panic!("{SERVER} did not start: {why} (it needs python3 with aiosmtpd; scripts/test installs it)")
    })
}

/// Starts the server and reads its `listening 127.0.0.1:PORT` line.
fn try_spawn(port: u16, folder: &Path) -> Result<(Child, ChildStdout, u16), String> {
    let mut child = Command::new("python3")
        .arg(SERVER)
        .arg(port.to_string())
        .arg(folder)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("python3 could not be run: {e}"))?;
    let Some(stdout) = child.stdout.take() else {
        let _ = child.kill();
        return Err("no stdout".into());
    };
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    let read = reader.read_line(&mut line);
    let port = read.ok().and_then(|_| {
        line.trim()
            .strip_prefix("listening 127.0.0.1:")?
            .parse()
            .ok()
    });
    match port {
        Some(port) => Ok((child, reader.into_inner(), port)),
        None => {
            let _ = child.kill();
            let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
            Err(format!("it said {line:?} and ended with {status}"))
        }
    }
}

/// One message as the server received it.
#[derive(Debug)]
pub struct ReceivedMail {
    /// The envelope sender (`MAIL FROM`).
    pub mail_from: String,
    /// The envelope recipients (`RCPT TO`).
    pub rcpt_tos: Vec<String>,
    /// The message's bytes.
    pub raw: Vec<u8>,
    /// The `To` header's name and address.
    pub to: Option<(String, String)>,
    /// The `Subject`, decoded.
    pub subject: Option<String>,
    /// The `Message-ID`, without angle brackets.
    pub message_id: Option<String>,
    /// The `List-Unsubscribe` header as written.
    pub list_unsubscribe: Option<String>,
    /// The top-level content type, e.g. `multipart/alternative`.
    pub content_type: String,
    /// The `text/plain` part, decoded.
    pub text: Option<String>,
    /// The `text/html` part, decoded.
    pub html: Option<String>,
}

impl ReceivedMail {
    /// Reads `<n>.eml` and `<n>.json` (`base` is the folder and `n`).
    fn read(base: &Path) -> ReceivedMail {
        let eml: PathBuf = base.with_extension("eml");
        let raw = std::fs::read(&eml).expect("read a received mail");
        let envelope: serde_json::Value = serde_json::from_slice(
            &std::fs::read(base.with_extension("json")).expect("read its envelope"),
        )
        .expect("its envelope is JSON");
        let parsed = MessageParser::default()
            .parse(&raw)
            .unwrap_or_else(|| panic!("{} is not a mail", eml.display()));
        let part = |html: bool| {
            let (part, subtype) = if html {
                (parsed.html_part(0), "html")
            } else {
                (parsed.text_part(0), "plain")
            };
            part.filter(|p| p.content_type().and_then(|c| c.subtype()) == Some(subtype))
                .and_then(|p| p.text_contents())
                .map(str::to_owned)
        };
        let content_type = parsed
            .content_type()
            .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or_default()))
            .unwrap_or_default();
        ReceivedMail {
            mail_from: envelope["mail_from"].as_str().unwrap_or_default().into(),
            rcpt_tos: envelope["rcpt_tos"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r.as_str().map(str::to_owned))
                .collect(),
            to: parsed.to().and_then(|a| a.first()).map(|a| {
                (
                    a.name().unwrap_or_default().to_owned(),
                    a.address().unwrap_or_default().to_owned(),
                )
            }),
            subject: parsed.subject().map(str::to_owned),
            message_id: parsed.message_id().map(str::to_owned),
            list_unsubscribe: parsed
                .header_raw("List-Unsubscribe")
                .map(|v| v.trim().to_owned()),
            content_type,
            text: part(false),
            html: part(true),
            raw,
        }
    }
}

const WAIT: Duration = Duration::from_secs(10);

fn mailer(server: &SmtpServer) -> Mailer {
    Mailer::new(
        &server.url(),
        "advice-log <noreply@example.org>",
        chrono_tz::Europe::London,
    )
    .expect("a mailer")
}

fn item(kind: Kind, title: &str, n: u32) -> MailItem {
    MailItem {
        kind,
        title: title.into(),
        link: format!("https://advice.example.org/proposals/{n}"),
        due_at: Some(Utc.with_ymd_and_hms(2026, 12, 1, 14, 0, 0).unwrap()),
        at: Utc.with_ymd_and_hms(2026, 11, 24, 9, 30, 0).unwrap(),
        detail: Some("Asked by Sam Okafor".into()),
    }
}

fn mail(to_email: &str, items: Vec<MailItem>, digest: bool, outbox: u32) -> Mail {
    Mail {
        to_name: "Ada Lovelace".into(),
        to_email: to_email.into(),
        items,
        digest,
        message_id: format!("outbox-{outbox}.advice-log@example.org"),
        preferences_link: "https://advice.example.org/me/notifications".into(),
    }
}

#[tokio::test]
async fn one_notification_arrives_as_one_mail_with_both_parts() {
    let server = SmtpServer::start();
    let mailer = mailer(&server);
    let one = mail(
        "ada@example.org",
        vec![item(Kind::AdviceRequested, "New rota <b>&", 7)],
        false,
        17,
    );
    mailer.send(&one).await.expect("sent");

    let received = server.wait_for(1, WAIT).await;
    assert_eq!(received.len(), 1);
    let got = &received[0];
    assert_eq!(got.mail_from, "noreply@example.org");
    assert_eq!(got.rcpt_tos, ["ada@example.org"]);
    assert_eq!(
        got.to,
        Some(("Ada Lovelace".into(), "ada@example.org".into()))
    );
    assert_eq!(
        got.subject.as_deref(),
        Some("Your advice is asked: New rota <b>&")
    );
    assert_eq!(
        got.message_id.as_deref(),
        Some("outbox-17.advice-log@example.org")
    );
    assert_eq!(
        got.list_unsubscribe.as_deref(),
        Some("<https://advice.example.org/me/notifications>")
    );
    assert_eq!(got.content_type, "multipart/alternative");
    let text = got.text.as_deref().expect("a text/plain part");
    let html = got.html.as_deref().expect("a text/html part");
    for part in [text, html] {
        assert!(
            part.contains("https://advice.example.org/proposals/7"),
            "{part}"
        );
        assert!(part.contains("Tuesday 1 December 2026 at 14:00 (GMT)"));
        assert!(part.contains("https://advice.example.org/me/notifications"));
    }
    assert!(text.contains("“New rota <b>&”"), "{text}");
    assert!(html.contains("New rota &#60;b&#62;&#38;"), "{html}");
    assert!(String::from_utf8_lossy(&got.raw).contains("Auto-Submitted: auto-generated"));
}

#[tokio::test]
async fn a_digest_of_several_items_arrives_as_one_mail() {
    let server = SmtpServer::start();
    let mailer = mailer(&server);
    let digest = mail(
        "ada@example.org",
        vec![
            item(Kind::AdviceDueSoon, "New rota", 1),
            item(Kind::AmendedAfterObjection, "Van hire", 2),
            item(Kind::ReviewDue, "Petty cash", 3),
            item(Kind::Decided, "Uniforms", 4),
        ],
        true,
        18,
    );
    mailer.send(&digest).await.expect("sent");

    let received = server.wait_for(1, WAIT).await;
    // Give a second mail (there must not be one) time to show up.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let received_later = server.messages();
    assert_eq!(received.len(), 1);
    assert_eq!(received_later.len(), 1);
    let got = &received[0];
    assert_eq!(
        got.subject.as_deref(),
        Some("Your advice-log digest: 4 things")
    );
    let text = got.text.as_deref().expect("a text/plain part");
    let html = got.html.as_deref().expect("a text/html part");
    for part in [text, html] {
        for n in 1..=4 {
            let link = format!("https://advice.example.org/proposals/{n}");
            assert!(part.contains(&link), "{link} in {part}");
        }
        assert!(part.contains("Amended after your objection: Van hire"));
    }
}

#[tokio::test]
async fn a_stopped_server_is_a_transient_error_and_the_same_mail_sends_after_it_restarts() {
    let mut server = SmtpServer::start();
    let port = server.port();
    let mailer = mailer(&server);
    // One mail first, so the mailer holds a connection that the stop breaks.
    let first = mail(
        "ada@example.org",
        vec![item(Kind::Decided, "Uniforms", 4)],
        false,
        20,
    );
    mailer.send(&first).await.expect("sent");
    server.wait_for(1, WAIT).await;

    server.stop();
    let retried = mail(
        "ada@example.org",
        vec![item(Kind::ObjectionRaised, "Van hire", 2)],
        false,
        21,
    );
    let error = mailer
        .send(&retried)
        .await
        .expect_err("no server: not sent");
    assert!(matches!(error, MailError::Send(_)), "{error}");
    assert!(!error.is_permanent(), "{error}");
    eprintln!("with the server stopped: {error}");

    server.restart();
    assert_eq!(server.port(), port);
    mailer.send(&retried).await.expect("sent after the restart");
    let received = server.wait_for(2, WAIT).await;
    assert_eq!(received.len(), 2, "nothing lost, nothing repeated");
    assert_eq!(
        received[1].message_id.as_deref(),
        Some("outbox-21.advice-log@example.org")
    );
    assert_eq!(
        received[1].subject.as_deref(),
        Some("Objection raised to your proposal: Van hire")
    );
}

#[tokio::test]
async fn a_refused_recipient_is_permanent_and_a_busy_one_or_a_sign_in_wanted_transient() {
    let server = SmtpServer::start();
    let mailer = mailer(&server);
    let item = || vec![item(Kind::AdviceRequested, "New rota", 7)];

    // The test server answers 550 for `rejected...` and 451 for `busy...`.
    let refused = mailer
        .send(&mail("rejected@example.org", item(), false, 30))
        .await
        .expect_err("refused");
    assert!(refused.is_permanent(), "{refused}");
    let busy = mailer
        .send(&mail("busy@example.org", item(), false, 31))
        .await
        .expect_err("busy");
    assert!(!busy.is_permanent(), "{busy}");
    // A server that wants a sign-in (530) is set up wrongly, not refusing
    // this mail for good: once the operator fixes it, the mail goes.
    let unsigned = Mailer::new(
        &server.url(),
        "unauthorised@example.org",
        chrono_tz::Europe::London,
    )
    .expect("a mailer")
    .send(&mail("ada@example.org", item(), false, 33))
    .await
    .expect_err("not signed in");
    assert!(!unsigned.is_permanent(), "{unsigned}");

    // The connection is still good for the next mail.
    mailer
        .send(&mail("ada@example.org", item(), false, 32))
        .await
        .expect("sent");
    let received = server.wait_for(1, WAIT).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].rcpt_tos, ["ada@example.org"]);
}
