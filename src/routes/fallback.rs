//! The fallback: what answers a request no route took. A path the API
//! serves answers `OPTIONS` with its `Allow`, and a method it does not take
//! with 405 and `Allow`; anything else is 404, naming the path meant when
//! only a trailing or doubled slash or letter case stood in the way (and
//! the index for the bare version prefix, `/v1`). The
//! API's paths and methods are read from the OpenAPI document, so they
//! follow the routes; the few outside it (the reader page and its assets,
//! the spec itself) are listed here. A person's link to a reader page off
//! by a slash or case (a CMS's permalinks end in a slash) is sent on to the
//! page, as websites do; a browser refused an address outside the API gets
//! the refusal as a page.

use actix_web::{
    FromRequest, Handler, HttpRequest, HttpResponse, Resource, Responder,
    dev::ResourceDef,
    guard,
    http::{Method, header},
    web,
};
use utoipa::openapi::{OpenApi, PathItem, path::Operation};

use crate::{
    error::{ApiError, Meant},
    http::edge::RouteTemplates,
    suggest, urls,
};

/// The paths served outside the spec, with the methods each takes (every
/// path takes `OPTIONS` too); Swagger UI's files are listed by
/// [`super::docs::paths`].
const UNDOCUMENTED: [(&str, &str); 5] = [
    (urls::templates::PAGE, READING),
    (urls::templates::PAGE_REPLIES, "POST"),
    (urls::OPENAPI, READING),
    (urls::STYLESHEET, READING),
    (urls::SCRIPT, READING),
];

/// The methods of a resource that is only read.
const READING: &str = "GET, HEAD";

/// A resource outside the spec that is only read: `handler` answers `GET`
/// and `HEAD`, and the fallback any other method, as on the API's paths.
/// (A resource does not fall back to the app's default service by itself.)
pub fn reading<F, Args>(path: &str, handler: F) -> Resource
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    web::resource(path)
        .route(
            web::route()
                .guard(guard::Any(guard::Get()).or(guard::Head()))
                .to(handler),
        )
        .default_service(web::to(fallback))
}

/// Each documented operation's route template, by operationId.
pub fn route_templates(document: &OpenApi) -> RouteTemplates {
    let mut templates = std::collections::HashMap::new();
    for (path, item) in &document.paths.paths {
        for (_, operation) in operations(item) {
            if let Some(id) = &operation.operation_id {
                templates.insert(id.clone(), path.clone());
            }
        }
    }
    RouteTemplates(templates)
}

/// Which methods each path allows, to answer `OPTIONS`, to tell a wrong
/// method (405) from a wrong path (404), and which paths a wrong one may
/// have meant.
pub struct MethodTable {
    /// Each path with its `Allow`.
    allowed: Vec<(ResourceDef, String)>,
    page: ResourceDef,
}

impl MethodTable {
    pub fn new(document: &OpenApi) -> Self {
        let allowed = document
            .paths
            .paths
            .iter()
            .map(|(path, item)| (path.clone(), allow(item)))
            .chain(UNDOCUMENTED.map(|(path, methods)| (path.to_owned(), methods.to_owned())))
            .chain(super::docs::paths().map(|path| (path, READING.to_owned())))
            .map(|(path, methods)| (ResourceDef::new(path), format!("{methods}, OPTIONS")))
            .collect();
        Self {
            allowed,
            page: ResourceDef::new(urls::templates::PAGE),
        }
    }

    fn allowed(&self, path: &str) -> Option<&str> {
        self.allowed
            .iter()
            .find(|(def, _)| def.is_match(path))
            .map(|(_, allow)| allow.as_str())
    }

    /// The path a request that matched nothing most likely meant: the same
    /// path without a trailing or doubled slash, or else also in lowercase
    /// (which comes second so that a path parameter keeps its case when it
    /// can); the index for the API's version prefix, which a client
    /// exploring the API tries first.
    fn meant(&self, path: &str) -> Option<String> {
        let tidy = tidy_slashes(path);
        let lower = tidy.to_ascii_lowercase();
        if lower == urls::API_ROOT {
            return Some(urls::INDEX.to_owned());
        }
        [tidy, lower]
            .into_iter()
            .find(|candidate| candidate != path && self.allowed(candidate).is_some())
    }
}

/// `path` with each run of slashes made one and no slash at its end.
fn tidy_slashes(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    format!("/{}", segments.join("/"))
}

/// The operations a path documents, each with the methods that reach it
/// (`HEAD` goes with `GET`).
fn operations(item: &PathItem) -> impl Iterator<Item = (&'static str, &Operation)> {
    [
        ("GET, HEAD", &item.get),
        ("POST", &item.post),
        ("PUT", &item.put),
        ("PATCH", &item.patch),
        ("DELETE", &item.delete),
    ]
    .into_iter()
    .filter_map(|(methods, operation)| operation.as_ref().map(|operation| (methods, operation)))
}

/// The methods a path documents.
fn allow(item: &PathItem) -> String {
    operations(item)
        .map(|(methods, _)| methods)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Answers what no route took: `OPTIONS` with 204 and `Allow` (RFC 9110
/// section 9.3.7; a CORS preflight never comes here), else 405 or 404, as
/// a problem.
pub async fn fallback(
    request: HttpRequest,
    methods: web::Data<MethodTable>,
) -> Result<actix_web::HttpResponse, ApiError> {
    let error = match methods.allowed(request.path()) {
        Some(allow) if request.method() == Method::OPTIONS => {
            return Ok(HttpResponse::NoContent()
                .insert_header((header::ALLOW, allow))
                .finish());
        }
        Some(allow) => ApiError::MethodNotAllowed {
            method: request.method().to_string(),
            allow: allow.to_owned(),
        },
        None => {
            let path = request.path();
            let meant = methods.meant(path);
            let reading = matches!(*request.method(), Method::GET | Method::HEAD);
            if let Some(page) = meant
                .as_ref()
                .filter(|meant| reading && methods.page.is_match(meant))
            {
                return Ok(moved_to(page, request.query_string()));
            }
            let hint = suggest::did_you_mean(meant.as_ref());
            ApiError::near_miss(
                format!("no resource at `{path}`{hint}"),
                meant.map(Meant::Path),
            )
        }
    };
    super::reader::refusal(&request, error)
}

/// A permanent redirect to `path`, keeping the query string.
fn moved_to(path: &str, query: &str) -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, urls::with_query(path, query)))
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slashes_are_tidied_to_one_between_segments_and_none_at_the_end() {
        assert_eq!(tidy_slashes("/v1/articles/"), "/v1/articles");
        assert_eq!(tidy_slashes("//v1///articles//x//"), "/v1/articles/x");
        assert_eq!(tidy_slashes("/"), "/");
        assert_eq!(tidy_slashes("///"), "/");
    }
}
