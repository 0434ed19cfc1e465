//! Range requests, as an app resuming a download its network cut off.

use crate::helpers::{SLUG, TestApp, spawn_app};

const BUNDLE: &str = "/v1/bundle";

/// The whole bundle in `coding`, as a `200` sends it.
async fn whole(app: &TestApp, coding: &str) -> (Vec<u8>, String) {
    let reply = app
        .request_with("GET", BUNDLE, &[("accept-encoding", coding)])
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("accept-ranges"), Some("bytes"));
    (reply.body.to_vec(), reply.etag().to_owned())
}

#[actix_web::test]
async fn a_download_cut_off_is_finished_with_a_range_of_the_rest() {
    let app = spawn_app().await;
    let (body, identity_tag) = whole(&app, "identity").await;
    let len = body.len();
    let cut = len / 3;
    // However the bundle first came, the app holds its uncompressed bytes
    // (a client decodes as it reads) and the ETag it was sent with; it
    // asks for the rest uncompressed, as browsers and OkHttp do.
    for coding in ["identity", "gzip", "br"] {
        let etag = whole(&app, coding).await.1;
        let from = format!("bytes={cut}-");
        let rest = app
            .request_with(
                "GET",
                BUNDLE,
                &[
                    ("accept-encoding", "identity"),
                    ("range", &from),
                    ("if-range", &etag),
                ],
            )
            .await;
        assert_eq!(rest.status, 206, "{coding}");
        let expected_range = format!("bytes {cut}-{}/{len}", len - 1);
        assert_eq!(
            rest.header("content-range"),
            Some(expected_range.as_str()),
            "{coding}"
        );
        assert_eq!(rest.header("content-encoding"), None, "{coding}");
        assert_eq!(rest.etag(), identity_tag, "{coding}");
        assert_eq!(rest.header("content-type"), Some("application/json"));
        let mut joined = body[..cut].to_vec();
        joined.extend_from_slice(&rest.body);
        assert_eq!(joined, body, "{coding}: the parts make the whole");
    }
}

#[actix_web::test]
async fn a_client_that_takes_compression_gets_the_whole_compressed_for_a_range() {
    let app = spawn_app().await;
    // Cheaper than most uncompressed remainders, and never a fragment of
    // a compressed stream that a client decoding as it reads cannot decode.
    for (accepted, coding) in [("gzip, deflate", "gzip"), ("br, identity;q=0", "br")] {
        let (compressed, etag) = whole(&app, coding).await;
        let reply = app
            .request_with(
                "GET",
                BUNDLE,
                &[
                    ("accept-encoding", accepted),
                    ("range", "bytes=10-"),
                    ("if-range", &etag),
                ],
            )
            .await;
        assert_eq!(reply.status, 200, "{accepted}");
        assert_eq!(reply.header("content-encoding"), Some(coding));
        assert_eq!(reply.header("accept-ranges"), Some("bytes"));
        assert_eq!(reply.body, compressed, "{accepted}");
    }
}

#[actix_web::test]
async fn a_range_is_cut_in_each_of_its_three_forms() {
    let app = spawn_app().await;
    let path = BUNDLE;
    let body = app.get(path).await.body;
    let len = body.len();
    for (range, first, last) in [
        ("bytes=0-9", 0, 9),
        ("bytes=10-19", 10, 19),
        ("bytes=-15", len - 15, len - 1),
        ("bytes=5-999999", 5, len - 1),
    ] {
        let part = app.request_with("GET", path, &[("range", range)]).await;
        assert_eq!(part.status, 206, "{range}");
        assert_eq!(part.body, body[first..=last], "{range}");
        let expected = format!("bytes {first}-{last}/{len}");
        assert_eq!(part.header("content-range"), Some(expected.as_str()));
    }
}

#[actix_web::test]
async fn a_copy_changed_since_or_several_ranges_get_the_whole_body() {
    let app = spawn_app().await;
    let (body, etag) = whole(&app, "identity").await;
    let weak = format!("W/{etag}");
    for headers in [
        // The part held is of another copy: its rest would not fit it.
        vec![("range", "bytes=10-"), ("if-range", "\"an-older-copy\"")],
        // A weak tag does not vouch for the bytes.
        vec![("range", "bytes=10-"), ("if-range", weak.as_str())],
        vec![("range", "bytes=0-9,20-29")],
        vec![("range", "lines=1-2")],
    ] {
        let reply = app.request_with("GET", BUNDLE, &headers).await;
        assert_eq!(reply.status, 200, "{headers:?}");
        assert_eq!(reply.body, body, "{headers:?}");
        assert_eq!(reply.etag(), etag);
    }
    // A copy that is current wins over a range: nothing is sent.
    let current = app
        .request_with(
            "GET",
            BUNDLE,
            &[("range", "bytes=0-9"), ("if-none-match", &etag)],
        )
        .await;
    assert_eq!(current.status, 304);
    assert!(current.body.is_empty());
}

#[actix_web::test]
async fn a_range_past_the_end_is_a_416_problem_that_says_the_length() {
    let app = spawn_app().await;
    let len = whole(&app, "identity").await.0.len();
    let past = format!("bytes={len}-");
    let reply = app.request_with("GET", BUNDLE, &[("range", &past)]).await;
    let problem = reply.problem(416);
    let expected = format!("bytes */{len}");
    assert_eq!(reply.header("content-range"), Some(expected.as_str()));
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("{len} bytes")),
        "{problem}"
    );
}

#[actix_web::test]
async fn a_part_is_never_what_the_response_cache_answers_or_keeps() {
    let app = spawn_app().await;
    // Twice: the second is answered from the response cache.
    app.get(BUNDLE).await;
    let full = app.get(BUNDLE).await;
    let part = app
        .request_with("GET", BUNDLE, &[("range", "bytes=0-99")])
        .await;
    assert_eq!(part.status, 206);
    assert_eq!(part.body, full.body[..100]);
    let again = app.get(BUNDLE).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body, full.body);
}

#[actix_web::test]
async fn resources_small_enough_to_fetch_again_are_sent_whole_for_a_range() {
    let app = spawn_app().await;
    for path in [
        format!("/v1/articles/{SLUG}"),
        format!("/v1/articles/{SLUG}/faqs"),
    ] {
        let whole = app.get(&path).await;
        assert_eq!(whole.header("accept-ranges"), None, "{path}");
        let asked = app
            .request_with("GET", &path, &[("range", "bytes=0-9")])
            .await;
        assert_eq!(asked.status, 200, "{path}");
        assert_eq!(asked.body, whole.body, "{path}");
    }
}

#[actix_web::test]
async fn head_with_a_range_has_the_whole_bodys_headers() {
    let app = spawn_app().await;
    let len = whole(&app, "identity").await.0.len().to_string();
    let reply = app
        .request_with("HEAD", BUNDLE, &[("range", "bytes=0-9")])
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-length"), Some(len.as_str()));
    assert_eq!(reply.header("content-range"), None);
}
