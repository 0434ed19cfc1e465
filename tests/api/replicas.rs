//! Several replicas on one PostgreSQL database, as behind a load balancer:
//! they share one reply rate limit, one memory of Idempotency-Keys, one
//! truth about replies (a decision on one is on every reader page), and
//! one outbox (an event one writes is on every replica's live stream).
//! Needs `RELIEF_TEST_DATABASE_URL` (skipped without it, a failure in CI).

use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use relief_api::config::Config;
use serde_json::json;
use sqlx::Connection as _;

use crate::helpers::{ContentDir, SLUG, TestApp, client, skipped_without_postgres, spawn_replicas};

fn replies_path() -> String {
    format!("/v1/articles/{SLUG}/replies")
}

fn reply(body: &str) -> serde_json::Value {
    json!({ "author_name": "Dana", "body": body })
}

#[actix_web::test]
async fn two_replicas_together_allow_the_configured_rate_not_twice_it() {
    let config = Config {
        reply_rate_per_minute: 4,
        ..Config::default()
    };
    let Some((replicas, url)) = spawn_replicas(2, config).await else {
        return skipped_without_postgres();
    };
    // The same client, its posts spread over both replicas.
    for n in 0..4 {
        let answer = replicas[n % 2]
            .post_json(&replies_path(), &reply(&format!("post {n}")), &[])
            .await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "post {n}");
        assert_eq!(answer.header("x-ratelimit-limit"), Some("4"));
        assert_eq!(
            answer.header("x-ratelimit-remaining"),
            Some((3 - n).to_string().as_str())
        );
    }
    for replica in &replicas {
        let refused = replica
            .post_json(&replies_path(), &reply("one too many"), &[])
            .await;
        refused.problem(429);
        let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=120).contains(&retry), "{retry}");
        assert_eq!(refused.header("x-ratelimit-limit"), Some("4"));
    }
    let queue = replicas[0]
        .as_moderator("GET", "/v1/moderation/replies", None)
        .await
        .json();
    assert_eq!(queue["total"], 4, "refused posts are not stored");
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    let counted: i64 = sqlx::query_scalar("SELECT sum(posts)::bigint FROM post_counts")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(counted, 4, "refused posts are taken back from the count");
}

#[actix_web::test]
async fn a_retry_that_lands_on_another_replica_is_replayed() {
    let Some((replicas, _)) = spawn_replicas(2, Config::default()).await else {
        return skipped_without_postgres();
    };
    let key = [("idempotency-key", "retry-on-another-replica")];
    let first = replicas[0]
        .post_json(&replies_path(), &reply("once"), &key)
        .await;
    assert_eq!(first.status, StatusCode::ACCEPTED);
    let again = replicas[1]
        .post_json(&replies_path(), &reply("once"), &key)
        .await;
    assert_eq!(again.status, StatusCode::ACCEPTED);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json(), first.json());
    // Another body under that key is refused there too.
    replicas[1]
        .post_json(&replies_path(), &reply("another"), &key)
        .await
        .problem(422);
    let queue = replicas[1]
        .as_moderator("GET", "/v1/moderation/replies", None)
        .await
        .json();
    assert_eq!(queue["total"], 1);
}

/// Whether `replica`'s reader page comes to show (or not to show) `text`
/// within a second, asking every 50 ms.
async fn page_shows_within_a_second(replica: &TestApp, text: &str, shown: bool) -> bool {
    let began = Instant::now();
    while began.elapsed() < Duration::from_secs(1) {
        let page = replica.get(&format!("/articles/{SLUG}")).await;
        assert_eq!(page.status, StatusCode::OK);
        if String::from_utf8_lossy(&page.body).contains(text) == shown {
            return true;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[actix_web::test]
async fn a_decision_on_one_replica_is_on_the_others_reader_page_within_a_second() {
    let Some((replicas, _)) = spawn_replicas(2, Config::default()).await else {
        return skipped_without_postgres();
    };
    let (one, other) = (&replicas[0], &replicas[1]);
    let id = one
        .post_reply(reply("Approved on one replica, shown by the other."))
        .await;
    // The other replica renders and keeps its page before the decision.
    assert!(page_shows_within_a_second(other, "shown by the other", false).await);
    let kept = other.get(&format!("/articles/{SLUG}")).await;
    one.moderate(id, "approved").await;
    assert!(
        page_shows_within_a_second(other, "shown by the other", true).await,
        "the other replica still shows its kept page"
    );
    let fresh = other.get(&format!("/articles/{SLUG}")).await;
    assert_ne!(fresh.etag(), kept.etag());
    // A deletion travels the same way.
    one.as_moderator("DELETE", &format!("/v1/moderation/replies/{id}"), None)
        .await;
    assert!(page_shows_within_a_second(other, "shown by the other", false).await);
}

#[actix_web::test]
async fn a_replica_that_loses_its_listener_listens_again_and_hears_the_next_decision() {
    let Some((replicas, url)) = spawn_replicas(2, Config::default()).await else {
        return skipped_without_postgres();
    };
    let (one, other) = (&replicas[0], &replicas[1]);
    let name = url.rsplit('/').next().unwrap().to_owned();
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    let listeners = "SELECT pid FROM pg_stat_activity \
                     WHERE datname = $1 AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()";
    let wait_for_listeners = async |admin: &mut sqlx::PgConnection| {
        let began = Instant::now();
        loop {
            let pids: Vec<i32> = sqlx::query_scalar(listeners)
                .bind(&name)
                .fetch_all(&mut *admin)
                .await
                .unwrap();
            if pids.len() == 2 {
                return pids;
            }
            assert!(
                began.elapsed() < Duration::from_secs(10),
                "listeners: {pids:?}"
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let before = wait_for_listeners(&mut admin).await;
    // The database drops both replicas' listening connections.
    for pid in &before {
        sqlx::query("SELECT pg_terminate_backend($1)")
            .bind(pid)
            .execute(&mut admin)
            .await
            .unwrap();
    }
    let id = one.post_reply(reply("Heard after the cut.")).await;
    let after = wait_for_listeners(&mut admin).await;
    assert!(
        after.iter().all(|pid| !before.contains(pid)),
        "{before:?} {after:?}"
    );
    one.moderate(id, "approved").await;
    assert!(page_shows_within_a_second(other, "Heard after the cut.", true).await);
}

#[actix_web::test]
async fn an_idle_replica_writes_nothing_to_the_database() {
    let Some((replicas, url)) = spawn_replicas(1, Config::default()).await else {
        return skipped_without_postgres();
    };
    // The start's first record of the content is among what it does; on a
    // busy machine it may come after the outbox's first looks.
    replicas[0].history_recorded().await;
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    // Every write of the outbox's fan-out row (what a replica's worker
    // looks at every 250 ms) makes a new version of it, with a new xmin.
    let state = crate::events::outbox_state("xmin::text");
    crate::events::writes_nothing_while_idle(async || {
        sqlx::query_as(sqlx::AssertSqlSafe(state.as_str()))
            .fetch_one(&mut admin)
            .await
            .ok()
    })
    .await;
}

#[actix_web::test]
async fn a_content_change_recorded_by_one_replica_is_on_the_others_live_stream() {
    let content = ContentDir::with_source_article();
    let Some((replicas, url)) = spawn_replicas(2, content.config()).await else {
        return skipped_without_postgres();
    };
    let (one, other) = (&replicas[0], &replicas[1]);
    // Every replica listens to the database for events that others write.
    let mut database = sqlx::postgres::PgListener::connect(&url).await.unwrap();
    database.listen("relief_events").await.unwrap();
    let mut stream = client()
        .get(format!("{}/v1/events", other.address))
        .send()
        .await
        .expect("the stream opens");

    content.edit(
        "Poor posture is a common contributing factor to back pain.",
        "Poor posture is a frequent contributing factor to back pain.",
    );
    assert!(one.reload().await, "the first replica serves the new text");
    tokio::time::timeout(Duration::from_secs(10), database.recv())
        .await
        .expect("the event written is announced to every replica")
        .unwrap();
    let text = crate::events::read_until(&mut stream, "event: content.updated").await;
    assert!(text.contains(&format!("\"article\":\"{SLUG}\"")), "{text}");
}
