use crate::helpers::{Backend, SLUG, client, spawn_app, spawn_replies_app};

#[actix_web::test]
async fn the_article_list_shows_the_source_article() {
    let app = spawn_app().await;
    let page = app.get_json("/v1/articles").await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["limit"], 20);
    assert_eq!(page["offset"], 0);
    assert_eq!(
        page["items"][0],
        serde_json::json!({
            "slug": SLUG,
            "title": "Back Pain Relief With Deep Tissue Massage",
            "url": format!("/v1/articles/{SLUG}"),
            "languages": ["en"],
            // The source article gives no review dates.
            "review": { "last_reviewed": null, "next_review": null, "status": "unreviewed" },
        })
    );
}

#[actix_web::test]
async fn the_article_list_links_its_pages() {
    let app = spawn_app().await;
    let reply = app.get("/v1/articles?limit=5").await;
    assert_eq!(
        reply.header("link"),
        Some(
            "</v1/articles?limit=5&offset=0>; rel=\"first\", </v1/articles?limit=5&offset=0>; rel=\"last\""
        )
    );
}

#[actix_web::test]
async fn an_offset_past_the_end_is_an_empty_page() {
    let app = spawn_app().await;
    let page = app.get_json("/v1/articles?offset=10").await;
    assert_eq!(page["items"], serde_json::json!([]));
    assert_eq!(page["total"], 1);
    assert_eq!(page["offset"], 10);
}

#[actix_web::test]
async fn the_whole_article_has_its_parts_in_reading_order() {
    let app = spawn_app().await;
    let reply = app.get(&format!("/v1/articles/{SLUG}")).await;
    let raw = String::from_utf8_lossy(&reply.body);
    let starts: Vec<usize> = [
        "{\"slug\":",
        "\"title\":",
        "\"intro\":{",
        "\"sections\":[",
        "\"benefits\":{",
        "\"precautions\":{",
        "\"conclusion\":{",
        "\"faqs\":{",
        "\"replies\":{",
    ]
    .iter()
    .map(|key| raw.find(key).unwrap_or_else(|| panic!("no {key} in {raw}")))
    .collect();
    assert!(
        starts.is_sorted(),
        "the parts are out of reading order: {raw}"
    );

    let article = reply.json();
    assert_eq!(article["slug"], SLUG);
    assert_eq!(
        article["title"],
        "Back Pain Relief With Deep Tissue Massage"
    );
    assert_eq!(article["intro"]["id"], "introduction");
    assert_eq!(
        article["sections"][0]["heading"],
        "Understanding Deep Tissue Massage"
    );
    assert_eq!(
        article["benefits"]["heading"],
        "Benefits of Deep Tissue Massage for Back Pain Relief"
    );
    assert_eq!(
        article["precautions"]["heading"],
        "Precautions and Considerations"
    );
    assert_eq!(
        article["precautions"]["intro"],
        "While deep tissue massage can be highly beneficial for back pain relief, it is essential to take some precautions and considerations:"
    );
    assert_eq!(article["conclusion"]["heading"], "Conclusion");
    assert_eq!(article["faqs"]["heading"], "FAQ");
    assert_eq!(article["replies"]["heading"], "Leave a Reply");
}

#[actix_web::test]
async fn head_answers_like_get_without_a_body() {
    let app = spawn_app().await;
    let path = format!("/v1/articles/{SLUG}");
    let get = app.get(&path).await;
    let head = app.request("HEAD", &path).await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-type"), get.header("content-type"));
    assert_eq!(
        head.header("content-length"),
        Some(get.body.len().to_string().as_str())
    );
}

#[actix_web::test]
async fn the_index_links_resources_and_docs() {
    let app = spawn_app().await;
    let index = app.get_json("/").await;
    assert_eq!(index["links"]["articles"], "/v1/articles");
    assert_eq!(index["links"]["openapi"], "/openapi.json");
    assert_eq!(index["links"]["docs"], "/docs/");
    assert_eq!(app.get_json("/healthz").await["status"], "ok");
}

/// A link of the index as a client fills it in (RFC 6570): the source
/// article's slug, a word to search for, none of the optional parameters.
fn fill_in(template: &str) -> String {
    let path = template
        .replace("{slug}", SLUG)
        .replace("{query}", "massage");
    match path.find('{') {
        Some(optional) => path[..optional].to_string(),
        None => path,
    }
}

#[actix_web::test]
async fn every_link_of_the_index_answers() {
    // With moderators, so that the moderation link asks for a token.
    let app = spawn_replies_app(Backend::Sqlite).await.unwrap();
    // Sync answers once the start has recorded the content's history.
    app.history_recorded().await;
    let index = app.get_json("/").await;
    let links = index["links"].as_object().expect("the index has links");
    for wanted in ["search", "sync", "bundle", "events", "jsonld", "page"] {
        assert!(links.contains_key(wanted), "the index links {wanted}");
    }
    let client = client();
    for (relation, template) in links {
        let path = fill_in(template.as_str().expect("a link is a string"));
        // Only the head of the response: the events never end.
        let response = client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .expect("the server answers");
        let expected = if relation == "moderation" { 401 } else { 200 };
        assert_eq!(response.status(), expected, "{relation}: GET {path}");
    }
}

#[test]
fn the_index_templates_name_each_query_parameter_the_spec_lists() {
    let spec: serde_json::Value =
        serde_json::from_str(&relief_api::openapi::document_json()).unwrap();
    for (relation, template) in [
        ("search", relief_api::urls::templates::SEARCH),
        ("sync", relief_api::urls::templates::SYNC),
    ] {
        let path = template.split(['?', '{']).next().unwrap();
        let mut listed: Vec<&str> = spec["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("the spec has GET {path}"))
            .iter()
            .filter(|parameter| parameter["in"] == "query")
            .map(|parameter| parameter["name"].as_str().unwrap())
            .collect();
        let mut named: Vec<&str> = template
            .split(['{', '}', ',', '?', '&', '='])
            .filter(|name| !name.is_empty() && !name.starts_with('/'))
            .filter(|name| *name != "query")
            .collect();
        listed.sort_unstable();
        named.sort_unstable();
        assert_eq!(named, listed, "the index's {relation} template");
    }
}
