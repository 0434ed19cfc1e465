//! Probes and metrics for operators: `/healthz` (alive), `/readyz` (content
//! loaded; which revision) and `/metrics` (Prometheus).

use actix_web::{HttpResponse, http::header::ContentType, route, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::{CONTENT_REVISION, params::NoQuery};
use crate::{error::BadRequest, metrics::Metrics, store::LiveContent};

/// The liveness answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the server answers at all.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Check that the server is alive
///
/// Answers `200` whenever the process can serve requests.
#[utoipa::path(
    get,
    tag = "operations",
    responses(
        (status = 200, description = "The server is alive.", body = Health),
        (status = 400, response = BadRequest),
    )
)]
#[route("/healthz", method = "GET", method = "HEAD")]
pub async fn health_view(_: NoQuery) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(Health { status: "ok" })
}

/// The readiness answer: which content is being served.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// Always `ready`: the server listens only once its content is loaded.
    #[schema(example = "ready")]
    pub status: &'static str,
    /// The content revision: a hash of the content files.
    #[schema(example = "9c1d2e3f4a5b6c7d")]
    pub revision: String,
    /// How many articles are served.
    #[schema(example = 1)]
    pub articles: usize,
}

/// Check that the server is ready to serve content
///
/// Answers `200` with the content revision and article count. The server
/// opens its port only after its content has loaded, and a failed reload
/// keeps the previous content, so a listening server is always ready.
#[utoipa::path(
    get,
    tag = "operations",
    responses(
        (status = 200, description = "Content is loaded.", body = Readiness),
        (status = 400, response = BadRequest),
    )
)]
#[route("/readyz", method = "GET", method = "HEAD")]
pub async fn readiness_view(content: web::Data<LiveContent>, _: NoQuery) -> HttpResponse {
    let store = content.current();
    HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .insert_header((CONTENT_REVISION, store.revision_header().clone()))
        .json(Readiness {
            status: "ready",
            revision: store.revision().to_owned(),
            articles: store.len(),
        })
}

/// Fetch the server's metrics
///
/// Prometheus text format: requests by route template and status, latency,
/// requests in flight, content reloads and revision, and process metrics.
#[utoipa::path(
    get,
    tag = "operations",
    responses(
        (status = 200, description = "The metrics.", body = String, content_type = "text/plain; version=0.0.4"),
        (status = 400, response = BadRequest),
    )
)]
#[route("/metrics", method = "GET", method = "HEAD")]
pub async fn metrics_view(metrics: web::Data<Metrics>, _: NoQuery) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .content_type(ContentType(
            "text/plain; version=0.0.4; charset=utf-8"
                .parse()
                .expect("a valid media type"),
        ))
        .body(metrics.render())
}
