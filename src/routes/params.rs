//! Typed request parameters: each extractor validates its raw input into
//! domain types, or refuses the request with a problem naming the parameter.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev::Payload, error::QueryPayloadError, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::{content::Slug, error::ApiError};

/// The path of one article.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ArticlePath {
    /// The article's slug.
    #[param(example = "deep-tissue-massage-for-back-pain")]
    pub slug: Slug,
}

/// The path of one part of an article. Each route documents `id` itself,
/// with an example of its own kind of part.
#[derive(Debug)]
pub struct PartPath {
    pub slug: Slug,
    pub id: Slug,
}

fn path_param(req: &HttpRequest, name: &str) -> Result<Slug, ApiError> {
    let raw = req.match_info().get(name).unwrap_or_default();
    raw.parse()
        .map_err(|e| ApiError::bad_request(format!("path parameter `{name}` {e}")))
}

impl FromRequest for ArticlePath {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(path_param(req, "slug").map(|slug| Self { slug }))
    }
}

impl FromRequest for PartPath {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(path_param(req, "slug").and_then(|slug| {
            Ok(Self {
                slug,
                id: path_param(req, "id")?,
            })
        }))
    }
}

/// For resources that take no query parameters: any is refused, rather than
/// silently ignored, so a misspelt parameter is noticed.
#[derive(Debug)]
pub struct NoQuery;

impl FromRequest for NoQuery {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let query = req.query_string();
        ready(if query.is_empty() {
            Ok(Self)
        } else {
            let name = query
                .split('&')
                .next()
                .and_then(|pair| pair.split('=').next())
                .unwrap_or_default();
            Err(ApiError::bad_request(format!(
                "unknown query parameter `{}`: this resource takes none",
                clip(name)
            )))
        })
    }
}

/// Echoes at most 64 bytes of what a client sent.
fn clip(raw: &str) -> &str {
    let mut end = raw.len().min(64);
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    &raw[..end]
}

/// The query string of a paginated list, as documented; see [`Pagination`].
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// The most items to return.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100, default = 20, example = 20)]
    limit: Option<String>,
    /// How many items to skip.
    #[param(value_type = Option<u32>, minimum = 0, maximum = 2_147_483_647, default = 0, example = 0)]
    offset: Option<String>,
}

/// Which page of a list to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pagination {
    pub limit: usize,
    pub offset: usize,
}

impl Pagination {
    pub const DEFAULT_LIMIT: usize = 20;
    pub const MAX_LIMIT: usize = 100;
    /// The largest offset: the largest 32-bit integer, as the spec publishes.
    pub const MAX_OFFSET: usize = i32::MAX as usize;
}

impl TryFrom<PageQuery> for Pagination {
    type Error = ApiError;

    fn try_from(query: PageQuery) -> Result<Self, ApiError> {
        let limit = match query.limit {
            None => Self::DEFAULT_LIMIT,
            Some(raw) => raw
                .parse()
                .ok()
                .filter(|limit| (1..=Self::MAX_LIMIT).contains(limit))
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "query parameter `limit` must be an integer from 1 to {}, not `{}`",
                        Self::MAX_LIMIT,
                        clip(&raw)
                    ))
                })?,
        };
        let offset = match query.offset {
            None => 0,
            Some(raw) => raw
                .parse()
                .ok()
                .filter(|&o: &usize| o <= Self::MAX_OFFSET)
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "query parameter `offset` must be an integer from 0 to {}, not `{}`",
                        Self::MAX_OFFSET,
                        clip(&raw)
                    ))
                })?,
        };
        Ok(Self { limit, offset })
    }
}

impl FromRequest for Pagination {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let query = web::Query::<PageQuery>::from_query(req.query_string()).map_err(|e| {
            let reason = match e {
                QueryPayloadError::Deserialize(e) => e.to_string(),
                other => other.to_string(),
            };
            ApiError::bad_request(format!("invalid query string: {reason}"))
        });
        ready(query.and_then(|q| q.into_inner().try_into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(limit: Option<&str>, offset: Option<&str>) -> Result<Pagination, String> {
        Pagination::try_from(PageQuery {
            limit: limit.map(Into::into),
            offset: offset.map(Into::into),
        })
        .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_to_the_first_twenty() {
        assert_eq!(
            page(None, None),
            Ok(Pagination {
                limit: 20,
                offset: 0
            })
        );
    }

    #[test]
    fn accepts_limits_from_one_to_a_hundred() {
        assert_eq!(
            page(Some("1"), Some("5")),
            Ok(Pagination {
                limit: 1,
                offset: 5
            })
        );
        assert_eq!(page(Some("100"), None).map(|p| p.limit), Ok(100));
    }

    #[test]
    fn names_the_parameter_and_the_rule_when_refusing() {
        for bad in ["0", "101", "abc", "", "-1"] {
            let error = page(Some(bad), None).unwrap_err();
            assert!(
                error.starts_with("query parameter `limit` must be an integer from 1 to 100"),
                "{error}"
            );
        }
        let error = page(None, Some("-3")).unwrap_err();
        assert!(
            error.starts_with("query parameter `offset` must be an integer"),
            "{error}"
        );
    }
}
