//! `spawn_app()`: the one way tests start the server.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use actix_web::{http::StatusCode, web::Bytes};
use relief_api::{config::Config, reload::Reloader, startup::Application};
use serde_json::Value;

pub const SLUG: &str = "deep-tissue-massage-for-back-pain";
/// The `--secret` of test servers that need to know it.
pub const TEST_SECRET: &str = "a test secret";

/// A reply form's token for the source article, as its page would have
/// carried it when served `seconds_ago` by a server with [`TEST_SECRET`].
pub fn form_token(seconds_ago: u64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    relief_api::replies::guard::Secret::from_passphrase(TEST_SECRET)
        .form_token(SLUG, now - seconds_ago)
}

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub reloader: Reloader,
    client: awc::Client,
    /// What the app uses (its database, its tokens file), removed with it.
    _keep: Option<(Option<TestDatabase>, tempfile::TempDir)>,
}

/// What a client received.
pub struct Reply {
    pub status: StatusCode,
    pub headers: actix_web::http::header::HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("header is text"))
    }

    /// The `ETag`, which must be there: comparing two missing ones would
    /// prove nothing.
    pub fn etag(&self) -> &str {
        self.header("etag").expect("the response has an ETag")
    }

    /// Asserts the reply is a problem+json with `status`, and returns it.
    pub fn problem(&self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json")
        );
        let problem = self.json();
        for field in ["type", "title", "detail", "instance"] {
            assert!(
                problem[field].is_string(),
                "problem lacks `{field}`: {problem}"
            );
        }
        assert_eq!(problem["status"], status);
        problem
    }
}

/// An HTTP client as the tests use it: it waits up to 30 s for an answer
/// (a debug build on a busy machine is slow), and keeps an idle connection
/// for less than the server does (actix-web's 5 s). awc keeps one 15 s by
/// default and does not retry: a request sent on a connection the server
/// is closing at that moment failed with `Disconnected` when a starved test
/// paused between two requests. It follows no redirect: a test sees what
/// the server answered.
pub fn client() -> awc::Client {
    awc::Client::builder()
        .connector(awc::Connector::new().conn_keep_alive(Duration::from_secs(2)))
        .timeout(Duration::from_secs(30))
        .disable_redirects()
        .finish()
}

/// Whether `error` is the connection closing under a request, before any
/// answer: not the server's answer, nor its taking too long.
fn connection_lost(error: &awc::error::SendRequestError) -> bool {
    use awc::error::{ConnectError, SendRequestError};
    use std::io::ErrorKind::{BrokenPipe, ConnectionReset, UnexpectedEof};
    let closed =
        |io: &std::io::Error| matches!(io.kind(), BrokenPipe | ConnectionReset | UnexpectedEof);
    match error {
        SendRequestError::Connect(ConnectError::Disconnected) => true,
        SendRequestError::Send(io) => closed(io),
        SendRequestError::Response(actix_web::error::ParseError::Io(io)) => closed(io),
        SendRequestError::Response(actix_web::error::ParseError::Incomplete) => true,
        _ => false,
    }
}

/// Starts the app on the embedded content.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Config::default()).await
}

/// Starts the app with `config` (its port is replaced by a free one).
pub async fn spawn_app_with(config: Config) -> TestApp {
    spawn_app_keeping(config, None).await
}

async fn spawn_app_keeping(
    config: Config,
    keep: Option<(Option<TestDatabase>, tempfile::TempDir)>,
) -> TestApp {
    let config = Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        ..config
    };
    let app = Application::build(&config).await.expect("the app starts");
    let port = app.port();
    let reloader = app.reloader();
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        reloader,
        client: client(),
        _keep: keep,
    }
}

/// The token moderators use in tests.
pub const MODERATOR_TOKEN: &str = "test-moderator-token";

/// Where a test's replies are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temp dir of the test's own.
    Sqlite,
    /// A fresh database on the PostgreSQL server at `RELIEF_TEST_DATABASE_URL`.
    Postgres,
}

/// A database of a test's own, dropped with it: a SQLite file in a temp
/// dir, or a PostgreSQL database.
pub struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    /// For PostgreSQL: the server's URL and the database's name.
    postgres: Option<(String, String)>,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((server, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot be blocked on:
        // a thread of its own, with a runtime of its own. It is waited for
        // only briefly: a connection the app was opening when the test ended
        // is stuck in PostgreSQL's authentication until this runtime (frozen
        // while Drop blocks) goes on, and DROP DATABASE waits for it. Once
        // the test returns, its runtime closes that socket and the drop ends.
        let statement = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        let (done, finished) = mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let dropped = runtime.block_on(async {
                use sqlx::Connection as _;
                let mut admin = sqlx::PgConnection::connect(&server).await?;
                sqlx::query(sqlx::AssertSqlSafe(statement))
                    .execute(&mut admin)
                    .await
                    .map(|_| ())
            });
            if let Err(error) = &dropped {
                eprintln!("could not drop test database {name}: {error}");
            }
            let _ = done.send(());
        });
        let _ = finished.recv_timeout(Duration::from_millis(500));
    }
}

impl TestDatabase {
    /// `None` when the backend is PostgreSQL and `RELIEF_TEST_DATABASE_URL` is
    /// not set (a failure under `CI=true`).
    pub async fn create(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temp dir");
                let url = format!("sqlite://{}", dir.path().join("replies.db").display());
                Some(Self {
                    url,
                    _dir: Some(dir),
                    postgres: None,
                })
            }
            Backend::Postgres => {
                let Ok(server) = std::env::var("RELIEF_TEST_DATABASE_URL") else {
                    // CI provides a server: there, a missing URL is a broken
                    // set-up, not a reason to pass without testing.
                    assert!(
                        std::env::var("CI").as_deref() != Ok("true"),
                        "CI=true but RELIEF_TEST_DATABASE_URL is not set: the PostgreSQL tests cannot run"
                    );
                    return None;
                };
                let name = format!("relief_test_{}", uuid::Uuid::new_v4().simple());
                use sqlx::Connection as _;
                let mut admin = sqlx::PgConnection::connect(&server)
                    .await
                    .expect("RELIEF_TEST_DATABASE_URL accepts connections");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut admin)
                    .await
                    .expect("a test database can be created");
                Some(Self {
                    url: with_database(&server, &name),
                    _dir: None,
                    postgres: Some((server, name)),
                })
            }
        }
    }
}

/// `url` naming database `name` instead of its own.
fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let query = path
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{scheme}://{authority}/{name}{query}")
}

/// A file holding the digest of [`MODERATOR_TOKEN`], as an operator writes it.
pub fn tokens_file() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("moderators.txt");
    let digest = relief_api::auth::hash_token(MODERATOR_TOKEN);
    std::fs::write(&path, format!("# moderators\n{digest}\n")).unwrap();
    (dir, path)
}

/// Starts the app with replies on `backend` and moderation on; `None` (the
/// test is skipped) for PostgreSQL without `RELIEF_TEST_DATABASE_URL`.
pub async fn spawn_replies_app(backend: Backend) -> Option<TestApp> {
    spawn_replies_app_with(backend, Config::default()).await
}

/// [`spawn_replies_app`] with other settings from `config`.
pub async fn spawn_replies_app_with(backend: Backend, config: Config) -> Option<TestApp> {
    let database = TestDatabase::create(backend).await?;
    Some(spawn_app_on(database, config).await)
}

/// Starts the app with replies in `database` (its URL in `config` if that
/// sets one, for a URL with parameters) and moderation on.
pub async fn spawn_app_on(database: TestDatabase, config: Config) -> TestApp {
    let (tokens_dir, tokens) = tokens_file();
    let config = Config {
        database_url: if config.database_url.starts_with("postgres") {
            config.database_url.clone()
        } else {
            database.url.clone()
        },
        // The caller's own tokens file, if it brings one.
        moderator_tokens_file: config.moderator_tokens_file.clone().or(Some(tokens)),
        secret: config.secret.clone().or_else(|| Some(TEST_SECRET.into())),
        ..config
    };
    spawn_app_keeping(config, Some((Some(database), tokens_dir))).await
}

/// `count` instances of the app (replicas) with replies in one fresh
/// PostgreSQL database, each with moderation on and settings from
/// `config`, and the database's URL; `None` (skipped) without
/// `RELIEF_TEST_DATABASE_URL`.
pub async fn spawn_replicas(count: usize, config: Config) -> Option<(Vec<TestApp>, String)> {
    let database = TestDatabase::create(Backend::Postgres).await?;
    let url = database.url.clone();
    // The first replica keeps the database; it is dropped with them all.
    let mut database = Some(database);
    let mut replicas = Vec::new();
    for _ in 0..count {
        let (tokens_dir, tokens) = tokens_file();
        // Replicas behind one load balancer share one secret.
        let config = Config {
            database_url: url.clone(),
            moderator_tokens_file: Some(tokens),
            secret: config.secret.clone().or_else(|| Some(TEST_SECRET.into())),
            ..config.clone()
        };
        replicas.push(spawn_app_keeping(config, Some((database.take(), tokens_dir))).await);
    }
    Some((replicas, url))
}

/// Skips a PostgreSQL test, saying why.
pub fn skipped_without_postgres() {
    eprintln!(
        "skipped: set RELIEF_TEST_DATABASE_URL=postgres://... to run this test on PostgreSQL"
    );
}

impl TestApp {
    /// Reloads the content (and moderator tokens) as SIGHUP does; whether
    /// the new content is served.
    pub async fn reload(&self) -> bool {
        let reloader = self.reloader.clone();
        actix_web::rt::task::spawn_blocking(move || reloader.reload())
            .await
            .expect("the reload finishes")
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.request("GET", path).await
    }

    pub async fn request(&self, method: &str, path: &str) -> Reply {
        self.request_with(method, path, &[]).await
    }

    /// Sends `method path` with extra `headers`; repeated names are sent repeated.
    pub async fn request_with(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.send(method, path, headers, Bytes::new()).await
    }

    /// Waits until the content's history is first recorded, which a start
    /// does beside serving (until then sync answers its documented 503).
    pub async fn history_recorded(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while self.get("/v1/sync").await.status != actix_web::http::StatusCode::OK {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no history within 10 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A browser's CORS preflight of `method path` from `origin`, asking
    /// to send `headers` (comma-separated).
    pub async fn preflight(&self, path: &str, origin: &str, method: &str, headers: &str) -> Reply {
        let asked = [
            ("origin", origin),
            ("access-control-request-method", method),
            ("access-control-request-headers", headers),
        ];
        self.request_with("OPTIONS", path, &asked).await
    }

    /// Sends `method path` with `headers` and a body.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Reply {
        let method: actix_web::http::Method = method.parse().expect("a method");
        let body = body.into();
        let mut retried = false;
        let mut response = loop {
            let mut request = self
                .client
                .request(method.clone(), format!("{}{path}", self.address));
            for (name, value) in headers {
                request = request.append_header((*name, *value));
            }
            match request.send_body(Bytes::clone(&body)).await {
                Ok(response) => break response,
                // The server closed a kept-alive connection as the request
                // went out on it (a starved test paused past its idle
                // time): as RFC 9112 (9.3.1) lets a client, an idempotent
                // request is sent again, once, on a new connection.
                Err(error) if !retried && method.is_idempotent() && connection_lost(&error) => {
                    retried = true;
                }
                Err(error) => panic!("the server answers: {error:?}"),
            }
        };
        let body = response.body().limit(10 << 20).await.expect("a whole body");
        Reply {
            status: response.status(),
            headers: response.headers().clone(),
            body,
        }
    }

    /// POSTs `body` as JSON to `path`, with extra `headers`.
    pub async fn post_json(&self, path: &str, body: &Value, headers: &[(&str, &str)]) -> Reply {
        let mut all = vec![("content-type", "application/json")];
        all.extend_from_slice(headers);
        self.send("POST", path, &all, body.to_string()).await
    }

    /// Posts a reply to the source article; asserts it is accepted and returns its id.
    pub async fn post_reply(&self, reply: Value) -> i64 {
        let answer = self
            .post_json(&format!("/v1/articles/{SLUG}/replies"), &reply, &[])
            .await;
        assert_eq!(
            answer.status,
            StatusCode::ACCEPTED,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        answer.json()["id"].as_i64().expect("an id")
    }

    /// Sends a request as a moderator.
    pub async fn as_moderator(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        let auth = format!("Bearer {MODERATOR_TOKEN}");
        let mut headers = vec![("authorization", auth.as_str())];
        let body = match body {
            Some(body) => {
                headers.push(("content-type", "application/json"));
                body.to_string()
            }
            None => String::new(),
        };
        self.send(method, path, &headers, body).await
    }

    /// Sets a reply's status as a moderator; asserts it worked.
    pub async fn moderate(&self, id: i64, status: &str) {
        let answer = self
            .as_moderator(
                "PATCH",
                &format!("/v1/moderation/replies/{id}"),
                Some(serde_json::json!({ "status": status })),
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        assert_eq!(answer.json()["status"], status);
    }

    /// GETs `path`, asserts a 200 JSON-LD answer and returns it.
    pub async fn get_json_ld(&self, path: &str) -> Value {
        let reply = self.get(path).await;
        assert_eq!(reply.status, StatusCode::OK, "GET {path}");
        assert_eq!(reply.header("content-type"), Some("application/ld+json"));
        reply.json()
    }

    /// GETs `path`, asserts a 200 JSON answer and returns it.
    pub async fn get_json(&self, path: &str) -> Value {
        let reply = self.get(path).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "GET {path}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        assert_eq!(reply.header("content-type"), Some("application/json"));
        reply.json()
    }
}

/// A content directory in a temp dir, holding a copy of the source article.
pub struct ContentDir {
    dir: tempfile::TempDir,
}

impl ContentDir {
    pub fn with_source_article() -> Self {
        let dir = tempfile::tempdir().expect("a temp dir");
        std::fs::create_dir(dir.path().join("articles")).unwrap();
        let source = Path::new("content/articles").join(format!("{SLUG}.toml"));
        std::fs::copy(
            source,
            dir.path().join("articles").join(format!("{SLUG}.toml")),
        )
        .unwrap();
        Self { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn article_file(&self) -> PathBuf {
        self.dir
            .path()
            .join("articles")
            .join(format!("{SLUG}.toml"))
    }

    /// Rewrites the source article with `from` replaced by `to`.
    pub fn edit(&self, from: &str, to: &str) {
        let text = std::fs::read_to_string(self.article_file()).unwrap();
        assert!(text.contains(from), "the article has no `{from}`");
        std::fs::write(self.article_file(), text.replacen(from, to, 1)).unwrap();
    }

    pub fn config(&self) -> Config {
        Config {
            content_dir: Some(self.path().to_owned()),
            ..Config::default()
        }
    }
}

/// The `relief-api` binary, running as a process of its own (for what only
/// a process can show: signals, exit status, its log).
pub struct ServerProcess {
    pub child: Child,
    pub port: u16,
    pub log: mpsc::Receiver<String>,
}

impl ServerProcess {
    /// Starts `relief-api --bind 127.0.0.1:0 ARGS` and waits for its
    /// "listening on" line, which names the port.
    pub fn start(args: &[&str]) -> Self {
        Self::start_with(args, |_| {})
    }

    /// [`ServerProcess::start`] as an unprivileged user when the tests run
    /// as root (who ignores file permissions); as the tests' user otherwise.
    #[cfg(unix)]
    pub fn start_unprivileged(args: &[&str]) -> Self {
        use std::os::unix::{fs::MetadataExt, process::CommandExt};
        // `/proc/self` belongs to the process's effective user.
        let root = std::fs::metadata("/proc/self").is_ok_and(|meta| meta.uid() == 0);
        Self::start_with(args, |command| {
            if root {
                command.uid(65534).gid(65534);
            }
        })
    }

    /// [`ServerProcess::start`], `configure` having the last word on the command.
    pub fn start_with(args: &[&str], configure: impl FnOnce(&mut Command)) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_relief-api"));
        command.args(["--bind", "127.0.0.1:0"]).args(args);
        // Tests leave no database behind in the working directory.
        if !args.contains(&"--database-url") {
            command.args(["--database-url", "sqlite::memory:"]);
        }
        command
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stderr(Stdio::piped())
            .stdout(Stdio::null());
        configure(&mut command);
        let mut child = command.spawn().expect("the binary starts");
        let (lines, log) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let port = loop {
            let line = log
                .recv_timeout(Duration::from_secs(30))
                .expect("the server logs its address");
            if let Some(rest) = line.split("listening on http://127.0.0.1:").nth(1) {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                break digits.parse().expect("a port");
            }
        };
        Self { child, port, log }
    }

    /// Waits up to `timeout` for a log line containing `text`.
    pub fn wait_for_log(&self, text: &str, timeout: Duration) -> String {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.log.recv_timeout(left) {
                Ok(line) if line.contains(text) => return line,
                Ok(_) => {}
                Err(_) => panic!("no log line with `{text}` within {timeout:?}"),
            }
        }
    }

    /// Stops the server with SIGTERM, expects it to exit 0, and returns
    /// every access line it wrote.
    pub fn access_lines_until_exit(mut self) -> Vec<String> {
        self.signal("TERM");
        assert!(self.child.wait().unwrap().success(), "the server exits 0");
        // The reader ends with the process's stderr: every line is here.
        self.log
            .iter()
            .filter(|line| line.contains("relief_api::access"))
            .collect()
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal}");
    }

    /// A blocking GET with a plain HTTP/1.1 client: (status, body).
    pub fn get(&self, path: &str) -> (u16, String) {
        self.get_with(path, &[])
    }

    /// [`ServerProcess::get`] with more request headers.
    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
        self.send("GET", path, headers, "")
    }

    /// A blocking POST of `body` as JSON: (status, body).
    pub fn post_json(&self, path: &str, body: &str) -> (u16, String) {
        self.send("POST", path, &[("content-type", "application/json")], body)
    }

    /// One request with a plain HTTP/1.1 client: (status, body).
    fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, String) {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let extra: String = headers
            .iter()
            .map(|(name, value)| format!("{name}: {value}\r\n"))
            .collect();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: test\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut raw = String::new();
        stream.read_to_string(&mut raw).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, body.to_owned())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Defines each test once per backend: `sqlite::name` and `postgres::name`.
macro_rules! on_both_backends {
    ($(async fn $name:ident($app:ident) $body:block)*) => {
        mod sqlite {
            use super::*;
            $(
                #[actix_web::test]
                async fn $name() {
                    let $app = $crate::helpers::spawn_replies_app($crate::helpers::Backend::Sqlite)
                        .await
                        .expect("SQLite is built in");
                    $body
                }
            )*
        }
        mod postgres {
            use super::*;
            $(
                #[actix_web::test]
                async fn $name() {
                    let Some($app) =
                        $crate::helpers::spawn_replies_app($crate::helpers::Backend::Postgres).await
                    else {
                        return $crate::helpers::skipped_without_postgres();
                    };
                    $body
                }
            )*
        }
    };
}
