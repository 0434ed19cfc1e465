//! Conditional requests, content negotiation and cache headers, as a browser,
//! a mobile app or a CDN meets them.

use std::io::Read;

use relief_api::config::Config;

use crate::helpers::{Reply, SLUG, TestApp, spawn_app, spawn_app_with};

fn article() -> String {
    format!("/v1/articles/{SLUG}")
}

async fn get_with(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Reply {
    app.request_with("GET", path, headers).await
}

fn decode(coding: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        "gzip" => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .unwrap();
        }
        "br" => {
            brotli::Decompressor::new(body, 4096)
                .read_to_end(&mut out)
                .unwrap();
        }
        other => panic!("unexpected coding {other}"),
    }
    out
}

#[actix_web::test]
async fn content_comes_with_a_strong_etag_and_cache_headers() {
    let app = spawn_app().await;
    for path in [
        article(),
        "/v1/articles".into(),
        format!("{}/benefits/improves-posture", article()),
        "/".into(),
    ] {
        let reply = app.get(&path).await;
        assert_eq!(reply.status, 200, "{path}");
        let etag = reply
            .header("etag")
            .unwrap_or_else(|| panic!("{path} has no ETag"));
        assert!(
            etag.starts_with('"') && etag.ends_with('"'),
            "{path}: {etag} is not a strong tag"
        );
        assert_eq!(
            reply.header("cache-control"),
            Some("public, max-age=300, stale-while-revalidate=86400")
        );
        // An article's resources come in languages too; the root serves
        // browsers HTML.
        let vary = if path.starts_with("/v1/articles/") {
            "accept-encoding, accept-language"
        } else if path == "/" {
            "accept-encoding, accept"
        } else {
            "accept-encoding"
        };
        assert_eq!(reply.header("vary"), Some(vary), "{path}");
        assert_eq!(
            reply.header("content-length"),
            Some(reply.body.len().to_string().as_str())
        );
    }
}

#[actix_web::test]
async fn the_same_content_has_the_same_etag_on_every_server() {
    let (one, two) = (spawn_app().await, spawn_app().await);
    assert_eq!(
        one.get(&article()).await.etag(),
        two.get(&article()).await.etag()
    );
}

#[actix_web::test]
async fn a_matching_if_none_match_is_a_304_without_body() {
    let app = spawn_app().await;
    let first = app.get(&article()).await;
    let etag = first.header("etag").unwrap().to_owned();
    let weak = format!("W/{etag}");
    let listed = format!("\"something-else\", {etag}");
    for validator in [etag.as_str(), weak.as_str(), listed.as_str(), "*"] {
        let reply = get_with(&app, &article(), &[("if-none-match", validator)]).await;
        assert_eq!(reply.status, 304, "If-None-Match: {validator}");
        assert!(reply.body.is_empty());
        assert_eq!(reply.header("etag"), Some(etag.as_str()));
        assert_eq!(reply.header("cache-control"), first.header("cache-control"));
        assert_eq!(reply.header("vary"), first.header("vary"));
    }
}

#[actix_web::test]
async fn a_list_of_validators_matches_if_any_member_does() {
    let app = spawn_app().await;
    let etag = app.get(&article()).await.header("etag").unwrap().to_owned();
    let reply = app
        .request_with(
            "GET",
            &article(),
            &[("if-none-match", "\"old\""), ("if-none-match", &etag)],
        )
        .await;
    assert_eq!(reply.status, 304);
}

#[actix_web::test]
async fn a_stale_if_none_match_gets_the_full_answer() {
    let app = spawn_app().await;
    for validator in ["\"stale\"", "W/\"stale\", \"older\"", "not-even-quoted"] {
        let reply = get_with(&app, &article(), &[("if-none-match", validator)]).await;
        assert_eq!(reply.status, 200, "If-None-Match: {validator}");
        assert!(!reply.body.is_empty());
    }
}

#[actix_web::test]
async fn each_encoding_decodes_to_the_identity_body_byte_for_byte() {
    let app = spawn_app().await;
    for path in [
        article(),
        format!("{}/benefits", article()),
        "/openapi.json".into(),
    ] {
        let identity = app.get(&path).await;
        assert_eq!(identity.header("content-encoding"), None);
        let mut etags = vec![identity.header("etag").unwrap().to_owned()];
        for coding in ["gzip", "br"] {
            let reply = get_with(&app, &path, &[("accept-encoding", coding)]).await;
            assert_eq!(reply.status, 200);
            assert_eq!(reply.header("content-encoding"), Some(coding), "{path}");
            assert_eq!(
                reply.header("content-length"),
                Some(reply.body.len().to_string().as_str())
            );
            assert!(
                reply.body.len() < identity.body.len(),
                "{coding} is smaller"
            );
            assert_eq!(
                decode(coding, &reply.body),
                identity.body,
                "{path} in {coding}"
            );
            etags.push(reply.header("etag").unwrap().to_owned());
        }
        etags.dedup();
        assert_eq!(etags.len(), 3, "each variant has its own ETag: {etags:?}");
    }
}

#[actix_web::test]
async fn q_values_choose_the_encoding() {
    let app = spawn_app().await;
    for (accept, chosen) in [
        ("gzip, deflate, br", Some("br")),
        ("br;q=0.5, gzip;q=0.8", Some("gzip")),
        ("br;q=0, gzip", Some("gzip")),
        ("*", Some("br")),
        ("gzip;q=0.2, identity;q=0.5", None),
        ("identity;q=0, gzip", Some("gzip")),
        ("deflate", None),
    ] {
        let reply = get_with(&app, &article(), &[("accept-encoding", accept)]).await;
        assert_eq!(reply.status, 200, "{accept}");
        assert_eq!(
            reply.header("content-encoding"),
            chosen,
            "Accept-Encoding: {accept}"
        );
    }
}

#[actix_web::test]
async fn refusing_every_coding_is_a_406_problem() {
    let app = spawn_app().await;
    for accept in ["identity;q=0", "*;q=0"] {
        let reply = get_with(&app, &article(), &[("accept-encoding", accept)]).await;
        reply.problem(406);
        assert_eq!(reply.header("cache-control"), Some("no-store"));
    }
}

#[actix_web::test]
async fn small_bodies_stay_uncompressed() {
    let app = spawn_app().await;
    let reply = get_with(
        &app,
        &format!("{}/faqs/does-it-improve-posture", article()),
        &[("accept-encoding", "br")],
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-encoding"), None);
    assert_eq!(
        reply.header("vary"),
        Some("accept-encoding, accept-language")
    );
}

#[actix_web::test]
async fn a_304_is_per_encoding() {
    let app = spawn_app().await;
    let br = get_with(&app, &article(), &[("accept-encoding", "br")]).await;
    let br_etag = br.header("etag").unwrap();
    let again = get_with(
        &app,
        &article(),
        &[("accept-encoding", "br"), ("if-none-match", br_etag)],
    )
    .await;
    assert_eq!(again.status, 304);
    let identity = get_with(&app, &article(), &[("if-none-match", br_etag)]).await;
    assert_eq!(
        identity.status, 200,
        "the br tag does not validate the identity body"
    );
}

#[actix_web::test]
async fn head_has_the_headers_of_get_and_no_body() {
    let app = spawn_app().await;
    for accept in ["identity", "br"] {
        let get = get_with(&app, &article(), &[("accept-encoding", accept)]).await;
        let head = app
            .request_with("HEAD", &article(), &[("accept-encoding", accept)])
            .await;
        assert_eq!(head.status, 200);
        assert!(head.body.is_empty());
        for name in [
            "etag",
            "cache-control",
            "vary",
            "content-type",
            "content-encoding",
        ] {
            assert_eq!(head.header(name), get.header(name), "{name} with {accept}");
        }
        assert_eq!(
            head.header("content-length"),
            Some(get.body.len().to_string().as_str())
        );
    }
    let head = app.request("HEAD", "/v1/articles").await;
    assert!(head.header("link").is_some());
}

#[actix_web::test]
async fn errors_are_never_cached() {
    let app = spawn_app().await;
    let reply = app.get("/v1/articles/no-such-article").await;
    reply.problem(404);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("etag"), None);
}

#[actix_web::test]
async fn cache_lifetimes_are_configurable() {
    let app = spawn_app_with(Config {
        cache_max_age: 60,
        cache_stale_while_revalidate: 0,
        ..Config::default()
    })
    .await;
    let reply = app.get(&article()).await;
    assert_eq!(
        reply.header("cache-control"),
        Some("public, max-age=60, stale-while-revalidate=0")
    );
}

#[actix_web::test]
async fn every_content_response_names_what_a_cdn_purges_when_it_changes() {
    let app = spawn_app().await;
    let article_keys = [format!("article:{SLUG}"), format!("article:{SLUG}:en")];
    let cases: Vec<(String, Vec<String>)> = vec![
        ("/v1/articles".into(), vec!["articles".into()]),
        ("/v1/bundle".into(), vec!["bundle".into()]),
        ("/v1/search?q=posture".into(), vec!["search".into()]),
        (article(), article_keys.to_vec()),
        (format!("{}/jsonld", article()), article_keys.to_vec()),
        (format!("{}/benefits", article()), article_keys.to_vec()),
        (
            format!("{}/benefits/improves-posture", article()),
            [
                article_keys.to_vec(),
                vec![format!("benefit:{SLUG}:improves-posture")],
            ]
            .concat(),
        ),
        (
            format!("{}/faqs/what-is-deep-tissue-massage", article()),
            [
                article_keys.to_vec(),
                vec![format!("faq:{SLUG}:what-is-deep-tissue-massage")],
            ]
            .concat(),
        ),
        (format!("/articles/{SLUG}"), article_keys.to_vec()),
    ];
    for (path, keys) in cases {
        let reply = app.get(&path).await;
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(
            reply.header("surrogate-key"),
            Some(keys.join(" ").as_str()),
            "{path}"
        );
        assert_eq!(
            reply.header("cache-tag"),
            Some(keys.join(",").as_str()),
            "{path}"
        );
    }
}
