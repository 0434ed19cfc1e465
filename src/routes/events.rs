//! `/v1/events`: the outbox's public events, live, as server-sent events.

use std::{
    convert::Infallible,
    future::{Ready, ready},
    sync::Arc,
    time::Duration,
};

use actix_web::{
    FromRequest, HttpRequest, HttpResponse,
    dev::Payload,
    http::{
        Method,
        header::{self, HeaderValue},
    },
    route, web,
    web::Bytes,
};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::{
    error::{ApiError, BadRequest, Unavailable},
    events::{LatestEvent, Stopping, StoredEvent},
    replies::Database,
};

use super::params::{clip, query};

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
/// reconnects sends `Last-Event-ID` (browsers' `EventSource` does), or a
/// page that kept the last id across a reload `?last_event_id=`, and
/// first gets what it missed, for as long as the outbox keeps events (7
/// days). A stream ends after 5 minutes; clients reconnect. Replies
/// awaiting moderation are never streamed.
#[utoipa::path(
    get,
    tag = "events",
    params(
        EventQuery,
        ("Last-Event-ID" = Option<i64>, Header, minimum = 0, description = "The id of the last event the client received: the stream starts after it. Without it (or `last_event_id`), with the next event."),
    ),
    responses(
        (status = 200, description = "The stream of events (never-ending until it is 5 minutes old).", content_type = "text/event-stream", body = String,
            example = "retry: 2000\n\nid: 42\nevent: reply.approved\ndata: {\"type\":\"reply.approved\",\"timestamp\":\"2026-12-03T08:30:00.000Z\",\"data\":{\"id\":7,\"article\":\"deep-tissue-massage-for-back-pain\",\"parent_id\":null,\"author_name\":\"Sam\",\"body\":\"Thanks!\"}}\n\n"),
        (status = 400, response = BadRequest),
        (status = 503, response = Unavailable),
    )
)]
#[route("/v1/events", method = "GET", method = "HEAD")]
pub async fn event_list(
    req: HttpRequest,
    start: EventQuery,
    db: web::Data<Database>,
    latest: web::Data<LatestEvent>,
    stopping: web::Data<Stopping>,
) -> Result<HttpResponse, ApiError> {
    let after = match start.after {
        None => db.last_event().await?,
        Some(after) => after,
    };
    let stream = Stream {
        db: db.into_inner(),
        news: latest.0.clone(),
        stopping: Stopping::clone(&stopping),
        after,
        opened: false,
        ends: tokio::time::Instant::now() + STREAM_FOR,
    };
    let mut response = HttpResponse::Ok();
    response.content_type("text/event-stream");
    // A `HEAD` gets the stream's headers (a stream's: no length), and no
    // stream held open for it.
    let mut response = if req.method() == Method::HEAD {
        response.streaming(futures_util::stream::empty::<Result<Bytes, ApiError>>())
    } else {
        response.streaming(futures_util::stream::unfold(stream, Stream::next))
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // nginx would otherwise hold events back in its buffer.
    headers.insert(
        header::HeaderName::from_static("x-accel-buffering"),
        HeaderValue::from_static("no"),
    );
    Ok(response)
}

/// The query string of the event stream; with `Last-Event-ID`, where the
/// stream starts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    /// The id of the last event the client received, for a client that
    /// cannot send `Last-Event-ID`: a browser's `EventSource` sets no headers
    /// of its own, so a page that kept the id across a reload passes it here.
    /// `Last-Event-ID` wins when both are sent, since a browser reconnecting
    /// sends its newer id there.
    #[param(value_type = Option<i64>, minimum = 0, example = 42)]
    last_event_id: Option<String>,
    /// The id of the last event received, from the header or else the query
    /// string; `None` to start with the next event.
    #[serde(skip)]
    #[param(ignore)]
    after: Option<i64>,
}

impl FromRequest for EventQuery {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(query::<Self>(req).and_then(|mut query| {
            let header = req.headers().get("last-event-id");
            let (raw, name) = match (header, query.last_event_id.take()) {
                (Some(value), _) => (
                    value.to_str().unwrap_or_default().to_owned(),
                    "header `Last-Event-ID`",
                ),
                (None, Some(raw)) => (raw, "query parameter `last_event_id`"),
                (None, None) => return Ok(query),
            };
            let after = event_id(&raw).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "{name} must be the id of an event, a whole number, not `{}`",
                    clip(&raw)
                ))
            })?;
            query.after = Some(after);
            Ok(query)
        }))
    }
}

/// An event's id as a client sends it back: a whole number.
fn event_id(raw: &str) -> Option<i64> {
    raw.trim().parse::<i64>().ok().filter(|id| *id >= 0)
}

/// Where one client's stream stands.
struct Stream {
    db: Arc<Database>,
    news: tokio::sync::watch::Receiver<i64>,
    stopping: Stopping,
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
                () = self.stopping.wait() => return None,
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
