//! `/`: where a client starts, linking every resource and the docs.

use std::sync::LazyLock;

use actix_web::{HttpRequest, HttpResponse, route, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::params::NoQuery;
use crate::{
    error::BadRequest,
    http::{cache::Caching, representation::Representation},
    store::LiveContent,
    urls,
};

/// The API's entry point: links to everything else.
#[derive(Debug, Serialize, ToSchema)]
pub struct Index {
    /// The API's name.
    #[schema(example = "relief-api")]
    pub name: &'static str,
    /// The API's version.
    #[schema(example = "0.1.0")]
    pub version: &'static str,
    /// Links to the resources and docs, by relation.
    pub links: IndexLinks,
}

/// Where the resources and docs are.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndexLinks {
    /// The list of articles.
    #[schema(example = "/v1/articles")]
    pub articles: &'static str,
    /// One article; replace `{slug}`.
    #[schema(example = "/v1/articles/{slug}")]
    pub article: &'static str,
    /// An article's prose sections.
    #[schema(example = "/v1/articles/{slug}/sections")]
    pub sections: &'static str,
    /// An article's benefits.
    #[schema(example = "/v1/articles/{slug}/benefits")]
    pub benefits: &'static str,
    /// An article's precautions.
    #[schema(example = "/v1/articles/{slug}/precautions")]
    pub precautions: &'static str,
    /// An article's FAQs.
    #[schema(example = "/v1/articles/{slug}/faqs")]
    pub faqs: &'static str,
    /// An article's approved replies; POST here to reply.
    #[schema(example = "/v1/articles/{slug}/replies")]
    pub replies: &'static str,
    /// An article as schema.org JSON-LD, for search engines.
    #[schema(example = "/v1/articles/{slug}/jsonld")]
    pub jsonld: &'static str,
    /// An article's reader page (HTML), with its replies and reply form.
    #[schema(example = "/articles/{slug}")]
    pub page: &'static str,
    /// Every article at once, whole.
    #[schema(example = "/v1/bundle")]
    pub bundle: &'static str,
    /// Full-text search; an RFC 6570 template: fill in `{query}`, add the
    /// other parameters at will.
    #[schema(example = "/v1/search?q={query}{&type,lang,limit,offset}")]
    pub search: &'static str,
    /// What changed since a sync token; an RFC 6570 template.
    #[schema(example = "/v1/sync{?sync_token,type,lang,limit}")]
    pub sync: &'static str,
    /// The live events (server-sent events).
    #[schema(example = "/v1/events")]
    pub events: &'static str,
    /// The moderation queue (needs a moderator's token).
    #[schema(example = "/v1/moderation/replies")]
    pub moderation: &'static str,
    /// The OpenAPI 3.1 document.
    #[schema(example = "/openapi.json")]
    pub openapi: &'static str,
    /// The interactive docs (Swagger UI).
    #[schema(example = "/docs/")]
    pub docs: &'static str,
}

static INDEX: LazyLock<Representation> = LazyLock::new(|| {
    Representation::json(&Index {
        name: env!("CARGO_PKG_NAME"),
        version: env!("CARGO_PKG_VERSION"),
        links: IndexLinks {
            articles: urls::ARTICLES,
            article: urls::templates::ARTICLE,
            sections: urls::templates::SECTIONS,
            benefits: urls::templates::BENEFITS,
            precautions: urls::templates::PRECAUTIONS,
            faqs: urls::templates::FAQS,
            replies: urls::templates::REPLIES,
            jsonld: urls::templates::JSONLD,
            page: urls::templates::PAGE,
            bundle: urls::BUNDLE,
            search: urls::templates::SEARCH,
            sync: urls::templates::SYNC,
            events: urls::EVENTS,
            moderation: urls::MODERATION_REPLIES,
            openapi: urls::OPENAPI,
            docs: urls::DOCS,
        },
    })
});

/// Fetch the API index
///
/// Returns links to the resources, the OpenAPI document and the docs. A
/// browser (asking for `text/html`) gets a page linking each article's
/// reader page instead.
#[utoipa::path(
    get,
    tag = "index",
    responses(
        (status = 200, description = "Links to everything else.", body = Index),
        (status = 400, response = BadRequest),
    )
)]
#[route("/", method = "GET", method = "HEAD")]
pub async fn index_view(
    req: HttpRequest,
    content: web::Data<LiveContent>,
    _: NoQuery,
) -> HttpResponse {
    let mut response = if super::reader::wants_html(&req) {
        super::reader::index_page(&req, &content.current())
    } else {
        INDEX.respond(&req, "application/json", Caching::Content)
    };
    super::vary_on_accept(&mut response);
    response
}
