//! The e-mail channel: formats a [`Mail`] as a multipart message (plain
//! text and HTML, both from the templates under `templates/mail/`) and
//! sends it over SMTP with `lettre`.
//!
//! The SMTP server is given as a URL: `smtp://host:port` (plain),
//! `smtp://host?tls=required` (STARTTLS), `smtps://host` (TLS from the
//! start), with `user:password@` before the host where the server wants
//! them.

use askama::Template;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use lettre::address::AddressError;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::message::{Mail, MailItem};
use crate::domain::notification::Kind;

/// Why a mail could not be composed or sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The mailer was made outside the Tokio runtime (its connection pool
    /// runs as a task there).
    #[error(
        "the mailer must be made inside the Tokio runtime (its SMTP connection pool runs there)"
    )]
    NoRuntime,
    /// The SMTP URL could not be read.
    #[error(
        "the SMTP URL is not usable ({0}): write smtp://host:port, \
         smtp://host?tls=required for STARTTLS, or smtps://host for TLS, \
         with user:password@ before the host if the server asks for them"
    )]
    SmtpUrl(#[source] lettre::transport::smtp::Error),
    /// The address mail is sent from is not a mailbox.
    #[error(
        "the mail-from address {from:?} is not valid ({source}): write an \
         address such as noreply@example.org or \"advice-log <noreply@example.org>\""
    )]
    MailFrom {
        /// What was given.
        from: String,
        /// Why it is not an address.
        #[source]
        source: AddressError,
    },
    /// The person's e-mail address is not valid.
    #[error("the e-mail address {email:?} of {name} is not valid ({source})")]
    Recipient {
        /// The person's name.
        name: String,
        /// Their address as stored.
        email: String,
        /// Why it is not an address.
        #[source]
        source: AddressError,
    },
    /// A value that goes into a header (the message id, the preferences
    /// link) has characters a header cannot hold.
    #[error("the {what} {value:?} cannot go in a mail header")]
    Header {
        /// Which value.
        what: &'static str,
        /// The value.
        value: String,
    },
    /// The mail has no items: there is nothing to tell.
    #[error("the mail to {0} has nothing to tell (no items)")]
    Empty(String),
    /// A template failed to render.
    #[error("the mail's text could not be written out: {0}")]
    Render(#[from] askama::Error),
    /// `lettre` would not put the message together.
    #[error("the mail could not be put together: {0}")]
    Build(#[from] lettre::error::Error),
    /// The SMTP server could not be reached, or did not take the mail.
    #[error("the SMTP server could not be reached or did not take the mail: {0}")]
    Send(#[source] lettre::transport::smtp::Error),
}

/// SMTP reply codes that say the server is set up wrongly for us (sign-in
/// needed, or refused), not that this mail can never go: sending it again
/// once an operator has fixed the credentials will work.
const AUTH_CODES: [&str; 4] = ["530", "534", "535", "538"];

impl MailError {
    /// Whether sending this mail again can never work: the server refused
    /// it for good (a 5xx reply, such as an unknown recipient), or the mail
    /// itself is wrong (a bad address, a header that cannot be written).
    /// Everything else (the server down or unreachable, a timeout, a TLS
    /// failure, a 4xx reply, the server refusing our credentials) is
    /// transient: try again later.
    pub fn is_permanent(&self) -> bool {
        match self {
            MailError::Send(e) => {
                e.is_permanent()
                    && !e
                        .status()
                        .is_some_and(|code| AUTH_CODES.contains(&code.to_string().as_str()))
            }
            MailError::Recipient { .. }
            | MailError::Header { .. }
            | MailError::Empty(_)
            | MailError::Render(_)
            | MailError::Build(_) => true,
            MailError::NoRuntime | MailError::SmtpUrl(_) | MailError::MailFrom { .. } => false,
        }
    }
}

/// Sends notifications by e-mail.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    time_zone: Tz,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the transport: its URL may hold a password.
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .field("time_zone", &self.time_zone)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// A mailer that sends through the SMTP server at `smtp_url`, from
    /// `mail_from` (`noreply@example.org` or `advice-log
    /// <noreply@example.org>`), showing times in `time_zone`. Connects
    /// only when it first sends, and keeps a few connections open for the
    /// next mails. Call it inside the Tokio runtime, where that pool runs.
    pub fn new(smtp_url: &str, mail_from: &str, time_zone: Tz) -> Result<Mailer, MailError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(MailError::NoRuntime);
        }
        let from = mail_from
            .parse::<Mailbox>()
            .map_err(|source| MailError::MailFrom {
                from: mail_from.to_owned(),
                source,
            })?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(MailError::SmtpUrl)?
            .build();
        Ok(Mailer {
            transport,
            from,
            time_zone,
        })
    }

    /// The message for `mail`: to the person, with a subject that says
    /// what it is about, its stable `Message-ID`, a `List-Unsubscribe`
    /// link to the person's preferences, and the same words as plain text
    /// and as HTML.
    pub fn compose(&self, mail: &Mail) -> Result<Message, MailError> {
        if mail.items.is_empty() {
            return Err(MailError::Empty(mail.to_email.clone()));
        }
        let to_address = mail
            .to_email
            .parse()
            .map_err(|source| MailError::Recipient {
                name: mail.to_name.clone(),
                email: mail.to_email.clone(),
                source,
            })?;
        let to = Mailbox::new(Some(mail.to_name.clone()), to_address);
        let message_id = header_safe("message id", &mail.message_id)?;
        let preferences = header_safe("preferences link", &mail.preferences_link)?;

        let body = self.body(mail);
        let text = TextMail { b: &body }.render()?;
        let html = HtmlMail { b: &body }.render()?;

        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(body.subject.clone())
            .message_id(Some(format!("<{message_id}>")))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{preferences}>"),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".to_owned(),
            ))
            .multipart(MultiPart::alternative_plain_html(text, html))?;
        Ok(message)
    }

    /// Composes `mail` and sends it. A retry sends the same `Message-ID`.
    pub async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let message = self.compose(mail)?;
        self.transport
            .send(message)
            .await
            .map_err(MailError::Send)?;
        Ok(())
    }

    /// The words of the mail, for both templates.
    fn body(&self, mail: &Mail) -> Body {
        let items: Vec<ItemView> = mail.items.iter().map(|i| self.item(i)).collect();
        let digest = mail.digest || items.len() != 1;
        let subject = if digest {
            let n = items.len();
            let things = if n == 1 { "thing" } else { "things" };
            format!("Your advice-log digest: {n} {things}")
        } else {
            items.first().map(|i| i.heading.clone()).unwrap_or_default()
        };
        Body {
            subject,
            name: mail.to_name.clone(),
            digest,
            items,
            preferences_link: mail.preferences_link.clone(),
        }
    }

    /// The words for one item.
    fn item(&self, item: &MailItem) -> ItemView {
        let t = &item.title;
        let (heading, ask, due_phrase, link_text) = match item.kind {
            Kind::AdviceRequested => (
                format!("Your advice is asked: {t}"),
                format!(
                    "You are asked to give your advice on the proposal “{t}”. \
                     Please read it and say what you think."
                ),
                "Please give your advice by",
                format!("Open the proposal “{t}”"),
            ),
            Kind::AdviceDueSoon => (
                format!("Advice due within 24 hours: {t}"),
                format!(
                    "Your advice on the proposal “{t}” is still needed, and the \
                     time to give it ends within 24 hours."
                ),
                "Please give your advice by",
                format!("Open the proposal “{t}”"),
            ),
            Kind::ObjectionRaised => (
                format!("Objection raised to your proposal: {t}"),
                format!(
                    "Someone objected to your proposal “{t}”. Please read the \
                     objection, then change your proposal or talk it through \
                     with them."
                ),
                "Please do this by",
                format!("Open your proposal “{t}”"),
            ),
            Kind::AmendedAfterObjection => (
                format!("Amended after your objection: {t}"),
                format!(
                    "The proposal “{t}” you objected to has been changed. \
                     Please read the change, then keep your objection or \
                     withdraw it."
                ),
                "Please do this by",
                format!("Open the proposal “{t}”"),
            ),
            Kind::Decided => (
                format!("Decided: {t}"),
                format!(
                    "The proposal “{t}” you took part in has been decided. \
                     Nothing more is asked of you: you can read the outcome."
                ),
                "This takes effect by",
                format!("Open the decision “{t}”"),
            ),
            Kind::ReviewDue => (
                format!("Due for review: {t}"),
                format!(
                    "The decision “{t}” is due to be looked at again. Please \
                     check whether it still works, and review it."
                ),
                "Please review it by",
                format!("Open the decision “{t}”"),
            ),
            Kind::WebhookDisabled => (
                format!("Webhook disabled: {t}"),
                format!(
                    "The webhook that sends events to {t} has been turned off: \
                     deliveries to it kept failing for a day. Please check the \
                     service that receives them, then register the webhook \
                     again on the webhooks page (it gets a new secret)."
                ),
                "Please do this by",
                "Open the webhooks page".to_owned(),
            ),
        };
        ItemView {
            heading,
            ask,
            due: item
                .due_at
                .map(|due| format!("{due_phrase} {}.", self.time(due))),
            detail: item.detail.clone(),
            link: item.link.clone(),
            link_text,
        }
    }

    /// A time in the organisation's zone: "Tuesday 1 December 2026 at
    /// 14:00 (GMT)".
    fn time(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.time_zone)
            .format("%A %-d %B %Y at %H:%M (%Z)")
            .to_string()
    }
}

/// `value` if it can go in a header as it is: printable ASCII, no spaces
/// and no angle brackets (it goes between them).
fn header_safe<'a>(what: &'static str, value: &'a str) -> Result<&'a str, MailError> {
    if !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>')
    {
        Ok(value)
    } else {
        Err(MailError::Header {
            what,
            value: value.to_owned(),
        })
    }
}

/// What both templates show.
struct Body {
    subject: String,
    name: String,
    digest: bool,
    items: Vec<ItemView>,
    preferences_link: String,
}

/// One item, in words.
struct ItemView {
    /// The item as a subject line.
    heading: String,
    /// What is asked of the person.
    ask: String,
    /// By when, as a sentence.
    due: Option<String>,
    detail: Option<String>,
    link: String,
    /// Where the link goes.
    link_text: String,
}

/// The plain-text part (not escaped).
#[derive(Template)]
#[template(path = "mail/notification.txt", escape = "none")]
struct TextMail<'a> {
    b: &'a Body,
}

/// The HTML part.
#[derive(Template)]
#[template(path = "mail/notification.html")]
struct HtmlMail<'a> {
    b: &'a Body,
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use mail_parser::{MessageParser, MimeHeaders};

    use super::*;

    fn mailer() -> Mailer {
        Mailer::new(
            "smtp://127.0.0.1:2525",
            "advice-log <noreply@example.org>",
            chrono_tz::Europe::London,
        )
        .unwrap()
    }

    fn item(kind: Kind, title: &str) -> MailItem {
        MailItem {
            kind,
            title: title.into(),
            link: "https://advice.example.org/proposals/7".into(),
            due_at: Some(Utc.with_ymd_and_hms(2026, 12, 1, 14, 0, 0).unwrap()),
            at: Utc.with_ymd_and_hms(2026, 11, 24, 9, 30, 0).unwrap(),
            detail: Some("Asked by Sam Okafor".into()),
        }
    }

    fn mail(items: Vec<MailItem>, digest: bool) -> Mail {
        Mail {
            to_name: "Ada Lovelace".into(),
            to_email: "ada@example.org".into(),
            items,
            digest,
            message_id: "outbox-17.advice-log@example.org".into(),
            preferences_link: "https://advice.example.org/me/notifications".into(),
        }
    }

    /// The message as sent, and its two parts decoded.
    fn parts(message: &Message) -> (String, String, String) {
        let raw = message.formatted();
        let parsed = MessageParser::default().parse(&raw).unwrap();
        let text = parsed.text_part(0).unwrap();
        let html = parsed.html_part(0).unwrap();
        assert_eq!(text.content_type().unwrap().subtype(), Some("plain"));
        assert_eq!(html.content_type().unwrap().subtype(), Some("html"));
        (
            String::from_utf8(raw.clone()).unwrap(),
            text.text_contents().unwrap().to_owned(),
            html.text_contents().unwrap().to_owned(),
        )
    }

    #[tokio::test]
    async fn one_item_has_both_parts_the_headers_the_link_and_the_time_in_the_zone() {
        let m = mailer();
        let message = m
            .compose(&mail(vec![item(Kind::AdviceRequested, "New rota")], false))
            .unwrap();
        let (raw, text, html) = parts(&message);
        let parsed = MessageParser::default().parse(raw.as_bytes()).unwrap();
        assert_eq!(parsed.subject(), Some("Your advice is asked: New rota"));
        let to = parsed.to().unwrap().first().unwrap();
        assert_eq!(to.name(), Some("Ada Lovelace"));
        assert_eq!(to.address(), Some("ada@example.org"));
        assert_eq!(
            parsed.from().unwrap().first().unwrap().address(),
            Some("noreply@example.org")
        );
        assert_eq!(
            parsed.message_id(),
            Some("outbox-17.advice-log@example.org")
        );
        assert_eq!(
            parsed.header_raw("List-Unsubscribe").map(str::trim),
            Some("<https://advice.example.org/me/notifications>")
        );
        assert!(raw.contains("multipart/alternative"), "{raw}");
        for part in [&text, &html] {
            assert!(part.contains("https://advice.example.org/proposals/7"));
            // 14:00 UTC on 1 December is 14:00 GMT in London.
            assert!(
                part.contains("Tuesday 1 December 2026 at 14:00 (GMT)"),
                "{part}"
            );
            assert!(part.contains("Asked by Sam Okafor"));
            assert!(part.contains("give your advice"));
            assert!(part.contains("Change how often"));
            assert!(part.contains("https://advice.example.org/me/notifications"));
        }
        assert!(html.contains(r#"<html lang="en">"#));
        assert!(html.contains("<h1>Your advice is asked: New rota</h1>"));
        assert!(html.contains(
            r#"<a href="https://advice.example.org/proposals/7">Open the proposal “New rota”</a>"#
        ));
        assert!(!html.contains("<img"));
        assert!(!html.contains("stylesheet"));
    }

    #[tokio::test]
    async fn summer_times_show_in_british_summer_time() {
        let m = mailer();
        let mut it = item(Kind::ReviewDue, "Rota");
        it.due_at = Some(Utc.with_ymd_and_hms(2026, 7, 7, 8, 0, 0).unwrap());
        let (_, text, _) = parts(&m.compose(&mail(vec![it], false)).unwrap());
        assert!(
            text.contains("Please review it by Tuesday 7 July 2026 at 09:00 (BST)."),
            "{text}"
        );
    }

    #[tokio::test]
    async fn a_digest_of_three_is_one_mail_with_every_item() {
        let m = mailer();
        let mut third = item(Kind::Decided, "Petty cash");
        third.due_at = None;
        third.detail = None;
        third.link = "https://advice.example.org/proposals/9".into();
        let message = m
            .compose(&mail(
                vec![
                    item(Kind::AdviceRequested, "New rota"),
                    item(Kind::ObjectionRaised, "Van hire"),
                    third,
                ],
                true,
            ))
            .unwrap();
        let (raw, text, html) = parts(&message);
        let parsed = MessageParser::default().parse(raw.as_bytes()).unwrap();
        assert_eq!(parsed.subject(), Some("Your advice-log digest: 3 things"));
        for part in [&text, &html] {
            assert!(part.contains("Your advice is asked: New rota"), "{part}");
            assert!(part.contains("Objection raised to your proposal: Van hire"));
            assert!(part.contains("Decided: Petty cash"));
            assert!(part.contains("https://advice.example.org/proposals/9"));
            assert!(part.contains("Change how often"));
        }
        assert_eq!(html.matches("<h2>").count(), 3, "{html}");
    }

    #[tokio::test]
    async fn text_is_not_escaped_and_html_is() {
        let m = mailer();
        let mut it = item(Kind::Decided, "Pay <b>& hours");
        it.detail = Some("Outcome: \"yes\" <i>".into());
        let message = m.compose(&mail(vec![it], false)).unwrap();
        let (raw, text, html) = parts(&message);
        let parsed = MessageParser::default().parse(raw.as_bytes()).unwrap();
        assert_eq!(parsed.subject(), Some("Decided: Pay <b>& hours"));
        assert!(text.contains("“Pay <b>& hours”"), "{text}");
        assert!(text.contains("Outcome: \"yes\" <i>"), "{text}");
        assert!(!text.contains("&amp;") && !text.contains("&lt;") && !text.contains("&#"));
        assert!(!html.contains("<b>"), "{html}");
        assert!(html.contains("Pay &#60;b&#62;&#38; hours"), "{html}");
        assert!(!html.contains("<i>"));
    }

    #[tokio::test]
    async fn the_webhook_item_names_the_url() {
        let m = mailer();
        let mut it = item(Kind::WebhookDisabled, "https://hooks.example.net/in");
        it.due_at = None;
        let (raw, _, html) = parts(&m.compose(&mail(vec![it], false)).unwrap());
        let parsed = MessageParser::default().parse(raw.as_bytes()).unwrap();
        assert_eq!(
            parsed.subject(),
            Some("Webhook disabled: https://hooks.example.net/in")
        );
        assert!(html.contains(">Open the webhooks page</a>"));
    }

    #[tokio::test]
    async fn bad_settings_and_bad_mails_are_told_apart() {
        let tz = chrono_tz::Europe::London;
        let outside = std::thread::spawn(move || {
            Mailer::new("smtp://127.0.0.1", "noreply@example.org", tz).map(|_| ())
        });
        assert!(matches!(outside.join().unwrap(), Err(MailError::NoRuntime)));
        let e = Mailer::new("smtp://127.0.0.1", "not an address", tz).unwrap_err();
        assert!(matches!(e, MailError::MailFrom { .. }), "{e}");
        assert!(e.to_string().contains("noreply@example.org"), "{e}");
        let e = Mailer::new("nonsense", "noreply@example.org", tz).unwrap_err();
        assert!(matches!(e, MailError::SmtpUrl(_)), "{e}");
        assert!(Mailer::new("smtps://u:p@smtp.example.org", "noreply@example.org", tz).is_ok());
        assert!(Mailer::new("smtp://smtp.example.org?tls=required", "a@b.org", tz).is_ok());

        let m = mailer();
        let mut bad = mail(vec![item(Kind::Decided, "T")], false);
        bad.to_email = "nobody".into();
        let e = m.compose(&bad).unwrap_err();
        assert!(e.is_permanent(), "{e}");
        let mut bad = mail(vec![item(Kind::Decided, "T")], false);
        bad.message_id = "x>\r\nBcc: eve@example.org".into();
        assert!(m.compose(&bad).unwrap_err().is_permanent());
        assert!(m.compose(&mail(vec![], true)).unwrap_err().is_permanent());
    }
}
