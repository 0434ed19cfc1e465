//! Integration tests: each starts the real app on a free port and talks HTTP
//! to it, as a front end would.

// First: its macros are for the modules after it.
#[macro_use]
mod helpers;

mod architecture;
mod articles;
mod caching;
mod content_files;
mod database_tls;
mod discovery;
mod durability;
mod errors;
mod events;
mod limits;
mod openapi;
mod operations;
mod parts;
mod ranges;
mod reader;
mod recovery;
mod reload;
mod replicas;
mod replies;
mod reply_authors;
mod response_cache;
mod review;
mod source_text;
mod sync;
mod tracing_export;
mod webhooks;
