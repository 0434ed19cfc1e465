//! `/v1/moderation/replies`: moderators list replies by status, approve,
//! reject or mark them as spam, and delete them. Every operation needs a
//! moderator's bearer token ([`Moderator`]).

use actix_web::{HttpRequest, HttpResponse, http::header, route, web};

use super::params::{JsonBody, NoQuery};
use crate::{
    auth::Moderator,
    content::Slug,
    error::{
        ApiError, BadRequest, NotFound, Unauthorized, Unavailable, Unprocessable,
        UnsupportedMediaType,
    },
    http::cache::Caching,
    replies::{self, Database, ModeratedReply, ModerationDecision, ReplyId, ReplyStatus},
    store::Page,
    urls,
};
use std::future::{Ready, ready};

use actix_web::{FromRequest, dev::Payload};
use serde::Deserialize;
use utoipa::IntoParams;

use super::params::{Pagination, choice_param, path_param, query, query_param};

fn no_reply(id: ReplyId) -> ApiError {
    ApiError::not_found(format!("no reply {id}"))
}

/// List replies for moderation
///
/// Returns one page of the replies in one status (`pending` unless asked),
/// oldest first, with the author's e-mail address; `article` keeps one
/// article's.
#[utoipa::path(
    get,
    tag = "moderation",
    params(ModerationQuery),
    security(("moderator_token" = [])),
    responses(
        (status = 200, description = "One page of replies.", body = Page<ModeratedReply>,
            headers(("Link" = String, description = "Links to the first, previous, next and last pages (RFC 8288).")),
            links(
                ("reply" = (operation_id = "moderation_reply_view", parameters(("id" = "$response.body#/items/0/id")), description = "The first reply of the page.")),
                ("decide" = (operation_id = "moderation_reply_update", parameters(("id" = "$response.body#/items/0/id")), description = "Decide on the first reply of the page.")),
            )),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 503, response = Unavailable),
    )
)]
#[route("", method = "GET", method = "HEAD")]
pub async fn moderation_reply_list(
    req: HttpRequest,
    _: Moderator,
    db: web::Data<Database>,
    ModerationQuery { filter, .. }: ModerationQuery,
) -> Result<HttpResponse, ApiError> {
    let page = filter.page;
    let article = filter.article.as_ref().map(Slug::as_str);
    let (items, total) = db
        .by_status(filter.status, article, page.limit, page.offset)
        .await?;
    let mut base = format!("{}?status={}", urls::MODERATION_REPLIES, filter.status);
    if let Some(article) = article {
        base.push_str(&format!("&article={article}"));
    }
    Ok(super::page_response(
        &req,
        items,
        total,
        page,
        &base,
        Caching::Revalidate(super::PRIVATE),
    ))
}

/// Fetch a reply for moderation
///
/// Returns one reply, whatever its status.
#[utoipa::path(
    get,
    tag = "moderation",
    params(ModeratedReplyPath),
    security(("moderator_token" = [])),
    responses(
        (status = 200, description = "The reply.", body = ModeratedReply),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
#[route("/{id}", method = "GET", method = "HEAD")]
pub async fn moderation_reply_view(
    req: HttpRequest,
    _: Moderator,
    db: web::Data<Database>,
    path: ModeratedReplyPath,
    _: NoQuery,
) -> Result<HttpResponse, ApiError> {
    let reply = db
        .moderated(path.id)
        .await?
        .ok_or_else(|| no_reply(path.id))?;
    Ok(super::dynamic_json(
        &req,
        &reply,
        Caching::Revalidate(super::PRIVATE),
    ))
}

/// Moderate a reply
///
/// Sets a reply's status: `approved` makes it public; `rejected`, `spam` or
/// `pending` hide it. Setting the status it already has changes nothing (its
/// `updated_at` stays and no event is sent), so a retried decision is safe.
#[utoipa::path(
    patch,
    tag = "moderation",
    params(ModeratedReplyPath),
    request_body(content = ModerationDecision, content_type = "application/json"),
    security(("moderator_token" = [])),
    responses(
        (status = 200, description = "The reply, moderated.", body = ModeratedReply),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        (status = 503, response = Unavailable),
    )
)]
#[route("/{id}", method = "PATCH")]
pub async fn moderation_reply_update(
    _: Moderator,
    db: web::Data<Database>,
    path: ModeratedReplyPath,
    _: NoQuery,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let decision = replies::parse_decision(&body.0)?;
    let reply = db
        .set_status(path.id, decision.status)
        .await?
        .ok_or_else(|| no_reply(path.id))?;
    tracing::info!(reply = reply.id, status = %reply.status, "reply moderated");
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, super::PRIVATE))
        .json(reply))
}

/// Delete a reply
///
/// Deletes a reply for good. Replies that answered it stay, without a parent.
#[utoipa::path(
    delete,
    tag = "moderation",
    params(ModeratedReplyPath),
    security(("moderator_token" = [])),
    responses(
        (status = 204, description = "The reply is gone."),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
#[route("/{id}", method = "DELETE")]
pub async fn moderation_reply_delete(
    _: Moderator,
    db: web::Data<Database>,
    path: ModeratedReplyPath,
    _: NoQuery,
) -> Result<HttpResponse, ApiError> {
    if !db.delete(path.id).await? {
        return Err(no_reply(path.id));
    }
    tracing::info!(reply = path.id.get(), "reply deleted");
    Ok(HttpResponse::NoContent().finish())
}

/// The path of one reply, for moderators.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ModeratedReplyPath {
    /// The reply's id.
    #[param(value_type = i64, minimum = 1, example = 1)]
    pub id: ReplyId,
}

impl FromRequest for ModeratedReplyPath {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(path_param(req, "id").map(|id| Self { id }))
    }
}

/// The query string of the moderation queue: a status and a page.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ModerationQuery {
    /// Which replies to list.
    #[param(value_type = Option<ReplyStatus>, default = "pending")]
    status: Option<String>,
    /// Only the replies to this article (its slug). A slug no article has
    /// now lists the replies kept under it, if any.
    #[param(value_type = Option<Slug>, example = "deep-tissue-massage-for-back-pain")]
    article: Option<String>,
    /// The most items to return.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100, default = 20)]
    limit: Option<String>,
    /// How many items to skip.
    #[param(value_type = Option<u32>, minimum = 0, maximum = 2_147_483_647, default = 0)]
    offset: Option<String>,
    /// What the query string asks for, parsed.
    #[serde(skip)]
    #[param(ignore)]
    pub filter: ModerationFilter,
}

/// Which replies a moderator asked for.
#[derive(Debug, Clone, Default)]
pub struct ModerationFilter {
    pub status: ReplyStatus,
    pub article: Option<Slug>,
    pub page: Pagination,
}

impl FromRequest for ModerationQuery {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(query::<Self>(req).and_then(|mut query| {
            let status = choice_param(
                "status",
                query.status.take(),
                &ReplyStatus::ALL.map(ReplyStatus::as_str),
            )?
            .unwrap_or(ReplyStatus::Pending);
            let article = query_param("article", query.article.take())?;
            let page = Pagination::parse(query.limit.take(), query.offset.take())?;
            query.filter = ModerationFilter {
                status,
                article,
                page,
            };
            Ok(query)
        }))
    }
}
