//! The replies database: SQLite, embedded (the default), or PostgreSQL, so
//! that several stateless instances can share replies.
//!
//! One set of SQL serves both: the schemas store the same types (integers,
//! text, times as epoch milliseconds), and `$N` parameters work in both.
//! The pool is opened lazily and the migrations run on first use (and at
//! start, by [`Database::ready`]), so a database that is down when the
//! server starts, or goes down later, makes replies answer 503 while the
//! article content, which never touches it, is still served.

use std::{net::IpAddr, str::FromStr, time::Duration};

use sha2::{Digest, Sha256};
use sqlx::{
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPool, PgPoolOptions},
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
    },
};

use super::{ModeratedReply, NewReply, Reply, ReplyId, ReplyReceipt, ReplyStatus, Timestamp};
use crate::error::{ApiError, FieldError};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// How long a request waits for a database connection before it answers 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
/// How long an Idempotency-Key is remembered (as Stripe does).
const KEY_LIFETIME_MS: i64 = 24 * 60 * 60 * 1000;

/// The `--database-url` is not one this server can use.
#[derive(Debug, thiserror::Error)]
#[error("--database-url `{url}`: {reason}")]
pub struct DatabaseUrlError {
    url: String,
    reason: String,
}

/// The replies database: a connection pool, opened lazily.
pub struct Database {
    pool: Pool,
    /// Set once the migrations have run; until then each use tries again.
    migrated: tokio::sync::OnceCell<()>,
    /// The URL without its password, for the log.
    display: String,
}

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to whichever pool this is and `$begin`
/// to the statement that opens a write transaction on it. SQLite's
/// `BEGIN IMMEDIATE` takes the write lock up front, so a transaction that
/// reads before it writes waits for other writers instead of failing.
macro_rules! on_pool {
    ($db:expr, |$pool:ident, $begin:ident| $body:expr) => {
        match &$db.pool {
            Pool::Sqlite($pool) => {
                #[allow(unused_variables)]
                let $begin = "BEGIN IMMEDIATE";
                async { $body }.await
            }
            Pool::Postgres($pool) => {
                #[allow(unused_variables)]
                let $begin = "BEGIN";
                async { $body }.await
            }
        }
    };
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
}

/// What the transaction that stores a reply came to.
enum Outcome {
    Stored(i64),
    ParentNotApproved(ReplyId),
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
}

const MODERATED_COLUMNS: &str =
    "id, article, parent_id, author_name, author_email, body, status, created_at, updated_at";

impl Database {
    /// Opens a pool for `url` (`sqlite:...` or `postgres://...`) without
    /// connecting yet. SQLite files (and their directory) are created on
    /// first use, in WAL mode with `synchronous=FULL`: a commit is on disk
    /// when it returns.
    pub fn connect(url: &str) -> Result<Self, DatabaseUrlError> {
        let error = |reason: String| DatabaseUrlError {
            url: redact(url),
            reason,
        };
        let pool = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| error(e.to_string()))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5));
            let file = options.get_filename();
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            if !in_memory && let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| error(format!("cannot create {}: {e}", dir.display())))?;
            }
            let pool = SqlitePoolOptions::new().acquire_timeout(ACQUIRE_TIMEOUT);
            // An in-memory database lives as long as a connection to it:
            // one connection, never closed for idleness or age.
            let pool = if in_memory {
                pool.max_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
            } else {
                pool.max_connections(8)
            };
            Pool::Sqlite(pool.connect_lazy_with(options))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url).map_err(|e| error(e.to_string()))?;
            Pool::Postgres(
                PgPoolOptions::new()
                    .max_connections(10)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_lazy_with(options),
            )
        } else {
            return Err(error(
                "expected `sqlite:PATH`, `sqlite::memory:` or `postgres://...`".into(),
            ));
        };
        Ok(Self {
            pool,
            migrated: tokio::sync::OnceCell::new(),
            display: redact(url),
        })
    }

    /// The URL, without its password.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// Runs the migrations if they have not run yet; fails (503) while the
    /// database cannot be reached.
    pub async fn ready(&self) -> Result<(), ApiError> {
        self.migrated
            .get_or_try_init(|| async {
                let result = match &self.pool {
                    Pool::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await,
                    Pool::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
                };
                match result {
                    Ok(()) => {
                        tracing::info!(database = %self.display, "replies database ready");
                        Ok(())
                    }
                    Err(error) => {
                        tracing::error!(database = %self.display, "replies database: migrations failed: {error}");
                        Err(unavailable())
                    }
                }
            })
            .await
            .map(|_| ())
    }

    /// The stored answer to `submission` if its Idempotency-Key was used
    /// before: asked first, so that a retry is answered however many posts
    /// the client has made since.
    pub async fn replayed(&self, submission: &Submission<'_>) -> Result<Option<Created>, ApiError> {
        let Some(key) = submission.idempotency_key else {
            return Ok(None);
        };
        self.ready().await?;
        match self.stored_key(key).await? {
            Some(stored) => replay(stored, &submission.fingerprint()).map(Some),
            None => Ok(None),
        }
    }

    /// Stores a reply as pending, in one transaction with its
    /// Idempotency-Key; returns once it is committed.
    pub async fn create(&self, submission: Submission<'_>) -> Result<Created, ApiError> {
        if let Some(replayed) = self.replayed(&submission).await? {
            return Ok(replayed);
        }
        let key = submission
            .idempotency_key
            .map(|key| (key, submission.fingerprint()));

        let now = Timestamp::now();
        let reply = submission.reply;
        let outcome: Result<Outcome, sqlx::Error> = on_pool!(self, |pool, begin| {
            let mut tx = pool.begin_with(begin).await?;
            if let Some(parent) = reply.parent_id {
                let found: Option<(String, String)> =
                    sqlx::query_as("SELECT article, status FROM replies WHERE id = $1")
                        .bind(parent.get())
                        .fetch_optional(&mut *tx)
                        .await?;
                let approved = found.is_some_and(|(article, status)| {
                    article == submission.article && status == ReplyStatus::Approved.as_str()
                });
                if !approved {
                    return Ok(Outcome::ParentNotApproved(parent));
                }
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO replies \
                 (article, parent_id, author_name, author_email, body, status, client_addr, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8) RETURNING id",
            )
            .bind(submission.article)
            .bind(reply.parent_id.map(ReplyId::get))
            .bind(&reply.author_name)
            .bind(&reply.author_email)
            .bind(&reply.body)
            .bind(submission.client.to_string())
            .bind(now.millis())
            .bind(now.millis())
            .fetch_one(&mut *tx)
            .await?;
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
        });
        match outcome.map_err(|e| failed("storing a reply", e))? {
            Outcome::Stored(id) => Ok(Created::New(ReplyReceipt {
                id,
                status: ReplyStatus::Pending,
                created_at: now.to_string(),
            })),
            Outcome::ParentNotApproved(parent) => Err(ApiError::unprocessable(
                "the reply is not valid: 1 problem, listed in `errors`",
                vec![FieldError::new(
                    "parent_id",
                    "approved_parent",
                    format!(
                        "must be the id of an approved reply to `{}`; {parent} is not",
                        submission.article
                    ),
                )],
            )),
            Outcome::KeyTaken => {
                // A request with the same key committed first: answer as it did.
                let (key, fingerprint) = key.expect("only a keyed request can find its key taken");
                let stored = self
                    .stored_key(key)
                    .await?
                    .ok_or_else(|| failed_plain("an Idempotency-Key was taken, then not found"))?;
                replay(stored, &fingerprint)
            }
        }
    }

    async fn stored_key(&self, key: &str) -> Result<Option<StoredKey>, ApiError> {
        let oldest = Timestamp::now().millis() - KEY_LIFETIME_MS;
        let query = "SELECT k.fingerprint, k.reply_id, k.reply_created_at, \
                     (r.id IS NOT NULL) AS reply_exists \
                     FROM idempotency_keys k LEFT JOIN replies r ON r.id = k.reply_id \
                     WHERE k.key = $1 AND k.created_at >= $2";
        on_pool!(self, |pool, _begin| sqlx::query_as(query)
            .bind(key)
            .bind(oldest)
            .fetch_optional(pool)
            .await)
        .map_err(|e| failed("reading an Idempotency-Key", e))
    }

    /// One page of an article's approved replies, oldest first, and how many there are.
    pub async fn approved(
        &self,
        article: &str,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<Reply>, usize), ApiError> {
        self.ready().await?;
        let items = "SELECT id, parent_id, author_name, body, created_at FROM replies \
                     WHERE article = $1 AND status = 'approved' ORDER BY id LIMIT $2 OFFSET $3";
        let count = "SELECT COUNT(*) FROM replies WHERE article = $1 AND status = 'approved'";
        let result: Result<(Vec<Reply>, i64), sqlx::Error> = on_pool!(self, |pool, _begin| {
            let items = sqlx::query_as(items)
                .bind(article)
                .bind(to_i64(limit))
                .bind(to_i64(offset))
                .fetch_all(pool)
                .await?;
            let total = sqlx::query_scalar(count)
                .bind(article)
                .fetch_one(pool)
                .await?;
            Ok::<_, sqlx::Error>((items, total))
        });
        let (items, total) = result.map_err(|e| failed("listing replies", e))?;
        Ok((items, usize::try_from(total).unwrap_or(0)))
    }

    /// One approved reply of an article.
    pub async fn approved_one(
        &self,
        article: &str,
        id: ReplyId,
    ) -> Result<Option<Reply>, ApiError> {
        self.ready().await?;
        let query = "SELECT id, parent_id, author_name, body, created_at FROM replies \
                     WHERE article = $1 AND id = $2 AND status = 'approved'";
        on_pool!(self, |pool, _begin| sqlx::query_as(query)
            .bind(article)
            .bind(id.get())
            .fetch_optional(pool)
            .await)
        .map_err(|e| failed("reading a reply", e))
    }

    /// One page of the replies in `status`, oldest first, and how many there are.
    pub async fn by_status(
        &self,
        status: ReplyStatus,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<ModeratedReply>, usize), ApiError> {
        self.ready().await?;
        let items = format!(
            "SELECT {MODERATED_COLUMNS} FROM replies WHERE status = $1 ORDER BY id LIMIT $2 OFFSET $3"
        );
        let count = "SELECT COUNT(*) FROM replies WHERE status = $1";
        let result: Result<(Vec<ModeratedReply>, i64), sqlx::Error> =
            on_pool!(self, |pool, _begin| {
                let items = sqlx::query_as(&items)
                    .bind(status.as_str())
                    .bind(to_i64(limit))
                    .bind(to_i64(offset))
                    .fetch_all(pool)
                    .await?;
                let total = sqlx::query_scalar(count)
                    .bind(status.as_str())
                    .fetch_one(pool)
                    .await?;
                Ok::<_, sqlx::Error>((items, total))
            });
        let (items, total) = result.map_err(|e| failed("listing replies", e))?;
        Ok((items, usize::try_from(total).unwrap_or(0)))
    }

    /// One reply, whatever its status.
    pub async fn moderated(&self, id: ReplyId) -> Result<Option<ModeratedReply>, ApiError> {
        self.ready().await?;
        let query = format!("SELECT {MODERATED_COLUMNS} FROM replies WHERE id = $1");
        on_pool!(self, |pool, _begin| sqlx::query_as(&query)
            .bind(id.get())
            .fetch_optional(pool)
            .await)
        .map_err(|e| failed("reading a reply", e))
    }

    /// Sets a reply's status; `None` if there is no such reply.
    pub async fn set_status(
        &self,
        id: ReplyId,
        status: ReplyStatus,
    ) -> Result<Option<ModeratedReply>, ApiError> {
        self.ready().await?;
        let query = format!(
            "UPDATE replies SET status = $1, updated_at = $2 WHERE id = $3 RETURNING {MODERATED_COLUMNS}"
        );
        on_pool!(self, |pool, _begin| sqlx::query_as(&query)
            .bind(status.as_str())
            .bind(Timestamp::now().millis())
            .bind(id.get())
            .fetch_optional(pool)
            .await)
        .map_err(|e| failed("moderating a reply", e))
    }

    /// Deletes a reply for good; replies that answered it stay, without a
    /// parent. `false` if there was no such reply.
    pub async fn delete(&self, id: ReplyId) -> Result<bool, ApiError> {
        self.ready().await?;
        let query = "DELETE FROM replies WHERE id = $1";
        on_pool!(self, |pool, _begin| sqlx::query(query)
            .bind(id.get())
            .execute(pool)
            .await
            .map(|done| done.rows_affected() > 0))
        .map_err(|e| failed("deleting a reply", e))
    }
}

/// The answer to a request whose Idempotency-Key is already stored: the
/// first answer if the request is the same, else 422; 409 if the reply it
/// stored has since been deleted (a 202 would point at nothing, and storing
/// it again would undo the moderator).
fn replay(stored: StoredKey, fingerprint: &str) -> Result<Created, ApiError> {
    if stored.fingerprint != fingerprint {
        return Err(ApiError::unprocessable(
            "this Idempotency-Key was already used for a different request (another body or \
             article); send a new key for a new reply",
            Vec::new(),
        ));
    }
    if !stored.reply_exists {
        return Err(ApiError::Conflict(format!(
            "the reply stored with this Idempotency-Key ({}) has been deleted by a moderator; \
             it is not stored again",
            stored.reply_id
        )));
    }
    Ok(Created::Replayed(ReplyReceipt {
        id: stored.reply_id,
        status: ReplyStatus::Pending,
        created_at: Timestamp::from(stored.reply_created_at).to_string(),
    }))
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

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The 503 every database failure becomes: the client learns that replies
/// are down, not why.
fn unavailable() -> ApiError {
    ApiError::Unavailable(
        "replies are unavailable right now (their database cannot be reached); \
         article content is still served"
            .into(),
    )
}

/// Logs a database failure with what was being done, and answers 503.
fn failed(doing: &str, error: sqlx::Error) -> ApiError {
    tracing::error!("replies database: {doing} failed: {error}");
    unavailable()
}

fn failed_plain(what: &str) -> ApiError {
    tracing::error!("replies database: {what}");
    unavailable()
}

/// `url` with any password replaced by `***`.
fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((credentials, host)) if credentials.contains(':') => {
                let user = credentials.split(':').next().unwrap_or_default();
                format!("{scheme}://{user}:***@{host}")
            }
            _ => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_the_log() {
        assert_eq!(
            redact("postgres://relief:s3cret@db:5432/relief"),
            "postgres://relief:***@db:5432/relief"
        );
        assert_eq!(redact("sqlite://replies.db"), "sqlite://replies.db");
    }

    #[test]
    fn only_sqlite_and_postgres_urls_are_taken() {
        let error = Database::connect("mysql://localhost/db").err().unwrap();
        assert!(
            error.to_string().contains("expected `sqlite:PATH`"),
            "{error}"
        );
    }

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
