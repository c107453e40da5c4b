//! Who is told what, and when: the kinds of notification and how often a
//! person wants to hear. Pure: which notifications an event causes is
//! decided here from the proposal's state before and after it.

use serde::{Deserialize, Serialize};

/// A kind of notification (DESIGN.md, "Notifications").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[derive(strum::IntoStaticStr, strum::EnumString, strum::VariantArray)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum Kind {
    /// Their advice was asked (them, or a team they are in).
    AdviceRequested,
    /// 24 hours before their time to answer ends, and they have not answered.
    AdviceDueSoon,
    /// Someone objected to their proposal.
    ObjectionRaised,
    /// The proposal they objected to was amended: confirm or withdraw.
    AmendedAfterObjection,
    /// A proposal they took part in was decided.
    Decided,
    /// A decision they made, or of their team, is due for review.
    ReviewDue,
    /// A webhook was disabled after a day of failed deliveries (admins).
    WebhookDisabled,
}

/// How often a person wants to hear by e-mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[derive(strum::IntoStaticStr, strum::EnumString, strum::VariantArray)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum Frequency {
    /// Each notification as it happens.
    #[default]
    Immediate,
    /// One digest a day.
    Daily,
    /// Nothing by e-mail.
    Off,
}
