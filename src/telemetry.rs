//! Logging: `tracing` events to stderr, as text or JSON lines, filtered by
//! `RUST_LOG` (default `info`).
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

use crate::metrics::MALFORMED_REQUESTS;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One human-readable line per event.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Installs the global subscriber; call once, first thing in `main`.
pub fn init(format: LogFormat) {
    let directives = std::env::var("RUST_LOG").ok();
    let show_client_errors = directives
        .as_deref()
        .is_some_and(|d| d.contains("actix_http"));
    let filter = directives
        .and_then(|d| EnvFilter::try_new(d).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
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
