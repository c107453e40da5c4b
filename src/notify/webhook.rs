//! The webhook channel: one call per [`Hook`], signed per the Standard
//! Webhooks spec (`webhook-id`, `webhook-timestamp`, `webhook-signature`),
//! sent only to public internet addresses unless the server allows private
//! ones.
//!
//! A webhook's secret is not stored: it is derived from the log's signing
//! key and the webhook's id ([`webhook_secret`]), so every server sharing
//! the key signs alike. Addresses are checked when a webhook is registered
//! ([`check_url`]) and again at each delivery, by the sender's own resolver,
//! so a name that later resolves to a private address (DNS rebinding) is
//! not called.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;
use sha2::{Digest, Sha512};
use tracing::Instrument as _;
use uuid::Uuid;

use super::message::Hook;
use crate::assurance::keys::LogKey;

/// The `user-agent` of every webhook call.
pub const USER_AGENT: &str = concat!("advice-log/", env!("CARGO_PKG_VERSION"));

/// How long one call may take, from connecting to the end of the answer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest webhook address accepted, in characters.
pub const MAX_URL_CHARS: usize = 2000;

/// How much of a receiver's answer an error keeps, in characters.
const REASON_CHARS: usize = 200;

/// The context signed to derive a webhook's secret.
const SECRET_CONTEXT: &[u8] = b"advice-log webhook secret, version 1\n";

/// The secret of the webhook `webhook`: `whsec_` and the base64 of 32 bytes
/// derived from the log's signing key. Ed25519 signatures are
/// deterministic, so the same key and id always give the same secret, and
/// only the key's holder can make it; nothing needs storing.
pub fn webhook_secret(key: &LogKey, webhook: Uuid) -> String {
    let mut message = SECRET_CONTEXT.to_vec();
    message.extend_from_slice(webhook.as_bytes());
    let signature = key.sign(&message);
    let digest = Sha512::digest(signature.to_bytes());
    format!("whsec_{}", BASE64.encode(&digest[..32]))
}

/// Why an address is not on the public internet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restricted {
    /// This machine (127.0.0.0/8, ::1).
    Loopback,
    /// A private network (10/8, 172.16/12, 192.168/16, fec0::/10).
    Private,
    /// The local link only (169.254/16, fe80::/10).
    LinkLocal,
    /// A private IPv6 network (fc00::/7).
    UniqueLocal,
    /// No address at all (0.0.0.0/8, ::).
    Unspecified,
    /// Every machine on the local network (255.255.255.255).
    Broadcast,
    /// Set aside for examples in documentation.
    Documentation,
    /// An internet provider's shared address space (100.64/10, carrier-grade NAT).
    SharedNat,
    /// A multicast group (224/4, ff00::/8).
    Multicast,
    /// Reserved for other uses, not reachable on the internet.
    Reserved,
}

impl fmt::Display for Restricted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Restricted::Loopback => "this machine's own (loopback) address",
            Restricted::Private => "a private network address",
            Restricted::LinkLocal => "a link-local address",
            Restricted::UniqueLocal => "a unique local (private IPv6) address",
            Restricted::Unspecified => "the unspecified address",
            Restricted::Broadcast => "the broadcast address",
            Restricted::Documentation => "an address kept for documentation examples",
            Restricted::SharedNat => "a shared (carrier-grade NAT) address",
            Restricted::Multicast => "a multicast address",
            Restricted::Reserved => "a reserved address",
        })
    }
}

/// Why `ip` is not a public internet address, or `None` when it is one.
/// IPv4 addresses written in IPv6 (mapped, NAT64, 6to4) are judged by the
/// IPv4 address they carry.
pub fn classify(ip: IpAddr) -> Option<Restricted> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<Restricted> {
    let [a, b, c, _] = ip.octets();
    match (a, b, c) {
        (0, _, _) => Some(Restricted::Unspecified),
        (10, _, _) => Some(Restricted::Private),
        (100, 64..=127, _) => Some(Restricted::SharedNat),
        (127, _, _) => Some(Restricted::Loopback),
        (169, 254, _) => Some(Restricted::LinkLocal),
        (172, 16..=31, _) => Some(Restricted::Private),
        (192, 0, 0) => Some(Restricted::Reserved),
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => Some(Restricted::Documentation),
        (192, 88, 99) => Some(Restricted::Reserved),
        (192, 168, _) => Some(Restricted::Private),
        (198, 18..=19, _) => Some(Restricted::Reserved),
        (224..=239, _, _) => Some(Restricted::Multicast),
        _ if ip == Ipv4Addr::BROADCAST => Some(Restricted::Broadcast),
        (240..=255, _, _) => Some(Restricted::Reserved),
        _ => None,
    }
}

fn classify_v6(ip: Ipv6Addr) -> Option<Restricted> {
    if ip.is_unspecified() {
        return Some(Restricted::Unspecified);
    }
    if ip.is_loopback() {
        return Some(Restricted::Loopback);
    }
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    let s = ip.segments();
    let embedded = |high: u16, low: u16| {
        let [a, b] = high.to_be_bytes();
        let [c, d] = low.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    match s {
        // ::a.b.c.d, the deprecated IPv4-compatible form.
        [0, 0, 0, 0, 0, 0, _, _] => Some(Restricted::Reserved),
        // NAT64 (RFC 6052): the IPv4 address in the last 32 bits.
        [0x64, 0xff9b, 0, 0, 0, 0, high, low] => classify_v4(embedded(high, low)),
        // Local-use NAT64 (RFC 8215).
        [0x64, 0xff9b, 1, ..] => Some(Restricted::Private),
        // 6to4 (RFC 3056): the IPv4 address in bits 16 to 48.
        [0x2002, high, low, ..] => classify_v4(embedded(high, low)),
        // Documentation: 2001:db8::/32 and 3fff::/20.
        [0x2001, 0x0db8, ..] => Some(Restricted::Documentation),
        [0x3fff, second, ..] if second < 0x1000 => Some(Restricted::Documentation),
        // IETF protocol assignments (Teredo, benchmarking, ORCHID): 2001::/23.
        [0x2001, second, ..] if second < 0x0200 => Some(Restricted::Reserved),
        [first, ..] if first & 0xfe00 == 0xfc00 => Some(Restricted::UniqueLocal),
        [first, ..] if first & 0xffc0 == 0xfe80 => Some(Restricted::LinkLocal),
        [first, ..] if first & 0xffc0 == 0xfec0 => Some(Restricted::Private),
        [first, ..] if first & 0xff00 == 0xff00 => Some(Restricted::Multicast),
        // Global unicast is 2000::/3; everything else is not assigned.
        [first, ..] if first & 0xe000 == 0x2000 => None,
        _ => Some(Restricted::Reserved),
    }
}

/// Why a webhook address is refused, in plain words for an admin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefused {
    /// Not a web address at all.
    #[error("This is not a web address ({0}). Use an address starting with https:// or http://, such as https://hooks.example.org/advice-log.")]
    Malformed(String),
    /// Another scheme than `http` or `https`.
    #[error("Addresses starting with {0}: cannot receive webhooks. Use an address starting with https:// or http://.")]
    Scheme(String),
    /// No host name.
    #[error(
        "This address has no host name. Use an address like https://hooks.example.org/advice-log."
    )]
    NoHost,
    /// A user name or password in the address.
    #[error("This address has a user name or password in it. Remove them: the receiver checks each call's signature instead.")]
    UserInfo,
    /// Longer than [`MAX_URL_CHARS`].
    #[error("This address is {0} characters long; at most 2000 are allowed.")]
    TooLong(usize),
    /// The host name could not be resolved.
    #[error("The host name {host} could not be found ({reason}). Check its spelling, and that it is published in DNS.")]
    Unresolvable {
        /// The host name.
        host: String,
        /// Why, in a few words.
        reason: String,
    },
    /// The host is, or resolves to, an address off the public internet.
    #[error("This address is on a private network: {host} is {address}, {restricted}. Webhooks are sent only to public internet addresses unless the server runs with --webhook-allow-private.")]
    NotPublic {
        /// The host as written in the address.
        host: String,
        /// The address it is, or resolved to.
        address: IpAddr,
        /// Why that address is not public.
        restricted: Restricted,
    },
}

/// Checks the address's form (scheme, host, no user name, length), without
/// resolving it.
fn parse_url(url: &str) -> Result<Url, UrlRefused> {
    let chars = url.chars().count();
    if chars > MAX_URL_CHARS {
        return Err(UrlRefused::TooLong(chars));
    }
    let parsed = Url::parse(url.trim()).map_err(|e| UrlRefused::Malformed(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(UrlRefused::Scheme(parsed.scheme().to_string()));
    }
    match parsed.host_str() {
        None | Some("") => return Err(UrlRefused::NoHost),
        Some(_) => {}
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(UrlRefused::UserInfo);
    }
    Ok(parsed)
}

/// The address of a URL whose host is written as an IP address.
fn literal_ip(url: &Url) -> Option<IpAddr> {
    // The URL parser writes every form of an IPv4 address (`0x7f.1`,
    // `2130706433`) as a dotted quad, and IPv6 ones in brackets.
    let host = url.host_str()?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    host.parse().ok()
}

fn refuse_restricted(host: &str, address: IpAddr) -> Result<(), UrlRefused> {
    match classify(address) {
        Some(restricted) => Err(UrlRefused::NotPublic {
            host: host.to_string(),
            address,
            restricted,
        }),
        None => Ok(()),
    }
}

/// Checks a webhook address when it is registered: `http` or `https`,
/// absolute, with a host, without a user name or password, at most 2000
/// characters; and unless `allow_private`, its host resolved and refused if
/// any of its addresses is off the public internet ([`classify`]). Answers
/// the parsed address.
pub async fn check_url(url: &str, allow_private: bool) -> Result<Url, UrlRefused> {
    let parsed = parse_url(url)?;
    if allow_private {
        return Ok(parsed);
    }
    let host = parsed.host_str().unwrap_or_default().to_string();
    if let Some(ip) = literal_ip(&parsed) {
        refuse_restricted(&host, ip)?;
        return Ok(parsed);
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let unresolvable = |reason: String| UrlRefused::Unresolvable {
        host: host.clone(),
        reason,
    };
    let addresses: Vec<SocketAddr> = tokio::time::timeout(
        REQUEST_TIMEOUT,
        tokio::net::lookup_host((host.as_str(), port)),
    )
    .await
    .map_err(|_| unresolvable("no answer in time".into()))?
    .map_err(|e| unresolvable(e.to_string()))?
    .collect();
    if addresses.is_empty() {
        return Err(unresolvable("it has no addresses".into()));
    }
    for address in addresses {
        refuse_restricted(&host, address.ip())?;
    }
    Ok(parsed)
}

/// A resolver that drops every address off the public internet, so a call
/// never reaches one whatever the name resolves to at the time.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = resolved
                .iter()
                .copied()
                .filter(|a| classify(a.ip()).is_none())
                .collect();
            if public.is_empty() {
                let error = match resolved.first() {
                    Some(address) => match classify(address.ip()) {
                        Some(restricted) => UrlRefused::NotPublic {
                            host,
                            address: address.ip(),
                            restricted,
                        },
                        None => UrlRefused::Unresolvable {
                            host,
                            reason: "it has no public addresses".into(),
                        },
                    },
                    None => UrlRefused::Unresolvable {
                        host,
                        reason: "it has no addresses".into(),
                    },
                };
                return Err(Box::new(error) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// Why a webhook call failed.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The HTTP client could not be set up.
    #[error("the webhook client could not be set up: {0}")]
    Client(String),
    /// The address is refused (at delivery, as at registration).
    #[error("the webhook's address is refused: {0}")]
    Refused(#[from] UrlRefused),
    /// The secret is not `whsec_` and base64.
    #[error("the webhook's secret is not a Standard Webhooks secret: {0}")]
    Secret(String),
    /// The body could not be written or signed.
    #[error("the webhook's body could not be signed: {0}")]
    Body(String),
    /// No complete answer within [`REQUEST_TIMEOUT`].
    #[error("the receiver did not answer within 10 seconds")]
    Timeout,
    /// The receiver could not be reached.
    #[error("the receiver could not be reached: {0}")]
    Network(String),
    /// The receiver answered with a status other than 2xx.
    #[error("the receiver answered {status}{}", colon_before(.body))]
    Status {
        /// The HTTP status.
        status: u16,
        /// The start of its answer (at most 200 characters).
        body: String,
    },
}

/// `: ` and `text`, or nothing when `text` is empty.
fn colon_before(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

impl WebhookError {
    /// Whether trying again later may succeed: a timeout, a network failure
    /// or a status other than 2xx; not a refused address or a bad secret.
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            WebhookError::Timeout | WebhookError::Network(_) | WebhookError::Status { .. }
        )
    }
}

/// The headers and body of one signed call.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedCall {
    /// `webhook-id`, `webhook-timestamp`, `webhook-signature` and
    /// `content-type`, in that order.
    pub headers: Vec<(&'static str, String)>,
    /// The JSON body, as signed.
    pub body: Vec<u8>,
}

/// Signs `hook` per the Standard Webhooks spec: the signature is
/// `v1,` and the base64 HMAC-SHA256, under the secret, of
/// `<webhook-id>.<webhook-timestamp>.<body>`.
pub fn sign(hook: &Hook) -> Result<SignedCall, WebhookError> {
    let body = serde_json::to_vec(&hook.body).map_err(|e| WebhookError::Body(e.to_string()))?;
    let signer = standardwebhooks::Webhook::new(&hook.secret)
        .map_err(|e| WebhookError::Secret(e.to_string()))?;
    let timestamp = hook.timestamp.timestamp();
    let signature = signer
        .sign(&hook.message_id, timestamp, &body)
        .map_err(|e| WebhookError::Body(e.to_string()))?;
    Ok(SignedCall {
        headers: vec![
            ("webhook-id", hook.message_id.clone()),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", signature),
            ("content-type", "application/json".to_string()),
        ],
        body,
    })
}

/// Sends webhook calls: one HTTP client, with a 10 s timeout, no redirects
/// followed and no proxy (a proxy would resolve names itself, past the
/// address check), and unless private addresses are allowed, a resolver
/// that drops them.
#[derive(Clone)]
pub struct WebhookSender {
    client: reqwest::Client,
    allow_private: bool,
}

impl fmt::Debug for WebhookSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookSender")
            .field("allow_private", &self.allow_private)
            .finish_non_exhaustive()
    }
}

impl WebhookSender {
    /// A sender; `allow_private` lets it call private and loopback
    /// addresses (`--webhook-allow-private`).
    pub fn new(allow_private: bool) -> Result<Self, WebhookError> {
        let mut builder = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy();
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        let client = builder
            .build()
            .map_err(|e| WebhookError::Client(error_chain(&e)))?;
        Ok(WebhookSender {
            client,
            allow_private,
        })
    }

    /// Whether this sender calls private and loopback addresses.
    pub fn allow_private(&self) -> bool {
        self.allow_private
    }

    /// Sends `hook` once. A 2xx answer is success; any other status, a
    /// timeout or a network failure is an error. The call has its span
    /// (a child of the current one, if any) and carries its W3C
    /// `traceparent`.
    pub async fn send(&self, hook: &Hook) -> Result<(), WebhookError> {
        let url = parse_url(&hook.url)?;
        let span = tracing::info_span!(
            "webhook",
            otel.name = "POST webhook",
            otel.kind = %"client",
            otel.status_code = tracing::field::Empty,
            server.address = %url.host_str().unwrap_or_default(),
            status = tracing::field::Empty,
        );
        let sent = self.call(hook, url, &span).instrument(span.clone()).await;
        if sent.is_err() {
            span.record("otel.status_code", "ERROR");
        }
        sent
    }

    /// The call of [`WebhookSender::send`], inside `span`.
    async fn call(&self, hook: &Hook, url: Url, span: &tracing::Span) -> Result<(), WebhookError> {
        if !self.allow_private {
            // The resolver is not asked for an address written as one.
            if let Some(ip) = literal_ip(&url) {
                refuse_restricted(url.host_str().unwrap_or_default(), ip)?;
            }
        }
        let call = sign(hook)?;
        let mut trace = reqwest::header::HeaderMap::new();
        crate::telemetry::inject(span, &mut trace);
        let mut request = self.client.post(url).headers(trace);
        for (name, value) in call.headers {
            request = request.header(name, value);
        }
        let response = request.body(call.body).send().await.map_err(send_error)?;
        let status = response.status();
        span.record("status", status.as_u16());
        if status.is_success() {
            return Ok(());
        }
        Err(WebhookError::Status {
            status: status.as_u16(),
            body: answer_start(response).await,
        })
    }
}

/// The error of a failed request: the resolver's refusal if it was that,
/// else a timeout or a short reason.
fn send_error(error: reqwest::Error) -> WebhookError {
    if error.is_timeout() {
        return WebhookError::Timeout;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(e) = source {
        if let Some(refused) = e.downcast_ref::<UrlRefused>() {
            return WebhookError::Refused(refused.clone());
        }
        source = e.source();
    }
    WebhookError::Network(error_chain(&error))
}

/// An error and its causes, `: `-separated, cut to 200 characters.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = Some(error);
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    shorten(&parts.join(": "))
}

/// At most 200 characters of `text`, control characters as spaces.
fn shorten(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(REASON_CHARS)
        .collect::<String>()
        .trim()
        .to_string()
}

/// The start of an answer's body, read no further than needed.
async fn answer_start(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    // Four bytes a character at most.
    while bytes.len() < REASON_CHARS * 4 {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    shorten(&String::from_utf8_lossy(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn restricted(ip: &str) -> Option<Restricted> {
        classify(ip.parse().unwrap())
    }

    #[test]
    fn ipv4_addresses_off_the_internet_are_restricted() {
        for (ip, why) in [
            ("127.0.0.1", Restricted::Loopback),
            ("127.255.1.2", Restricted::Loopback),
            ("10.1.2.3", Restricted::Private),
            ("172.16.0.1", Restricted::Private),
            ("172.31.255.255", Restricted::Private),
            ("192.168.1.1", Restricted::Private),
            ("169.254.169.254", Restricted::LinkLocal),
            ("100.64.0.1", Restricted::SharedNat),
            ("100.127.255.255", Restricted::SharedNat),
            ("0.0.0.0", Restricted::Unspecified),
            ("0.1.2.3", Restricted::Unspecified),
            ("255.255.255.255", Restricted::Broadcast),
            ("192.0.2.1", Restricted::Documentation),
            ("198.51.100.7", Restricted::Documentation),
            ("203.0.113.9", Restricted::Documentation),
            ("224.0.0.1", Restricted::Multicast),
            ("239.255.255.250", Restricted::Multicast),
            ("240.0.0.1", Restricted::Reserved),
            ("198.18.0.1", Restricted::Reserved),
            ("192.0.0.8", Restricted::Reserved),
        ] {
            assert_eq!(restricted(ip), Some(why), "{ip}");
        }
    }

    #[test]
    fn public_ipv4_addresses_pass() {
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "1.1.1.1",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "192.169.0.1",
            "169.253.1.1",
            "223.255.255.254",
        ] {
            assert_eq!(restricted(ip), None, "{ip}");
        }
    }

    #[test]
    fn ipv6_addresses_off_the_internet_are_restricted() {
        for (ip, why) in [
            ("::1", Restricted::Loopback),
            ("::", Restricted::Unspecified),
            ("fe80::1", Restricted::LinkLocal),
            ("febf::1", Restricted::LinkLocal),
            ("fc00::1", Restricted::UniqueLocal),
            ("fd12:3456::1", Restricted::UniqueLocal),
            ("fec0::1", Restricted::Private),
            ("ff02::1", Restricted::Multicast),
            ("2001:db8::1", Restricted::Documentation),
            ("3fff::1", Restricted::Documentation),
            ("3fff:fff::1", Restricted::Documentation),
            ("2001::1", Restricted::Reserved),
            ("::127.0.0.1", Restricted::Reserved),
            ("100::1", Restricted::Reserved),
            ("64:ff9b:1::1", Restricted::Private),
        ] {
            assert_eq!(restricted(ip), Some(why), "{ip}");
        }
    }

    #[test]
    fn public_ipv6_addresses_pass() {
        for ip in [
            "2606:2800:220:1:248:1893:25c8:1946",
            "2a00:1450:4009:81f::200e",
            "2001:4860:4860::8888",
            "3ffe::1",
            "3fff:1000::1",
        ] {
            assert_eq!(restricted(ip), None, "{ip}");
        }
    }

    #[test]
    fn ipv4_in_ipv6_is_judged_by_the_ipv4_address() {
        for (ip, why) in [
            ("::ffff:127.0.0.1", Some(Restricted::Loopback)),
            ("::ffff:10.0.0.1", Some(Restricted::Private)),
            ("::ffff:169.254.169.254", Some(Restricted::LinkLocal)),
            ("::ffff:93.184.216.34", None),
            ("64:ff9b::192.168.0.1", Some(Restricted::Private)),
            ("64:ff9b::8.8.8.8", None),
            ("2002:7f00:1::1", Some(Restricted::Loopback)),
            ("2002:0a00:0001::1", Some(Restricted::Private)),
            ("2002:5db8:d822::1", None),
        ] {
            assert_eq!(restricted(ip), why, "{ip}");
        }
    }

    #[tokio::test]
    async fn urls_are_checked_for_form() {
        let long = format!("https://example.org/{}", "a".repeat(MAX_URL_CHARS));
        for (url, expected) in [
            ("ftp://93.184.216.34/", UrlRefused::Scheme("ftp".into())),
            ("mailto:a@example.org", UrlRefused::Scheme("mailto".into())),
            ("http://user:pw@93.184.216.34/", UrlRefused::UserInfo),
            ("http://user@93.184.216.34/", UrlRefused::UserInfo),
            (long.as_str(), UrlRefused::TooLong(long.chars().count())),
        ] {
            assert_eq!(check_url(url, true).await.unwrap_err(), expected, "{url}");
        }
        for url in ["/hooks", "hooks.example.org/x", "http://", ""] {
            let refused = check_url(url, true).await.unwrap_err();
            assert!(
                matches!(refused, UrlRefused::Malformed(_) | UrlRefused::NoHost),
                "{url}: {refused:?}"
            );
            assert!(refused.to_string().contains("https://"), "{refused}");
        }
    }

    #[tokio::test]
    async fn literal_addresses_are_checked_without_dns() {
        assert!(check_url("http://93.184.216.34/hook", false).await.is_ok());
        assert!(
            check_url("https://[2606:2800:220:1:248:1893:25c8:1946]/", false)
                .await
                .is_ok()
        );
        for url in [
            "http://127.0.0.1:8080/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://0x7f.1/",
            "http://2130706433/",
            "http://10.0.0.1/",
            "http://169.254.169.254/latest/meta-data",
        ] {
            let refused = check_url(url, false).await.unwrap_err();
            assert!(
                matches!(refused, UrlRefused::NotPublic { .. }),
                "{url}: {refused:?}"
            );
            assert!(refused
                .to_string()
                .starts_with("This address is on a private network"));
            assert!(check_url(url, true).await.is_ok(), "{url}");
        }
    }

    fn key() -> (tempfile::TempDir, LogKey) {
        let dir = tempfile::tempdir().unwrap();
        let (key, _) = LogKey::load_or_create(&dir.path().join("log.key")).unwrap();
        (dir, key)
    }

    #[test]
    fn a_webhook_secret_is_derived_from_the_key_and_the_id() {
        let (dir, key) = key();
        let first = Uuid::new_v4();
        let second = Uuid::new_v4();
        let secret = webhook_secret(&key, first);
        assert_eq!(webhook_secret(&key, first), secret);
        let (again, _) = LogKey::load_or_create(&dir.path().join("log.key")).unwrap();
        assert_eq!(
            webhook_secret(&again, first),
            secret,
            "same key, same secret"
        );
        assert_ne!(webhook_secret(&key, second), secret);
        let (_other_dir, other) = self::key();
        assert_ne!(webhook_secret(&other, first), secret);
        let encoded = secret.strip_prefix("whsec_").unwrap();
        assert_eq!(BASE64.decode(encoded).unwrap().len(), 32);
        assert!(standardwebhooks::Webhook::new(&secret).is_ok());
    }

    #[test]
    fn a_hook_is_signed_per_the_spec() {
        // The spec's reference vector (the Standard Webhooks libraries' tests).
        let hook = Hook {
            message_id: "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk".into(),
            url: "https://example.org/".into(),
            secret: "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD".into(),
            timestamp: chrono::DateTime::from_timestamp(1649367553, 0).unwrap(),
            body: serde_json::json!({"email": "test@example.com", "username": "test_user"}),
        };
        let call = sign(&hook).unwrap();
        assert_eq!(
            call.body,
            br#"{"email":"test@example.com","username":"test_user"}"#
        );
        assert_eq!(
            call.headers,
            vec![
                ("webhook-id", "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk".to_string()),
                ("webhook-timestamp", "1649367553".to_string()),
                (
                    "webhook-signature",
                    "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=".to_string()
                ),
                ("content-type", "application/json".to_string()),
            ]
        );
        let bad = Hook {
            secret: "whsec_not base64!".into(),
            ..hook
        };
        assert!(matches!(sign(&bad), Err(WebhookError::Secret(_))));
    }

    #[test]
    fn reasons_are_short() {
        let long = "x".repeat(500);
        assert_eq!(shorten(&long).len(), 200);
        assert_eq!(shorten("a\nb\r\n"), "a b");
    }
}
