//! `/v1/articles/{slug}/benefits`: the article's benefits, numbered in reading order.
//!
//! Registered in the scope `/v1/articles/{slug}/benefits` (see `configure`), so
//! route paths here are relative to it.

use actix_web::{HttpRequest, HttpResponse, route, web};

use super::params::{ArticlePath, PartPath, PartQuery};
use crate::{
    content::{Benefit, Slug},
    error::{ApiError, BadRequest, NotFound},
    search::HitType,
    store::{List, LiveContent},
};

/// List an article's benefits
///
/// Returns the article's benefits, numbered in reading order.
#[utoipa::path(
    get,
    tag = "benefits",
    params(ArticlePath, PartQuery),
    responses(
        (status = 200, description = "The list, in reading order.", body = List<Benefit>,
            links(("item" = (operation_id = "benefit_view",
                parameters(("slug" = "$request.path.slug"), ("id" = "$response.body#/items/0/id")),
                description = "The first item of the list.")))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    )
)]
#[route("", method = "GET", method = "HEAD")]
pub async fn benefit_list(
    req: HttpRequest,
    content: web::Data<LiveContent>,
    path: ArticlePath,
    query: PartQuery,
) -> Result<HttpResponse, ApiError> {
    super::part_list::<Benefit>(&req, &content.current(), &path, &query.options, |entry| {
        &entry.benefits
    })
}

/// Fetch one benefit
///
/// Returns one of the article's benefits, numbered in reading order; it equals its entry in the list.
#[utoipa::path(
    get,
    tag = "benefits",
    params(
        ArticlePath,
        ("id" = Slug, Path, description = "The benefit's id within the article.", example = "reduces-muscle-tension"),
        PartQuery,
    ),
    responses(
        (status = 200, description = "The benefit.", body = Benefit),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    )
)]
#[route("/{id}", method = "GET", method = "HEAD")]
pub async fn benefit_view(
    req: HttpRequest,
    content: web::Data<LiveContent>,
    path: PartPath,
    query: PartQuery,
) -> Result<HttpResponse, ApiError> {
    super::part_view::<Benefit>(
        &req,
        &content.current(),
        &path,
        &query.options,
        HitType::Benefit,
        |entry| &entry.benefits,
    )
}
