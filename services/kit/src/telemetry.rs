//! Logging and tracing: a `tracing` subscriber (text or JSON), OTLP trace export when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set, and W3C trace-context propagation through gRPC
//! metadata and Kafka headers.

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Flushes pending spans when dropped or shut down; keep it alive for the process.
#[derive(Debug, Default)]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl TelemetryGuard {
    /// Exports spans that are still buffered. Called during drain.
    pub fn shutdown(&mut self) {
        if let Some(Err(err)) = self.provider.take().map(|p| p.shutdown()) {
            eprintln!("trace export shutdown failed: {err}");
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Installs the global subscriber. `RUST_LOG` filters (default info); `TRIBE_LOG_FORMAT=json`
/// switches to JSON lines. Safe to call more than once (later calls only keep the first).
pub fn init(service: &str) -> anyhow::Result<TelemetryGuard> {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = crate::config::var("TRIBE_LOG_FORMAT").is_some_and(|f| f == "json");
    let fmt = if json {
        tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_filter(filter())
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .with_target(false)
            .with_filter(filter())
            .boxed()
    };

    // Spans always get OpenTelemetry contexts so W3C trace context flows through every
    // hop and event; they are exported only when an OTLP endpoint is configured.
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(format!("tribe-{service}"))
        .build();
    let mut builder = SdkTracerProvider::builder().with_resource(resource);
    if crate::config::var("OTEL_EXPORTER_OTLP_ENDPOINT").is_some() {
        builder = builder.with_batch_exporter(
            opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .build()?,
        );
    }
    let provider = builder.build();
    let otel = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer(format!("tribe-{service}")))
        .with_filter(filter());
    let provider = Some(provider);

    // A second init (several services in one test process) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(fmt)
        .with(otel)
        .try_init();
    Ok(TelemetryGuard { provider })
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

struct MapInjector<'a>(&'a mut Vec<(String, String)>);

impl Injector for MapInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.push((key.to_string(), value));
    }
}

/// The span for one incoming call, continuing the caller's W3C trace context.
pub fn server_span(request: &http::Request<()>) -> tracing::Span {
    let span = tracing::info_span!(
        "grpc.request",
        otel.kind = "server",
        rpc.system = "grpc",
        rpc.method = %request.uri().path(),
    );
    let parent = TraceContextPropagator::new().extract(&HeaderExtractor(request.headers()));
    let _ = span.set_parent(parent);
    span
}

/// W3C headers (`traceparent`, `tracestate`) of the current span, for outgoing gRPC
/// metadata, Kafka headers and event envelopes.
pub fn current_trace_headers() -> Vec<(String, String)> {
    let mut headers = Vec::new();
    let cx = tracing::Span::current().context();
    TraceContextPropagator::new().inject_context(&cx, &mut MapInjector(&mut headers));
    headers
}

/// Adds the current trace context to an outgoing tonic request.
pub fn inject_into_request<T>(request: &mut tonic::Request<T>) {
    for (key, value) in current_trace_headers() {
        if let (Ok(key), Ok(value)) = (
            key.parse::<tonic::metadata::MetadataKey<_>>(),
            value.parse(),
        ) {
            request.metadata_mut().insert(key, value);
        }
    }
}
