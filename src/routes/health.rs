//! `/healthz`: tells a load balancer or container runtime the process is alive.

use actix_web::{HttpResponse, route};
use serde::Serialize;
use utoipa::ToSchema;

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
    tag = "health",
    responses((status = 200, description = "The server is alive.", body = Health))
)]
#[route("/healthz", method = "GET", method = "HEAD")]
pub async fn health_view() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}
