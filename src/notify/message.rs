//! What a channel sends: an e-mail to one person (one notification, or a
//! day's digest of them) or one signed webhook call. The worker builds
//! these from the outbox; the channels only format and send them.

use chrono::{DateTime, Utc};

use crate::domain::notification::Kind;

/// One e-mail to one person.
#[derive(Debug, Clone, PartialEq)]
pub struct Mail {
    /// The person's name.
    pub to_name: String,
    /// The person's e-mail address.
    pub to_email: String,
    /// What it tells: one item, or several in a digest.
    pub items: Vec<MailItem>,
    /// Whether it is the daily digest (one mail gathering a day's items).
    pub digest: bool,
    /// A `Message-ID` that stays the same when the mail is sent again
    /// (a retry), so a mail client can drop a repeat, without the angle
    /// brackets: e.g. `outbox-17.advice-log@example.org`.
    pub message_id: String,
    /// The absolute link to the person's notification preferences (the
    /// `List-Unsubscribe` target).
    pub preferences_link: String,
}

/// One thing an e-mail tells.
#[derive(Debug, Clone, PartialEq)]
pub struct MailItem {
    /// What kind of notification it is.
    pub kind: Kind,
    /// The proposal's title (for `WEBHOOK_DISABLED`: the webhook's URL).
    pub title: String,
    /// The absolute link to the proposal's page (for `WEBHOOK_DISABLED`:
    /// the admin's webhooks page).
    pub link: String,
    /// By when the person is asked to act, if there is a time.
    pub due_at: Option<DateTime<Utc>>,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// A few words more, already in plain English where there are any: who
    /// asked or objected, the outcome, why a webhook was disabled.
    pub detail: Option<String>,
}

/// One webhook call.
#[derive(Debug, Clone, PartialEq)]
pub struct Hook {
    /// The `webhook-id`: the same on every retry of this message.
    pub message_id: String,
    /// Where it goes.
    pub url: String,
    /// The webhook's secret, `whsec_` and base64.
    pub secret: String,
    /// The `webhook-timestamp` (the time of this attempt).
    pub timestamp: DateTime<Utc>,
    /// The JSON body.
    pub body: serde_json::Value,
}
