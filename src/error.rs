//! Errors as the client sees them: one [`ApiError`] for everything a
//! request can be refused with, one `match` from each variant to its status,
//! and the responses the OpenAPI document lists for them. The body is
//! rendered by `http::problem`.

use actix_web::{
    HttpResponse, ResponseError,
    http::{StatusCode, header},
};

pub use crate::http::problem::{FieldError, Meant, PROBLEM_JSON, Problem};
use crate::{
    abuse::{NotAllowed, RateLimited},
    auth::AuthError,
    http::problem,
    replies::{ReplyError, Violation},
    search::SearchRefused,
    store::SearchFailed,
    sync::SyncError,
};

/// Everything a request can fail with. Build it where the failure is known,
/// with the context a client needs to fix its request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The resource does not exist; `detail` names what was looked for,
    /// and `meant` what the request most likely meant, for a near miss.
    #[error("{detail}")]
    NotFound {
        detail: String,
        meant: Option<Meant>,
    },
    /// A parameter breaks its rule; the message names the parameter and the rule.
    #[error("{0}")]
    BadRequest(String),
    /// The path exists, the method does not; `allow` lists the ones that do.
    #[error("{method} is not allowed here; this resource allows {allow}")]
    MethodNotAllowed { method: String, allow: String },
    /// The client accepts no representation we have (e.g. `Accept-Encoding: identity;q=0`).
    #[error("{0}")]
    NotAcceptable(String),
    /// The URL is longer than the configured limit.
    #[error("{0}")]
    UriTooLong(String),
    /// The request headers are larger than the configured limit.
    #[error("{0}")]
    HeadersTooLarge(String),
    /// The request has a body where none is taken, or one over the limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The body is not in a media type this operation takes.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The body is well-formed but breaks the resource's rules; `errors`
    /// names each field, the rule and what to fix.
    #[error("{detail}")]
    Unprocessable {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// No credentials, or ones that are not valid (sent with `WWW-Authenticate`).
    #[error("{detail}")]
    Unauthorized {
        detail: String,
        /// The `error` parameter of the challenge (RFC 6750), when credentials were sent.
        challenge_error: Option<&'static str>,
    },
    /// The request is understood and refused whoever sends it (a browser
    /// writing from an origin not listed in `--write-origins`).
    #[error("{0}")]
    Forbidden(String),
    /// The body did not arrive within the deadline; the connection is closed.
    #[error("{0}")]
    RequestTimeout(String),
    /// The request cannot be carried out in the resource's present state
    /// (a retried post whose reply has since been deleted).
    #[error("{0}")]
    Conflict(String),
    /// What was asked for is no longer kept and will not be again (a sync
    /// token older than the history); the message says what to do instead.
    #[error("{0}")]
    Gone(String),
    /// The client sent more requests than it may (`limit` a minute); it may
    /// retry after `retry_after` seconds.
    #[error("too many requests: try again in {retry_after} second(s)")]
    TooManyRequests { retry_after: u64, limit: u32 },
    /// A service this request needs is down or not configured; `detail`
    /// says which, in words fit for a client, never the internal cause.
    /// `retry_after` (seconds) is sent when waiting may help.
    #[error("{detail}")]
    Unavailable {
        detail: String,
        retry_after: Option<u64>,
    },
    /// The resource is still being prepared (the search index of a large
    /// content set, right after start); it may be asked again in a second.
    #[error("{0}")]
    NotReady(String),
    /// A bug on our side (a search that panicked): the cause is logged
    /// where it is known, and the client is told only that it happened.
    #[error("the server failed to answer; try again later")]
    Internal,
}

impl ApiError {
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::near_miss(message, None)
    }

    /// A 404 whose request most likely `meant` another URL (a near miss).
    pub fn near_miss(message: impl Into<String>, meant: Option<Meant>) -> Self {
        Self::NotFound {
            detail: message.into(),
            meant,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }

    pub fn unprocessable(detail: impl Into<String>, errors: Vec<FieldError>) -> Self {
        Self::Unprocessable {
            detail: detail.into(),
            errors,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            Self::UriTooLong(_) => StatusCode::URI_TOO_LONG,
            Self::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Gone(_) => StatusCode::GONE,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable { .. } | Self::NotReady(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        match self {
            Self::MethodNotAllowed { allow, .. } => {
                response.insert_header((header::ALLOW, allow.as_str()));
            }
            Self::Unauthorized {
                challenge_error, ..
            } => {
                let challenge = match challenge_error {
                    Some(error) => format!("Bearer realm=\"relief-api\", error=\"{error}\""),
                    None => "Bearer realm=\"relief-api\"".to_owned(),
                };
                response.insert_header((header::WWW_AUTHENTICATE, challenge));
            }
            Self::TooManyRequests { retry_after, limit } => {
                response
                    .insert_header((header::RETRY_AFTER, retry_after.to_string()))
                    .insert_header(("x-ratelimit-limit", limit.to_string()))
                    .insert_header(("x-ratelimit-remaining", "0"));
            }
            Self::NotReady(_) => {
                response.insert_header((header::RETRY_AFTER, "1"));
            }
            Self::Unavailable {
                retry_after: Some(seconds),
                ..
            } => {
                response.insert_header((header::RETRY_AFTER, seconds.to_string()));
            }
            // The rest of the body may still come; the connection cannot
            // carry another request after it.
            Self::RequestTimeout(_) => {
                response.force_close();
            }
            _ => {}
        }
        let (errors, meant) = match self {
            Self::Unprocessable { errors, .. } => (errors.clone(), None),
            Self::NotFound { meant, .. } => (Vec::new(), meant.clone()),
            _ => (Vec::new(), None),
        };
        let detail = problem::Detail {
            text: self.to_string(),
            errors,
            meant,
        };
        problem::with_detail(response, detail)
    }
}

// Each domain error, in HTTP: here and nowhere else.

impl From<ReplyError> for ApiError {
    fn from(error: ReplyError) -> Self {
        match error {
            ReplyError::Malformed(detail) => Self::BadRequest(detail),
            ReplyError::Invalid { detail, violations } => Self::Unprocessable {
                detail,
                errors: violations.into_iter().map(FieldError::from).collect(),
            },
            ReplyError::Conflict(detail) => Self::Conflict(detail),
            ReplyError::TokenRefused => Self::Forbidden(error.to_string()),
            // The client learns that replies are down, not why, and when to try again.
            ReplyError::Down { retry_after } => Self::Unavailable {
                detail: "replies are unavailable right now (their database cannot be reached); \
                         article content is still served"
                    .into(),
                retry_after: Some(retry_after),
            },
        }
    }
}

impl From<Violation> for FieldError {
    fn from(violation: Violation) -> Self {
        Self::new(&violation.field, &violation.rule, violation.message)
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        let unauthorized = |challenge_error| Self::Unauthorized {
            detail: error.to_string(),
            challenge_error,
        };
        match error {
            AuthError::Off => Self::Unavailable {
                detail: error.to_string(),
                retry_after: None,
            },
            AuthError::Missing => unauthorized(None),
            AuthError::Several => Self::BadRequest(error.to_string()),
            AuthError::Malformed => unauthorized(Some("invalid_request")),
            AuthError::NotAModerator => unauthorized(Some("invalid_token")),
        }
    }
}

/// The moderator extractor refuses with an [`AuthError`]; it is answered
/// as the [`ApiError`] it maps to.
impl ResponseError for AuthError {
    fn status_code(&self) -> StatusCode {
        ApiError::from(*self).status_code()
    }

    fn error_response(&self) -> HttpResponse {
        ApiError::from(*self).error_response()
    }
}

impl From<SearchRefused> for ApiError {
    fn from(refused: SearchRefused) -> Self {
        match refused {
            SearchRefused::Busy(_) => Self::Unavailable {
                detail: "search is busy: too many searches are waiting; try again in a second"
                    .into(),
                retry_after: Some(1),
            },
            SearchRefused::Panicked => SearchFailed::Panicked.into(),
        }
    }
}

impl From<SearchFailed> for ApiError {
    fn from(error: SearchFailed) -> Self {
        match error {
            // The build's failure was logged when it happened; a reload of
            // the content builds the index again.
            SearchFailed::NoIndex => Self::Unavailable {
                detail: "search is unavailable: its index could not be built".into(),
                retry_after: None,
            },
            // The index is in memory and written once, so an error from it
            // or a panic is a bug: logged here (a panic also by the pool),
            // and the same search would fail again, so no `Retry-After`.
            SearchFailed::Engine(_) | SearchFailed::Panicked => {
                tracing::error!("search failed: {error}");
                Self::Internal
            }
        }
    }
}

impl From<RateLimited> for ApiError {
    fn from(RateLimited { retry_after, limit }: RateLimited) -> Self {
        Self::TooManyRequests { retry_after, limit }
    }
}

impl From<NotAllowed> for ApiError {
    fn from(error: NotAllowed) -> Self {
        match error {
            NotAllowed::Limited(limited) => limited.into(),
            NotAllowed::Database(error) => error.into(),
        }
    }
}

impl From<SyncError> for ApiError {
    fn from(error: SyncError) -> Self {
        match error {
            SyncError::Forgotten => Self::Gone(error.to_string()),
            SyncError::FilterChanged(_) => Self::BadRequest(error.to_string()),
            SyncError::NotRecorded => Self::NotReady(error.to_string()),
            // The client learns that sync is down, not why, and when to try again.
            SyncError::Database(ReplyError::Down { retry_after }) => Self::Unavailable {
                detail: "sync is unavailable right now (the content history cannot be read); \
                         content is still served"
                    .into(),
                retry_after: Some(retry_after),
            },
            SyncError::Database(other) => other.into(),
        }
    }
}

/// The request breaks the rule of one of its parameters; `detail` names it.
#[derive(utoipa::ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct BadRequest(pub Problem);

/// No resource at this path; `detail` says which part was not found.
#[derive(utoipa::ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct NotFound(pub Problem);

/// The client accepts no content coding this resource has (for example
/// `Accept-Encoding: identity;q=0` on a small body, which is never compressed).
#[derive(utoipa::ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct NotAcceptable(pub Problem);

/// The `Range` asked for starts past the end of the representation;
/// `Content-Range` gives its length.
#[derive(utoipa::ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("Content-Range" = String, description = "`bytes */LENGTH`: the representation's length in bytes."))
)]
pub struct RangeNotSatisfiable(pub Problem);

/// The URL is longer than `--max-url-bytes`.
#[derive(utoipa::ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct UriTooLong(pub Problem);

/// The request headers are larger than `--max-header-bytes`.
#[derive(utoipa::ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct HeadersTooLarge(pub Problem);

/// The request has a body where this method takes none, or one larger than
/// the operation takes.
#[derive(utoipa::ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct PayloadTooLarge(pub Problem);

/// A browser on another origin may read this API but not write to it unless
/// the origin is listed in `--write-origins`. Requests without `Origin`
/// (native apps, servers) are not refused.
#[derive(utoipa::ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Forbidden(pub Problem);

/// The `Reply-Token` does not open this reply: it is not the reply's own,
/// or its 15 minutes are over (which of the two is not said). Also: a
/// browser on an origin not listed in `--write-origins` may not write.
#[derive(utoipa::ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct TokenRefused(pub Problem);

/// The body did not arrive within `--body-timeout`; the connection is closed.
#[derive(utoipa::ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct RequestTimeout(pub Problem);

/// The body is not `application/json`.
#[derive(utoipa::ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct UnsupportedMediaType(pub Problem);

/// The body breaks the resource's rules; `errors` lists each field, the rule
/// and what to fix.
#[derive(utoipa::ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Unprocessable(pub Problem);

/// The request conflicts with the resource's present state (a retried post
/// whose reply a moderator has deleted since); `detail` says how.
#[derive(utoipa::ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Conflict(pub Problem);

/// The sync token is older than the content history kept (or from another
/// history): sync from scratch, without a token.
#[derive(utoipa::ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Gone(pub Problem);

/// No bearer token, or one that is not a moderator's; the `WWW-Authenticate`
/// header says which.
#[derive(utoipa::ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("WWW-Authenticate" = String, description = "The `Bearer` challenge (RFC 6750)."))
)]
pub struct Unauthorized(pub Problem);

/// Too many replies from this client; `Retry-After` says when to try again.
#[derive(utoipa::ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(
        ("Retry-After" = u64, description = "Seconds to wait before retrying."),
        ("X-RateLimit-Limit" = u32, description = "Replies a client may post per minute."),
        ("X-RateLimit-Remaining" = u32, description = "Always 0 here."),
    )
)]
pub struct TooManyRequests(pub Problem);

/// Replies are unavailable: their database cannot be reached, or (for
/// moderation) no moderator tokens are configured. Content is still served.
#[derive(utoipa::ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(
        ("Retry-After" = u64, description = "Seconds to wait before retrying, when the database is down (absent when waiting will not help)."),
    )
)]
pub struct Unavailable(pub Problem);

/// Sync cannot answer now: the content just loaded is still being
/// recorded in the history, or the history's database cannot be reached.
#[derive(utoipa::ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "Seconds to wait before retrying.")),
)]
pub struct SyncUnavailable(pub Problem);

/// Search cannot answer now: too many searches are waiting their turn, or
/// the index of a large content set is still being built after a start
/// (both with `Retry-After`), or the index could not be built.
#[derive(utoipa::ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "Seconds to wait before retrying (absent when waiting will not help).")),
)]
pub struct SearchUnavailable(pub Problem);

/// The server failed to answer: a bug on our side. Its cause is logged,
/// never sent.
#[derive(utoipa::ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct InternalError(pub Problem);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_error_carries_what_to_fix() {
        let response =
            ApiError::bad_request("query parameter `limit` must be ...").error_response();
        let problem = problem::problem_response("/v1/articles", "", response);
        assert_eq!(problem.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            problem.headers().get(header::CONTENT_TYPE).unwrap(),
            PROBLEM_JSON
        );
    }

    #[actix_web::test]
    async fn a_full_search_pool_says_busy_and_a_panicked_search_is_a_server_error_that_hides_its_cause()
     {
        let busy = ApiError::from(SearchRefused::Busy(258));
        assert_eq!(busy.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(busy.to_string().starts_with("search is busy"));
        let busy = busy.error_response();
        assert_eq!(busy.headers().get(header::RETRY_AFTER).unwrap(), "1");

        let panicked = ApiError::from(SearchRefused::Panicked).error_response();
        assert_eq!(panicked.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(panicked.headers().get(header::RETRY_AFTER).is_none());
        let problem = problem::problem_response("/v1/search", "", panicked);
        let body = actix_web::body::to_bytes(problem.into_body())
            .await
            .unwrap();
        let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(problem["status"], 500);
        assert_eq!(
            problem["detail"],
            "the server failed to answer; try again later"
        );
        assert!(!body.windows(5).any(|window| window == b"panic"));
    }
}
