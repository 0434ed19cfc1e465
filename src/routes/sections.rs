//! `/v1/articles/{slug}/sections`: the article's prose sections (intro, body sections, conclusion), in reading order.
//!
//! Registered in the scope `/v1/articles/{slug}/sections` (see `configure`), so
//! route paths here are relative to it.

use actix_web::{HttpRequest, HttpResponse, route, web};

use super::params::{ArticlePath, PartPath, PartQuery};
use crate::{
    content::{Section, Slug},
    error::{ApiError, BadRequest, NotFound},
    search::HitType,
    store::{List, LiveContent},
};

/// List an article's sections
///
/// Returns the article's prose sections (intro, body sections, conclusion), in reading order.
#[utoipa::path(
    get,
    tag = "sections",
    params(ArticlePath, PartQuery),
    responses(
        (status = 200, description = "The list, in reading order.", body = List<Section>,
            links(("item" = (operation_id = "section_view",
                parameters(("slug" = "$request.path.slug"), ("id" = "$response.body#/items/0/id")),
                description = "The first item of the list.")))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    )
)]
#[route("", method = "GET", method = "HEAD")]
pub async fn section_list(
    req: HttpRequest,
    content: web::Data<LiveContent>,
    path: ArticlePath,
    query: PartQuery,
) -> Result<HttpResponse, ApiError> {
    super::part_list::<Section>(&req, &content.current(), &path, &query.options, |entry| {
        &entry.sections
    })
}

/// Fetch one section
///
/// Returns one of the article's prose sections (intro, body sections, conclusion), in reading order; it equals its entry in the list.
#[utoipa::path(
    get,
    tag = "sections",
    params(
        ArticlePath,
        ("id" = Slug, Path, description = "The section's id within the article.", example = "understanding-deep-tissue-massage"),
        PartQuery,
    ),
    responses(
        (status = 200, description = "The section.", body = Section),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    )
)]
#[route("/{id}", method = "GET", method = "HEAD")]
pub async fn section_view(
    req: HttpRequest,
    content: web::Data<LiveContent>,
    path: PartPath,
    query: PartQuery,
) -> Result<HttpResponse, ApiError> {
    super::part_view::<Section>(
        &req,
        &content.current(),
        &path,
        &query.options,
        HitType::Section,
        |entry| &entry.sections,
    )
}
