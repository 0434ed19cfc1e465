//! Typed request parameters: each extractor validates its raw input into
//! domain types, or refuses the request with a problem naming the parameter.

use std::{
    future::{Future, Ready, ready},
    pin::Pin,
    time::Duration,
};

use actix_web::{
    FromRequest, HttpRequest,
    dev::Payload,
    error::QueryPayloadError,
    http::header,
    web::{self, Bytes},
};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::{
    content::{Lang, LangPreference, ReviewStatus, Slug},
    error::ApiError,
    http::negotiation::language_ranges,
    search::HitType,
    suggest,
};

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

/// The `slug` and `id` path parameters, each validated into its type.
pub(super) fn slug_and_id<T>(req: &HttpRequest) -> Result<(Slug, T), ApiError>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    Ok((path_param(req, "slug")?, path_param(req, "id")?))
}

/// The path parameter `name`, validated into its type.
pub(super) fn path_param<T>(req: &HttpRequest, name: &str) -> Result<T, ApiError>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let raw = req.match_info().get(name).unwrap_or_default();
    raw.parse()
        .map_err(|e| ApiError::bad_request(format!("path parameter `{name}` {e}")))
}

/// Query parameter `name`, when given, parsed into its type; a value that
/// does not parse is a 400 naming the parameter, as [`path_param`] words it.
pub(super) fn query_param<T>(name: &str, raw: Option<String>) -> Result<Option<T>, ApiError>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    raw.map(|raw| {
        raw.parse()
            .map_err(|e| ApiError::bad_request(format!("query parameter `{name}` {e}")))
    })
    .transpose()
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
        ready(slug_and_id(req).map(|(slug, id)| Self { slug, id }))
    }
}

/// How long a client has to send a request body once its head has come
/// (`--body-timeout`); shared with the workers as app data.
#[derive(Debug, Clone, Copy)]
pub struct BodyDeadline(pub Duration);

impl Default for BodyDeadline {
    fn default() -> Self {
        Self(Duration::from_secs(10))
    }
}

/// The most bytes a request body may have: the bodies taken are replies and
/// moderators' decisions, so the reply rules size it.
pub const MAX_BODY_BYTES: usize = crate::replies::MAX_REPLY_BYTES;

/// The body of a request that takes JSON: sent as `application/json` (else
/// 415) and at most [`MAX_BODY_BYTES`] (else 413). Parsing is the
/// resource's own, so that it can name every field at fault.
#[derive(Debug)]
pub struct JsonBody(pub Bytes);

impl FromRequest for JsonBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = limited_body(
            req,
            payload,
            |media_type| {
                media_type == "application/json"
                    || media_type.starts_with("application/") && media_type.ends_with("+json")
            },
            "JSON, sent as `Content-Type: application/json`",
        );
        Box::pin(async move { body.await.map(Self) })
    }
}

/// The fields of a form a browser posts, in order: the body is
/// `application/x-www-form-urlencoded` (else 415), at most
/// [`MAX_BODY_BYTES`] (else 413), and UTF-8 once percent-decoded (else
/// 400: form decoding would turn other bytes into U+FFFD, and the reply
/// stored would not be the one typed).
#[derive(Debug)]
pub struct FormBody(pub Vec<(String, String)>);

impl FromRequest for FormBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = limited_body(
            req,
            payload,
            |media_type| media_type == "application/x-www-form-urlencoded",
            "a form, sent as `Content-Type: application/x-www-form-urlencoded`",
        );
        Box::pin(async move {
            let body = body.await?;
            let unreadable = match std::str::from_utf8(&body) {
                Err(_) => Some("the form is not UTF-8 text".to_owned()),
                Ok(raw) => not_utf8(raw).map(|name| {
                    format!(
                        "form field `{}` is not UTF-8 text once percent-decoded",
                        clip(name)
                    )
                }),
            };
            if let Some(unreadable) = unreadable {
                return Err(ApiError::bad_request(format!(
                    "{unreadable}; send the form in UTF-8, as the page does"
                )));
            }
            serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
                .map(Self)
                .map_err(|e| ApiError::bad_request(format!("the form could not be read: {e}")))
        })
    }
}

/// Reads a request body whose media type `accepted` takes (else 415,
/// saying it must be `expected`), of at most [`MAX_BODY_BYTES`] (else 413,
/// before reading when `Content-Length` says so).
fn limited_body(
    req: &HttpRequest,
    payload: &mut Payload,
    accepted: fn(&str) -> bool,
    expected: &'static str,
) -> Pin<Box<dyn Future<Output = Result<Bytes, ApiError>>>> {
    let too_large = || {
        ApiError::PayloadTooLarge(format!(
            "the body is larger than {} KiB",
            MAX_BODY_BYTES / 1024
        ))
    };
    let media_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| {
            value
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
    if !media_type.as_deref().is_some_and(accepted) {
        let sent = media_type.map_or("no Content-Type".to_owned(), |m| format!("`{}`", clip(&m)));
        return Box::pin(ready(Err(ApiError::UnsupportedMediaType(format!(
            "the body must be {expected}; this request has {sent}"
        )))));
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES) {
        return Box::pin(ready(Err(too_large())));
    }
    let deadline = req
        .app_data::<BodyDeadline>()
        .copied()
        .unwrap_or_default()
        .0;
    let payload = web::Payload::from_request(req, payload);
    Box::pin(async move {
        let payload = payload
            .await
            .map_err(|e| ApiError::bad_request(format!("the body could not be read: {e}")))?;
        // Without a deadline, a client that declares a length and stops
        // holds a connection (and a file descriptor) for ever.
        let read = tokio::time::timeout(deadline, payload.to_bytes_limited(MAX_BODY_BYTES));
        match read.await {
            Ok(Ok(Ok(body))) => Ok(body),
            Ok(Ok(Err(error))) => Err(ApiError::bad_request(format!(
                "the body could not be read: {error}"
            ))),
            Ok(Err(_)) => Err(too_large()),
            Err(_) => Err(ApiError::RequestTimeout(format!(
                "the body did not arrive within {} s",
                deadline.as_secs_f32()
            ))),
        }
    })
}

/// Declares the query string of a resource that comes in languages: its
/// `lang` (documented here once), the fields given, and an extractor that
/// parses it into [`ContentOptions`] (with `Accept-Language`). Anything
/// else in the query string is refused.
macro_rules! content_query {
    ($(#[$meta:meta])* $name:ident { $($(#[$field_meta:meta])* $field:ident),* }) => {
        $(#[$meta])*
        #[derive(Debug, ::serde::Deserialize, ::utoipa::IntoParams)]
        #[into_params(parameter_in = Query)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// The language to serve (a BCP 47 tag such as `es`); overrides
            /// `Accept-Language`. A missing translation falls back to `en`.
            #[param(value_type = Option<String>, max_length = 35, pattern = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")]
            lang: Option<String>,
            $(
                $(#[$field_meta])*
                #[param(value_type = Option<String>)]
                $field: Option<String>,
            )*
            /// What the query string asks for, parsed.
            #[serde(skip)]
            #[param(ignore)]
            pub options: $crate::routes::params::ContentOptions,
        }

        impl ::actix_web::FromRequest for $name {
            type Error = $crate::error::ApiError;
            type Future = ::std::future::Ready<Result<Self, Self::Error>>;

            fn from_request(
                req: &::actix_web::HttpRequest,
                _: &mut ::actix_web::dev::Payload,
            ) -> Self::Future {
                use $crate::routes::params::{ContentOptions, query};
                ::std::future::ready(query::<Self>(req).and_then(|mut query| {
                    let fields = None $(.or(query.$field.take()))*;
                    query.options = ContentOptions::parse(req, query.lang.take(), fields)?;
                    Ok(query)
                }))
            }
        }
    };
}

pub(super) use content_query;

content_query! {
    /// The query string of a list or item of an article's parts.
    PartQuery {
        /// The fields of each item to return, comma-separated (the rest are left
        /// out), for example `id,position`. Without it, whole items.
        fields
    }
}

/// `?lang=` as given, validated: the one rule for every resource that takes it.
pub(super) fn lang_param(raw: Option<String>) -> Result<Option<Lang>, ApiError> {
    raw.map(|raw| {
        raw.parse::<Lang>()
            .map_err(|e| ApiError::bad_request(format!("query parameter `lang`: {e}")))
    })
    .transpose()
}

/// The `type` query parameter: a kind of resource, such as `benefit`.
pub(super) fn kind_param(raw: Option<String>) -> Result<Option<HitType>, ApiError> {
    // Paths name kinds in the plural (`/benefits`): `benefits` is the
    // likeliest slip, and is told `benefit`.
    choice_param("type", raw, &HitType::ALL.map(HitType::as_str))
}

/// A query parameter `name` that names one of a few values (`names`), parsed
/// by `T`'s `FromStr`, whose error is the rule; a value that names none is
/// told the one plainly meant.
pub(super) fn choice_param<T: std::str::FromStr<Err = String>>(
    name: &str,
    raw: Option<String>,
    names: &[&str],
) -> Result<Option<T>, ApiError> {
    raw.map(|raw| {
        raw.parse().map_err(|rule| {
            ApiError::bad_request(format!(
                "query parameter `{name}` {rule}, not `{}`{}",
                clip(&raw),
                suggest::did_you_mean(suggest::nearest(&raw, names))
            ))
        })
    })
    .transpose()
}

/// How a client wants an article's resource: in which language, with which fields.
#[derive(Debug, Clone, Default)]
pub struct ContentOptions {
    pub lang: LangPreference,
    fields: Option<Vec<String>>,
}

impl ContentOptions {
    /// The fields asked for, each checked against those of `T`'s schema;
    /// `None` for all of them. The schema is read only when fields are
    /// asked for: this runs on every request for an article or its parts.
    pub fn fields_of<T: utoipa::PartialSchema>(&self) -> Result<Option<Vec<String>>, ApiError> {
        match self.fields {
            None => Ok(None),
            Some(_) => Ok(self.fields(&schema_fields::<T>())?.map(<[String]>::to_vec)),
        }
    }

    /// The fields asked for, each checked against `known` (the resource's
    /// fields); `None` for all of them.
    pub fn fields(&self, known: &[String]) -> Result<Option<&[String]>, ApiError> {
        let Some(fields) = &self.fields else {
            return Ok(None);
        };
        if let Some(unknown) = fields.iter().find(|field| !known.contains(field)) {
            return Err(ApiError::bad_request(format!(
                "query parameter `fields` names `{}`, which is not a field here; {}{}",
                clip(unknown),
                suggest::listing("field", known),
                suggest::did_you_mean(suggest::nearest(unknown, known))
            )));
        }
        Ok(Some(fields))
    }
}

impl ContentOptions {
    /// Parses `?lang=` and `?fields=` as given, and the request's
    /// `Accept-Language`.
    pub(super) fn parse(
        req: &HttpRequest,
        lang: Option<String>,
        fields: Option<String>,
    ) -> Result<Self, ApiError> {
        {
            let explicit = lang_param(lang)?;
            let fields = fields
                .map(|raw| {
                    let fields: Vec<String> = raw.split(',').map(|f| f.trim().to_owned()).collect();
                    if fields.iter().any(String::is_empty) {
                        return Err(ApiError::bad_request(
                            "query parameter `fields` must be field names separated by commas, such as `title,benefits`",
                        ));
                    }
                    Ok(fields)
                })
                .transpose()?;
            Ok(Self {
                lang: LangPreference::new(explicit, language_ranges(req.headers())),
                fields,
            })
        }
    }
}

/// The top-level field names of `T`'s schema: what `fields` may name.
fn schema_fields<T: utoipa::PartialSchema>() -> Vec<String> {
    use utoipa::openapi::{RefOr, schema::Schema};
    match T::schema() {
        RefOr::T(Schema::Object(object)) => object.properties.keys().cloned().collect(),
        _ => Vec::new(),
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
pub(super) fn clip(raw: &str) -> &str {
    let mut end = raw.len().min(64);
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    &raw[..end]
}

/// The query string of a paginated list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// The most items to return.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100, default = 20)]
    limit: Option<String>,
    /// How many items to skip.
    #[param(value_type = Option<u32>, minimum = 0, maximum = 2_147_483_647, default = 0)]
    offset: Option<String>,
    /// The page asked for, parsed.
    #[serde(skip)]
    #[param(ignore)]
    pub page: Pagination,
}

impl FromRequest for PageQuery {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(query::<Self>(req).and_then(|mut query| {
            query.page = Pagination::parse(query.limit.take(), query.offset.take())?;
            Ok(query)
        }))
    }
}

/// The query string of the article list: a page, of every article or of
/// those whose review has a status.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ArticleListQuery {
    /// The most items to return.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100, default = 20)]
    limit: Option<String>,
    /// How many items to skip.
    #[param(value_type = Option<u32>, minimum = 0, maximum = 2_147_483_647, default = 0)]
    offset: Option<String>,
    /// Only the articles whose review has this status, as of today (UTC):
    /// `due` and `overdue` list what editors must look at.
    #[param(value_type = Option<ReviewStatus>, inline, example = "overdue")]
    review_status: Option<String>,
    /// What the query string asks for, parsed.
    #[serde(skip)]
    #[param(ignore)]
    pub filter: ArticleFilter,
}

/// Which articles a client asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct ArticleFilter {
    pub review_status: Option<ReviewStatus>,
    pub page: Pagination,
}

impl FromRequest for ArticleListQuery {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(query::<Self>(req).and_then(|mut query| {
            let review_status = choice_param(
                "review_status",
                query.review_status.take(),
                &ReviewStatus::ALL.map(ReviewStatus::as_str),
            )?;
            let page = Pagination::parse(query.limit.take(), query.offset.take())?;
            query.filter = ArticleFilter {
                review_status,
                page,
            };
            Ok(query)
        }))
    }
}

/// Deserializes the query string, naming what is wrong with it: an unknown
/// parameter with those the resource takes (as the spec lists them) and the
/// one plainly meant, a parameter given more than once, anything else as
/// serde words it.
pub(super) fn query<T: serde::de::DeserializeOwned + IntoParams>(
    req: &HttpRequest,
) -> Result<T, ApiError> {
    let raw = req.query_string();
    if let Some(name) = not_utf8(raw) {
        return Err(ApiError::bad_request(format!(
            "query parameter `{}` is not UTF-8 text once percent-decoded; \
             percent-encode the UTF-8 bytes of its text",
            clip(name)
        )));
    }
    web::Query::<T>::from_query(raw)
        .map(web::Query::into_inner)
        .map_err(|e| {
            let known: Vec<String> = T::into_params(|| None)
                .into_iter()
                .map(|parameter| parameter.name)
                .collect();
            let pairs =
                serde_urlencoded::from_str::<Vec<(String, String)>>(raw).unwrap_or_default();
            let names: Vec<&str> = pairs.iter().map(|(name, _)| name.as_str()).collect();
            if let Some(name) = names.iter().find(|name| !known.iter().any(|k| k == *name)) {
                return ApiError::bad_request(format!(
                    "unknown query parameter `{}`; {}{}",
                    clip(name),
                    suggest::listing("parameter", &known),
                    suggest::did_you_mean(suggest::nearest(name, &known))
                ));
            }
            if let Some(name) = names
                .iter()
                .find(|name| names.iter().filter(|other| other == name).count() > 1)
            {
                return ApiError::bad_request(format!(
                    "query parameter `{name}` is given more than once; give it once"
                ));
            }
            let reason = match e {
                QueryPayloadError::Deserialize(e) => e.to_string(),
                other => other.to_string(),
            };
            ApiError::bad_request(format!("invalid query string: {reason}"))
        })
}

/// The name (as sent) of the first query parameter that is not UTF-8 once
/// percent-decoded (`q=%FF`, Latin-1's `ÿ`): form decoding would turn its
/// bytes into U+FFFD, and a search would quietly look for that.
fn not_utf8(raw: &str) -> Option<&str> {
    if !raw.contains('%') {
        return None;
    }
    raw.split('&')
        .find(|pair| {
            percent_encoding::percent_decode_str(pair)
                .decode_utf8()
                .is_err()
        })
        .map(|pair| pair.split('=').next().unwrap_or_default())
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

impl Default for Pagination {
    fn default() -> Self {
        Self {
            limit: Self::DEFAULT_LIMIT,
            offset: 0,
        }
    }
}

impl Pagination {
    /// Parses `limit` and `offset` as given in a query string.
    pub fn parse(limit: Option<String>, offset: Option<String>) -> Result<Self, ApiError> {
        let limit = match limit {
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
        let offset = match offset {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn page(limit: Option<&str>, offset: Option<&str>) -> Result<Pagination, String> {
        Pagination::parse(limit.map(Into::into), offset.map(Into::into)).map_err(|e| e.to_string())
    }

    #[test]
    fn a_parameter_that_is_not_utf8_once_decoded_is_named() {
        assert_eq!(not_utf8("q=%FF&limit=2"), Some("q"));
        assert_eq!(not_utf8("limit=2&q=caf%E9"), Some("q"));
        assert_eq!(not_utf8("%FF=1"), Some("%FF"));
        // UTF-8, escaped or not, and what form decoding reads as it is.
        assert_eq!(not_utf8("q=caf%C3%A9+cr%C3%A8me&lang=fr"), None);
        assert_eq!(not_utf8("q=massage"), None);
        assert_eq!(not_utf8("q=100%&x=%zz"), None);
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
