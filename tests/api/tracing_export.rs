//! Traces over OTLP/HTTP: with `--otlp-endpoint`, each request is a span in
//! the caller's trace, its database calls child spans, exported to a small
//! OTLP/HTTP receiver this test runs.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpListener,
    sync::mpsc,
    time::Duration,
};

use opentelemetry_proto::tonic::{
    collector::trace::v1::ExportTraceServiceRequest, common::v1::any_value::Value, trace::v1::Span,
};
use prost::Message as _;

use crate::helpers::{SLUG, ServerProcess};

/// One POST the receiver took: its path, content type and body.
struct Export {
    path: String,
    content_type: String,
    body: Vec<u8>,
}

/// An OTLP/HTTP receiver on a free port: answers every POST with 200 and
/// an empty protobuf body, and hands what it received to `received`.
fn otlp_receiver() -> (String, mpsc::Receiver<Export>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (sent, received) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let sent = sent.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                // Keep-alive: requests one after another on one connection.
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let path = line.split(' ').nth(1).unwrap_or_default().to_owned();
                    let (mut length, mut content_type) = (0, String::new());
                    loop {
                        let mut header = String::new();
                        reader.read_line(&mut header).unwrap();
                        let header = header.trim_end();
                        if header.is_empty() {
                            break;
                        }
                        let (name, value) = header.split_once(':').unwrap();
                        match name.to_ascii_lowercase().as_str() {
                            "content-length" => length = value.trim().parse().unwrap(),
                            "content-type" => content_type = value.trim().to_owned(),
                            _ => {}
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    let _ = sent.send(Export {
                        path,
                        content_type,
                        body,
                    });
                    writer
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n")
                        .unwrap();
                }
            });
        }
    });
    (url, received)
}

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// The value of `span`'s attribute `key`, as text.
fn attribute(span: &Span, key: &str) -> Option<String> {
    let value = span
        .attributes
        .iter()
        .find(|a| a.key == key)?
        .value
        .as_ref()?;
    match value.value.as_ref()? {
        Value::StringValue(text) => Some(text.clone()),
        Value::IntValue(n) => Some(n.to_string()),
        other => Some(format!("{other:?}")),
    }
}

#[test]
fn with_an_otlp_endpoint_requests_are_spans_in_the_callers_trace_and_database_calls_their_children()
{
    let (url, received) = otlp_receiver();
    let server = ServerProcess::start(&["--otlp-endpoint", &url]);
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller = "00f067aa0ba902b7";
    let traceparent = format!("00-{trace}-{caller}-01");
    let (status, _) = server.get_with(
        &format!("/v1/articles/{SLUG}/replies"),
        &[("traceparent", &traceparent)],
    );
    assert_eq!(status, 200);
    // A request without a traceparent: its trace is the one its line names.
    let (status, _) = server.get(&format!("/v1/articles/{SLUG}/benefits/nope"));
    assert_eq!(status, 404);
    let line = server.wait_for_log("status=404", Duration::from_secs(5));
    let own = line
        .split("trace_id=")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_owned();
    // Shutting down exports what the batch holds.
    server.signal("TERM");
    let mut spans = Vec::new();
    while spans.len() < 3 {
        let export = received
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("3 spans not exported; got {spans:#?}"));
        assert_eq!(export.path, "/v1/traces");
        assert_eq!(export.content_type, "application/x-protobuf");
        let request = ExportTraceServiceRequest::decode(export.body.as_slice()).unwrap();
        for resource in request.resource_spans {
            let service = resource.resource.as_ref().and_then(|r| {
                r.attributes
                    .iter()
                    .find(|a| a.key == "service.name")
                    .cloned()
            });
            assert!(format!("{service:?}").contains("relief-api"), "{service:?}");
            spans.extend(resource.scope_spans.into_iter().flat_map(|s| s.spans));
        }
    }
    let named = |name: &str| {
        spans
            .iter()
            .find(|span| span.name == name)
            .unwrap_or_else(|| panic!("no span {name} in {spans:#?}"))
    };
    let replies = named("GET /v1/articles/{slug}/replies");
    assert_eq!(replies.trace_id, unhex(trace), "the caller's trace");
    assert_eq!(
        replies.parent_span_id,
        unhex(caller),
        "the caller's span is the parent"
    );
    assert_eq!(
        attribute(replies, "http.route").as_deref(),
        Some("/v1/articles/{slug}/replies")
    );
    assert_eq!(
        attribute(replies, "http.response.status_code").as_deref(),
        Some("200")
    );
    let database = named("listing replies");
    assert_eq!(
        database.parent_span_id, replies.span_id,
        "the database call is the request's child"
    );
    assert_eq!(database.trace_id, replies.trace_id);
    assert_eq!(
        attribute(database, "db.system.name").as_deref(),
        Some("sqlite")
    );
    // The call began within the request. (Its end is not compared: sqlx's
    // SQLite connection worker keeps the span of its last command until the
    // next one arrives, so the span may close after the request's.)
    assert!(database.start_time_unix_nano >= replies.start_time_unix_nano);
    assert!(database.start_time_unix_nano <= replies.end_time_unix_nano);
    let missing = named("GET /v1/articles/{slug}/benefits/{id}");
    assert_eq!(
        missing.trace_id,
        unhex(&own),
        "the access line names the exported trace"
    );
    assert!(missing.parent_span_id.is_empty(), "a trace of its own");
    assert_eq!(
        attribute(missing, "http.response.status_code").as_deref(),
        Some("404")
    );
}

#[test]
fn an_otlp_endpoint_that_is_not_a_url_stops_the_start() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_relief-api"))
        .args(["--bind", "127.0.0.1:0", "--otlp-endpoint", "collector:4318"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("--otlp-endpoint `collector:4318`"), "{said}");
}
