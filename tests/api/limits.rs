//! Bad input from the open internet: each limit answers its status as a
//! problem, and the server keeps serving.

use std::{
    io::{Read, Write},
    net::TcpStream,
    time::{Duration, Instant},
};

use relief_api::config::Config;

use crate::helpers::{SLUG, spawn_app, spawn_app_with};

#[actix_web::test]
async fn a_url_over_the_limit_is_a_414_problem() {
    let app = spawn_app().await;
    let long = "a".repeat(3000);
    let problem = app.get(&format!("/v1/articles?{long}")).await.problem(414);
    assert_eq!(
        problem["detail"],
        "the URL is 3013 bytes long; the limit is 2048"
    );
}

#[actix_web::test]
async fn headers_over_the_limit_are_a_431_problem() {
    let app = spawn_app().await;
    let big = "x".repeat(17_000);
    let reply = app
        .request_with("GET", "/healthz", &[("x-padding", &big)])
        .await;
    let problem = reply.problem(431);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .ends_with("the limit is 16384")
    );
}

#[actix_web::test]
async fn limits_are_configurable() {
    let app = spawn_app_with(Config {
        max_url_bytes: 100,
        ..Config::default()
    })
    .await;
    app.get(&format!("/v1/articles/{SLUG}?{}", "x".repeat(80)))
        .await
        .problem(414);
}

#[actix_web::test]
async fn a_body_on_a_route_that_takes_none_is_a_413_problem() {
    let app = spawn_app().await;
    let port = app.port;
    let answer = actix_web::rt::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .write_all(b"GET /v1/articles HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello")
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("content-type: application/problem+json"),
        "{answer}"
    );
    assert!(
        answer.contains("\"detail\":\"GET requests take no body\""),
        "{answer}"
    );
}

#[actix_web::test]
async fn only_html_accepted_is_a_406_problem() {
    let app = spawn_app().await;
    for path in [
        format!("/v1/articles/{SLUG}"),
        "/v1/articles".into(),
        format!("/v1/articles/{SLUG}/faqs"),
    ] {
        let reply = app
            .request_with("GET", &path, &[("accept", "text/html")])
            .await;
        reply.problem(406);
    }
    let reply = app
        .request_with("GET", "/v1/articles", &[("accept", "text/html, */*;q=0.1")])
        .await;
    assert_eq!(reply.status, 200, "a browser's Accept still gets JSON");
}

#[actix_web::test]
async fn unknown_query_parameters_are_a_400_problem() {
    let app = spawn_app().await;
    let problem = app
        .get(&format!("/v1/articles/{SLUG}/benefits?sort=title"))
        .await
        .problem(400);
    assert_eq!(
        problem["detail"],
        "unknown query parameter `sort`; the parameters are lang, fields"
    );
    let problem = app.get("/v1/search?q=back&Type=faq").await.problem(400);
    assert_eq!(
        problem["detail"],
        "unknown query parameter `Type`; the parameters are q, type, lang, limit, offset; did you mean `type`?"
    );
    let problem = app.get("/?sort=title").await.problem(400);
    assert_eq!(
        problem["detail"],
        "unknown query parameter `sort`: this resource takes none"
    );
}

#[actix_web::test]
async fn percent_encoding_garbage_and_odd_ids_are_400_or_404_problems() {
    let app = spawn_app().await;
    app.get("/v1/articles/%FF%FE").await.problem(400);
    app.get(&format!("/v1/articles/{SLUG}/benefits/%00"))
        .await
        .problem(400);
    app.get(&format!("/v1/articles/{SLUG}/benefits/{}", "a".repeat(500)))
        .await
        .problem(400);
    app.get("/v1/articles/..%2F..%2Fetc%2Fpasswd")
        .await
        .problem(400);
    app.get(&format!("/v1/articles/{SLUG}/benefits/better-sleep"))
        .await
        .problem(404);
}

#[actix_web::test]
async fn a_client_that_never_finishes_its_request_is_cut_off_without_holding_a_worker() {
    // One worker: if the stalled client held it, a second request would be
    // answered only after the stalled one is cut off. Order, not timing, decides.
    let app = spawn_app_with(Config {
        client_timeout: 3,
        workers: Some(1),
        ..Config::default()
    })
    .await;
    let port = app.port;
    let stalled = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        let started = Instant::now();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        (started.elapsed(), answer)
    });
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(app.get("/healthz").await.status, 200);
    assert!(
        !stalled.is_finished(),
        "the other request was answered only once the stalled client was cut off"
    );

    let (waited, answer) = actix_web::rt::task::spawn_blocking(move || stalled.join().unwrap())
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(waited < Duration::from_secs(10), "cut off after {waited:?}");
}

#[actix_web::test]
async fn a_body_that_stalls_is_cut_off_at_its_deadline_while_others_are_served() {
    let app = spawn_app_with(Config {
        body_timeout: 1,
        ..Config::default()
    })
    .await;
    let port = app.port;
    // Clients that declare 100 bytes, send 4 and stop.
    let stalled: Vec<_> = (0..4)
        .map(|_| {
            actix_web::rt::task::spawn_blocking(move || {
                let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                stream
                    .write_all(
                        format!(
                            "POST /v1/articles/{SLUG}/replies HTTP/1.1\r\nHost: x\r\n\
                             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"a\""
                        )
                        .as_bytes(),
                    )
                    .unwrap();
                let started = Instant::now();
                let mut answer = String::new();
                // Reading to the end proves the server closed the connection.
                stream.read_to_string(&mut answer).unwrap();
                (started.elapsed(), answer)
            })
        })
        .collect();
    // Meanwhile, everyone else is answered.
    actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.get("/healthz").await.status, 200);
    for client in stalled {
        let (waited, answer) = client.await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("connection: close"), "{answer}");
        assert!(answer.contains("application/problem+json"), "{answer}");
        assert!(answer.contains("within 1 s"), "{answer}");
        assert!(waited < Duration::from_secs(5), "cut off after {waited:?}");
    }
}
