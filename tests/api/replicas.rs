//! Several replicas on one PostgreSQL database, as behind a load balancer:
//! they share one reply rate limit and one memory of Idempotency-Keys.
//! Needs `RELIEF_TEST_DATABASE_URL` (skipped without it, a failure in CI).

use actix_web::http::StatusCode;
use relief_api::config::Config;
use serde_json::json;

use crate::helpers::{SLUG, skipped_without_postgres, spawn_replicas};

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
    let Some(replicas) = spawn_replicas(2, config).await else {
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
}

#[actix_web::test]
async fn a_retry_that_lands_on_another_replica_is_replayed() {
    let Some(replicas) = spawn_replicas(2, Config::default()).await else {
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
