//! Replies, as readers and moderators use them: post, wait for moderation,
//! see approved replies. Every story runs on SQLite and, when
//! `RELIEF_TEST_DATABASE_URL` is set, on PostgreSQL too.

use actix_web::http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    Backend, MODERATOR_TOKEN, SLUG, TestApp, spawn_app, spawn_replies_app, spawn_replies_app_with,
};
use relief_api::config::Config;

fn replies_path() -> String {
    format!("/v1/articles/{SLUG}/replies")
}

fn dana(body: &str) -> Value {
    json!({ "author_name": "Dana", "author_email": "dana@example.com", "body": body })
}

/// The (field, rule) pairs of a 422 problem.
fn field_errors(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .expect("a 422 lists its errors")
        .iter()
        .map(|e| {
            assert!(e["message"].is_string(), "{e}");
            (
                e["field"].as_str().unwrap().to_owned(),
                e["rule"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn public_bodies(app: &TestApp) -> Vec<String> {
    let list = app.get_json(&replies_path()).await;
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["body"].as_str().unwrap().to_owned())
        .collect()
}

on_both_backends! {
    async fn moderators_list_one_articles_replies_with_the_filter_kept_in_the_page_links(app) {
        let first = app.post_reply(dana("First.")).await;
        app.post_reply(dana("Second.")).await;
        let app = &app;
        let listed = |query: &str| {
            let path = format!("/v1/moderation/replies?{query}");
            async move { app.as_moderator("GET", &path, None).await }
        };
        let page = listed(&format!("article={SLUG}&limit=1")).await;
        let body = page.json();
        assert_eq!((body["total"].as_i64(), body["items"][0]["id"].as_i64()), (Some(2), Some(first)));
        assert_eq!(body["items"][0]["article"], SLUG);
        let link = page.header("link").unwrap();
        assert!(
            link.contains(&format!("</v1/moderation/replies?status=pending&article={SLUG}&limit=1&offset=1>; rel=\"next\"")),
            "{link}"
        );
        // Another article's replies are not these; a slug no article has
        // lists what is kept under it (nothing here), not a 404.
        let other = listed("article=another-article").await.json();
        assert_eq!((other["total"].as_i64(), other["items"].as_array().map(Vec::len)), (Some(0), Some(0)));
        let problem = listed("article=Not%20A%20Slug").await.problem(400);
        assert!(problem["detail"].as_str().unwrap().starts_with("query parameter `article` "), "{problem}");
    }

    async fn a_retry_whose_reply_was_deleted_is_a_409_not_a_202_pointing_at_nothing(app) {
        let key = [("idempotency-key", "retry-after-delete")];
        let first = app.post_json(&replies_path(), &dana("Deleted later."), &key).await;
        assert_eq!(first.status, StatusCode::ACCEPTED);
        let id = first.json()["id"].as_i64().unwrap();
        let deleted = app
            .as_moderator("DELETE", &format!("/v1/moderation/replies/{id}"), None)
            .await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT);
        let retry = app.post_json(&replies_path(), &dana("Deleted later."), &key).await;
        let problem = retry.problem(409);
        assert!(problem["detail"].as_str().unwrap().contains("deleted"), "{problem}");
        // Nothing was stored again.
        let queue = app.as_moderator("GET", "/v1/moderation/replies", None).await.json();
        assert_eq!(queue["total"], 0);
    }

    async fn a_posted_reply_waits_for_approval_then_everyone_sees_it(app) {
        let answer = app.post_json(&replies_path(), &dana("Helped my back, thanks."), &[]).await;
        assert_eq!(answer.status, StatusCode::ACCEPTED);
        let receipt = answer.json();
        let id = receipt["id"].as_i64().unwrap();
        assert_eq!(receipt["status"], "pending");
        assert!(receipt["created_at"].as_str().unwrap().ends_with('Z'));
        let location = format!("{}/{id}", replies_path());
        assert_eq!(answer.header("location"), Some(location.as_str()));

        // Pending: not public, not even by its own URL.
        assert!(public_bodies(&app).await.is_empty());
        app.get(&location).await.problem(404);

        // Moderators see it in the queue, with the address the author gave.
        let queue = app.as_moderator("GET", "/v1/moderation/replies", None).await;
        assert_eq!(queue.status, StatusCode::OK);
        assert_eq!(queue.header("cache-control"), Some("private, no-store"));
        let queue = queue.json();
        assert_eq!(queue["total"], 1);
        assert_eq!(queue["items"][0]["author_email"], "dana@example.com");
        assert_eq!(queue["items"][0]["article"], SLUG);

        app.moderate(id, "approved").await;
        let list = app.get_json(&replies_path()).await;
        assert_eq!(list["total"], 1);
        let reply = &list["items"][0];
        assert_eq!(reply["body"], "Helped my back, thanks.");
        assert_eq!(reply["author_name"], "Dana");
        assert_eq!(reply["created_at"], receipt["created_at"]);
        // What readers must never see.
        let keys: Vec<&str> = reply.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["id", "parent_id", "author_name", "body", "created_at"]);
        assert!(!String::from_utf8_lossy(&app.get(&replies_path()).await.body).contains("dana@example.com"));
        assert_eq!(app.get_json(&location).await["id"], id);
    }

    async fn rejected_and_spam_replies_are_hidden_again(app) {
        let first = app.post_reply(dana("first")).await;
        let second = app.post_reply(dana("second")).await;
        app.moderate(first, "approved").await;
        app.moderate(second, "approved").await;
        assert_eq!(public_bodies(&app).await, ["first", "second"]);
        app.moderate(first, "rejected").await;
        app.moderate(second, "spam").await;
        assert!(public_bodies(&app).await.is_empty());
        let spam = app.as_moderator("GET", "/v1/moderation/replies?status=spam", None).await.json();
        assert_eq!(spam["items"][0]["id"], second);
    }

    async fn approved_replies_are_listed_oldest_first_in_pages(app) {
        for n in 1..=3 {
            let id = app.post_reply(dana(&format!("reply {n}"))).await;
            app.moderate(id, "approved").await;
        }
        assert_eq!(public_bodies(&app).await, ["reply 1", "reply 2", "reply 3"]);
        let page = app.get(&format!("{}?limit=2&offset=2", replies_path())).await;
        let json = page.json();
        assert_eq!(json["total"], 3);
        assert_eq!(json["items"].as_array().unwrap().len(), 1);
        assert_eq!(json["items"][0]["body"], "reply 3");
        let link = page.header("link").unwrap();
        assert!(link.contains(&format!("<{}?limit=2&offset=0>; rel=\"prev\"", replies_path())), "{link}");
    }

    async fn a_deleted_reply_is_gone_for_good(app) {
        let id = app.post_reply(dana("delete me")).await;
        app.moderate(id, "approved").await;
        let path = format!("/v1/moderation/replies/{id}");
        let gone = app.as_moderator("DELETE", &path, None).await;
        assert_eq!(gone.status, StatusCode::NO_CONTENT);
        assert!(gone.body.is_empty());
        assert!(public_bodies(&app).await.is_empty());
        app.as_moderator("GET", &path, None).await.problem(404);
        app.as_moderator("DELETE", &path, None).await.problem(404);
    }

    async fn a_reply_may_answer_only_an_approved_reply_of_the_same_article(app) {
        let parent = app.post_reply(dana("parent")).await;
        let child = json!({ "author_name": "Sam", "body": "child", "parent_id": parent });
        // Still pending: not a parent yet.
        let refused = app.post_json(&replies_path(), &child, &[]).await.problem(422);
        assert_eq!(field_errors(&refused), [("parent_id".into(), "approved_parent".into())]);
        let missing = json!({ "author_name": "Sam", "body": "child", "parent_id": 999_999 });
        app.post_json(&replies_path(), &missing, &[]).await.problem(422);

        app.moderate(parent, "approved").await;
        let id = app.post_reply(child).await;
        app.moderate(id, "approved").await;
        let list = app.get_json(&replies_path()).await;
        assert_eq!(list["items"][1]["parent_id"], parent);
        assert_eq!(list["items"][0]["parent_id"], Value::Null);

        // Deleting the parent keeps its answer, now without a parent.
        app.as_moderator("DELETE", &format!("/v1/moderation/replies/{parent}"), None).await;
        let list = app.get_json(&replies_path()).await;
        assert_eq!(list["items"][0]["id"], id);
        assert_eq!(list["items"][0]["parent_id"], Value::Null);
    }

    async fn every_broken_rule_is_a_422_naming_its_field(app) {
        let cases = [
            (json!({ "body": "b" }), ("author_name", "required")),
            (json!({ "author_name": "", "body": "b" }), ("author_name", "min_length")),
            (json!({ "author_name": "x".repeat(81), "body": "b" }), ("author_name", "max_length")),
            (json!({ "author_name": "Da\u{0}na", "body": "b" }), ("author_name", "no_control_characters")),
            (json!({ "author_name": "Dana" }), ("body", "required")),
            (json!({ "author_name": "Dana", "body": "" }), ("body", "min_length")),
            (json!({ "author_name": "Dana", "body": "x".repeat(5001) }), ("body", "max_length")),
            (json!({ "author_name": "Dana", "body": "a\u{1b}[31m" }), ("body", "no_control_characters")),
            (json!({ "author_name": "   ", "body": "b" }), ("author_name", "not_blank")),
            (json!({ "author_name": "Dana", "body": "\n\n\t" }), ("body", "not_blank")),
            (json!({ "author_name": "Da\u{200B}na", "body": "b" }), ("author_name", "no_invisible_characters")),
            (json!({ "author_name": "Dana", "body": "price \u{202E}0001\u{202C} only" }), ("body", "no_invisible_characters")),
            (json!({ "author_name": "Dana", "body": "\u{FEFF}hi" }), ("body", "no_invisible_characters")),
            (json!({ "author_name": "Dana", "body": "b", "author_email": "dana" }), ("author_email", "email")),
            (json!({ "author_name": "Dana", "body": "b", "parent_id": -4 }), ("parent_id", "minimum")),
            (json!({ "author_name": "Dana", "body": "b", "parent_id": "4" }), ("parent_id", "type")),
            (json!({ "author_name": "Dana", "body": "b", "website": "x" }), ("website", "unknown_field")),
        ];
        for (body, (field, rule)) in cases {
            let problem = app.post_json(&replies_path(), &body, &[]).await.problem(422);
            assert_eq!(field_errors(&problem), [(field.to_owned(), rule.to_owned())], "{body}");
        }
        // A field named as a person would is told the name the API uses.
        let problem = app
            .post_json(&replies_path(), &json!({ "name": "Dana", "body": "b" }), &[])
            .await
            .problem(422);
        let message = problem["errors"][0]["message"].as_str().unwrap();
        assert_eq!(problem["errors"][0]["field"], "name");
        assert!(message.ends_with("; did you mean `author_name`?"), "{message}");
        // A field given twice is refused, whichever of its values a parser
        // (or a tool in front of the API) would keep.
        let twice = r#"{"author_name":"Dana","body":"kind words","body":"other words"}"#;
        let answer = app.send("POST", &replies_path(), &[("content-type", "application/json")], twice.to_owned()).await;
        let problem = answer.problem(422);
        assert_eq!(field_errors(&problem), [("body".to_owned(), "repeated_field".to_owned())]);
        assert_eq!(problem["errors"][0]["message"], "is given more than once; give it once");
        // Nothing of it was stored.
        let queue = app.as_moderator("GET", "/v1/moderation/replies", None).await.json();
        assert_eq!(queue["total"], 0);
        // At the limits, accepted.
        app.post_reply(json!({ "author_name": "é".repeat(80), "body": "x".repeat(5000) })).await;
        // So is a body a Windows tool began with a byte order mark.
        let marked = "\u{feff}{\"author_name\":\"Bo\",\"body\":\"Sent from PowerShell\"}";
        let answer = app.send("POST", &replies_path(), &[("content-type", "application/json")], marked).await;
        assert_eq!(answer.status, 202, "{}", String::from_utf8_lossy(&answer.body));
    }

    async fn the_longest_reply_fits_however_its_characters_are_encoded(app) {
        // 5,000 emoji are 5,000 characters: the rules accept them, so the
        // transport must too, sent raw (20 KB) or escaped (60 KB).
        let emoji = "😀".repeat(5000);
        app.post_reply(json!({ "author_name": "Dana", "body": emoji })).await;
        // (The same reply twice is refused: this one ends in another emoji.)
        let escaped = format!(r#"{{"author_name":"Dana","body":"{}\ud83d\ude01"}}"#, r"\ud83d\ude00".repeat(4999));
        let answer = app.send("POST", &replies_path(), &[("content-type", "application/json")], escaped).await;
        assert_eq!(answer.status, 202, "{}", String::from_utf8_lossy(&answer.body));
        // One more character is the rules' refusal, not the transport's.
        let problem = app.post_json(&replies_path(), &json!({ "author_name": "Dana", "body": "😀".repeat(5001) }), &[]).await.problem(422);
        assert_eq!(field_errors(&problem), [("body".to_owned(), "max_length".to_owned())]);
        // NFC: a decomposed "é" is one character, stored composed.
        let id = app.post_reply(json!({ "author_name": "Rene\u{301}e", "body": "b" })).await;
        let reply = app.as_moderator("GET", &format!("/v1/moderation/replies/{id}"), None).await.json();
        assert_eq!(reply["author_name"], "Renée");
    }

    async fn a_body_that_is_not_a_json_reply_is_refused_with_the_right_status(app) {
        let path = replies_path();
        let problem = app.send("POST", &path, &[("content-type", "application/json")], "{\"author_name\":").await.problem(400);
        assert!(problem["detail"].as_str().unwrap().contains("not valid JSON"));
        let problem = app.send("POST", &path, &[("content-type", "application/json")], "").await.problem(400);
        assert_eq!(
            problem["detail"],
            "the body is empty; send a JSON object with the fields author_name, author_email, body, parent_id"
        );
        // Text that is not UTF-8 (a Latin-1 `é`) is told so, not "invalid
        // unicode code point".
        let problem = app.send("POST", &path, &[("content-type", "application/json")], &b"{\"author_name\":\"Jos\xe9\",\"body\":\"hi\"}"[..]).await.problem(400);
        assert_eq!(problem["detail"], "the body is not UTF-8 text (byte 20 is not); send JSON in UTF-8, as RFC 8259 requires");
        app.send("POST", &path, &[("content-type", "text/plain")], "hello").await.problem(415);
        app.send("POST", &path, &[], "{}").await.problem(415);
        let huge = json!({ "author_name": "Dana", "body": "x".repeat(65 * 1024) });
        app.post_json(&path, &huge, &[]).await.problem(413);
    }

    async fn a_reply_to_an_unknown_article_is_a_404_problem(app) {
        app.post_json("/v1/articles/no-such-article/replies", &dana("hi"), &[]).await.problem(404);
        app.get("/v1/articles/no-such-article/replies").await.problem(404);
    }

    async fn replies_are_text_served_as_json_strings(app) {
        let markup = "<script>alert(1)</script> & <b>bold</b>";
        let id = app.post_reply(json!({ "author_name": "<i>Eve</i>", "body": markup })).await;
        app.moderate(id, "approved").await;
        let answer = app.get(&format!("{}/{id}", replies_path())).await;
        assert_eq!(answer.header("content-type"), Some("application/json"));
        assert_eq!(answer.json()["body"], markup);
        assert_eq!(answer.json()["author_name"], "<i>Eve</i>");
    }

    async fn a_retried_post_with_the_same_idempotency_key_is_answered_once(app) {
        let key = [("idempotency-key", "7d6c1a1e-retry")];
        let first = app.post_json(&replies_path(), &dana("once"), &key).await;
        assert_eq!(first.status, StatusCode::ACCEPTED);
        // The same body, laid out differently, is the same request.
        let again = app
            .send("POST", &replies_path(), &[("content-type", "application/json"), key[0]],
                  "{ \"body\": \"once\", \"author_email\": \"dana@example.com\", \"author_name\": \"Dana\" }")
            .await;
        assert_eq!(again.status, StatusCode::ACCEPTED);
        assert_eq!(again.json(), first.json());
        assert_eq!(again.header("location"), first.header("location"));
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_eq!(first.header("idempotent-replayed"), None);
        let queue = app.as_moderator("GET", "/v1/moderation/replies", None).await.json();
        assert_eq!(queue["total"], 1);

        let other = app.post_json(&replies_path(), &dana("another body"), &key).await.problem(422);
        assert!(other["detail"].as_str().unwrap().contains("Idempotency-Key"));
        app.post_json(&replies_path(), &dana("x"), &[("idempotency-key", "has space")]).await.problem(400);
    }

    async fn concurrent_retries_with_one_key_store_one_reply(app) {
        let key = [("idempotency-key", "concurrent-key")];
        let path = replies_path();
        let body = dana("raced");
        let answers = futures_util::future::join_all(
            (0..8).map(|_| app.post_json(&path, &body, &key)),
        )
        .await;
        let ids: Vec<Value> = answers.iter().map(|a| {
            assert_eq!(a.status, StatusCode::ACCEPTED, "{}", String::from_utf8_lossy(&a.body));
            a.json()["id"].clone()
        }).collect();
        assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
        let queue = app.as_moderator("GET", "/v1/moderation/replies", None).await.json();
        assert_eq!(queue["total"], 1);
    }

    async fn one_body_posted_many_times_at_once_is_stored_once(app) {
        let path = replies_path();
        // Several rounds: each is a race, which one round might not lose.
        for round in 0..5 {
            let body = dana(&format!("said at once, round {round}"));
            let answers = futures_util::future::join_all(
                (0..8).map(|_| app.post_json(&path, &body, &[])),
            )
            .await;
            let stored = answers.iter().filter(|a| a.status == StatusCode::ACCEPTED).count();
            assert_eq!(stored, 1, "round {round}: {stored} of 8 stored");
            for refused in answers.iter().filter(|a| a.status != StatusCode::ACCEPTED) {
                let problem = refused.problem(422);
                assert_eq!(field_errors(&problem), [("body".to_owned(), "duplicate".to_owned())]);
            }
        }
        let queue = app.as_moderator("GET", "/v1/moderation/replies", None).await.json();
        assert_eq!(queue["total"], 5);
    }

    async fn a_correction_cannot_make_a_reply_the_same_as_another(app) {
        let path = replies_path();
        app.post_reply(dana("The first one said this.")).await;
        let second = app.post_json(&path, &dana("The second one said that."), &[]).await.json();
        let url = format!("{path}/{}", second["id"]);
        let token = second["edit_token"].as_str().unwrap();
        let headers = [("content-type", "application/json"), ("reply-token", token)];
        let patch = |body: &str| app.send("PATCH", &url, &headers, json!({ "body": body }).to_string());

        let refused = patch("The first one said this.").await;
        let problem = refused.problem(422);
        assert_eq!(field_errors(&problem), [("body".to_owned(), "duplicate".to_owned())]);
        let kept = app.as_moderator("GET", &format!("/v1/moderation/replies/{}", second["id"]), None).await;
        assert_eq!(kept.json()["body"], "The second one said that.");

        // A reply's own body is no duplicate of itself; a new one is stored.
        assert_eq!(patch("The second one said that.").await.status, StatusCode::OK);
        let corrected = patch("The second one said it better.").await;
        assert_eq!(corrected.json()["body"], "The second one said it better.");
    }

    async fn moderation_needs_a_moderators_bearer_token(app) {
        let path = "/v1/moderation/replies";
        let missing = app.get(path).await;
        missing.problem(401);
        assert_eq!(missing.header("www-authenticate"), Some("Bearer realm=\"relief-api\""));
        let wrong = app.request_with("GET", path, &[("authorization", "Bearer not-the-token")]).await;
        wrong.problem(401);
        assert!(wrong.header("www-authenticate").unwrap().contains("error=\"invalid_token\""));
        let basic = app.request_with("GET", path, &[("authorization", "Basic dGVzdA==")]).await;
        basic.problem(401);
        let id = app.post_reply(dana("not yours to approve")).await;
        let patch = app
            .send("PATCH", &format!("{path}/{id}"), &[("content-type", "application/json")], r#"{"status":"approved"}"#)
            .await;
        patch.problem(401);
        assert!(public_bodies(&app).await.is_empty());
        let lower = format!("bearer {MODERATOR_TOKEN}");
        let ok = app.request_with("GET", path, &[("authorization", lower.as_str())]).await;
        assert_eq!(ok.status, StatusCode::OK);
        // Two credentials are refused whichever comes first, never judged by one.
        let good = format!("Bearer {MODERATOR_TOKEN}");
        for pair in [[good.as_str(), "Bearer not-the-token"], ["Bearer not-the-token", good.as_str()], [good.as_str(), good.as_str()]] {
            let two = app.request_with("GET", path, &[("authorization", pair[0]), ("authorization", pair[1])]).await;
            let problem = two.problem(400);
            assert!(problem["detail"].as_str().unwrap().contains("more than one Authorization header"), "{problem}");
        }
    }

    async fn a_moderation_decision_must_name_a_status(app) {
        let id = app.post_reply(dana("decide")).await;
        let path = format!("/v1/moderation/replies/{id}");
        let problem = app.as_moderator("PATCH", &path, Some(json!({ "status": "published" }))).await.problem(422);
        assert_eq!(field_errors(&problem), [("status".into(), "enum".into())]);
        app.as_moderator("PATCH", &path, Some(json!({}))).await.problem(422);
        app.as_moderator("PATCH", "/v1/moderation/replies/999999", Some(json!({ "status": "spam" }))).await.problem(404);
        let problem = app.as_moderator("GET", "/v1/moderation/replies?status=deleted", None).await.problem(400);
        assert_eq!(
            problem["detail"],
            "query parameter `status` must be one of `pending`, `approved`, `rejected`, `spam`, not `deleted`"
        );
        let problem = app.as_moderator("GET", "/v1/moderation/replies?status=Approved", None).await.problem(400);
        assert!(problem["detail"].as_str().unwrap().ends_with("; did you mean `approved`?"), "{problem}");
        app.as_moderator("GET", "/v1/moderation/replies/abc", None).await.problem(400);
    }

    async fn a_reply_list_can_be_revalidated_with_its_etag(app) {
        let list = app.get(&replies_path()).await;
        assert_eq!(list.header("cache-control"), Some("no-cache"));
        let etag = list.header("etag").unwrap().to_owned();
        let same = app.request_with("GET", &replies_path(), &[("if-none-match", etag.as_str())]).await;
        assert_eq!(same.status, StatusCode::NOT_MODIFIED);
        let id = app.post_reply(dana("news")).await;
        app.moderate(id, "approved").await;
        let changed = app.request_with("GET", &replies_path(), &[("if-none-match", etag.as_str())]).await;
        assert_eq!(changed.status, StatusCode::OK);
    }
}

#[actix_web::test]
async fn moderation_without_configured_tokens_is_a_503_problem_never_open() {
    let app = spawn_app().await;
    let answer = app
        .request_with(
            "GET",
            "/v1/moderation/replies",
            &[("authorization", "Bearer anything")],
        )
        .await;
    let problem = answer.problem(503);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("--moderator-tokens-file")
    );
}

#[actix_web::test]
async fn posting_too_fast_is_a_429_with_retry_after() {
    let config = Config {
        reply_rate_per_minute: 2,
        ..Config::default()
    };
    let app = spawn_replies_app_with(Backend::Sqlite, config)
        .await
        .unwrap();
    let first = app.post_json(&replies_path(), &dana("1"), &[]).await;
    assert_eq!(first.header("x-ratelimit-limit"), Some("2"));
    assert_eq!(first.header("x-ratelimit-remaining"), Some("1"));
    app.post_reply(dana("2")).await;
    let refused = app.post_json(&replies_path(), &dana("3"), &[]).await;
    refused.problem(429);
    let wait: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert_eq!(refused.header("x-ratelimit-limit"), Some("2"));
    assert_eq!(refused.header("x-ratelimit-remaining"), Some("0"));
    assert!((1..=30).contains(&wait), "{wait}");
    // Reading is never limited.
    assert_eq!(app.get(&replies_path()).await.status, StatusCode::OK);
}

#[actix_web::test]
async fn a_retry_is_replayed_even_when_the_rate_limit_is_spent() {
    let config = Config {
        reply_rate_per_minute: 1,
        ..Config::default()
    };
    let app = spawn_replies_app_with(Backend::Sqlite, config)
        .await
        .unwrap();
    let key = [("idempotency-key", "retried-after-the-limit")];
    let first = app.post_json(&replies_path(), &dana("Once."), &key).await;
    assert_eq!(first.status, StatusCode::ACCEPTED);
    app.post_json(&replies_path(), &dana("Twice."), &[])
        .await
        .problem(429);
    for _ in 0..3 {
        let retry = app.post_json(&replies_path(), &dana("Once."), &key).await;
        assert_eq!(retry.status, StatusCode::ACCEPTED);
        assert_eq!(retry.header("idempotent-replayed"), Some("true"));
        assert_eq!(retry.json()["id"], first.json()["id"]);
    }
}

async fn post_as(app: &TestApp, client: &str) -> StatusCode {
    app.post_json(
        &replies_path(),
        &dana(client),
        &[("x-forwarded-for", client)],
    )
    .await
    .status
}

#[actix_web::test]
async fn forwarded_for_names_the_client_only_behind_a_trusted_proxy() {
    let limited = Config {
        reply_rate_per_minute: 1,
        ..Config::default()
    };
    // Untrusted: the header is ignored, both posts count against 127.0.0.1.
    let app = spawn_replies_app_with(Backend::Sqlite, limited.clone())
        .await
        .unwrap();
    assert_eq!(post_as(&app, "198.51.100.1").await, StatusCode::ACCEPTED);
    assert_eq!(
        post_as(&app, "198.51.100.2").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Behind a trusted proxy, each forwarded client has its own allowance.
    let trusted = Config {
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        ..limited
    };
    let app = spawn_replies_app_with(Backend::Sqlite, trusted)
        .await
        .unwrap();
    assert_eq!(post_as(&app, "198.51.100.1").await, StatusCode::ACCEPTED);
    assert_eq!(post_as(&app, "198.51.100.2").await, StatusCode::ACCEPTED);
    assert_eq!(
        post_as(&app, "198.51.100.2").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[actix_web::test]
async fn a_database_outage_makes_replies_503_while_content_is_served() {
    // Nothing listens on port 9: every connection is refused.
    let config = Config {
        database_url: "postgres://relief@127.0.0.1:9/relief".into(),
        ..Config::default()
    };
    let app = crate::helpers::spawn_app_with(config).await;
    let problem = app.get(&replies_path()).await.problem(503);
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        !detail.contains("127.0.0.1") && !detail.contains("refused"),
        "a 503 names no internals: {problem}"
    );
    app.post_json(&replies_path(), &dana("lost?"), &[])
        .await
        .problem(503);
    assert_eq!(app.get(&format!("/v1/articles/{SLUG}")).await.status, 200);
    assert_eq!(
        app.get(&format!("/v1/articles/{SLUG}/benefits"))
            .await
            .status,
        200
    );
}

/// A CORS preflight from `origin` for `method` on the replies, as a
/// browser sends it before a post (with a JSON body and a key).
async fn preflight(app: &TestApp, origin: &str, method: &str) -> crate::helpers::Reply {
    preflight_with(app, origin, method, "content-type,idempotency-key").await
}

async fn preflight_with(
    app: &TestApp,
    origin: &str,
    method: &str,
    headers: &str,
) -> crate::helpers::Reply {
    app.preflight(&replies_path(), origin, method, headers)
        .await
}

/// Posts a reply as a browser on `origin`; asserts it is refused (403).
async fn refused_from(app: &TestApp, origin: &str) {
    app.post_json(&replies_path(), &dana("cross-site"), &[("origin", origin)])
        .await
        .problem(403);
}

/// How many replies await moderation.
async fn pending_total(app: &TestApp) -> Value {
    let queue = app
        .as_moderator("GET", "/v1/moderation/replies", None)
        .await
        .json();
    queue["total"].clone()
}

#[actix_web::test]
async fn a_browser_on_a_listed_write_origin_may_post_a_reply_and_read_where_it_went() {
    let config = Config {
        write_origins: vec!["https://app.example".into()],
        ..Config::default()
    };
    let app = spawn_replies_app_with(Backend::Sqlite, config)
        .await
        .unwrap();
    let allowed = preflight(&app, "https://app.example", "POST").await;
    assert!(allowed.status.is_success(), "{}", allowed.status);
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    let methods = allowed.header("access-control-allow-methods").unwrap();
    assert!(methods.contains("POST"), "{methods}");
    let headers = allowed.header("access-control-allow-headers").unwrap();
    assert!(headers.contains("idempotency-key"), "{headers}");
    let answer = app
        .post_json(
            &replies_path(),
            &dana("from a browser"),
            &[("origin", "https://app.example")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED);
    // Scripts may read `Location` and the rate limit headers.
    assert_eq!(answer.header("access-control-expose-headers"), Some("*"));

    // Any other origin is refused, in the preflight and without one.
    preflight(&app, "https://elsewhere.example", "POST")
        .await
        .problem(403);
    refused_from(&app, "https://elsewhere.example").await;
    assert_eq!(pending_total(&app).await, 1);
}

#[actix_web::test]
async fn by_default_every_origin_may_read_but_no_other_origin_may_write() {
    let app = spawn_replies_app(Backend::Sqlite).await.unwrap();
    // Writing: refused to a browser on another origin, before and without a preflight.
    for method in ["POST", "PATCH", "DELETE"] {
        let refused = preflight(&app, "https://app.example", method)
            .await
            .problem(403);
        assert!(
            refused["detail"]
                .as_str()
                .unwrap()
                .contains("--write-origins"),
            "{refused}"
        );
    }
    let form = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("origin", "https://evil.example"),
    ];
    let forged = app
        .send(
            "POST",
            &format!("/articles/{SLUG}/replies"),
            &form,
            "author_name=Eve&body=spam",
        )
        .await;
    forged.problem(403);
    refused_from(&app, "https://evil.example").await;
    assert_eq!(pending_total(&app).await, 0, "nothing was stored");

    // The reader page's own form (same origin) and native apps (no Origin) write.
    let own = format!("http://127.0.0.1:{}", app.port);
    let form = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("origin", own.as_str()),
    ];
    let posted = app
        .send(
            "POST",
            &format!("/articles/{SLUG}/replies"),
            &form,
            "author_name=Dana&body=from+the+page",
        )
        .await;
    assert_eq!(posted.status, 303);
    app.post_reply(dana("from an app")).await;

    // Reading: open to every origin, and a read preflight never lists a method that writes.
    let read = preflight_with(&app, "https://app.example", "GET", "if-none-match").await;
    assert!(read.status.is_success(), "{}", read.status);
    let methods = read.header("access-control-allow-methods").unwrap();
    assert!(
        !methods.contains("POST") && !methods.contains("DELETE"),
        "{methods}"
    );
    let list = app
        .request_with("GET", &replies_path(), &[("origin", "https://app.example")])
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.header("access-control-allow-origin"), Some("*"));
}

#[test]
fn hash_token_turns_a_token_on_stdin_into_its_tokens_file_line() {
    use std::{
        io::Write,
        process::{Command, Stdio},
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_relief-api"))
        .arg("hash-token")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"secret\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b\n"
    );
}

#[actix_web::test]
async fn a_tokens_file_holding_a_token_instead_of_its_digest_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("moderators.txt");
    let digest = relief_api::auth::hash_token(MODERATOR_TOKEN);
    std::fs::write(&file, format!("{digest}\n{MODERATOR_TOKEN}\n")).unwrap();
    let config = Config {
        moderator_tokens_file: Some(file.clone()),
        ..Config::default()
    };
    let Err(error) = relief_api::startup::Application::build(&config).await else {
        panic!("the server started with a raw token in its tokens file");
    };
    let message = error.to_string();
    assert!(
        message.starts_with(&format!(
            "{}:2: expected the SHA-256 digest",
            file.display()
        )),
        "{message}"
    );
}

#[actix_web::test]
async fn a_reload_rotates_moderator_tokens_and_a_bad_file_keeps_the_old_ones() {
    let (_dir, file) = crate::helpers::tokens_file();
    let config = Config {
        moderator_tokens_file: Some(file.clone()),
        ..Config::default()
    };
    let app = spawn_replies_app_with(Backend::Sqlite, config)
        .await
        .unwrap();
    let with = |token: &str| format!("Bearer {token}");
    let as_token = |token: &'static str| {
        let app = &app;
        async move {
            app.request_with(
                "GET",
                "/v1/moderation/replies",
                &[("authorization", with(token).as_str())],
            )
            .await
            .status
        }
    };
    assert_eq!(as_token(MODERATOR_TOKEN).await, StatusCode::OK);

    // The old token is revoked, a new one added; SIGHUP (here: the reloader) applies it.
    let rotated = relief_api::auth::hash_token("rotated-token");
    std::fs::write(&file, format!("{rotated}\n")).unwrap();
    app.reload().await;
    assert_eq!(as_token("rotated-token").await, StatusCode::OK);
    assert_eq!(as_token(MODERATOR_TOKEN).await, StatusCode::UNAUTHORIZED);

    // A file that cannot be used changes nothing.
    std::fs::write(&file, "rotated-token\n").unwrap();
    app.reload().await;
    assert_eq!(as_token("rotated-token").await, StatusCode::OK);
}
