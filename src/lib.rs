//! relief-api: a JSON content API serving the article "Back Pain Relief With
//! Deep Tissue Massage" as typed resources, with a generated OpenAPI spec.

// A service, not a library for others: its documentation is for the people
// who work on it (`cargo doc --document-private-items`), so a public item's
// docs may point at the private item that explains it.
#![allow(rustdoc::private_intra_doc_links)]

pub mod abuse;
pub mod auth;
pub mod config;
pub mod content;
pub mod error;
pub mod events;
pub mod healthcheck;
pub mod http;
pub mod metrics;
pub mod openapi;
pub mod reload;
pub mod replies;
pub mod routes;
pub mod search;
pub mod startup;
pub mod store;
pub mod suggest;
pub mod sync;
pub mod telemetry;
pub mod urls;
pub mod webhooks;
