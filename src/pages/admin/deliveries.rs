//! `/admin/deliveries`: the delivery log of notifications, for admins and
//! auditors: how many stand where, then every e-mail and webhook call,
//! newest first, filtered by status, 50 a page with older ones after.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use crate::domain::notification::Kind;
use crate::domain::{PersonId, WebhookId};
use crate::outbox::{Channel, Counts, Notification, Status};
use crate::pages::error::PageError;
use crate::pages::format::{event_words, Formatter};
use crate::pages::session::SignedIn;
use crate::pages::team::render;
use crate::pages::{Chrome, PagesState};
use crate::read::directory::Directory;

/// Deliveries on one page.
const PAGE_SIZE: u32 = 50;

/// The page's filter and place, as its links send them.
#[derive(Debug, Default, Deserialize)]
pub struct Filter {
    #[serde(default)]
    status: String,
    #[serde(default)]
    before: Option<i64>,
}

/// One link of the status filter.
pub struct StatusLink {
    text: &'static str,
    href: String,
    current: bool,
}

/// One delivery as the table shows it.
pub struct Row {
    when: String,
    what: String,
    to: String,
    proposal: Option<(String, String)>,
    status: &'static str,
    tag: &'static str,
    attempts: u32,
    detail: String,
}

/// The delivery log page.
#[derive(Template)]
#[template(path = "pages/admin_deliveries.html")]
pub struct DeliveriesPage {
    chrome: Chrome,
    counts: Counts,
    oldest: String,
    links: Vec<StatusLink>,
    /// The filter in words, for the table's caption.
    showing: &'static str,
    rows: Vec<Row>,
    newest: Option<String>,
    older: Option<String>,
    /// Whether the viewer may use the admin page (auditors may not).
    admin: bool,
}

/// The statuses a visitor may filter by, with their words and keys.
const STATUSES: [(Status, &str, &str); 4] = [
    (Status::Failed, "failed", "Failed"),
    (Status::Pending, "pending", "Waiting"),
    (Status::Sent, "sent", "Sent"),
    (Status::Cancelled, "cancelled", "Cancelled"),
];

/// A notification's kind in words: an e-mail's kind, or a webhook call's
/// event type.
fn kind_words(kind: &str) -> String {
    let Ok(kind) = kind.parse::<Kind>() else {
        return event_words(kind);
    };
    match kind {
        Kind::AdviceRequested => "Advice requested",
        Kind::AdviceDueSoon => "Advice due soon (reminder)",
        Kind::ObjectionRaised => "Objection raised",
        Kind::AmendedAfterObjection => "Amended after an objection",
        Kind::Decided => "Decided",
        Kind::ReviewDue => "Review due (reminder)",
        Kind::WebhookDisabled => "Webhook disabled",
    }
    .to_string()
}

/// Where a row stands, in words, with its tag's colour.
fn status_words(status: Status) -> (&'static str, &'static str) {
    match status {
        Status::Pending => ("Waiting", "nhsuk-tag--blue"),
        Status::Sent => ("Sent", "nhsuk-tag--green"),
        Status::Failed => ("Failed", "nhsuk-tag--red"),
        Status::Cancelled => ("Cancelled", "nhsuk-tag--grey"),
    }
}

/// A row of the table.
fn row(directory: &Directory, f: &Formatter, n: &Notification) -> Row {
    let planned = &n.planned;
    let to = match planned.channel {
        Channel::Email => format!(
            "{} (e-mail)",
            crate::pages::format::person_name(directory, PersonId(planned.recipient))
        ),
        Channel::Webhook => directory
            .webhook(WebhookId(planned.recipient))
            .map(|w| format!("Webhook {}", w.url))
            .unwrap_or_else(|| "A webhook no longer known".into()),
    };
    let mut what = kind_words(&planned.kind);
    if planned.digest {
        what.push_str(", in the daily digest");
    }
    let proposal = planned.proposal.map(|id| {
        let title = planned
            .detail
            .get("title")
            .and_then(|t| t.as_str())
            .filter(|t| !t.trim().is_empty())
            .unwrap_or("The proposal")
            .to_string();
        (format!("/proposals/{}", id.0), title)
    });
    let (status, tag) = status_words(n.status);
    let detail = match (n.status, &n.last_error, n.done_at) {
        (Status::Pending, error, _) => {
            let next = if n.next_attempt_at > f.now() {
                format!("Next try {}", f.when(n.next_attempt_at))
            } else {
                "Due now".into()
            };
            match error {
                Some(error) => format!("{next}. Last error: {error}"),
                None => next,
            }
        }
        (_, Some(error), _) => error.clone(),
        (_, None, Some(done)) => f.time(done),
        (_, None, None) => String::new(),
    };
    Row {
        when: f.time(planned.created_at),
        what,
        to,
        proposal,
        status,
        tag,
        attempts: n.attempts,
        detail,
    }
}

/// `GET /admin/deliveries`: admins and auditors.
pub async fn page(
    State(state): State<PagesState>,
    SignedIn { actor, session }: SignedIn,
    Query(filter): Query<Filter>,
) -> Result<Response, PageError> {
    if !actor.is_admin() && !actor.is_auditor() {
        return Err(PageError::Forbidden(
            "Only the organisation's admins and auditors can see the delivery log.".into(),
        ));
    }
    let chosen = STATUSES
        .iter()
        .find(|(_, key, _)| *key == filter.status.trim());
    let f = state.formatter();
    let counts = state.app.outbox.counts(f.now()).await?;
    let mut found = state
        .app
        .outbox
        .list(chosen.map(|(s, _, _)| *s), filter.before, PAGE_SIZE + 1)
        .await?;
    let more = found.len() > PAGE_SIZE as usize;
    found.truncate(PAGE_SIZE as usize);
    let query = |before: Option<i64>| {
        let mut parts = Vec::new();
        if let Some((_, key, _)) = chosen {
            parts.push(format!("status={key}"));
        }
        if let Some(before) = before {
            parts.push(format!("before={before}"));
        }
        if parts.is_empty() {
            "/admin/deliveries".to_string()
        } else {
            format!("/admin/deliveries?{}", parts.join("&"))
        }
    };
    let older = if more {
        found.last().map(|n| query(Some(n.id)))
    } else {
        None
    };
    let newest = filter.before.map(|_| query(None));
    let mut links: Vec<StatusLink> = STATUSES
        .iter()
        .map(|(_, key, text)| StatusLink {
            text,
            href: format!("/admin/deliveries?status={key}"),
            current: chosen.is_some_and(|(_, k, _)| k == key),
        })
        .collect();
    links.push(StatusLink {
        text: "All",
        href: "/admin/deliveries".into(),
        current: chosen.is_none(),
    });
    let directory = state.app.read.directory();
    let rows = found.iter().map(|n| row(&directory, &f, n)).collect();
    drop(directory);
    let oldest = match counts.oldest_due {
        Some(at) => format!("fell due {}", f.relative(at)),
        None => "none waiting".into(),
    };
    let chrome = Chrome::new(&state, &session, Some(&actor), "Delivery log", "/admin");
    let page = DeliveriesPage {
        chrome,
        counts,
        oldest,
        links,
        showing: chosen.map(|(_, _, text)| *text).unwrap_or("All"),
        rows,
        newest,
        older,
        admin: actor.is_admin(),
    };
    render(&page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_as_words() {
        assert_eq!(kind_words("ADVICE_DUE_SOON"), "Advice due soon (reminder)");
        assert_eq!(kind_words("ProposalRaised"), "Proposal raised");
    }
}
