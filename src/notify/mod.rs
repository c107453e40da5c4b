//! Notifications: a notifier follows the log and writes an outbox (one row
//! per event, recipient and kind); a delivery worker sends what is due by
//! e-mail or webhook, at least once, with retries and backoff. Only the
//! leading server notifies and delivers; reminders are rows due later, so
//! they survive a restart.

pub mod mail;
pub mod message;
pub mod notifier;
pub mod registration;
pub mod schedule;
pub mod webhook;
pub mod worker;

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveTime;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::app::App;
use crate::store::StoreError;
use notifier::Notifier;
use worker::Worker;

/// The sender of every e-mail unless `--mail-from` says otherwise.
pub const DEFAULT_MAIL_FROM: &str = "advice-log <advice-log@localhost>";

/// How notifications are sent.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The service's public address, without a trailing slash: every link
    /// in a message starts with it.
    pub public_url: String,
    /// The mail server (`smtp://`, `smtp://...?tls=required`, `smtps://`);
    /// without one, e-mails are recorded as not sent.
    pub smtp_url: Option<String>,
    /// The sender of every e-mail.
    pub mail_from: String,
    /// The organisation's time zone (the digest's hour, times in messages).
    pub time_zone: chrono_tz::Tz,
    /// The local time of the daily digest.
    pub digest_at: NaiveTime,
    /// Whether webhooks may call private or loopback addresses.
    pub webhook_allow_private: bool,
    /// The pause before the first retry; it doubles with each failed try.
    pub retry_after: Duration,
    /// The longest pause between two tries.
    pub retry_max: Duration,
    /// How long a row is retried before it is given up (and a webhook
    /// disabled).
    pub give_up_after: Duration,
    /// How often the worker looks for rows whose time has come.
    pub tick: Duration,
}

impl Settings {
    /// Settings for a service at `public_url`, with the usual timings: a
    /// retry after 30 s, doubling up to an hour, given up after a day; the
    /// digest at 07:00.
    pub fn new(public_url: &str, time_zone: chrono_tz::Tz) -> Self {
        Settings {
            public_url: public_url.trim_end_matches('/').to_string(),
            smtp_url: None,
            mail_from: DEFAULT_MAIL_FROM.into(),
            time_zone,
            digest_at: NaiveTime::from_hms_opt(7, 0, 0).unwrap_or_default(),
            webhook_allow_private: false,
            retry_after: Duration::from_secs(30),
            retry_max: Duration::from_secs(3600),
            give_up_after: Duration::from_secs(24 * 3600),
            tick: Duration::from_secs(1),
        }
    }

    /// The domain of the `Message-ID`s: the public address's host.
    pub fn message_domain(&self) -> String {
        let rest = self
            .public_url
            .split_once("://")
            .map_or(self.public_url.as_str(), |(_, rest)| rest);
        let host = rest.split(['/', ':', '?']).next().unwrap_or_default();
        if host.is_empty() {
            "advice-log.localhost".into()
        } else {
            host.to_string()
        }
    }
}

/// Why notifications cannot start.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The mail settings are wrong.
    #[error("e-mail: {0}")]
    Mail(#[from] mail::MailError),
    /// The webhook client cannot be built.
    #[error("webhooks: {0}")]
    Webhook(#[from] webhook::WebhookError),
}

/// The running notifier and worker; both stop when this is dropped.
pub struct Notifications {
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Notifications {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// The longest pause after a failure of the notifier.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long the notifier waits for news before looking anyway.
const RECHECK: Duration = Duration::from_secs(1);

impl Notifications {
    /// Starts planning and delivering for `app`.
    pub fn start(app: Arc<App>, settings: Settings) -> Result<Self, NotifyError> {
        let mailer = match &settings.smtp_url {
            Some(url) => Some(mail::Mailer::new(
                url,
                &settings.mail_from,
                settings.time_zone,
            )?),
            None => None,
        };
        let hooks = webhook::WebhookSender::new(settings.webhook_allow_private)?;
        let settings = Arc::new(settings);
        let wake = Arc::new(Notify::new());
        let notifier = Notifier::new(app.clone(), settings.clone());
        let worker = Worker::new(app.clone(), settings.clone(), mailer, hooks);
        Ok(Notifications {
            tasks: vec![
                tokio::spawn(plan_forever(app.clone(), notifier, wake.clone())),
                tokio::spawn(deliver_forever(app, worker, settings, wake)),
            ],
        })
    }
}

/// Whether the store has closed (the server is stopping).
fn closed(error: &StoreError) -> bool {
    matches!(error, StoreError::Closed)
        || matches!(error, StoreError::Database(e) if matches!(**e, sqlx::Error::PoolClosed))
}

/// Plans each new event while this server leads.
async fn plan_forever(app: Arc<App>, notifier: Notifier, wake: Arc<Notify>) {
    let leadership = app.store.leadership();
    let mut lead = leadership.subscribe();
    let mut backoff = Duration::from_millis(200);
    loop {
        if !leadership.is_leader() {
            let _ = tokio::time::timeout(RECHECK, lead.changed()).await;
            continue;
        }
        match notifier.catch_up().await {
            Ok((planned, reached)) => {
                backoff = Duration::from_millis(200);
                if planned > 0 {
                    wake.notify_one();
                }
                let _ = tokio::time::timeout(RECHECK, app.feed.wait_past(reached)).await;
            }
            Err(StoreError::ReadModelsMoved { .. }) => tokio::task::yield_now().await,
            Err(error) if closed(&error) => return,
            Err(error) => {
                tracing::error!(%error, "the notifier cannot plan the log's notifications; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Delivers what is due while this server leads.
async fn deliver_forever(
    app: Arc<App>,
    worker: Worker,
    settings: Arc<Settings>,
    wake: Arc<Notify>,
) {
    let leadership = app.store.leadership();
    loop {
        if leadership.is_leader() {
            match worker.deliver_due().await {
                Ok(_) => {}
                Err(error) if closed(&error) => return,
                Err(error) => {
                    tracing::error!(%error, "the delivery worker cannot read the outbox; retrying")
                }
            }
        }
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(settings.tick) => {}
        }
    }
}
