//! The notification outbox: one row per event, channel, recipient and kind,
//! written by the notifier with its checkpoint in the same transaction (a
//! crash neither loses nor repeats a row), and updated by the delivery
//! worker as it sends. Behind a trait with a SQLite and a PostgreSQL
//! implementation of the same SQL.

mod sql;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::{ProposalId, WebhookId};
use crate::store::StoreError;
pub use sql::{PgOutbox, SqliteOutbox};

/// How a notification is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum Channel {
    /// An e-mail to a person.
    Email,
    /// A signed call to a webhook.
    Webhook,
}

/// Where a row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// Waiting for its time, or for another try.
    Pending,
    /// Delivered.
    Sent,
    /// Given up on: the last error says why.
    Failed,
    /// Not sent, on purpose (the reason is in `last_error`): the reminder no
    /// longer applied, the person chose no e-mail, the webhook was deleted.
    Cancelled,
}

/// A row to add.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    /// The event that caused it.
    pub position: u64,
    /// How it is sent.
    pub channel: Channel,
    /// The person (e-mail) or webhook it goes to.
    pub recipient: Uuid,
    /// The notification's kind (`ADVICE_REQUESTED`...); for a webhook the
    /// event's type.
    pub kind: String,
    /// The proposal it is about, if any.
    pub proposal: Option<ProposalId>,
    /// What the message needs (JSON): the title, the time to act by, a note;
    /// for a webhook its body.
    pub detail: serde_json::Value,
    /// Whether it waits for the person's daily digest.
    pub digest: bool,
    /// When it was planned.
    pub created_at: DateTime<Utc>,
    /// When it is due to be sent.
    pub due_at: DateTime<Utc>,
}

/// A row as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// Its id (the order rows were added in).
    pub id: i64,
    /// What was planned.
    pub planned: NewNotification,
    /// Where it stands.
    pub status: Status,
    /// How many times sending it was tried.
    pub attempts: u32,
    /// When the next try is due.
    pub next_attempt_at: DateTime<Utc>,
    /// When it was first tried.
    pub first_attempt_at: Option<DateTime<Utc>>,
    /// The last error, or why it was cancelled.
    pub last_error: Option<String>,
    /// When it was sent, given up or cancelled.
    pub done_at: Option<DateTime<Utc>>,
}

/// How a try ended for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    /// Delivered.
    Sent,
    /// Given up after this error.
    Failed(String),
    /// Not sent, for this reason.
    Cancelled(String),
}

/// How many rows stand where, for `/metrics` and the admins' page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Due and not yet delivered (including those between retries).
    pub queued: u64,
    /// Reminders and digests whose time has not come.
    pub scheduled: u64,
    /// Delivered.
    pub sent: u64,
    /// Given up on.
    pub failed: u64,
    /// Not sent on purpose.
    pub cancelled: u64,
    /// When the oldest undelivered row fell due.
    pub oldest_due: Option<DateTime<Utc>>,
}

/// A webhook the worker disabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disabled {
    /// Which.
    pub webhook: WebhookId,
    /// When.
    pub at: DateTime<Utc>,
    /// Why.
    pub reason: String,
}

/// The outbox's storage.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// The position of the last event the notifier has planned for.
    async fn checkpoint(&self) -> Result<u64, StoreError>;

    /// In one transaction: moves the notifier's checkpoint from `from` to
    /// `through` and adds `rows` (a row already there is left as it is).
    /// [`StoreError::ReadModelsMoved`] if the checkpoint is not at `from`
    /// (another server planned these events first); nothing is added then.
    async fn record(
        &self,
        rows: &[NewNotification],
        from: u64,
        through: u64,
    ) -> Result<(), StoreError>;

    /// Adds rows outside the log's order (a row already there is left as
    /// it is).
    async fn add(&self, rows: &[NewNotification]) -> Result<(), StoreError>;

    /// Pending rows whose next try is due at `now`, oldest first.
    async fn due(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Notification>, StoreError>;

    /// Records a try that failed and when to try again.
    async fn retry(
        &self,
        ids: &[i64],
        error: &str,
        next: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Records how rows ended.
    async fn finish(&self, ids: &[i64], how: &Finish, now: DateTime<Utc>)
        -> Result<(), StoreError>;

    /// The latest rows, newest first: all, or those with `status`; before
    /// row `before` when paging.
    async fn list(
        &self,
        status: Option<Status>,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError>;

    /// A window on the rows, newest first (its keys are row ids): all, or
    /// those with `status`; from the window's end (oldest first) when
    /// `window.from_end`.
    async fn list_window(
        &self,
        status: Option<Status>,
        window: crate::window::Window<i64>,
    ) -> Result<Vec<Notification>, StoreError>;

    /// How many rows stand where, at `now`.
    async fn counts(&self, now: DateTime<Utc>) -> Result<Counts, StoreError>;

    /// Marks a webhook disabled; answers whether it was not already.
    async fn disable_webhook(
        &self,
        webhook: WebhookId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// The webhooks the worker disabled.
    async fn disabled_webhooks(&self) -> Result<Vec<Disabled>, StoreError>;
}

/// Milliseconds since the Unix epoch, as stored.
fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// A stored time.
fn from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}
