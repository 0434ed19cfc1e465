//! `/v1/articles/{slug}/faqs`: the article's frequently asked questions, in reading order.
//!
//! Registered in the scope `/v1/articles/{slug}/faqs` (see `configure`), so
//! route paths here are relative to it.

use actix_web::{HttpRequest, HttpResponse, route, web};

use super::params::{ArticlePath, PartPath, PartQuery};
use crate::{
    content::{Faq, Slug},
    error::{ApiError, BadRequest, NotFound},
    search::HitType,
    store::{List, LiveContent},
};

/// List an article's FAQs
///
/// Returns the article's frequently asked questions, in reading order.
#[utoipa::path(
    get,
    tag = "faqs",
    params(ArticlePath, PartQuery),
    responses(
        (status = 200, description = "The list, in reading order.", body = List<Faq>,
            links(("item" = (operation_id = "faq_view",
                parameters(("slug" = "$request.path.slug"), ("id" = "$response.body#/items/0/id")),
                description = "The first item of the list.")))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    )
)]
#[route("", method = "GET", method = "HEAD")]
pub async fn faq_list(
    req: HttpRequest,
    content: web::Data<LiveContent>,
    path: ArticlePath,
    query: PartQuery,
) -> Result<HttpResponse, ApiError> {
    super::part_list::<Faq>(&req, &content.current(), &path, &query.options, |entry| {
        &entry.faqs
    })
}

/// Fetch one FAQ
///
/// Returns one of the article's frequently asked questions, in reading order; it equals its entry in the list.
#[utoipa::path(
    get,
    tag = "faqs",
    params(
        ArticlePath,
        ("id" = Slug, Path, description = "The FAQ's id within the article.", example = "what-is-deep-tissue-massage"),
        PartQuery,
    ),
    responses(
        (status = 200, description = "The faq.", body = Faq),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    )
)]
#[route("/{id}", method = "GET", method = "HEAD")]
pub async fn faq_view(
    req: HttpRequest,
    content: web::Data<LiveContent>,
    path: PartPath,
    query: PartQuery,
) -> Result<HttpResponse, ApiError> {
    super::part_view::<Faq>(
        &req,
        &content.current(),
        &path,
        &query.options,
        HitType::Faq,
        |entry| &entry.faqs,
    )
}
