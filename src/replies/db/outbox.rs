//! The outbox (`migrations/*/..._events.sql`): events written in the
//! transaction of the change they announce, each event's deliveries to the
//! webhook endpoints that want it, and what came of each.

use std::time::Duration;

use tracing::Instrument as _;

use super::{Database, Pool, ReplyError, db_span, now_millis, to_i64};
use crate::events::StoredEvent;

/// Takes the outbox's lock, then writes `$event` (a [`NewEvent`]) in
/// transaction `$tx`. On PostgreSQL the lock (an advisory one, held to the
/// commit) makes events commit in the order of their numbers, so that a
/// reader going by number misses none; SQLite's writers take turns anyway
/// (`$begin` tells which database this is).
///
/// [`NewEvent`]: crate::events::NewEvent
macro_rules! announce {
    ($tx:expr, $begin:expr, $event:expr) => {{
        if $begin == "BEGIN" {
            sqlx::query("SELECT pg_advisory_xact_lock(7413)")
                .execute(&mut *$tx)
                .await?;
        }
        let event: &crate::events::NewEvent = $event;
        sqlx::query("INSERT INTO events (id, type, payload, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&event.id)
            .bind(event.kind.as_str())
            .bind(&event.payload)
            .bind(event.created_at)
            .execute(&mut *$tx)
            .await?;
    }};
}
pub(super) use announce;

/// Announces in transaction `$tx` that reply `$id` of `$article`, shown
/// until now, no longer is (`reply.removed`): front ends that showed it
/// drop it. Nothing the author wrote goes with it.
macro_rules! announce_removed {
    ($tx:expr, $begin:expr, $id:expr, $article:expr) => {{
        let removed = crate::events::NewEvent::new(
            crate::events::EventType::ReplyRemoved,
            crate::events::RemovedReplyEvent {
                id: $id,
                article: String::from($article),
            },
        );
        crate::replies::db::outbox::announce!($tx, $begin, &removed);
    }};
}
pub(super) use announce_removed;

/// A delivery that is due, with its event.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueDelivery {
    pub id: i64,
    pub endpoint: String,
    pub attempts: u32,
    pub event_id: String,
    pub payload: String,
}

/// How many events the fan-out takes at once.
const FAN_OUT_BATCH: i64 = 500;

impl Database {
    /// Makes the deliveries of the events not yet fanned out: one per
    /// endpoint that `wanting` names for its type. Returns the newest
    /// event's number.
    pub async fn fan_out(
        &self,
        wanting: &(dyn Fn(&str) -> Vec<String> + Sync),
    ) -> Result<i64, ReplyError> {
        // Most looks find nothing new. A read says so without the write
        // below, which PostgreSQL would make into a new version of the
        // fan-out row (and a WAL record) every look, on every replica.
        let (_, (upto, newest)) = on_pool!(self, "looking at the outbox", |pool, _begin| {
            sqlx::query_as::<_, (i64, Option<i64>)>(
                "SELECT upto, (SELECT MAX(seq) FROM events) FROM webhook_fanout WHERE id = 1",
            )
            .fetch_one(pool)
            .await
        })?;
        if newest.is_none_or(|newest| newest <= upto) {
            return Ok(upto);
        }
        let now = now_millis();
        let (_, newest) = on_pool!(self, "fanning out events", |pool, begin| {
            let mut tx = pool.begin_with(begin).await?;
            // Taken first, so that two replicas do not fan out one event twice.
            sqlx::query("UPDATE webhook_fanout SET upto = upto WHERE id = 1")
                .execute(&mut *tx)
                .await?;
            let upto: i64 = sqlx::query_scalar("SELECT upto FROM webhook_fanout WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
            let events: Vec<(i64, String)> =
                sqlx::query_as("SELECT seq, type FROM events WHERE seq > $1 ORDER BY seq LIMIT $2")
                    .bind(upto)
                    .bind(FAN_OUT_BATCH)
                    .fetch_all(&mut *tx)
                    .await?;
            let Some(&(last, _)) = events.last() else {
                tx.commit().await?;
                return Ok::<_, sqlx::Error>(upto);
            };
            for (seq, kind) in &events {
                for endpoint in wanting(kind) {
                    sqlx::query(
                        "INSERT INTO webhook_deliveries \
                         (event_seq, endpoint, state, attempts, next_attempt_at) \
                         VALUES ($1, $2, 'pending', 0, $3) ON CONFLICT DO NOTHING",
                    )
                    .bind(seq)
                    .bind(endpoint)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            sqlx::query("UPDATE webhook_fanout SET upto = $1 WHERE id = 1")
                .bind(last)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(last)
        })?;
        Ok(newest)
    }

    /// Takes up to `limit` deliveries that are due, for `lease`: another
    /// worker (another replica) does not take them meanwhile, and if this
    /// one dies they are due again when the lease ends.
    pub async fn due_deliveries(
        &self,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<DueDelivery>, ReplyError> {
        let now = now_millis();
        let until = now + i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2);
        let (_, due) = on_pool!(self, "taking due deliveries", |pool, begin| {
            let mut tx = pool.begin_with(begin).await?;
            // The outer condition is checked again on a row another
            // transaction took meanwhile (PostgreSQL), so no row is taken twice.
            let taken: Vec<i64> = sqlx::query_scalar(
                "UPDATE webhook_deliveries SET next_attempt_at = $1 \
                 WHERE state = 'pending' AND next_attempt_at <= $2 AND id IN \
                 (SELECT id FROM webhook_deliveries WHERE state = 'pending' \
                  AND next_attempt_at <= $2 ORDER BY id LIMIT $3) \
                 RETURNING id",
            )
            .bind(until)
            .bind(now)
            .bind(to_i64(limit))
            .fetch_all(&mut *tx)
            .await?;
            let mut due = Vec::with_capacity(taken.len());
            for id in taken {
                let row: Option<(i64, String, i32, String, String)> = sqlx::query_as(
                    "SELECT d.id, d.endpoint, d.attempts, e.id, e.payload \
                     FROM webhook_deliveries d JOIN events e ON e.seq = d.event_seq \
                     WHERE d.id = $1",
                )
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some((id, endpoint, attempts, event_id, payload)) = row {
                    due.push(DueDelivery {
                        id,
                        endpoint,
                        attempts: u32::try_from(attempts).unwrap_or(0),
                        event_id,
                        payload,
                    });
                }
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(due)
        })?;
        Ok(due)
    }

    /// Records a delivery as delivered.
    pub async fn delivery_done(&self, id: i64, attempts: u32) -> Result<(), ReplyError> {
        on_pool!(self, "recording a delivery", |pool, _begin| {
            sqlx::query(
                "UPDATE webhook_deliveries SET state = 'delivered', attempts = $1, last_error = NULL \
                 WHERE id = $2",
            )
            .bind(i64::from(attempts))
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
        })
        .map(|_| ())
    }

    /// Records a failed try: due again at `next` (milliseconds since the
    /// epoch), or, without one, given up (dead).
    pub async fn delivery_failed(
        &self,
        id: i64,
        attempts: u32,
        next: Option<i64>,
        error: &str,
    ) -> Result<(), ReplyError> {
        let state = if next.is_some() { "pending" } else { "dead" };
        on_pool!(self, "recording a failed delivery", |pool, _begin| {
            sqlx::query(
                "UPDATE webhook_deliveries \
                 SET state = $1, attempts = $2, next_attempt_at = $3, last_error = $4 WHERE id = $5",
            )
            .bind(state)
            .bind(i64::from(attempts))
            .bind(next.unwrap_or(0))
            .bind(error)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
        })
        .map(|_| ())
    }

    /// Up to `limit` events after number `after`; only public ones if
    /// `public`.
    pub async fn events_after(
        &self,
        after: i64,
        public: bool,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, ReplyError> {
        let [a, b, c, d, e] = crate::events::EventType::PUBLIC;
        let (_, events) = on_pool!(self, "reading events", |pool, _begin| {
            sqlx::query_as(
                "SELECT seq, id, type, payload, created_at FROM events \
                 WHERE seq > $1 AND ($2 = 0 OR type IN ($3, $4, $5, $6, $7)) ORDER BY seq LIMIT $8",
            )
            .bind(after)
            .bind(i32::from(public))
            .bind(a)
            .bind(b)
            .bind(c)
            .bind(d)
            .bind(e)
            .bind(to_i64(limit))
            .fetch_all(pool)
            .await
        })?;
        Ok(events)
    }

    /// The newest event's number (0 when there is none).
    pub async fn last_event(&self) -> Result<i64, ReplyError> {
        let (_, last) = on_pool!(self, "reading the last event", |pool, _begin| {
            sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(seq) FROM events")
                .fetch_one(pool)
                .await
        })?;
        Ok(last.unwrap_or(0))
    }

    /// Forgets the events written before `before` (milliseconds since the
    /// epoch), and their finished deliveries; pending ones stay.
    pub async fn forget_events(&self, before: i64) -> Result<(), ReplyError> {
        on_pool!(self, "forgetting events", |pool, begin| {
            let mut tx = pool.begin_with(begin).await?;
            sqlx::query(
                "DELETE FROM webhook_deliveries WHERE state <> 'pending' AND event_seq IN \
                 (SELECT seq FROM events WHERE created_at < $1)",
            )
            .bind(before)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "DELETE FROM events WHERE created_at < $1 AND seq NOT IN \
                 (SELECT event_seq FROM webhook_deliveries) \
                 AND seq <= (SELECT upto FROM webhook_fanout WHERE id = 1)",
            )
            .bind(before)
            .execute(&mut *tx)
            .await?;
            tx.commit().await
        })
        .map(|_| ())
    }
}
