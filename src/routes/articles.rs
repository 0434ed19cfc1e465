//! `/v1/articles`: the list of articles and each article whole.

use actix_web::{HttpRequest, HttpResponse, http::header, route, web};

use super::params::{ArticlePath, NoQuery, PageQuery, Pagination};
use crate::{
    content::{Article, ArticleSummary, LiveContent, Page},
    error::{ApiError, BadRequest, NotFound},
};

/// List articles
///
/// Returns one page of the articles, sorted by slug. A `Link` header
/// (RFC 8288) points to the `first`, `prev`, `next` and `last` pages.
#[utoipa::path(
    get,
    tag = "articles",
    params(PageQuery),
    responses(
        (status = 200, description = "One page of articles.", body = Page<ArticleSummary>,
            headers(("Link" = String, description = "Links to the first, previous, next and last pages (RFC 8288)."))),
        (status = 400, response = BadRequest),
    )
)]
#[route("/v1/articles", method = "GET", method = "HEAD")]
pub async fn article_list(
    req: HttpRequest,
    content: web::Data<LiveContent>,
    page: Pagination,
) -> HttpResponse {
    let store = content.current();
    let page = store.page(page.limit, page.offset);
    let mut response = super::json(&req, &store, &page.representation);
    response.headers_mut().insert(header::LINK, page.link);
    response
}

/// Fetch an article
///
/// Returns the whole article: its title, intro, sections, benefits,
/// precautions, conclusion and FAQs, in reading order.
#[utoipa::path(
    get,
    tag = "articles",
    params(ArticlePath),
    responses(
        (status = 200, description = "The whole article.", body = Article),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    )
)]
#[route("", method = "GET", method = "HEAD")]
pub async fn article_view(
    req: HttpRequest,
    content: web::Data<LiveContent>,
    path: ArticlePath,
    _: NoQuery,
) -> Result<HttpResponse, ApiError> {
    let store = content.current();
    Ok(super::json(
        &req,
        &store,
        &super::article(&store, &path.slug)?.whole,
    ))
}
