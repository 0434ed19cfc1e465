use crate::helpers::{SLUG, spawn_app};

#[actix_web::test]
async fn unknown_article_is_a_404_problem() {
    let app = spawn_app().await;
    let problem = app.get("/v1/articles/no-such-article").await.problem(404);
    assert_eq!(problem["title"], "Not Found");
    assert_eq!(problem["detail"], "no article `no-such-article`");
    assert_eq!(problem["instance"], "/v1/articles/no-such-article");
    // Nothing near it: no URL is offered.
    assert!(problem.get("meant").is_none(), "{problem}");
}

#[actix_web::test]
async fn a_mistyped_slug_is_a_404_naming_the_article_meant_on_every_path_under_it() {
    let app = spawn_app().await;
    let typo = "deep-tissue-massage-for-back-pian";
    for path in [
        format!("/v1/articles/{typo}"),
        format!("/v1/articles/{typo}/benefits"),
        format!("/v1/articles/{typo}/faqs/what-is-deep-tissue-massage?lang=en"),
        format!("/v1/articles/{typo}/replies"),
    ] {
        let problem = app.get(&path).await.problem(404);
        assert_eq!(
            problem["detail"],
            format!("no article `{typo}`; did you mean `{SLUG}`?"),
            "{path}"
        );
        // The URL meant is the request's own, query and all, with the
        // slug put right, and it is there to fetch.
        let meant = path.replace(typo, SLUG);
        assert_eq!(problem["meant"], meant.as_str(), "{path}");
        assert_eq!(app.get(&meant).await.status, 200, "{meant}");
    }
}

#[actix_web::test]
async fn unknown_part_of_each_kind_is_a_404_problem_naming_it() {
    let app = spawn_app().await;
    for (kind, name) in [
        ("benefits", "benefit"),
        ("precautions", "precaution"),
        ("faqs", "FAQ"),
        ("sections", "section"),
    ] {
        let problem = app
            .get(&format!("/v1/articles/{SLUG}/{kind}/better-sleep"))
            .await
            .problem(404);
        assert_eq!(
            problem["detail"],
            format!("no {name} `better-sleep` in article `{SLUG}`")
        );
    }
    let problem = app
        .get("/v1/articles/no-such-article/benefits")
        .await
        .problem(404);
    assert_eq!(problem["detail"], "no article `no-such-article`");
}

#[actix_web::test]
async fn a_part_asked_for_by_its_position_or_a_near_id_is_a_404_naming_the_id_meant() {
    let app = spawn_app().await;
    for (path, meant) in [
        ("benefits/1", Some("reduces-muscle-tension")),
        ("benefits/7", Some("complements-other-therapies")),
        ("benefits/8", None),
        (
            "benefits/reduce-muscle-tension",
            Some("reduces-muscle-tension"),
        ),
        ("faqs/deep-tissue", Some("what-is-deep-tissue-massage")),
        ("sections/conclusions", Some("conclusion")),
        ("faqs/posture-and-circulation", None),
    ] {
        let problem = app
            .get(&format!("/v1/articles/{SLUG}/{path}"))
            .await
            .problem(404);
        let detail = problem["detail"].as_str().unwrap();
        match meant {
            Some(meant) => assert!(
                detail.ends_with(&format!("; did you mean `{meant}`?")),
                "{path}: {detail}"
            ),
            None => {
                assert!(!detail.contains("did you mean"), "{path}: {detail}");
                assert!(problem.get("meant").is_none(), "{path}: {problem}");
            }
        }
        // What the hint names is there to fetch, at the URL the problem gives.
        if let Some(meant) = meant {
            let kind = path.split('/').next().unwrap();
            let url = format!("/v1/articles/{SLUG}/{kind}/{meant}");
            assert_eq!(problem["meant"], url.as_str(), "{path}");
            let part = app.get(&url).await;
            assert_eq!(part.status, 200);
            assert_eq!(part.json()["id"], meant);
        }
    }
}

#[actix_web::test]
async fn a_part_asked_for_among_another_kind_is_a_404_naming_where_it_is() {
    let app = spawn_app().await;
    for (path, there) in [
        ("sections/reduces-muscle-tension", "benefits"),
        ("benefits/what-is-deep-tissue-massage", "faqs"),
        ("faqs/conclusion", "sections"),
    ] {
        let response = app.get(&format!("/v1/articles/{SLUG}/{path}")).await;
        let id = path.split_once('/').unwrap().1;
        let url = format!("/v1/articles/{SLUG}/{there}/{id}");
        let problem = response.problem(404);
        assert_eq!(problem["meant"], url.as_str(), "{path}");
        let detail = problem["detail"].as_str().unwrap().to_owned();
        let kind = match there {
            "faqs" => "FAQ",
            other => other.trim_end_matches('s'),
        };
        assert!(
            detail.ends_with(&format!("; it is a {kind}: `{url}`")),
            "{path}: {detail}"
        );
        // What the hint names is there to fetch.
        let part = app.get(&url).await;
        assert_eq!(part.status, 200);
        assert_eq!(part.json()["id"], id);
    }
}

#[actix_web::test]
async fn a_query_that_is_not_utf8_once_decoded_is_a_400_naming_the_parameter() {
    let app = spawn_app().await;
    // Latin-1's `é`: decoded as a form, it would search for U+FFFD.
    let problem = app.get("/v1/search?q=caf%E9").await.problem(400);
    assert_eq!(
        problem["detail"],
        "query parameter `q` is not UTF-8 text once percent-decoded; \
         percent-encode the UTF-8 bytes of its text"
    );
    // The same word in UTF-8 is searched.
    let found = app.get("/v1/search?q=caf%C3%A9").await;
    assert_eq!(found.status, 200);
}

#[actix_web::test]
async fn unknown_path_is_a_404_problem() {
    let app = spawn_app().await;
    app.get("/v2/nothing/here").await.problem(404);
    app.get(&format!("/v1/articles/{SLUG}/benefits/a/b"))
        .await
        .problem(404);
}

#[actix_web::test]
async fn a_path_off_by_a_slash_or_letter_case_or_the_bare_version_is_a_404_naming_the_path_meant() {
    let app = spawn_app().await;
    for (path, meant) in [
        ("/v1/articles/".to_owned(), "/v1/articles".to_owned()),
        (
            format!("/v1/articles//{SLUG}/benefits/"),
            format!("/v1/articles/{SLUG}/benefits"),
        ),
        ("/V1/Search".to_owned(), "/v1/search".to_owned()),
        ("/openapi.json/".to_owned(), "/openapi.json".to_owned()),
        (
            "/v1/moderation/authors/Ann@Example.org/replies/".to_owned(),
            "/v1/moderation/authors/Ann@Example.org/replies".to_owned(),
        ),
        // The version alone, where a client exploring the API starts: the
        // index, which links every resource.
        ("/v1".to_owned(), "/".to_owned()),
        ("/v1/".to_owned(), "/".to_owned()),
    ] {
        let problem = app.get(&path).await.problem(404);
        assert_eq!(
            problem["detail"],
            format!("no resource at `{path}`; did you mean `{meant}`?")
        );
        assert_eq!(problem["meant"], meant.as_str(), "{path}");
    }
    // The URL meant keeps the request's query, and answers it.
    let problem = app.get("/V1/Search?q=massage").await.problem(404);
    assert_eq!(problem["meant"], "/v1/search?q=massage");
    let found = app.get("/v1/search?q=massage").await;
    assert_eq!(found.status, 200);
    let problem = app.get("/v2/articles/").await.problem(404);
    assert_eq!(problem["detail"], "no resource at `/v2/articles/`");
    assert!(problem.get("meant").is_none(), "{problem}");
}

#[actix_web::test]
async fn malformed_slug_or_id_is_a_400_problem_naming_the_parameter() {
    let app = spawn_app().await;
    let problem = app.get("/v1/articles/Not_A_Slug").await.problem(400);
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.starts_with("path parameter `slug` must be lowercase kebab-case"));
    assert!(detail.ends_with("; did you mean `not-a-slug`?"), "{detail}");
    let long = "a".repeat(101);
    let problem = app
        .get(&format!("/v1/articles/{SLUG}/faqs/{long}"))
        .await
        .problem(400);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .starts_with("path parameter `id` must be at most 100 characters")
    );
}

#[actix_web::test]
async fn wrong_method_is_a_405_problem_with_allow() {
    let app = spawn_app().await;
    for path in [
        "/v1/articles".to_owned(),
        format!("/v1/articles/{SLUG}/benefits/improves-posture"),
    ] {
        let reply = app.request("DELETE", &path).await;
        let problem = reply.problem(405);
        assert_eq!(reply.header("allow"), Some("GET, HEAD, OPTIONS"));
        assert_eq!(
            problem["detail"],
            "DELETE is not allowed here; this resource allows GET, HEAD, OPTIONS"
        );
    }
}

#[actix_web::test]
async fn every_path_the_spec_lists_with_get_answers_head_as_its_allow_says() {
    let app = spawn_app().await;
    let spec = app.get_json("/openapi.json").await;
    let paths = spec["paths"].as_object().unwrap();
    let reading = paths.iter().filter(|(_, item)| item.get("get").is_some());
    let mut checked = 0;
    for (template, _) in reading {
        let path = template
            .replace("{slug}", SLUG)
            .replace("{id}", "1")
            .replace("{email}", "ann@example.org");
        let head = app.request("HEAD", &path).await;
        assert_ne!(head.status, 405, "HEAD {path}");
        assert!(head.body.is_empty(), "HEAD {path} has a body");
        checked += 1;
    }
    assert!(checked > 15, "only {checked} paths read");
}

#[actix_web::test]
async fn every_path_answers_options_with_the_methods_it_takes_and_refuses_others_alike() {
    let app = spawn_app().await;
    for (path, allow) in [
        ("/v1/articles".to_owned(), "GET, HEAD, OPTIONS"),
        (
            format!("/v1/articles/{SLUG}/replies"),
            "GET, HEAD, POST, OPTIONS",
        ),
        (format!("/articles/{SLUG}"), "GET, HEAD, OPTIONS"),
        (format!("/articles/{SLUG}/replies"), "POST, OPTIONS"),
        ("/openapi.json".to_owned(), "GET, HEAD, OPTIONS"),
        ("/assets/reader.css".to_owned(), "GET, HEAD, OPTIONS"),
        ("/assets/reader.js".to_owned(), "GET, HEAD, OPTIONS"),
        ("/docs/".to_owned(), "GET, HEAD, OPTIONS"),
        ("/docs/swagger-ui.css".to_owned(), "GET, HEAD, OPTIONS"),
    ] {
        let options = app.request("OPTIONS", &path).await;
        assert_eq!(options.status, 204, "OPTIONS {path}");
        assert_eq!(options.header("allow"), Some(allow), "OPTIONS {path}");
        assert!(options.body.is_empty());
        // What `Allow` lists is answered, not refused.
        for method in allow.split(", ").filter(|&m| m != "OPTIONS") {
            let reply = app.request(method, &path).await;
            assert!(
                ![404, 405].contains(&reply.status.as_u16()),
                "{method} {path}: {}",
                reply.status
            );
        }
        let reply = app.request("PUT", &path).await;
        let problem = reply.problem(405);
        assert_eq!(reply.header("allow"), Some(allow));
        assert_eq!(
            problem["detail"],
            format!("PUT is not allowed here; this resource allows {allow}")
        );
    }
    // What is not there is not there, whatever the method: neither a
    // path nor a file of the docs that does not exist.
    for path in ["/v2/nothing", "/docs/nothing.js"] {
        for method in ["OPTIONS", "PUT", "GET"] {
            app.request(method, path).await.problem(404);
        }
    }
}

#[actix_web::test]
async fn invalid_pagination_is_a_400_problem_naming_the_parameter_and_rule() {
    let app = spawn_app().await;
    for (query, detail) in [
        (
            "limit=0",
            "query parameter `limit` must be an integer from 1 to 100, not `0`",
        ),
        (
            "limit=101",
            "query parameter `limit` must be an integer from 1 to 100, not `101`",
        ),
        (
            "limit=abc",
            "query parameter `limit` must be an integer from 1 to 100, not `abc`",
        ),
        (
            "offset=-1",
            "query parameter `offset` must be an integer from 0 to 2147483647, not `-1`",
        ),
        (
            "sort=title",
            "unknown query parameter `sort`; the parameters are limit, offset, review_status",
        ),
        (
            "limt=5",
            "unknown query parameter `limt`; the parameters are limit, offset, review_status; did you mean `limit`?",
        ),
        (
            "limit=1&limit=2",
            "query parameter `limit` is given more than once; give it once",
        ),
    ] {
        let problem = app.get(&format!("/v1/articles?{query}")).await.problem(400);
        assert_eq!(problem["detail"], detail, "{query}");
    }
}
