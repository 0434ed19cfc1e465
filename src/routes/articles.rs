//! `/v1/articles`: the list of articles, each article whole and as
//! schema.org JSON-LD, and `/v1/bundle`, every article at once.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, http::header, route, web};

use super::params::{ArticleFilter, ArticleListQuery, ArticlePath, NoQuery, content_query};
use crate::{
    content::{Article, ArticleSummary},
    error::{ApiError, BadRequest, NotFound, RangeNotSatisfiable},
    http::{
        cache::Caching, conditional::IfModifiedSince, range::RangeRequest,
        representation::Representation,
    },
    store::{Bundle, LiveContent, Page},
};

/// List articles
///
/// Returns one page of the articles, sorted by slug, each with its review
/// status. `?review_status=due` (or `overdue`) lists only those whose review
/// falls due within 30 days (or is past due). A `Link` header (RFC 8288)
/// points to the `first`, `prev`, `next` and `last` pages.
#[utoipa::path(
    get,
    tag = "articles",
    params(ArticleListQuery),
    responses(
        (status = 200, description = "One page of articles.", body = Page<ArticleSummary>,
            headers(("Link" = String, description = "Links to the first, previous, next and last pages (RFC 8288).")),
            links(("article" = (operation_id = "article_view",
                parameters(("slug" = "$response.body#/items/0/slug")),
                description = "The first article of the page.")))),
        (status = 400, response = BadRequest),
    )
)]
#[route("/v1/articles", method = "GET", method = "HEAD")]
pub async fn article_list(
    req: HttpRequest,
    content: web::Data<LiveContent>,
    ArticleListQuery {
        filter: ArticleFilter {
            review_status,
            page,
        },
        ..
    }: ArticleListQuery,
) -> HttpResponse {
    let store = content.current();
    let page = store.page(review_status, page.limit, page.offset);
    let mut response = super::json(&req, &store, &page.representation);
    response.headers_mut().insert(header::LINK, page.link);
    super::LIST_KEYS.apply(response.headers_mut());
    response
}

/// Fetch an article
///
/// Returns the whole article: its title, intro, sections, benefits,
/// precautions, conclusion and FAQs, in reading order, with its editorial
/// dates and credits where the content gives them. `?fields=` keeps only
/// the fields named; `?lang=` or `Accept-Language` chooses the translation
/// (`Content-Language` says which was served).
#[utoipa::path(
    get,
    tag = "articles",
    params(ArticlePath, ArticleQuery, IfModifiedSince),
    responses(
        (status = 200, description = "The whole article.", body = Article, headers(
            ("Link" = String, description = "The article's other representations (RFC 8288, `rel=\"alternate\"`): its reader page (`text/html`) and its JSON-LD (`application/ld+json`)."),
        ), links(
            ("section" = (operation_id = "section_view", parameters(("slug" = "$response.body#/slug"), ("id" = "$response.body#/sections/0/id")), description = "The article's first section.")),
            ("benefit" = (operation_id = "benefit_view", parameters(("slug" = "$response.body#/slug"), ("id" = "$response.body#/benefits/items/0/id")), description = "The article's first benefit.")),
            ("precaution" = (operation_id = "precaution_view", parameters(("slug" = "$response.body#/slug"), ("id" = "$response.body#/precautions/items/0/id")), description = "The article's first precaution.")),
            ("faq" = (operation_id = "faq_view", parameters(("slug" = "$response.body#/slug"), ("id" = "$response.body#/faqs/items/0/id")), description = "The article's first FAQ.")),
            ("replies" = (operation_id = "reply_list", parameters(("slug" = "$response.body#/slug")), description = "The article's approved replies.")),
            ("reply" = (operation_id = "reply_create", parameters(("slug" = "$response.body#/slug")), description = "Post a reply to the article.")),
        )),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    )
)]
#[route("", method = "GET", method = "HEAD")]
pub async fn article_view(
    req: HttpRequest,
    content: web::Data<LiveContent>,
    path: ArticlePath,
    ArticleQuery { options, .. }: ArticleQuery,
    since: IfModifiedSince,
) -> Result<HttpResponse, ApiError> {
    let fields = options.fields_of::<Article>()?;
    let store = content.current();
    let entry = super::article(&store, &path.slug, &options.lang)?;
    let mut response = super::article_json(
        &req,
        &store,
        entry,
        &entry.whole,
        fields.as_deref(),
        false,
        since,
    );
    // On a 406 too: it names what the client could have had instead.
    response
        .headers_mut()
        .insert(header::LINK, entry.alternates.of_json.clone());
    Ok(response)
}

/// Fetch an article's schema.org JSON-LD
///
/// Returns what search engines read about the article (`application/ld+json`):
/// a `MedicalWebPage` about its subject, and an `FAQPage` whose `mainEntity`
/// holds each FAQ as a `Question` with its `acceptedAnswer`. Every value
/// comes from the article; what it does not say is left out. Embed it in a
/// page in a `<script type="application/ld+json">`.
#[utoipa::path(
    get,
    tag = "articles",
    params(ArticlePath, LangQuery, IfModifiedSince),
    responses(
        (status = 200, description = "The JSON-LD.", content_type = "application/ld+json", body = Object,
            headers(
            ("Link" = String, description = "The article's other representations (RFC 8288, `rel=\"alternate\"`): its JSON (`application/json`) and its reader page (`text/html`)."),
        ),
            example = json!({
                "@context": "https://schema.org",
                "@graph": [
                    {
                        "@type": "MedicalWebPage",
                        "name": "Back Pain Relief With Deep Tissue Massage",
                        "headline": "Back Pain Relief With Deep Tissue Massage",
                        "inLanguage": "en",
                        "about": { "@type": "MedicalTherapy", "name": "Deep Tissue Massage" }
                    },
                    {
                        "@type": "FAQPage",
                        "inLanguage": "en",
                        "mainEntity": [{
                            "@type": "Question",
                            "name": "What is deep tissue massage?",
                            "acceptedAnswer": { "@type": "Answer", "text": "Deep tissue massage is a therapeutic technique that focuses on reaching the deeper layers of muscles and connective tissues in the body. It involves applying firm pressure and slow strokes to break up muscle knots and tension." }
                        }]
                    }
                ]
            })),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    )
)]
#[route("/jsonld", method = "GET", method = "HEAD")]
pub async fn article_jsonld_view(
    req: HttpRequest,
    content: web::Data<LiveContent>,
    path: ArticlePath,
    LangQuery { options, .. }: LangQuery,
    since: IfModifiedSince,
) -> Result<HttpResponse, ApiError> {
    let store = content.current();
    let entry = super::article(&store, &path.slug, &options.lang)?;
    let mut response = entry.jsonld().respond_full(
        &req,
        "application/ld+json",
        Caching::Content,
        entry.last_modified,
        since,
        None,
    );
    super::article_headers(&mut response, &store, entry);
    response
        .headers_mut()
        .insert(header::LINK, entry.alternates.of_jsonld.clone());
    Ok(response)
}

/// Fetch every article at once
///
/// Returns every article, whole, in every language, in one cacheable
/// response: an app fetches it once to work offline, then revalidates
/// with `If-None-Match` (a `304` while nothing changed). A download cut off
/// is finished with `Range` (the bytes after those held, uncompressed:
/// ranges are served to a client that asks for the body uncompressed) and
/// `If-Range` (the `ETag` it came with, in any coding).
#[utoipa::path(
    get,
    tag = "articles",
    params(RangeRequest),
    responses(
        (status = 200, description = "Every article.", body = Bundle,
            headers(("Accept-Ranges" = String, description = "`bytes`: a part of the body may be asked for with `Range`."))),
        (status = 206, description = "The one byte range asked for, of the uncompressed body, to a client that asked for that body (`Accept-Encoding: identity`, or none); one that takes a compressed body gets it whole.",
            headers(
                ("Content-Range" = String, description = "The bytes sent, first and last counted from 0, and the whole body's length: `bytes 1024-9767/9768`."),
                ("ETag" = String, description = "The uncompressed body's, as on an uncompressed `200`."),
            )),
        (status = 400, response = BadRequest),
        (status = 416, response = RangeNotSatisfiable),
    )
)]
#[route("/v1/bundle", method = "GET", method = "HEAD")]
pub async fn article_bundle(
    req: HttpRequest,
    content: web::Data<LiveContent>,
    range: RangeRequest,
    _: NoQuery,
) -> HttpResponse {
    let store = content.snapshot();
    if !store
        .bundle_made()
        .is_some_and(Representation::is_compressed)
    {
        // Made and compressed once per content revision, on a blocking
        // thread: at 10,000 articles that takes over a second, which would
        // hold this worker and every connection it serves. Should the
        // blocking pool be gone (the server stopping), it is made below.
        let making = Arc::clone(&store);
        let _ = web::block(move || {
            making.bundle().compress();
        })
        .await;
    }
    let bundle = store.bundle();
    let mut response = bundle.respond_ranged(&req, "application/json", Caching::Content, &range);
    super::content_revision(&mut response, &store);
    super::BUNDLE_KEYS.apply(response.headers_mut());
    response
}

content_query! {
    /// The query string of an article.
    ArticleQuery {
        /// The fields to return, comma-separated (the rest are left out), for
        /// example `title,benefits`. Without it, the whole article.
        fields
    }
}

content_query! {
    /// The query string of a resource that comes in languages but has no
    /// fields to choose (JSON-LD).
    LangQuery {}
}
