//! What operators and browsers see: probes, metrics, request ids, security
//! headers, CORS, logs, and a graceful shutdown.

use std::{
    io::{Read, Write},
    net::TcpStream,
    time::Duration,
};

use relief_api::config::Config;

use crate::helpers::{SLUG, ServerProcess, spawn_app, spawn_app_with};

#[actix_web::test]
async fn readyz_tells_the_revision_and_article_count() {
    let app = spawn_app().await;
    let ready = app.get_json("/readyz").await;
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["articles"], 1);
    let revision = ready["revision"].as_str().unwrap();
    assert_eq!(revision.len(), 16);
    let article = app.get(&format!("/v1/articles/{SLUG}")).await;
    assert_eq!(article.header("x-content-revision"), Some(revision));
}

#[actix_web::test]
async fn metrics_count_requests_by_route_template_and_status() {
    let app = spawn_app().await;
    app.get(&format!("/v1/articles/{SLUG}/benefits/improves-posture"))
        .await;
    app.get(&format!("/v1/articles/{SLUG}/benefits/better-sleep"))
        .await;
    let reply = app.get("/metrics").await;
    assert_eq!(reply.status, 200);
    assert!(
        reply
            .header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = String::from_utf8_lossy(&reply.body);
    for expected in [
        r#"relief_http_requests_total{method="GET",route="/v1/articles/{slug}/benefits/{id}",status="200"} 1"#,
        r#"relief_http_requests_total{method="GET",route="/v1/articles/{slug}/benefits/{id}",status="404"} 1"#,
        "relief_http_request_duration_seconds_bucket{route=\"/v1/articles/{slug}/benefits/{id}\"",
        "relief_http_requests_in_flight 1",
        r#"relief_content_reloads_total{result="ok"} 0"#,
        r#"relief_content_reloads_total{result="failed"} 0"#,
        "relief_content_articles 1",
        "relief_content_info{revision=",
        "relief_process_resident_memory_bytes",
    ] {
        assert!(text.contains(expected), "no `{expected}` in\n{text}");
    }
}

/// The lines of `/metrics` that are series of the request counter.
async fn request_series(app: &crate::helpers::TestApp) -> Vec<String> {
    let text = String::from_utf8(app.get("/metrics").await.body.to_vec()).unwrap();
    text.lines()
        .filter(|line| line.starts_with("relief_http_requests_total{"))
        .map(|line| line.rsplit_once(' ').unwrap().0.to_owned())
        .collect()
}

#[actix_web::test]
async fn made_up_methods_add_no_metric_series() {
    let app = spawn_app().await;
    app.request("BREW", "/v1/articles").await;
    app.get("/metrics").await;
    let before = request_series(&app).await;
    assert!(
        before
            .iter()
            .any(|series| series.contains(r#"method="other""#)),
        "{before:?}"
    );
    for i in 0..10_000 {
        let method = format!("M{i}{}", "X".repeat(i % 300));
        let answer = app.request(&method, "/v1/articles").await;
        assert_eq!(answer.status, 405);
    }
    assert_eq!(request_series(&app).await, before);
}

#[actix_web::test]
async fn a_valid_request_id_is_echoed_and_a_missing_or_bad_one_replaced() {
    let app = spawn_app().await;
    let echoed = app
        .request_with("GET", "/healthz", &[("x-request-id", "trace-42.a")])
        .await;
    assert_eq!(echoed.header("x-request-id"), Some("trace-42.a"));
    for sent in [None, Some("<script>alert(1)</script>")] {
        let headers: Vec<(&str, &str)> = sent.map(|id| ("x-request-id", id)).into_iter().collect();
        let reply = app.request_with("GET", "/v1/articles/nope", &headers).await;
        let id = reply.header("x-request-id").unwrap();
        assert_eq!(id.len(), 36, "a generated UUID, not {id}");
        assert_ne!(Some(id), sent);
    }
}

#[actix_web::test]
async fn every_response_carries_the_security_headers_and_no_server_header() {
    let app = spawn_app().await;
    for path in [
        "/v1/articles".to_owned(),
        "/v1/articles/nope".into(),
        "/docs/".into(),
    ] {
        let reply = app.get(&path).await;
        assert_eq!(
            reply.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(
            reply.header("referrer-policy"),
            Some("no-referrer"),
            "{path}"
        );
        let csp = reply.header("content-security-policy").unwrap();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        // Swagger UI's page may run its own scripts; JSON may run none.
        let page = reply
            .header("content-type")
            .is_some_and(|kind| kind.starts_with("text/html"));
        assert_eq!(csp.contains("script-src 'self'"), page, "{path}: {csp}");
        assert_eq!(reply.header("server"), None, "{path}");
    }
}

#[actix_web::test]
async fn any_origin_may_read_without_credentials_by_default() {
    let app = spawn_app().await;
    let preflight = app
        .preflight(
            "/v1/articles",
            "https://app.example",
            "GET",
            "if-none-match",
        )
        .await;
    assert!(preflight.status.is_success(), "{}", preflight.status);
    assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
    assert!(
        preflight
            .header("access-control-allow-methods")
            .unwrap()
            .contains("GET")
    );
    assert!(
        preflight
            .header("access-control-allow-headers")
            .unwrap()
            .contains("if-none-match")
    );
    assert_eq!(preflight.header("access-control-allow-credentials"), None);

    let simple = app
        .request_with("GET", "/v1/articles", &[("origin", "https://app.example")])
        .await;
    assert_eq!(simple.header("access-control-allow-origin"), Some("*"));
    // Without credentials, `*` lets scripts read every header (ETag, Link...).
    assert_eq!(simple.header("access-control-expose-headers"), Some("*"));
}

#[actix_web::test]
async fn a_front_end_may_send_its_trace_context_and_is_told_which_header_was_refused() {
    let app = spawn_app().await;
    let preflight = |headers| app.preflight("/v1/articles", "https://app.example", "GET", headers);
    let traced = preflight("traceparent, tracestate").await;
    assert!(traced.status.is_success(), "{}", traced.status);
    let allowed = traced.header("access-control-allow-headers").unwrap();
    assert!(
        allowed.contains("traceparent") && allowed.contains("tracestate"),
        "{allowed}"
    );

    let refused = preflight("if-none-match, X-Custom").await;
    let problem = refused.problem(400);
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.starts_with(
            "a request from another origin may not send `X-Custom`; it may send accept, "
        ),
        "{detail}"
    );
    assert!(detail.contains("if-none-match"), "{detail}");
}

#[actix_web::test]
async fn an_answer_to_a_request_without_origin_may_be_read_by_any_origin_too() {
    // A CDN may store the answer to a server-side fetch and hand it to browsers.
    let app = spawn_app().await;
    for path in ["/v1/articles".to_owned(), format!("/v1/articles/{SLUG}")] {
        let reply = app.get(&path).await;
        assert_eq!(
            reply.header("access-control-allow-origin"),
            Some("*"),
            "{path}"
        );
        assert_eq!(
            reply.header("access-control-expose-headers"),
            Some("*"),
            "{path}"
        );
        assert!(
            !reply.header("vary").unwrap_or_default().contains("origin"),
            "{path}: the answer is the same for every origin"
        );
    }
}

#[actix_web::test]
async fn configured_origins_are_the_only_ones_allowed() {
    let app = spawn_app_with(Config {
        cors_allowed_origins: vec!["https://app.example".into()],
        ..Config::default()
    })
    .await;
    let allowed = app
        .request_with("GET", "/v1/articles", &[("origin", "https://app.example")])
        .await;
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    let other = app
        .request_with("GET", "/v1/articles", &[("origin", "https://evil.example")])
        .await;
    assert_eq!(other.header("access-control-allow-origin"), None);

    // A refusal made before CORS is reached (a URL over the limit) is
    // readable by the allowed origin too, and only by it.
    let long = format!("/v1/articles?q={}", "x".repeat(3000));
    let refused = app
        .request_with("GET", &long, &[("origin", "https://app.example")])
        .await;
    refused.problem(414);
    assert_eq!(
        refused.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    let refused = app
        .request_with("GET", &long, &[("origin", "https://evil.example")])
        .await;
    refused.problem(414);
    assert_eq!(refused.header("access-control-allow-origin"), None);
}

#[test]
fn json_logs_have_one_access_line_per_request() {
    let server = ServerProcess::start(&["--log-format", "json"]);
    let (status, _) = server.get(&format!("/v1/articles/{SLUG}/faqs"));
    assert_eq!(status, 200);
    let line = server.wait_for_log("relief_api::access", Duration::from_secs(5));
    let event: serde_json::Value = serde_json::from_str(&line).expect("a JSON log line");
    assert_eq!(event["method"], "GET");
    assert_eq!(event["route"], "/v1/articles/{slug}/faqs");
    assert_eq!(event["status"], 200);
    assert!(event["latency_ms"].is_number() && event["bytes"].as_u64() > Some(100));
    assert_eq!(event["request_id"].as_str().map(str::len), Some(36));
    assert_eq!(event["cached"], false);
    // No traceparent: a trace of its own, and, with no request id sent
    // either, the request id's digits (one draw of randomness for both).
    let trace = event["trace_id"].as_str().unwrap();
    assert!(
        trace.len() == 32
            && trace.bytes().all(|b| b.is_ascii_hexdigit())
            && trace != "0".repeat(32)
    );
    assert_eq!(
        event["request_id"].as_str().unwrap().replace('-', ""),
        trace
    );

    // Asked again, the response cache answers; the line says so.
    server.get(&format!("/v1/articles/{SLUG}/faqs"));
    let line = server.wait_for_log("\"cached\":true", Duration::from_secs(5));
    let event: serde_json::Value = serde_json::from_str(&line).expect("a JSON log line");
    assert_eq!(event["route"], "/v1/articles/{slug}/faqs");
    assert_eq!(event["status"], 200);
}

#[test]
fn the_access_line_joins_the_callers_w3c_trace() {
    let server = ServerProcess::start(&[]);
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let (status, _) = server.get_with("/v1/articles", &[("traceparent", traceparent)]);
    assert_eq!(status, 200);
    let line = server.wait_for_log("route=/v1/articles ", Duration::from_secs(5));
    assert!(
        line.contains("trace_id=4bf92f3577b34da6a3ce929d0e0e4736"),
        "{line}"
    );
    // An invalid one is ignored: the request starts a trace of its own.
    let bad = "00-00000000000000000000000000000000-00f067aa0ba902b7-01";
    server.get_with("/healthz", &[("traceparent", bad)]);
    server.get_with("/v1/articles/nope", &[("traceparent", bad)]);
    let line = server.wait_for_log("status=404", Duration::from_secs(5));
    let trace = line
        .split("trace_id=")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    assert_eq!(trace.len(), 32, "{line}");
    assert_ne!(trace, "0".repeat(32));
}

/// A GET on a fresh connection, with a deadline: (status, whether it answered).
fn get_within(port: u16, path: &str, deadline: Duration) -> u16 {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(deadline)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    let _ = stream.read_to_string(&mut raw);
    raw.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[test]
fn rust_log_at_warn_turns_access_lines_off_with_traces_exported_or_not() {
    // Traces go to a port nothing listens on: exported or not, the log
    // filter alone decides.
    for args in [
        &[][..],
        &["--otlp-endpoint", "http://127.0.0.1:9/v1/traces"],
    ] {
        let server = ServerProcess::start_with(args, |command| {
            command.env("RUST_LOG", "warn,relief_api::startup=info");
        });
        assert_eq!(server.get(&format!("/v1/articles/{SLUG}")).0, 200);
        assert_eq!(server.get("/v1/articles").0, 200);
        let access = server.access_lines_until_exit();
        assert_eq!(access, Vec::<String>::new(), "with {args:?}");
    }
}

#[test]
fn probes_are_left_out_of_the_info_level_access_log() {
    let server = ServerProcess::start(&[]);
    for probe in ["/healthz", "/readyz", "/metrics"] {
        assert_eq!(server.get(probe).0, 200, "{probe}");
    }
    assert_eq!(server.get("/v1/articles").0, 200);
    let routes: Vec<String> = server
        .access_lines_until_exit()
        .iter()
        .filter_map(|line| Some(line.split(" route=").nth(1)?.split(' ').next()?.to_owned()))
        .collect();
    assert_eq!(routes, ["/v1/articles"]);
}

#[test]
fn a_stalled_log_reader_slows_no_request_and_sigterm_loses_no_line() {
    use std::io::BufRead;
    const REQUESTS: usize = 1_000;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_relief-api"))
        .args(["--bind", "127.0.0.1:0", "--database-url", "sqlite::memory:"])
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let port: u16 = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "the server exited"
        );
        if let Some(rest) = line.split("listening on http://127.0.0.1:").nth(1) {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            break digits.parse().unwrap();
        }
    };
    // Nobody reads the log now: the pipe fills after a few hundred lines,
    // and the rest wait in the writer's queue. Requests must not wait.
    for _ in 0..REQUESTS {
        assert_eq!(
            get_within(port, "/v1/articles", Duration::from_secs(5)),
            200
        );
    }
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    // A collector that takes a moment to read again (well within the second
    // the server waits for its log writer): every queued line still arrives.
    std::thread::sleep(Duration::from_millis(300));
    let access_lines = stderr
        .lines()
        .map_while(Result::ok)
        .filter(|line| line.contains("relief_api::access") && line.contains("/v1/articles"))
        .count();
    assert!(child.wait().unwrap().success());
    assert_eq!(access_lines, REQUESTS);
}

#[test]
fn sigterm_or_sigint_lets_a_request_in_flight_finish_then_exits_0() {
    for signal in ["TERM", "INT"] {
        in_flight_finishes_after(signal);
    }
}

/// A request whose body is still to come when `signal` arrives is served
/// whole, then the server exits 0.
fn in_flight_finishes_after(signal: &str) {
    let mut server = ServerProcess::start(&[]);
    let body = r#"{"author_name":"Dana","body":"Posted across a stop."}"#;
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stream
        .write_all(
            format!(
                "POST /v1/articles/{SLUG}/replies HTTP/1.1\r\nHost: test\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\n\
                 Expect: 100-continue\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        )
        .unwrap();
    // The server has read the head and waits for the body: in flight.
    let mut continued = [0u8; 25];
    stream.read_exact(&mut continued).unwrap();
    assert_eq!(&continued, b"HTTP/1.1 100 Continue\r\n\r\n");
    server.signal(signal);
    server.wait_for_log("shutdown", Duration::from_secs(10));
    stream.write_all(body.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 202"),
        "SIG{signal}: {answer:?}"
    );
    let status = server.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

/// Sends a GET of `/healthz` on `stream` and reads its whole answer (head
/// and body, by its `content-length`), leaving the connection open.
fn healthz_on(stream: &mut TcpStream) -> String {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        .unwrap();
    let mut received = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "closed before a whole answer: {received:?}");
        received.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&received);
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .and_then(|n| n.trim().parse().ok())
                .expect("a content-length");
            if received.len() >= end + 4 + length {
                return text.into_owned();
            }
        }
    }
}

/// How long `stream`, idle, stays open before the server closes it (at
/// most `limit`, then the test fails).
fn open_while_idle(stream: &mut TcpStream, limit: Duration) -> Duration {
    stream.set_read_timeout(Some(limit)).unwrap();
    let idle = std::time::Instant::now();
    let mut rest = Vec::new();
    stream
        .read_to_end(&mut rest)
        .expect("the server closes the idle connection in time");
    assert!(rest.is_empty(), "{rest:?}");
    idle.elapsed()
}

#[test]
fn keep_alive_sets_how_long_an_idle_connection_waits_for_the_next_request() {
    let server = ServerProcess::start(&["--keep-alive", "1"]);
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    assert!(healthz_on(&mut stream).starts_with("HTTP/1.1 200"));
    // The next request may come on the same connection...
    let answer = healthz_on(&mut stream);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(!answer.contains("connection: close"), "{answer}");
    // ...for a second of quiet, after which the server closes it (sooner
    // than actix-web's 5 s default would).
    let open = open_while_idle(&mut stream, Duration::from_secs(4));
    assert!(open >= Duration::from_millis(500), "closed after {open:?}");

    // `0`: every answer closes its connection.
    let server = ServerProcess::start(&["--keep-alive", "0"]);
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    let answer = healthz_on(&mut stream);
    assert!(answer.contains("connection: close"), "{answer}");
    open_while_idle(&mut stream, Duration::from_secs(5));
}

#[test]
fn a_stop_ends_live_event_streams_at_once_rather_than_wait_for_them() {
    for signal in ["TERM", "INT"] {
        let mut server = ServerProcess::start(&[]);
        let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        stream
            .write_all(b"GET /v1/events HTTP/1.1\r\nHost: test\r\n\r\n")
            .unwrap();
        let mut received = Vec::new();
        let mut chunk = [0u8; 1024];
        while !String::from_utf8_lossy(&received).contains("retry: 2000") {
            let n = stream.read(&mut chunk).unwrap();
            assert!(n > 0, "the stream closed before it opened");
            received.extend_from_slice(&chunk[..n]);
        }
        server.signal(signal);
        let stopping = std::time::Instant::now();
        assert_eq!(server.child.wait().unwrap().code(), Some(0));
        assert!(
            stopping.elapsed() < Duration::from_secs(10),
            "SIG{signal}: stopped after {:?}, waiting for the stream",
            stopping.elapsed()
        );
        // The stream ended as a stream ends (its last, empty chunk): the
        // client's EventSource reconnects, rather than report an error.
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream.read_to_end(&mut received).unwrap();
        assert!(
            received.ends_with(b"\r\n0\r\n\r\n"),
            "SIG{signal}: {received:?}"
        );
    }
}

#[test]
fn sigterm_does_not_wait_for_connections_kept_alive_idle() {
    // A load balancer's connections, kept a minute between its requests:
    // a stop must not wait out the grace period (30 s) for them.
    let mut server = ServerProcess::start(&["--keep-alive", "60"]);
    let mut idle = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    assert!(healthz_on(&mut idle).starts_with("HTTP/1.1 200"));
    server.signal("TERM");
    let stopping = std::time::Instant::now();
    let status = server.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(
        stopping.elapsed() < Duration::from_secs(10),
        "stopped after {:?}",
        stopping.elapsed()
    );
    open_while_idle(&mut idle, Duration::from_secs(5));
}

#[test]
fn the_healthcheck_subcommand_exits_0_for_a_healthy_server_and_1_otherwise() {
    let server = ServerProcess::start(&[]);
    let healthcheck = |port: u16| {
        std::process::Command::new(env!("CARGO_BIN_EXE_relief-api"))
            .args(["healthcheck", "--bind", &format!("127.0.0.1:{port}")])
            .output()
            .unwrap()
    };
    assert_eq!(healthcheck(server.port).status.code(), Some(0));
    drop(server);
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let output = healthcheck(closed);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot connect"));
}

#[test]
fn malformed_requests_are_counted_in_metrics_not_logged_as_server_errors() {
    let server = ServerProcess::start(&[]);
    for n in 0..50 {
        let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        stream
            .write_all(format!("GARBAGE {n}\r\nHo st: x\r\n\r\n").as_bytes())
            .unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    }
    let (_, metrics) = server.get("/metrics");
    assert!(
        metrics.contains("relief_http_malformed_requests_total 50"),
        "{metrics}"
    );
    server.signal("TERM");
    let mut errors = Vec::new();
    while let Ok(line) = server.log.recv_timeout(Duration::from_secs(10)) {
        if line.contains("ERROR") {
            errors.push(line);
        }
    }
    assert!(errors.is_empty(), "{errors:#?}");
}
