//! Notifications end to end: the real server, a real SMTP server (aiosmtpd)
//! and a real webhook receiver that checks signatures with the Standard
//! Webhooks reference library. Who is told what, the daily digest, retries
//! while a receiver fails, and nothing lost while the mail server is down.

use std::collections::BTreeMap;
use std::time::Duration;

use advice_log::app::Clock;
use advice_log::domain::notification::Frequency;
use advice_log::domain::webhook::Scope;
use advice_log::domain::{PersonId, TeamId};
use advice_log::notify::{Notifications, Settings};
use advice_log::outbox::Status;
use chrono::{Duration as Days, NaiveTime};
use serde_json::json;

use crate::on_both_backends;
use crate::proposals::{station, Station};
use crate::smtp::{ReceivedMail, SmtpServer};
use crate::support::{as_admin, as_person, TestDb};
use crate::webhook_receiver::{Receiver, ReceiverOptions};

/// Starts notifications for the station's server, e-mailing through `smtp`,
/// with short retries.
fn notify(s: &Station, smtp: &SmtpServer) -> Notifications {
    notify_with(s, smtp, |_| {})
}

/// [`notify`], with settings changed by `change`.
fn notify_with(
    s: &Station,
    smtp: &SmtpServer,
    change: impl FnOnce(&mut Settings),
) -> Notifications {
    let mut settings = Settings::new(&s.app.base, chrono_tz::Europe::London);
    settings.smtp_url = Some(smtp.url());
    settings.mail_from = "advice-log <advice-log@example.org>".into();
    settings.webhook_allow_private = true;
    settings.tick = Duration::from_millis(100);
    settings.retry_after = Duration::from_millis(200);
    settings.retry_max = Duration::from_secs(2);
    settings.digest_at = NaiveTime::from_hms_opt(7, 0, 0).expect("07:00");
    change(&mut settings);
    Notifications::start(s.app.app.clone(), settings).expect("start notifications")
}

/// The mails by the address they went to.
fn by_recipient(mails: &[ReceivedMail]) -> BTreeMap<String, Vec<&ReceivedMail>> {
    let mut found: BTreeMap<String, Vec<&ReceivedMail>> = BTreeMap::new();
    for mail in mails {
        for to in &mail.rcpt_tos {
            found.entry(to.clone()).or_default().push(mail);
        }
    }
    found
}

/// The station's clock is the test's: lets it run (a second every tenth
/// of a second) so that retries come due. Stops when dropped.
fn let_time_pass(s: &Station) -> tokio::task::JoinHandle<()> {
    let clock = s.clock.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            clock.advance(Days::seconds(1));
        }
    })
}

/// Raises a proposal of Ann's and asks the team for advice.
async fn raise_and_ask_the_team(s: &Station, title: &str) -> String {
    let id = s.raise("ADVICE", json!({ "title": title })).await;
    s.ok(
        &s.ann,
        "requestAdvice",
        "RequestAdviceInput",
        json!({"proposalId": id, "teamId": s.team, "reason": "AFFECTED"}),
    )
    .await;
    id
}

on_both_backends! {
    async fn a_request_to_a_team_mails_each_of_its_people_once_with_the_link(backend: Backend) {
        let db = TestDb::new(backend).await;
        let s = station(&db).await;
        let smtp = SmtpServer::start();
        let _notifications = notify(&s, &smtp);
        let id = raise_and_ask_the_team(&s, "Winter nights rota").await;
        // Bob, Cat, Dee and the coach: everyone in the team but Ann, who asked.
        smtp.wait_for(4, Duration::from_secs(20)).await;
        // Time for a mail too many to arrive, if one were sent.
        tokio::time::sleep(Duration::from_millis(800)).await;
        let mails = smtp.messages();
        let got = by_recipient(&mails);
        let expected = ["bob@example.org", "cat@example.org", "coach@example.org", "dee@example.org"];
        assert_eq!(got.keys().map(String::as_str).collect::<Vec<_>>(), expected, "{mails:#?}");
        let link = format!("{}/proposals/{id}", s.app.base);
        for (to, mails) in got {
            assert_eq!(mails.len(), 1, "{to} got one mail");
            let mail = mails[0];
            let subject = mail.subject.clone().unwrap_or_default();
            assert!(subject.contains("Winter nights rota"), "{subject}");
            let text = mail.text.clone().unwrap_or_default();
            let html = mail.html.clone().unwrap_or_default();
            assert!(text.contains(&link), "the text part links to the proposal: {text}");
            assert!(html.contains(&link), "the HTML part links to the proposal");
            assert_eq!(
                mail.list_unsubscribe.as_deref(),
                Some(format!("<{}/preferences>", s.app.base).as_str())
            );
        }
        // Every row is recorded as sent (the reminders wait for their day).
        let rows = s.app.app.outbox.list(None, None, 100).await.expect("the outbox");
        let sent: Vec<_> = rows.iter().filter(|r| r.status == Status::Sent).collect();
        assert_eq!(sent.len(), 4, "{rows:#?}");
        assert!(rows
            .iter()
            .filter(|r| r.status != Status::Sent)
            .all(|r| r.planned.kind == "ADVICE_DUE_SOON" && r.status == Status::Pending));
    }
}

on_both_backends! {
    async fn a_daily_digest_gathers_the_days_notifications_into_one_mail(backend: Backend) {
        let db = TestDb::new(backend).await;
        let s = station(&db).await;
        let bob = PersonId::parse(&s.bob.id).expect("id");
        s.app
            .app
            .set_notification_preference(&as_person(bob), Frequency::Daily)
            .await
            .expect("Bob chooses a daily digest");
        let smtp = SmtpServer::start();
        let _notifications = notify(&s, &smtp);
        let first = raise_and_ask_the_team(&s, "Winter nights rota").await;
        let second = raise_and_ask_the_team(&s, "Kit check on Mondays").await;
        // The others hear at once, twice each; Bob not yet.
        let mails = smtp.wait_for(6, Duration::from_secs(20)).await;
        assert!(!by_recipient(&mails).contains_key("bob@example.org"));
        // The next 07:00 in London comes (less than a day on, so no
        // reminder is due yet: the deadlines are a week away).
        let now = s.clock.now();
        let seven = advice_log::notify::schedule::next_digest(
            now,
            chrono_tz::Europe::London,
            NaiveTime::from_hms_opt(7, 0, 0).expect("07:00"),
        );
        s.clock.advance(seven - now + Days::seconds(1));
        smtp.wait_for(7, Duration::from_secs(20)).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mails = smtp.messages();
        let got = by_recipient(&mails);
        let bobs = got.get("bob@example.org").expect("Bob's digest");
        assert_eq!(bobs.len(), 1, "one digest: {mails:#?}");
        let text = bobs[0].text.clone().unwrap_or_default();
        for id in [&first, &second] {
            assert!(text.contains(&format!("{}/proposals/{id}", s.app.base)), "{text}");
        }
        assert!(bobs[0].subject.clone().unwrap_or_default().contains("digest"));
    }
}

/// Registers a webhook for the station's team and lets the receiver check
/// its signatures.
async fn team_webhook(s: &Station, receiver: &Receiver) {
    let meta = as_admin(&s.app.app);
    let team = TeamId::parse(&s.team).expect("team id");
    let outcome = s
        .app
        .app
        .register_webhook(&meta, &receiver.url(), Scope::Team(team))
        .await
        .expect("the admin registers a webhook");
    let key = &s.app.app.assurance.as_ref().expect("a signing key").key;
    receiver.add_secret(&advice_log::notify::webhook::webhook_secret(
        key,
        outcome.subject,
    ));
}

on_both_backends! {
    async fn a_team_webhook_gets_signed_events_after_three_failures(backend: Backend) {
        let db = TestDb::new(backend).await;
        let s = station(&db).await;
        let smtp = SmtpServer::start();
        let receiver = Receiver::start_with(ReceiverOptions {
            fail_first: 3,
            ..Default::default()
        });
        team_webhook(&s, &receiver).await;
        let _notifications = notify(&s, &smtp);
        let id = raise_and_ask_the_team(&s, "Winter nights rota").await;
        let ticking = let_time_pass(&s);
        // ProposalRaised and AdviceRequested, each verified by the reference
        // library, after the receiver refused the first three tries.
        let calls = receiver.wait_for(2, Duration::from_secs(30)).await;
        assert!(calls.iter().all(|c| c.verified), "{}", receiver.log());
        let types: Vec<_> = calls.iter().map(|c| c.body["type"].as_str().unwrap_or_default().to_string()).collect();
        assert!(types.contains(&"ProposalRaised".to_string()), "{types:?}");
        assert!(types.contains(&"AdviceRequested".to_string()), "{types:?}");
        for call in &calls {
            assert_eq!(call.body["data"]["proposal"]["id"], id.as_str());
            assert_eq!(call.body["data"]["proposal"]["title"], "Winter nights rota");
            assert_eq!(
                call.body["data"]["proposal"]["link"],
                format!("{}/proposals/{id}", s.app.base)
            );
        }
        let failed = receiver.attempts().iter().filter(|a| a.status == 503).count();
        assert_eq!(failed, 3, "{}", receiver.log());
        // A retry carries the same webhook-id.
        let ids: std::collections::BTreeSet<_> = receiver.attempts().iter().filter_map(|a| a.id.clone()).collect();
        assert_eq!(ids.len(), 2, "{}", receiver.log());
        ticking.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nothing_is_lost_while_the_mail_server_is_stopped_for_a_minute() {
    let db = TestDb::new(advice_log::store::Backend::Sqlite).await;
    let s = station(&db).await;
    let mut smtp = SmtpServer::start();
    smtp.stop();
    let _notifications = notify(&s, &smtp);
    let ticking = let_time_pass(&s);
    let id = raise_and_ask_the_team(&s, "Winter nights rota").await;
    tokio::time::sleep(Duration::from_secs(60)).await;
    let rows = s
        .app
        .app
        .outbox
        .list(None, None, 100)
        .await
        .expect("the outbox");
    let waiting: Vec<_> = rows
        .iter()
        .filter(|r| r.planned.kind == "ADVICE_REQUESTED")
        .collect();
    assert_eq!(waiting.len(), 4);
    assert!(
        waiting
            .iter()
            .all(|r| r.status == Status::Pending && r.attempts > 1 && r.last_error.is_some()),
        "{waiting:#?}"
    );
    smtp.restart();
    let mails = smtp.wait_for(4, Duration::from_secs(30)).await;
    let got = by_recipient(&mails);
    assert_eq!(got.len(), 4, "{mails:#?}");
    let link = format!("{}/proposals/{id}", s.app.base);
    assert!(mails
        .iter()
        .all(|m| m.text.clone().unwrap_or_default().contains(&link)));
    ticking.abort();
}

on_both_backends! {
    async fn every_kind_reaches_the_right_people_with_a_link_that_works(backend: Backend) {
        let db = TestDb::new(backend).await;
        let s = station(&db).await;
        let smtp = SmtpServer::start();
        let _notifications = notify(&s, &smtp);
        let review_by = s.clock.now() + Days::days(30);
        let id = s.raise("CONSENT", json!({ "title": "Friday nights", "reviewBy": review_by.to_rfc3339() })).await;
        let ask = |person: Option<&str>, team: Option<&str>| json!({"proposalId": id, "personId": person, "teamId": team, "reason": "AFFECTED"});
        s.ok(&s.ann, "requestAdvice", "RequestAdviceInput", ask(Some(&s.expert.id), None)).await;
        s.ok(&s.ann, "requestAdvice", "RequestAdviceInput", ask(None, Some(&s.nursing))).await;
        let objection = s.ok(&s.bob, "raiseObjection", "RaiseObjectionInput", json!({"proposalId": id, "reason": "Saturday mornings would be short."})).await["createdId"].clone();
        s.ok(&s.ann, "amendProposal", "AmendProposalInput", json!({"proposalId": id, "body": "Nights on Fridays; Saturdays keep two crews.", "reason": "Meets Bob's objection."})).await;
        s.ok(&s.bob, "resolveObjection", "ResolveObjectionInput", json!({"proposalId": id, "objectionId": objection, "resolution": "INTEGRATED", "note": "Met."})).await;
        for who in [&s.expert, &s.nurse] {
            s.ok(who, "giveAdvice", "GiveAdviceInput", json!({"proposalId": id, "stance": "SUPPORT", "text": "Fine by me."})).await;
        }
        for who in [&s.ann, &s.cat, &s.dee] {
            s.ok(who, "castVote", "CastVoteInput", json!({"proposalId": id, "agree": true})).await;
        }
        s.ok(&s.ann, "decide", "DecideInput", json!({"proposalId": id, "outcome": "ADOPTED", "rationale": "No objection stands.",
            "notes": [{"refId": objection, "note": "Integrated by the amendment."}]})).await;
        // The review date comes.
        s.clock.advance(Days::days(30) + Days::seconds(1));
        let expected: &[(&str, &[&str])] = &[
            ("Your advice is asked", &["expert@example.org", "nurse@example.org"]),
            ("Objection raised to your proposal", &["ann@example.org"]),
            ("Amended after your objection", &["bob@example.org"]),
            ("Decided", &["bob@example.org", "cat@example.org", "dee@example.org", "expert@example.org", "nurse@example.org"]),
            ("Due for review", &["ann@example.org", "bob@example.org", "cat@example.org", "dee@example.org"]),
        ];
        let total: usize = expected.iter().map(|(_, to)| to.len()).sum();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while smtp.messages().len() < total && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(800)).await;
        let mails = smtp.messages();
        let link = format!("{}/proposals/{id}", s.app.base);
        for (subject, people) in expected {
            let mut to: Vec<String> = mails
                .iter()
                .filter(|m| m.subject.as_deref().is_some_and(|t| t.starts_with(&format!("{subject}: "))))
                .flat_map(|m| m.rcpt_tos.clone())
                .collect();
            to.sort();
            let rows = s.app.app.outbox.list(None, None, 100).await.expect("the outbox");
            assert_eq!(to, *people, "{subject}: {rows:#?}");
        }
        assert_eq!(mails.len(), total, "nothing else: {mails:#?}");
        assert!(mails.iter().all(|m| m.text.clone().unwrap_or_default().contains(&link)));
        // The link opens the proposal (after signing in, for a visitor
        // who is not).
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let opened = client.get(&link).send().await.expect("the link answers");
        let status = opened.status().as_u16();
        let location = opened
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(
            status == 200 || (status == 303 && location.contains("/sign-in")),
            "{status} {location}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_webhook_failing_for_a_day_is_disabled_and_the_admins_are_told() {
    let db = TestDb::new(advice_log::store::Backend::Sqlite).await;
    let s = station(&db).await;
    let smtp = SmtpServer::start();
    // A receiver that refuses every call.
    let receiver = Receiver::start_with(ReceiverOptions {
        fail_first: u32::MAX,
        ..Default::default()
    });
    team_webhook(&s, &receiver).await;
    let _notifications = notify_with(&s, &smtp, |settings| {
        settings.retry_after = Duration::from_secs(60);
        settings.retry_max = Duration::from_secs(3600);
    });
    let id = s
        .raise("ADVICE", json!({ "title": "Winter nights rota" }))
        .await;
    // A day and an hour pass, an hour a tenth of a second.
    for _ in 0..25 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        s.clock.advance(Days::hours(1));
    }
    let disabled = loop {
        let disabled = s
            .app
            .app
            .outbox
            .disabled_webhooks()
            .await
            .expect("disabled webhooks");
        if !disabled.is_empty() {
            break disabled;
        }
        assert!(receiver.attempts().len() < 100, "{}", receiver.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
        s.clock.advance(Days::hours(1));
    };
    assert_eq!(disabled.len(), 1);
    assert!(
        disabled[0].reason.contains("a day"),
        "{}",
        disabled[0].reason
    );
    // The row is recorded as failed, with its tries; the admin is told.
    let rows = s
        .app
        .app
        .outbox
        .list(None, None, 100)
        .await
        .expect("the outbox");
    let hook_row = rows
        .iter()
        .find(|r| {
            r.planned.proposal.map(|p| p.0.to_string()) == Some(id.clone())
                && r.planned.kind == "ProposalRaised"
        })
        .expect("the webhook's row");
    assert_eq!(hook_row.status, Status::Failed, "{hook_row:#?}");
    assert!(hook_row.attempts > 3, "{hook_row:#?}");
    let told = smtp.wait_for(1, Duration::from_secs(20)).await;
    let mail = told
        .iter()
        .find(|m| {
            m.subject
                .as_deref()
                .is_some_and(|t| t.starts_with("Webhook disabled"))
        })
        .expect("the admin's mail");
    assert_eq!(mail.rcpt_tos, vec!["ada@example.org".to_string()]);
    assert!(mail
        .text
        .clone()
        .unwrap_or_default()
        .contains(&format!("{}/admin/webhooks", s.app.base)));
}
