//! `/v1/events`: the outbox's public events, live, as server-sent events.

use std::{convert::Infallible, sync::Arc, time::Duration};

use actix_web::{
    HttpRequest, HttpResponse,
    http::header::{self, HeaderValue},
    route, web,
    web::Bytes,
};

use crate::{
    error::{ApiError, BadRequest, Unavailable},
    events::{LatestEvent, StoredEvent},
    replies::Database,
};

/// How often a comment line keeps an idle stream from being closed by
/// proxies.
const KEEPALIVE: Duration = Duration::from_secs(15);
/// How long one stream lasts: then the client reconnects (EventSource does,
/// with `Last-Event-ID`), so that no connection is held forever.
const STREAM_FOR: Duration = Duration::from_secs(300);
/// Events read from the outbox at once.
const BATCH: usize = 100;

/// Stream live events
///
/// Server-sent events (`text/event-stream`): `content.published`,
/// `content.updated`, `content.deleted`, `reply.approved` and
/// `reply.removed` (a reply shown until now no longer is: drop it), as
/// they happen. Each has `id` (its number in the outbox), `event` (its type)
/// and `data` (the event, as webhooks receive it). A client that
/// reconnects sends `Last-Event-ID` (browsers' `EventSource` does) and
/// first gets what it missed, for as long as the outbox keeps events (7
/// days). A stream ends after 5 minutes; clients reconnect. Replies
/// awaiting moderation are never streamed.
#[utoipa::path(
    get,
    tag = "events",
    params(
        ("Last-Event-ID" = Option<u64>, Header, description = "The id of the last event the client received: the stream starts after it. Without it, with the next event."),
    ),
    responses(
        (status = 200, description = "The stream of events (never-ending until it is 5 minutes old).", content_type = "text/event-stream", body = String,
            example = "retry: 2000\n\nid: 42\nevent: reply.approved\ndata: {\"type\":\"reply.approved\",\"timestamp\":\"2026-12-03T08:30:00.000Z\",\"data\":{\"id\":7,\"article\":\"deep-tissue-massage-for-back-pain\",\"parent_id\":null,\"author_name\":\"Sam\",\"body\":\"Thanks!\"}}\n\n"),
        (status = 400, response = BadRequest),
        (status = 503, response = Unavailable),
    )
)]
#[route("/v1/events", method = "GET")]
pub async fn event_list(
    req: HttpRequest,
    db: web::Data<Database>,
    latest: web::Data<LatestEvent>,
) -> Result<HttpResponse, ApiError> {
    let after = match req.headers().get("last-event-id") {
        None => db.last_event().await?,
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|raw| raw.trim().parse::<i64>().ok())
            .filter(|id| *id >= 0)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "header `Last-Event-ID` must be the id of an event: a whole number",
                )
            })?,
    };
    let stream = Stream {
        db: db.into_inner(),
        news: latest.0.clone(),
        after,
        opened: false,
        ends: tokio::time::Instant::now() + STREAM_FOR,
    };
    let mut response = HttpResponse::Ok()
        .content_type("text/event-stream")
        .streaming(futures_util::stream::unfold(stream, Stream::next));
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // nginx would otherwise hold events back in its buffer.
    headers.insert(
        header::HeaderName::from_static("x-accel-buffering"),
        HeaderValue::from_static("no"),
    );
    Ok(response)
}

/// Where one client's stream stands.
struct Stream {
    db: Arc<Database>,
    news: tokio::sync::watch::Receiver<i64>,
    after: i64,
    opened: bool,
    ends: tokio::time::Instant,
}

impl Stream {
    /// The next bytes to send: events, a keep-alive comment, or the end.
    async fn next(mut self) -> Option<(Result<Bytes, Infallible>, Self)> {
        if !self.opened {
            self.opened = true;
            return Some((Ok(Bytes::from_static(b"retry: 2000\n\n")), self));
        }
        loop {
            if tokio::time::Instant::now() >= self.ends {
                return None;
            }
            // A database that is down is asked again at the next news or
            // keep-alive; the client keeps its place.
            if let Ok(events) = self.db.events_after(self.after, true, BATCH).await
                && let Some(last) = events.last()
            {
                self.after = last.seq;
                return Some((Ok(frames(&events)), self));
            }
            tokio::select! {
                changed = self.news.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                }
                () = tokio::time::sleep(KEEPALIVE) => {
                    return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), self));
                }
                () = tokio::time::sleep_until(self.ends) => return None,
            }
        }
    }
}

/// `events` as server-sent event frames. Payloads are one line of JSON.
fn frames(events: &[StoredEvent]) -> Bytes {
    let mut out = String::new();
    for event in events {
        out.push_str(&format!(
            "id: {}\nevent: {}\ndata: {}\n\n",
            event.seq, event.kind, event.payload
        ));
    }
    Bytes::from(out)
}
