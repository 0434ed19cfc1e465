//! HTTP resources, one module per resource. [`configure`] is the one
//! registration: it gives the app its routes and the OpenAPI spec its paths.

mod articles;
mod authors;
mod benefits;
pub mod docs;
mod events;
pub mod fallback;
mod faqs;
mod health;
mod index;
mod moderation;
pub mod params;
mod precautions;
mod reader;

pub use reader::PageCache;
mod replies;
mod search;
mod sections;
mod sync;

use std::sync::LazyLock;

use actix_web::{
    HttpRequest, HttpResponse,
    http::header::{self, HeaderName, HeaderValue},
    web,
};
use serde::Serialize;
use utoipa_actix_web::{scope, service_config::ServiceConfig};

use crate::{
    content::{Lang, LangPreference, Slug},
    error::{ApiError, Meant},
    http::{
        cache::{Caching, PurgeKeys},
        conditional::IfModifiedSince,
        representation::Representation,
    },
    search::HitType,
    store::{Collection, Entry, Page, Store},
    suggest,
    urls::{self, link_header},
};
use params::{ArticlePath, ContentOptions, Pagination, PartPath};

/// `Cache-Control` of public responses that change without a content
/// reload (replies): caches keep them but ask (with the ETag) every time.
const PUBLIC_DYNAMIC: HeaderValue = HeaderValue::from_static("no-cache");
/// `Cache-Control` of what moderators see: stored by no cache.
const PRIVATE: HeaderValue = HeaderValue::from_static("private, no-store");

/// Answers with `value` as JSON made for this request, with an ETag (so
/// `If-None-Match` gets 304) and the given `Cache-Control`.
fn dynamic_json<T: Serialize>(req: &HttpRequest, value: &T, caching: Caching) -> HttpResponse {
    dynamic_body(value).respond(req, "application/json", caching)
}

/// `value` as JSON made for one request: hashed, not compressed.
fn dynamic_body<T: Serialize>(value: &T) -> Representation {
    Representation::json(value).without_variants()
}

/// Answers with one page of a list read for this request, with its `Link` header.
fn page_response<T: Serialize>(
    req: &HttpRequest,
    items: Vec<T>,
    total: usize,
    page: Pagination,
    base: &str,
    caching: Caching,
) -> HttpResponse {
    page_answer(
        req,
        &page_body(items, total, page),
        total,
        page,
        base,
        caching,
    )
}

/// One page of a list read for this request, serialized.
fn page_body<T: Serialize>(items: Vec<T>, total: usize, page: Pagination) -> Representation {
    dynamic_body(&Page {
        items,
        total,
        limit: page.limit,
        offset: page.offset,
    })
}

/// Answers with a page made by [`page_body`], with its `Link` header.
fn page_answer(
    req: &HttpRequest,
    body: &Representation,
    total: usize,
    page: Pagination,
    base: &str,
    caching: Caching,
) -> HttpResponse {
    let mut response = body.respond(req, "application/json", caching);
    if let Ok(link) = HeaderValue::from_str(&link_header(base, page.limit, page.offset, total)) {
        response.headers_mut().insert(header::LINK, link);
    }
    response
}

/// Registers every route: the API's operations (for the server and the
/// spec alike), then what is not in the spec (the documentation, the
/// reader pages and their assets) and the fallback (404 or 405).
///
/// Routes nest in scopes by path prefix: actix-web tries resources in turn,
/// and each path with a parameter costs a regex match, so a flat list made
/// the last routes measurably slower than the first. Nested, any route is at
/// most two such matches away. A handler's own path is relative to its scope.
pub fn configure(config: &mut ServiceConfig) {
    config
        .service(index::index_view)
        .service(health::health_view)
        .service(health::readiness_view)
        .service(health::metrics_view)
        .service(articles::article_list)
        .service(articles::article_bundle)
        .service(search::search_list)
        .service(sync::sync_list)
        .service(events::event_list)
        .service(
            scope("/v1/articles/{slug}")
                .service(articles::article_view)
                .service(articles::article_jsonld_view)
                .service(
                    scope("/sections")
                        .service(sections::section_list)
                        .service(sections::section_view),
                )
                .service(
                    scope("/benefits")
                        .service(benefits::benefit_list)
                        .service(benefits::benefit_view),
                )
                .service(
                    scope("/precautions")
                        .service(precautions::precaution_list)
                        .service(precautions::precaution_view),
                )
                .service(
                    scope("/faqs")
                        .service(faqs::faq_list)
                        .service(faqs::faq_view),
                )
                .service(
                    scope("/replies")
                        .service(replies::reply_create)
                        .service(replies::reply_list)
                        .service(replies::reply_view)
                        .service(replies::reply_update)
                        .service(replies::reply_delete),
                ),
        )
        .service(
            scope("/v1/moderation/replies")
                .service(moderation::moderation_reply_list)
                .service(moderation::moderation_reply_view)
                .service(moderation::moderation_reply_update)
                .service(moderation::moderation_reply_delete),
        )
        .service(
            scope("/v1/moderation/authors/{email}/replies")
                .service(authors::moderation_author_reply_list)
                .service(authors::moderation_author_reply_delete),
        )
        .map(docs::configure)
        .map(reader::configure)
        .default_service(web::to(fallback::fallback));
}

/// The purge keys of responses that depend on the list of articles, on
/// every article, and on search.
static LIST_KEYS: LazyLock<PurgeKeys> = LazyLock::new(|| PurgeKeys::new([urls::purge::LIST]));
static BUNDLE_KEYS: LazyLock<PurgeKeys> = LazyLock::new(|| PurgeKeys::new([urls::purge::BUNDLE]));
static SEARCH_KEYS: LazyLock<PurgeKeys> = LazyLock::new(|| PurgeKeys::new([urls::purge::SEARCH]));

/// The header naming the content revision a response was served from.
pub const CONTENT_REVISION: HeaderName = HeaderName::from_static("x-content-revision");

/// Answers with a prepared JSON representation of `store` (200, 304 or 406).
fn json(req: &HttpRequest, store: &Store, representation: &Representation) -> HttpResponse {
    let mut response = representation.respond(req, "application/json", Caching::Content);
    content_revision(&mut response, store);
    response
}

/// Names the content revision `response` was made from.
fn content_revision(response: &mut HttpResponse, store: &Store) {
    response
        .headers_mut()
        .insert(CONTENT_REVISION, store.revision_header().clone());
}

/// Adds `Accept` to the response's `Vary`: for resources that answer
/// browsers with HTML and API clients with JSON.
fn vary_on_accept(response: &mut HttpResponse) {
    let vary = match response.headers().get(header::VARY) {
        Some(vary) => format!("{}, accept", vary.to_str().unwrap_or_default()),
        None => "accept".to_owned(),
    };
    if let Ok(vary) = HeaderValue::from_str(&vary) {
        response.headers_mut().insert(header::VARY, vary);
    }
}

/// The `Vary` of an article's resources: they are negotiated by language too.
const VARY_ARTICLE: &str = "accept-encoding, accept-language";

/// Answers with a representation of one of `entry`'s resources: the
/// prepared one, or, with `fields`, one made for the request (`list` says
/// whether the fields are those of each item of a list). Either way with
/// its ETag, `Last-Modified` (from `updated_at`) and `Content-Language`.
fn article_json(
    req: &HttpRequest,
    store: &Store,
    entry: &Entry,
    representation: &Representation,
    fields: Option<&[String]>,
    list: bool,
    since: IfModifiedSince,
) -> HttpResponse {
    let selected;
    let representation = match fields {
        None => representation,
        Some(fields) => {
            selected = select(&representation.body(), fields, list);
            &selected
        }
    };
    let mut response = representation.respond_full(
        req,
        "application/json",
        Caching::Content,
        entry.last_modified,
        since,
        None,
    );
    article_headers(&mut response, store, entry);
    response
}

/// The headers of every response about one article in one language.
fn article_headers(response: &mut HttpResponse, store: &Store, entry: &Entry) {
    let headers = response.headers_mut();
    headers.insert(CONTENT_REVISION, store.revision_header().clone());
    headers.insert(header::VARY, HeaderValue::from_static(VARY_ARTICLE));
    headers.insert(header::CONTENT_LANGUAGE, entry.lang_header.clone());
    entry.purge.apply(headers);
}

/// `body` (a JSON object) with only `fields`; for a list, `fields` of each
/// of its `items`. Made per request, so sent uncompressed.
fn select(body: &[u8], fields: &[String], list: bool) -> Representation {
    let keep = |value: &mut serde_json::Value| {
        if let serde_json::Value::Object(object) = value {
            object.retain(|key, _| fields.iter().any(|field| field == key));
        }
    };
    let mut value: serde_json::Value =
        serde_json::from_slice(body).expect("prepared bodies are JSON");
    if list {
        if let Some(serde_json::Value::Array(items)) = value.get_mut("items") {
            items.iter_mut().for_each(keep);
        }
    } else {
        keep(&mut value);
    }
    Representation::json(&value).without_variants()
}

/// The article with this slug, in the language the request prefers.
fn article<'a>(
    store: &'a Store,
    slug: &Slug,
    lang: &LangPreference,
) -> Result<&'a Entry, ApiError> {
    store.get(slug.as_str(), lang).ok_or_else(|| {
        let meant = store.slug_meant(slug.as_str());
        let hint = suggest::did_you_mean(meant.as_ref());
        ApiError::near_miss(format!("no article `{slug}`{hint}"), meant.map(Meant::Slug))
    })
}

/// Serves the list of one kind of part of an article; `T` is the part's type.
fn part_list<T: utoipa::PartialSchema>(
    req: &HttpRequest,
    store: &Store,
    path: &ArticlePath,
    options: &ContentOptions,
    parts: fn(&Entry) -> &Collection,
) -> Result<HttpResponse, ApiError> {
    let fields = options.fields_of::<T>()?;
    let entry = article(store, &path.slug, &options.lang)?;
    Ok(article_json(
        req,
        store,
        entry,
        &parts(entry).list,
        fields.as_deref(),
        true,
        IfModifiedSince::read(req.headers()),
    ))
}

/// The part an unknown `id` most likely meant: the part at that position
/// when it is a number (a client counting from the list's `position`), else
/// the nearest id. Parts are few, tens at most, so looking costs little.
fn part_meant(parts: &Collection, id: &str) -> Option<String> {
    let ids: Vec<&str> = parts.iter().map(|(id, _)| id).collect();
    let meant = match id.parse::<usize>() {
        Ok(position) => position.checked_sub(1).and_then(|at| ids.get(at).copied()),
        Err(_) => suggest::nearest(id, &ids),
    };
    meant.map(str::to_owned)
}

/// The kind whose part `id` is when it is not a `kind`: a client that asks
/// for a benefit among the sections is told where it is. Ids are unique
/// within a kind only, so the first other kind that has it is named.
fn part_elsewhere(entry: &Entry, kind: HitType, id: &str) -> Option<HitType> {
    HitType::ALL.into_iter().find(|&other| {
        other != kind
            && entry
                .parts(other)
                .is_some_and(|parts| parts.get(id).is_some())
    })
}

/// Serves one part of an article; `T` is its type, `kind` names it in the 404.
fn part_view<T: utoipa::PartialSchema>(
    req: &HttpRequest,
    store: &Store,
    path: &PartPath,
    options: &ContentOptions,
    kind: HitType,
    parts: fn(&Entry) -> &Collection,
) -> Result<HttpResponse, ApiError> {
    let fields = options.fields_of::<T>()?;
    let entry = article(store, &path.slug, &options.lang)?;
    let part = parts(entry).get(path.id.as_str()).ok_or_else(|| {
        let (hint, meant) = match part_meant(parts(entry), path.id.as_str()) {
            Some(meant) => (
                suggest::did_you_mean(Some(&meant)),
                Some(Meant::Last(meant)),
            ),
            None => match part_elsewhere(entry, kind, path.id.as_str()) {
                Some(other) => {
                    let at = |lang| urls::hit(&entry.summary.slug, other, path.id.as_str(), lang);
                    (
                        format!("; it is a {}: `{}`", other.noun(), at(&entry.lang)),
                        // The request's own query (`?lang=`, if it chose
                        // so) goes with the path meant.
                        Some(Meant::Path(at(&Lang::default()))),
                    )
                }
                None => (String::new(), None),
            },
        };
        ApiError::near_miss(
            format!(
                "no {} `{}` in article `{}`{hint}",
                kind.noun(),
                path.id,
                path.slug,
            ),
            meant,
        )
    })?;
    let mut response = article_json(
        req,
        store,
        entry,
        part,
        fields.as_deref(),
        false,
        IfModifiedSince::read(req.headers()),
    );
    entry
        .purge
        .and(&urls::purge::part(
            kind.as_str(),
            &path.slug,
            path.id.as_str(),
        ))
        .apply(response.headers_mut());
    Ok(response)
}
