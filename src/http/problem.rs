//! Problem details (RFC 9457): the body of every error response, whoever
//! made it (a handler, an extractor, the edge, CORS, or actix-web itself),
//! and the middleware that renders it.
//!
//! A refusal is made with [`refusal`] (or, for the API's own errors, by
//! `error::ApiError`); either way the response carries its [`Detail`] in its
//! extensions and the renderer writes the body, so there is one place where
//! an error's bytes are made.

use actix_cors::CorsError;
use actix_web::{
    HttpResponse, HttpResponseBuilder,
    body::{BoxBody, EitherBody},
    dev::ServiceResponse,
    http::{
        StatusCode,
        header::{self, HeaderMap, HeaderValue},
    },
    middleware::{ErrorHandlerResponse, ErrorHandlers},
};
use serde::Serialize;
use utoipa::ToSchema;

use super::edge;
use crate::urls;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

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
    /// `unknown_field`, `repeated_field` (a name the JSON object gives
    /// twice), `min_properties` (a correction naming no field),
    /// `approved_parent` or `duplicate` (the same body within 24 hours).
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

/// What a client may learn about an error, carried from whoever refused
/// the request to the renderer in the response's extensions.
#[derive(Debug, Clone, Default)]
pub struct Detail {
    pub text: String,
    pub errors: Vec<FieldError>,
    /// What the request most likely meant, for a near miss.
    pub meant: Option<Meant>,
}

impl Detail {
    /// A detail of `text` alone.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }
}

/// What a request that found nothing most likely meant, as a change to
/// its own URL (its query kept): the problem's `meant`. Made where the
/// near miss is found, which knows what was mistyped but not the request's
/// path; resolved where the problem is rendered, which knows the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Meant {
    /// The article's slug, the path segment after `articles`, replaced.
    Slug(String),
    /// The last path segment (a part's id) replaced.
    Last(String),
    /// Another path.
    Path(String),
}

impl Meant {
    /// The URL meant by a request for `path` with `query`; `None` when
    /// the change has nothing to change (no segment after `articles`).
    pub fn url(&self, path: &str, query: &str) -> Option<String> {
        let mut segments: Vec<&str> = path.split('/').collect();
        let meant = match self {
            Self::Slug(slug) => {
                let at = segments.iter().position(|s| *s == "articles")? + 1;
                *segments.get_mut(at)? = slug;
                segments.join("/")
            }
            Self::Last(id) => {
                *segments.last_mut()? = id;
                segments.join("/")
            }
            Self::Path(meant) => meant.clone(),
        };
        Some(urls::with_query(&meant, query))
    }
}

/// A refusal with `status` and a `detail` for the client: a response
/// the problem renderer gives its body.
pub fn refusal(status: StatusCode, detail: impl Into<String>) -> HttpResponse {
    with_detail(HttpResponse::build(status), Detail::text(detail))
}

/// Finishes an error response whose status and headers are set with what
/// the problem renderer writes into its body.
pub fn with_detail(mut response: HttpResponseBuilder, detail: Detail) -> HttpResponse {
    response.extensions_mut().insert(detail);
    response.finish()
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
    /// For a 404 that is a near miss, the URL to follow instead: the
    /// request's own, its query kept, with what was off put right (a slug
    /// or a part's id a typo away, a part asked for by its position or
    /// among another kind, a path with a slash or letter case off). Absent
    /// otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(
        nullable = false,
        example = "/v1/articles/deep-tissue-massage-for-back-pain/benefits"
    )]
    pub meant: Option<String>,
}

impl Problem {
    /// The problem of a response with `status`, saying what `detail` says
    /// (for a server error, never more than that it failed).
    /// `instance` is the request's path; with its `query`, the URL a near
    /// miss meant is made from it.
    pub fn new(status: StatusCode, detail: Option<Detail>, instance: &str, query: &str) -> Self {
        let (detail, errors, meant) = match detail {
            Some(Detail {
                text,
                errors,
                meant,
            }) => (Some(text), errors, meant),
            None => (None, Vec::new(), None),
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
            meant: meant.and_then(|meant| meant.url(instance, query)),
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
    if is_page(response.headers()) {
        return Ok(ErrorHandlerResponse::Response(
            response.map_into_left_body(),
        ));
    }
    let (request, mut response) = response.into_parts();
    // A refused preflight comes from actix-cors, with its error but no detail.
    let preflight = response
        .error()
        .and_then(|error| error.as_error::<CorsError>())
        .map(|error| edge::preflight_refusal(error, &request));
    if let Some(text) = preflight {
        response.extensions_mut().insert(Detail::text(text));
    }
    let response = problem_response(request.path(), request.query_string(), response);
    let response =
        ServiceResponse::new(request, response).map_body(|_, body| EitherBody::right(body));
    Ok(ErrorHandlerResponse::Response(response))
}

/// Whether a response is a page for people (HTML), by its type.
pub fn is_page(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"text/html"))
}

/// Gives an error response its problem+json body; `path` is the `instance`,
/// and with `query` the request's URL.
pub fn problem_response<B>(
    path: &str,
    query: &str,
    response: HttpResponse<B>,
) -> HttpResponse<BoxBody> {
    error_response(path, query, response, PROBLEM_JSON, |problem| {
        serde_json::to_vec(problem).expect("a problem always serializes")
    })
}

/// Gives an error response its body, written by `render` from its problem
/// in `content_type` (a page for people says what a problem says).
pub fn error_response<B>(
    path: &str,
    query: &str,
    mut response: HttpResponse<B>,
    content_type: &'static str,
    render: impl FnOnce(&Problem) -> Vec<u8>,
) -> HttpResponse<BoxBody> {
    let status = response.status();
    let detail = response.extensions_mut().remove::<Detail>();
    let body = render(&Problem::new(status, detail, path, query));

    let mut response = response.set_body(BoxBody::new(body));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_near_miss_is_the_requests_own_url_put_right_its_query_kept() {
        let slug = Meant::Slug("deep-tissue".into());
        assert_eq!(
            slug.url("/v1/articles/deep-tisue/benefits", "lang=es")
                .as_deref(),
            Some("/v1/articles/deep-tissue/benefits?lang=es")
        );
        assert_eq!(
            slug.url("/articles/deep-tisue", "").as_deref(),
            Some("/articles/deep-tissue")
        );
        // No article segment to put right: no URL.
        assert_eq!(slug.url("/v1/search", "q=back"), None);
        assert_eq!(slug.url("/v1/articles", ""), None);
        assert_eq!(
            Meant::Last("conclusion".into())
                .url("/v1/articles/deep-tissue/sections/9", "")
                .as_deref(),
            Some("/v1/articles/deep-tissue/sections/conclusion")
        );
        assert_eq!(
            Meant::Path("/v1/search".into())
                .url("/V1/Search", "q=back")
                .as_deref(),
            Some("/v1/search?q=back")
        );
    }

    #[test]
    fn a_server_error_says_nothing_of_its_cause() {
        let problem = Problem::new(StatusCode::INTERNAL_SERVER_ERROR, None, "/v1/articles", "");
        assert_eq!(problem.title, "Internal Server Error");
        assert_eq!(
            problem.detail,
            "the server failed to answer; try again later"
        );
    }

    #[test]
    fn a_refusal_is_an_uncacheable_problem_carrying_what_to_fix() {
        let response = refusal(
            StatusCode::BAD_REQUEST,
            "query parameter `limit` must be ...",
        );
        let problem = problem_response("/v1/articles", "", response);
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
