//! What authors may do with their own replies, and what a person may ask
//! of their data: correct or withdraw a reply within its edit window
//! (with its edit token), and, through a moderator, export or erase every
//! reply sent with one e-mail address (GDPR articles 15 and 17).

use tracing::Instrument as _;

use super::{
    DUPLICATE_LOCK, DUPLICATE_WINDOW_MS, Database, Pool, ReplyError, db_span, guard, outbox,
    posting::duplicate_body,
};
use crate::replies::{ModeratedReply, Reply, ReplyCorrection, ReplyId, ReplyStatus, Timestamp};

/// Reads reply `$id` of `$article` in transaction `$tx` and evaluates to
/// its status if `$token` opens it now; `None` if the reply does not
/// exist, the token is not its own or its window has closed (one answer
/// for all three, so the answer tells nothing). The row is the
/// transaction's from then on (see [`locked!`]): a moderator's decision
/// made meanwhile is not overwritten with the status read here.
macro_rules! opened {
    ($tx:expr, $begin:expr, $article:expr, $id:expr, $token:expr) => {{
        let found: Option<(Option<String>, Option<i64>, ReplyStatus)> = sqlx::query_as(locked!(
            $begin,
            "SELECT edit_token_hash, editable_until, status FROM replies \
             WHERE id = $1 AND article = $2"
        ))
        .bind($id.get())
        .bind($article)
        .fetch_optional(&mut *$tx)
        .await?;
        let now = Timestamp::now().millis();
        found.and_then(|(hash, until, status)| {
            let open = until.is_some_and(|until| now < until);
            let matches = hash.is_some_and(|hash| guard::token_matches($token, &hash));
            (open && matches).then_some(status)
        })
    }};
}

impl Database {
    /// Corrects reply `id` of `article` with the author's `token`: the
    /// fields given replace those stored. An approved reply goes back to
    /// `pending` (a moderator sees it again); one with too many links
    /// becomes spam. [`ReplyError::TokenRefused`] if the token does not
    /// open it; [`ReplyError::Invalid`] if the new body is that of another
    /// reply to the article from the last 24 hours, as when posting.
    pub async fn correct(
        &self,
        article: &str,
        id: ReplyId,
        token: &str,
        correction: &ReplyCorrection,
    ) -> Result<Reply, ReplyError> {
        let (live, corrected) = on_pool!(self, "correcting a reply", |pool, begin| {
            let mut tx = pool.begin_with(begin).await?;
            let Some(status) = opened!(tx, begin, article, id, token) else {
                return Ok(Corrected::Refused);
            };
            let current: Reply = sqlx::query_as(SELECT_REPLY)
                .bind(id.get())
                .fetch_one(&mut *tx)
                .await?;
            let body = correction.body.as_deref().unwrap_or(&current.body);
            if duplicate!(tx, begin, article, body, Some(id), Timestamp::now()) {
                return Ok(Corrected::Duplicate);
            }
            let was = status;
            let status = match was {
                _ if guard::links(body) > guard::MAX_LINKS => ReplyStatus::Spam,
                ReplyStatus::Approved => ReplyStatus::Pending,
                status => status,
            };
            // Shown until now, it waits for a moderator again.
            if was == ReplyStatus::Approved {
                outbox::announce_removed!(tx, begin, id.get(), article);
            }
            sqlx::query(
                "UPDATE replies SET author_name = COALESCE($1, author_name), \
                 author_email = CASE WHEN $2 THEN $3 ELSE author_email END, \
                 body = COALESCE($4, body), status = $5, updated_at = $6 WHERE id = $7",
            )
            .bind(correction.author_name.as_deref())
            .bind(correction.author_email.is_some())
            .bind(correction.author_email.clone().flatten())
            .bind(correction.body.as_deref())
            .bind(status.as_str())
            .bind(Timestamp::now().millis())
            .bind(id.get())
            .execute(&mut *tx)
            .await?;
            let corrected: Reply = sqlx::query_as(SELECT_REPLY)
                .bind(id.get())
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(Corrected::Done(corrected))
        })?;
        self.replies_changed(&live)?;
        match corrected {
            Corrected::Done(reply) => Ok(reply),
            Corrected::Refused => Err(ReplyError::TokenRefused),
            Corrected::Duplicate => Err(duplicate_body(article)),
        }
    }

    /// Withdraws (deletes) reply `id` of `article` with the author's
    /// `token`; [`ReplyError::TokenRefused`] if the token does not open it.
    pub async fn withdraw(
        &self,
        article: &str,
        id: ReplyId,
        token: &str,
    ) -> Result<(), ReplyError> {
        let (live, withdrawn) = on_pool!(self, "withdrawing a reply", |pool, begin| {
            let mut tx = pool.begin_with(begin).await?;
            if opened!(tx, begin, article, id, token).is_none() {
                return Ok(false);
            }
            let deleted = deleted!(tx, begin, id);
            tx.commit().await?;
            Ok::<_, sqlx::Error>(deleted)
        })?;
        self.replies_changed(&live)?;
        withdrawn.then_some(()).ok_or(ReplyError::TokenRefused)
    }

    /// Every reply sent with this e-mail address (compared without regard
    /// to case), oldest first, whatever its status.
    pub async fn by_author(&self, email: &str) -> Result<Vec<ModeratedReply>, ReplyError> {
        let query = concat!(
            "SELECT ",
            moderated_columns!(),
            " FROM replies WHERE lower(author_email) = lower($1) ORDER BY id"
        );
        on_pool!(self, "finding a person's replies", |pool, _begin| {
            sqlx::query_as(query).bind(email).fetch_all(pool).await
        })
        .map(|(_, replies)| replies)
    }

    /// Erases every reply sent with this e-mail address, and the events
    /// that carried their text; returns how many replies there were.
    pub async fn erase_author(&self, email: &str) -> Result<u64, ReplyError> {
        let (live, erased) = on_pool!(self, "erasing a person's replies", |pool, begin| {
            let mut tx = pool.begin_with(begin).await?;
            let replies: Vec<(i64, String, ReplyStatus)> = sqlx::query_as(locked!(
                begin,
                "SELECT id, article, status FROM replies WHERE lower(author_email) = lower($1)"
            ))
            .bind(email)
            .fetch_all(&mut *tx)
            .await?;
            for (id, article, status) in &replies {
                // A reply event's data names its reply first: "data":{"id":N,...
                let carried = format!("%\"data\":{{\"id\":{id},%");
                sqlx::query(
                    "DELETE FROM webhook_deliveries WHERE event_seq IN \
                     (SELECT seq FROM events WHERE type LIKE 'reply.%' AND payload LIKE $1)",
                )
                .bind(&carried)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM events WHERE type LIKE 'reply.%' AND payload LIKE $1")
                    .bind(&carried)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM replies WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                // Announced after the events above are gone: it carries
                // nothing of the person, and front ends must drop the text.
                if *status == ReplyStatus::Approved {
                    outbox::announce_removed!(tx, begin, *id, article.as_str());
                }
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(replies.len() as u64)
        })?;
        self.replies_changed(&live)?;
        Ok(erased)
    }
}

/// What correcting a reply came to.
enum Corrected {
    Done(Reply),
    /// The token does not open the reply.
    Refused,
    /// The new body is another reply's.
    Duplicate,
}

/// One reply, as [`Reply`].
const SELECT_REPLY: &str =
    "SELECT id, parent_id, author_name, body, created_at FROM replies WHERE id = $1";
