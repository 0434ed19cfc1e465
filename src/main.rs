//! The `relief-api` binary: parse the command line, then serve or run a task.

use std::process::ExitCode;

use clap::Parser;
use relief_api::{
    auth,
    config::{Cli, Command, LogFormat},
    content, healthcheck, openapi,
    startup::Application,
    telemetry,
};

#[actix_web::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Openapi) => {
            print!("{}", openapi::document_json());
            ExitCode::SUCCESS
        }
        Some(Command::Validate { dir }) => match content::load(&content::ContentSource::Dir {
            path: dir,
            max_file_bytes: cli.config.max_content_file_bytes,
        }) {
            Ok(articles) => {
                for warning in content::overdue_warnings(&articles, content::Date::today()) {
                    eprintln!("{warning}");
                }
                println!("ok: {} article(s)", articles.len());
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("{error}");
                ExitCode::FAILURE
            }
        },
        Some(Command::HashToken) => {
            let mut token = String::new();
            if let Err(error) = std::io::stdin().read_line(&mut token) {
                eprintln!("cannot read the token on stdin: {error}");
                return ExitCode::FAILURE;
            }
            let token = token.trim_end_matches(['\r', '\n']);
            if token.is_empty() {
                eprintln!(
                    "no token on stdin: pipe one in, e.g. `printf %s \"$TOKEN\" | relief-api hash-token`"
                );
                return ExitCode::FAILURE;
            }
            println!("{}", auth::hash_token(token));
            ExitCode::SUCCESS
        }
        Some(Command::Healthcheck) => match healthcheck::check(cli.config.bind) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("{error}");
                ExitCode::FAILURE
            }
        },
        None => {
            relief_api::startup::limit_malloc_arenas();
            relief_api::startup::install_crypto_provider();
            // Held to the end of `main`: dropping it writes out queued log lines.
            let _log =
                match telemetry::init(cli.config.log_format, cli.config.otlp_endpoint.as_deref()) {
                    Ok(guard) => guard,
                    Err(error) => {
                        eprintln!("{error}");
                        return ExitCode::FAILURE;
                    }
                };
            let app = match Application::build(&cli.config).await {
                Ok(app) => app,
                Err(error) => {
                    // Once, in the form the operator asked for: a JSON event
                    // for collectors, else the plain list of problems.
                    match cli.config.log_format {
                        LogFormat::Json => tracing::error!("cannot start: {error}"),
                        LogFormat::Text => eprintln!("{error}"),
                    }
                    return ExitCode::FAILURE;
                }
            };
            match app.run_until_stopped().await {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    tracing::error!("server failed: {error}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
