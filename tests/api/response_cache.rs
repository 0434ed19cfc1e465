//! The response cache answers repeated content requests without routing them
//! again: a client must not be able to tell, except by the metrics. Each
//! story asks the same thing twice or more and compares what came back.

use relief_api::config::Config;
use serde_json::json;

use crate::helpers::{
    Backend, ContentDir, Reply, SLUG, TestApp, spawn_app, spawn_app_with, spawn_replies_app,
};

fn article() -> String {
    format!("/v1/articles/{SLUG}")
}

/// A method, a path and the headers sent with them.
type Request<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>);

/// The response cache's hits and misses so far, from `/metrics`.
async fn lookups(app: &TestApp) -> (u64, u64) {
    let metrics = String::from_utf8(app.get("/metrics").await.body.to_vec()).unwrap();
    let count = |result: &str| {
        let prefix = format!("relief_response_cache_lookups_total{{result=\"{result}\"}} ");
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .map_or(0, |n| n.parse().unwrap())
    };
    (count("hit"), count("miss"))
}

/// What a client sees of a response, bar the headers that are new on every
/// one (`Date`, `X-Request-Id`).
fn seen(reply: &Reply) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut headers: Vec<_> = reply
        .headers
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "date" | "x-request-id"))
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
        .collect();
    headers.sort();
    (reply.status.as_u16(), headers, reply.body.to_vec())
}

#[actix_web::test]
async fn a_repeated_request_gets_the_same_answer_from_the_cache_with_a_new_request_id() {
    let app = spawn_app().await;
    let first = app.get(&article()).await;
    let (hits, _) = lookups(&app).await;

    let again = app.get(&article()).await;

    assert_eq!(lookups(&app).await.0, hits + 1, "the second was a hit");
    assert_eq!(seen(&again), seen(&first));
    assert_eq!(
        again.json()["title"],
        "Back Pain Relief With Deep Tissue Massage"
    );
    assert_ne!(again.header("x-request-id"), first.header("x-request-id"));
    assert_eq!(again.header("x-content-type-options"), Some("nosniff"));
    let mine = app
        .request_with("GET", &article(), &[("x-request-id", "trace-42")])
        .await;
    assert_eq!(mine.header("x-request-id"), Some("trace-42"));
}

#[actix_web::test]
async fn each_variant_of_a_resource_is_kept_apart() {
    let app = spawn_app().await;
    let article = article();
    let etag = app.get(&article).await.header("etag").unwrap().to_owned();
    let benefit = format!("{article}/benefits/improves-posture");
    let fields = format!("{article}?fields=title");
    let requests: Vec<Request> = vec![
        ("GET", &article, vec![]),
        ("GET", &article, vec![("accept-encoding", "br")]),
        ("GET", &article, vec![("accept-encoding", "gzip")]),
        ("GET", &article, vec![("accept-encoding", "identity;q=0")]),
        ("GET", &article, vec![("if-none-match", &etag)]),
        ("GET", &article, vec![("if-none-match", "\"stale\"")]),
        ("GET", &article, vec![("accept", "text/html")]),
        ("GET", &article, vec![("accept-language", "fr")]),
        ("HEAD", &article, vec![]),
        ("GET", &fields, vec![]),
        ("GET", &benefit, vec![]),
        ("GET", "/", vec![]),
        ("GET", "/", vec![("accept", "text/html")]),
    ];
    let mut first = Vec::new();
    for (method, path, headers) in &requests {
        first.push(seen(&app.request_with(method, path, headers).await));
    }
    // Twice more, in another order: each answer is its own request's.
    for round in 0..2 {
        for (i, (method, path, headers)) in requests.iter().enumerate().rev() {
            let reply = app.request_with(method, path, headers).await;
            assert_eq!(
                seen(&reply),
                first[i],
                "round {round}: {method} {path} {headers:?}"
            );
        }
    }
    // The variants really differ, so keeping them apart is tested.
    assert_eq!(
        first[1]
            .1
            .iter()
            .find(|(n, _)| n == "content-encoding")
            .unwrap()
            .1,
        "br"
    );
    assert_eq!(first[4].0, 304);
    assert_eq!(first[5].0, 200);
    assert_eq!(first[3].0, 406);
    assert_eq!(first[6].0, 406);
    assert!(first[8].2.is_empty(), "HEAD has no body");
    assert_ne!(first[11], first[12], "the front page is HTML for browsers");
}

#[actix_web::test]
async fn errors_are_answered_afresh_every_time() {
    let app = spawn_app().await;
    let missing = format!("{}/benefits/no-such-benefit", article());
    let first = app.get(&missing).await;
    let (hits, _) = lookups(&app).await;

    let again = app.get(&missing).await;

    again.problem(404);
    assert_eq!(seen(&again), seen(&first));
    assert_eq!(lookups(&app).await.0, hits, "a 404 is never kept");
}

#[actix_web::test]
async fn a_reload_is_served_at_once_though_the_old_content_was_kept() {
    let content = ContentDir::with_source_article();
    let app = spawn_app_with(content.config()).await;
    app.get(&article()).await;
    let kept = app.get(&article()).await;
    assert_eq!(
        kept.json()["title"],
        "Back Pain Relief With Deep Tissue Massage"
    );

    content.edit(
        "title = \"Back Pain Relief With Deep Tissue Massage\"",
        "title = \"Back Pain Relief, Revised\"",
    );
    assert!(app.reload().await);

    let after = app.get(&article()).await;
    assert_eq!(after.json()["title"], "Back Pain Relief, Revised");
    assert_ne!(after.etag(), kept.etag());
    assert_ne!(
        after.header("x-content-revision"),
        kept.header("x-content-revision")
    );
}

#[actix_web::test]
async fn replies_are_read_afresh_so_an_approved_reply_shows_at_once() {
    let app = spawn_replies_app(Backend::Sqlite).await.unwrap();
    let replies = format!("{}/replies", article());
    assert_eq!(app.get_json(&replies).await["total"], 0);
    assert_eq!(app.get_json(&replies).await["total"], 0);

    let id = app
        .post_reply(json!({
            "author_name": "Dana",
            "author_email": "dana@example.com",
            "body": "This helped my lower back."
        }))
        .await;
    app.moderate(id, "approved").await;

    assert_eq!(app.get_json(&replies).await["total"], 1);
}

#[actix_web::test]
async fn browsers_from_other_origins_may_read_a_kept_answer() {
    let app = spawn_app().await;
    let origin = [("origin", "https://app.example")];
    app.request_with("GET", &article(), &origin).await;
    let (hits, _) = lookups(&app).await;

    let reply = app.request_with("GET", &article(), &origin).await;

    assert_eq!(lookups(&app).await.0, hits + 1);
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    assert_eq!(reply.header("access-control-expose-headers"), Some("*"));
}

#[actix_web::test]
async fn with_origins_named_each_origin_gets_its_own_kept_answer() {
    let app = spawn_app_with(Config {
        cors_allowed_origins: vec!["https://a.example".into(), "https://b.example".into()],
        ..Config::default()
    })
    .await;
    for _ in 0..2 {
        for origin in ["https://a.example", "https://b.example"] {
            let reply = app
                .request_with("GET", &article(), &[("origin", origin)])
                .await;
            assert_eq!(reply.header("access-control-allow-origin"), Some(origin));
            assert!(reply.header("vary").unwrap().contains("Origin"));
        }
        let unknown = app
            .request_with("GET", &article(), &[("origin", "https://evil.example")])
            .await;
        assert_eq!(unknown.header("access-control-allow-origin"), None);
        let plain = app.get(&article()).await;
        assert_eq!(plain.status, 200);
        assert_eq!(plain.header("access-control-allow-origin"), None);
    }
    assert!(
        lookups(&app).await.0 >= 3,
        "the second round was answered from the cache"
    );
}

#[actix_web::test]
async fn the_cache_can_be_turned_off() {
    let app = spawn_app_with(Config {
        response_cache_bytes: 0,
        ..Config::default()
    })
    .await;
    let first = app.get(&article()).await;
    let again = app.get(&article()).await;

    assert_eq!(seen(&again), seen(&first));
    assert_eq!(lookups(&app).await, (0, 0));
}

#[actix_web::test]
async fn answers_from_the_cache_are_counted_under_their_route() {
    let app = spawn_app().await;
    for _ in 0..3 {
        app.get(&article()).await;
    }
    let metrics = String::from_utf8(app.get("/metrics").await.body.to_vec()).unwrap();
    assert!(
        metrics.contains(
            "relief_http_requests_total{method=\"GET\",route=\"/v1/articles/{slug}\",status=\"200\"} 3"
        ),
        "{metrics}"
    );
}

#[actix_web::test]
async fn a_request_repeating_a_negotiated_header_is_answered_afresh() {
    let app = spawn_app().await;
    let repeated = [("accept-encoding", "gzip"), ("accept-encoding", "br")];
    let first = app.request_with("GET", &article(), &repeated).await;
    let before = lookups(&app).await;

    let again = app.request_with("GET", &article(), &repeated).await;

    assert_eq!(seen(&again), seen(&first));
    assert_eq!(first.header("content-encoding"), Some("br"));
    // Neither kept nor looked up: the only new lookup is the read of /metrics.
    assert_eq!(lookups(&app).await, (before.0, before.1 + 1));
}
