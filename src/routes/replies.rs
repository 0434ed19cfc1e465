//! `/v1/articles/{slug}/replies`: readers post replies; everyone reads the
//! approved ones. Posting is rate limited per client and safe to retry with
//! an `Idempotency-Key`.

use actix_web::{HttpRequest, HttpResponse, http::header, route, web};

use super::params::{ArticlePath, JsonBody, NoQuery};
use crate::{
    abuse::{Allowance, ClientAddr, ReplyRateLimit},
    content::{LangPreference, Slug},
    error::{
        ApiError, BadRequest, Conflict, NotFound, TokenRefused, TooManyRequests, Unavailable,
        Unprocessable, UnsupportedMediaType,
    },
    http::cache::Caching,
    replies::{
        self, Created, Database, NewReply, Reply, ReplyCorrection, ReplyId, ReplyReceipt,
        db::Submission,
        guard::{self, Secret},
    },
    store::{LiveContent, Page},
    urls,
};
use std::future::{Ready, ready};

use actix_web::{FromRequest, dev::Payload};
use utoipa::IntoParams;

use super::params::{PageQuery, slug_and_id};

/// The header that makes a POST safe to retry (as in Stripe's API).
const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Post a reply
///
/// Stores a reply to the article, as plain text, for moderation: it is shown
/// only once a moderator approves it. The answer is sent only after the reply
/// is committed to disk.
///
/// To retry safely (say, after a lost connection), send an `Idempotency-Key`
/// (any unique string, such as a UUID): a retry with the same key and body
/// gets the first answer again and stores nothing new; the same key with
/// another body is refused (422). A retry is answered even when the client
/// has spent its rate limit since. Keys are remembered for 24 hours; a retry
/// whose reply a moderator has deleted meanwhile gets 409.
#[utoipa::path(
    post,
    tag = "replies",
    params(
        ArticlePath,
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
            pattern = "^[\\x21-\\x7E]+$",
            description = "A unique key for this reply (visible ASCII, up to 255 characters), for example a UUID such as `5b1f0b7e-6c1e-4a4f-9d3a-2f1e0c9b8a7d`; retries with the same key and body are answered once."),
    ),
    request_body(content = NewReply, content_type = "application/json"),
    responses(
        (status = 202, description = "The reply is stored and awaits moderation.", body = ReplyReceipt,
            links(
                ("moderate" = (operation_id = "moderation_reply_view", parameters(("id" = "$response.body#/id")), description = "The reply, as moderators see it.")),
                ("decide" = (operation_id = "moderation_reply_update", parameters(("id" = "$response.body#/id")), description = "Approve or reject the reply.")),
                ("delete" = (operation_id = "moderation_reply_delete", parameters(("id" = "$response.body#/id")), description = "Delete the reply.")),
            ),
            headers(
                ("Location" = String, description = "Where the reply will be once approved."),
                ("X-RateLimit-Limit" = u32, description = "Replies a client may post per minute (absent when unlimited)."),
                ("X-RateLimit-Remaining" = u32, description = "Replies this client may still post right now."),
                ("Idempotent-Replayed" = bool, description = "`true` when this is the stored answer to an earlier request with the same Idempotency-Key."),
            )),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 415, response = UnsupportedMediaType),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
        (status = 429, response = TooManyRequests),
        (status = 503, response = Unavailable),
    )
)]
#[route("", method = "POST")]
#[allow(clippy::too_many_arguments)]
pub async fn reply_create(
    req: HttpRequest,
    content: web::Data<LiveContent>,
    db: web::Data<Database>,
    rate: web::Data<ReplyRateLimit>,
    secret: web::Data<Secret>,
    path: ArticlePath,
    client: ClientAddr,
    _: NoQuery,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    super::article(&content.current(), &path.slug, &LangPreference::default())?;
    let key = idempotency_key(&req)?;
    let reply = replies::parse_reply(&body.0)?;
    let submission = Submission {
        article: path.slug.as_str(),
        reply: &reply,
        client: client.0,
        idempotency_key: key,
        status: guard::initial_status(&reply.body, Ok(())),
        secret: &secret,
    };
    let (created, allowance) = submit(&db, &rate, submission).await?;
    Ok(accepted(&path.slug, created, allowance))
}

/// The 202 to a stored (or replayed) reply, for the API and the page's
/// script alike.
pub fn accepted(slug: &Slug, created: Created, allowance: Option<Allowance>) -> HttpResponse {
    let (receipt, replayed) = match created {
        Created::New(receipt) => (receipt, false),
        Created::Replayed(receipt) => (receipt, true),
    };
    let mut response = HttpResponse::Accepted();
    response
        .insert_header((header::LOCATION, urls::reply(slug, receipt.id)))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    if let Some(allowance) = allowance {
        response
            .insert_header(("x-ratelimit-limit", allowance.limit))
            .insert_header(("x-ratelimit-remaining", allowance.remaining));
    }
    if replayed {
        response.insert_header(("idempotent-replayed", "true"));
    }
    response.json(receipt)
}

/// Stores a valid reply, for the API and the reader page's form alike: a
/// retry of an earlier post (same Idempotency-Key and body) is answered
/// first and not counted against the client's rate limit; anything else is
/// counted, then stored.
pub async fn submit(
    db: &Database,
    rate: &ReplyRateLimit,
    submission: Submission<'_>,
) -> Result<(Created, Option<Allowance>), ApiError> {
    if let Some(replayed) = db.replayed(&submission).await? {
        return Ok((replayed, None));
    }
    let allowance = rate.check(submission.client).await?;
    Ok((db.create(submission).await?, allowance))
}

/// The `Idempotency-Key` header, if sent: 1 to 255 visible ASCII characters.
pub fn idempotency_key(req: &HttpRequest) -> Result<Option<&str>, ApiError> {
    let Some(value) = req.headers().get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .filter(|key| (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()))
        .map(Some)
        .ok_or_else(|| {
            ApiError::bad_request(
                "header `Idempotency-Key` must be 1 to 255 visible ASCII characters (a UUID is a good key)",
            )
        })
}

/// List an article's replies
///
/// Returns one page of the article's approved replies, oldest first. Each
/// reply's `body` is plain text: show it as text, never as HTML. A `Link`
/// header (RFC 8288) points to the `first`, `prev`, `next` and `last` pages.
#[utoipa::path(
    get,
    tag = "replies",
    params(ArticlePath, PageQuery),
    responses(
        (status = 200, description = "One page of approved replies.", body = Page<Reply>,
            headers(("Link" = String, description = "Links to the first, previous, next and last pages (RFC 8288).")),
            links(("reply" = (operation_id = "reply_view",
                parameters(("slug" = "$request.path.slug"), ("id" = "$response.body#/items/0/id")),
                description = "The first reply of the page.")))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
#[route("", method = "GET", method = "HEAD")]
pub async fn reply_list(
    req: HttpRequest,
    content: web::Data<LiveContent>,
    db: web::Data<Database>,
    path: ArticlePath,
    PageQuery { page, .. }: PageQuery,
) -> Result<HttpResponse, ApiError> {
    super::article(&content.current(), &path.slug, &LangPreference::default())?;
    let (items, total) = db
        .approved(path.slug.as_str(), page.limit, page.offset)
        .await?;
    let base = urls::replies(&path.slug);
    Ok(super::page_response(
        &req,
        items,
        total,
        page,
        &base,
        Caching::Revalidate(super::PUBLIC_DYNAMIC),
    ))
}

/// Fetch a reply
///
/// Returns one approved reply of the article. A reply that is not approved
/// (yet) is not found.
#[utoipa::path(
    get,
    tag = "replies",
    params(ReplyPath),
    responses(
        (status = 200, description = "The reply.", body = Reply),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
#[route("/{id}", method = "GET", method = "HEAD")]
pub async fn reply_view(
    req: HttpRequest,
    content: web::Data<LiveContent>,
    db: web::Data<Database>,
    path: ReplyPath,
    _: NoQuery,
) -> Result<HttpResponse, ApiError> {
    super::article(&content.current(), &path.slug, &LangPreference::default())?;
    let reply = db
        .approved_one(path.slug.as_str(), path.id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no approved reply {} to article `{}`",
                path.id, path.slug
            ))
        })?;
    Ok(super::dynamic_json(
        &req,
        &reply,
        Caching::Revalidate(super::PUBLIC_DYNAMIC),
    ))
}

/// The `Reply-Token` header an author's correction or withdrawal carries.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct ReplyTokenHeader {
    /// The `edit_token` of the reply's 202.
    #[param(
        rename = "Reply-Token",
        example = "qL3nXb0r5m1T8w2cV6yZ4aKpD9sHfJgE7uQoRiNt0lM"
    )]
    reply_token: String,
}

impl FromRequest for ReplyTokenHeader {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    /// 400 if the header is missing: a wrong token is the handler's 403.
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = req
            .headers()
            .get("reply-token")
            .and_then(|value| value.to_str().ok())
            .map(|token| Self {
                reply_token: token.to_owned(),
            })
            .ok_or_else(|| {
                ApiError::bad_request(
                    "header `Reply-Token` is required: send the `edit_token` the reply's 202 carried",
                )
            });
        ready(token)
    }
}

/// Correct a reply
///
/// Lets the author of a reply correct it within 15 minutes of posting, with
/// the `edit_token` its 202 carried, sent as `Reply-Token`. The fields
/// given replace those stored, by the rules of a post: a body that is
/// another reply's to the article from the last 24 hours is refused (422,
/// rule `duplicate`). A corrected reply that was approved goes
/// back to moderation (`pending`) and is hidden until approved again.
#[utoipa::path(
    patch,
    tag = "replies",
    params(ReplyPath, ReplyTokenHeader),
    request_body(content = ReplyCorrection, content_type = "application/json"),
    responses(
        (status = 200, description = "The reply, corrected.", body = Reply),
        (status = 400, response = BadRequest),
        (status = 403, response = TokenRefused),
        (status = 404, response = NotFound),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        (status = 503, response = Unavailable),
    )
)]
#[route("/{id}", method = "PATCH")]
pub async fn reply_update(
    content: web::Data<LiveContent>,
    db: web::Data<Database>,
    path: ReplyPath,
    token: ReplyTokenHeader,
    _: NoQuery,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    super::article(&content.current(), &path.slug, &LangPreference::default())?;
    let correction = replies::parse_correction(&body.0)?;
    let reply = db
        .correct(path.slug.as_str(), path.id, &token.reply_token, &correction)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(reply))
}

/// Withdraw a reply
///
/// Lets the author of a reply delete it within 15 minutes of posting, with
/// the `edit_token` its 202 carried, sent as `Reply-Token`.
#[utoipa::path(
    delete,
    tag = "replies",
    params(ReplyPath, ReplyTokenHeader),
    responses(
        (status = 204, description = "The reply is withdrawn."),
        (status = 400, response = BadRequest),
        (status = 403, response = TokenRefused),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
#[route("/{id}", method = "DELETE")]
pub async fn reply_delete(
    content: web::Data<LiveContent>,
    db: web::Data<Database>,
    path: ReplyPath,
    token: ReplyTokenHeader,
    _: NoQuery,
) -> Result<HttpResponse, ApiError> {
    super::article(&content.current(), &path.slug, &LangPreference::default())?;
    db.withdraw(path.slug.as_str(), path.id, &token.reply_token)
        .await?;
    tracing::info!(reply = path.id.get(), "reply withdrawn by its author");
    Ok(HttpResponse::NoContent().finish())
}

/// The path of one reply to an article.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ReplyPath {
    /// The article's slug.
    #[param(example = "deep-tissue-massage-for-back-pain")]
    pub slug: Slug,
    /// The reply's id.
    #[param(value_type = i64, minimum = 1, example = 1)]
    pub id: ReplyId,
}

impl FromRequest for ReplyPath {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(slug_and_id(req).map(|(slug, id)| Self { slug, id }))
    }
}
