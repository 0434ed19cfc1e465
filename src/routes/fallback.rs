//! The fallback: what answers a request no route took. A path the API
//! documents with another method gets 405 with `Allow`; anything else 404.
//! Both are read from the OpenAPI document, so they follow the routes.

use actix_web::{HttpRequest, dev::ResourceDef, web};
use utoipa::openapi::{OpenApi, PathItem, path::Operation};

use crate::{error::ApiError, http::edge::RouteTemplates};

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

/// Which methods each documented path allows, to tell a wrong method (405)
/// from a wrong path (404).
pub struct MethodTable(Vec<(ResourceDef, String)>);

impl MethodTable {
    pub fn new(document: &OpenApi) -> Self {
        let table = document
            .paths
            .paths
            .iter()
            .map(|(path, item)| (ResourceDef::new(path.as_str()), allow(item)))
            .collect();
        Self(table)
    }

    fn allowed(&self, path: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(def, _)| def.is_match(path))
            .map(|(_, allow)| allow.as_str())
    }
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

/// The `Allow` header value for a path: its documented methods.
fn allow(item: &PathItem) -> String {
    operations(item)
        .map(|(methods, _)| methods)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Answers what no route took: 405 or 404, as a problem.
pub async fn fallback(
    request: HttpRequest,
    methods: web::Data<MethodTable>,
) -> Result<actix_web::HttpResponse, ApiError> {
    Err(match methods.allowed(request.path()) {
        Some(allow) => ApiError::MethodNotAllowed {
            method: request.method().to_string(),
            allow: allow.to_owned(),
        },
        None => ApiError::not_found(format!("no resource at `{}`", request.path())),
    })
}
