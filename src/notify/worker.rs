//! The delivery worker: sends what is due in the outbox, at least once. A
//! failed try is retried after a pause that doubles each time; after
//! [`Settings::give_up_after`] of failures the row is given up (and a
//! webhook disabled, its admins told). Reminders are checked again when due
//! and cancelled if they no longer apply. Only the leading server delivers.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::mail::Mailer;
use super::message::{Hook, Mail, MailItem};
use super::schedule::backoff;
use super::webhook::{webhook_secret, WebhookSender};
use super::Settings;
use crate::app::App;
use crate::domain::notification::{still_applies, Frequency, Kind};
use crate::domain::proposal::ProposalState;
use crate::domain::{OrgRole, PersonId, WebhookId};
use crate::outbox::{Channel, Finish, NewNotification, Notification};
use crate::store::StoreError;

/// How many due rows one round takes.
const ROUND: u32 = 200;

/// How one delivery ended.
enum Tried {
    /// Delivered, or cancelled or given up for good.
    Done(Finish),
    /// Failed for now.
    Again(String),
}

/// Sends what is due.
pub struct Worker {
    app: Arc<App>,
    settings: Arc<Settings>,
    mailer: Option<Mailer>,
    hooks: WebhookSender,
}

impl Worker {
    /// A worker for `app`'s outbox, with its channels.
    pub fn new(
        app: Arc<App>,
        settings: Arc<Settings>,
        mailer: Option<Mailer>,
        hooks: WebhookSender,
    ) -> Self {
        Worker {
            app,
            settings,
            mailer,
            hooks,
        }
    }

    /// Sends every row due now, in rounds; answers how many rows it handled.
    pub async fn deliver_due(&self) -> Result<usize, StoreError> {
        let mut handled = 0;
        loop {
            let now = self.app.clock.now();
            let due = self.app.outbox.due(now, ROUND).await?;
            if due.is_empty() {
                return Ok(handled);
            }
            handled += due.len();
            // Read once a round, not once a call.
            let disabled: HashSet<WebhookId> = self
                .app
                .outbox
                .disabled_webhooks()
                .await?
                .into_iter()
                .map(|d| d.webhook)
                .collect();
            let (mut digests, mut single) = (BTreeMap::new(), Vec::new());
            for row in due {
                if row.planned.channel == Channel::Email && row.planned.digest {
                    digests
                        .entry(row.planned.recipient)
                        .or_insert_with(Vec::new)
                        .push(row);
                } else {
                    single.push(vec![row]);
                }
            }
            for rows in single.into_iter().chain(digests.into_values()) {
                let tried = self.deliver(&rows, &disabled, now).await;
                self.record(&rows, tried, now).await?;
            }
            if handled >= ROUND as usize * 50 {
                // Let the loop breathe; the rest comes next round.
                return Ok(handled);
            }
        }
    }

    /// Tries to deliver rows that go together (one row, or a digest).
    async fn deliver(
        &self,
        rows: &[Notification],
        disabled: &HashSet<WebhookId>,
        now: DateTime<Utc>,
    ) -> Tried {
        let Some(first) = rows.first() else {
            return Tried::Done(Finish::Sent);
        };
        match first.planned.channel {
            Channel::Email => self.deliver_mail(rows, now).await,
            Channel::Webhook => self.deliver_hook(first, disabled, now).await,
        }
    }

    async fn deliver_mail(&self, rows: &[Notification], now: DateTime<Utc>) -> Tried {
        let cancel = |why: &str| Tried::Done(Finish::Cancelled(why.to_string()));
        let Some(mailer) = &self.mailer else {
            return cancel("no mail server is configured (--smtp-url)");
        };
        let Some(first) = rows.first() else {
            return Tried::Done(Finish::Sent);
        };
        let person = PersonId(first.planned.recipient);
        let (name, email, frequency, teams) = {
            let directory = self.app.read.directory();
            let Some(found) = directory.person(person) else {
                return cancel("the person is no longer registered");
            };
            let teams: Vec<_> = directory.teams_of(person).iter().map(|t| t.id).collect();
            (
                found.name.clone(),
                found.email.clone(),
                found.frequency,
                teams,
            )
        };
        if frequency == Frequency::Off {
            return cancel("the person chose no e-mails");
        }
        let mut items = Vec::new();
        for row in rows {
            let Ok(kind) = row.planned.kind.parse::<Kind>() else {
                return Tried::Done(Finish::Failed(format!("unknown kind {}", row.planned.kind)));
            };
            let detail = &row.planned.detail;
            let act_by = detail
                .get("act_by")
                .and_then(|v| serde_json::from_value::<DateTime<Utc>>(v.clone()).ok());
            if matches!(kind, Kind::AdviceDueSoon | Kind::ReviewDue) {
                match self
                    .reminder_applies(row, kind, person, &teams, act_by, now)
                    .await
                {
                    // A reminder is never part of a digest: it is its
                    // own mail, cancelled whole.
                    Ok(true) => {}
                    Ok(false) => {
                        return cancel("the reminder no longer applies (answered, moved or done)")
                    }
                    Err(error) => return Tried::Again(error.to_string()),
                }
            }
            items.push(MailItem {
                kind,
                title: text(detail, "title"),
                link: self.link(row),
                due_at: act_by,
                at: detail
                    .get("at")
                    .and_then(|v| serde_json::from_value(v.clone()).ok())
                    .unwrap_or(row.planned.created_at),
                detail: detail
                    .get("note")
                    .and_then(|v| v.as_str())
                    .map(str::to_string),
            });
        }
        let mail = Mail {
            to_name: name,
            to_email: email,
            digest: first.planned.digest,
            items,
            message_id: format!("outbox-{}.{}", first.id, self.settings.message_domain()),
            preferences_link: format!("{}/preferences", self.settings.public_url),
        };
        match mailer.send(&mail).await {
            Ok(()) => Tried::Done(Finish::Sent),
            Err(error) if error.is_permanent() => Tried::Done(Finish::Failed(error.to_string())),
            Err(error) => Tried::Again(error.to_string()),
        }
    }

    /// Whether a reminder still applies to the proposal as it stands now.
    async fn reminder_applies(
        &self,
        row: &Notification,
        kind: Kind,
        person: PersonId,
        teams: &[crate::domain::TeamId],
        act_by: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<bool, crate::app::AppError> {
        let Some(proposal) = row.planned.proposal else {
            return Ok(false);
        };
        let (state, _) = self
            .app
            .load_folded::<ProposalState>(
                &proposal.stream(),
                Arc::new(crate::stored::proposal_step),
            )
            .await?;
        Ok(still_applies(kind, &state, person, teams, act_by, now))
    }

    async fn deliver_hook(
        &self,
        row: &Notification,
        disabled: &HashSet<WebhookId>,
        now: DateTime<Utc>,
    ) -> Tried {
        let id = WebhookId(row.planned.recipient);
        let url = {
            let directory = self.app.read.directory();
            match directory.webhook(id) {
                Some(hook) if !hook.deleted => hook.url.clone(),
                Some(_) => return Tried::Done(Finish::Cancelled("the webhook was deleted".into())),
                None => return Tried::Done(Finish::Cancelled("no such webhook".into())),
            }
        };
        if disabled.contains(&id) {
            return Tried::Done(Finish::Cancelled("the webhook is disabled".into()));
        }
        let Some(assurance) = &self.app.assurance else {
            return Tried::Done(Finish::Failed(
                "the server has no signing key to sign webhooks with".into(),
            ));
        };
        let hook = Hook {
            message_id: format!("msg_{}", row.id),
            url,
            secret: webhook_secret(&assurance.key, id.0),
            timestamp: now,
            body: row.planned.detail.clone(),
        };
        match self.hooks.send(&hook).await {
            Ok(()) => Tried::Done(Finish::Sent),
            Err(error) => Tried::Again(error.to_string()),
        }
    }

    /// Stores how the try ended: a retry after a pause, or, once the rows
    /// have failed for [`Settings::give_up_after`], a final failure.
    async fn record(
        &self,
        rows: &[Notification],
        tried: Tried,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let Some(first) = rows.first() else {
            return Ok(());
        };
        match tried {
            Tried::Done(how) => {
                if let Finish::Failed(error) = &how {
                    tracing::warn!(notification = first.id, %error, "a notification could not be delivered");
                }
                self.app.outbox.finish(&ids, &how, now).await
            }
            Tried::Again(error) => {
                let started = first.first_attempt_at.unwrap_or(now);
                let give_up = chrono::Duration::from_std(self.settings.give_up_after)
                    .unwrap_or(chrono::Duration::days(1));
                if now - started >= give_up {
                    let error = format!("gave up after {} tries: {error}", first.attempts + 1);
                    tracing::warn!(notification = first.id, %error, "a notification could not be delivered");
                    self.app
                        .outbox
                        .finish(&ids, &Finish::Failed(error.clone()), now)
                        .await?;
                    if first.planned.channel == Channel::Webhook {
                        self.disable(first, &error, now).await?;
                    }
                    return Ok(());
                }
                let pause = backoff(
                    first.attempts,
                    self.settings.retry_after,
                    self.settings.retry_max,
                );
                let next = now + chrono::Duration::from_std(pause).unwrap_or_default();
                tracing::info!(notification = first.id, %error, retry_at = %next, "a delivery failed; it will be tried again");
                self.app.outbox.retry(&ids, &error, next, now).await
            }
        }
    }

    /// Disables a webhook that failed for a day, and tells every admin.
    async fn disable(
        &self,
        row: &Notification,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let id = WebhookId(row.planned.recipient);
        let reason = format!("deliveries failed for a day: {error}");
        if !self.app.outbox.disable_webhook(id, &reason, now).await? {
            return Ok(());
        }
        tracing::warn!(webhook = %id, %reason, "a webhook was disabled");
        let (url, admins) = {
            let directory = self.app.read.directory();
            let url = directory
                .webhook(id)
                .map(|w| w.url.clone())
                .unwrap_or_default();
            let admins: Vec<PersonId> = directory
                .people()
                .filter(|p| p.org_role == Some(OrgRole::Admin))
                .map(|p| p.id)
                .collect();
            (url, admins)
        };
        let kind: &'static str = Kind::WebhookDisabled.into();
        let rows: Vec<NewNotification> = admins
            .into_iter()
            .map(|admin| NewNotification {
                position: row.planned.position,
                channel: Channel::Email,
                recipient: admin.0,
                kind: kind.to_string(),
                proposal: None,
                detail: json!({ "title": url, "note": reason, "at": now }),
                digest: false,
                created_at: now,
                due_at: now,
            })
            .collect();
        self.app.outbox.add(&rows).await
    }

    /// The link a row's message carries.
    fn link(&self, row: &Notification) -> String {
        match row.planned.proposal {
            Some(proposal) => format!("{}/proposals/{}", self.settings.public_url, proposal.0),
            None => format!("{}/admin/webhooks", self.settings.public_url),
        }
    }
}

/// A text field of a row's detail.
fn text(detail: &serde_json::Value, field: &str) -> String {
    detail
        .get(field)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string()
}
