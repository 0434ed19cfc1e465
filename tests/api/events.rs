//! A reader's page listens to `/v1/events` and shows a newly approved reply
//! without reloading; a listener that drops and comes back gets what it
//! missed, and never a reply that no moderator approved.

use std::time::Duration;

use futures_util::StreamExt as _;
use serde_json::json;

use relief_api::config::Config;
use sqlx::Connection as _;

use crate::helpers::{Backend, SLUG, TestApp, client, spawn_app_with, spawn_replies_app};

/// Reads the stream until its text holds `needle`; returns all it read.
pub(crate) async fn read_until<S, E>(stream: &mut S, needle: &str) -> String
where
    S: futures_util::Stream<Item = Result<actix_web::web::Bytes, E>> + Unpin,
    E: std::fmt::Debug,
{
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !text.contains(needle) {
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .unwrap_or_else(|_| panic!("no `{needle}` within 10 s; read {text:?}"))
            .expect("the stream stays open")
            .expect("a chunk");
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    text
}

/// The first `reply.approved` frame of `text`.
fn approved_frame(text: &str) -> &str {
    text.split("\n\n")
        .find(|frame| frame.contains("event: reply.approved"))
        .expect("a reply.approved frame")
}

#[actix_web::test]
async fn a_listener_sees_a_reply_approved_as_it_happens_and_never_a_pending_one() {
    let app = spawn_replies_app(Backend::Sqlite).await.unwrap();
    let client = client();
    let mut stream = client
        .get(format!("{}/v1/events", app.address))
        .send()
        .await
        .expect("the stream opens");
    assert_eq!(stream.status(), 200);
    assert_eq!(
        stream.headers().get("content-type").unwrap(),
        "text/event-stream"
    );
    read_until(&mut stream, "retry: 2000\n\n").await;

    let id = app
        .post_reply(json!({ "author_name": "Dana", "author_email": "dana@example.com", "body": "Pending words" }))
        .await;
    app.moderate(id, "approved").await;
    let text = read_until(&mut stream, "event: reply.approved\n").await;
    assert!(
        !text.contains("reply.submitted") && !text.contains("dana@example.com"),
        "{text}"
    );
    let frame = approved_frame(&text);
    let data = frame
        .lines()
        .find_map(|line| line.strip_prefix("data: "))
        .expect("an event has data");
    let event: serde_json::Value = serde_json::from_str(data).unwrap();
    assert_eq!(event["type"], "reply.approved");
    assert_eq!(event["data"]["id"], id);

    // Coming back with the last id seen: what was missed, from the outbox.
    let first_id = frame
        .lines()
        .find_map(|line| line.strip_prefix("id: "))
        .expect("an event has an id")
        .to_owned();
    let second = app
        .post_reply(
            json!({ "author_name": "Dana", "author_email": "dana@example.com", "body": "More" }),
        )
        .await;
    app.moderate(second, "approved").await;
    let mut resumed = client
        .get(format!("{}/v1/events", app.address))
        .insert_header(("last-event-id", first_id.as_str()))
        .send()
        .await
        .unwrap();
    let text = read_until(&mut resumed, "event: reply.approved\n").await;
    assert!(text.contains(&format!("\"id\":{second}")), "{text}");
    assert!(!text.contains(&format!("id: {first_id}\n")), "{text}");

    // A page reloaded with the id it kept gives it in the query string (a
    // browser's EventSource sends no header of its own): the same events.
    // A reconnection's header, being newer, wins over it.
    for (query, header) in [(first_id.as_str(), None), ("0", Some(first_id.as_str()))] {
        let mut request = client.get(format!("{}/v1/events?last_event_id={query}", app.address));
        if let Some(header) = header {
            request = request.insert_header(("last-event-id", header));
        }
        let mut reloaded = request.send().await.unwrap();
        let text = read_until(&mut reloaded, "event: reply.approved\n").await;
        assert!(text.contains(&format!("\"id\":{second}")), "{text}");
        assert!(!text.contains(&format!("id: {first_id}\n")), "{text}");
    }
}

#[actix_web::test]
async fn a_last_event_id_that_is_not_a_number_or_an_unknown_parameter_is_a_400_problem() {
    let app = spawn_replies_app(Backend::Sqlite).await.unwrap();
    let reply = app
        .request_with("GET", "/v1/events", &[("last-event-id", "yesterday")])
        .await;
    let problem = reply.problem(400);
    assert_eq!(
        problem["detail"],
        "header `Last-Event-ID` must be the id of an event, a whole number, not `yesterday`"
    );
    let problem = app.get("/v1/events?last_event_id=-1").await.problem(400);
    assert_eq!(
        problem["detail"],
        "query parameter `last_event_id` must be the id of an event, a whole number, not `-1`"
    );
    let problem = app.get("/v1/events?lastEventId=4").await.problem(400);
    assert_eq!(
        problem["detail"],
        "unknown query parameter `lastEventId`; the only parameter is last_event_id; did you mean `last_event_id`?"
    );
}

#[actix_web::test]
async fn a_head_of_the_event_stream_is_answered_with_its_headers_as_allow_says() {
    let app = spawn_replies_app(Backend::Sqlite).await.unwrap();
    let allow = app.request("OPTIONS", "/v1/events").await;
    assert_eq!(allow.header("allow"), Some("GET, HEAD, OPTIONS"));
    let head = app.request("HEAD", "/v1/events").await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-type"), Some("text/event-stream"));
    assert_eq!(head.header("cache-control"), Some("no-cache"));
    assert!(head.body.is_empty());
    let head = app
        .request_with("HEAD", "/v1/events", &[("last-event-id", "yesterday")])
        .await;
    assert_eq!(head.status, 400);
}

/// A SQLite file in a temp dir of the test's own (gone with it), and its URL.
fn sqlite_file() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("replies.db").display());
    (dir, url)
}

/// An app with replies in the SQLite file at `url`, once it is up: its
/// database migrated and its first record of the content made.
async fn spawn_on_sqlite(url: &str) -> TestApp {
    let app = spawn_app_with(Config {
        database_url: url.to_owned(),
        ..Config::default()
    })
    .await;
    app.history_recorded().await;
    app
}

/// The outbox's state, as `(fanned out, version)`: whether the server has
/// fanned out every event, and a version of its database that each write
/// changes, by `version` (SQL giving text).
pub fn outbox_state(version: &str) -> String {
    format!(
        "SELECT upto >= COALESCE((SELECT MAX(seq) FROM events), 0), {version} FROM webhook_fanout"
    )
}

/// Asserts that a server, once it has done what a start gives it to do
/// (the first record of the content announced, its events fanned out, old
/// events forgotten: the outbox worker's first looks), writes nothing to
/// its database while nothing happens. `look` reads [`outbox_state`];
/// `None` while the database is not migrated yet.
pub async fn writes_nothing_while_idle(mut look: impl AsyncFnMut() -> Option<(bool, String)>) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !look().await.is_some_and(|(fanned_out, _)| fanned_out) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no fan-out within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The rest of that look (forgetting) is a moment behind, longer on a
    // busy machine: it has settled once a second passes with no write.
    // (A server writing at every look, every 250 ms, never settles.)
    let mut before = look().await;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = look().await;
        if now == before {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server kept writing for 10 s"
        );
        before = now;
    }
    // Several more of the outbox's looks, with nothing to find.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(look().await, before, "an idle server wrote to its database");
}

#[actix_web::test]
async fn an_idle_server_writes_nothing_to_its_database() {
    let (_dir, url) = sqlite_file();
    let _app = spawn_on_sqlite(&url).await;
    let mut watcher = sqlx::SqliteConnection::connect(&url).await.unwrap();
    // SQLite's data_version changes when another connection commits.
    let state = outbox_state("(SELECT CAST(data_version AS TEXT) FROM pragma_data_version)");
    writes_nothing_while_idle(async || {
        sqlx::query_as(sqlx::AssertSqlSafe(state.as_str()))
            .fetch_one(&mut watcher)
            .await
            .ok()
    })
    .await;
}

#[actix_web::test]
async fn events_older_than_seven_days_are_forgotten_when_a_server_starts() {
    let (_dir, url) = sqlite_file();
    let _first = spawn_on_sqlite(&url).await;
    let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let day = 86_400_000i64;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    for (id, age) in [("eight-days-old", 8 * day), ("six-days-old", 6 * day)] {
        sqlx::query(
            "INSERT INTO events (id, type, payload, created_at) VALUES ($1, 'content.updated', '{}', $2)",
        )
        .bind(id)
        .bind(now - age)
        .execute(&mut db)
        .await
        .unwrap();
    }
    let kept = async |db: &mut sqlx::SqliteConnection| -> Vec<String> {
        sqlx::query_scalar("SELECT id FROM events WHERE id LIKE '%-days-old' ORDER BY seq")
            .fetch_all(db)
            .await
            .unwrap()
    };
    // Another server starts on the file (a deploy's new process, a new
    // replica): it forgets what is too old at once, not after an hour up,
    // so servers restarted more often than hourly keep events no longer
    // than they say. The first looks again only in an hour.
    let _second = spawn_on_sqlite(&url).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while kept(&mut db).await.len() > 1 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(kept(&mut db).await, ["six-days-old"]);
}

/// Posts a reply as `email` with `body` and has a moderator approve it:
/// shown from then on. Its id and edit token.
async fn shown(app: &TestApp, email: &str, body: &str) -> (i64, String) {
    let posted = app
        .post_json(
            &format!("/v1/articles/{SLUG}/replies"),
            &json!({ "author_name": "Dana", "author_email": email, "body": body }),
            &[],
        )
        .await
        .json();
    let id = posted["id"].as_i64().expect("an id");
    app.moderate(id, "approved").await;
    (
        id,
        posted["edit_token"].as_str().expect("a token").to_owned(),
    )
}

/// What a front end that listened all along (from the outbox's start)
/// has heard once `needle` comes.
async fn heard_from_the_start(app: &TestApp, needle: &str) -> String {
    let mut stream = client()
        .get(format!("{}/v1/events", app.address))
        .insert_header(("last-event-id", "0"))
        .send()
        .await
        .expect("the stream opens");
    read_until(&mut stream, needle).await
}

/// The `(type, data)` of each frame of `text` with data.
fn events_of(text: &str) -> Vec<(String, serde_json::Value)> {
    text.split("\n\n")
        .filter_map(|frame| {
            let kind = frame
                .lines()
                .find_map(|line| line.strip_prefix("event: "))?;
            let data = frame.lines().find_map(|line| line.strip_prefix("data: "))?;
            let event: serde_json::Value = serde_json::from_str(data).unwrap();
            Some((kind.to_owned(), event["data"].clone()))
        })
        .collect()
}

on_both_backends! {
    async fn a_listener_is_told_when_a_shown_reply_is_removed_whichever_way_it_goes(app) {
        let path = format!("/v1/articles/{SLUG}/replies");
        // Never shown, so never removed: rejected from the queue.
        let never = app.post_reply(json!({ "author_name": "Dana", "body": "Never shown." })).await;
        app.moderate(never, "rejected").await;

        let (rejected, _) = shown(&app, "dana@example.com", "Rejected once shown.").await;
        app.moderate(rejected, "rejected").await;
        let (corrected, token) = shown(&app, "dana@example.com", "Corrected once shown.").await;
        let correction = app
            .send(
                "PATCH",
                &format!("{path}/{corrected}"),
                &[("content-type", "application/json"), ("reply-token", &token)],
                json!({ "body": "Corrected, and waiting again." }).to_string(),
            )
            .await;
        assert_eq!(correction.status, 200);
        let (deleted, _) = shown(&app, "dana@example.com", "Deleted once shown.").await;
        let deletion = app.as_moderator("DELETE", &format!("/v1/moderation/replies/{deleted}"), None).await;
        assert_eq!(deletion.status, 204);
        let (withdrawn, token) = shown(&app, "dana@example.com", "Withdrawn once shown.").await;
        let withdrawal = app.send("DELETE", &format!("{path}/{withdrawn}"), &[("reply-token", &token)], "").await;
        assert_eq!(withdrawal.status, 204);
        let (erased, _) = shown(&app, "erase.me@example.com", "Erased words, once shown.").await;
        let erasure = app
            .as_moderator("DELETE", "/v1/moderation/authors/erase.me@example.com/replies", None)
            .await;
        assert_eq!(erasure.status, 200);

        let last = format!("{{\"id\":{erased},\"article\":\"{SLUG}\"}}");
        let text = heard_from_the_start(&app, &last).await;
        let removed: Vec<serde_json::Value> = events_of(&text)
            .into_iter()
            .filter(|(kind, _)| kind == "reply.removed")
            .map(|(_, data)| data)
            .collect();
        let expected: Vec<serde_json::Value> = [rejected, corrected, deleted, withdrawn, erased]
            .into_iter()
            .map(|id| json!({ "id": id, "article": SLUG }))
            .collect();
        assert_eq!(removed, expected, "{text}");
        // The erased reply's words were taken back with its approval.
        assert!(!text.contains("Erased words"), "{text}");
    }

    async fn a_moderator_deciding_the_same_twice_is_announced_once(app) {
        let decide = |id: i64, status: &'static str| {
            let app = &app;
            async move {
                let answer = app
                    .as_moderator("PATCH", &format!("/v1/moderation/replies/{id}"), Some(json!({ "status": status })))
                    .await;
                assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
                answer.json()
            }
        };
        let id = app.post_reply(json!({ "author_name": "Dana", "body": "Decided twice." })).await;
        let first = decide(id, "approved").await;
        // A retried click, or a second moderator agreeing, a little later:
        // a restamp would show in the milliseconds.
        tokio::time::sleep(Duration::from_millis(5)).await;
        let again = decide(id, "approved").await;
        assert_eq!(again["status"], "approved");
        assert_eq!(again["updated_at"], first["updated_at"], "nothing changed, nothing restamped");
        decide(id, "rejected").await;
        decide(id, "rejected").await;
        let marker = app.post_reply(json!({ "author_name": "Dana", "body": "The last word." })).await;
        app.moderate(marker, "approved").await;

        let text = heard_from_the_start(&app, "The last word.").await;
        let about_it: Vec<String> = events_of(&text)
            .into_iter()
            .filter(|(_, data)| data["id"] == id)
            .map(|(kind, _)| kind)
            .collect();
        assert_eq!(about_it, ["reply.approved", "reply.removed"], "{text}");
    }
}
