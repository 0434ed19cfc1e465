//! The command line: the server's settings (each flag also read from an
//! environment variable) and the other tasks, as subcommands.

use std::{net::SocketAddr, path::PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::content::ContentSource;
pub use crate::telemetry::LogFormat;

/// A JSON content API for the article "Back Pain Relief With Deep Tissue Massage".
///
/// With no subcommand, serves the API.
#[derive(Debug, Parser)]
#[command(name = "relief-api", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the OpenAPI document the server serves, as committed in openapi/openapi.json.
    Openapi,
    /// Check a content directory without serving: print every problem, exit 1 if any.
    Validate {
        /// The content directory to check (the one holding `articles/`).
        #[arg(default_value = "content")]
        dir: PathBuf,
    },
    /// Ask the server at --bind (or RELIEF_BIND) whether it is healthy; exit 0 if so (for container health checks).
    Healthcheck,
    /// Read a moderator token on stdin; print the line that admits it in a --moderator-tokens-file.
    HashToken,
}

/// How the server runs.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// The address and port to listen on.
    #[arg(
        long,
        env = "RELIEF_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: SocketAddr,
    /// Serve the content directory DIR (holding `articles/*.toml`) instead of the content built into the binary.
    #[arg(long, env = "RELIEF_CONTENT_DIR", value_name = "DIR")]
    pub content_dir: Option<PathBuf>,
    /// Worker threads [default: one per CPU core].
    #[arg(long, env = "RELIEF_WORKERS")]
    pub workers: Option<usize>,
    /// Seconds clients and CDNs may reuse a content response without asking again (Cache-Control max-age).
    #[arg(
        long,
        env = "RELIEF_CACHE_MAX_AGE",
        value_name = "SECONDS",
        default_value_t = defaults::CACHE_MAX_AGE
    )]
    pub cache_max_age: u32,
    /// Seconds past max-age a cache may serve a stale response while it revalidates (Cache-Control stale-while-revalidate).
    #[arg(
        long,
        env = "RELIEF_CACHE_STALE_WHILE_REVALIDATE",
        value_name = "SECONDS",
        default_value_t = defaults::CACHE_STALE_WHILE_REVALIDATE
    )]
    pub cache_stale_while_revalidate: u32,
    /// Bytes of content responses kept in memory to answer repeated requests
    /// without routing them again; 0 turns the response cache off.
    #[arg(
        long,
        env = "RELIEF_RESPONSE_CACHE_BYTES",
        value_name = "BYTES",
        default_value_t = defaults::RESPONSE_CACHE_BYTES
    )]
    pub response_cache_bytes: u64,
    /// Reload the content directory when its files change (SIGHUP always reloads).
    #[arg(long, env = "RELIEF_WATCH")]
    pub watch: bool,
    /// Log format on stderr.
    #[arg(long, env = "RELIEF_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// An OpenTelemetry collector's OTLP/HTTP base URL (e.g.
    /// `http://localhost:4318`): one span per request, and its database
    /// calls, are exported to `<URL>/v1/traces`. Off when unset.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT", value_name = "URL")]
    pub otlp_endpoint: Option<String>,
    /// Longest URL (path and query) accepted, in bytes; longer gets 414.
    #[arg(
        long,
        env = "RELIEF_MAX_URL_BYTES",
        value_name = "BYTES",
        default_value_t = defaults::MAX_URL_BYTES
    )]
    pub max_url_bytes: usize,
    /// Largest request headers accepted, in bytes all told; larger gets 431.
    #[arg(
        long,
        env = "RELIEF_MAX_HEADER_BYTES",
        value_name = "BYTES",
        default_value_t = defaults::MAX_HEADER_BYTES
    )]
    pub max_header_bytes: usize,
    /// Seconds a client has to send its request head; a slower client is cut off.
    #[arg(
        long,
        env = "RELIEF_CLIENT_TIMEOUT",
        value_name = "SECONDS",
        default_value_t = 5
    )]
    pub client_timeout: u64,
    /// Seconds an idle connection is kept open for the client's next request;
    /// `0` closes each connection after its response. Behind a load balancer
    /// that reuses connections, make it longer than the balancer's own idle
    /// timeout. A stop does not wait for idle connections.
    #[arg(
        long,
        env = "RELIEF_KEEP_ALIVE",
        value_name = "SECONDS",
        default_value_t = defaults::KEEP_ALIVE
    )]
    pub keep_alive: u64,
    /// Seconds a client has to send a request body once its head has come;
    /// a slower one gets a 408 and its connection closed.
    #[arg(
        long,
        env = "RELIEF_BODY_TIMEOUT",
        value_name = "SECONDS",
        default_value_t = 10
    )]
    pub body_timeout: u64,
    /// The largest content file read (bytes); a larger one is refused before
    /// it is parsed, at start, by `validate` and on reload.
    #[arg(
        long,
        env = "RELIEF_MAX_CONTENT_FILE_BYTES",
        value_name = "BYTES",
        default_value_t = crate::content::DEFAULT_MAX_FILE_BYTES
    )]
    pub max_content_file_bytes: u64,
    /// Seconds in-flight requests get to finish after SIGTERM or SIGINT.
    #[arg(
        long,
        env = "RELIEF_SHUTDOWN_GRACE_PERIOD",
        value_name = "SECONDS",
        default_value_t = 30
    )]
    pub shutdown_grace_period: u64,
    /// Origins allowed to read the API from a browser (comma-separated), or `*` for any.
    #[arg(
        long,
        env = "RELIEF_CORS_ALLOWED_ORIGINS",
        value_delimiter = ',',
        default_value = "*"
    )]
    pub cors_allowed_origins: Vec<String>,
    /// Origins whose pages may write (post replies, moderate) from a browser
    /// (comma-separated); by default none but the server's own.
    #[arg(long, env = "RELIEF_WRITE_ORIGINS", value_delimiter = ',')]
    pub write_origins: Vec<String>,
    /// Where replies are stored: `sqlite:PATH` (created on first start),
    /// `sqlite::memory:` (lost on exit) or `postgres://USER:PASSWORD@HOST/DB`.
    #[arg(
        long,
        env = "DATABASE_URL",
        value_name = "URL",
        default_value = defaults::DATABASE_URL
    )]
    pub database_url: String,
    /// PEM certificates of the CA that signed PostgreSQL's certificate, for
    /// `sslmode=verify-ca` or `verify-full` with a private CA (as
    /// `sslrootcert=PATH` in the URL does).
    #[arg(long, env = "RELIEF_DATABASE_CA_FILE", value_name = "PATH")]
    pub database_ca_file: Option<PathBuf>,
    /// A file of moderator token digests, one per line (see `hash-token`).
    /// Without it, moderation answers 503.
    #[arg(long, env = "RELIEF_MODERATOR_TOKENS_FILE", value_name = "PATH")]
    pub moderator_tokens_file: Option<PathBuf>,
    /// Replies each client may post per minute; 0 turns the limit off.
    #[arg(
        long,
        env = "RELIEF_REPLY_RATE_PER_MINUTE",
        value_name = "N",
        default_value_t = defaults::REPLY_RATE_PER_MINUTE
    )]
    pub reply_rate_per_minute: u32,
    /// Proxies (addresses or networks, comma-separated) whose X-Forwarded-For
    /// names the client; by default none is believed.
    #[arg(
        long,
        env = "RELIEF_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_parser = crate::abuse::parse_proxy
    )]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How long the content history is kept for delta sync (e.g. `90days`, `12h`): a sync token older than this gets 410 and its client syncs from scratch.
    #[arg(
        long,
        env = "RELIEF_SYNC_HISTORY",
        value_name = "DURATION",
        default_value = "90days",
        value_parser = humantime::parse_duration
    )]
    pub sync_history: std::time::Duration,
    /// A passphrase that signs the reply form's timestamps and derives authors' edit tokens; give every replica the same one. Unset: a random one per process (forms and edit tokens then hold only on the process that made them, and not across restarts).
    #[arg(
        long,
        env = "RELIEF_SECRET",
        value_name = "PASSPHRASE",
        hide_env_values = true
    )]
    pub secret: Option<String>,
    /// A TOML file of webhook endpoints: each `[[endpoint]]` with its `url`, `secret` (`whsec_` and base64) and the `events` it wants.
    #[arg(long, env = "RELIEF_WEBHOOKS_FILE", value_name = "FILE")]
    pub webhooks_file: Option<PathBuf>,
    /// Tries of one webhook delivery before it is given up (kept as dead); pauses double from 1 s, up to an hour.
    #[arg(long, env = "RELIEF_WEBHOOK_MAX_ATTEMPTS", default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub webhook_max_attempts: u32,
}

impl Config {
    /// Where the content comes from.
    pub fn content_source(&self) -> ContentSource {
        match &self.content_dir {
            Some(dir) => ContentSource::Dir {
                path: dir.clone(),
                max_file_bytes: self.max_content_file_bytes,
            },
            None => ContentSource::Embedded,
        }
    }
}

/// The defaults of the settings that other modules fall back on too; each is
/// written once, here.
pub mod defaults {
    pub const CACHE_MAX_AGE: u32 = 300;
    pub const CACHE_STALE_WHILE_REVALIDATE: u32 = 86_400;
    /// Room for every response of a few hundred articles in their usual
    /// variants: the ones asked for again and again.
    pub const RESPONSE_CACHE_BYTES: u64 = 8 << 20;
    pub const MAX_URL_BYTES: usize = 2048;
    pub const MAX_HEADER_BYTES: usize = 16_384;
    /// actix-web's own: long enough for a page's requests to share one
    /// connection, short enough that idle clients hold few sockets.
    pub const KEEP_ALIVE: u64 = 5;
    /// Beside the working directory, so `cargo run` needs no set-up.
    pub const DATABASE_URL: &str = "sqlite://relief-replies.db";
    pub const REPLY_RATE_PER_MINUTE: u32 = 5;
    pub const SYNC_HISTORY: std::time::Duration = std::time::Duration::from_secs(90 * 86_400);
}

impl Default for Config {
    /// The defaults the command line gives, except what tests want: port `0`
    /// (the system picks a free one), a single worker thread, and replies in
    /// memory without a rate limit.
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            content_dir: None,
            workers: Some(1),
            cache_max_age: defaults::CACHE_MAX_AGE,
            cache_stale_while_revalidate: defaults::CACHE_STALE_WHILE_REVALIDATE,
            response_cache_bytes: defaults::RESPONSE_CACHE_BYTES,
            watch: false,
            log_format: LogFormat::Text,
            otlp_endpoint: None,
            max_url_bytes: defaults::MAX_URL_BYTES,
            max_header_bytes: defaults::MAX_HEADER_BYTES,
            client_timeout: 5,
            keep_alive: defaults::KEEP_ALIVE,
            body_timeout: 10,
            max_content_file_bytes: crate::content::DEFAULT_MAX_FILE_BYTES,
            shutdown_grace_period: 30,
            cors_allowed_origins: vec!["*".into()],
            write_origins: Vec::new(),
            database_url: "sqlite::memory:".into(),
            database_ca_file: None,
            moderator_tokens_file: None,
            reply_rate_per_minute: 0,
            trusted_proxies: Vec::new(),
            sync_history: defaults::SYNC_HISTORY,
            secret: None,
            webhooks_file: None,
            webhook_max_attempts: 24,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn help_names_every_flag_with_its_environment_variable() {
        let help = Cli::command().render_long_help().to_string();
        for (flag, env) in [
            ("--bind", "RELIEF_BIND"),
            ("--content-dir", "RELIEF_CONTENT_DIR"),
            ("--workers", "RELIEF_WORKERS"),
            ("--cache-max-age", "RELIEF_CACHE_MAX_AGE"),
            ("--response-cache-bytes", "RELIEF_RESPONSE_CACHE_BYTES"),
            ("--watch", "RELIEF_WATCH"),
            ("--log-format", "RELIEF_LOG_FORMAT"),
            ("--max-url-bytes", "RELIEF_MAX_URL_BYTES"),
            ("--keep-alive", "RELIEF_KEEP_ALIVE"),
            ("--client-timeout", "RELIEF_CLIENT_TIMEOUT"),
            ("--shutdown-grace-period", "RELIEF_SHUTDOWN_GRACE_PERIOD"),
            ("--cors-allowed-origins", "RELIEF_CORS_ALLOWED_ORIGINS"),
            ("--database-url", "DATABASE_URL"),
            ("--database-ca-file", "RELIEF_DATABASE_CA_FILE"),
            ("--otlp-endpoint", "OTEL_EXPORTER_OTLP_ENDPOINT"),
            ("--moderator-tokens-file", "RELIEF_MODERATOR_TOKENS_FILE"),
            ("--reply-rate-per-minute", "RELIEF_REPLY_RATE_PER_MINUTE"),
            ("--trusted-proxies", "RELIEF_TRUSTED_PROXIES"),
            ("--sync-history", "RELIEF_SYNC_HISTORY"),
            ("--webhooks-file", "RELIEF_WEBHOOKS_FILE"),
            ("--webhook-max-attempts", "RELIEF_WEBHOOK_MAX_ATTEMPTS"),
        ] {
            assert!(
                help.contains(flag) && help.contains(&format!("env: {env}")),
                "{flag} / {env}"
            );
        }
    }

    #[test]
    fn no_flags_serve_the_embedded_content_on_port_8080() {
        let cli = Cli::try_parse_from(["relief-api"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.config.content_source(), ContentSource::Embedded);
        assert_eq!(cli.config.bind.port(), 8080);
    }
}
