//! The body of a `POST /graphql`, read as GraphQL over HTTP says: a JSON
//! object (or, for a batch, a non-empty array of them) with a string
//! `query`, and `operationName`, `variables` and `extensions` that are
//! absent, null, or of their type. Anything else is not a well-formed
//! GraphQL-over-HTTP request and is answered 400 before GraphQL runs.

use async_graphql::BatchRequest;
use serde_json::{Map, Value};

/// Why a body is not a GraphQL-over-HTTP request.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The body is not JSON.
    #[error("the request body is not JSON: {0}")]
    NotJson(serde_json::Error),
    /// The JSON is not a request object or a non-empty array of them.
    #[error(
        "the request body must be a JSON object with a `query` (or a non-empty array of them)"
    )]
    NotARequest,
    /// `query` is missing or not a string.
    #[error("the request must have a `query` that is a string of GraphQL")]
    Query,
    /// A parameter is of the wrong type.
    #[error("`{name}` must be {expected} or null")]
    Parameter {
        /// The parameter.
        name: &'static str,
        /// What it must be.
        expected: &'static str,
    },
    /// It has the shape, but async-graphql does not read it.
    #[error("the request body is not a GraphQL request: {0}")]
    Request(serde_json::Error),
}

/// Reads a `POST /graphql` body into the request or batch it holds.
pub fn parse(body: &[u8]) -> Result<BatchRequest, BodyError> {
    let value: Value = serde_json::from_slice(body).map_err(BodyError::NotJson)?;
    let value = match value {
        Value::Object(request) => Value::Object(well_formed(request)?),
        Value::Array(requests) if !requests.is_empty() => Value::Array(
            requests
                .into_iter()
                .map(|request| match request {
                    Value::Object(request) => well_formed(request).map(Value::Object),
                    _ => Err(BodyError::NotARequest),
                })
                .collect::<Result<_, _>>()?,
        ),
        _ => return Err(BodyError::NotARequest),
    };
    serde_json::from_value(value).map_err(BodyError::Request)
}

/// An optional parameter: its name, what it must be, and the test of that.
type Parameter = (&'static str, &'static str, fn(&Value) -> bool);

/// Checks one request's parameters, dropping those that are null (the same
/// as absent).
fn well_formed(mut request: Map<String, Value>) -> Result<Map<String, Value>, BodyError> {
    if !matches!(request.get("query"), Some(Value::String(_))) {
        return Err(BodyError::Query);
    }
    let checks: [Parameter; 3] = [
        ("operationName", "a string", Value::is_string),
        ("variables", "an object", Value::is_object),
        ("extensions", "an object", Value::is_object),
    ];
    for (name, expected, fits) in checks {
        match request.get(name) {
            None => {}
            Some(Value::Null) => {
                request.remove(name);
            }
            Some(value) if fits(value) => {}
            Some(_) => return Err(BodyError::Parameter { name, expected }),
        }
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(body: &str) -> Result<BatchRequest, BodyError> {
        parse(body.as_bytes())
    }

    #[test]
    fn a_request_and_a_batch_are_read() {
        assert!(matches!(
            read(
                r#"{"query": "{ a }", "operationName": null, "variables": null, "extensions": null}"#
            ),
            Ok(BatchRequest::Single(_))
        ));
        assert!(matches!(
            read(
                r#"{"query": "query Q { a }", "operationName": "Q", "variables": {"x": 1}, "extensions": {"e": 1}}"#
            ),
            Ok(BatchRequest::Single(_))
        ));
        assert!(matches!(
            read(r#"[{"query": "{ a }"}, {"query": "{ b }"}]"#),
            Ok(BatchRequest::Batch(requests)) if requests.len() == 2
        ));
    }

    #[test]
    fn what_is_not_a_request_is_refused() {
        assert!(matches!(read("{ \"not JSON"), Err(BodyError::NotJson(_))));
        assert!(matches!(read(""), Err(BodyError::NotJson(_))));
        assert!(matches!(read("[]"), Err(BodyError::NotARequest)));
        assert!(matches!(read("3"), Err(BodyError::NotARequest)));
        for query in [
            r#"{"qeury": "{ a }"}"#,
            r#"{"query": 0}"#,
            r#"{"query": ["x"]}"#,
        ] {
            assert!(matches!(read(query), Err(BodyError::Query)), "{query}");
        }
        for (body, name) in [
            (r#"{"query": "{ a }", "operationName": 0}"#, "operationName"),
            (r#"{"query": "{ a }", "variables": "x"}"#, "variables"),
            (r#"{"query": "{ a }", "variables": [1]}"#, "variables"),
            (r#"{"query": "{ a }", "extensions": false}"#, "extensions"),
        ] {
            assert!(
                matches!(read(body), Err(BodyError::Parameter { name: n, .. }) if n == name),
                "{body}"
            );
        }
    }
}
