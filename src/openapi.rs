//! The OpenAPI 3.1 document: the API-wide parts live on [`ApiDoc`], every path
//! comes from the one route registration in [`crate::routes::configure`].

use actix_web::App;
use utoipa::{OpenApi, openapi};
use utoipa_actix_web::AppExt;

use crate::{
    content::Slug,
    error::{BadRequest, NotFound, Problem},
    routes,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "relief-api",
        description = "A JSON content API serving the article \"Back Pain Relief With Deep Tissue Massage\": \
the article whole, its sections, benefits, precautions and FAQs as typed resources.\n\n\
Every error is `application/problem+json` (RFC 9457). Identifiers (slugs and ids) are lowercase kebab-case.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0"),
    ),
    tags(
        (name = "articles", description = "Articles, listed and whole."),
        (name = "sections", description = "An article's prose sections: intro, body sections and conclusion."),
        (name = "benefits", description = "An article's numbered benefits."),
        (name = "precautions", description = "An article's numbered precautions."),
        (name = "faqs", description = "An article's frequently asked questions."),
        (name = "index", description = "The entry point, linking everything else."),
        (name = "health", description = "Probes for load balancers and orchestrators."),
    ),
    components(schemas(Problem, Slug), responses(BadRequest, NotFound)),
)]
pub struct ApiDoc;

/// The whole OpenAPI document, as the server serves it.
pub fn document() -> openapi::OpenApi {
    let (_, document) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes::configure)
        .split_for_parts();
    document
}

/// The document as committed in `openapi/openapi.json`: pretty-printed, keys in
/// a stable order, ending with a newline.
pub fn document_json() -> String {
    let mut json = document()
        .to_pretty_json()
        .expect("the OpenAPI document serializes");
    json.push('\n');
    json
}
