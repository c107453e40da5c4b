//! Every request's id, span and log line. A request gets an `x-request-id`
//! (the client's, or a new UUID) that its answer carries back; a span
//! `request` with its method, path, route and id (and, traced, its status), which continues
//! the client's W3C trace context (`traceparent`, `tracestate`) and is
//! exported when tracing is configured; and one log line when it finishes,
//! at INFO (ERROR for a 5xx), with its status and latency. Every line logged
//! while the request runs shows the span's fields, the request id among
//! them. The answer carries `traceparent` for the request's span.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, Response};
use axum::middleware::Next;
use axum::Router;
use tower_http::classify::ServerErrorsFailureClass;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::field::Empty;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::telemetry;

/// The header a request's id travels in, both ways.
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps `router` in the request id, span and log layers (outermost: the
/// id is set before the span is made, so the span carries it).
pub fn around(router: Router) -> Router {
    router
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(axum::middleware::from_fn(answer_traceparent))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_request(())
                .on_response(finished)
                .on_failure(failed),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// The span of one request, a child of the trace context it came with.
fn request_span(request: &Request<Body>) -> Span {
    let method = request.method().as_str();
    let path = request.uri().path();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let name = match route {
        Some(route) => format!("{method} {route}"),
        None => method.to_string(),
    };
    let span = tracing::info_span!(
        "request",
        otel.name = %name,
        otel.kind = %"server",
        otel.status_code = Empty,
        method = %method,
        path = %path,
        request_id = %request_id,
    );
    span.set_attribute("http.request.method", method.to_string());
    span.set_attribute("url.path", path.to_string());
    if let Some(route) = route {
        span.set_attribute("http.route", route.to_string());
    }
    telemetry::continue_from(&span, request.headers());
    span
}

/// The request's log line, once its answer's head is ready.
fn finished(response: &Response<Body>, latency: Duration, span: &Span) {
    let status = response.status().as_u16();
    let latency_ms = latency.as_secs_f64() * 1000.0;
    span.set_attribute("http.response.status_code", i64::from(status));
    if response.status().is_server_error() {
        span.record("otel.status_code", "ERROR");
        tracing::error!(status, latency_ms, "request failed");
    } else {
        tracing::info!(status, latency_ms, "request finished");
    }
}

/// A failure other than a 5xx status (a 5xx is logged by [`finished`]):
/// the answer's body broke off.
fn failed(failure: ServerErrorsFailureClass, latency: Duration, span: &Span) {
    if let ServerErrorsFailureClass::Error(error) = failure {
        span.record("otel.status_code", "ERROR");
        let latency_ms = latency.as_secs_f64() * 1000.0;
        tracing::error!(%error, latency_ms, "the answer's body failed");
    }
}

/// Adds `traceparent` (and `tracestate`) for the request's span to the
/// answer, so a client can find the server's part of its trace.
async fn answer_traceparent(request: Request, next: Next) -> axum::response::Response {
    let mut response = next.run(request).await;
    telemetry::inject(&Span::current(), response.headers_mut());
    response
}
