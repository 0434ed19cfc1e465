//! Replies that resist spam and respect their authors: the reader form's
//! honeypot and signed timestamp, the link limit and the duplicate rule;
//! an author correcting or withdrawing a reply with its edit token; a
//! person's replies exported and erased; what is kept of a client.

use serde_json::{Value, json};

use crate::helpers::{Backend, MODERATOR_TOKEN, SLUG, TestApp, form_token, spawn_replies_app};

fn replies_path() -> String {
    format!("/v1/articles/{SLUG}/replies")
}

async fn app() -> TestApp {
    spawn_replies_app(Backend::Sqlite).await.unwrap()
}

/// Posts the reader page's form, as the page's script does (asking for JSON).
async fn post_form(app: &TestApp, fields: &[(&str, &str)]) -> crate::helpers::Reply {
    let body = serde_urlencoded::to_string(fields).unwrap();
    let headers = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("accept", "application/json"),
    ];
    app.send("POST", &format!("/articles/{SLUG}/replies"), &headers, body)
        .await
}

/// The status each reply is stored with, by body, as moderators see them.
async fn stored(app: &TestApp) -> Vec<(String, String)> {
    let mut all = Vec::new();
    for status in ["pending", "spam"] {
        let queue = app
            .as_moderator(
                "GET",
                &format!("/v1/moderation/replies?status={status}"),
                None,
            )
            .await
            .json();
        for reply in queue["items"].as_array().unwrap() {
            all.push((
                reply["body"].as_str().unwrap().to_owned(),
                status.to_owned(),
            ));
        }
    }
    all.sort();
    all
}

fn receipt_shape(answer: &crate::helpers::Reply) -> Value {
    assert_eq!(
        answer.status,
        202,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let receipt = answer.json();
    assert_eq!(receipt["status"], "pending");
    json!(receipt.as_object().unwrap().keys().collect::<Vec<_>>())
}

#[actix_web::test]
async fn forms_that_bots_send_are_answered_as_any_other_and_kept_as_spam() {
    let app = app().await;
    let person = form_token(10);
    let post = |body: &'static str, website: &'static str, token: String| {
        let app = &app;
        async move {
            post_form(
                app,
                &[
                    ("author_name", "Dana"),
                    ("body", body),
                    ("website", website),
                    ("form_token", &token),
                ],
            )
            .await
        }
    };
    let answers = [
        post("A person, after reading.", "", person.clone()).await,
        post(
            "Filled the honeypot.",
            "https://spam.example",
            person.clone(),
        )
        .await,
        post("Posted at once.", "", form_token(0)).await,
        post("Posted two days later.", "", form_token(2 * 86_400)).await,
        post(
            "Forged the timestamp.",
            "",
            "1700000000.bm90LWEtc2lnbmF0dXJl".into(),
        )
        .await,
        post("Sent no timestamp.", "", String::new()).await,
    ];
    // A bot learns nothing: every answer has the same shape and status.
    let person_shape = receipt_shape(&answers[0]);
    for answer in &answers[1..] {
        assert_eq!(receipt_shape(answer), person_shape);
    }
    assert_eq!(
        stored(&app).await,
        [
            ("A person, after reading.".to_owned(), "pending".to_owned()),
            ("Filled the honeypot.".into(), "spam".into()),
            ("Forged the timestamp.".into(), "spam".into()),
            ("Posted at once.".into(), "spam".into()),
            ("Posted two days later.".into(), "spam".into()),
            ("Sent no timestamp.".into(), "spam".into()),
        ]
    );
}

#[actix_web::test]
async fn the_reader_page_carries_a_honeypot_and_a_timestamp_a_person_can_post_with() {
    let app = app().await;
    let page = app.get(&format!("/articles/{SLUG}")).await;
    let html = String::from_utf8_lossy(&page.body).into_owned();
    assert!(html.contains(r#"name="website""#), "no honeypot");
    let token = html
        .split(r#"name="form_token" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a form token")
        .to_owned();
    // A person reads, then writes: a few seconds at least.
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let answer = post_form(
        &app,
        &[
            ("author_name", "Dana"),
            ("body", "Read, then wrote."),
            ("website", ""),
            ("form_token", &token),
        ],
    )
    .await;
    assert_eq!(answer.status, 202);
    assert_eq!(
        stored(&app).await,
        [("Read, then wrote.".to_owned(), "pending".to_owned())]
    );
}

#[actix_web::test]
async fn more_than_two_links_make_a_reply_spam_and_the_same_body_twice_is_refused() {
    let app = app().await;
    let two = "See https://a.example and www.b.example.";
    let three = "See https://a.example, https://b.example and http://c.example.";
    app.post_reply(json!({ "author_name": "Dana", "body": two }))
        .await;
    app.post_reply(json!({ "author_name": "Sam", "body": three }))
        .await;
    assert_eq!(
        stored(&app).await,
        [
            (two.to_owned(), "pending".to_owned()),
            (three.to_owned(), "spam".to_owned())
        ]
    );

    // The same body again, to the same article, within a day: refused.
    let again = app
        .post_json(
            &replies_path(),
            &json!({ "author_name": "Someone else", "body": two }),
            &[],
        )
        .await;
    let problem = again.problem(422);
    assert_eq!(problem["errors"][0]["field"], "body");
    assert_eq!(problem["errors"][0]["rule"], "duplicate");
    // A retry of the first post with its Idempotency-Key is still answered.
    let keyed = json!({ "author_name": "Dana", "body": "Keyed." });
    let key = [("idempotency-key", "the-one-key")];
    let first = app.post_json(&replies_path(), &keyed, &key).await;
    let retry = app.post_json(&replies_path(), &keyed, &key).await;
    assert_eq!(retry.status, 202);
    assert_eq!(retry.json(), first.json());
}

#[actix_web::test]
async fn an_author_corrects_then_withdraws_a_reply_with_its_edit_token() {
    let app = app().await;
    let posted = app
        .post_json(
            &replies_path(),
            &json!({ "author_name": "Dana", "body": "Helpd me." }),
            &[],
        )
        .await;
    let receipt = posted.json();
    let (id, token) = (
        receipt["id"].as_i64().unwrap(),
        receipt["edit_token"].as_str().unwrap().to_owned(),
    );
    assert!(token.len() >= 40, "{token}");
    let url = format!("{}/{id}", replies_path());
    let with_token = [
        ("content-type", "application/json"),
        ("reply-token", token.as_str()),
    ];

    // Approved, then corrected: back to moderation.
    app.moderate(id, "approved").await;
    let corrected = app
        .send(
            "PATCH",
            &url,
            &with_token,
            json!({ "body": "Helped me." }).to_string(),
        )
        .await;
    assert_eq!(
        corrected.status,
        200,
        "{}",
        String::from_utf8_lossy(&corrected.body)
    );
    assert_eq!(corrected.json()["body"], "Helped me.");
    assert!(
        corrected.json().get("status").is_none(),
        "an author is not told the status"
    );
    let moderated = app
        .as_moderator("GET", &format!("/v1/moderation/replies/{id}"), None)
        .await
        .json();
    assert_eq!(
        (moderated["body"].as_str(), moderated["status"].as_str()),
        (Some("Helped me."), Some("pending"))
    );
    app.get(&url).await.problem(404);

    // The rules of a post hold for a correction.
    let bad = app
        .send(
            "PATCH",
            &url,
            &with_token,
            json!({ "body": "" }).to_string(),
        )
        .await;
    assert_eq!(bad.problem(422)["errors"][0]["rule"], "min_length");
    let none = app.send("PATCH", &url, &with_token, "{}".to_owned()).await;
    none.problem(422);

    // Withdrawn: gone for moderators too.
    let withdrawn = app
        .send("DELETE", &url, &[("reply-token", token.as_str())], "")
        .await;
    assert_eq!(withdrawn.status, 204);
    app.as_moderator("GET", &format!("/v1/moderation/replies/{id}"), None)
        .await
        .problem(404);
}

#[actix_web::test]
async fn a_wrong_token_and_a_reply_that_is_not_there_get_the_same_403() {
    let app = app().await;
    let first = app
        .post_json(
            &replies_path(),
            &json!({ "author_name": "Dana", "body": "Mine." }),
            &[],
        )
        .await
        .json();
    let second = app
        .post_json(
            &replies_path(),
            &json!({ "author_name": "Sam", "body": "Sam's." }),
            &[],
        )
        .await
        .json();
    let dana_token = first["edit_token"].as_str().unwrap();
    let sams = format!("{}/{}", replies_path(), second["id"]);
    let missing = format!("{}/999", replies_path());
    let mut details = Vec::new();
    for (url, token) in [
        (&sams, dana_token),
        (&missing, dana_token),
        (&sams, "not-a-token"),
    ] {
        let refused = app.send("DELETE", url, &[("reply-token", token)], "").await;
        details.push(refused.problem(403)["detail"].clone());
    }
    assert!(
        details.iter().all(|detail| *detail == details[0]),
        "{details:?}"
    );
    // Sam's reply is still there; no token at all is a plain 400.
    app.as_moderator(
        "GET",
        &format!("/v1/moderation/replies/{}", second["id"]),
        None,
    )
    .await;
    app.send("DELETE", &sams, &[], "").await.problem(400);
}

#[actix_web::test]
async fn a_person_gets_every_reply_they_sent_then_has_them_erased() {
    let app = app().await;
    for (email, body) in [
        ("dana@example.com", "First."),
        ("Dana@Example.com", "Second."),
        ("sam@example.com", "Sam's."),
    ] {
        app.post_reply(json!({ "author_name": "Dana", "author_email": email, "body": body }))
            .await;
    }
    let export = app
        .as_moderator(
            "GET",
            "/v1/moderation/authors/dana@example.com/replies",
            None,
        )
        .await;
    assert_eq!(export.status, 200);
    assert_eq!(export.header("cache-control"), Some("private, no-store"));
    // As every moderation read, it has an ETag that a 304 answers.
    let auth = format!("Bearer {MODERATOR_TOKEN}");
    let unchanged = app
        .request_with(
            "GET",
            "/v1/moderation/authors/dana@example.com/replies",
            &[("authorization", &auth), ("if-none-match", export.etag())],
        )
        .await;
    assert_eq!(unchanged.status, 304);
    let export = export.json();
    assert_eq!(export["total"], 2);
    let bodies: Vec<&str> = export["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["First.", "Second."]);
    assert!(export["items"][0].get("client_addr").is_none());

    let erased = app
        .as_moderator(
            "DELETE",
            "/v1/moderation/authors/dana@example.com/replies",
            None,
        )
        .await;
    assert_eq!(erased.status, 200);
    assert_eq!(erased.json(), json!({ "deleted": 2 }));
    let after = app
        .as_moderator(
            "GET",
            "/v1/moderation/authors/dana@example.com/replies",
            None,
        )
        .await
        .json();
    assert_eq!(after["total"], 0);
    assert_eq!(
        stored(&app).await,
        [("Sam's.".to_owned(), "pending".to_owned())]
    );

    // Moderators only; an address that is none is a 400.
    let anonymous = app
        .get("/v1/moderation/authors/dana@example.com/replies")
        .await;
    anonymous.problem(401);
    app.as_moderator("GET", "/v1/moderation/authors/not-an-address/replies", None)
        .await
        .problem(400);
}
