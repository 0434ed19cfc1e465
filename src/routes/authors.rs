//! `/v1/moderation/authors/{email}/replies`: what a person may ask of their
//! data, through a moderator: every reply they sent with an e-mail address
//! (GDPR article 15, the right of access), and their erasure (article 17).
//! Every operation needs a moderator's bearer token ([`Moderator`]).

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload, http::header, route, web};
use utoipa::IntoParams;

use super::params::{NoQuery, path_param};
use crate::{
    auth::Moderator,
    error::{ApiError, BadRequest, Unauthorized, Unavailable},
    http::cache::Caching,
    replies::{AuthorEmail, AuthorReplies, Database, Erasure},
};

/// Export a person's replies
///
/// Returns every reply sent with this e-mail address (compared without
/// regard to case), whatever its status, oldest first, as JSON: the copy of
/// their data a person may ask for (GDPR article 15).
#[utoipa::path(
    get,
    tag = "moderation",
    params(AuthorPath),
    security(("moderator_token" = [])),
    responses(
        (status = 200, description = "Every reply sent with the address.", body = AuthorReplies),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 503, response = Unavailable),
    )
)]
#[route("", method = "GET", method = "HEAD")]
pub async fn moderation_author_reply_list(
    req: HttpRequest,
    _: Moderator,
    db: web::Data<Database>,
    path: AuthorPath,
    _: NoQuery,
) -> Result<HttpResponse, ApiError> {
    let items = db.by_author(path.email.as_str()).await?;
    // As every moderation read: with an ETag, stored by no cache.
    Ok(super::dynamic_json(
        &req,
        &AuthorReplies {
            email: path.email.to_string(),
            total: items.len(),
            items,
        },
        Caching::Revalidate(super::PRIVATE),
    ))
}

/// Erase a person's replies
///
/// Deletes every reply sent with this e-mail address, whatever its status,
/// and the events that carried their text, as a person may ask (GDPR
/// article 17). Answers with how many replies there were; erasing an
/// address that sent none answers 0.
#[utoipa::path(
    delete,
    tag = "moderation",
    params(AuthorPath),
    security(("moderator_token" = [])),
    responses(
        (status = 200, description = "The replies are erased.", body = Erasure),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 503, response = Unavailable),
    )
)]
#[route("", method = "DELETE")]
pub async fn moderation_author_reply_delete(
    _: Moderator,
    db: web::Data<Database>,
    path: AuthorPath,
    _: NoQuery,
) -> Result<HttpResponse, ApiError> {
    let deleted = db.erase_author(path.email.as_str()).await?;
    // The count, never the address: the log must not keep what was erased.
    tracing::info!(deleted, "a person's replies erased");
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(Erasure { deleted }))
}

/// The path of a person's replies.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AuthorPath {
    /// The e-mail address the replies were sent with.
    #[param(value_type = String, format = Email, max_length = 254, example = "dana@example.com")]
    pub email: AuthorEmail,
}

impl FromRequest for AuthorPath {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(path_param(req, "email").map(|email| Self { email }))
    }
}
