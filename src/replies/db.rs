//! The replies database: SQLite, embedded (the default), or PostgreSQL, so
//! that several stateless instances can share replies.
//!
//! One set of SQL serves both: the schemas store the same types (integers,
//! text, times as epoch milliseconds), and `$N` parameters work in both.
//! The pool is opened lazily and the migrations run on first use (and at
//! start, by [`Database::ready`]), so a database that is down when the
//! server starts, or goes down later, makes replies answer 503 while the
//! article content, which never touches it, is still served.
//!
//! Recovery needs no restart. After a connection failure the database is
//! taken to be down for [`DOWN_FOR`]: requests answer 503 with
//! `Retry-After` at once, then one request tries again. A SQLite pool whose
//! file fails (I/O, read-only, corrupt) or is no longer the file at the
//! configured path (deleted or replaced: checked by device and inode) is
//! replaced by a new one, so that a 202 always means the reply is on disk
//! where the operator looks for it. The new pool opens no connection until
//! the old one is closed, and work that failed on the old one without
//! writing anything runs once more on the new one.

use std::{
    path::{Path, PathBuf},
    str::FromStr,
    sync::{
        Arc, OnceLock,
        atomic::{AtomicI64, AtomicU64, Ordering},
    },
    time::Duration,
};

use arc_swap::ArcSwap;
use tracing::Instrument as _;

use sqlx::{
    Connection as _,
    migrate::Migrator,
    postgres::{PgConnectOptions, PgConnection, PgListener, PgPool, PgPoolOptions, PgSslMode},
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
    },
};

use super::{Reply, ReplyError, ReplyId, Timestamp, guard};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// How long a request waits for a database connection before it answers 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
/// How long the database is taken to be down after a connection failed:
/// meanwhile requests answer 503 at once instead of waiting
/// [`ACQUIRE_TIMEOUT`] each, and `Retry-After` says how long is left.
const DOWN_FOR: Duration = Duration::from_secs(5);
/// The PostgreSQL channel on which changes to replies are announced (by a
/// trigger: `migrations/postgres/0003_notify_reply_changes.sql`).
const CHANGES_CHANNEL: &str = "relief_replies";
/// The PostgreSQL channel on which writes to the outbox are announced (by
/// a trigger: `migrations/postgres/0007_notify_events.sql`).
const EVENTS_CHANNEL: &str = "relief_events";
/// How long the listener waits before trying a lost connection again.
const LISTEN_RETRY: Duration = Duration::from_secs(1);
/// How long an Idempotency-Key is remembered (as Stripe does).
const KEY_LIFETIME_MS: i64 = 24 * 60 * 60 * 1000;
/// The same body to the same article is refused for this long.
const DUPLICATE_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;
/// The first key of the PostgreSQL advisory locks that make posts of one
/// body take turns (the second is the body's hash).
const DUPLICATE_LOCK: i32 = 7414;

/// The `--database-url` is not one this server can use.
#[derive(Debug, thiserror::Error)]
#[error("--database-url `{url}`: {reason}")]
pub struct DatabaseUrlError {
    url: String,
    reason: String,
}

/// PostgreSQL's certificate did not verify under the URL's `sslmode`:
/// the server must not start, rather than talk to a server it cannot trust
/// (or, for `prefer`, fall back to plain text without saying so).
#[derive(Debug, thiserror::Error)]
#[error(
    "--database-url `{url}`: TLS with sslmode={mode} failed: {reason} \
     (give the server's CA with --database-ca-file or sslrootcert=PATH in the URL)"
)]
pub struct DatabaseTlsError {
    url: String,
    mode: &'static str,
    reason: String,
}

/// Why TLS failed, if that is what `error` is: sqlx reports a certificate
/// that does not verify as an I/O error around rustls's error.
fn tls_failure(error: &sqlx::Error) -> Option<String> {
    match error {
        sqlx::Error::Tls(reason) => Some(reason.to_string()),
        sqlx::Error::Io(io) => io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            .map(ToString::to_string),
        _ => None,
    }
}

/// The name libpq gives `mode` in a URL.
fn mode_name(mode: PgSslMode) -> &'static str {
    match mode {
        PgSslMode::Disable => "disable",
        PgSslMode::Allow => "allow",
        PgSslMode::Prefer => "prefer",
        PgSslMode::Require => "require",
        PgSslMode::VerifyCa => "verify-ca",
        PgSslMode::VerifyFull => "verify-full",
    }
}

/// The replies database: a connection pool, opened lazily.
pub struct Database {
    /// The pool in use; replaced whole when its SQLite file fails.
    live: ArcSwap<Live>,
    /// How to open the pool again: set for a SQLite file, `None` for an
    /// in-memory database (which a new pool would empty) and PostgreSQL
    /// (whose pool drops broken connections itself).
    file: Option<SqliteFile>,
    /// Until when (milliseconds since the epoch) the database is taken to
    /// be down; 0 when it is up.
    down_until: AtomicI64,
    /// The URL without its password, for the log.
    display: String,
    /// Counts the changes to which replies are approved (a moderator's
    /// decision, a deletion, a new pool): caches of approved replies key
    /// their entries by it (see [`Database::approved_version`]).
    approved_version: AtomicU64,
    /// Wakes the outbox's worker when an event may have been written (see
    /// [`Database::announced`]).
    outbox_woken: tokio::sync::Notify,
    /// For PostgreSQL: how to connect, for [`Database::check_tls`].
    postgres: Option<PgConnectOptions>,
}

/// A pool, and what is known about the database behind it.
struct Live {
    pool: Pool,
    /// The pool this one replaced: it is closed before this one opens a
    /// connection. SQLite shares one lock and WAL index per file among a
    /// process's connections, so a connection opened while an old
    /// read-only one is still open would be read-only too.
    replaced: Option<Pool>,
    /// Set once the migrations have run; until then each use tries again.
    migrated: tokio::sync::OnceCell<()>,
    /// Set once its migrations have run: the SQLite file this pool opened
    /// (`None` for a database that is not a file).
    opened: OnceLock<Option<FileId>>,
}

impl Live {
    fn new(pool: Pool, replaced: Option<Pool>) -> Self {
        Self {
            pool,
            replaced,
            migrated: tokio::sync::OnceCell::new(),
            opened: OnceLock::new(),
        }
    }
}

/// A SQLite database in a file: how to open it, and where it is.
struct SqliteFile {
    options: SqliteConnectOptions,
    path: PathBuf,
}

impl SqliteFile {
    fn open(&self) -> Pool {
        Pool::Sqlite(
            SqlitePoolOptions::new()
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .max_connections(8)
                .connect_lazy_with(self.options.clone()),
        )
    }

    /// The device and inode the path names now, if it names a file.
    fn current(&self) -> Option<FileId> {
        FileId::of(&self.path)
    }
}

/// A file's identity: its device and inode (on Unix; elsewhere nothing is
/// compared).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId(u64, u64);

impl FileId {
    #[cfg(unix)]
    fn of(path: &std::path::Path) -> Option<Self> {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path)
            .ok()
            .map(|meta| Self(meta.dev(), meta.ino()))
    }

    #[cfg(not(unix))]
    fn of(_: &std::path::Path) -> Option<Self> {
        Some(Self(0, 0))
    }
}

/// SQLite's primary result code for a write to a database opened read-only.
const SQLITE_READONLY: i32 = 8;

/// What a database error says about the connection it came from.
#[derive(Debug, PartialEq, Eq)]
enum Failure {
    /// The database could not be reached (refused, timed out, dropped).
    Unreachable,
    /// The SQLite file failed: I/O, read-only, corrupt, not a database,
    /// cannot be opened, disk full. Connections that saw it are suspect.
    BrokenFile,
    /// Anything else: the query failed, the connection is fine.
    Query,
}

impl Failure {
    fn of(error: &sqlx::Error) -> Self {
        match error {
            // Only this server closes a pool: it replaced it with a new one
            // (a broken SQLite file), which a retry reaches. Taken for the
            // database being down, it made every post 503 for five seconds
            // after a replacement that raced requests in flight.
            sqlx::Error::PoolClosed => Self::Query,
            sqlx::Error::PoolTimedOut
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => Self::Unreachable,
            error => match sqlite_code(error) {
                // SQLITE_READONLY, IOERR, CORRUPT, FULL, CANTOPEN, NOTADB
                Some(SQLITE_READONLY | 10 | 11 | 13 | 14 | 26) => Self::BrokenFile,
                _ => Self::Query,
            },
        }
    }

    /// Whether `error` says that nothing was written, so that the same
    /// work may run again on another pool: the pool was closed before a
    /// connection was had (it was replaced), or the connection had opened
    /// a SQLite file it could not write (it was read-only then; SQLite
    /// does not open it again when it is writable).
    fn retry(error: &sqlx::Error) -> bool {
        matches!(error, sqlx::Error::PoolClosed) || sqlite_code(error) == Some(SQLITE_READONLY)
    }
}

/// SQLite's primary result code for `error`: SQLite reports its extended
/// code, whose low byte is the primary one. PostgreSQL's SQLSTATEs are not
/// numbers.
fn sqlite_code(error: &sqlx::Error) -> Option<i32> {
    let sqlx::Error::Database(error) = error else {
        return None;
    };
    let code = error.code()?.parse::<i32>().ok()?;
    Some(code & 0xff)
}

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Pool {
    /// Closes the pool: at once for idle connections, and for the others as
    /// they come back.
    async fn close(&self) {
        match self {
            Self::Sqlite(pool) => pool.close().await,
            Self::Postgres(pool) => pool.close().await,
        }
    }
}

/// Runs `$body` (a `Result<_, sqlx::Error>`) with `$pool` bound to
/// whichever pool is live and `$begin` to the statement that opens a write
/// transaction on it, after [`Database::live`]; a failure is settled by
/// [`Database::failed`] as `$doing`. SQLite's `BEGIN IMMEDIATE` takes the
/// write lock up front, so a transaction that reads before it writes waits
/// for other writers instead of failing.
///
/// A failure that wrote nothing and came from a pool since replaced (see
/// [`Database::failed_or_again`]) runs `$body` once more on the new pool: a
/// request should not answer 503 for a pool that is already put right.
macro_rules! on_pool {
    ($db:expr, $doing:expr, |$pool:ident, $begin:ident| $body:expr) => {{
        let mut retried = false;
        loop {
            let live = $db.live().await?;
            let result = match &live.pool {
                Pool::Sqlite($pool) => {
                    #[allow(unused_variables)]
                    let $begin = "BEGIN IMMEDIATE";
                    async { $body }.instrument(db_span($doing, "sqlite")).await
                }
                Pool::Postgres($pool) => {
                    #[allow(unused_variables)]
                    let $begin = "BEGIN";
                    async { $body }
                        .instrument(db_span($doing, "postgresql"))
                        .await
                }
            };
            match result {
                Ok(value) => {
                    $db.up();
                    break Ok((live, value));
                }
                Err(error) => match $db.failed_or_again(&live, $doing, &error, retried) {
                    Some(settled) => break Err(settled),
                    None => retried = true,
                },
            }
        }
    }};
}

/// Evaluates, in transaction `$tx`, to whether a reply to `$article` from
/// the last 24 hours (other than reply `$except`) has `$body`: the same
/// body is not stored twice. On PostgreSQL it first takes the body's lock,
/// held to the commit: at READ COMMITTED two writes of one body at once
/// would each find no other and both be stored; the lock makes them take
/// turns, and the second finds the first. SQLite's BEGIN IMMEDIATE already
/// makes writers take turns. The two-key form keeps these apart from the
/// outbox's one-key lock.
macro_rules! duplicate {
    ($tx:expr, $begin:expr, $article:expr, $body:expr, $except:expr, $now:expr) => {{
        if $begin == "BEGIN" {
            sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2 || chr(10) || $3))")
                .bind(DUPLICATE_LOCK)
                .bind($article)
                .bind($body)
                .execute(&mut *$tx)
                .await?;
        }
        let except: Option<ReplyId> = $except;
        sqlx::query_scalar::<_, i64>(
            "SELECT id FROM replies \
             WHERE article = $1 AND created_at >= $2 AND body = $3 AND id <> $4 LIMIT 1",
        )
        .bind($article)
        .bind($now.millis() - DUPLICATE_WINDOW_MS)
        .bind($body)
        .bind(except.map_or(0, ReplyId::get))
        .fetch_optional(&mut *$tx)
        .await?
        .is_some()
    }};
}

/// `$query` (a read of rows about to be written) as it is sent in a
/// transaction begun with `$begin`: on PostgreSQL `FOR UPDATE`, so that the
/// rows read stay as read until the commit (at READ COMMITTED another
/// writer could change them in between); SQLite's BEGIN IMMEDIATE already
/// makes writers take turns.
macro_rules! locked {
    ($begin:expr, $query:literal) => {
        if $begin == "BEGIN" {
            concat!($query, " FOR UPDATE")
        } else {
            $query
        }
    };
}

/// Deletes reply `$id` in transaction `$tx`, announcing `reply.removed`
/// if it was shown; evaluates to whether there was such a reply.
macro_rules! deleted {
    ($tx:expr, $begin:expr, $id:expr) => {{
        let id: $crate::replies::ReplyId = $id;
        let gone: Option<(String, $crate::replies::ReplyStatus)> =
            sqlx::query_as("DELETE FROM replies WHERE id = $1 RETURNING article, status")
                .bind(id.get())
                .fetch_optional(&mut *$tx)
                .await?;
        if let Some((article, _)) = gone
            .as_ref()
            .filter(|(_, status)| *status == $crate::replies::ReplyStatus::Approved)
        {
            outbox::announce_removed!($tx, $begin, id.get(), article);
        }
        gone.is_some()
    }};
}

/// The span of one database call (`doing`), a child of its request's;
/// exported only when tracing is on.
fn db_span(doing: &str, system: &str) -> tracing::Span {
    // Only within a request: the background work (recording the content
    // history, delivering webhooks) polls the database every few hundred
    // milliseconds and would fill the trace backend with root spans.
    if !crate::telemetry::exporting_spans() || tracing::Span::current().is_none() {
        return tracing::Span::none();
    }
    tracing::info_span!(
        target: crate::telemetry::SPAN_TARGET,
        "db",
        otel.name = doing,
        otel.kind = "client",
        db.system.name = system,
    )
}

/// The columns of a [`ModeratedReply`](crate::replies::ModeratedReply), as
/// a literal, so that the queries that name them are static strings
/// (`concat!`), which sqlx takes as safe.
macro_rules! moderated_columns {
    () => {
        "id, article, parent_id, author_name, author_email, body, status, created_at, updated_at"
    };
}

impl Database {
    /// Opens a pool for `url` (`sqlite:...` or `postgres://...`) without
    /// connecting yet. SQLite files (and their directory) are created on
    /// first use, in WAL mode with `synchronous=FULL`: a commit is on disk
    /// when it returns. PostgreSQL honours the URL's `sslmode` (libpq's
    /// modes, `prefer` by default) and trusts the certificates of
    /// `ca_file` (or the URL's `sslrootcert`) besides the public roots.
    pub fn connect(url: &str, ca_file: Option<&Path>) -> Result<Self, DatabaseUrlError> {
        let error = |reason: String| DatabaseUrlError {
            url: redact(url),
            reason,
        };
        let mut postgres = None;
        let (pool, file) = if url.starts_with("sqlite:") {
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
            if in_memory {
                // An in-memory database lives as long as a connection to it:
                // one connection, never closed for idleness or age.
                let pool = SqlitePoolOptions::new()
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .max_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .connect_lazy_with(options);
                (Pool::Sqlite(pool), None)
            } else {
                let path = file.to_owned();
                let file = SqliteFile { options, path };
                (file.open(), Some(file))
            }
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let mut options = PgConnectOptions::from_str(url).map_err(|e| error(e.to_string()))?;
            if let Some(ca_file) = ca_file {
                // Read now, so that a wrong path stops the start with its
                // name rather than failing each connection later.
                let pem = std::fs::read_to_string(ca_file)
                    .map_err(|e| error(format!("--database-ca-file {}: {e}", ca_file.display())))?;
                if !pem.contains("-----BEGIN CERTIFICATE-----") {
                    return Err(error(format!(
                        "--database-ca-file {}: no PEM certificate in it",
                        ca_file.display()
                    )));
                }
                options = options.ssl_root_cert_from_pem(pem.into_bytes());
            }
            let pool = PgPoolOptions::new()
                .max_connections(10)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_lazy_with(options.clone());
            postgres = Some(options);
            (Pool::Postgres(pool), None)
        } else {
            return Err(error(
                "expected `sqlite:PATH`, `sqlite::memory:` or `postgres://...`".into(),
            ));
        };
        Ok(Self {
            live: ArcSwap::from_pointee(Live::new(pool, None)),
            file,
            down_until: AtomicI64::new(0),
            display: redact(url),
            approved_version: AtomicU64::new(0),
            outbox_woken: tokio::sync::Notify::new(),
            postgres,
        })
    }

    /// For PostgreSQL with TLS: connects once and fails when the server's
    /// certificate does not verify under the `sslmode`. A server that cannot
    /// be reached is not a failure here (replies answer 503 until it can).
    pub async fn check_tls(&self) -> Result<(), DatabaseTlsError> {
        let Some(options) = &self.postgres else {
            return Ok(());
        };
        let mode = options.get_ssl_mode();
        if matches!(mode, PgSslMode::Disable) {
            return Ok(());
        }
        let connected = tokio::time::timeout(ACQUIRE_TIMEOUT, PgConnection::connect_with(options));
        match connected.await {
            Ok(Ok(connection)) => {
                let _ = connection.close().await;
                Ok(())
            }
            Ok(Err(error)) if let Some(reason) = tls_failure(&error) => Err(DatabaseTlsError {
                url: self.display.clone(),
                mode: mode_name(mode),
                reason,
            }),
            Ok(Err(other)) => {
                tracing::warn!(database = %self.display, "replies database not reachable at start: {other}");
                Ok(())
            }
            Err(_) => {
                tracing::warn!(database = %self.display, "replies database did not answer at start");
                Ok(())
            }
        }
    }

    /// The URL, without its password.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// Runs the migrations if they have not run yet; fails (503) while the
    /// database cannot be reached.
    pub async fn ready(&self) -> Result<(), ReplyError> {
        self.live().await.map(|_| ())
    }

    /// The live pool, once its migrations have run (they run now if they
    /// have not); 503 at once while the database is taken to be down, and
    /// when a SQLite file is no longer the one at the configured path.
    async fn live(&self) -> Result<Arc<Live>, ReplyError> {
        self.check_up()?;
        let live = self.live.load_full();
        let migrated = live
            .migrated
            .get_or_try_init(|| async {
                if let Some(replaced) = &live.replaced {
                    // Bounded: a connection kept out of the old pool must
                    // not keep this one shut.
                    let closed = tokio::time::timeout(ACQUIRE_TIMEOUT, replaced.close()).await;
                    if closed.is_err() {
                        tracing::warn!(database = %self.display, "the replaced pool did not close in time");
                    }
                }
                match &live.pool {
                    Pool::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await,
                    Pool::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
                }
            })
            .await;
        if let Err(error) = migrated {
            let error = match error {
                sqlx::migrate::MigrateError::Execute(error)
                | sqlx::migrate::MigrateError::ExecuteMigration(error, _) => error,
                other => sqlx::Error::from(other),
            };
            return Err(self.failed(&live, "running the migrations", &error));
        }
        let opened = *live.opened.get_or_init(|| {
            tracing::info!(database = %self.display, "replies database ready");
            self.file.as_ref().and_then(SqliteFile::current)
        });
        if let (Some(file), Some(opened)) = (&self.file, opened) {
            self.check_file(&live, file, opened)?;
        }
        self.up();
        Ok(live)
    }

    /// 503 at once while the database is taken to be down. When the time is
    /// up, one request goes on to try it (and takes the wait if it is still
    /// down) while the others keep answering 503.
    fn check_up(&self) -> Result<(), ReplyError> {
        let until = self.down_until.load(Ordering::Acquire);
        if until == 0 {
            return Ok(());
        }
        let now = now_millis();
        if now >= until {
            let probing = now + i64::try_from(ACQUIRE_TIMEOUT.as_millis()).unwrap_or(i64::MAX);
            let won = self.down_until.compare_exchange(
                until,
                probing,
                Ordering::AcqRel,
                Ordering::Acquire,
            );
            if won.is_ok() {
                return Ok(());
            }
        }
        let left = self.down_until.load(Ordering::Acquire) - now;
        Err(unavailable(seconds_up(left)))
    }

    /// Records that the database answered.
    fn up(&self) {
        if self.down_until.load(Ordering::Relaxed) != 0 {
            self.down_until.store(0, Ordering::Release);
            tracing::info!(database = %self.display, "replies database reachable again");
        }
    }

    /// 503, and a new pool, when the configured path no longer names the
    /// file `live` opened: a write there would be acknowledged and lost.
    fn check_file(
        &self,
        live: &Arc<Live>,
        file: &SqliteFile,
        opened: FileId,
    ) -> Result<(), ReplyError> {
        if file.current() == Some(opened) {
            return Ok(());
        }
        tracing::error!(
            database = %self.display,
            "replies database: {} is no longer the file that was opened (deleted or replaced); \
             opening it again",
            file.path.display()
        );
        self.replace(live, file);
        Err(unavailable(1))
    }

    /// Replaces `live` (unless another request did already) with a new pool
    /// on the same file; the old one closes as its connections come back.
    fn replace(&self, live: &Arc<Live>, file: &SqliteFile) {
        let fresh = Arc::new(Live::new(file.open(), Some(live.pool.clone())));
        let previous = self.live.compare_and_swap(live, fresh);
        if Arc::ptr_eq(&previous, live) {
            self.approved_changed();
            let old = live.pool.clone();
            tokio::spawn(async move { old.close().await });
        }
    }

    /// After a write that may have shown or hidden replies and announced
    /// events: the caches of shown replies and the outbox's worker are
    /// told, then [`Self::still_there`].
    fn replies_changed(&self, live: &Arc<Live>) -> Result<(), ReplyError> {
        self.announced();
        self.approved_changed();
        self.still_there(live)
    }

    /// After a write: 503 (and a new pool) unless the configured path still
    /// names the SQLite file the write went to.
    fn still_there(&self, live: &Arc<Live>) -> Result<(), ReplyError> {
        match (&self.file, live.opened.get().copied().flatten()) {
            (Some(file), Some(opened)) => self.check_file(live, file, opened),
            _ => Ok(()),
        }
    }

    /// Logs a database failure with what was being done, settles what it
    /// says about the database, and answers 503.
    fn failed(&self, live: &Arc<Live>, doing: &str, error: &sqlx::Error) -> ReplyError {
        self.log_failed(doing, error);
        self.settle(live, error)
    }

    fn log_failed(&self, doing: &str, error: &sqlx::Error) {
        tracing::error!(database = %self.display, "replies database: {doing} failed: {error}");
    }

    /// [`Self::failed`], unless the work wrote nothing and `live` has been
    /// replaced by a new pool (by this failure or before it), and it has not
    /// `retried` yet: then `None`, and it may run once more on the new pool.
    fn failed_or_again(
        &self,
        live: &Arc<Live>,
        doing: &str,
        error: &sqlx::Error,
        retried: bool,
    ) -> Option<ReplyError> {
        let settled = self.settle(live, error);
        if retried || !Failure::retry(error) || Arc::ptr_eq(&self.live.load(), live) {
            self.log_failed(doing, error);
            return Some(settled);
        }
        tracing::warn!(database = %self.display, "replies database: {doing} found its pool replaced ({error}); running it on the new one");
        None
    }

    /// Settles what a failure says about the database, and answers 503.
    fn settle(&self, live: &Arc<Live>, error: &sqlx::Error) -> ReplyError {
        match Failure::of(error) {
            Failure::Unreachable => {
                let until = now_millis() + i64::try_from(DOWN_FOR.as_millis()).unwrap_or(0);
                self.down_until.store(until, Ordering::Release);
                unavailable(DOWN_FOR.as_secs())
            }
            Failure::BrokenFile => {
                if let Some(file) = &self.file {
                    self.replace(live, file);
                }
                unavailable(1)
            }
            Failure::Query => unavailable(1),
        }
    }

    /// For PostgreSQL, runs for the life of the server: listens for changes
    /// to replies made by any replica and drops this one's cached replies
    /// (by [`Database::approved_version`]) on each, and for events any
    /// replica writes, on which the outbox's worker looks at once. When the
    /// listening connection is lost, changes made meanwhile go unheard, so
    /// the caches are dropped then too, and again once it listens anew.
    pub async fn listen_for_changes(&self) {
        let mut listener = loop {
            match self.listener().await {
                Ok(listener) => break listener,
                Err(error) => {
                    tracing::warn!(database = %self.display, "not listening for reply changes yet: {error}");
                    tokio::time::sleep(LISTEN_RETRY).await;
                }
            }
        };
        tracing::info!(database = %self.display, "listening for reply changes");
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) if notification.channel() == EVENTS_CHANNEL => {
                    self.announced();
                }
                Ok(Some(_)) => self.approved_changed(),
                // Lost, and connected again (sqlx re-listens before it
                // returns): whatever was announced in between is unknown.
                Ok(None) => {
                    tracing::warn!(database = %self.display, "the reply-change listener reconnected; cached replies dropped");
                    self.approved_changed();
                    self.announced();
                }
                Err(error) => {
                    tracing::warn!(database = %self.display, "the reply-change listener lost its connection: {error}");
                    self.approved_changed();
                    tokio::time::sleep(LISTEN_RETRY).await;
                }
            }
        }
    }

    /// A listener on [`CHANGES_CHANNEL`] and [`EVENTS_CHANNEL`], once the
    /// migrations have run.
    async fn listener(&self) -> Result<PgListener, String> {
        let live = self.live().await.map_err(|error| error.to_string())?;
        let Pool::Postgres(pool) = &live.pool else {
            return Err("not PostgreSQL".into());
        };
        let mut listener = PgListener::connect_with(pool)
            .await
            .map_err(|error| error.to_string())?;
        listener
            .listen_all([CHANGES_CHANNEL, EVENTS_CHANNEL])
            .await
            .map_err(|error| error.to_string())?;
        // Anything changed before now is unknown to the caches.
        self.approved_changed();
        Ok(listener)
    }

    /// Whether several instances may share this database (PostgreSQL): then
    /// the rate limit is counted here, by [`Database::count_post`].
    pub fn is_shared(&self) -> bool {
        self.postgres.is_some()
    }

    /// Which replies are approved, as a number that changes whenever that
    /// does on this server. Read it before reading the replies: what is
    /// made from them is then from this version or a newer one. (Another
    /// replica's decisions on a shared PostgreSQL do not change it.)
    pub fn approved_version(&self) -> u64 {
        self.approved_version.load(Ordering::SeqCst)
    }

    /// Says that an event may have been committed: the outbox's worker
    /// looks at once instead of at its next tick, so live streams and
    /// webhooks get it without that wait. A wake with no waiter is kept
    /// for the worker's next wait.
    pub(super) fn announced(&self) {
        self.outbox_woken.notify_one();
    }

    /// Waits until [`Database::announced`] is called (or was, since the
    /// last wait).
    pub async fn announcement(&self) {
        self.outbox_woken.notified().await;
    }

    fn approved_changed(&self) {
        self.approved_version.fetch_add(1, Ordering::SeqCst);
    }

    /// One page of an article's approved replies, oldest first, and how many there are.
    pub async fn approved(
        &self,
        article: &str,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<Reply>, usize), ReplyError> {
        let items = "SELECT id, parent_id, author_name, body, created_at FROM replies \
                     WHERE article = $1 AND status = 'approved' ORDER BY id LIMIT $2 OFFSET $3";
        let count = "SELECT COUNT(*) FROM replies WHERE article = $1 AND status = 'approved'";
        let (_, (items, total)) = on_pool!(self, "listing replies", |pool, _begin| {
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
            Ok::<(Vec<Reply>, i64), sqlx::Error>((items, total))
        })?;
        Ok((items, usize::try_from(total).unwrap_or(0)))
    }

    /// One approved reply of an article.
    pub async fn approved_one(
        &self,
        article: &str,
        id: ReplyId,
    ) -> Result<Option<Reply>, ReplyError> {
        let query = "SELECT id, parent_id, author_name, body, created_at FROM replies \
                     WHERE article = $1 AND id = $2 AND status = 'approved'";
        on_pool!(self, "reading a reply", |pool, _begin| {
            sqlx::query_as(query)
                .bind(article)
                .bind(id.get())
                .fetch_optional(pool)
                .await
        })
        .map(|(_, reply)| reply)
    }
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// What every database failure becomes: the caller learns that replies
/// are down, not why, and when to try again.
fn unavailable(retry_after: u64) -> ReplyError {
    ReplyError::Down {
        retry_after: retry_after.max(1),
    }
}

pub fn now_millis() -> i64 {
    Timestamp::now().millis()
}

/// Milliseconds left, as whole seconds for `Retry-After` (at least 1).
fn seconds_up(millis: i64) -> u64 {
    u64::try_from(millis.max(0))
        .unwrap_or(0)
        .div_ceil(1000)
        .max(1)
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

mod authors;
mod history;
mod moderation;
mod outbox;
mod posting;

pub use history::{ChangeQuery, Changes, ContentChange, ItemDigest, NewChange, Recorded};
pub use outbox::DueDelivery;
pub use posting::{Created, PostCount, Submission};

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
        let error = Database::connect("mysql://localhost/db", None)
            .err()
            .unwrap();
        assert!(
            error.to_string().contains("expected `sqlite:PATH`"),
            "{error}"
        );
    }

    #[test]
    fn failures_are_told_apart_by_what_they_say_about_the_connection() {
        assert_eq!(
            Failure::of(&sqlx::Error::PoolTimedOut),
            Failure::Unreachable
        );
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(Failure::of(&sqlx::Error::Io(refused)), Failure::Unreachable);
        assert_eq!(Failure::of(&sqlx::Error::RowNotFound), Failure::Query);
        // A pool this server replaced: the new one answers a retry.
        assert_eq!(Failure::of(&sqlx::Error::PoolClosed), Failure::Query);
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_and_is_never_zero() {
        assert_eq!(seconds_up(4001), 5);
        assert_eq!(seconds_up(5000), 5);
        assert_eq!(seconds_up(0), 1);
        assert_eq!(seconds_up(-30), 1);
    }
}
