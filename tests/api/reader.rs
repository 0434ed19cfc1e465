//! The reader page and the HTML front door, as a browser gets them (the
//! browser itself is driven in tests/browser, by .ci/run).

use serde_json::json;

use crate::helpers::{Backend, SLUG, form_token, spawn_app, spawn_replies_app};

fn count(html: &str, needle: &str) -> usize {
    html.matches(needle).count()
}

#[actix_web::test]
async fn the_reader_page_is_the_article_as_html_with_its_json_ld_and_reply_form() {
    let app = spawn_app().await;
    let page = app.get(&format!("/articles/{SLUG}")).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.header("content-language"), Some("en"));
    let html = String::from_utf8(page.body.to_vec()).unwrap();
    assert!(html.starts_with("<!DOCTYPE html><html lang=\"en\">"));
    assert!(html.contains("<title>Back Pain Relief With Deep Tissue Massage</title>"));
    assert!(
        html.contains(r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#)
    );
    assert_eq!(count(&html, "<li id=\"benefits-"), 7);
    assert_eq!(count(&html, "<li id=\"precautions-"), 5);
    assert_eq!(count(&html, "<dt id=\"faqs-"), 4);
    assert!(
        html.contains(r#"<script type="application/ld+json">{"@context":"https://schema.org""#)
    );
    // The JSON the page shows is linked from its head, as WordPress links
    // a post's REST resource.
    let json = format!("/v1/articles/{SLUG}");
    assert!(html.contains(&format!(
        r#"<link rel="alternate" type="application/json" href="{json}">"#
    )));
    assert_eq!(app.get(&json).await.status, 200);
    assert!(html.contains(&format!(
        r#"<form id="reply-form" method="post" action="/articles/{SLUG}/replies" data-api="/v1/articles/{SLUG}/replies">"#
    )));
    assert!(html.contains("<h2 id=\"leave-a-reply\">Leave a Reply</h2>"));
    // Nothing from elsewhere: every script, style and link is this origin's.
    for external in ["http://", "https://fonts", "//cdn"] {
        assert!(
            !html.replace("https://schema.org", "").contains(external),
            "the page loads {external}"
        );
    }
}

#[actix_web::test]
async fn every_part_of_the_reader_page_can_be_linked_to_by_its_id() {
    let app = spawn_app().await;
    let article = app.get(&format!("/v1/articles/{SLUG}")).await.json();
    let html =
        String::from_utf8(app.get(&format!("/articles/{SLUG}")).await.body.to_vec()).unwrap();
    // A shared link to a FAQ's answer, a benefit or the conclusion lands on
    // it: `/articles/{slug}#faqs-what-is-deep-tissue-massage`.
    let mut anchors = Vec::new();
    for section in article["sections"]
        .as_array()
        .unwrap()
        .iter()
        .chain([&article["conclusion"]])
    {
        anchors.push(format!("sections-{}", section["id"].as_str().unwrap()));
    }
    for collection in ["benefits", "precautions", "faqs"] {
        for item in article[collection]["items"].as_array().unwrap() {
            anchors.push(format!("{collection}-{}", item["id"].as_str().unwrap()));
        }
    }
    assert_eq!(anchors.len(), 2 + 7 + 5 + 4);
    for anchor in anchors {
        assert_eq!(count(&html, &format!(" id=\"{anchor}\"")), 1, "#{anchor}");
    }
}

#[actix_web::test]
async fn an_approved_reply_shows_on_the_page_as_text_never_as_html() {
    let app = spawn_replies_app(Backend::Sqlite).await.unwrap();
    let id = app
        .post_reply(json!({ "author_name": "<b>Eve</b>", "body": "<script>alert(1)</script>\nsecond line" }))
        .await;
    let page = app.get(&format!("/articles/{SLUG}")).await;
    assert!(
        String::from_utf8_lossy(&page.body).contains("No replies yet."),
        "pending is not shown"
    );
    app.moderate(id, "approved").await;
    let html =
        String::from_utf8(app.get(&format!("/articles/{SLUG}")).await.body.to_vec()).unwrap();
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;\nsecond line"),
        "{html}"
    );
    assert!(html.contains("<strong>&lt;b&gt;Eve&lt;/b&gt;</strong>"));
    assert!(!html.contains("<script>alert(1)"));
}

#[actix_web::test]
async fn browsers_get_a_page_at_the_root_and_api_clients_the_json_index() {
    let app = spawn_app().await;
    let browser = app
        .request_with(
            "GET",
            "/",
            &[("accept", "text/html,application/xhtml+xml,*/*;q=0.8")],
        )
        .await;
    assert_eq!(
        browser.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = String::from_utf8_lossy(&browser.body);
    assert!(html.contains(&format!(
        r#"<a href="/articles/{SLUG}">Back Pain Relief With Deep Tissue Massage</a>"#
    )));
    assert!(browser.header("vary").unwrap().contains("accept"));

    let client = app.get("/").await;
    assert_eq!(client.header("content-type"), Some("application/json"));
    assert_eq!(client.json()["links"]["articles"], "/v1/articles");
    assert!(client.header("vary").unwrap().contains("accept"));
}

#[actix_web::test]
async fn the_pages_script_and_stylesheet_come_from_this_origin() {
    let app = spawn_app().await;
    let css = app.get("/assets/reader.css").await;
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    let js = app.get("/assets/reader.js").await;
    assert_eq!(
        js.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert!(String::from_utf8_lossy(&js.body).contains("awaits moderation"));
    app.get("/articles/no-such-article").await.problem(404);
}

#[actix_web::test]
async fn a_broken_link_to_a_reader_page_is_a_page_saying_what_is_wrong() {
    let app = spawn_app().await;
    let browser = [(
        "accept",
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    )];
    let gone = app
        .request_with("GET", "/articles/no-such-article", &browser)
        .await;
    assert_eq!(gone.status, 404);
    assert_eq!(
        gone.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(gone.header("cache-control"), Some("no-store"));
    let html = String::from_utf8_lossy(&gone.body);
    assert!(html.contains("<title>Not Found</title>"), "{html}");
    assert!(
        html.contains("<p>no article <code>no-such-article</code></p>"),
        "{html}"
    );
    assert!(html.contains(r#"<a href="/">Every article</a>"#), "{html}");
    // Nothing near it: no page is offered.
    assert!(!html.contains("Go to"), "{html}");
    // A slug one letter off: the page it meant, as a link to follow.
    let typo = app
        .request_with(
            "GET",
            "/articles/deep-tissue-massage-for-back-pian",
            &browser,
        )
        .await;
    assert_eq!(typo.status, 404);
    let html = String::from_utf8_lossy(&typo.body);
    assert!(
        html.contains(&format!(
            r#"<p>Go to <a href="/articles/{SLUG}">/articles/{SLUG}</a></p>"#
        )),
        "{html}"
    );
    let mistyped = app
        .request_with("GET", "/articles/Deep-Tissue", &browser)
        .await;
    assert_eq!(mistyped.status, 400);
    let html = String::from_utf8_lossy(&mistyped.body);
    assert!(
        html.contains("did you mean <code>deep-tissue</code>?</p>"),
        "{html}"
    );
    // The page's script, asking for JSON, still gets the problem.
    app.request_with(
        "GET",
        "/articles/no-such-article",
        &[("accept", "application/json")],
    )
    .await
    .problem(404);
}

#[actix_web::test]
async fn a_mistyped_address_outside_the_api_is_a_page_for_a_person_and_a_problem_for_a_client() {
    let app = spawn_app().await;
    let browser = [("accept", "text/html,*/*;q=0.8")];
    for path in ["/about", "/article/deep-tissue", "/articles/deep-tissue/x"] {
        let page = app.request_with("GET", path, &browser).await;
        assert_eq!(page.status, 404, "{path}");
        assert_eq!(
            page.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        let html = String::from_utf8_lossy(&page.body);
        assert!(
            html.contains(&format!("<p>no resource at <code>{path}</code></p>")),
            "{html}"
        );
        assert!(html.contains(r#"<a href="/">Every article</a>"#), "{html}");
        app.get(path).await.problem(404);
    }
    let refused = app.request_with("DELETE", "/openapi.json", &browser).await;
    assert_eq!(refused.status, 405);
    assert_eq!(refused.header("allow"), Some("GET, HEAD, OPTIONS"));
    assert!(String::from_utf8_lossy(&refused.body).contains("<h1>Method Not Allowed</h1>"));
    // The API's paths answer problems to everyone, a browser too.
    for path in ["/v1", "/v1/nothing"] {
        app.request_with("GET", path, &browser).await.problem(404);
    }
}

#[actix_web::test]
async fn a_link_to_a_page_with_a_trailing_slash_or_capitals_is_sent_on_to_the_page() {
    let app = spawn_app().await;
    for (path, page) in [
        (format!("/articles/{SLUG}/"), format!("/articles/{SLUG}")),
        (
            format!("/Articles/{}?replied", SLUG.to_uppercase()),
            format!("/articles/{SLUG}?replied"),
        ),
    ] {
        let moved = app.get(&path).await;
        assert_eq!(moved.status, 308, "{path}");
        assert_eq!(moved.header("location"), Some(page.as_str()), "{path}");
    }
    // An API client is told, not sent on; a write is never redirected.
    app.get("/v1/articles/").await.problem(404);
    app.request("POST", &format!("/articles/{SLUG}/"))
        .await
        .problem(404);
}

#[actix_web::test]
async fn the_reply_form_works_without_javascript() {
    let app = spawn_replies_app(Backend::Sqlite).await.unwrap();
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let posted = app
        .send(
            "POST",
            &format!("/articles/{SLUG}/replies"),
            &form,
            format!(
                "author_name=Dana&author_email=&body=Helped+me+%3C3&website=&form_token={}",
                form_token(10)
            ),
        )
        .await;
    assert_eq!(posted.status, 303);
    let location = posted.header("location").unwrap().to_owned();
    assert_eq!(location, format!("/articles/{SLUG}?replied#leave-a-reply"));
    let page = app.get(location.split('#').next().unwrap()).await;
    assert!(String::from_utf8_lossy(&page.body).contains("Your reply awaits moderation"));
    let queue = app
        .as_moderator("GET", "/v1/moderation/replies", None)
        .await
        .json();
    assert_eq!(queue["items"][0]["body"], "Helped me <3");
    assert_eq!(queue["items"][0]["author_email"], serde_json::Value::Null);

    // Refused: the page says why, keeps what was typed, and stores nothing.
    let refused = app
        .send(
            "POST",
            &format!("/articles/{SLUG}/replies"),
            &form,
            "author_name=&body=Kept+text",
        )
        .await;
    assert_eq!(refused.status, 422);
    assert_eq!(
        refused.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = String::from_utf8_lossy(&refused.body);
    assert!(html.contains("author name: must not be empty"), "{html}");
    assert!(html.contains(">Kept text</textarea>"));
    let queue = app
        .as_moderator("GET", "/v1/moderation/replies", None)
        .await
        .json();
    assert_eq!(queue["total"], 1);

    app.send(
        "POST",
        &format!("/articles/{SLUG}/replies"),
        &[("content-type", "application/json")],
        "{}",
    )
    .await
    .problem(415);

    // A form whose text is not UTF-8 (a tool's Latin-1 `é`) is refused,
    // not stored with U+FFFD where the letter was.
    let latin1 = app
        .send(
            "POST",
            &format!("/articles/{SLUG}/replies"),
            &form,
            "author_name=Jos%E9&body=caf%E9",
        )
        .await;
    assert_eq!(latin1.status, 400);
    let refusal = String::from_utf8_lossy(&latin1.body);
    assert!(
        refusal.contains(
            "form field `author_name` is not UTF-8 text once percent-decoded; \
             send the form in UTF-8, as the page does"
        ),
        "{refusal}"
    );
    let queue = app
        .as_moderator("GET", "/v1/moderation/replies", None)
        .await
        .json();
    assert_eq!(queue["total"], 1);
}

#[actix_web::test]
async fn a_revalidated_page_keeps_the_policy_that_lets_its_own_scripts_and_styles_load() {
    // A browser reloading the page sends its ETag; the 304's headers then
    // replace the stored page's, so they must carry the page's policy.
    let app = spawn_app().await;
    let path = format!("/articles/{SLUG}");
    let page = app.get(&path).await;
    let etag = page.header("etag").unwrap();
    let revalidated = app
        .request_with("GET", &path, &[("if-none-match", etag)])
        .await;
    assert_eq!(revalidated.status, 304);
    for reply in [&page, &revalidated] {
        let csp = reply.header("content-security-policy").unwrap();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("style-src 'self'"),
            "{csp}"
        );
    }
}

#[actix_web::test]
async fn the_page_is_kept_rendered_yet_shows_every_moderators_decision_at_once() {
    let app = spawn_replies_app(Backend::Sqlite).await.unwrap();
    let page = format!("/articles/{SLUG}");
    let html = |reply: &crate::helpers::Reply| String::from_utf8_lossy(&reply.body).into_owned();
    let id = app
        .post_reply(json!({ "author_name": "Ann", "body": "Kept, then gone." }))
        .await;
    let pending = app.get(&page).await;
    assert!(!html(&pending).contains("Kept, then gone."));
    // Asked again, the kept page answers: the same page and validator's
    // hash, whether or not a second has passed (which renews the form's
    // timestamp and the tag's second).
    let again = app.get(&page).await;
    assert_eq!(
        (without_timestamp(&html(&again)), stamped(again.etag()).0),
        (
            without_timestamp(&html(&pending)),
            stamped(pending.etag()).0
        )
    );

    app.moderate(id, "approved").await;
    let approved = app.get(&page).await;
    assert!(html(&approved).contains("Kept, then gone."));
    assert_ne!(stamped(approved.etag()).0, stamped(pending.etag()).0);

    app.moderate(id, "rejected").await;
    assert!(!html(&app.get(&page).await).contains("Kept, then gone."));

    app.moderate(id, "approved").await;
    assert!(html(&app.get(&page).await).contains("Kept, then gone."));
    let deleted = app
        .as_moderator("DELETE", &format!("/v1/moderation/replies/{id}"), None)
        .await;
    assert_eq!(deleted.status, 204);
    assert!(!html(&app.get(&page).await).contains("Kept, then gone."));
}

#[actix_web::test]
async fn a_reader_page_answers_its_etag_with_304_until_it_changes() {
    let app = spawn_replies_app(Backend::Sqlite).await.unwrap();
    let page = format!("/articles/{SLUG}");
    let first = app.get(&page).await;
    let etag = first.etag().to_owned();
    let unchanged = app
        .request_with("GET", &page, &[("if-none-match", &etag)])
        .await;
    assert_eq!(unchanged.status, 304);
    assert!(unchanged.body.is_empty());

    let id = app
        .post_reply(json!({ "author_name": "Bo", "body": "New since your copy." }))
        .await;
    app.moderate(id, "approved").await;
    let changed = app
        .request_with("GET", &page, &[("if-none-match", &etag)])
        .await;
    assert_eq!(changed.status, 200);
    assert_ne!(stamped(changed.etag()).0, stamped(&etag).0);
    assert!(String::from_utf8_lossy(&changed.body).contains("New since your copy."));
}

#[actix_web::test]
async fn a_browsers_copy_of_the_reader_page_is_confirmed_in_later_seconds_for_an_hour() {
    let app = spawn_app().await;
    let page = format!("/articles/{SLUG}");
    let first = app.get(&page).await;
    let etag = first.etag().to_owned();
    let (hash, issued) = stamped(&etag);

    // The next second, the page is made again with a new timestamp, yet
    // the copy the browser has is still current.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let later = app
        .request_with("GET", &page, &[("if-none-match", &etag)])
        .await;
    assert_eq!(later.status, 304);
    assert_eq!(later.etag(), etag);
    assert!(later.body.is_empty());

    // A copy issued more than an hour ago gets the page again, with a
    // form whose timestamp is new.
    let old = format!("W/\"{hash}.{}\"", issued - 3601);
    let refreshed = app
        .request_with("GET", &page, &[("if-none-match", &old)])
        .await;
    assert_eq!(refreshed.status, 200);
    assert_ne!(refreshed.etag(), old);
    let html = String::from_utf8_lossy(&refreshed.body);
    let token_issued: u64 = form_timestamp(&html)
        .split_once('.')
        .and_then(|(seconds, _)| seconds.parse().ok())
        .expect("the form's timestamp starts with its second");
    assert!(token_issued > issued, "{token_issued} after {issued}");
    assert!(refreshed.etag().ends_with(&format!(".{token_issued}\"")));
}

#[actix_web::test]
async fn a_content_reload_shows_on_the_kept_page_at_once() {
    let content = crate::helpers::ContentDir::with_source_article();
    let app = crate::helpers::spawn_app_with(content.config()).await;
    let page = format!("/articles/{SLUG}");
    let before = String::from_utf8_lossy(&app.get(&page).await.body).into_owned();
    assert!(before.contains("Back Pain Relief With Deep Tissue Massage"));
    content.edit(
        "title = \"Back Pain Relief With Deep Tissue Massage\"",
        "title = \"Deep Tissue Massage for a Sore Back\"",
    );
    assert!(app.reload().await);
    let after = String::from_utf8_lossy(&app.get(&page).await.body).into_owned();
    assert!(
        after.contains("Deep Tissue Massage for a Sore Back"),
        "{after}"
    );
}

/// A reader page's tag, `W/"{hash}.{second issued}"`, as its hash and
/// second: the form's timestamp is the page's only difference from one
/// second to the next, and the hash leaves it out.
fn stamped(etag: &str) -> (&str, u64) {
    etag.strip_prefix("W/\"")
        .and_then(|tag| tag.strip_suffix('"'))
        .and_then(|tag| tag.split_once('.'))
        .and_then(|(hash, issued)| Some((hash, issued.parse().ok()?)))
        .unwrap_or_else(|| panic!("{etag} is not a stamped weak tag"))
}

/// The signed timestamp in a reader page's form.
fn form_timestamp(html: &str) -> &str {
    html.split_once("name=\"form_token\" value=\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(token, _)| token)
        .expect("the form carries a timestamp")
}

/// A reader page with its form's timestamp taken out.
fn without_timestamp(html: &str) -> String {
    html.replacen(form_timestamp(html), "", 1)
}
