//! The command line: the server's settings (each flag also read from an
//! environment variable) and the other tasks, as subcommands.

use std::{net::SocketAddr, path::PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::content::ContentSource;

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
    /// Ask the server at --bind whether it is healthy; exit 0 if so (for container health checks).
    Healthcheck,
}

/// How the server runs.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// The address and port to listen on.
    #[arg(long, env = "RELIEF_BIND", default_value = "127.0.0.1:8080")]
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
        default_value_t = 300
    )]
    pub cache_max_age: u32,
    /// Seconds past max-age a cache may serve a stale response while it revalidates (Cache-Control stale-while-revalidate).
    #[arg(
        long,
        env = "RELIEF_CACHE_STALE_WHILE_REVALIDATE",
        value_name = "SECONDS",
        default_value_t = 86_400
    )]
    pub cache_stale_while_revalidate: u32,
}

impl Config {
    /// Where the content comes from.
    pub fn content_source(&self) -> ContentSource {
        match &self.content_dir {
            Some(dir) => ContentSource::Dir(dir.clone()),
            None => ContentSource::Embedded,
        }
    }
}

impl Default for Config {
    /// The defaults the command line gives, except the port: `0` asks the
    /// system for a free one (what tests want).
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            content_dir: None,
            workers: Some(1),
            cache_max_age: 300,
            cache_stale_while_revalidate: 86_400,
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
    fn no_flags_serve_the_embedded_content_on_port_8080() {
        let cli = Cli::try_parse_from(["relief-api"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.config.content_source(), ContentSource::Embedded);
        assert_eq!(cli.config.bind.port(), 8080);
    }
}
