//! Cache policy: how a response may be cached is its handler's typed
//! choice ([`Caching`]), and only content is marked [`Cacheable`], the mark
//! the response cache keeps by.

use actix_web::{HttpRequest, http::header::HeaderValue, web};

/// How a response may be cached, chosen by its handler: the choice is a
/// type, so that no handler gets the content policy (and a place in the
/// response cache) by default.
#[derive(Debug, Clone)]
pub enum Caching {
    /// Content: the same until the content is reloaded. Sent with the
    /// configured [`CachePolicy`] and marked [`Cacheable`].
    Content,
    /// Anything else (replies, moderation, pages with replies): sent with
    /// this `Cache-Control`, never kept by the response cache.
    Revalidate(HeaderValue),
}

/// The mark a content response carries in its extensions: the response
/// cache keeps a response only when its handler set it (see [`Caching`]),
/// whatever its `Cache-Control` says.
#[derive(Debug, Clone, Copy)]
pub struct Cacheable;

/// The `Cache-Control` of content responses, built once from the settings.
#[derive(Debug, Clone)]
pub struct CachePolicy {
    header: HeaderValue,
}

impl CachePolicy {
    /// The `Cache-Control` of content responses, as configured for this
    /// app; an app given no policy has its content revalidated every time.
    pub fn of(req: &HttpRequest) -> HeaderValue {
        req.app_data::<web::Data<CachePolicy>>().map_or_else(
            || HeaderValue::from_static("no-cache"),
            |policy| policy.header.clone(),
        )
    }

    pub fn new(max_age: u32, stale_while_revalidate: u32) -> Self {
        let value =
            format!("public, max-age={max_age}, stale-while-revalidate={stale_while_revalidate}");
        Self {
            header: HeaderValue::from_str(&value).expect("digits are a valid header"),
        }
    }
}
