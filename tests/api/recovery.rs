//! The replies database recovers without a restart, and never acknowledges
//! a reply it did not store where the operator looks for it: after a period
//! of read-only files, after its SQLite file is deleted, and while a
//! database that cannot be reached is answered for at once.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use serde_json::json;

use relief_api::config::Config;

use crate::helpers::{SLUG, ServerProcess, TestApp, client, spawn_app_with, tokens_file};

fn replies_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}/v1/articles/{SLUG}/replies")
}

/// Posts a reply to a server process; its status and `Retry-After`.
async fn post(client: &awc::Client, port: u16, body: &str) -> (u16, Option<String>) {
    let response = client
        .post(replies_url(port))
        .send_json(&json!({ "author_name": "Dana", "body": body }))
        .await
        .expect("the server answers");
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|value| value.to_str().unwrap().to_owned());
    (response.status().as_u16(), retry_after)
}

/// Sets the mode of the database's files and their directory.
#[cfg(unix)]
fn chmod(dir: &Path, file_mode: u32, dir_mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("replies.db")
        {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(file_mode)).unwrap();
        }
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(dir_mode)).unwrap();
}

#[cfg(unix)]
#[actix_web::test]
async fn sqlite_stores_every_reply_once_read_only_files_are_writable_again() {
    let dir = tempfile::tempdir().unwrap();
    chmod(dir.path(), 0o666, 0o777); // the server may run as another user
    let url = format!("sqlite://{}", dir.path().join("replies.db").display());
    let args = ["--database-url", &url, "--reply-rate-per-minute", "0"];
    let client = client();

    // A database with a reply in it.
    let first = ServerProcess::start_unprivileged(&args);
    assert_eq!(post(&client, first.port, "before").await.0, 202);
    first.signal("TERM");
    drop(first);

    // Its files go read-only; a server opening them cannot store a reply.
    chmod(dir.path(), 0o444, 0o555);
    let server = ServerProcess::start_unprivileged(&args);
    let (status, retry_after) = post(&client, server.port, "while read-only").await;
    assert_eq!(status, 503);
    assert!(retry_after.is_some(), "a 503 says when to try again");

    // Meanwhile the server's background work (it looks at the outbox every
    // 250 ms) opens connections, which SQLite opens read-only and keeps so.
    actix_web::rt::time::sleep(Duration::from_millis(800)).await;

    // Writable again: from the first post on, every post is stored, the
    // ones that find a read-only connection too.
    chmod(dir.path(), 0o666, 0o777);
    assert_eq!(post(&client, server.port, "first").await.0, 202);
    let posts = (0..40).map(|n| {
        let client = client.clone();
        async move { post(&client, server.port, &format!("after {n}")).await.0 }
    });
    let statuses = futures_util::future::join_all(posts).await;
    assert!(statuses.iter().all(|status| *status == 202), "{statuses:?}");
}

/// The app on a SQLite file in `dir`, with moderation on.
async fn app_on_file(dir: &Path, tokens: &Path) -> TestApp {
    spawn_app_with(Config {
        database_url: format!("sqlite://{}", dir.join("replies.db").display()),
        moderator_tokens_file: Some(tokens.to_owned()),
        ..Config::default()
    })
    .await
}

async fn pending_bodies(app: &TestApp) -> Vec<String> {
    let queue = app
        .as_moderator("GET", "/v1/moderation/replies?status=pending", None)
        .await
        .json();
    queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|reply| reply["body"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn a_deleted_sqlite_file_is_recreated_and_no_202_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let (_tokens_dir, tokens) = tokens_file();
    let app = app_on_file(dir.path(), &tokens).await;
    let path = format!("/v1/articles/{SLUG}/replies");
    app.post_reply(json!({ "author_name": "Dana", "body": "before" }))
        .await;

    // The operator deletes the database while the server runs.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    let reply = json!({ "author_name": "Dana", "body": "after the deletion" });
    let key = [("idempotency-key", "after-the-deletion")];
    // The first request to find the file gone is refused with 503 and a
    // new file is opened. The webhook worker looks at the database every
    // 250 ms, so it may be the one to find it gone: then this post is
    // already stored in the new file.
    let first = app.post_json(&path, &reply, &key).await;
    if first.status == 503 {
        first.problem(503);
        assert!(first.header("retry-after").is_some());
    } else {
        assert_eq!(
            first.status,
            202,
            "{}",
            String::from_utf8_lossy(&first.body)
        );
    }

    // The retry is stored in (or replayed from) the new file at the
    // configured path.
    let stored = app.post_json(&path, &reply, &key).await;
    assert_eq!(
        stored.status,
        202,
        "{}",
        String::from_utf8_lossy(&stored.body)
    );
    assert!(dir.path().join("replies.db").exists());
    assert_eq!(pending_bodies(&app).await, ["after the deletion"]);

    // Another server opening that path finds it: the 202 was not a promise
    // made on an unlinked file.
    let other = app_on_file(dir.path(), &tokens).await;
    assert_eq!(pending_bodies(&other).await, ["after the deletion"]);
}

#[actix_web::test]
async fn a_database_that_cannot_be_reached_is_answered_for_at_once_with_retry_after() {
    // Nothing listens on port 9: every connection is refused.
    let started = Instant::now();
    let app = spawn_app_with(Config {
        database_url: "postgres://relief@127.0.0.1:9/relief".into(),
        ..Config::default()
    })
    .await;
    // The start does not wait for the database.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(app.get(&format!("/v1/articles/{SLUG}")).await.status, 200);

    let path = format!("/v1/articles/{SLUG}/replies");
    // Once the database is known to be down, nobody waits for it.
    app.get(&path).await.problem(503);
    for _ in 0..5 {
        let asked = Instant::now();
        let answer = app.get(&path).await;
        answer.problem(503);
        let waited = asked.elapsed();
        assert!(
            waited < Duration::from_secs(1),
            "waited {waited:?} for a database known to be down"
        );
        let retry_after: u64 = answer
            .header("retry-after")
            .expect("Retry-After")
            .parse()
            .unwrap();
        assert!((1..=5).contains(&retry_after), "{retry_after}");
        let page = app.get(&format!("/articles/{SLUG}")).await;
        assert_eq!(page.status, 200);
    }
    let posted = app
        .post_json(&path, &json!({ "author_name": "Dana", "body": "hi" }), &[])
        .await;
    posted.problem(503);
}
