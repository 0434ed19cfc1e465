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

use actix_web::{HttpResponse, http::header::ContentType};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::{
    content::{Collection, Entry, Prepared, Store},
    error::ApiError,
};
use params::{ArticlePath, PartPath};

/// Registers every resource, for the server and for the spec alike.
pub fn configure(config: &mut ServiceConfig) {
    config
        .service(index::index_view)
        .service(health::health_view)
        .service(articles::article_list)
        .service(articles::article_view)
        .service(sections::section_list)
        .service(sections::section_view)
        .service(benefits::benefit_list)
        .service(benefits::benefit_view)
        .service(precautions::precaution_list)
        .service(precautions::precaution_view)
        .service(faqs::faq_list)
        .service(faqs::faq_view);
}

/// A `200 OK` carrying a prepared JSON body.
fn json(prepared: &Prepared) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(prepared.body.clone())
}

fn article<'a>(store: &'a Store, path: &ArticlePath) -> Result<&'a Entry, ApiError> {
    store
        .get(path.slug.as_str())
        .ok_or_else(|| ApiError::not_found(format!("no article `{}`", path.slug)))
}

/// Serves the list of one kind of part of an article.
fn part_list(
    store: &Store,
    path: &ArticlePath,
    parts: fn(&Entry) -> &Collection,
) -> Result<HttpResponse, ApiError> {
    Ok(json(&parts(article(store, path)?).list))
}

/// Serves one part of an article; `kind` names it in the 404.
fn part_view(
    store: &Store,
    path: &PartPath,
    kind: &str,
    parts: fn(&Entry) -> &Collection,
) -> Result<HttpResponse, ApiError> {
    let entry = article(
        store,
        &ArticlePath {
            slug: path.slug.clone(),
        },
    )?;
    let part = parts(entry).get(path.id.as_str()).ok_or_else(|| {
        ApiError::not_found(format!(
            "no {kind} `{}` in article `{}`",
            path.id, path.slug
        ))
    })?;
    Ok(json(part))
}
