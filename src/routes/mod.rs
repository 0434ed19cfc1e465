//! HTTP resources, one module per resource. [`configure`] is the one
//! registration: it gives the app its routes and the OpenAPI spec its paths.

mod articles;
mod benefits;
mod faqs;
mod health;
mod index;
pub mod params;
mod precautions;
mod sections;

use actix_web::{HttpRequest, HttpResponse, http::header::HeaderName};
use utoipa_actix_web::{scope, service_config::ServiceConfig};

use crate::{
    content::{Collection, Entry, Slug, Store},
    error::ApiError,
    representation::Representation,
};
use params::{ArticlePath, PartPath};

/// Registers every resource, for the server and for the spec alike.
///
/// Routes nest in scopes by path prefix: actix-web tries resources in turn,
/// and each path with a parameter costs a regex match, so a flat list made
/// the last routes measurably slower than the first. Nested, any route is at
/// most two such matches away. A handler's own path is relative to its scope.
pub fn configure(config: &mut ServiceConfig) {
    config
        .service(index::index_view)
        .service(health::health_view)
        .service(health::readiness_view)
        .service(health::metrics_view)
        .service(articles::article_list)
        .service(
            scope("/v1/articles/{slug}")
                .service(articles::article_view)
                .service(
                    scope("/sections")
                        .service(sections::section_list)
                        .service(sections::section_view),
                )
                .service(
                    scope("/benefits")
                        .service(benefits::benefit_list)
                        .service(benefits::benefit_view),
                )
                .service(
                    scope("/precautions")
                        .service(precautions::precaution_list)
                        .service(precautions::precaution_view),
                )
                .service(
                    scope("/faqs")
                        .service(faqs::faq_list)
                        .service(faqs::faq_view),
                ),
        );
}

/// The header naming the content revision a response was served from.
pub const CONTENT_REVISION: HeaderName = HeaderName::from_static("x-content-revision");

/// Answers with a prepared JSON representation of `store` (200, 304 or 406).
fn json(req: &HttpRequest, store: &Store, representation: &Representation) -> HttpResponse {
    let mut response = representation.respond(req, "application/json");
    response
        .headers_mut()
        .insert(CONTENT_REVISION, store.revision_header().clone());
    response
}

fn article<'a>(store: &'a Store, slug: &Slug) -> Result<&'a Entry, ApiError> {
    store
        .get(slug.as_str())
        .ok_or_else(|| ApiError::not_found(format!("no article `{slug}`")))
}

/// Serves the list of one kind of part of an article.
fn part_list(
    req: &HttpRequest,
    store: &Store,
    path: &ArticlePath,
    parts: fn(&Entry) -> &Collection,
) -> Result<HttpResponse, ApiError> {
    Ok(json(req, store, &parts(article(store, &path.slug)?).list))
}

/// Serves one part of an article; `kind` names it in the 404.
fn part_view(
    req: &HttpRequest,
    store: &Store,
    path: &PartPath,
    kind: &str,
    parts: fn(&Entry) -> &Collection,
) -> Result<HttpResponse, ApiError> {
    let entry = article(store, &path.slug)?;
    let part = parts(entry).get(path.id.as_str()).ok_or_else(|| {
        ApiError::not_found(format!(
            "no {kind} `{}` in article `{}`",
            path.id, path.slug
        ))
    })?;
    Ok(json(req, store, part))
}
