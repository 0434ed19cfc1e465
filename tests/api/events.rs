//! A reader's page listens to `/v1/events` and shows a newly approved reply
//! without reloading; a listener that drops and comes back gets what it
//! missed, and never a reply that no moderator approved.

use std::time::Duration;

use futures_util::StreamExt as _;
use serde_json::json;

use crate::helpers::{Backend, spawn_replies_app};

/// Reads the stream until its text holds `needle`; returns all it read.
async fn read_until<S, E>(stream: &mut S, needle: &str) -> String
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
    let client = awc::Client::default();
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
}

#[actix_web::test]
async fn a_last_event_id_that_is_not_a_number_is_a_400_problem() {
    let app = spawn_replies_app(Backend::Sqlite).await.unwrap();
    let reply = app
        .request_with("GET", "/v1/events", &[("last-event-id", "yesterday")])
        .await;
    reply.problem(400);
}
