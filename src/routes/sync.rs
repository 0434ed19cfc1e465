//! `/v1/sync`: what changed in the content since a client last asked.

use std::future::{Ready, ready};

use actix_web::{
    FromRequest, HttpRequest, HttpResponse,
    dev::Payload,
    http::header::{self, HeaderValue},
    route, web,
};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::{
    error::{ApiError, BadRequest, Gone, SyncUnavailable},
    http::cache::Caching,
    replies::Database,
    search::HitType,
    store::LiveContent,
    sync::{ContentHistory, SyncPage, SyncRequest, SyncToken, sync},
    urls,
};

use super::params::{clip, kind_param, lang_param, query};

/// Sync the content: everything, or what changed since a token
///
/// Without `sync_token`: every article (in every language) and every part
/// of it, as their own URLs serve them, in a stable order. With the
/// `next_sync_token` of an earlier sync: only the resources created,
/// changed or deleted since (the last state of each; a deleted one as
/// `{type, id, article, lang, deleted: true}`). A change to a part also
/// changes its article, which embeds it. Long answers come in pages: pass
/// `next_page_token` as `sync_token` until a page carries
/// `next_sync_token`, and keep that for next time. `type` and `lang`,
/// given when a sync starts, hold for its pages and later syncs. Tokens
/// are opaque and work on every replica and across restarts; one older
/// than the history kept (`--sync-history`) gets `410`: sync from scratch.
#[utoipa::path(
    get,
    tag = "sync",
    params(SyncQuery),
    responses(
        (status = 200, description = "One page of the sync.", body = SyncPage,
            headers(("Link" = String, description = "The next page, when there is one (RFC 8288)."))),
        (status = 304, description = "The page is the one the client has (`If-None-Match`)."),
        (status = 400, response = BadRequest),
        (status = 410, response = Gone),
        (status = 503, response = SyncUnavailable),
    )
)]
#[route("/v1/sync", method = "GET", method = "HEAD")]
pub async fn sync_list(
    req: HttpRequest,
    content: web::Data<LiveContent>,
    history: web::Data<ContentHistory>,
    db: web::Data<Database>,
    SyncQuery { request, .. }: SyncQuery,
) -> Result<HttpResponse, ApiError> {
    let store = content.snapshot();
    let page = sync(&store, &history, &db, request).await?;
    let mut response = super::dynamic_json(
        &req,
        &page,
        Caching::Revalidate(super::PUBLIC_DYNAMIC.clone()),
    );
    if let Some(next) = &page.next_page_token {
        let link = format!("<{}?sync_token={next}>; rel=\"next\"", urls::SYNC);
        if let Ok(link) = HeaderValue::from_str(&link) {
            response.headers_mut().insert(header::LINK, link);
        }
    }
    response
        .headers_mut()
        .insert(super::CONTENT_REVISION, store.revision_header().clone());
    Ok(response)
}

/// The most resources a sync page holds when the client asks for none.
const DEFAULT_LIMIT: usize = 100;
/// The most resources a sync page holds.
const MAX_LIMIT: usize = 1000;

/// The query string of a sync.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SyncQuery {
    /// A `next_sync_token` (what changed since that sync) or a
    /// `next_page_token` (the next page of a sync); none to sync from scratch.
    #[param(
        max_length = 1024,
        pattern = r"^[A-Za-z0-9_-]+$",
        example = "eyJlIjoiOWYyYyIsImYiOjQyfQ"
    )]
    sync_token: Option<String>,
    /// Only resources of this kind, for example `faq`.
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<HitType>)]
    kind: Option<String>,
    /// Only resources in this language (a BCP 47 tag such as `es`).
    #[param(value_type = Option<String>, max_length = 35, pattern = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")]
    lang: Option<String>,
    /// The most resources a page holds.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000, default = 100)]
    limit: Option<String>,
    /// The sync asked for, validated.
    #[serde(skip)]
    #[param(ignore)]
    pub request: SyncRequest,
}

impl FromRequest for SyncQuery {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(query::<Self>(req).and_then(|mut query| {
            let token = query
                .sync_token
                .take()
                .map(|raw| {
                    raw.parse::<SyncToken>().map_err(|rule| {
                        ApiError::bad_request(format!(
                            "query parameter `sync_token` {rule}, not `{}`",
                            clip(&raw)
                        ))
                    })
                })
                .transpose()?;
            let kind = kind_param(query.kind.take())?;
            let lang = lang_param(query.lang.take())?;
            let limit = match query.limit.take() {
                None => DEFAULT_LIMIT,
                Some(raw) => raw
                    .parse::<usize>()
                    .ok()
                    .filter(|limit| (1..=MAX_LIMIT).contains(limit))
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "query parameter `limit` must be a whole number from 1 to {MAX_LIMIT}, not `{}`",
                            clip(&raw)
                        ))
                    })?,
            };
            query.request = SyncRequest {
                token,
                kind,
                lang,
                limit,
            };
            Ok(query)
        }))
    }
}
