//! The service's metrics, served at `/metrics` in the Prometheus text
//! format: requests, errors by code, append latency, projector lag.

use std::sync::LazyLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

use crate::http::AppState;

/// The metrics of this process.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    request_seconds: HistogramVec,
    errors: IntCounterVec,
    append_seconds: Histogram,
    batch_commands: Histogram,
    head: IntGauge,
    projector_lag: IntGauge,
    projector_stalled: IntGauge,
    directory_lag: IntGauge,
}

static METRICS: LazyLock<Option<Metrics>> = LazyLock::new(|| match Metrics::new() {
    Ok(metrics) => Some(metrics),
    Err(error) => {
        tracing::error!(%error, "metrics are unavailable");
        None
    }
});

impl Metrics {
    fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new_custom(Some("advice_log".into()), None)?;
        let metrics = Metrics {
            requests: IntCounterVec::new(
                Opts::new("http_requests_total", "HTTP requests by route and status"),
                &["route", "status"],
            )?,
            request_seconds: HistogramVec::new(
                HistogramOpts::new("http_request_seconds", "HTTP request latency by route"),
                &["route"],
            )?,
            errors: IntCounterVec::new(
                Opts::new("errors_total", "GraphQL errors answered, by code"),
                &["code"],
            )?,
            append_seconds: Histogram::with_opts(
                HistogramOpts::new(
                    "append_batch_seconds",
                    "Time to commit one group-commit batch",
                )
                .buckets(vec![
                    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0,
                ]),
            )?,
            batch_commands: Histogram::with_opts(
                HistogramOpts::new(
                    "append_batch_commands",
                    "Commands in one group-commit batch",
                )
                .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 512.0]),
            )?,
            head: IntGauge::new("log_head", "Position of the last event in the log")?,
            projector_lag: IntGauge::new(
                "projector_lag_events",
                "Events the read-model tables are behind the log",
            )?,
            projector_stalled: IntGauge::new(
                "projector_stalled_position",
                "Position of the event the read models cannot apply (0 while they apply the log)",
            )?,
            directory_lag: IntGauge::new(
                "directory_lag_events",
                "Events the in-memory directory is behind the log",
            )?,
            registry,
        };
        metrics
            .registry
            .register(Box::new(metrics.requests.clone()))?;
        metrics
            .registry
            .register(Box::new(metrics.request_seconds.clone()))?;
        metrics
            .registry
            .register(Box::new(metrics.errors.clone()))?;
        metrics
            .registry
            .register(Box::new(metrics.append_seconds.clone()))?;
        metrics
            .registry
            .register(Box::new(metrics.batch_commands.clone()))?;
        metrics.registry.register(Box::new(metrics.head.clone()))?;
        metrics
            .registry
            .register(Box::new(metrics.projector_lag.clone()))?;
        metrics
            .registry
            .register(Box::new(metrics.projector_stalled.clone()))?;
        metrics
            .registry
            .register(Box::new(metrics.directory_lag.clone()))?;
        Ok(metrics)
    }
}

/// Counts a GraphQL error answered with `code`.
pub fn error(code: &str) {
    if let Some(metrics) = METRICS.as_ref() {
        metrics.errors.with_label_values(&[code]).inc();
    }
}

/// Records one committed batch: how long it took and how many commands it held.
pub fn batch(seconds: f64, commands: usize) {
    if let Some(metrics) = METRICS.as_ref() {
        metrics.append_seconds.observe(seconds);
        metrics.batch_commands.observe(commands as f64);
    }
}

/// Batches committed so far in this process: (batches, seconds spent
/// committing them, commands they held).
pub fn batch_totals() -> (u64, f64, f64) {
    match METRICS.as_ref() {
        Some(metrics) => (
            metrics.append_seconds.get_sample_count(),
            metrics.append_seconds.get_sample_sum(),
            metrics.batch_commands.get_sample_sum(),
        ),
        None => (0, 0.0, 0.0),
    }
}

/// Counts and times every request by its route.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let started = Instant::now();
    let response = next.run(request).await;
    if let Some(metrics) = METRICS.as_ref() {
        metrics
            .requests
            .with_label_values(&[route.as_str(), response.status().as_str()])
            .inc();
        metrics
            .request_seconds
            .with_label_values(&[route.as_str()])
            .observe(started.elapsed().as_secs_f64());
    }
    response
}

/// `GET /metrics`.
pub async fn serve(State(state): State<AppState>) -> Response {
    let Some(metrics) = METRICS.as_ref() else {
        return (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "metrics are unavailable\n",
        )
            .into_response();
    };
    if let Ok(head) = state.app.store.head().await {
        let lag = |applied: u64| i64::try_from(head.saturating_sub(applied)).unwrap_or(i64::MAX);
        metrics.head.set(i64::try_from(head).unwrap_or(i64::MAX));
        metrics
            .projector_lag
            .set(lag(state.app.projector.applied()));
        metrics.directory_lag.set(lag(state.app.read.position()));
    }
    let stalled = state
        .app
        .projector
        .stall()
        .map_or(0, |stall| stall.position);
    metrics
        .projector_stalled
        .set(i64::try_from(stalled).unwrap_or(i64::MAX));
    let mut buffer = Vec::new();
    if let Err(error) = TextEncoder::new().encode(&metrics.registry.gather(), &mut buffer) {
        tracing::error!(%error, "could not encode the metrics");
    }
    ([("content-type", "text/plain; version=0.0.4")], buffer).into_response()
}
