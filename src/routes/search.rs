//! `/v1/search`: full-text search over every article and its parts.

use actix_web::{HttpRequest, HttpResponse, route, web};

use std::sync::Arc;

use crate::{
    content::Lang,
    error::{ApiError, BadRequest, InternalError, SearchUnavailable},
    http::cache::Caching,
    search::{HitType, Query, QueryRefused, Search, SearchHit, SearchPool},
    store::{LiveContent, Page},
    urls,
};
use std::future::{Ready, ready};

use actix_web::{FromRequest, dev::Payload};
use serde::Deserialize;
use utoipa::IntoParams;

use super::params::{Pagination, kind_param, lang_param, query};

/// Search articles and their parts
///
/// Finds the articles, sections, benefits, precautions and FAQs whose words
/// match `q`, ranked by relevance (BM25; a title weighs twice its text).
/// Words match their other forms ("massages" finds "massage", "relaxing"
/// finds "relaxation"), and a word of five letters or more also matches
/// words one typo away. A `"quoted phrase"` must be in each hit, its
/// words in that order (each still in any of its forms, and forgiven a
/// typo as a plain word is), and a word or a quoted phrase right after a
/// `-` must be in none (`massage -pressure`); a `q` of only words to leave
/// out, or of more than 8 phrases and words to leave out, is a `400`. Each
/// hit has a snippet with the matched words in `<mark>`, a quoted phrase
/// in one. `type` keeps one kind of resource, `lang` one language; pages
/// as other lists. Searches take turns on a pool sized to the
/// server's cores; when too many are waiting, the answer is `503` with
/// `Retry-After`. A search that fails (a bug) is a `500` whose cause is
/// logged, not sent.
#[utoipa::path(
    get,
    tag = "search",
    params(SearchQuery),
    responses(
        (status = 200, description = "One page of hits, best first.", body = Page<SearchHit>,
            headers(("Link" = String, description = "Links to the first, previous, next and last pages (RFC 8288)."))),
        (status = 400, response = BadRequest),
        (status = 500, response = InternalError),
        (status = 503, response = SearchUnavailable),
    )
)]
#[route("/v1/search", method = "GET", method = "HEAD")]
pub async fn search_list(
    req: HttpRequest,
    content: web::Data<LiveContent>,
    pool: web::Data<SearchPool>,
    SearchQuery { search: filter, .. }: SearchQuery,
) -> Result<HttpResponse, ApiError> {
    let store = content.snapshot();
    // The page is serialized on the search's thread: the hits' strings
    // are then made and freed on one thread, where handing them to the
    // worker to free drained glibc's per-thread caches (about 15% of a
    // search's CPU under load, bench/README.md).
    let (body, total) = {
        let (store, filter) = (Arc::clone(&store), filter.clone());
        pool.run(move || {
            let found = store.search(&Search {
                query: &filter.words,
                kind: filter.kind,
                lang: filter.lang.as_ref(),
                limit: filter.page.limit,
                offset: filter.page.offset,
            })?;
            Some(found.map(|(hits, total)| (super::page_body(hits, total, filter.page), total)))
        })
        .await?
        .ok_or_else(|| {
            ApiError::NotReady(
                "the search index is still being built; try again in a second".into(),
            )
        })??
    };
    let mut base = vec![("q", filter.query.as_str())];
    if let Some(kind) = filter.kind {
        base.push(("type", kind.as_str()));
    }
    if let Some(lang) = &filter.lang {
        base.push(("lang", lang.as_str()));
    }
    let base = format!(
        "{}?{}",
        urls::SEARCH,
        serde_urlencoded::to_string(&base).unwrap_or_default()
    );
    let mut response = super::page_answer(&req, &body, total, filter.page, &base, Caching::Content);
    response
        .headers_mut()
        .insert(super::CONTENT_REVISION, store.revision_header().clone());
    super::SEARCH_KEYS.apply(response.headers_mut());
    Ok(response)
}

/// The query string of a search.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// The words to find: 1 to 200 characters. A `"quoted phrase"` must be
    /// in each hit, its words in that order; a word or quoted phrase after
    /// a `-` must be in none; at most 8 of these together.
    #[param(
        min_length = 1,
        max_length = 200,
        pattern = r"\S",
        example = "relaxing \"deep tissue\" -pressure"
    )]
    q: String,
    /// Only hits of this kind, for example `benefit`.
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<HitType>)]
    kind: Option<String>,
    /// Only text in this language (a BCP 47 tag such as `es`).
    #[param(value_type = Option<String>, max_length = 35, pattern = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")]
    lang: Option<String>,
    /// The most hits to return.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100, default = 20)]
    limit: Option<String>,
    /// How many hits to skip.
    #[param(value_type = Option<u32>, minimum = 0, maximum = 2_147_483_647, default = 0)]
    offset: Option<String>,
    /// The search asked for, validated.
    #[serde(skip)]
    #[param(ignore)]
    pub search: SearchFilter,
}

/// The longest search query, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

/// A search, validated.
#[derive(Debug, Clone, Default)]
pub struct SearchFilter {
    /// `q` as given, trimmed: what the page links repeat.
    pub query: String,
    /// `q` read: the words that rank, the phrases to find, those to leave out.
    pub words: Query,
    pub kind: Option<HitType>,
    pub lang: Option<Lang>,
    pub page: Pagination,
}

impl FromRequest for SearchQuery {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(query::<Self>(req).and_then(|mut query| {
            let trimmed = query.q.trim();
            if trimmed.is_empty() {
                return Err(ApiError::bad_request(
                    "query parameter `q` is required: the words to search for",
                ));
            }
            let chars = trimmed.chars().count();
            if chars > MAX_QUERY_CHARS {
                return Err(ApiError::bad_request(format!(
                    "query parameter `q` must be at most {MAX_QUERY_CHARS} characters, not {chars}"
                )));
            }
            let words = trimmed
                .parse()
                .map_err(|refused: QueryRefused| ApiError::bad_request(refused.to_string()))?;
            let kind = kind_param(query.kind.take())?;
            let lang = lang_param(query.lang.take())?;
            let page = Pagination::parse(query.limit.take(), query.offset.take())?;
            query.search = SearchFilter {
                query: trimmed.to_owned(),
                words,
                kind,
                lang,
                page,
            };
            Ok(query)
        }))
    }
}
