//! `/v1/articles/{slug}/precautions`: the article's precautions, numbered in reading order.
//!
//! Registered in the scope `/v1/articles/{slug}/precautions` (see `configure`), so
//! route paths here are relative to it.

use actix_web::{HttpRequest, HttpResponse, route, web};

use super::params::{ArticlePath, PartPath, PartQuery};
use crate::{
    content::{Precaution, Slug},
    error::{ApiError, BadRequest, NotFound},
    search::HitType,
    store::{List, LiveContent},
};

/// List an article's precautions
///
/// Returns the article's precautions, numbered in reading order.
#[utoipa::path(
    get,
    tag = "precautions",
    params(ArticlePath, PartQuery),
    responses(
        (status = 200, description = "The list, in reading order.", body = List<Precaution>,
            links(("item" = (operation_id = "precaution_view",
                parameters(("slug" = "$request.path.slug"), ("id" = "$response.body#/items/0/id")),
                description = "The first item of the list.")))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    )
)]
#[route("", method = "GET", method = "HEAD")]
pub async fn precaution_list(
    req: HttpRequest,
    content: web::Data<LiveContent>,
    path: ArticlePath,
    query: PartQuery,
) -> Result<HttpResponse, ApiError> {
    super::part_list::<Precaution>(&req, &content.current(), &path, &query.options, |entry| {
        &entry.precautions
    })
}

/// Fetch one precaution
///
/// Returns one of the article's precautions, numbered in reading order; it equals its entry in the list.
#[utoipa::path(
    get,
    tag = "precautions",
    params(
        ArticlePath,
        ("id" = Slug, Path, description = "The precaution's id within the article.", example = "professional-massage-therapist"),
        PartQuery,
    ),
    responses(
        (status = 200, description = "The precaution.", body = Precaution),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    )
)]
#[route("/{id}", method = "GET", method = "HEAD")]
pub async fn precaution_view(
    req: HttpRequest,
    content: web::Data<LiveContent>,
    path: PartPath,
    query: PartQuery,
) -> Result<HttpResponse, ApiError> {
    super::part_view::<Precaution>(
        &req,
        &content.current(),
        &path,
        &query.options,
        HitType::Precaution,
        |entry| &entry.precautions,
    )
}
