//! Durability, shown with a real process: a reply that got a 202 survives
//! the server being killed (`kill -9`) while other posts are in flight, and
//! is stored exactly once. On SQLite, and on PostgreSQL when
//! `RELIEF_TEST_DATABASE_URL` is set.

use std::collections::HashMap;

use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::helpers::{
    Backend, MODERATOR_TOKEN, SLUG, ServerProcess, TestDatabase, client, skipped_without_postgres,
    tokens_file,
};

const POSTS: usize = 200;
/// How many acknowledged posts to wait for before killing the server.
const KILL_AFTER: usize = 40;

fn start(database: &TestDatabase, tokens: &std::path::Path) -> ServerProcess {
    ServerProcess::start(&[
        "--database-url",
        &database.url,
        "--moderator-tokens-file",
        tokens.to_str().unwrap(),
        "--reply-rate-per-minute",
        "0",
        "--workers",
        "2",
    ])
}

async fn killed_mid_flight_loses_no_acknowledged_reply(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return skipped_without_postgres();
    };
    let (_tokens_dir, tokens) = tokens_file();
    let mut server = start(&database, &tokens);
    let client = client();
    let url = format!(
        "http://127.0.0.1:{}/v1/articles/{SLUG}/replies",
        server.port
    );

    let mut in_flight = futures_util::stream::iter(0..POSTS)
        .map(|n| {
            let request = client.post(&url).send_json(&json!({
                "author_name": "Durable",
                "body": format!("durable reply {n}"),
            }));
            async move {
                let mut response = request.await.ok()?;
                if response.status() != 202 {
                    return None;
                }
                let receipt: Value = response.json().await.ok()?;
                Some((format!("durable reply {n}"), receipt["id"].as_i64()?))
            }
        })
        .buffer_unordered(POSTS);
    let mut acknowledged = HashMap::new();
    let mut killed = false;
    while let Some(answer) = in_flight.next().await {
        if let Some((body, id)) = answer {
            acknowledged.insert(body, id);
        }
        if !killed && acknowledged.len() >= KILL_AFTER {
            server.child.kill().expect("kill -9");
            server.child.wait().unwrap();
            killed = true;
        }
    }
    assert!(
        killed,
        "the server answered all {POSTS} posts before it could be killed"
    );
    assert!(
        acknowledged.len() < POSTS,
        "no post was in flight when the server died"
    );

    let server = start(&database, &tokens);
    let mut stored: HashMap<String, Vec<i64>> = HashMap::new();
    let mut offset = 0;
    loop {
        let mut response = client
            .get(format!(
                "http://127.0.0.1:{}/v1/moderation/replies?status=pending&limit=100&offset={offset}",
                server.port
            ))
            .insert_header(("authorization", format!("Bearer {MODERATOR_TOKEN}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let page: Value = response.json().limit(1 << 20).await.unwrap();
        let items = page["items"].as_array().unwrap();
        for reply in items {
            stored
                .entry(reply["body"].as_str().unwrap().to_owned())
                .or_default()
                .push(reply["id"].as_i64().unwrap());
        }
        offset += 100;
        if items.is_empty() || offset >= page["total"].as_u64().unwrap() as usize {
            break;
        }
    }
    for (body, id) in &acknowledged {
        assert_eq!(
            stored.get(body),
            Some(&vec![*id]),
            "`{body}` was acknowledged as {id}"
        );
    }
    assert!(
        stored.values().all(|ids| ids.len() == 1),
        "a reply was stored twice"
    );
}

#[actix_web::test]
async fn sqlite_keeps_every_acknowledged_reply_through_kill_9() {
    killed_mid_flight_loses_no_acknowledged_reply(Backend::Sqlite).await;
}

#[actix_web::test]
async fn postgres_keeps_every_acknowledged_reply_through_kill_9() {
    killed_mid_flight_loses_no_acknowledged_reply(Backend::Postgres).await;
}
