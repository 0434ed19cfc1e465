//! Events: what changed, told to whoever listens. Each event is written to
//! the database's outbox in the transaction of the change it announces
//! (`replies::db::outbox`), then delivered to webhook endpoints
//! (`crate::webhooks`) and streamed to front ends (`GET /v1/events`).
//!
//! An event is the Standard Webhooks envelope, `{type, timestamp, data}`,
//! serialized once when it is written: webhooks and the live stream send
//! the same bytes.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum EventType {
    /// An article, in one language, appeared.
    #[serde(rename = "content.published")]
    ContentPublished,
    /// An article, in one language, or one of its parts changed.
    #[serde(rename = "content.updated")]
    ContentUpdated,
    /// An article, in one language, is gone.
    #[serde(rename = "content.deleted")]
    ContentDeleted,
    /// A reader posted a reply; it awaits moderation. Sent to webhooks
    /// only (for moderation tools), never on the public live stream.
    #[serde(rename = "reply.submitted")]
    ReplySubmitted,
    /// A moderator approved a reply: it is now shown.
    #[serde(rename = "reply.approved")]
    ReplyApproved,
    /// A reply that was shown no longer is: a moderator rejected it,
    /// marked it spam, sent it back to the queue or deleted it, its author
    /// corrected it (shown again once approved) or withdrew it, or it was
    /// erased at its author's request. Front ends drop it.
    #[serde(rename = "reply.removed")]
    ReplyRemoved,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ContentPublished => "content.published",
            Self::ContentUpdated => "content.updated",
            Self::ContentDeleted => "content.deleted",
            Self::ReplySubmitted => "reply.submitted",
            Self::ReplyApproved => "reply.approved",
            Self::ReplyRemoved => "reply.removed",
        }
    }

    /// Whether anyone may see it on the live stream: not a reply that no
    /// moderator has approved.
    pub fn is_public(self) -> bool {
        self != Self::ReplySubmitted
    }

    /// The public ones, as stored: for the live stream's query.
    pub const PUBLIC: [&'static str; 5] = [
        "content.published",
        "content.updated",
        "content.deleted",
        "reply.approved",
        "reply.removed",
    ];
}

/// An event, as delivered: the Standard Webhooks envelope.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Event<T> {
    /// What happened.
    #[serde(rename = "type")]
    pub kind: EventType,
    /// When (RFC 3339, UTC).
    #[schema(example = "2026-12-03T08:30:00.000Z")]
    pub timestamp: String,
    /// What it happened to.
    pub data: T,
}

/// The data of a `content.*` event: one article in one language.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContentEvent {
    /// The article's slug.
    #[schema(example = "deep-tissue-massage-for-back-pain")]
    pub article: String,
    /// The language that changed.
    #[schema(example = "en")]
    pub lang: String,
    /// A sync token from just before this change: `GET /v1/sync?sync_token=`
    /// with it answers what changed (this change, and any after it).
    #[schema(example = "eyJlIjoiOWYyYyIsImYiOjQyfQ")]
    pub sync_token: String,
    /// The purge keys (`Surrogate-Key`, `Cache-Tag`) of every response
    /// this change makes stale.
    #[schema(example = json!(["article:deep-tissue-massage-for-back-pain", "article:deep-tissue-massage-for-back-pain:en", "benefit:deep-tissue-massage-for-back-pain:improves-posture", "articles", "bundle", "search"]))]
    pub purge_keys: Vec<String>,
}

/// The data of a `reply.*` event. The author's email is never sent.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReplyEvent {
    /// The reply's id.
    #[schema(example = 42)]
    pub id: i64,
    /// The article it replies to.
    #[schema(example = "deep-tissue-massage-for-back-pain")]
    pub article: String,
    /// The reply it answers, if any.
    pub parent_id: Option<i64>,
    /// The name the author gave.
    #[schema(example = "Sam")]
    pub author_name: String,
    /// What the author wrote.
    #[schema(example = "This helped my lower back a lot.")]
    pub body: String,
}

/// The data of a `reply.removed` event: which reply to drop. Nothing the
/// author wrote is sent again.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RemovedReplyEvent {
    /// The reply's id.
    #[schema(example = 42)]
    pub id: i64,
    /// The article it replied to.
    #[schema(example = "deep-tissue-massage-for-back-pain")]
    pub article: String,
}

/// An event ready to write to the outbox: its id, type and bytes.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// `msg_` and a random part: the `webhook-id` receivers deduplicate by.
    pub id: String,
    pub kind: EventType,
    /// The envelope, serialized.
    pub payload: String,
    /// Milliseconds since the epoch.
    pub created_at: i64,
}

impl NewEvent {
    /// `data` as a `kind` event happening now.
    pub fn new<T: Serialize>(kind: EventType, data: T) -> Self {
        let now = std::time::SystemTime::now();
        let payload = serde_json::to_string(&Event {
            kind,
            timestamp: humantime::format_rfc3339_millis(now).to_string(),
            data,
        })
        .expect("event data always serializes");
        Self {
            id: format!("msg_{}", uuid::Uuid::new_v4().simple()),
            kind,
            payload,
            created_at: now
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |since| {
                    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
                }),
        }
    }
}

/// The newest event's number, as the webhook worker last saw it: the live
/// stream waits on it for news.
#[derive(Debug, Clone)]
pub struct LatestEvent(pub tokio::sync::watch::Receiver<i64>);

/// Whether the server is stopping. A live stream ends when it is: a stop
/// waits for the requests in flight, and a stream would hold it for the
/// whole grace period, then be cut off. Ended, it tells its client to
/// reconnect (with `Last-Event-ID`), to another replica or the next start.
#[derive(Debug, Clone)]
pub struct Stopping(tokio::sync::watch::Receiver<bool>);

impl Stopping {
    /// The signal and the switch that gives it.
    pub fn new() -> (StopSwitch, Self) {
        let (switch, stopping) = tokio::sync::watch::channel(false);
        (StopSwitch(switch), Self(stopping))
    }

    /// Returns once the server is stopping.
    pub async fn wait(&mut self) {
        if self.0.wait_for(|stopping| *stopping).await.is_err() {
            // The switch is gone unpulled: no stop will come through it.
            std::future::pending::<()>().await;
        }
    }
}

/// Says the server is stopping, to every [`Stopping`].
#[derive(Debug)]
pub struct StopSwitch(tokio::sync::watch::Sender<bool>);

impl StopSwitch {
    pub fn pull(&self) {
        self.0.send_replace(true);
    }
}

/// An event as stored in the outbox.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredEvent {
    /// Its place in the outbox: the live stream's event id.
    pub seq: i64,
    pub id: String,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub payload: String,
    pub created_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stopping_comes_when_the_switch_is_pulled_and_never_when_it_is_dropped() {
        let soon = std::time::Duration::from_millis(50);
        let (switch, stopping) = Stopping::new();
        let mut waiting = stopping.clone();
        assert!(tokio::time::timeout(soon, waiting.wait()).await.is_err());
        switch.pull();
        tokio::time::timeout(soon, waiting.wait()).await.unwrap();
        // A stream opened once the stop has begun ends at once too.
        let mut late = stopping.clone();
        tokio::time::timeout(soon, late.wait()).await.unwrap();

        let (switch, mut stopping) = Stopping::new();
        drop(switch);
        assert!(tokio::time::timeout(soon, stopping.wait()).await.is_err());
    }

    #[test]
    fn an_event_is_the_standard_webhooks_envelope() {
        let event = NewEvent::new(
            EventType::ReplyApproved,
            ReplyEvent {
                id: 7,
                article: "a".into(),
                parent_id: None,
                author_name: "Sam".into(),
                body: "Thanks".into(),
            },
        );
        assert!(event.id.starts_with("msg_"));
        let json: serde_json::Value = serde_json::from_str(&event.payload).unwrap();
        assert_eq!(json["type"], "reply.approved");
        assert_eq!(json["data"]["id"], 7);
        assert!(json["timestamp"].as_str().unwrap().ends_with('Z'));
        assert!(json["data"].get("author_email").is_none());
    }

    #[test]
    fn a_submitted_reply_is_never_public() {
        assert!(!EventType::ReplySubmitted.is_public());
        assert!(!EventType::PUBLIC.contains(&EventType::ReplySubmitted.as_str()));
        assert!(EventType::PUBLIC.contains(&EventType::ReplyApproved.as_str()));
        // A front end that showed a reply must learn it is gone.
        assert!(EventType::ReplyRemoved.is_public());
        assert!(EventType::PUBLIC.contains(&EventType::ReplyRemoved.as_str()));
    }
}
