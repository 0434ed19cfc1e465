//! An app that keeps a copy of the content asks what changed since it last
//! synced, and gets exactly that: what editors changed, added and deleted
//! between reloads, page by page, with tokens that outlive the server.

use std::{collections::BTreeSet, time::Duration};

use relief_api::config::Config;
use serde_json::Value;

use crate::helpers::{
    Backend, ContentDir, SLUG, TestApp, TestDatabase, skipped_without_postgres, spawn_app_on,
    spawn_app_with, spawn_replicas,
};

/// A resource as a sync names it: (type, article, lang, id, deleted).
type Named = (String, String, String, String, bool);

fn named(item: &Value) -> Named {
    let text = |key: &str| item[key].as_str().unwrap_or_default().to_owned();
    (
        text("type"),
        text("article"),
        text("lang"),
        text("id"),
        item["deleted"]
            .as_bool()
            .expect("every item says whether it was deleted"),
    )
}

/// One answer of `/v1/sync` with `query`, once the content served is in
/// the history (until then sync answers 503).
async fn sync_page(app: &TestApp, query: &str) -> (u16, Value) {
    for _ in 0..100 {
        let reply = app.get(&format!("/v1/sync{query}")).await;
        if reply.status != 503 {
            let body = reply.json();
            return (reply.status.as_u16(), body);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("sync answered 503 for five seconds");
}

/// Every item of a sync, following its pages: the items and the token for
/// next time.
async fn sync_all(app: &TestApp, token: Option<&str>, limit: usize) -> (Vec<Value>, String) {
    let mut query = format!("?limit={limit}");
    if let Some(token) = token {
        query.push_str(&format!("&sync_token={token}"));
    }
    let mut items = Vec::new();
    for _ in 0..1000 {
        let (status, page) = sync_page(app, &query).await;
        assert_eq!(status, 200, "{page}");
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        if let Some(next) = page["next_sync_token"].as_str() {
            assert!(page.get("next_page_token").is_none(), "{page}");
            return (items, next.to_owned());
        }
        let next = page["next_page_token"]
            .as_str()
            .expect("a page that is not the last says where the next is");
        query = format!("?limit={limit}&sync_token={next}");
    }
    panic!("the sync never ended");
}

fn names(items: &[Value]) -> BTreeSet<Named> {
    items.iter().map(named).collect()
}

fn resource(kind: &str, article: &str, id: &str, deleted: bool) -> Named {
    (kind.into(), article.into(), "en".into(), id.into(), deleted)
}

/// The 20 resources of the source article, as a sync names them.
fn source_article(slug: &str, deleted: bool) -> BTreeSet<Named> {
    let mut all = BTreeSet::from([resource("article", slug, slug, deleted)]);
    for (kind, ids) in [
        (
            "section",
            &[
                "introduction",
                "understanding-deep-tissue-massage",
                "conclusion",
            ][..],
        ),
        (
            "benefit",
            &["improves-posture", "reduces-muscle-tension"][..],
        ),
    ] {
        for id in ids {
            all.insert(resource(kind, slug, id, deleted));
        }
    }
    all
}

#[actix_web::test]
async fn a_sync_sees_exactly_what_editors_changed_added_and_deleted() {
    let content = ContentDir::with_source_article();
    let app = spawn_app_with(content.config()).await;

    let (everything, token) = sync_all(&app, None, 100).await;
    assert_eq!(
        everything.len(),
        20,
        "1 article, 3 sections, 7 benefits, 5 precautions, 4 FAQs"
    );
    assert!(names(&everything).is_superset(&source_article(SLUG, false)));
    let benefit = everything
        .iter()
        .find(|item| item["id"] == "improves-posture")
        .unwrap();
    assert_eq!(
        benefit["data"],
        app.get_json(benefit["url"].as_str().unwrap()).await,
        "an item's data is the resource its URL serves"
    );

    let (nothing, same) = sync_all(&app, Some(&token), 100).await;
    assert!(nothing.is_empty(), "nothing changed: {nothing:?}");

    // An editor corrects one benefit and adds an article.
    content.edit(
        "Poor posture is a common contributing factor to back pain.",
        "Poor posture is a frequent contributing factor to back pain.",
    );
    let added = content.path().join("articles/a-second-article.toml");
    std::fs::copy(content.article_file(), &added).unwrap();
    assert!(app.reload().await);

    let (changed, token) = sync_all(&app, Some(&same), 100).await;
    let mut expected = BTreeSet::from([
        resource("article", SLUG, SLUG, false),
        resource("benefit", SLUG, "improves-posture", false),
    ]);
    let (everything_new, _) = sync_all(&app, None, 100).await;
    expected.extend(
        names(&everything_new)
            .into_iter()
            .filter(|(_, article, ..)| article == "a-second-article"),
    );
    assert_eq!(
        names(&changed),
        expected,
        "the edited benefit, its article and all of the new one"
    );
    assert_eq!(changed.len(), 22);
    let corrected = changed
        .iter()
        .find(|item| item["id"] == "improves-posture")
        .unwrap();
    assert!(
        corrected["data"]["body"]
            .as_str()
            .unwrap()
            .starts_with("Poor posture is a frequent")
    );

    // The editor deletes the new article again.
    std::fs::remove_file(&added).unwrap();
    assert!(app.reload().await);
    let (deleted, _) = sync_all(&app, Some(&token), 7).await;
    assert_eq!(
        deleted.len(),
        20,
        "every resource of the deleted article, in pages of 7"
    );
    for item in &deleted {
        assert_eq!(item["article"], "a-second-article");
        assert_eq!(item["deleted"], true, "{item}");
        assert!(
            item.get("data").is_none() && item.get("url").is_none(),
            "{item}"
        );
    }
}

#[actix_web::test]
async fn a_sync_in_small_pages_is_the_sync_in_one() {
    let app = spawn_app_with(Config::default()).await;
    let (whole, whole_token) = sync_all(&app, None, 1000).await;
    let (paged, paged_token) = sync_all(&app, None, 3).await;
    assert_eq!(paged, whole, "the same items in the same order");
    assert_eq!(paged_token, whole_token);

    let (status, page) = sync_page(&app, "?limit=3").await;
    assert_eq!(status, 200);
    let reply = app.get("/v1/sync?limit=3").await;
    let link = reply
        .header("link")
        .expect("a page with more after it links to the next");
    assert!(
        link.contains(page["next_page_token"].as_str().unwrap()) && link.ends_with("rel=\"next\""),
        "{link}"
    );
    let again = app
        .request_with(
            "GET",
            "/v1/sync?limit=3",
            &[("if-none-match", reply.etag())],
        )
        .await;
    assert_eq!(again.status, 304, "an unchanged page is not sent again");
}

#[actix_web::test]
async fn type_and_lang_filter_a_sync_and_hold_for_its_later_calls() {
    let app = spawn_app_with(Config::default()).await;
    let (status, page) = sync_page(&app, "?type=faq").await;
    assert_eq!(status, 200);
    let faqs = page["items"].as_array().unwrap();
    assert_eq!(faqs.len(), 4);
    assert!(faqs.iter().all(|item| item["type"] == "faq"));
    let token = page["next_sync_token"].as_str().unwrap();

    let (status, later) = sync_page(&app, &format!("?sync_token={token}")).await;
    assert_eq!(status, 200, "the token carries the filter");
    assert_eq!(later["items"], Value::Array(Vec::new()));

    let (status, problem) = sync_page(&app, &format!("?sync_token={token}&type=benefit")).await;
    assert_eq!(status, 400);
    assert!(
        problem["detail"].as_str().unwrap().contains("`type`"),
        "{problem}"
    );

    let (status, none) = sync_page(&app, "?lang=es").await;
    assert_eq!(status, 200);
    assert_eq!(
        none["items"],
        Value::Array(Vec::new()),
        "the source article is in English only"
    );
}

#[actix_web::test]
async fn a_token_this_server_did_not_give_is_a_400_problem() {
    let app = spawn_app_with(Config::default()).await;
    for query in [
        "?sync_token=garbage",
        "?sync_token=e30",
        // Well formed, but a delta's cursor in a sync from scratch:
        // {"e":"e","p":{"u":5,"a":{"s":3}}}, a shape this server never gives.
        "?sync_token=eyJlIjoiZSIsInAiOnsidSI6NSwiYSI6eyJzIjozfX19",
        "?limit=0",
        "?limit=1001",
        "?type=page",
    ] {
        let reply = app.get(&format!("/v1/sync{query}")).await;
        let problem = reply.problem(400);
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("query parameter"),
            "{query}: {problem}"
        );
    }
}

#[actix_web::test]
async fn a_token_older_than_the_history_kept_is_410_gone_with_what_to_do() {
    let content = ContentDir::with_source_article();
    let app = spawn_app_with(Config {
        sync_history: Duration::ZERO,
        ..content.config()
    })
    .await;
    let (_, token) = sync_all(&app, None, 100).await;
    content.edit(
        "Poor posture is a common contributing factor to back pain.",
        "Poor posture is a frequent contributing factor to back pain.",
    );
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(app.reload().await);
    let (_, _) = sync_all(&app, Some(&token), 100).await;
    content.edit("a frequent contributing", "a common contributing");
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(app.reload().await);
    // Each reload forgot every change recorded before it: the changes
    // after the token are gone.
    let (status, problem) = sync_page(&app, &format!("?sync_token={token}")).await;
    assert_eq!(status, 410, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("sync from scratch"),
        "{problem}"
    );

    let (everything, _) = sync_all(&app, None, 100).await;
    assert_eq!(everything.len(), 20, "a sync from scratch still works");
}

#[actix_web::test]
async fn a_token_outlives_the_server_that_gave_it() {
    let database = TestDatabase::create(Backend::Sqlite).await.unwrap();
    let url = database.url.clone();
    let content = ContentDir::with_source_article();
    let first = spawn_app_on(database, content.config()).await;
    let (_, token) = sync_all(&first, None, 100).await;

    // A second server on the same database (a restart, or another replica),
    // after an editor's change.
    content.edit(
        "Poor posture is a common contributing factor to back pain.",
        "Poor posture is a frequent contributing factor to back pain.",
    );
    let second = spawn_app_with(Config {
        database_url: url,
        ..content.config()
    })
    .await;
    let (changed, _) = sync_all(&second, Some(&token), 100).await;
    assert_eq!(
        names(&changed),
        BTreeSet::from([
            resource("article", SLUG, SLUG, false),
            resource("benefit", SLUG, "improves-posture", false),
        ])
    );
}

#[actix_web::test]
async fn a_token_from_another_history_is_410_not_a_wrong_answer() {
    // An in-memory database, restarted, numbers its changes anew: the old
    // token must not be read as a place in the new history.
    let app = spawn_app_with(Config::default()).await;
    let (_, token) = sync_all(&app, None, 100).await;
    let restarted = spawn_app_with(Config::default()).await;
    let (status, problem) = sync_page(&restarted, &format!("?sync_token={token}")).await;
    assert_eq!(status, 410, "{problem}");
}

#[actix_web::test]
async fn replicas_on_one_postgresql_read_each_others_tokens() {
    let content = ContentDir::with_source_article();
    let Some((replicas, _)) = spawn_replicas(2, content.config()).await else {
        return skipped_without_postgres();
    };
    let (_, token) = sync_all(&replicas[0], None, 100).await;
    content.edit(
        "Poor posture is a common contributing factor to back pain.",
        "Poor posture is a frequent contributing factor to back pain.",
    );
    for replica in &replicas {
        assert!(replica.reload().await);
    }
    for replica in &replicas {
        let (changed, _) = sync_all(replica, Some(&token), 100).await;
        assert_eq!(
            names(&changed),
            BTreeSet::from([
                resource("article", SLUG, SLUG, false),
                resource("benefit", SLUG, "improves-posture", false),
            ]),
            "each replica answers the other's token alike"
        );
    }
}
