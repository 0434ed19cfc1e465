//! Prometheus metrics: what the server does (requests by route template and
//! status, latency, requests in flight), what it serves (content reloads, the
//! revision, the article count) and the process itself.

use std::sync::{LazyLock, OnceLock};

use tracing_appender::non_blocking::ErrorCounter;

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

/// How many log lines the writer dropped because its queue was full (see
/// `telemetry`); unset when logging is not installed (tests, subcommands).
pub static DROPPED_LOG_LINES: OnceLock<ErrorCounter> = OnceLock::new();

/// Requests actix-http refused while parsing them, counted for `/metrics`
/// (shared by every server in the process, as the log is).
pub static MALFORMED_REQUESTS: LazyLock<IntCounter> = LazyLock::new(|| {
    IntCounter::new(
        "http_malformed_requests_total",
        "Requests refused while their head was parsed (malformed or oversized), before routing; \
         counted, not logged.",
    )
    .expect("valid metric")
});

/// The server's metrics, in a registry of their own (so that several servers
/// in one process, as in tests, do not mix their numbers).
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
    pub in_flight: IntGauge,
    reloads: IntCounterVec,
    revision: IntGaugeVec,
    articles: IntGauge,
    response_cache: IntCounterVec,
    log_lines_dropped: IntCounter,
    webhooks: IntCounterVec,
}

/// The metric handles of one route, method and status, resolved once: a
/// response answered from the response cache is counted without looking
/// labels up.
#[derive(Clone)]
pub struct RouteMetrics {
    route: Box<str>,
    requests: IntCounter,
    duration: Histogram,
}

impl RouteMetrics {
    /// The route template (the `route` label).
    pub fn route(&self) -> &str {
        &self.route
    }

    /// Counts one answered request.
    pub fn observe(&self, seconds: f64) {
        self.requests.inc();
        self.duration.observe(seconds);
    }
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("relief".into()), None).expect("a valid prefix");
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests answered, by route template, method and status.",
            ),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time to answer a request, by route template.",
            )
            .buckets(vec![
                0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.05, 0.25, 1.0,
            ]),
            &["route"],
        )
        .expect("valid metric");
        let in_flight = IntGauge::new("http_requests_in_flight", "Requests being answered now.")
            .expect("valid metric");
        let reloads = IntCounterVec::new(
            Opts::new(
                "content_reloads_total",
                "Content reloads, by result (ok or failed).",
            ),
            &["result"],
        )
        .expect("valid metric");
        let revision = IntGaugeVec::new(
            Opts::new(
                "content_info",
                "The content being served: 1 for its revision.",
            ),
            &["revision"],
        )
        .expect("valid metric");
        let articles =
            IntGauge::new("content_articles", "Articles being served.").expect("valid metric");
        let response_cache = IntCounterVec::new(
            Opts::new(
                "response_cache_lookups_total",
                "Content requests looked up in the response cache, by result (hit or miss).",
            ),
            &["result"],
        )
        .expect("valid metric");
        let log_lines_dropped = IntCounter::new(
            "log_lines_dropped_total",
            "Log lines dropped because the log writer's queue was full.",
        )
        .expect("valid metric");
        let webhooks = IntCounterVec::new(
            Opts::new(
                "webhook_deliveries_total",
                "Webhook delivery tries, by outcome: delivered, failed (tried again later), dead (given up).",
            ),
            &["outcome"],
        )
        .expect("valid metric");
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(webhooks.clone()),
            Box::new(duration.clone()),
            Box::new(in_flight.clone()),
            Box::new(reloads.clone()),
            Box::new(revision.clone()),
            Box::new(articles.clone()),
            Box::new(response_cache.clone()),
            Box::new(MALFORMED_REQUESTS.clone()),
            Box::new(log_lines_dropped.clone()),
            Box::new(prometheus::process_collector::ProcessCollector::for_self()),
        ] {
            registry
                .register(collector)
                .expect("each metric is registered once");
        }
        // Both results exist from the start, so a dashboard shows 0, not nothing.
        reloads.with_label_values(&["ok"]);
        reloads.with_label_values(&["failed"]);
        for outcome in ["delivered", "failed", "dead"] {
            webhooks.with_label_values(&[outcome]);
        }
        Self {
            registry,
            requests,
            duration,
            in_flight,
            reloads,
            revision,
            articles,
            response_cache,
            log_lines_dropped,
            webhooks,
        }
    }

    /// Counts one webhook delivery try by its outcome.
    pub fn webhook(&self, outcome: &str) {
        self.webhooks.with_label_values(&[outcome]).inc();
    }

    /// The counters of response cache hits and misses.
    pub fn response_cache(&self) -> (IntCounter, IntCounter) {
        (
            self.response_cache.with_label_values(&["hit"]),
            self.response_cache.with_label_values(&["miss"]),
        )
    }

    /// The metric handles of one route, method and status.
    pub fn route(&self, route: &str, method: &str, status: u16) -> RouteMetrics {
        let (requests, duration) = self.handles(route, method, status);
        RouteMetrics {
            route: route.into(),
            requests,
            duration,
        }
    }

    /// Counts one answered request.
    pub fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let (requests, duration) = self.handles(route, method, status);
        requests.inc();
        duration.observe(seconds);
    }

    /// The request counter and latency histogram of one route, method and status.
    fn handles(&self, route: &str, method: &str, status: u16) -> (IntCounter, Histogram) {
        let buffer = itoa_status(status);
        let status = std::str::from_utf8(&buffer[..]).unwrap_or("000");
        (
            self.requests.with_label_values(&[route, method, status]),
            self.duration.with_label_values(&[route]),
        )
    }

    /// Records the content now served: its revision and how many articles.
    pub fn content_served(&self, revision: &str, articles: usize) {
        self.revision.reset();
        self.revision.with_label_values(&[revision]).set(1);
        self.articles
            .set(i64::try_from(articles).unwrap_or(i64::MAX));
    }

    /// Counts a reload.
    pub fn reloaded(&self, ok: bool) {
        self.reloads
            .with_label_values(&[if ok { "ok" } else { "failed" }])
            .inc();
    }

    /// The metrics in Prometheus text format.
    pub fn render(&self) -> String {
        // The writer counts its drops itself; the counter catches up here.
        let dropped = DROPPED_LOG_LINES
            .get()
            .map_or(0, |counter| counter.dropped_lines() as u64);
        self.log_lines_dropped
            .inc_by(dropped.saturating_sub(self.log_lines_dropped.get()));
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("encoding to memory cannot fail");
        String::from_utf8(out).expect("the text format is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// A status code as three ASCII digits, without allocating.
fn itoa_status(status: u16) -> [u8; 3] {
    let status = status.min(999);
    [
        b'0' + (status / 100) as u8,
        b'0' + (status / 10 % 10) as u8,
        b'0' + (status % 10) as u8,
    ]
}
