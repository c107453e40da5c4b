//! The `/graphql` handlers. They read the request themselves so that a
//! malformed or oversized body gets a GraphQL-shaped error with a code.

use async_graphql::http::parse_query_string;
use async_graphql::parser::types::OperationType;
use async_graphql::Executor;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Request, State};
use axum::http::header::UPGRADE;
use axum::http::header::{ALLOW, AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;

use super::media_type::{MediaType, NotAcceptable};
use super::request_body;
use super::AppState;
use crate::graphql::request_errors::REQUEST_ERROR_CODE;
use crate::graphql::views::proposal_loader;

/// The header that asks to read at least a given log position.
pub const MIN_POSITION: &str = "advice-log-min-position";
/// How long a read waits for the read models to reach that position.
const READ_YOUR_WRITES: std::time::Duration = std::time::Duration::from_secs(5);
use crate::app::AppError;
use crate::graphql::{Credential, Viewer};

/// `POST /graphql` with a JSON body: one request or a batch, answered in
/// the media type `Accept` asks for (see [`MediaType`]).
pub async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let media = match MediaType::negotiate(&headers) {
        Ok(media) => media,
        Err(refusal) => return not_acceptable(refusal),
    };
    if !is_json(&headers) {
        return media.error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            REQUEST_ERROR_CODE,
            "send the request as JSON, with the header `Content-Type: application/json`".into(),
        );
    }
    let viewer = match viewer(&state, &headers, media).await {
        Ok(viewer) => viewer,
        Err(response) => return response,
    };
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return media.error(
                StatusCode::PAYLOAD_TOO_LARGE,
                REQUEST_ERROR_CODE,
                format!("the request body is larger than {} bytes", state.body_limit),
            )
        }
        Err(rejection) => {
            return media.error(
                StatusCode::BAD_REQUEST,
                REQUEST_ERROR_CODE,
                rejection.body_text(),
            )
        }
    };
    let request = match request_body::parse(&body) {
        Ok(request) => request,
        Err(error) => {
            return media.error(
                StatusCode::BAD_REQUEST,
                REQUEST_ERROR_CODE,
                error.to_string(),
            )
        }
    };
    if let Err(response) = read_your_writes(&state, &headers, media).await {
        return response;
    }
    let mut request = request.data(viewer);
    for single in request.iter_mut() {
        single.data.insert(proposal_loader(state.app.clone()));
    }
    media.answer(state.schema.execute_batch(request).await)
}

/// `GET /graphql`: a WebSocket upgrade (`graphql-transport-ws`, see
/// [`super::websocket`]) for subscriptions, or `?query=...` for queries only, as
/// GraphQL over HTTP allows: a mutation is answered 405 with `Allow: POST`.
pub async fn get(State(state): State<AppState>, request: Request) -> Response {
    let (mut parts, _) = request.into_parts();
    let media = if parts.headers.contains_key(UPGRADE) {
        MediaType::Json
    } else {
        match MediaType::negotiate(&parts.headers) {
            Ok(media) => media,
            Err(refusal) => return not_acceptable(refusal),
        }
    };
    let viewer = match viewer(&state, &parts.headers, media).await {
        Ok(viewer) => viewer,
        Err(response) => return response,
    };
    if parts.headers.contains_key(UPGRADE) {
        let credential = header_token(&parts.headers).map(|t| Credential(t.to_string()));
        return super::websocket::upgrade(state, &mut parts, viewer, credential).await;
    }
    let request = match parse_query_string(parts.uri.query().unwrap_or_default()) {
        Ok(request) => request,
        Err(error) => {
            return media.error(
                StatusCode::BAD_REQUEST,
                REQUEST_ERROR_CODE,
                format!("bad GraphQL GET request: {error}"),
            )
        }
    };
    if changes_state(&request) {
        let mut refused = media.error(
            StatusCode::METHOD_NOT_ALLOWED,
            REQUEST_ERROR_CODE,
            "mutations and subscriptions must be sent with POST (subscriptions over a WebSocket)"
                .into(),
        );
        refused
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return refused;
    }
    if let Err(response) = read_your_writes(&state, &parts.headers, media).await {
        return response;
    }
    let request = request
        .data(viewer)
        .data(proposal_loader(state.app.clone()));
    media.answer(state.schema.execute(request).await.into())
}

/// The 406 answer to an `Accept` this server cannot satisfy (in
/// `application/json`, which any client can read).
fn not_acceptable(refusal: NotAcceptable) -> Response {
    MediaType::Json.error(
        StatusCode::NOT_ACCEPTABLE,
        REQUEST_ERROR_CODE,
        refusal.to_string(),
    )
}

/// Whether a GET request names anything but a query. A document that does
/// not parse is left for execution to report.
fn changes_state(request: &async_graphql::Request) -> bool {
    selects_any(request, |ty| ty != OperationType::Query)
}

/// Whether the operation `request` selects (its `operationName`, or every
/// operation when it names none) is of a type `wanted` accepts. A document
/// that does not parse selects nothing.
pub(super) fn selects_any(
    request: &async_graphql::Request,
    wanted: impl Fn(OperationType) -> bool,
) -> bool {
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    document.operations.iter().any(|(name, operation)| {
        let selected = match (&request.operation_name, name) {
            (Some(wanted), Some(name)) => wanted.as_str() == name.as_str(),
            (Some(_), None) => false,
            (None, _) => true,
        };
        selected && wanted(operation.node.ty)
    })
}

/// The caller named by the `Authorization` header: nobody if there is none;
/// a header that is not a good bearer token is answered 401 `UNAUTHENTICATED`
/// with a `WWW-Authenticate: Bearer` challenge (RFC 6750) and nothing else.
pub async fn viewer(
    state: &AppState,
    headers: &HeaderMap,
    media: MediaType,
) -> Result<Viewer, Response> {
    if !headers.contains_key(AUTHORIZATION) {
        return Ok(Viewer(None));
    }
    let Some(token) = header_token(headers) else {
        return Err(unauthorized(
            media,
            BEARER_CHALLENGE,
            "the Authorization header must be `Bearer <token>`",
        ));
    };
    match state.app.authenticate(token).await {
        Ok(actor) => Ok(Viewer(Some(actor))),
        Err(AppError::Unauthenticated) => Err(unauthorized(
            media,
            INVALID_TOKEN_CHALLENGE,
            "the token is not valid: unknown, revoked or malformed",
        )),
        Err(error) => {
            tracing::error!(%error, "checking a token failed");
            Err(media.error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "internal error".into(),
            ))
        }
    }
}

/// The challenge to a request without a bearer token (RFC 6750, 3).
const BEARER_CHALLENGE: &str = "Bearer realm=\"advice-log\"";
/// The challenge to a request whose bearer token is not valid.
const INVALID_TOKEN_CHALLENGE: &str = "Bearer realm=\"advice-log\", error=\"invalid_token\", error_description=\"the token is unknown, revoked or malformed\"";

/// A 401 `UNAUTHENTICATED` answer with its `WWW-Authenticate` challenge.
fn unauthorized(media: MediaType, challenge: &'static str, message: &str) -> Response {
    let mut answer = media.error(
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
        message.to_string(),
    );
    answer
        .headers_mut()
        .insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    answer
}

/// Whether the request says its body is JSON (`application/json`, with
/// any parameters such as `charset=utf-8`).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// The token of a `Authorization: Bearer <token>` header, if it has one.
fn header_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// Read-your-writes: a request with `Advice-Log-Min-Position: N` runs only
/// once every read model has applied position N (a mutation answers the
/// position it wrote). It waits up to five seconds, then answers 503
/// `CONFLICT` so the client can retry.
async fn read_your_writes(
    state: &AppState,
    headers: &HeaderMap,
    media: MediaType,
) -> Result<(), Response> {
    let Some(value) = headers.get(MIN_POSITION) else {
        return Ok(());
    };
    let position = value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .ok_or_else(|| {
            media.error(
                StatusCode::BAD_REQUEST,
                REQUEST_ERROR_CODE,
                format!("{MIN_POSITION} must be a log position"),
            )
        })?;
    if state.app.wait_for(position, READ_YOUR_WRITES).await {
        Ok(())
    } else {
        Err(media.error(
            StatusCode::SERVICE_UNAVAILABLE,
            "CONFLICT",
            format!("the read models have not reached position {position} yet; retry"),
        ))
    }
}
