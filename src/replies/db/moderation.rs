//! What moderators do with replies: list them by status, read one, decide
//! on it, delete it. A decision that takes a shown reply from view, or
//! shows one, is announced in the outbox in the same transaction.

use tracing::Instrument as _;

use super::{Database, Pool, ReplyError, db_span, outbox, to_i64};
use crate::events::{EventType, NewEvent, ReplyEvent};
use crate::replies::{ModeratedReply, ReplyId, ReplyStatus, Timestamp};

impl Database {
    /// One page of the replies in `status` (to `article` alone, when
    /// given), oldest first, and how many there are.
    pub async fn by_status(
        &self,
        status: ReplyStatus,
        article: Option<&str>,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<ModeratedReply>, usize), ReplyError> {
        // Two statements, not one with `$4 IS NULL OR ...`, so that each
        // is planned on its index (by status, or by article and status).
        let (items, count) = match article {
            None => (
                concat!(
                    "SELECT ",
                    moderated_columns!(),
                    " FROM replies WHERE status = $1 ORDER BY id LIMIT $2 OFFSET $3"
                ),
                "SELECT COUNT(*) FROM replies WHERE status = $1",
            ),
            Some(_) => (
                concat!(
                    "SELECT ",
                    moderated_columns!(),
                    " FROM replies WHERE status = $1 AND article = $4 ORDER BY id LIMIT $2 OFFSET $3"
                ),
                "SELECT COUNT(*) FROM replies WHERE status = $1 AND article = $2",
            ),
        };
        let (_, (items, total)) = on_pool!(self, "listing replies", |pool, _begin| {
            let mut items = sqlx::query_as(items)
                .bind(status.as_str())
                .bind(to_i64(limit))
                .bind(to_i64(offset));
            let mut total = sqlx::query_scalar(count).bind(status.as_str());
            if let Some(article) = article {
                items = items.bind(article);
                total = total.bind(article);
            }
            let items = items.fetch_all(pool).await?;
            let total = total.fetch_one(pool).await?;
            Ok::<(Vec<ModeratedReply>, i64), sqlx::Error>((items, total))
        })?;
        Ok((items, usize::try_from(total).unwrap_or(0)))
    }

    /// One reply, whatever its status.
    pub async fn moderated(&self, id: ReplyId) -> Result<Option<ModeratedReply>, ReplyError> {
        let query = concat!(
            "SELECT ",
            moderated_columns!(),
            " FROM replies WHERE id = $1"
        );
        on_pool!(self, "reading a reply", |pool, _begin| {
            sqlx::query_as(query)
                .bind(id.get())
                .fetch_optional(pool)
                .await
        })
        .map(|(_, reply)| reply)
    }

    /// Sets a reply's status; `None` if there is no such reply. Setting
    /// the status it already has changes nothing: it is not stamped as
    /// moderated again and nothing is announced, so a moderator's retried
    /// decision does not tell listeners twice.
    pub async fn set_status(
        &self,
        id: ReplyId,
        status: ReplyStatus,
    ) -> Result<Option<ModeratedReply>, ReplyError> {
        let update = concat!(
            "UPDATE replies SET status = $1, updated_at = $2 WHERE id = $3 RETURNING ",
            moderated_columns!()
        );
        let unchanged = concat!(
            "SELECT ",
            moderated_columns!(),
            " FROM replies WHERE id = $1"
        );
        let (live, (reply, changed)) = on_pool!(self, "moderating a reply", |pool, begin| {
            let mut tx = pool.begin_with(begin).await?;
            let was: Option<ReplyStatus> =
                sqlx::query_scalar(locked!(begin, "SELECT status FROM replies WHERE id = $1"))
                    .bind(id.get())
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some(was) = was else {
                return Ok((None, false));
            };
            if was == status {
                let reply: ModeratedReply = sqlx::query_as(unchanged)
                    .bind(id.get())
                    .fetch_one(&mut *tx)
                    .await?;
                return Ok((Some(reply), false));
            }
            let reply: ModeratedReply = sqlx::query_as(update)
                .bind(status.as_str())
                .bind(Timestamp::now().millis())
                .bind(id.get())
                .fetch_one(&mut *tx)
                .await?;
            if was == ReplyStatus::Approved {
                outbox::announce_removed!(tx, begin, reply.id, &reply.article);
            }
            if status == ReplyStatus::Approved {
                let approved = NewEvent::new(
                    EventType::ReplyApproved,
                    ReplyEvent {
                        id: reply.id,
                        article: reply.article.clone(),
                        parent_id: reply.parent_id,
                        author_name: reply.author_name.clone(),
                        body: reply.body.clone(),
                    },
                );
                outbox::announce!(tx, begin, &approved);
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>((Some(reply), true))
        })?;
        // Nothing written, nothing for the caches or the outbox to hear.
        if changed {
            self.replies_changed(&live)?;
        }
        Ok(reply)
    }

    /// Deletes a reply for good; replies that answered it stay, without a
    /// parent. `false` if there was no such reply.
    pub async fn delete(&self, id: ReplyId) -> Result<bool, ReplyError> {
        let (live, deleted) = on_pool!(self, "deleting a reply", |pool, begin| {
            let mut tx = pool.begin_with(begin).await?;
            let deleted = deleted!(tx, begin, id);
            tx.commit().await?;
            Ok::<_, sqlx::Error>(deleted)
        })?;
        self.replies_changed(&live)?;
        Ok(deleted)
    }
}
