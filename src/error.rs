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
}

impl ApiError {
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound(message.into())
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }
}

/// What a client may learn about an error, carried from [`ApiError`] to the
/// renderer in the response's extensions.
#[derive(Debug, Clone)]
struct Detail(String);

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
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if let Self::MethodNotAllowed { allow, .. } = self {
            response.insert_header((header::ALLOW, allow.as_str()));
        }
        response.extensions_mut().insert(Detail(self.to_string()));
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
}

impl Problem {
    fn new(status: StatusCode, detail: Option<String>, instance: &str) -> Self {
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
        }
    }
}

/// The middleware that renders every 4xx and 5xx response as a problem,
/// whoever produced it, so no client ever sees actix-web's plain-text errors.
pub fn problem_renderer<B: 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(render_problem)
}

fn render_problem<B>(response: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let (request, response) = response.into_parts();
    let response = problem_response(request.path(), response);
    let response =
        ServiceResponse::new(request, response).map_body(|_, body| EitherBody::right(body));
    Ok(ErrorHandlerResponse::Response(response))
}

/// Gives an error response its problem+json body; `path` is the `instance`.
pub fn problem_response<B>(path: &str, response: HttpResponse<B>) -> HttpResponse<BoxBody> {
    let status = response.status();
    let detail = response.extensions().get::<Detail>().map(|d| d.0.clone());
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

/// The request has a body, and this method takes none.
#[derive(utoipa::ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct PayloadTooLarge(#[allow(dead_code)] Problem);

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
