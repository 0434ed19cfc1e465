//! `/v1/articles`: the list of articles and each article whole.

use actix_web::{HttpResponse, http::header::ContentType, route, web};

use super::params::{ArticlePath, PageQuery, Pagination};
use crate::{
    content::{Article, ArticleSummary, Page, Prepared, Store},
    error::{ApiError, BadRequest, NotFound},
};

const PATH: &str = "/v1/articles";

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
pub async fn article_list(store: web::Data<Store>, page: Pagination) -> HttpResponse {
    let entries = store.entries();
    let items: Vec<&ArticleSummary> = entries
        .iter()
        .skip(page.offset)
        .take(page.limit)
        .map(|entry| &entry.summary)
        .collect();
    let body = Prepared::json(&Page {
        items,
        total: entries.len(),
        limit: page.limit,
        offset: page.offset,
    });
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .insert_header(("Link", link_header(page, entries.len())))
        .body(body.body)
}

/// The `Link` header value for `page` of a list of `total` items.
fn link_header(page: Pagination, total: usize) -> String {
    let link = |offset: usize, rel: &str| {
        format!(
            "<{PATH}?limit={}&offset={offset}>; rel=\"{rel}\"",
            page.limit
        )
    };
    let last = total.saturating_sub(1) / page.limit * page.limit;
    let mut links = vec![link(0, "first")];
    if page.offset > 0 {
        links.push(link(
            page.offset.saturating_sub(page.limit).min(last),
            "prev",
        ));
    }
    if page.offset + page.limit < total {
        links.push(link(page.offset + page.limit, "next"));
    }
    links.push(link(last, "last"));
    links.join(", ")
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
#[route("/v1/articles/{slug}", method = "GET", method = "HEAD")]
pub async fn article_view(
    store: web::Data<Store>,
    path: ArticlePath,
) -> Result<HttpResponse, ApiError> {
    Ok(super::json(&super::article(&store, &path)?.whole))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(limit: usize, offset: usize, total: usize) -> String {
        link_header(Pagination { limit, offset }, total)
    }

    #[test]
    fn a_single_page_links_only_to_itself() {
        assert_eq!(
            links(20, 0, 1),
            "</v1/articles?limit=20&offset=0>; rel=\"first\", </v1/articles?limit=20&offset=0>; rel=\"last\""
        );
    }

    #[test]
    fn a_middle_page_links_both_ways() {
        let header = links(2, 2, 5);
        assert!(header.contains("</v1/articles?limit=2&offset=0>; rel=\"prev\""));
        assert!(header.contains("</v1/articles?limit=2&offset=4>; rel=\"next\""));
        assert!(header.contains("</v1/articles?limit=2&offset=4>; rel=\"last\""));
    }

    #[test]
    fn a_page_past_the_end_links_back_to_the_last() {
        let header = links(10, 50, 15);
        assert!(header.contains("</v1/articles?limit=10&offset=10>; rel=\"prev\""));
        assert!(!header.contains("next"));
    }
}
