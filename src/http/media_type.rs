//! The media types `/graphql` answers in, chosen from the request's `Accept`
//! header as GraphQL over HTTP says, and the status code each answer gets.
//!
//! - `application/graphql-response+json`: a request error (the document
//!   does not parse or validate, a variable cannot be coerced: the answer
//!   has no `data`) is answered 400; an answer with `data` is 200.
//! - `application/json` (also for no `Accept`, `*/*` and `application/*`):
//!   every answer to a well-formed request is 200, as the spec asks for
//!   clients that predate the new type.
//!
//! An `Accept` that names neither, nor a wildcard for them, is answered 406.
//! Errors found before GraphQL runs (a body that is not JSON, a missing
//! `query`, a bad token) keep their own status codes in either type.

use async_graphql::{BatchResponse, Response as GqlResponse};
use axum::http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// The media type of an answer from `/graphql`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    /// `application/graphql-response+json`, the GraphQL over HTTP type.
    GraphqlResponse,
    /// `application/json`, for clients that predate it.
    Json,
}

/// `Accept` names no media type this server can answer in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the Accept header names no media type this server answers in; accept application/graphql-response+json or application/json")]
pub struct NotAcceptable;

impl MediaType {
    const GRAPHQL_RESPONSE: &'static str = "application/graphql-response+json";
    const JSON: &'static str = "application/json";

    /// The media type `headers` accept, preferring the higher `q`, and
    /// `application/graphql-response+json` when both are as welcome.
    /// No `Accept` header means `application/json`.
    pub fn negotiate(headers: &HeaderMap) -> Result<MediaType, NotAcceptable> {
        let mut best: Option<(f32, MediaType)> = None;
        let mut any_header = false;
        for value in headers.get_all(ACCEPT) {
            any_header = true;
            let Ok(text) = value.to_str() else { continue };
            for item in text.split(',').filter(|item| !item.trim().is_empty()) {
                let Some((quality, offered)) = Self::offer(item) else {
                    continue;
                };
                let better = match best {
                    None => true,
                    Some((q, kind)) => {
                        quality > q
                            || (quality == q
                                && kind == MediaType::Json
                                && offered == MediaType::GraphqlResponse)
                    }
                };
                if quality > 0.0 && better {
                    best = Some((quality, offered));
                }
            }
        }
        match best {
            Some((_, media_type)) => Ok(media_type),
            None if !any_header => Ok(MediaType::Json),
            None => Err(NotAcceptable),
        }
    }

    /// What one `Accept` item offers, with its quality; `None` when it is
    /// not a media type this server answers in (or asks for a charset other
    /// than UTF-8).
    fn offer(item: &str) -> Option<(f32, MediaType)> {
        let mime: mime::Mime = item.trim().parse().ok()?;
        let quality = mime
            .get_param("q")
            .map_or(Some(1.0), |q| q.as_str().parse::<f32>().ok())?;
        if mime
            .get_param(mime::CHARSET)
            .is_some_and(|charset| charset != mime::UTF_8)
        {
            return None;
        }
        let offered = match mime.essence_str() {
            Self::GRAPHQL_RESPONSE => MediaType::GraphqlResponse,
            Self::JSON | "application/*" | "*/*" => MediaType::Json,
            _ => return None,
        };
        Some((quality, offered))
    }

    /// The `Content-Type` of an answer in this type.
    pub fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            MediaType::GraphqlResponse => Self::GRAPHQL_RESPONSE,
            MediaType::Json => Self::JSON,
        })
    }

    /// The status code of a GraphQL answer in this type: 400 for a request
    /// error in `application/graphql-response+json`, else 200.
    pub fn status(self, request_error: bool) -> StatusCode {
        match (self, request_error) {
            (MediaType::GraphqlResponse, true) => StatusCode::BAD_REQUEST,
            _ => StatusCode::OK,
        }
    }

    /// The HTTP answer for what the schema answered.
    pub fn answer(self, response: BatchResponse) -> Response {
        let request_error = match &response {
            BatchResponse::Single(single) => is_request_error(single),
            // A batch that ran is answered 200; each request error in it has
            // no `data`.
            BatchResponse::Batch(_) => false,
        };
        let cache_control = if response.is_ok() {
            response
                .cache_control()
                .value()
                .and_then(|value| HeaderValue::from_str(&value).ok())
        } else {
            None
        };
        let extra_headers = response.http_headers();
        let body = match response {
            BatchResponse::Single(single) => body(single),
            BatchResponse::Batch(many) => Value::Array(many.into_iter().map(body).collect()),
        };
        let mut answer = self.json(self.status(request_error), &body);
        if let Some(cache_control) = cache_control {
            answer.headers_mut().insert(CACHE_CONTROL, cache_control);
        }
        answer.headers_mut().extend(extra_headers);
        answer
    }

    /// An error found before GraphQL ran, with `extensions.code`, answered
    /// with `status` in this type.
    pub fn error(self, status: StatusCode, code: &str, message: String) -> Response {
        let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
        self.json(status, &body)
    }

    /// `body` as JSON in this type, with `status`.
    fn json(self, status: StatusCode, body: &Value) -> Response {
        let mut answer = (status, body.to_string()).into_response();
        answer
            .headers_mut()
            .insert(CONTENT_TYPE, self.content_type());
        answer
    }
}

/// Whether `response` is a request error: it failed before execution (the
/// document did not parse or validate, a variable could not be coerced, a
/// limit refused it), so it has errors, no data, and no error names a field
/// path. An error raised while executing always has a path, even when it
/// made all of `data` null.
pub fn is_request_error(response: &GqlResponse) -> bool {
    matches!(response.data, async_graphql::Value::Null)
        && !response.errors.is_empty()
        && response.errors.iter().all(|error| error.path.is_empty())
}

/// One answer as JSON: without `data` when it is a request error (GraphQL
/// over HTTP: a request error has no `data` entry).
fn body(response: GqlResponse) -> Value {
    let request_error = is_request_error(&response);
    let mut value = serde_json::to_value(&response).unwrap_or_else(|error| {
        tracing::error!(%error, "a GraphQL answer did not serialise");
        json!({ "errors": [{ "message": "internal error", "extensions": { "code": "INTERNAL" } }] })
    });
    if request_error {
        if let Some(object) = value.as_object_mut() {
            object.remove("data");
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(values: &[&str]) -> Result<MediaType, NotAcceptable> {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                ACCEPT,
                HeaderValue::from_str(value).expect("a header value"),
            );
        }
        MediaType::negotiate(&headers)
    }

    #[test]
    fn no_accept_and_wildcards_mean_json() {
        assert_eq!(accept(&[]), Ok(MediaType::Json));
        assert_eq!(accept(&["*/*"]), Ok(MediaType::Json));
        assert_eq!(accept(&["application/*"]), Ok(MediaType::Json));
        assert_eq!(
            accept(&["application/json; charset=utf-8"]),
            Ok(MediaType::Json)
        );
    }

    #[test]
    fn the_graphql_response_type_wins_unless_it_is_less_welcome() {
        assert_eq!(
            accept(&["application/graphql-response+json, application/json;q=0.9"]),
            Ok(MediaType::GraphqlResponse)
        );
        assert_eq!(
            accept(&["application/json, application/graphql-response+json"]),
            Ok(MediaType::GraphqlResponse)
        );
        assert_eq!(
            accept(&["application/graphql-response+json;q=0.5, application/json"]),
            Ok(MediaType::Json)
        );
        assert_eq!(
            accept(&["text/html", "application/graphql-response+json"]),
            Ok(MediaType::GraphqlResponse)
        );
    }

    #[test]
    fn nothing_answerable_is_not_acceptable() {
        assert_eq!(accept(&["text/html"]), Err(NotAcceptable));
        assert_eq!(accept(&["application/json;q=0"]), Err(NotAcceptable));
        assert_eq!(
            accept(&["application/json; charset=latin1"]),
            Err(NotAcceptable)
        );
        assert_eq!(accept(&["not a media type"]), Err(NotAcceptable));
    }

    #[test]
    fn request_errors_lose_data_and_field_errors_keep_it() {
        let refused = GqlResponse::from_errors(vec![async_graphql::ServerError::new("no", None)]);
        assert!(is_request_error(&refused));
        assert_eq!(body(refused).get("data"), None);

        let mut failed = async_graphql::ServerError::new("field failed", None);
        failed.path = vec![async_graphql::PathSegment::Field("me".into())];
        let propagated = GqlResponse::from_errors(vec![failed]);
        assert!(!is_request_error(&propagated));
        assert_eq!(body(propagated).get("data"), Some(&Value::Null));
    }
}
