//! Notifications: a notifier follows the log and writes an outbox (one row
//! per event, recipient and kind); a delivery worker sends what is due by
//! e-mail or webhook, at least once, with retries and backoff. Only the
//! leading server notifies and delivers.

pub mod message;
pub mod registration;
