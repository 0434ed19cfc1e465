//! The API's documentation: `/openapi.json` (the generated document,
//! prepared once at start) and Swagger UI at `/docs/`, served from this
//! origin (`utoipa-swagger-ui`, vendored). Not operations of the API, so not
//! in the document.

use std::{borrow::Cow, collections::HashMap, sync::Arc};

use actix_web::{
    HttpRequest, HttpResponse,
    http::header::HeaderValue,
    web::{self, Bytes},
};
use utoipa_swagger_ui::Config as SwaggerConfig;

use super::fallback;
use crate::{
    error::ApiError,
    http::{cache::Caching, representation::Representation},
    urls,
};

/// The OpenAPI document, pretty-printed and prepared once at start.
pub struct Spec(pub Representation);

/// The files of Swagger UI's distribution that `utoipa-swagger-ui` embeds
/// (its crate gives them by name only, so they are named here; a test holds
/// this list to what the page loads).
const SWAGGER_FILES: [&str; 13] = [
    "favicon-16x16.png",
    "favicon-32x32.png",
    "index.css",
    "index.html",
    "oauth2-redirect.html",
    "oauth2-redirect.js",
    "swagger-initializer.js",
    "swagger-ui-bundle.js",
    "swagger-ui-es-bundle-core.js",
    "swagger-ui-es-bundle.js",
    "swagger-ui-standalone-preset.js",
    "swagger-ui.css",
    "swagger-ui.js",
];

/// `Cache-Control` of Swagger UI's files: they change only with the
/// binary, so browsers keep them and ask with the ETag (a 304) each visit.
const DOCS_CACHING: HeaderValue = HeaderValue::from_static("no-cache");

/// Swagger UI's files, each prepared once at start as content is: its
/// ETag, and gzip and br variants made once (the bundle is 1.5 MB of
/// JavaScript, about 0.4 MB in br), where the crate's own handler sends
/// every file whole on every visit, with no validator.
pub struct DocsFiles(HashMap<&'static str, (Representation, &'static str)>);

impl DocsFiles {
    pub fn prepare() -> Self {
        let config = Arc::new(SwaggerConfig::new([urls::OPENAPI]));
        let files = SWAGGER_FILES
            .into_iter()
            .filter_map(|name| {
                // The crate embeds its files as they are (its own gzipping
                // is a feature not enabled here), and fills in the
                // initializer's config: that file alone is owned.
                let file = utoipa_swagger_ui::serve(name, config.clone()).ok()??;
                let bytes = match file.bytes {
                    Cow::Borrowed(bytes) => Bytes::from_static(bytes),
                    Cow::Owned(bytes) => Bytes::from(bytes),
                };
                Some((name, (Representation::new(bytes), media_type(name))))
            })
            .collect();
        Self(files)
    }
}

/// The media type of a Swagger UI file, by its extension.
fn media_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

/// The paths of Swagger UI: its page and each of its files.
pub fn paths() -> impl Iterator<Item = String> {
    std::iter::once(urls::DOCS.to_owned())
        .chain(SWAGGER_FILES.map(|name| format!("{}{name}", urls::DOCS)))
}

/// Registers `/openapi.json`, `/docs` and Swagger UI.
pub fn configure(config: &mut web::ServiceConfig) -> &mut web::ServiceConfig {
    config
        .service(fallback::reading(urls::OPENAPI, spec_view))
        .service(web::redirect(urls::DOCS.trim_end_matches('/'), urls::DOCS))
        .service(fallback::reading(urls::templates::DOCS_FILES, docs_file))
}

async fn spec_view(req: HttpRequest, spec: web::Data<Spec>) -> HttpResponse {
    spec.0.respond(&req, "application/json", Caching::Content)
}

async fn docs_file(
    req: HttpRequest,
    files: web::Data<DocsFiles>,
) -> Result<HttpResponse, ApiError> {
    let name = match req.match_info().get("_").unwrap_or_default() {
        "" => "index.html",
        name => name,
    };
    let (file, media_type) = files.0.get(name).ok_or_else(|| {
        ApiError::not_found(format!(
            "no file `{}` in the docs",
            super::params::clip(name)
        ))
    })?;
    Ok(file.respond(&req, media_type, Caching::Revalidate(DOCS_CACHING)))
}
