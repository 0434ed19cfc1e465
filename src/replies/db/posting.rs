//! Taking a reply in: the shared rate limit's counts, Idempotency-Keys
//! (a retried post is answered as the first was), the same body not
//! stored twice, and the reply stored with its `reply.submitted` event in
//! one transaction.

use std::net::IpAddr;

use sha2::{Digest, Sha256};
use tracing::Instrument as _;

use super::{
    DUPLICATE_LOCK, DUPLICATE_WINDOW_MS, Database, KEY_LIFETIME_MS, Pool, db_span, now_millis,
    outbox, unavailable,
};
use crate::events::{EventType, NewEvent, ReplyEvent};
use crate::replies::{
    NewReply, ReplyError, ReplyId, ReplyReceipt, ReplyStatus, Timestamp, Violation,
    guard::{self, Secret},
};

/// The 422 for a body [`duplicate!`] found.
pub(super) fn duplicate_body(article: &str) -> ReplyError {
    ReplyError::Invalid {
        detail: "the reply is not valid: 1 problem, listed in `errors`".into(),
        violations: vec![Violation::new(
            "body",
            "duplicate",
            format!(
                "is the same as a reply to `{article}` from the last 24 hours; it is not stored twice"
            ),
        )],
    }
}

/// A client's posts in the current window of the shared rate limit.
#[derive(Debug, Clone, Copy)]
pub struct PostCount {
    /// Posts in this window, the one just counted included.
    pub current: u32,
    /// Posts in the window before.
    pub previous: u32,
    /// How far into this window now is, in milliseconds.
    pub elapsed_ms: i64,
    /// When this window began (milliseconds since the epoch): its key.
    pub window_start: i64,
}

/// What storing a reply came to.
#[derive(Debug, Clone)]
pub enum Created {
    /// Stored now.
    New(ReplyReceipt),
    /// Stored by an earlier request with the same Idempotency-Key and body:
    /// its answer, again.
    Replayed(ReplyReceipt),
}

/// One reply to store.
pub struct Submission<'a> {
    pub article: &'a str,
    pub reply: &'a NewReply,
    pub client: IpAddr,
    pub idempotency_key: Option<&'a str>,
    /// `pending`, or `spam` when the form said a bot sent it: stored so,
    /// and answered as any other.
    pub status: ReplyStatus,
    /// Derives the reply's edit token.
    pub secret: &'a Secret,
}

/// What the transaction that stores a reply came to.
enum Outcome {
    Stored(i64),
    ParentNotApproved(ReplyId),
    /// The article has the same body from within the last day.
    Duplicate,
    /// Another request with the same Idempotency-Key was stored first.
    KeyTaken,
}

impl Submission<'_> {
    /// What identifies the request for Idempotency-Key purposes.
    fn fingerprint(&self) -> String {
        fingerprint(self.article, self.reply)
    }
}

/// An Idempotency-Key as stored with the reply it created.
#[derive(sqlx::FromRow)]
struct StoredKey {
    fingerprint: String,
    reply_id: i64,
    reply_created_at: i64,
    /// Whether that reply is still stored (a moderator may have deleted it).
    reply_exists: bool,
    /// The hash of its edit token.
    edit_token_hash: Option<String>,
    editable_until: Option<i64>,
}

impl Database {
    /// Counts one post by `client` in the fixed window of `window_ms` that
    /// holds now: the posts counted in this window (this one included) and
    /// in the one before, and how far into this window now is. The count
    /// is one atomic upsert, so instances posting at once count every post.
    pub async fn count_post(&self, client: &str, window_ms: i64) -> Result<PostCount, ReplyError> {
        let now = now_millis();
        let window = now - now.rem_euclid(window_ms);
        let (_, (current, previous)) = on_pool!(self, "counting a post", |pool, _begin| {
            let current: i32 = sqlx::query_scalar(
                "INSERT INTO post_counts (client, window_start, posts) VALUES ($1, $2, 1) \
                 ON CONFLICT (client, window_start) DO UPDATE SET posts = post_counts.posts + 1 \
                 RETURNING posts",
            )
            .bind(client)
            .bind(window)
            .fetch_one(pool)
            .await?;
            let previous: Option<i32> = sqlx::query_scalar(
                "SELECT posts FROM post_counts WHERE client = $1 AND window_start = $2",
            )
            .bind(client)
            .bind(window - window_ms)
            .fetch_optional(pool)
            .await?;
            Ok::<_, sqlx::Error>((current, previous.unwrap_or(0)))
        })?;
        Ok(PostCount {
            current: u32::try_from(current).unwrap_or(0),
            previous: u32::try_from(previous).unwrap_or(0),
            elapsed_ms: now - window,
            window_start: window,
        })
    }

    /// Takes back a post counted by [`Database::count_post`] that was
    /// refused, so that waiting is enough to post again.
    pub async fn uncount_post(&self, client: &str, count: &PostCount) -> Result<(), ReplyError> {
        let window = count.window_start;
        on_pool!(self, "uncounting a post", |pool, _begin| {
            sqlx::query(
                "UPDATE post_counts SET posts = posts - 1 \
                 WHERE client = $1 AND window_start = $2 AND posts > 0",
            )
            .bind(client)
            .bind(window)
            .execute(pool)
            .await
            .map(|_| ())
        })
        .map(|_| ())
    }

    /// Deletes the post counts older than the window before the current one.
    pub async fn forget_post_counts(&self, window_ms: i64) -> Result<(), ReplyError> {
        let now = now_millis();
        let before = now - now.rem_euclid(window_ms) - window_ms;
        on_pool!(self, "forgetting post counts", |pool, _begin| {
            sqlx::query("DELETE FROM post_counts WHERE window_start < $1")
                .bind(before)
                .execute(pool)
                .await
                .map(|_| ())
        })
        .map(|_| ())
    }

    /// The stored answer to `submission` if its Idempotency-Key was used
    /// before: asked first, so that a retry is answered however many posts
    /// the client has made since.
    pub async fn replayed(
        &self,
        submission: &Submission<'_>,
    ) -> Result<Option<Created>, ReplyError> {
        let Some(key) = submission.idempotency_key else {
            return Ok(None);
        };
        match self.stored_key(key).await? {
            Some(stored) => replay(stored, &submission.fingerprint(), submission.secret).map(Some),
            None => Ok(None),
        }
    }

    /// Stores a reply as pending, in one transaction with its
    /// Idempotency-Key; returns once it is committed.
    pub async fn create(&self, submission: Submission<'_>) -> Result<Created, ReplyError> {
        if let Some(replayed) = self.replayed(&submission).await? {
            return Ok(replayed);
        }
        let key = submission
            .idempotency_key
            .map(|key| (key, submission.fingerprint()));

        let now = Timestamp::now();
        let reply = submission.reply;
        let (live, outcome) = on_pool!(self, "storing a reply", |pool, begin| {
            let mut tx = pool.begin_with(begin).await?;
            if let Some(parent) = reply.parent_id {
                let found: Option<(String, ReplyStatus)> =
                    sqlx::query_as("SELECT article, status FROM replies WHERE id = $1")
                        .bind(parent.get())
                        .fetch_optional(&mut *tx)
                        .await?;
                let approved = found.is_some_and(|(article, status)| {
                    article == submission.article && status == ReplyStatus::Approved
                });
                if !approved {
                    return Ok(Outcome::ParentNotApproved(parent));
                }
            }
            if duplicate!(tx, begin, submission.article, &reply.body, None, now) {
                return Ok(Outcome::Duplicate);
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO replies \
                 (article, parent_id, author_name, author_email, body, status, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(submission.article)
            .bind(reply.parent_id.map(ReplyId::get))
            .bind(&reply.author_name)
            .bind(&reply.author_email)
            .bind(&reply.body)
            .bind(submission.status.as_str())
            .bind(now.millis())
            .bind(now.millis())
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE replies SET edit_token_hash = $1, editable_until = $2 WHERE id = $3",
            )
            .bind(guard::token_hash(
                &submission.secret.edit_token(id, now.millis()),
            ))
            .bind(guard::editable_until(now.millis()))
            .bind(id)
            .execute(&mut *tx)
            .await?;
            let submitted = NewEvent::new(
                EventType::ReplySubmitted,
                ReplyEvent {
                    id,
                    article: submission.article.to_owned(),
                    parent_id: reply.parent_id.map(ReplyId::get),
                    author_name: reply.author_name.clone(),
                    body: reply.body.clone(),
                },
            );
            // Spam is no moderation tool's business.
            if submission.status != ReplyStatus::Spam {
                outbox::announce!(tx, begin, &submitted);
            }
            if let Some((key, fingerprint)) = &key {
                sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
                    .bind(now.millis() - KEY_LIFETIME_MS)
                    .execute(&mut *tx)
                    .await?;
                let inserted = sqlx::query(
                    "INSERT INTO idempotency_keys \
                     (key, fingerprint, reply_id, article, reply_created_at, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO NOTHING",
                )
                .bind(*key)
                .bind(fingerprint)
                .bind(id)
                .bind(submission.article)
                .bind(now.millis())
                .bind(now.millis())
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if inserted == 0 {
                    tx.rollback().await?;
                    return Ok(Outcome::KeyTaken);
                }
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(Outcome::Stored(id))
        })?;
        match outcome {
            Outcome::Stored(id) => {
                self.announced();
                // Committed, but to the file at the configured path? If it
                // was deleted meanwhile, the reply went with it: a retry
                // with the same key stores it again in the new file.
                self.still_there(&live)?;
                Ok(Created::New(ReplyReceipt::new(
                    id,
                    now,
                    Some(submission.secret.edit_token(id, now.millis())),
                )))
            }
            // The first of concurrent retries with one key may have stored
            // this very body: then this is its retry, answered as it was.
            Outcome::Duplicate if let Some(stored) = self.replayed(&submission).await? => {
                Ok(stored)
            }
            Outcome::Duplicate => Err(duplicate_body(submission.article)),
            Outcome::ParentNotApproved(parent) => Err(ReplyError::Invalid {
                detail: "the reply is not valid: 1 problem, listed in `errors`".into(),
                violations: vec![Violation::new(
                    "parent_id",
                    "approved_parent",
                    format!(
                        "must be the id of an approved reply to `{}`; {parent} is not",
                        submission.article
                    ),
                )],
            }),
            Outcome::KeyTaken => {
                // A request with the same key committed first: answer as it did.
                let (key, fingerprint) = key.expect("only a keyed request can find its key taken");
                let stored = self.stored_key(key).await?.ok_or_else(|| {
                    tracing::error!(
                        "replies database: an Idempotency-Key was taken, then not found"
                    );
                    unavailable(1)
                })?;
                replay(stored, &fingerprint, submission.secret)
            }
        }
    }

    async fn stored_key(&self, key: &str) -> Result<Option<StoredKey>, ReplyError> {
        let oldest = Timestamp::now().millis() - KEY_LIFETIME_MS;
        let query = "SELECT k.fingerprint, k.reply_id, k.reply_created_at, \
                     (r.id IS NOT NULL) AS reply_exists, r.edit_token_hash, r.editable_until \
                     FROM idempotency_keys k LEFT JOIN replies r ON r.id = k.reply_id \
                     WHERE k.key = $1 AND k.created_at >= $2";
        on_pool!(self, "reading an Idempotency-Key", |pool, _begin| {
            sqlx::query_as(query)
                .bind(key)
                .bind(oldest)
                .fetch_optional(pool)
                .await
        })
        .map(|(_, stored)| stored)
    }
}

/// The answer to a request whose Idempotency-Key is already stored: the
/// first answer if the request is the same, else 422; 409 if the reply it
/// stored has since been deleted (a 202 would point at nothing, and storing
/// it again would undo the moderator).
fn replay(stored: StoredKey, fingerprint: &str, secret: &Secret) -> Result<Created, ReplyError> {
    if stored.fingerprint != fingerprint {
        return Err(ReplyError::Invalid {
            detail: "this Idempotency-Key was already used for a different request (another body \
                     or article); send a new key for a new reply"
                .into(),
            violations: Vec::new(),
        });
    }
    if !stored.reply_exists {
        return Err(ReplyError::Conflict(format!(
            "the reply stored with this Idempotency-Key ({}) has been deleted by a moderator; \
             it is not stored again",
            stored.reply_id
        )));
    }
    // The same edit token again, while the window is open and this
    // server's secret is the one that made it.
    let token = secret.edit_token(stored.reply_id, stored.reply_created_at);
    let open = stored
        .editable_until
        .is_some_and(|until| until > now_millis());
    let token = stored
        .edit_token_hash
        .filter(|hash| open && guard::token_matches(&token, hash))
        .map(|_| token);
    Ok(Created::Replayed(ReplyReceipt::new(
        stored.reply_id,
        Timestamp::from(stored.reply_created_at),
        token,
    )))
}

/// What identifies a request for Idempotency-Key purposes: the article and
/// the reply as validated (so whitespace between JSON tokens does not count).
fn fingerprint(article: &str, reply: &NewReply) -> String {
    let mut hasher = Sha256::new();
    hasher.update(article.as_bytes());
    hasher.update([0]);
    hasher.update(serde_json::to_vec(reply).expect("a reply always serializes"));
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_reply_has_the_same_fingerprint_per_article() {
        let reply = NewReply {
            author_name: "Dana".into(),
            author_email: None,
            body: "Hi".into(),
            parent_id: None,
        };
        assert_eq!(fingerprint("a", &reply), fingerprint("a", &reply));
        assert_ne!(fingerprint("a", &reply), fingerprint("b", &reply));
    }
}
