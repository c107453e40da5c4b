//! The `/graphql` handlers. They read the request themselves so that a
//! malformed or oversized body gets a GraphQL-shaped error with a code.

use async_graphql::http::parse_query_string;
use async_graphql::parser::types::OperationType;
use async_graphql::BatchRequest;
use async_graphql_axum::GraphQLResponse;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::AppState;

/// `POST /graphql` with a JSON body: one request or a batch.
pub async fn post(State(state): State<AppState>, body: Result<Bytes, BytesRejection>) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return request_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the request body is larger than {} bytes", state.body_limit),
            )
        }
        Err(rejection) => return request_error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    let request: BatchRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                format!("the request body is not a GraphQL request in JSON: {error}"),
            )
        }
    };
    GraphQLResponse::from(state.schema.execute_batch(request).await).into_response()
}

/// `GET /graphql?query=...`: queries only, as GraphQL over HTTP allows.
pub async fn get(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let request = match parse_query_string(query.as_deref().unwrap_or_default()) {
        Ok(request) => request,
        Err(error) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                format!("bad GraphQL GET request: {error}"),
            )
        }
    };
    if changes_state(&request) {
        return request_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "mutations and subscriptions must be sent with POST".into(),
        );
    }
    GraphQLResponse::from(state.schema.execute(request).await).into_response()
}

/// Whether a GET request names anything but a query. A document that does
/// not parse is left for execution to report.
fn changes_state(request: &async_graphql::Request) -> bool {
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    document.operations.iter().any(|(name, operation)| {
        let selected = match (&request.operation_name, name) {
            (Some(wanted), Some(name)) => wanted.as_str() == name.as_str(),
            (Some(_), None) => false,
            (None, _) => true,
        };
        selected && operation.node.ty != OperationType::Query
    })
}

/// An error before execution, shaped like a GraphQL response.
fn request_error(status: StatusCode, message: String) -> Response {
    let body =
        json!({ "errors": [{ "message": message, "extensions": { "code": "INVALID_INPUT" } }] });
    (status, Json(body)).into_response()
}
