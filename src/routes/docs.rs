//! The API's documentation: `/openapi.json` (the generated document,
//! prepared once at start) and Swagger UI at `/docs/`, served from this
//! origin (`utoipa-swagger-ui`, vendored). Not operations of the API, so not
//! in the document.

use actix_web::{HttpRequest, HttpResponse, dev::Service as _, http::Method, web};
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi};

use super::fallback;
use crate::{
    http::{cache::Caching, representation::Representation},
    urls,
};

/// The OpenAPI document, pretty-printed and prepared once at start.
pub struct Spec(pub Representation);

/// Registers `/openapi.json`, `/docs` and Swagger UI.
pub fn configure(config: &mut web::ServiceConfig) -> &mut web::ServiceConfig {
    config
        .service(fallback::reading(urls::OPENAPI, spec_view))
        .service(web::redirect(urls::DOCS.trim_end_matches('/'), urls::DOCS))
        .service(
            // Swagger UI answers only `GET`; a `HEAD` (a link checker's) is
            // served as one, and actix-web sends no body for it.
            web::scope(urls::DOCS.trim_end_matches('/'))
                .wrap_fn(|mut req, service| {
                    if req.method() == Method::HEAD {
                        req.head_mut().method = Method::GET;
                    }
                    service.call(req)
                })
                .service(SwaggerUi::new("/{_:.*}").config(SwaggerConfig::new([urls::OPENAPI]))),
        )
}

async fn spec_view(req: HttpRequest, spec: web::Data<Spec>) -> HttpResponse {
    spec.0.respond(&req, "application/json", Caching::Content)
}
