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
//! A malformed request is the client's error, not the server's, yet
//! actix-http logs each one at ERROR before any of our code sees it: anyone
//! could flood the log. Those events are counted
//! (`relief_http_malformed_requests_total`) instead of logged, unless
//! `RUST_LOG` names `actix_http` to ask for them.

use tracing::{
    Event, Level, Metadata,
    field::{Field, Visit},
};
use tracing_subscriber::{
    EnvFilter, Layer,
    layer::{Context, Filter, SubscriberExt},
    util::SubscriberInitExt,
};

use std::{
    cell::RefCell,
    io::Write as _,
    sync::OnceLock,
    time::{SystemTime, UNIX_EPOCH},
};

use tracing_appender::non_blocking::{NonBlocking, NonBlockingBuilder, WorkerGuard};

use crate::metrics::{DROPPED_LOG_LINES, MALFORMED_REQUESTS};

/// Lines the queue holds before it drops new ones: at the 2,000-byte
/// ceiling of an access line, 32 MiB; a burst that fills it is one the
/// disk or the collector cannot take anyway.
const QUEUED_LINES: usize = 16_384;

/// The buffer between the writing thread and stderr.
const WRITE_BUFFER_BYTES: usize = 64 * 1024;

/// Writes out every queued line when dropped; hold it until `main` ends.
#[must_use = "dropping the guard stops the log writer"]
pub struct LogGuard {
    _writer: WorkerGuard,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One human-readable line per event.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Installs the global subscriber; call once, first thing in `main`, and
/// keep the guard it returns until the end of `main`.
pub fn init(format: LogFormat) -> LogGuard {
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
    tracing_subscriber::registry()
        .with(fmt.with_filter(client_errors).with_filter(filter))
        .init();
    LogGuard { _writer: guard }
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
    pub latency_ms: f64,
    pub bytes: u64,
    pub request_id: &'a str,
    /// The W3C trace the request belongs to (32 hex digits).
    pub trace_id: &'a str,
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
            latency_ms,
            bytes,
            request_id,
            trace_id,
            cached,
            ..
        } = line;
        tracing::info!(target: "relief_api::access", method, route, status, latency_ms, bytes, request_id, trace_id, cached);
        return;
    };
    LINE.with_borrow_mut(|(out, second, stamp)| {
        out.clear();
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        if now.as_secs() != *second {
            *second = now.as_secs();
            *stamp = rfc3339_second(now.as_secs());
        }
        let level = if line.probe { "DEBUG" } else { " INFO" };
        let micros = now.subsec_micros();
        let _ = if access.json {
            write!(
                out,
                "{{\"timestamp\":\"{stamp}.{micros:06}Z\",\"level\":\"{}\",\"method\":",
                level.trim_start()
            )
            .and_then(|()| json_string(out, line.method))
            .and_then(|()| out.write_all(b",\"route\":"))
            .and_then(|()| json_string(out, line.route))
            .and_then(|()| {
                write!(
                    out,
                    ",\"status\":{},\"latency_ms\":{},\"bytes\":{},\"request_id\":",
                    line.status, line.latency_ms, line.bytes
                )
            })
            .and_then(|()| json_string(out, line.request_id))
            .and_then(|()| {
                // A trace id is hex, which needs no escaping.
                writeln!(
                    out,
                    ",\"trace_id\":\"{}\",\"cached\":{},\"target\":\"{ACCESS_TARGET}\"}}",
                    line.trace_id, line.cached
                )
            })
        } else {
            writeln!(
                out,
                "{stamp}.{micros:06}Z {level} {ACCESS_TARGET}: method={} route={} status={} latency_ms={} bytes={} request_id={} trace_id={} cached={}",
                line.method,
                line.route,
                line.status,
                line.latency_ms,
                line.bytes,
                line.request_id,
                line.trace_id,
                line.cached
            )
        };
        // One write: one message on the queue. A full queue drops it, counted.
        let _ = access.writer.clone().write_all(out);
    });
}

/// `text` as a JSON string.
fn json_string(out: &mut Vec<u8>, text: &str) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, text).map_err(std::io::Error::other)
}

/// `2026-12-02T16:35:08` for a Unix time in seconds (UTC).
fn rfc3339_second(seconds: u64) -> String {
    // Civil from days (H. Hinnant), as content dates are made.
    let days = i64::try_from(seconds / 86_400).unwrap_or(0);
    let rest = seconds % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
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
}
