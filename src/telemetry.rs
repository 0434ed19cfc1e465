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

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};

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
