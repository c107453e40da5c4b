//! GraphQL over WebSocket at `/graphql`: the `graphql-transport-ws`
//! subprotocol, served here as its protocol document says
//! (<https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md>).
//!
//! async-graphql-axum's handler cannot be configured to follow it: it
//! restarts a stream on a duplicate id instead of closing 4409, closes 1011
//! on a subscribe before `connection_ack`, 1002 on a malformed message or a
//! refused `connection_init`, sends a close reason longer than a control
//! frame may carry, answers validation errors as `next` and has no
//! `connection_init` timeout. So the protocol is written out here over
//! axum's WebSocket, and every operation runs through
//! [`LimitedSchema`](crate::graphql::limits::LimitedSchema)'s
//! `execute_stream`, under the same limits as over HTTP. The older
//! `graphql-ws` subprotocol (subscriptions-transport-ws) is not served.

use std::sync::Arc;
use std::time::Duration;

use async_graphql::parser::types::OperationType;
use async_graphql::{Data, Executor, Response, ServerError, Value, Variables};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::extract::{FromRequestParts, WebSocketUpgrade};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response as HttpResponse};
use futures::stream::{BoxStream, StreamExt};
use futures::SinkExt;
use serde::{Deserialize, Serialize};
use serde_json::Map;
use tokio_stream::StreamMap;

use super::AppState;
use crate::app::AppError;
use crate::graphql::views::proposal_loader;
use crate::graphql::{Credential, Viewer};

/// The subprotocol served.
pub const PROTOCOL: &str = "graphql-transport-ws";
/// How long a new socket has to send `connection_init` before it is closed
/// with 4408 (the `connectionInitWaitTimeout` of the protocol; 3 s, as the
/// reference server's default).
pub const CONNECTION_INIT_TIMEOUT: Duration = Duration::from_secs(3);
/// The most bytes of a close reason: a control frame carries at most 125
/// bytes of payload (RFC 6455, 5.5), two of them the code.
const MAX_REASON_BYTES: usize = 123;

/// Upgrades `GET /graphql` to a `graphql-transport-ws` socket. The token may
/// come in the upgrade request's `Authorization` header (already checked:
/// `viewer` and `credential`) or in the `connection_init` payload as
/// `{"Authorization": "Bearer <token>"}` (or `authorization`, or `token`); a
/// bad token there closes the socket with 4403. A client that offers no
/// subprotocol is accepted and closed with 4406, as the reference server
/// does; one that offers only others is answered with none, so its
/// handshake fails.
pub async fn upgrade(
    state: AppState,
    parts: &mut Parts,
    viewer: Viewer,
    credential: Option<Credential>,
) -> HttpResponse {
    let upgrade = match WebSocketUpgrade::from_request_parts(parts, &state).await {
        Ok(upgrade) => upgrade.protocols([PROTOCOL]),
        Err(rejection) => return rejection.into_response(),
    };
    let offered = upgrade.selected_protocol().is_some();
    upgrade.on_upgrade(move |socket| async move {
        let connection = Connection {
            state,
            viewer,
            credential,
            session: None,
            operations: StreamMap::new(),
        };
        if offered {
            connection.serve(socket).await;
        } else {
            let mut socket = socket;
            // The peer may be gone already; nothing is left to do then.
            let _ = socket.send(Close::SubprotocolNotAcceptable.frame()).await;
        }
    })
}

/// Why the server closes a socket, with the code of the protocol document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Close {
    /// 4400: a message the protocol does not define, or malformed.
    #[error("{0}")]
    BadRequest(String),
    /// 4401: `subscribe` before the connection was acknowledged.
    #[error("Unauthorized")]
    Unauthorized,
    /// 4403: `connection_init` with a token that is not valid.
    #[error("Forbidden")]
    Forbidden,
    /// 4406: the client offered no `graphql-transport-ws`.
    #[error("Subprotocol not acceptable")]
    SubprotocolNotAcceptable,
    /// 4408: no `connection_init` within [`CONNECTION_INIT_TIMEOUT`].
    #[error("Connection initialisation timeout")]
    InitTimeout,
    /// 4409: `subscribe` with the id of an operation still running.
    #[error("Subscriber for {0} already exists")]
    DuplicateId(String),
    /// 4429: a second `connection_init`.
    #[error("Too many initialisation requests")]
    TooManyInits,
    /// 4500: the server failed (logged with detail).
    #[error("Internal server error")]
    Internal,
}

impl Close {
    /// Its close code.
    pub fn code(&self) -> u16 {
        match self {
            Close::BadRequest(_) => 4400,
            Close::Unauthorized => 4401,
            Close::Forbidden => 4403,
            Close::SubprotocolNotAcceptable => 4406,
            Close::InitTimeout => 4408,
            Close::DuplicateId(_) => 4409,
            Close::TooManyInits => 4429,
            Close::Internal => 4500,
        }
    }

    /// The close frame, its reason cut to fit a control frame.
    pub fn frame(&self) -> Message {
        Message::Close(Some(CloseFrame {
            code: self.code(),
            reason: fit(&self.to_string()).into(),
        }))
    }
}

/// `reason` cut to at most [`MAX_REASON_BYTES`], on a character boundary.
fn fit(reason: &str) -> &str {
    let mut end = reason.len().min(MAX_REASON_BYTES);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason[..end]
}

/// A message from the client.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
    ConnectionInit {
        #[serde(default)]
        payload: Option<Map<String, serde_json::Value>>,
    },
    Ping {
        #[serde(default)]
        payload: Option<Map<String, serde_json::Value>>,
    },
    Pong {
        #[serde(default, rename = "payload")]
        _payload: Option<Map<String, serde_json::Value>>,
    },
    Subscribe {
        id: String,
        payload: SubscribePayload,
    },
    Complete {
        id: String,
    },
}

/// The operation a `subscribe` asks for.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubscribePayload {
    query: String,
    #[serde(default)]
    operation_name: Option<String>,
    #[serde(default)]
    variables: Option<Map<String, serde_json::Value>>,
    #[serde(default, rename = "extensions")]
    _extensions: Option<Map<String, serde_json::Value>>,
}

/// A message to the client.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ServerMessage<'a> {
    ConnectionAck,
    Pong {
        #[serde(skip_serializing_if = "Option::is_none")]
        payload: Option<Map<String, serde_json::Value>>,
    },
    Next {
        id: &'a str,
        payload: &'a Response,
    },
    Error {
        id: &'a str,
        payload: &'a [ServerError],
    },
    Complete {
        id: &'a str,
    },
}

/// What an operation has to say next.
enum Outcome {
    /// An execution result.
    Next(Response),
    /// Refused before it ran (parse, validation, limits, permission): the
    /// operation is over, with no `complete`.
    Error(Vec<ServerError>),
    /// It has ended.
    Complete,
}

/// One socket.
struct Connection {
    state: AppState,
    /// Who the upgrade request's `Authorization` header named.
    viewer: Viewer,
    credential: Option<Credential>,
    /// What every operation runs with, once the connection is acknowledged.
    session: Option<Arc<Data>>,
    /// The operations running, by id.
    operations: StreamMap<String, BoxStream<'static, Outcome>>,
}

/// What the socket heard next.
enum Heard {
    Client(Message),
    Operation(String, Outcome),
    InitTimeout,
    Gone,
}

impl Connection {
    /// Serves the socket until either side closes it.
    async fn serve(mut self, socket: WebSocket) {
        let (mut sink, mut incoming) = socket.split();
        let init_timeout = tokio::time::sleep(CONNECTION_INIT_TIMEOUT);
        tokio::pin!(init_timeout);
        loop {
            let heard = tokio::select! {
                message = incoming.next() => match message {
                    Some(Ok(message)) => Heard::Client(message),
                    Some(Err(_)) | None => Heard::Gone,
                },
                Some((id, outcome)) = self.operations.next(), if !self.operations.is_empty() => {
                    Heard::Operation(id, outcome)
                }
                () = &mut init_timeout, if self.session.is_none() => Heard::InitTimeout,
            };
            let reply = match heard {
                Heard::Gone => return,
                Heard::Client(Message::Close(_)) => {
                    // Sends the reply to the client's close frame.
                    let _ = sink.close().await;
                    return;
                }
                Heard::InitTimeout => Err(Close::InitTimeout),
                Heard::Client(message) => self.receive(message).await,
                Heard::Operation(id, outcome) => Ok(self.report(id, outcome)),
            };
            let sent = match reply {
                Ok(None) => continue,
                Ok(Some(text)) => sink.send(Message::Text(text.into())).await,
                Err(close) => {
                    // The peer may be gone already; the socket ends either way.
                    let _ = sink.send(close.frame()).await;
                    return;
                }
            };
            if sent.is_err() {
                return;
            }
        }
    }

    /// Handles a message from the client: what to answer, or why to close.
    async fn receive(&mut self, message: Message) -> Result<Option<String>, Close> {
        let text = match message {
            Message::Text(text) => text,
            Message::Binary(_) => {
                return Err(Close::BadRequest(
                    "messages are JSON text, not binary".into(),
                ))
            }
            // The WebSocket layer answers pings; `serve` handles a close.
            Message::Ping(_) | Message::Pong(_) | Message::Close(_) => return Ok(None),
        };
        let message: ClientMessage = serde_json::from_str(text.as_str())
            .map_err(|error| Close::BadRequest(format!("Invalid message: {error}")))?;
        match message {
            ClientMessage::ConnectionInit { payload } => self.init(payload).await,
            ClientMessage::Ping { payload } => encode(&ServerMessage::Pong { payload }).map(Some),
            ClientMessage::Pong { .. } => Ok(None),
            ClientMessage::Subscribe { id, payload } => {
                self.subscribe(id, payload)?;
                Ok(None)
            }
            ClientMessage::Complete { id } => {
                self.operations.remove(&id);
                Ok(None)
            }
        }
    }

    /// `connection_init`: authenticates and acknowledges, once.
    async fn init(
        &mut self,
        payload: Option<Map<String, serde_json::Value>>,
    ) -> Result<Option<String>, Close> {
        if self.session.is_some() {
            return Err(Close::TooManyInits);
        }
        let payload = serde_json::Value::Object(payload.unwrap_or_default());
        let mut data = Data::default();
        match init_token(&payload) {
            None => {
                data.insert(self.viewer);
                if let Some(credential) = self.credential.clone() {
                    data.insert(credential);
                }
            }
            Some(token) => match self.state.app.authenticate(token).await {
                Ok(actor) => {
                    data.insert(Viewer(Some(actor)));
                    data.insert(Credential(token.to_string()));
                }
                Err(AppError::Unauthenticated) => return Err(Close::Forbidden),
                Err(error) => {
                    tracing::error!(%error, "checking a token failed");
                    return Err(Close::Internal);
                }
            },
        }
        self.session = Some(Arc::new(data));
        encode(&ServerMessage::ConnectionAck).map(Some)
    }

    /// `subscribe`: starts the operation.
    fn subscribe(&mut self, id: String, payload: SubscribePayload) -> Result<(), Close> {
        let Some(session) = self.session.clone() else {
            return Err(Close::Unauthorized);
        };
        if id.is_empty() {
            return Err(Close::BadRequest("Invalid message: an empty id".into()));
        }
        if self.operations.contains_key(&id) {
            return Err(Close::DuplicateId(id));
        }
        let mut request = async_graphql::Request::new(payload.query)
            .data(proposal_loader(self.state.app.clone()));
        if let Some(name) = payload.operation_name {
            request = request.operation_name(name);
        }
        if let Some(variables) = payload.variables {
            request = request.variables(Variables::from_json(serde_json::Value::Object(variables)));
        }
        let subscription = is_subscription(&request);
        let results = self.state.schema.execute_stream(request, Some(session));
        self.operations
            .insert(id, outcomes(results, subscription).boxed());
        Ok(())
    }

    /// An operation's outcome as a message; an operation that is over is
    /// forgotten, so its id may be used again.
    fn report(&mut self, id: String, outcome: Outcome) -> Option<String> {
        let message = match &outcome {
            Outcome::Next(response) => ServerMessage::Next {
                id: &id,
                payload: response,
            },
            Outcome::Error(errors) => ServerMessage::Error {
                id: &id,
                payload: errors,
            },
            Outcome::Complete => ServerMessage::Complete { id: &id },
        };
        let text = encode(&message);
        if !matches!(outcome, Outcome::Next(_)) {
            self.operations.remove(&id);
        }
        match text {
            Ok(text) => Some(text),
            Err(_) => {
                self.operations.remove(&id);
                None
            }
        }
    }
}

/// An operation's results as outcomes: a first result that refuses the
/// operation before it ran is an `error`; otherwise each result is a `next`,
/// and the end a `complete`.
fn outcomes(
    results: BoxStream<'static, Response>,
    subscription: bool,
) -> impl futures::Stream<Item = Outcome> {
    futures::stream::unfold(
        (results, true, false),
        move |(mut results, first, over)| async move {
            if over {
                return None;
            }
            match results.next().await {
                None => Some((Outcome::Complete, (results, false, true))),
                Some(response) if first && refused(&response, subscription) => {
                    Some((Outcome::Error(response.errors), (results, false, true)))
                }
                Some(response) => Some((Outcome::Next(response), (results, false, false))),
            }
        },
    )
}

/// Whether a first result says the operation never ran: errors and no data,
/// and either a subscription (its event stream could not be set up: bad
/// arguments, no permission) or errors that belong to no field (parse,
/// validation, variables, limits).
fn refused(response: &Response, subscription: bool) -> bool {
    !response.errors.is_empty()
        && response.data == Value::Null
        && (subscription || response.errors.iter().all(|error| error.path.is_empty()))
}

/// Whether the request's operation is a subscription. A document that does
/// not parse is not (its errors belong to no field).
fn is_subscription(request: &async_graphql::Request) -> bool {
    super::graphql::selects_any(request, |ty| ty == OperationType::Subscription)
}

/// A server message as JSON text, or a 4500 close if it cannot be written.
fn encode(message: &ServerMessage<'_>) -> Result<String, Close> {
    serde_json::to_string(message).map_err(|error| {
        tracing::error!(%error, "a WebSocket message could not be written as JSON");
        Close::Internal
    })
}

/// The bearer token in a `connection_init` payload, if any.
fn init_token(payload: &serde_json::Value) -> Option<&str> {
    ["Authorization", "authorization", "token"]
        .iter()
        .find_map(|key| payload.get(*key).and_then(serde_json::Value::as_str))
        .map(|value| value.strip_prefix("Bearer ").unwrap_or(value).trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_close_reason_fits_a_control_frame() {
        let long = Close::DuplicateId("é".repeat(200));
        let Message::Close(Some(frame)) = long.frame() else {
            panic!("a close frame");
        };
        assert_eq!(frame.code, 4409);
        assert!(frame.reason.as_str().len() <= MAX_REASON_BYTES);
        assert!(frame.reason.as_str().starts_with("Subscriber for é"));
    }

    #[test]
    fn an_unknown_type_or_a_subscribe_without_payload_does_not_parse() {
        for text in [
            r#"{"type":"what"}"#,
            r#"{"id":"1","type":"subscribe"}"#,
            r#"{"type":"connection_init","payload":"x"}"#,
            "not JSON",
        ] {
            assert!(
                serde_json::from_str::<ClientMessage>(text).is_err(),
                "{text}"
            );
        }
        assert!(serde_json::from_str::<ClientMessage>(
            r#"{"type":"connection_init","payload":null}"#
        )
        .is_ok());
    }
}
