//! The service's metrics in the Prometheus text format: requests, errors
//! by code, append latency, projector lag, whether this server leads. A leaf: the layers below record
//! into it, and the HTTP layer serves it at `/metrics`
//! (`crate::http::metrics`); it knows nothing of either.

use std::sync::LazyLock;

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

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
    leader: IntGauge,
    notifications: IntGaugeVec,
    oldest_undelivered: IntGauge,
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
            leader: IntGauge::new(
                "leader",
                "1 while this server leads on its database (writes the shared read models, issues checkpoints), else 0",
            )?,
            notifications: IntGaugeVec::new(
                Opts::new(
                    "notifications",
                    "Outbox rows by state: queued (due, not delivered), scheduled, sent, failed, cancelled",
                ),
                &["state"],
            )?,
            oldest_undelivered: IntGauge::new(
                "notifications_oldest_undelivered_seconds",
                "Age of the oldest notification due and not yet delivered (0 when none waits)",
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
        metrics
            .registry
            .register(Box::new(metrics.leader.clone()))?;
        metrics
            .registry
            .register(Box::new(metrics.notifications.clone()))?;
        metrics
            .registry
            .register(Box::new(metrics.oldest_undelivered.clone()))?;
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

/// Counts and times one HTTP request by its route and status.
pub fn request(route: &str, status: &str, seconds: f64) {
    if let Some(metrics) = METRICS.as_ref() {
        metrics.requests.with_label_values(&[route, status]).inc();
        metrics
            .request_seconds
            .with_label_values(&[route])
            .observe(seconds);
    }
}

/// Where the log and its followers stand, for the gauges.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// The log's head, if it could be read.
    pub head: Option<u64>,
    /// The position the read-model tables applied.
    pub projector: u64,
    /// The position the in-memory directory applied.
    pub directory: u64,
    /// The position the read models cannot apply (0 while they apply the log).
    pub stalled: u64,
    /// Whether this server leads on its database.
    pub leader: bool,
    /// The outbox, if it could be read.
    pub notifications: Option<Outbox>,
}

/// The outbox's rows by state, for the gauges.
#[derive(Debug, Clone, Copy, Default)]
pub struct Outbox {
    /// Due and not yet delivered.
    pub queued: u64,
    /// Not yet due.
    pub scheduled: u64,
    /// Delivered.
    pub sent: u64,
    /// Given up on.
    pub failed: u64,
    /// Not sent on purpose.
    pub cancelled: u64,
    /// Seconds since the oldest undelivered row fell due.
    pub oldest_undelivered_seconds: u64,
}

/// The metrics in the Prometheus text format with the gauges set from
/// `progress`; `None` if metrics are unavailable.
pub fn render(progress: Progress) -> Option<Vec<u8>> {
    let metrics = METRICS.as_ref()?;
    let gauge = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
    if let Some(head) = progress.head {
        metrics.head.set(gauge(head));
        metrics
            .projector_lag
            .set(gauge(head.saturating_sub(progress.projector)));
        metrics
            .directory_lag
            .set(gauge(head.saturating_sub(progress.directory)));
    }
    metrics.projector_stalled.set(gauge(progress.stalled));
    metrics.leader.set(i64::from(progress.leader));
    if let Some(outbox) = progress.notifications {
        for (state, value) in [
            ("queued", outbox.queued),
            ("scheduled", outbox.scheduled),
            ("sent", outbox.sent),
            ("failed", outbox.failed),
            ("cancelled", outbox.cancelled),
        ] {
            metrics
                .notifications
                .with_label_values(&[state])
                .set(gauge(value));
        }
        metrics
            .oldest_undelivered
            .set(gauge(outbox.oldest_undelivered_seconds));
    }
    let mut buffer = Vec::new();
    if let Err(error) = TextEncoder::new().encode(&metrics.registry.gather(), &mut buffer) {
        tracing::error!(%error, "could not encode the metrics");
    }
    Some(buffer)
}
