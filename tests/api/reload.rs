//! Editors change content while it serves: reloads swap in good content
//! whole, keep serving the old on a bad edit, and never show a mix.

use std::{sync::Arc, time::Duration};

use crate::helpers::{ContentDir, SLUG, ServerProcess, spawn_app_with};

const OLD_TITLE: &str = "Back Pain Relief With Deep Tissue Massage";
const NEW_TITLE: &str = "Back Pain Relief With Deep Tissue Massage, Revised";

#[actix_web::test]
async fn a_good_edit_is_served_after_reload_and_only_changed_resources_change_etag() {
    let content = ContentDir::with_source_article();
    let app = spawn_app_with(content.config()).await;
    let article = format!("/v1/articles/{SLUG}");
    let benefit = format!("{article}/benefits/improves-posture");
    let before = (
        app.get(&article).await,
        app.get(&benefit).await,
        app.get_json("/readyz").await,
    );

    content.edit(
        &format!("title = \"{OLD_TITLE}\""),
        &format!("title = \"{NEW_TITLE}\""),
    );
    assert!(app.reload().await);

    let after = (
        app.get(&article).await,
        app.get(&benefit).await,
        app.get_json("/readyz").await,
    );
    assert_eq!(after.0.json()["title"], NEW_TITLE);
    assert_ne!(
        after.0.etag(),
        before.0.etag(),
        "the edited article has a new ETag"
    );
    assert_eq!(
        after.1.etag(),
        before.1.etag(),
        "an untouched benefit keeps its ETag"
    );
    assert_ne!(after.2["revision"], before.2["revision"]);
    assert_eq!(
        after.0.header("x-content-revision"),
        after.2["revision"].as_str()
    );
}

#[actix_web::test]
async fn a_bad_edit_changes_nothing_served_and_counts_a_failed_reload() {
    let content = ContentDir::with_source_article();
    let app = spawn_app_with(content.config()).await;
    let article = format!("/v1/articles/{SLUG}");
    let before = app.get(&article).await;

    content.edit("id = \"improves-posture\"", "id = \"Improves Posture\"");
    assert!(!app.reload().await);

    let after = app.get(&article).await;
    assert_eq!(after.body, before.body);
    assert_eq!(after.etag(), before.etag());
    let metrics = String::from_utf8_lossy(&app.get("/metrics").await.body).into_owned();
    assert!(
        metrics.contains(r#"relief_content_reloads_total{result="failed"} 1"#),
        "{metrics}"
    );
}

#[actix_web::test]
async fn a_request_storm_during_reloads_sees_whole_old_or_whole_new_content() {
    let content = Arc::new(ContentDir::with_source_article());
    let app = spawn_app_with(content.config()).await;
    let article = format!("/v1/articles/{SLUG}");
    let old = app.get(&article).await;

    content.edit(
        &format!("title = \"{OLD_TITLE}\""),
        &format!("title = \"{NEW_TITLE}\""),
    );
    app.reload().await;
    let new = app.get(&article).await;
    assert_ne!(old.body, new.body);
    let versions = [
        (
            old.body.clone(),
            old.header("x-content-revision").unwrap().to_owned(),
        ),
        (
            new.body.clone(),
            new.header("x-content-revision").unwrap().to_owned(),
        ),
    ];

    // Flip between the two versions while clients keep asking.
    let (flipper_content, reloader) = (Arc::clone(&content), app.reloader.clone());
    let flipper = actix_web::rt::task::spawn_blocking(move || {
        for round in 0..20 {
            let (from, to) = if round % 2 == 0 {
                (NEW_TITLE, OLD_TITLE)
            } else {
                (OLD_TITLE, NEW_TITLE)
            };
            flipper_content.edit(&format!("title = \"{from}\""), &format!("title = \"{to}\""));
            assert!(reloader.reload());
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    let mut answers = 0;
    while !flipper.is_finished() || answers < 200 {
        let batch: Vec<_> = (0..8).map(|_| app.get(&article)).collect();
        for reply in futures_util::future::join_all(batch).await {
            assert_eq!(reply.status, 200);
            let revision = reply.header("x-content-revision").unwrap();
            let version = versions
                .iter()
                .find(|(body, _)| *body == reply.body)
                .expect("a body that is exactly the old or the new article");
            assert_eq!(
                version.1, revision,
                "the revision header matches the body served"
            );
            answers += 1;
        }
    }
    flipper.await.unwrap();
    assert!(answers >= 200);
}

#[test]
fn sighup_reloads_a_good_edit_and_survives_a_bad_one() {
    let content = ContentDir::with_source_article();
    let server = ServerProcess::start(&["--content-dir", content.path().to_str().unwrap()]);
    let article = format!("/v1/articles/{SLUG}");

    content.edit(
        &format!("title = \"{OLD_TITLE}\""),
        &format!("title = \"{NEW_TITLE}\""),
    );
    server.signal("HUP");
    server.wait_for_log("content reloaded", Duration::from_secs(10));
    let (status, body) = server.get(&article);
    assert_eq!(status, 200);
    assert!(body.contains(NEW_TITLE));

    std::fs::write(
        content.path().join("articles").join("broken.toml"),
        "title = \"\"\n",
    )
    .unwrap();
    server.signal("HUP");
    server.wait_for_log("content reload failed", Duration::from_secs(10));
    let (status, body) = server.get(&article);
    assert_eq!(status, 200);
    assert!(
        body.contains(NEW_TITLE),
        "the last good content is still served"
    );
    let (_, metrics) = server.get("/metrics");
    assert!(metrics.contains(r#"relief_content_reloads_total{result="failed"} 1"#));
    assert!(metrics.contains(r#"relief_content_reloads_total{result="ok"} 1"#));
}

#[test]
fn watch_reloads_when_a_file_changes() {
    let content = ContentDir::with_source_article();
    let server =
        ServerProcess::start(&["--content-dir", content.path().to_str().unwrap(), "--watch"]);
    // The server says it listens only once the watcher is in place.
    content.edit(
        &format!("title = \"{OLD_TITLE}\""),
        &format!("title = \"{NEW_TITLE}\""),
    );
    server.wait_for_log("content reloaded", Duration::from_secs(10));
    let (_, body) = server.get(&format!("/v1/articles/{SLUG}"));
    assert!(body.contains(NEW_TITLE));
}

#[actix_web::test]
async fn a_reload_refuses_a_file_over_the_cap_and_keeps_serving() {
    let content = ContentDir::with_source_article();
    let app = spawn_app_with(relief_api::config::Config {
        max_content_file_bytes: 64 * 1024,
        ..content.config()
    })
    .await;
    let article = format!("/v1/articles/{SLUG}");
    let before = app.get(&article).await;

    // An editor pastes 100 KB into the file: over the cap.
    let text = std::fs::read_to_string(content.article_file()).unwrap();
    std::fs::write(
        content.article_file(),
        format!("{text}\n# {}\n", "x".repeat(100 * 1024)),
    )
    .unwrap();
    assert!(!app.reload().await);
    let after = app.get(&article).await;
    assert_eq!(after.status, 200);
    assert_eq!(after.body, before.body);
}
