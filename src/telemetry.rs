//! Logging: `tracing` events to stderr, as text or JSON lines, filtered by
//! `RUST_LOG` (default `info`).
//!
//! A request formats its line and hands it to a queue; a thread of its own
//! writes the queue to stderr through a buffer, flushed whenever the queue
//! is empty, so a request never waits on a write (one syscall per burst,
//! not per line). A full queue drops lines rather than slow requests, and
//! counts them (`relief_log_lines_dropped_total`). The queue is written out
//! when the [`LogGuard`] `init` returns is dropped, at the end of `main`,
//! so no line is lost on SIGTERM.
//!
//! Access lines, one per request, are the log's bulk: they skip `tracing`'s
//! formatter ([`access`]) and are written straight to the queue, in the
//! same text or JSON shape, with a timestamp formatted once a second. That
//! cut their cost from about 1.7x a cached request's CPU to the target of
//! 1.15x (bench/README.md).
//!
//! Traces: with `--otlp-endpoint`, each request is a span (named by its
//! method and route template, with its status), a child of the caller's
//! span when a `traceparent` names one, and each database call a child
//! span of it, exported over OTLP/HTTP in batches by a thread of the
//! OpenTelemetry SDK. Without it, no layer wants those spans, so making
//! one costs a check of a cached flag.
//!
//! A malformed request is the client's error, not the server's, yet
//! actix-http logs each one at ERROR before any of our code sees it: anyone
//! could flood the log. Those events are counted
//! (`relief_http_malformed_requests_total`) instead of logged, unless
//! `RUST_LOG` names `actix_http` to ask for them.

use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState, TracerProvider as _,
};
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::{Resource, trace::SdkTracerProvider};
use tracing::{
    Event, Level, Metadata, Span,
    field::{Empty, Field, Visit},
};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::{
    EnvFilter, Layer,
    filter::{FilterExt, Targets, filter_fn},
    layer::{Context, Filter, SubscriberExt},
    util::SubscriberInitExt,
};

use std::{
    cell::RefCell,
    io::Write as _,
    sync::OnceLock,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use tracing_appender::non_blocking::{NonBlocking, NonBlockingBuilder, WorkerGuard};

use crate::metrics::{DROPPED_LOG_LINES, MALFORMED_REQUESTS};

/// Lines the queue holds before it drops new ones: at the 2,000-byte
/// ceiling of an access line, 32 MiB; a burst that fills it is one the
/// disk or the collector cannot take anyway.
const QUEUED_LINES: usize = 16_384;

/// The buffer between the writing thread and stderr.
const WRITE_BUFFER_BYTES: usize = 64 * 1024;

/// The target of the spans exported over OTLP: requests and their
/// database calls. The log's own layer never takes them.
pub const SPAN_TARGET: &str = "relief_api::otel";

/// Whether spans are exported (`--otlp-endpoint`): when not, no span is
/// made at all, so tracing costs a load of this flag.
static EXPORTING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether request and database spans are exported.
pub fn exporting_spans() -> bool {
    EXPORTING.load(std::sync::atomic::Ordering::Relaxed)
}

/// Writes out every queued line, and exports the spans not yet sent, when
/// dropped; hold it until `main` ends.
#[must_use = "dropping the guard stops the log writer"]
pub struct LogGuard {
    _writer: WorkerGuard,
    traces: Option<SdkTracerProvider>,
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        if let Some(traces) = self.traces.take()
            && let Err(error) = traces.shutdown()
        {
            tracing::warn!("the last spans were not exported: {error}");
        }
    }
}

/// `--otlp-endpoint` could not be used.
#[derive(Debug, thiserror::Error)]
#[error("--otlp-endpoint `{endpoint}`: {reason}")]
pub struct TraceExportError {
    endpoint: String,
    reason: String,
}

/// The span exporter to `endpoint` (an OTLP/HTTP base URL).
fn tracer_provider(endpoint: &str) -> Result<SdkTracerProvider, TraceExportError> {
    let error = |reason: String| TraceExportError {
        endpoint: endpoint.to_owned(),
        reason,
    };
    if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
        return Err(error("expected an http:// or https:// URL".into()));
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
        .build()
        .map_err(|e| error(e.to_string()))?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name("relief-api").build())
        .build())
}

/// A span for one request, exported when OTLP is on (else a disabled span,
/// at no cost): a child of the caller's span when its `traceparent` named
/// one (`parent`: its span id and flags, in trace `trace_id`). Returns the
/// span and the trace it belongs to (a new one the exporter made, when the
/// caller named none).
pub fn request_span(
    method: &str,
    trace_id: [u8; 16],
    parent: Option<([u8; 8], u8)>,
) -> (Span, [u8; 16]) {
    // Off, no span is made at all: making even a disabled one asks every
    // layer's filter, on every request.
    if !exporting_spans() {
        return (Span::none(), trace_id);
    }
    let span = tracing::info_span!(
        target: SPAN_TARGET,
        "request",
        otel.name = method,
        otel.kind = "server",
        otel.status_code = Empty,
        http.request.method = method,
        http.route = Empty,
        http.response.status_code = Empty,
    );
    if span.is_disabled() {
        return (span, trace_id);
    }
    if let Some((parent_id, flags)) = parent {
        let caller = SpanContext::new(
            TraceId::from_bytes(trace_id),
            SpanId::from_bytes(parent_id),
            TraceFlags::new(flags),
            true,
            TraceState::default(),
        );
        let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(caller));
    }
    let trace = span.context().span().span_context().trace_id();
    if trace == TraceId::INVALID {
        return (span, trace_id);
    }
    (span, trace.to_bytes())
}

/// Names a request's span by its route template, with its status.
pub fn request_answered(span: &Span, method: &str, route: &str, status: u16) {
    if span.is_disabled() {
        return;
    }
    // Started already (its trace id was read), so renamed through OTel.
    span.context()
        .span()
        .update_name(format!("{method} {route}"));
    span.record("http.route", route);
    span.record("http.response.status_code", i64::from(status));
    if status >= 500 {
        span.record("otel.status_code", "ERROR");
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One human-readable line per event.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Installs the global subscriber (and, with `otlp_endpoint`, the span
/// exporter); call once, first thing in `main`, and keep the guard it
/// returns until the end of `main`.
pub fn init(format: LogFormat, otlp_endpoint: Option<&str>) -> Result<LogGuard, TraceExportError> {
    let traces = otlp_endpoint.map(tracer_provider).transpose()?;
    let directives = std::env::var("RUST_LOG").ok();
    let show_client_errors = directives
        .as_deref()
        .is_some_and(|d| d.contains("actix_http"));
    let filter = directives
        .and_then(|d| EnvFilter::try_new(d).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let (writer, guard) = NonBlockingBuilder::default()
        .buffered_lines_limit(QUEUED_LINES)
        .lossy(true)
        .thread_name("relief-log")
        .finish(std::io::BufWriter::with_capacity(
            WRITE_BUFFER_BYTES,
            std::io::stderr(),
        ));
    let _ = DROPPED_LOG_LINES.set(writer.error_counter());
    let _ = ACCESS.set(AccessWriter {
        writer: writer.clone(),
        json: format == LogFormat::Json,
    });
    let fmt = tracing_subscriber::fmt::layer().with_writer(writer);
    let fmt = match format {
        LogFormat::Text => fmt.boxed(),
        LogFormat::Json => fmt
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .boxed(),
    };
    let client_errors = ClientErrors {
        show: show_client_errors,
    };
    let spans = traces.as_ref().map(|traces| {
        tracing_opentelemetry::layer()
            .with_tracer(traces.tracer("relief-api"))
            .with_filter(Targets::new().with_target(SPAN_TARGET, Level::TRACE))
    });
    // `access` asks `tracing::enabled!` whether access lines are wanted,
    // and two shapes of this stack made it answer yes under `RUST_LOG=warn`
    // (since b6ce4a2): per-layer filters nested three deep, where the outer
    // one letting the target through was enough, and a `None` layer for
    // traces off, which enables every callsite. So: one filter, and no
    // traces layer at all when there are no traces.
    let logs = fmt.with_filter(
        filter_fn(|meta| meta.target() != SPAN_TARGET)
            .and(filter)
            .and(client_errors),
    );
    match spans {
        Some(spans) => tracing_subscriber::registry().with(logs).with(spans).init(),
        None => tracing_subscriber::registry().with(logs).init(),
    }
    EXPORTING.store(traces.is_some(), std::sync::atomic::Ordering::Relaxed);
    Ok(LogGuard {
        _writer: guard,
        traces,
    })
}

/// Where access lines go once logging is installed.
struct AccessWriter {
    writer: NonBlocking,
    json: bool,
}

static ACCESS: OnceLock<AccessWriter> = OnceLock::new();

/// The target access lines are logged under, for `RUST_LOG`.
pub const ACCESS_TARGET: &str = "relief_api::access";

/// One request, as its access line tells it.
#[derive(Debug)]
pub struct AccessLine<'a> {
    pub method: &'a str,
    pub route: &'a str,
    pub status: u16,
    /// From the request's arrival to its response's head.
    pub latency: Duration,
    pub bytes: u64,
    pub request_id: &'a str,
    /// The W3C trace the request belongs to (written as 32 hex digits).
    pub trace_id: [u8; 16],
    pub cached: bool,
    /// A probe (`/healthz`, ...): logged at debug, not info.
    pub probe: bool,
}

thread_local! {
    /// The line being written, and the timestamp of the current second.
    static LINE: RefCell<(Vec<u8>, u64, String)> = const { RefCell::new((Vec::new(), u64::MAX, String::new())) };
}

/// Logs `line` if `RUST_LOG` lets access lines through at its level.
pub fn access(line: &AccessLine<'_>) {
    let enabled = if line.probe {
        tracing::enabled!(target: "relief_api::access", tracing::Level::DEBUG)
    } else {
        tracing::enabled!(target: "relief_api::access", tracing::Level::INFO)
    };
    if !enabled {
        return;
    }
    let Some(access) = ACCESS.get() else {
        // Logging not installed (a test's in-process app): through tracing.
        let AccessLine {
            method,
            route,
            status,
            latency,
            bytes,
            request_id,
            trace_id,
            cached,
            ..
        } = line;
        let trace_id = std::str::from_utf8(&hex(trace_id))
            .unwrap_or_default()
            .to_owned();
        let latency_ms = latency.as_secs_f64() * 1000.0;
        tracing::info!(target: "relief_api::access", method, route, status, latency_ms, bytes, request_id, trace_id, cached);
        return;
    };
    LINE.with_borrow_mut(|(out, second, stamp)| {
        out.clear();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        if now.as_secs() != *second {
            *second = now.as_secs();
            *stamp = rfc3339_second(now.as_secs());
        }
        let micros = u64::from(now.subsec_micros());
        let cached: &[u8] = if line.cached { b"true" } else { b"false" };
        // Appended piece by piece, not through `write!`: the formatting
        // machinery was half of what a line cost the request's thread.
        let put = |out: &mut Vec<u8>, parts: &[&[u8]]| {
            parts.iter().for_each(|part| out.extend_from_slice(part));
        };
        if access.json {
            put(out, &[b"{\"timestamp\":\"", stamp.as_bytes(), b"."]);
            padded(out, micros, 6);
            let level: &[u8] = if line.probe { b"DEBUG" } else { b"INFO" };
            put(out, &[b"Z\",\"level\":\"", level, b"\",\"method\":"]);
            json_string(out, line.method);
            put(out, &[b",\"route\":"]);
            json_string(out, line.route);
            numbers(
                out,
                line,
                [b",\"status\":", b",\"latency_ms\":", b",\"bytes\":"],
            );
            put(out, &[b",\"request_id\":"]);
            json_string(out, line.request_id);
            put(
                out,
                &[
                    b",\"trace_id\":\"",
                    &hex(&line.trace_id),
                    b"\",\"cached\":",
                    cached,
                    b",\"target\":\"",
                    ACCESS_TARGET.as_bytes(),
                    b"\"}\n",
                ],
            );
        } else {
            put(out, &[stamp.as_bytes(), b"."]);
            padded(out, micros, 6);
            let level: &[u8] = if line.probe { b"Z DEBUG " } else { b"Z  INFO " };
            put(
                out,
                &[
                    level,
                    ACCESS_TARGET.as_bytes(),
                    b": method=",
                    line.method.as_bytes(),
                    b" route=",
                    line.route.as_bytes(),
                ],
            );
            numbers(out, line, [b" status=", b" latency_ms=", b" bytes="]);
            put(
                out,
                &[
                    b" request_id=",
                    line.request_id.as_bytes(),
                    b" trace_id=",
                    &hex(&line.trace_id),
                    b" cached=",
                    cached,
                    b"\n",
                ],
            );
        }
        // One write: one message on the queue. A full queue drops it, counted.
        let _ = access.writer.clone().write_all(out);
    });
}

/// Appends `line`'s status, latency and size, each after its label.
fn numbers(out: &mut Vec<u8>, line: &AccessLine<'_>, labels: [&[u8]; 3]) {
    out.extend_from_slice(labels[0]);
    decimal(out, line.status.into());
    out.extend_from_slice(labels[1]);
    millis(out, line.latency);
    out.extend_from_slice(labels[2]);
    decimal(out, line.bytes);
}

/// Appends `n` in decimal.
fn decimal(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Appends `n` in decimal, zero-padded to `width` digits.
fn padded(out: &mut Vec<u8>, n: u64, width: usize) {
    let mut buffer = itoa::Buffer::new();
    let digits = buffer.format(n);
    out.resize(out.len() + width.saturating_sub(digits.len()), b'0');
    out.extend_from_slice(digits.as_bytes());
}

/// Appends a duration in milliseconds to the microsecond (`12.345`), where
/// an `f64`'s shortest form could read `0.09668299999999999`.
fn millis(out: &mut Vec<u8>, latency: Duration) {
    let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
    decimal(out, micros / 1000);
    out.push(b'.');
    padded(out, micros % 1000, 3);
}

/// `bytes` in lower-case hex, by table: formatting a trace id through
/// `fmt` on every request cost a measurable share of a cached answer.
fn hex(bytes: &[u8; 16]) -> [u8; 32] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0; 32];
    for (i, byte) in bytes.iter().enumerate() {
        out[2 * i] = DIGITS[usize::from(byte >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(byte & 0xf)];
    }
    out
}

/// `text` as a JSON string.
fn json_string(out: &mut Vec<u8>, text: &str) {
    // Writing into a `Vec` cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

/// `2026-12-02T16:35:08` for a Unix time in seconds (UTC).
fn rfc3339_second(seconds: u64) -> String {
    let days = i64::try_from(seconds / 86_400).unwrap_or(0);
    let rest = seconds % 86_400;
    format!(
        "{}T{:02}:{:02}:{:02}",
        crate::content::Date::from_days(days),
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Keeps actix-http's reports of malformed requests out of the log, and
/// counts them.
struct ClientErrors {
    show: bool,
}

impl<S> Filter<S> for ClientErrors {
    fn enabled(&self, _: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        true
    }

    fn event_enabled(&self, event: &Event<'_>, _: &Context<'_, S>) -> bool {
        if !is_client_error(event) {
            return true;
        }
        MALFORMED_REQUESTS.inc();
        self.show
    }
}

/// actix-http's "stream error: request parse error ..." (a malformed head)
/// and "MAX_BUFFER_SIZE unprocessed data reached" (an oversized one).
fn is_client_error(event: &Event<'_>) -> bool {
    let metadata = event.metadata();
    if *metadata.level() != Level::ERROR || !metadata.target().starts_with("actix_http::h1") {
        return false;
    }
    let mut message = Message(false);
    event.record(&mut message);
    message.0
}

struct Message(bool);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let text = format!("{value:?}");
            self.0 = text.starts_with("stream error") || text.starts_with("MAX_BUFFER_SIZE");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc_3339_in_utc() {
        assert_eq!(rfc3339_second(0), "1970-01-01T00:00:00");
        assert_eq!(rfc3339_second(951_782_400), "2000-02-29T00:00:00");
        assert_eq!(rfc3339_second(1_796_229_308), "2026-12-02T16:35:08");
    }

    #[test]
    fn latencies_are_milliseconds_to_the_microsecond() {
        let millis = |nanos| {
            let mut out = Vec::new();
            millis(&mut out, Duration::from_nanos(nanos));
            String::from_utf8(out).unwrap()
        };
        assert_eq!(millis(96_683_999), "96.683");
        assert_eq!(millis(1_000_000), "1.000");
        assert_eq!(millis(45_000), "0.045");
        assert_eq!(millis(999), "0.000");
        assert_eq!(millis(12_345_678_000), "12345.678");
    }
}
