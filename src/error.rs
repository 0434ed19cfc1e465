//! Errors as the client sees them: one [`ApiError`] for everything a handler
//! can refuse, and one renderer that turns every error response of the app,
//! ours or actix-web's own, into `application/problem+json` (RFC 9457).

use actix_web::{
    HttpResponse, ResponseError,
    body::{BoxBody, EitherBody},
    dev::ServiceResponse,
    http::{
        StatusCode,
        header::{self, HeaderValue},
    },
    middleware::{ErrorHandlerResponse, ErrorHandlers},
};
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Everything a request can fail with. Build it where the failure is known,
/// with the context a client needs to fix its request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The resource does not exist; the message names what was looked for.
    #[error("{0}")]
    NotFound(String),
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
}

impl ApiError {
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound(message.into())
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

/// One problem with one field of a request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field, by its name in the body (empty for the body as a whole).
    #[schema(example = "author_name")]
    pub field: String,
    /// The rule it breaks: `required`, `type`, `min_length`, `max_length`
    /// (counted in characters after NFC normalisation), `not_blank`,
    /// `no_control_characters`, `no_invisible_characters` (bidirectional
    /// controls and zero-width characters), `email`, `minimum`, `enum`,
    /// `unknown_field` or `approved_parent`.
    #[schema(example = "max_length")]
    pub rule: String,
    /// What to fix, for a person to read.
    #[schema(example = "must be at most 80 characters, not 93")]
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, rule: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            rule: rule.to_owned(),
            message: message.into(),
        }
    }
}

/// What a client may learn about an error, carried from [`ApiError`] to the
/// renderer in the response's extensions.
#[derive(Debug, Clone)]
struct Detail {
    text: String,
    errors: Vec<FieldError>,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            Self::UriTooLong(_) => StatusCode::URI_TOO_LONG,
            Self::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable { .. } | Self::NotReady(_) => StatusCode::SERVICE_UNAVAILABLE,
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
        let errors = match self {
            Self::Unprocessable { errors, .. } => errors.clone(),
            _ => Vec::new(),
        };
        response.extensions_mut().insert(Detail {
            text: self.to_string(),
            errors,
        });
        response.finish()
    }
}

/// A problem details object (RFC 9457), the body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference identifying the problem type; `about:blank` means the
    /// HTTP status says it all.
    #[serde(rename = "type")]
    #[schema(example = "about:blank")]
    pub problem_type: String,
    /// The HTTP status phrase.
    #[schema(example = "Not Found")]
    pub title: String,
    /// The HTTP status code.
    #[schema(example = 404, minimum = 400, maximum = 599)]
    pub status: u16,
    /// What went wrong with this request, for a person to read.
    #[schema(example = "no benefit `better-sleep` in article `deep-tissue-massage-for-back-pain`")]
    pub detail: String,
    /// The path of the request that failed.
    #[schema(example = "/v1/articles/deep-tissue-massage-for-back-pain/benefits/better-sleep")]
    pub instance: String,
    /// For 422 responses: each field that breaks a rule. Absent otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(nullable = false)]
    pub errors: Vec<FieldError>,
}

impl Problem {
    fn new(status: StatusCode, detail: Option<Detail>, instance: &str) -> Self {
        let (detail, errors) = match detail {
            Some(Detail { text, errors }) => (Some(text), errors),
            None => (None, Vec::new()),
        };
        let title = status.canonical_reason().unwrap_or("Error").to_owned();
        let detail = detail.unwrap_or_else(|| match status.as_u16() {
            404 => "no resource at this path; see /openapi.json for the API".to_owned(),
            s if s >= 500 => "the server failed to answer; try again later".to_owned(),
            _ => format!("the request was refused: {}", title.to_lowercase()),
        });
        Self {
            problem_type: "about:blank".into(),
            title,
            status: status.as_u16(),
            detail,
            instance: instance.to_owned(),
            errors,
        }
    }
}

/// The middleware that renders every 4xx and 5xx response as a problem,
/// whoever produced it, so no client ever sees actix-web's plain-text errors
/// (HTML pages for people excepted).
pub fn problem_renderer<B: 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(render_problem)
}

fn render_problem<B>(response: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    // A page for people (the reader page saying what to fix in the reply
    // form) is already the answer; every other error becomes a problem.
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"text/html"));
    if is_page {
        return Ok(ErrorHandlerResponse::Response(
            response.map_into_left_body(),
        ));
    }
    let (request, response) = response.into_parts();
    let response = problem_response(request.path(), response);
    let response =
        ServiceResponse::new(request, response).map_body(|_, body| EitherBody::right(body));
    Ok(ErrorHandlerResponse::Response(response))
}

/// Gives an error response its problem+json body; `path` is the `instance`.
pub fn problem_response<B>(path: &str, mut response: HttpResponse<B>) -> HttpResponse<BoxBody> {
    let status = response.status();
    let detail = response.extensions_mut().remove::<Detail>();
    let problem = Problem::new(status, detail, path);
    let body = serde_json::to_vec(&problem).expect("a problem always serializes");

    let mut response = response.set_body(BoxBody::new(body));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    // Errors are about one moment (a typo, a slug not yet published): never cache them.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for stale in [
        header::ETAG,
        header::LAST_MODIFIED,
        header::CONTENT_ENCODING,
        header::CONTENT_LENGTH,
    ] {
        headers.remove(stale);
    }
    response
}

/// The request breaks the rule of one of its parameters; `detail` names it.
#[derive(utoipa::ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct BadRequest(#[allow(dead_code)] Problem);

/// No resource at this path; `detail` says which part was not found.
#[derive(utoipa::ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct NotFound(#[allow(dead_code)] Problem);

/// The client accepts no content coding this resource has (for example
/// `Accept-Encoding: identity;q=0` on a small body, which is never compressed).
#[derive(utoipa::ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct NotAcceptable(#[allow(dead_code)] Problem);

/// The URL is longer than `--max-url-bytes`.
#[derive(utoipa::ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct UriTooLong(#[allow(dead_code)] Problem);

/// The request headers are larger than `--max-header-bytes`.
#[derive(utoipa::ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct HeadersTooLarge(#[allow(dead_code)] Problem);

/// The request has a body where this method takes none, or one larger than
/// the operation takes.
#[derive(utoipa::ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct PayloadTooLarge(#[allow(dead_code)] Problem);

/// A browser on another origin may read this API but not write to it unless
/// the origin is listed in `--write-origins`. Requests without `Origin`
/// (native apps, servers) are not refused.
#[derive(utoipa::ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Forbidden(#[allow(dead_code)] Problem);

/// The body did not arrive within `--body-timeout`; the connection is closed.
#[derive(utoipa::ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct RequestTimeout(#[allow(dead_code)] Problem);

/// The body is not `application/json`.
#[derive(utoipa::ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct UnsupportedMediaType(#[allow(dead_code)] Problem);

/// The body breaks the resource's rules; `errors` lists each field, the rule
/// and what to fix.
#[derive(utoipa::ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Unprocessable(#[allow(dead_code)] Problem);

/// The request conflicts with the resource's present state (a retried post
/// whose reply a moderator has deleted since); `detail` says how.
#[derive(utoipa::ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Conflict(#[allow(dead_code)] Problem);

/// No bearer token, or one that is not a moderator's; the `WWW-Authenticate`
/// header says which.
#[derive(utoipa::ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("WWW-Authenticate" = String, description = "The `Bearer` challenge (RFC 6750)."))
)]
pub struct Unauthorized(#[allow(dead_code)] Problem);

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
pub struct TooManyRequests(#[allow(dead_code)] Problem);

/// Replies are unavailable: their database cannot be reached, or (for
/// moderation) no moderator tokens are configured. Content is still served.
#[derive(utoipa::ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(
        ("Retry-After" = u64, description = "Seconds to wait before retrying, when the database is down (absent when waiting will not help)."),
    )
)]
pub struct Unavailable(#[allow(dead_code)] Problem);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_error_says_nothing_of_its_cause() {
        let problem = Problem::new(StatusCode::INTERNAL_SERVER_ERROR, None, "/v1/articles");
        assert_eq!(problem.title, "Internal Server Error");
        assert_eq!(
            problem.detail,
            "the server failed to answer; try again later"
        );
    }

    #[test]
    fn a_client_error_carries_what_to_fix() {
        let response =
            ApiError::bad_request("query parameter `limit` must be ...").error_response();
        let problem = problem_response("/v1/articles", response);
        assert_eq!(problem.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            problem.headers().get(header::CONTENT_TYPE).unwrap(),
            PROBLEM_JSON
        );
        assert_eq!(
            problem.headers().get(header::CACHE_CONTROL).unwrap(),
            "no-store"
        );
    }
}
