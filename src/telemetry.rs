//! Logs and traces: the log lines on standard error, OpenTelemetry spans
//! exported over OTLP (HTTP/protobuf) when an endpoint is configured, and
//! W3C trace context (`traceparent`, `tracestate`) read from and written
//! to HTTP headers.
//!
//! Spans get OpenTelemetry trace and span ids whether or not anything is
//! exported, so a request's `traceparent` is always continued and answered;
//! only with an endpoint is an exporter built and are spans sent.

use std::io::IsTerminal as _;
use std::time::Duration;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
use opentelemetry::Context;
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_otlp::{WithExportConfig as _, OTEL_EXPORTER_OTLP_ENDPOINT};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::filter::{EnvFilter, Targets};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::Layer as _;

/// The service name spans are exported under unless `OTEL_SERVICE_NAME`
/// (or `service.name` in `OTEL_RESOURCE_ATTRIBUTES`) says otherwise.
pub const DEFAULT_SERVICE_NAME: &str = "advice-log";

/// The environment variable naming the traces endpoint in full.
const TRACES_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";

/// The path an OTLP/HTTP base endpoint is extended with for traces.
const TRACES_PATH: &str = "/v1/traces";

/// How long shutting down waits for the last spans to be sent.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Why logging or tracing could not start.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The OTLP exporter could not be built (a malformed endpoint, say).
    #[error("cannot export traces over OTLP: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    /// Another subscriber was installed first.
    #[error("cannot install the log subscriber: {0}")]
    Subscriber(#[from] tracing_subscriber::util::TryInitError),
}

/// Where spans are sent, if anywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Export {
    /// Nowhere: no exporter is built.
    Off,
    /// To the endpoint the standard `OTEL_EXPORTER_OTLP_*` variables name
    /// (the exporter reads them itself).
    FromEnvironment,
    /// To this traces URL (`--otlp-endpoint` and `/v1/traces`).
    To(String),
}

impl Export {
    /// What the configuration asks for: `--otlp-endpoint` (a base URL, as
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` is) wins; else the standard
    /// variables; `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`
    /// turn export off whatever else is set.
    pub fn configured(flag: Option<&str>) -> Export {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let disabled = var("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"))
            || var("OTEL_TRACES_EXPORTER").is_some_and(|v| v.eq_ignore_ascii_case("none"));
        if disabled {
            return Export::Off;
        }
        if let Some(base) = flag.map(str::trim).filter(|f| !f.is_empty()) {
            return Export::To(format!("{}{TRACES_PATH}", base.trim_end_matches('/')));
        }
        if var(TRACES_ENDPOINT).is_some() || var(OTEL_EXPORTER_OTLP_ENDPOINT).is_some() {
            return Export::FromEnvironment;
        }
        Export::Off
    }
}

/// The running telemetry: keep it until the end, then [`Telemetry::shutdown`]
/// so the last spans are sent.
#[derive(Debug)]
pub struct Telemetry {
    provider: SdkTracerProvider,
    exporting: bool,
}

impl Telemetry {
    /// Whether spans are being exported.
    pub fn exporting(&self) -> bool {
        self.exporting
    }

    /// Sends the spans not yet sent and stops the exporter (a blocking
    /// call, so it runs off the async workers).
    pub async fn shutdown(self) {
        let provider = self.provider;
        let done =
            tokio::task::spawn_blocking(move || provider.shutdown_with_timeout(SHUTDOWN_TIMEOUT))
                .await;
        match done {
            Ok(Ok(())) => {}
            Ok(Err(error)) => eprintln!("advice-log: could not send the last spans: {error}"),
            Err(error) => eprintln!("advice-log: could not send the last spans: {error}"),
        }
    }
}

/// Installs the log subscriber and the OpenTelemetry layer. Log lines go
/// to standard error as text (or JSON lines with `json`), filtered by
/// `ADVICE_LOG_LOG` (default `info`); spans of this crate at INFO and above
/// go to OpenTelemetry, and are exported as `export` says.
pub fn init(json: bool, export: &Export) -> Result<Telemetry, TelemetryError> {
    let provider = provider(export)?;
    let tracer = provider.tracer(DEFAULT_SERVICE_NAME);
    let filter =
        EnvFilter::try_from_env("ADVICE_LOG_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a person at a terminal, not in a file or a collector.
    let logs = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let logs = if json {
        logs.json().with_filter(filter).boxed()
    } else {
        logs.with_filter(filter).boxed()
    };
    let traces = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_filter(Targets::new().with_target("advice_log", tracing::Level::INFO));
    tracing_subscriber::registry()
        .with(logs)
        .with(traces)
        .try_init()?;
    Ok(Telemetry {
        provider,
        exporting: *export != Export::Off,
    })
}

/// The tracer provider: with a batching OTLP exporter when exporting, with
/// none otherwise (spans still get ids, for propagation).
fn provider(export: &Export) -> Result<SdkTracerProvider, TelemetryError> {
    let builder = SdkTracerProvider::builder();
    let exporter = match export {
        Export::Off => return Ok(builder.build()),
        Export::FromEnvironment => opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()?,
        Export::To(url) => opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(url.clone())
            .build()?,
    };
    let named = std::env::var("OTEL_SERVICE_NAME").is_ok_and(|name| !name.trim().is_empty())
        || std::env::var("OTEL_RESOURCE_ATTRIBUTES").is_ok_and(|a| a.contains("service.name="));
    let resource = if named {
        Resource::builder().build()
    } else {
        Resource::builder()
            .with_service_name(DEFAULT_SERVICE_NAME)
            .build()
    };
    Ok(builder
        .with_resource(resource)
        .with_batch_exporter(exporter)
        .build())
}

/// The trace context `headers` carry (`traceparent`, `tracestate`); an
/// empty context when they carry none or a malformed one.
pub fn extract(headers: &http::HeaderMap) -> Context {
    TraceContextPropagator::new().extract(&HeaderExtractor(headers))
}

/// Makes the trace context in `headers` the parent of `span`.
pub fn continue_from(span: &tracing::Span, headers: &http::HeaderMap) {
    let parent = extract(headers);
    if parent.has_active_span() {
        // Fails only for a span no layer records (logs and traces off).
        let _ = span.set_parent(parent);
    }
}

/// Writes `span`'s trace context into `headers` as `traceparent` (and
/// `tracestate` if there is one); nothing when the span has no ids.
pub fn inject(span: &tracing::Span, headers: &mut http::HeaderMap) {
    TraceContextPropagator::new().inject_context(&span.context(), &mut HeaderInjector(headers));
    // The propagator writes an empty `tracestate` when there is none; W3C
    // Trace Context asks that an empty one not be sent.
    if headers.get(TRACESTATE).is_some_and(|v| v.is_empty()) {
        headers.remove(TRACESTATE);
    }
}

/// The header of vendor-specific trace state.
const TRACESTATE: &str = "tracestate";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_names_the_base_url_and_traces_go_under_it() {
        // Only the flag is read when it is given (and export is not turned
        // off), so the environment of the test runner does not matter
        // unless it disables the SDK.
        if std::env::var("OTEL_SDK_DISABLED").is_ok()
            || std::env::var("OTEL_TRACES_EXPORTER").is_ok()
        {
            return;
        }
        assert_eq!(
            Export::configured(Some("http://collector:4318/")),
            Export::To("http://collector:4318/v1/traces".into())
        );
        assert_eq!(
            Export::configured(Some("http://collector:4318")),
            Export::To("http://collector:4318/v1/traces".into())
        );
    }

    #[test]
    fn a_traceparent_is_read_as_a_remote_parent() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "traceparent",
            http::HeaderValue::from_static(
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ),
        );
        let context = extract(&headers);
        use opentelemetry::trace::TraceContextExt as _;
        let span = context.span();
        let parent = span.span_context();
        assert!(parent.is_valid() && parent.is_remote());
        assert_eq!(
            parent.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(parent.span_id().to_string(), "00f067aa0ba902b7");
        assert!(!extract(&http::HeaderMap::new()).has_active_span());
    }
}
