//! What front ends use to find and show content: field selection,
//! schema.org JSON-LD, the offline bundle, editorial dates, translations.

use actix_web::http::StatusCode;
use serde_json::Value;

use crate::helpers::{ContentDir, SLUG, spawn_app, spawn_app_with};

fn article() -> String {
    format!("/v1/articles/{SLUG}")
}

/// The keys of a JSON object, sorted.
fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

#[actix_web::test]
async fn fields_keeps_only_what_a_front_end_shows() {
    let app = spawn_app().await;
    let whole = app.get_json(&article()).await;
    let some = app
        .get_json(&format!("{}?fields=title,benefits", article()))
        .await;
    assert_eq!(keys(&some), ["benefits", "title"]);
    assert_eq!(some["benefits"], whole["benefits"]);

    let list = app
        .get_json(&format!("{}/benefits?fields=id,title", article()))
        .await;
    assert_eq!(list["total"], 7);
    for item in list["items"].as_array().unwrap() {
        assert_eq!(keys(item), ["id", "title"]);
    }
    let one = app
        .get_json(&format!(
            "{}/faqs/what-is-deep-tissue-massage?fields=question",
            article()
        ))
        .await;
    assert_eq!(
        one,
        serde_json::json!({ "question": "What is deep tissue massage?" })
    );
}

#[actix_web::test]
async fn selected_fields_come_in_the_order_the_whole_resource_has_them() {
    let app = spawn_app().await;
    let benefit = format!("{}/benefits/reduces-muscle-tension", article());
    // Where each of a benefit's id, title and body starts in a response.
    let places = |body: &[u8]| {
        let text = String::from_utf8_lossy(body);
        ["id", "title", "body"].map(|key| text.find(&format!("\"{key}\":")).unwrap())
    };
    assert!(places(&app.get(&benefit).await.body).is_sorted());
    let some = app.get(&format!("{benefit}?fields=body,title,id")).await;
    assert!(some.body.starts_with(b"{\"id\":"));
    assert!(places(&some.body).is_sorted());
}

#[actix_web::test]
async fn an_unknown_field_is_a_400_naming_it() {
    let app = spawn_app().await;
    let problem = app
        .get(&format!("{}?fields=title,subtitle", article()))
        .await
        .problem(400);
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("`subtitle`") && detail.contains("title"),
        "{detail}"
    );
    let problem = app
        .get(&format!("{}?fields=slug,titel", article()))
        .await
        .problem(400);
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.ends_with("; did you mean `title`?"), "{detail}");
    app.get(&format!("{}/benefits?fields=question", article()))
        .await
        .problem(400);
    app.get(&format!("{}?fields=", article()))
        .await
        .problem(400);
}

#[actix_web::test]
async fn a_selection_keeps_its_etag_rules() {
    let app = spawn_app().await;
    let path = format!("{}?fields=title", article());
    let first = app.get(&path).await;
    let etag = first.header("etag").unwrap().to_owned();
    assert_ne!(etag, app.get(&article()).await.etag());
    let again = app
        .request_with("GET", &path, &[("if-none-match", etag.as_str())])
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
}

/// schema.org types this API may use (https://schema.org/docs/full.html).
const SCHEMA_ORG_TYPES: [&str; 7] = [
    "MedicalWebPage",
    "MedicalTherapy",
    "FAQPage",
    "Question",
    "Answer",
    "Person",
    "WebPage",
];

fn types_in(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            if let Some(Value::String(kind)) = object.get("@type") {
                out.push(kind.clone());
            }
            object.values().for_each(|v| types_in(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| types_in(v, out)),
        _ => {}
    }
}

#[actix_web::test]
async fn the_json_ld_is_a_medical_web_page_and_an_faq_page_search_engines_accept() {
    let app = spawn_app().await;
    let reply = app.get(&format!("{}/jsonld", article())).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/ld+json"));
    let jsonld = reply.json();
    assert_eq!(jsonld["@context"], "https://schema.org");
    let mut types = Vec::new();
    types_in(&jsonld, &mut types);
    for kind in &types {
        assert!(
            SCHEMA_ORG_TYPES.contains(&kind.as_str()),
            "not a schema.org type: {kind}"
        );
    }

    let graph = jsonld["@graph"].as_array().unwrap();
    let page = graph
        .iter()
        .find(|node| node["@type"] == "MedicalWebPage")
        .unwrap();
    assert_eq!(page["name"], "Back Pain Relief With Deep Tissue Massage");
    assert_eq!(page["about"]["@type"], "MedicalTherapy");
    assert_eq!(page["about"]["name"], "Deep Tissue Massage");
    assert_eq!(page["inLanguage"], "en");
    // The source article gives no dates or credits: none is invented.
    for absent in [
        "datePublished",
        "dateModified",
        "lastReviewed",
        "author",
        "reviewedBy",
        "license",
    ] {
        assert!(page.get(absent).is_none(), "{absent} was invented");
    }

    // Google's required properties for FAQPage: mainEntity of Questions,
    // each with a name and an acceptedAnswer whose text is the answer.
    let faq_page = graph
        .iter()
        .find(|node| node["@type"] == "FAQPage")
        .unwrap();
    let questions = faq_page["mainEntity"].as_array().unwrap();
    let faqs = app.get_json(&format!("{}/faqs", article())).await;
    assert_eq!(questions.len(), 4);
    for (question, faq) in questions.iter().zip(faqs["items"].as_array().unwrap()) {
        assert_eq!(question["@type"], "Question");
        assert_eq!(question["name"], faq["question"]);
        assert_eq!(question["acceptedAnswer"]["@type"], "Answer");
        assert_eq!(question["acceptedAnswer"]["text"], faq["answer"]);
    }
}

#[actix_web::test]
async fn the_bundle_holds_every_article_whole_and_revalidates_with_304() {
    let app = spawn_app().await;
    let reply = app.get("/v1/bundle").await;
    assert_eq!(reply.status, 200);
    let bundle = reply.json();
    let articles = bundle["articles"].as_array().unwrap();
    assert_eq!(articles.len(), 1);
    assert_eq!(articles[0], app.get_json(&article()).await);
    assert_eq!(
        bundle["revision"],
        reply.header("x-content-revision").unwrap()
    );
    let etag = reply.header("etag").unwrap();
    let again = app
        .request_with("GET", "/v1/bundle", &[("if-none-match", etag)])
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
}

const METADATA: &str = r#"title = "Back Pain Relief With Deep Tissue Massage"
published_at = 2024-03-01
updated_at = 2024-05-01
last_reviewed = 2024-05-01
next_review = 2025-05-01
authors = ["A. Writer"]
reviewed_by = ["Dr. B. Reviewer"]
license = "CC BY 4.0"
audience = "patient""#;

/// A content dir whose source article carries editorial metadata.
fn with_metadata() -> ContentDir {
    let content = ContentDir::with_source_article();
    content.edit(
        r#"title = "Back Pain Relief With Deep Tissue Massage""#,
        METADATA,
    );
    content
}

#[actix_web::test]
async fn editorial_dates_and_credits_are_served_when_the_content_gives_them() {
    let content = with_metadata();
    let app = spawn_app_with(content.config()).await;
    let whole = app.get(&article()).await;
    let json = whole.json();
    assert_eq!(json["published_at"], "2024-03-01");
    assert_eq!(json["updated_at"], "2024-05-01");
    assert_eq!(json["last_reviewed"], "2024-05-01");
    assert_eq!(json["next_review"], "2025-05-01");
    assert_eq!(json["authors"], serde_json::json!(["A. Writer"]));
    assert_eq!(json["reviewed_by"], serde_json::json!(["Dr. B. Reviewer"]));
    assert_eq!(json["license"], "CC BY 4.0");
    assert_eq!(json["audience"], "patient");
    assert_eq!(
        whole.header("last-modified"),
        Some("Wed, 01 May 2024 00:00:00 GMT")
    );

    let jsonld = app.get_json_ld(&format!("{}/jsonld", article())).await;
    let page = &jsonld["@graph"][0];
    assert_eq!(page["datePublished"], "2024-03-01");
    assert_eq!(page["dateModified"], "2024-05-01");
    assert_eq!(page["lastReviewed"], "2024-05-01");
    assert_eq!(
        page["author"][0],
        serde_json::json!({ "@type": "Person", "name": "A. Writer" })
    );
    assert_eq!(page["reviewedBy"][0]["name"], "Dr. B. Reviewer");
    assert_eq!(page["license"], "CC BY 4.0");
    assert_eq!(
        page["medicalAudience"],
        serde_json::json!({ "@type": "MedicalAudience", "audienceType": "Patient" })
    );
}

#[actix_web::test]
async fn if_modified_since_is_honoured_against_updated_at() {
    let content = with_metadata();
    let app = spawn_app_with(content.config()).await;
    let since = |date: &'static str| [("if-modified-since", date)];
    let later = app
        .request_with("GET", &article(), &since("Thu, 02 May 2024 00:00:00 GMT"))
        .await;
    assert_eq!(later.status, StatusCode::NOT_MODIFIED);
    assert_eq!(
        later.header("last-modified"),
        Some("Wed, 01 May 2024 00:00:00 GMT")
    );
    let same = app
        .request_with(
            "GET",
            &format!("{}/benefits", article()),
            &since("Wed, 01 May 2024 00:00:00 GMT"),
        )
        .await;
    assert_eq!(same.status, StatusCode::NOT_MODIFIED);
    let earlier = app
        .request_with("GET", &article(), &since("Tue, 30 Apr 2024 23:59:59 GMT"))
        .await;
    assert_eq!(earlier.status, StatusCode::OK);
    // If-None-Match wins over If-Modified-Since.
    let both = app
        .request_with(
            "GET",
            &article(),
            &[
                ("if-none-match", "\"other\""),
                ("if-modified-since", "Thu, 02 May 2024 00:00:00 GMT"),
            ],
        )
        .await;
    assert_eq!(both.status, StatusCode::OK);
}

#[actix_web::test]
async fn the_source_article_has_no_invented_dates() {
    let app = spawn_app().await;
    let whole = app.get(&article()).await;
    assert_eq!(whole.header("last-modified"), None);
    let json = whole.json();
    for absent in [
        "published_at",
        "updated_at",
        "last_reviewed",
        "next_review",
        "authors",
        "reviewed_by",
        "license",
        "audience",
        "citations",
    ] {
        assert!(json.get(absent).is_none(), "{absent} was invented");
    }
}

/// Sources for the article and its last benefit (a fixture: the source
/// article cites nothing, and nothing is invented in `content/`).
const CITATIONS: &str = r#"
[[citations]]
title = "Massage for low-back pain"
url = "https://www.cochranelibrary.com/cdsr/doi/10.1002/14651858.CD001929.pub3/full"
doi = "10.1002/14651858.CD001929.pub3"
accessed = 2024-05-01

[[benefits.items.citations]]
title = "A PubMed record"
pmid = "26329399"
"#;

#[actix_web::test]
async fn sources_are_served_with_the_article_its_parts_and_in_json_ld() {
    let content = ContentDir::with_source_article();
    let text = std::fs::read_to_string(content.article_file()).unwrap();
    std::fs::write(content.article_file(), format!("{text}\n{CITATIONS}")).unwrap();
    let app = spawn_app_with(content.config()).await;

    let whole = app.get_json(&article()).await;
    assert_eq!(
        whole["citations"][0]["doi"],
        "10.1002/14651858.CD001929.pub3"
    );
    assert_eq!(whole["citations"][0]["accessed"], "2024-05-01");
    let benefit = app
        .get_json(&format!(
            "{}/benefits/complements-other-therapies",
            article()
        ))
        .await;
    assert_eq!(
        benefit["citations"],
        serde_json::json!([{ "title": "A PubMed record", "pmid": "26329399" }])
    );
    let other = app
        .get_json(&format!("{}/benefits/improves-posture", article()))
        .await;
    assert!(
        other.get("citations").is_none(),
        "only the cited part has sources"
    );

    let jsonld = app.get_json_ld(&format!("{}/jsonld", article())).await;
    assert_eq!(
        jsonld["@graph"][0]["citation"],
        serde_json::json!([
            {
                "@type": "CreativeWork",
                "name": "Massage for low-back pain",
                "url": "https://www.cochranelibrary.com/cdsr/doi/10.1002/14651858.CD001929.pub3/full",
                "sameAs": ["https://doi.org/10.1002/14651858.CD001929.pub3"]
            },
            {
                "@type": "CreativeWork",
                "name": "A PubMed record",
                "url": "https://pubmed.ncbi.nlm.nih.gov/26329399/"
            }
        ])
    );
}

#[test]
fn validate_checks_each_source_in_its_own_syntax() {
    let content = ContentDir::with_source_article();
    let text = std::fs::read_to_string(content.article_file()).unwrap();
    let broken = CITATIONS
        .replace("10.1002/14651858.CD001929.pub3\"", "doi:10.1002/x\"")
        .replace("26329399", "PMC123");
    std::fs::write(content.article_file(), format!("{text}\n{broken}")).unwrap();
    let stderr = failed_validation(&content);
    assert!(
        stderr.contains("citations[0].doi: `doi:10.1002/x` is not a DOI")
            && stderr.contains("benefits.items[6].citations[0].pmid: `PMC123` is not a PubMed id"),
        "{stderr}"
    );
}

/// What `relief-api validate` says (it must fail) of the source article
/// with `fields` written after its title.
fn validate_with(fields: &str) -> String {
    let content = ContentDir::with_source_article();
    let title = r#"title = "Back Pain Relief With Deep Tissue Massage""#;
    content.edit(title, &format!("{title}\n{fields}"));
    failed_validation(&content)
}

/// What `relief-api validate` says of `content`, which it must refuse.
fn failed_validation(content: &ContentDir) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_relief-api"))
        .arg("validate")
        .arg(content.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    String::from_utf8(output.stderr).unwrap()
}

#[test]
fn validate_rejects_a_next_review_before_the_last() {
    let stderr = validate_with("last_reviewed = 2024-05-01\nnext_review = 2024-04-01");
    assert!(
        stderr.contains(&format!("{SLUG}.toml:"))
            && stderr.contains("next_review: 2024-04-01 is before last_reviewed (2024-05-01)"),
        "{stderr}"
    );
}

#[test]
fn validate_names_the_audiences_there_are() {
    let stderr = validate_with("audience = \"doctors\"");
    assert!(
        stderr.contains(&format!(
            "{SLUG}.toml:10:12: unknown value `doctors`; the values are patient, caregiver, clinician\n"
        )),
        "{stderr}"
    );
}

/// The source article and a Spanish translation (a fixture: no translation
/// is invented in `content/`).
fn with_translation() -> ContentDir {
    let content = ContentDir::with_source_article();
    let english = std::fs::read_to_string(content.article_file()).unwrap();
    let spanish = english.replacen(
        r#"title = "Back Pain Relief With Deep Tissue Massage""#,
        "lang = \"es\"\ntitle = \"Alivio del dolor de espalda con masaje de tejido profundo\"",
        1,
    );
    std::fs::write(
        content
            .path()
            .join("articles")
            .join(format!("{SLUG}.es.toml")),
        spanish,
    )
    .unwrap();
    content
}

#[actix_web::test]
async fn a_translation_is_chosen_by_lang_or_accept_language() {
    let content = with_translation();
    let app = spawn_app_with(content.config()).await;
    let spanish_title = "Alivio del dolor de espalda con masaje de tejido profundo";

    let by_query = app.get(&format!("{}?lang=es", article())).await;
    assert_eq!(by_query.json()["title"], spanish_title);
    assert_eq!(by_query.json()["lang"], "es");
    assert_eq!(by_query.header("content-language"), Some("es"));

    let by_header = app
        .request_with("GET", &article(), &[("accept-language", "es-MX, en;q=0.5")])
        .await;
    assert_eq!(by_header.json()["title"], spanish_title);
    assert_eq!(
        by_header.header("vary"),
        Some("accept-encoding, accept-language")
    );

    let english = app
        .request_with("GET", &article(), &[("accept-language", "en, es;q=0.5")])
        .await;
    assert_eq!(english.header("content-language"), Some("en"));
    assert_ne!(english.etag(), by_header.etag());

    // The query wins over the header; parts and JSON-LD follow the language.
    let faqs = app
        .request_with(
            "GET",
            &format!("{}/faqs?lang=es", article()),
            &[("accept-language", "en")],
        )
        .await;
    assert_eq!(faqs.header("content-language"), Some("es"));
    let jsonld = app
        .get_json_ld(&format!("{}/jsonld?lang=es", article()))
        .await;
    assert_eq!(jsonld["@graph"][0]["name"], spanish_title);

    let list = app.get_json("/v1/articles").await;
    assert_eq!(list["total"], 1);
    assert_eq!(
        list["items"][0]["languages"],
        serde_json::json!(["en", "es"])
    );
    let bundle = app.get_json("/v1/bundle").await;
    assert_eq!(bundle["articles"].as_array().unwrap().len(), 2);
    // Browsers, too, see the article once, not once per translation.
    let front = app
        .request_with("GET", "/", &[("accept", "text/html")])
        .await;
    let html = String::from_utf8_lossy(&front.body);
    assert_eq!(
        html.matches(&format!("href=\"/articles/{SLUG}\"")).count(),
        1
    );
}

/// The (URL, type) of each `rel="alternate"` in a `Link` header.
fn alternates(link: &str) -> Vec<(String, String)> {
    link.split(", <")
        .filter(|one| one.contains(r#"rel="alternate""#))
        .map(|one| {
            let url = one.trim_start_matches('<').split('>').next().unwrap();
            let kind = one.split(r#"type=""#).nth(1).unwrap().trim_end_matches('"');
            (url.to_owned(), kind.to_owned())
        })
        .collect()
}

#[actix_web::test]
async fn an_article_links_its_other_forms_even_in_refusing_the_type_asked() {
    let app = spawn_app_with(with_translation().config()).await;
    let answer = app.get(&article()).await;
    let links = alternates(answer.header("link").unwrap());
    assert_eq!(
        links,
        [
            (format!("/articles/{SLUG}"), "text/html".to_owned()),
            (
                format!("{}/jsonld", article()),
                "application/ld+json".to_owned()
            ),
        ]
    );
    // Each is there, in the type it is said to be.
    for (url, kind) in &links {
        let other = app.get(url).await;
        assert_eq!(other.status, StatusCode::OK, "{url}");
        assert!(
            other
                .header("content-type")
                .unwrap()
                .starts_with(kind.as_str()),
            "{url}"
        );
    }
    // A client that refuses JSON is told where the other types are.
    let refused = app
        .request_with("GET", &article(), &[("accept", "text/html")])
        .await;
    assert_eq!(refused.status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(alternates(refused.header("link").unwrap()), links);
    // A translation's JSON-LD is in its language.
    let spanish = app.get(&format!("{}?lang=es", article())).await;
    assert!(alternates(spanish.header("link").unwrap()).contains(&(
        format!("{}/jsonld?lang=es", article()),
        "application/ld+json".to_owned()
    )));
    // The JSON-LD names the others: the JSON, in its language, and the page.
    let jsonld = app.get(&format!("{}/jsonld?lang=es", article())).await;
    assert_eq!(
        alternates(jsonld.header("link").unwrap()),
        [
            (
                format!("{}?lang=es", article()),
                "application/json".to_owned()
            ),
            (format!("/articles/{SLUG}"), "text/html".to_owned()),
        ]
    );
}

#[actix_web::test]
async fn a_missing_translation_falls_back_to_english() {
    let content = with_translation();
    let app = spawn_app_with(content.config()).await;
    let french = app.get(&format!("{}?lang=fr", article())).await;
    assert_eq!(french.status, 200);
    assert_eq!(french.header("content-language"), Some("en"));
    let header = app
        .request_with("GET", &article(), &[("accept-language", "fr, de;q=0.8")])
        .await;
    assert_eq!(header.header("content-language"), Some("en"));
    app.get(&format!("{}?lang=not_a_tag", article()))
        .await
        .problem(400);
}

#[actix_web::test]
async fn a_translation_file_must_say_its_language_once() {
    let content = with_translation();
    let file = content
        .path()
        .join("articles")
        .join(format!("{SLUG}.de.toml"));
    std::fs::copy(
        content
            .path()
            .join("articles")
            .join(format!("{SLUG}.es.toml")),
        &file,
    )
    .unwrap();
    let Err(error) = relief_api::startup::Application::build(&content.config()).await else {
        panic!("a file named .de.toml holding lang = \"es\" was served");
    };
    let message = error.to_string();
    assert!(
        message.contains(&format!(
            "{SLUG}.de.toml:1:1: the file name says language `de`"
        )),
        "{message}"
    );
}

async fn search(app: &crate::helpers::TestApp, query: &str) -> Value {
    app.get_json(&format!("/v1/search?{query}")).await
}

#[actix_web::test]
async fn search_ranks_the_best_match_first_and_marks_the_words_found() {
    let app = spawn_app().await;
    let hits = search(&app, "q=relaxing").await;
    let top = &hits["items"][0];
    assert_eq!(top["type"], "benefit");
    assert_eq!(top["id"], "promotes-relaxation-and-stress-relief");
    assert_eq!(top["article"], SLUG);
    assert_eq!(
        top["url"],
        format!(
            "{}/benefits/promotes-relaxation-and-stress-relief",
            article()
        )
    );
    assert_eq!(top["title"], "Promotes Relaxation and Stress Relief");
    let snippet = top["snippet"].as_str().unwrap();
    assert!(snippet.contains("<mark>relaxation</mark>"), "{snippet}");
    // Ranked: scores never rise down the list.
    let scores: Vec<f64> = hits["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["score"].as_f64().unwrap())
        .collect();
    assert!(
        scores.windows(2).all(|pair| pair[0] >= pair[1]),
        "{scores:?}"
    );
    // The URL of a hit serves the resource.
    assert_eq!(app.get(top["url"].as_str().unwrap()).await.status, 200);
}

#[actix_web::test]
async fn a_snippet_reads_as_a_passage_of_the_text_and_says_where_the_text_goes_on() {
    let app = spawn_app().await;
    let snippet = |hits: &Value, id: &str| {
        let hit = hits["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|hit| hit["id"] == id);
        hit.unwrap_or_else(|| panic!("no hit {id} in {hits}"))["snippet"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // The words are near the end of the answer: the snippet starts at their
    // sentence, not at the words, and keeps its full stop.
    let faqs = search(&app, "q=muscle+tension&type=faq").await;
    assert_eq!(
        snippet(&faqs, "what-is-deep-tissue-massage"),
        "…It involves applying firm pressure and slow strokes to break up \
         <mark>muscle</mark> knots and <mark>tension</mark>."
    );
    // A text that goes on past the passage ends in `…`.
    let benefits = search(&app, "q=tension&type=benefit").await;
    let cut = snippet(&benefits, "reduces-muscle-tension");
    assert!(
        cut.starts_with(
            "Deep tissue massage effectively helps in reducing muscle <mark>tension</mark>"
        ) && cut.ends_with('…'),
        "{cut}"
    );
}

#[actix_web::test]
async fn search_finds_other_forms_of_a_word_and_forgives_one_typo() {
    let app = spawn_app().await;
    let massages = search(&app, "q=massages").await;
    let massage = search(&app, "q=massage").await;
    assert!(massages["total"].as_u64().unwrap() > 10);
    assert_eq!(massages["total"], massage["total"]);

    let typo = search(&app, "q=relxation").await;
    assert_eq!(
        typo["items"][0]["id"],
        "promotes-relaxation-and-stress-relief"
    );
    let two_typos = search(&app, "q=rlxatoin").await;
    assert_eq!(two_typos["total"], 0);
}

#[actix_web::test]
async fn search_filters_by_type_and_pages_like_other_lists() {
    let app = spawn_app().await;
    let faqs = search(&app, "q=deep%20tissue&type=faq").await;
    assert_eq!(faqs["total"], 4);
    assert!(
        faqs["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["type"] == "faq")
    );

    let all = search(&app, "q=back%20pain").await;
    let total = all["total"].as_u64().unwrap();
    let page = app.get("/v1/search?q=back%20pain&limit=2&offset=2").await;
    let json = page.json();
    assert_eq!(json["total"], total);
    assert_eq!(json["items"][0], all["items"][2]);
    let link = page.header("link").unwrap();
    assert!(
        link.contains("</v1/search?q=back+pain&limit=2&offset=4>; rel=\"next\""),
        "{link}"
    );
}

/// Every hit of a search (`query`, URL-encoded), with the text it was found
/// in as a reader sees it (its title, and the part's body or answer fetched
/// from its URL), lowercased; and the total.
async fn hits_read(app: &crate::helpers::TestApp, query: &str) -> (Vec<String>, u64) {
    let hits = search(app, &format!("{query}&limit=100")).await;
    let mut texts = Vec::new();
    for hit in hits["items"].as_array().unwrap() {
        let mut text = hit["title"].as_str().unwrap().to_owned();
        if hit["type"] != "article" {
            let part = app.get_json(hit["url"].as_str().unwrap()).await;
            for field in ["body", "answer"] {
                text.extend(part[field].as_str().map(|body| format!(" {body}")));
            }
        }
        texts.push(text.to_lowercase());
    }
    let total = hits["total"].as_u64().unwrap();
    assert_eq!(
        texts.len() as u64,
        total,
        "{query}: one page holds them all"
    );
    (texts, total)
}

#[actix_web::test]
async fn a_quoted_phrase_must_be_in_every_hit_and_a_word_after_a_minus_in_none() {
    let app = spawn_app().await;
    let (words, any_order) = hits_read(&app, "q=pain+back").await;
    let (phrase, in_order) = hits_read(&app, "q=%22back+pain%22").await;
    assert!(
        0 < in_order && in_order < any_order,
        "{in_order} of {any_order}"
    );
    assert!(
        phrase.iter().all(|text| text.contains("back pain")),
        "{phrase:?}"
    );
    assert!(words.iter().any(|text| !text.contains("back pain")));
    assert_eq!(hits_read(&app, "q=%22pain+back%22").await.1, 0);

    let (massage, all) = hits_read(&app, "q=massage").await;
    let (without, left) = hits_read(&app, "q=massage+-pressure").await;
    let (with, both) = hits_read(&app, "q=%22massage%22+%22pressure%22").await;
    assert!(
        without.iter().all(|text| !text.contains("pressure")),
        "{without:?}"
    );
    assert!(
        with.iter().all(|text| text.contains("pressure")),
        "{with:?}"
    );
    assert!(left > 0 && both > 0);
    assert_eq!(left + both, all, "{massage:?}");

    let problem = app.get("/v1/search?q=-massage").await.problem(400);
    assert_eq!(
        problem["detail"],
        "query parameter `q` has only words to leave out (those after a `-`); give a word to find as well"
    );
    // Each phrase is a set of documents made for it: a `q` may give eight.
    let nine = "q=massage+%22a+b%22+%22c+d%22+%22e+f%22+-g+-h+-i+-j+-k+-l";
    let problem = app.get(&format!("/v1/search?{nine}")).await.problem(400);
    assert_eq!(
        problem["detail"],
        "query parameter `q` has 9 quoted phrases and words to leave out; give at most 8"
    );
}

#[actix_web::test]
async fn a_quoted_phrase_is_marked_whole_in_the_snippet_of_each_hit_that_says_it() {
    let app = spawn_app().await;
    let hits = search(&app, "q=%22deep+tissue%22&limit=100").await;
    let mut marked = 0;
    for hit in hits["items"].as_array().unwrap() {
        let snippet = hit["snippet"].as_str().unwrap().to_lowercase();
        assert!(
            !snippet.contains("<mark>deep</mark> <mark>tissue</mark>"),
            "{snippet}"
        );
        // The text a snippet is cut from: a part's body, an article's title.
        let text = if hit["type"] == "article" {
            hit["title"].as_str().unwrap().to_owned()
        } else {
            let part = app.get_json(hit["url"].as_str().unwrap()).await;
            let body = part["body"].as_str().or(part["answer"].as_str());
            body.unwrap().to_owned()
        };
        if text.to_lowercase().contains("deep tissue") {
            assert!(
                snippet.contains("<mark>deep tissue</mark>"),
                "{}: {snippet}",
                hit["url"]
            );
            marked += 1;
        }
    }
    assert!(marked > 1, "{marked} of {}", hits["total"]);
    // A typo in a word of five letters or more is forgiven, in the hits
    // and in their marks, as a plain word's is (it ranks for less).
    let found = |hits: &Value| -> std::collections::BTreeSet<(String, String)> {
        let hits = hits["items"].as_array().unwrap().iter();
        hits.map(|hit| (hit["url"].to_string(), hit["snippet"].to_string()))
            .collect()
    };
    let typo = search(&app, "q=%22deep+tisue%22&limit=100").await;
    assert_eq!(found(&typo), found(&hits));
}

#[actix_web::test]
async fn a_missing_empty_or_overlong_query_is_a_400() {
    let app = spawn_app().await;
    for query in [
        "",
        "q=",
        "q=%20%20",
        &format!("q={}", "a".repeat(201)),
        "q=pain&type=video",
        "q=pain&sort=score",
    ] {
        app.get(&format!("/v1/search?{query}")).await.problem(400);
    }
}

#[actix_web::test]
async fn a_kind_named_as_its_path_or_a_locale_with_an_underscore_is_told_the_right_spelling() {
    let app = spawn_app().await;
    for (query, meant) in [
        ("q=pain&type=benefits", "benefit"),
        ("q=pain&type=FAQ", "faq"),
        ("q=pain&lang=en_US", "en-US"),
    ] {
        let problem = app.get(&format!("/v1/search?{query}")).await.problem(400);
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.ends_with(&format!("; did you mean `{meant}`?")),
            "{query}: {detail}"
        );
    }
}

#[actix_web::test]
async fn search_follows_a_reload_without_a_gap() {
    let content = ContentDir::with_source_article();
    let app = spawn_app_with(content.config()).await;
    assert_eq!(search(&app, "q=chiropractor").await["total"], 0);
    content.edit("chiropractic adjustments", "chiropractor visits");
    assert!(app.reload().await);
    let hits = search(&app, "q=chiropractor").await;
    assert_eq!(hits["items"][0]["id"], "complements-other-therapies");
}

#[actix_web::test]
async fn search_finds_translations_and_links_them_in_their_language() {
    let content = with_translation();
    let app = spawn_app_with(content.config()).await;
    // "alivio" is only in the Spanish title; Spanish stemming finds it from "alivios".
    let hits = search(&app, "q=alivios").await;
    assert_eq!(hits["total"], 1);
    let hit = &hits["items"][0];
    assert_eq!(hit["type"], "article");
    assert_eq!(hit["lang"], "es");
    assert_eq!(hit["url"], format!("{}?lang=es", article()));
    assert_eq!(
        app.get(hit["url"].as_str().unwrap())
            .await
            .header("content-language"),
        Some("es")
    );
}

#[actix_web::test]
async fn search_keeps_one_language_when_asked() {
    let content = with_translation();
    let app = spawn_app_with(content.config()).await;
    assert_eq!(search(&app, "q=alivio&lang=es").await["total"], 1);
    assert_eq!(search(&app, "q=alivio&lang=en").await["total"], 0);
    let english = search(&app, "q=massage&lang=en").await;
    assert!(english["total"].as_u64().unwrap() > 10);
    assert!(
        english["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|hit| hit["lang"] == "en")
    );
    app.get("/v1/search?q=massage&lang=english_US")
        .await
        .problem(400);
}

#[actix_web::test]
async fn a_search_page_past_the_last_hit_is_empty_however_far() {
    let app = spawn_app().await;
    let total = search(&app, "q=massage").await["total"].clone();
    for offset in ["2147483647", "2147483646", "1000"] {
        let page = search(&app, &format!("q=massage&type=article&offset={offset}")).await;
        assert_eq!(page["items"], serde_json::json!([]), "offset {offset}");
    }
    let far = search(&app, "q=massage&offset=2147483647").await;
    assert_eq!(far["total"], total);
    assert_eq!(far["items"], serde_json::json!([]));
}

#[actix_web::test]
async fn the_source_article_says_how_long_it_is_and_how_hard_to_read() {
    let app = spawn_app().await;
    let whole = app.get_json(&article()).await;
    assert_eq!(
        whole["readability"],
        serde_json::json!({
            "word_count": 892,
            "reading_time_minutes": 4,
            "flesch_reading_ease": 43.6,
            "flesch_kincaid_grade": 10.4,
        })
    );
    // A part's own: its title (3 words) and its two sentences (18 and 16;
    // "built-up" is one word).
    let benefit = app
        .get_json(&format!("{}/benefits/reduces-muscle-tension", article()))
        .await;
    assert_eq!(benefit["readability"]["word_count"], 37);
    assert_eq!(benefit["readability"]["reading_time_minutes"], 1);
}
