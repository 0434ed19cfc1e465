//! `/v1/search`: full-text search over every article and its parts.

use actix_web::{HttpRequest, HttpResponse, route, web};

use super::params::{SearchFilter, SearchQuery};
use crate::{
    error::{ApiError, BadRequest, Unavailable},
    http::cache::Caching,
    search::{Search, SearchHit},
    store::{LiveContent, Page},
    urls,
};

/// Search articles and their parts
///
/// Finds the articles, sections, benefits, precautions and FAQs whose words
/// match `q`, ranked by relevance (BM25; a title weighs twice its text).
/// Words match their other forms ("massages" finds "massage", "relaxing"
/// finds "relaxation"), and a word of five letters or more also matches
/// words one typo away. Each hit has a snippet with the matched words in
/// `<mark>`. `type` keeps one kind of resource; pages as other lists.
#[utoipa::path(
    get,
    tag = "search",
    params(SearchQuery),
    responses(
        (status = 200, description = "One page of hits, best first.", body = Page<SearchHit>,
            headers(("Link" = String, description = "Links to the first, previous, next and last pages (RFC 8288)."))),
        (status = 400, response = BadRequest),
        (status = 503, response = Unavailable),
    )
)]
#[route("/v1/search", method = "GET", method = "HEAD")]
pub async fn search_list(
    req: HttpRequest,
    content: web::Data<LiveContent>,
    filter: SearchFilter,
) -> Result<HttpResponse, ApiError> {
    let store = content.current();
    let (hits, total) = store
        .search(&Search {
            query: &filter.query,
            kind: filter.kind,
            limit: filter.page.limit,
            offset: filter.page.offset,
        })
        .ok_or_else(|| {
            ApiError::NotReady(
                "the search index is still being built; try again in a second".into(),
            )
        })?;
    let mut base = vec![("q", filter.query.as_str())];
    if let Some(kind) = filter.kind {
        base.push(("type", kind.as_str()));
    }
    let base = format!(
        "{}?{}",
        urls::SEARCH,
        serde_urlencoded::to_string(&base).unwrap_or_default()
    );
    let mut response =
        super::page_response(&req, hits, total, filter.page, &base, Caching::Content);
    response
        .headers_mut()
        .insert(super::CONTENT_REVISION, store.revision_header().clone());
    Ok(response)
}
