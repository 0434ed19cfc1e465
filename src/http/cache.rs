//! Cache policy: how a response may be cached is its handler's typed
//! choice ([`Caching`]), and only content is marked [`Cacheable`], the mark
//! the response cache keeps by. [`PurgeKeys`] name what a response
//! depends on, for CDNs that purge by key.

use actix_web::{
    HttpRequest,
    http::header::{HeaderMap, HeaderName, HeaderValue},
    web,
};

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

/// `Surrogate-Key`: the purge keys Fastly (and Varnish's xkey) read,
/// space-separated.
pub const SURROGATE_KEY: HeaderName = HeaderName::from_static("surrogate-key");
/// `Cache-Tag`: the purge keys Cloudflare reads, comma-separated.
pub const CACHE_TAG: HeaderName = HeaderName::from_static("cache-tag");

/// What a response depends on, named so that a CDN can purge exactly the
/// responses a change touches: sent as both [`SURROGATE_KEY`] and
/// [`CACHE_TAG`], made once per resource where it can be.
#[derive(Debug, Clone)]
pub struct PurgeKeys {
    surrogate: HeaderValue,
    tags: HeaderValue,
}

impl PurgeKeys {
    /// `keys` (letters, digits, `:`, `-` and `.`; anything else is left
    /// out, never sent as a broken header).
    pub fn new<'a>(keys: impl IntoIterator<Item = &'a str>) -> Self {
        let keys: Vec<&str> = keys
            .into_iter()
            .filter(|key| {
                !key.is_empty()
                    && key
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-:._".contains(&b))
            })
            .collect();
        let value = |separator: &str| {
            HeaderValue::from_str(&keys.join(separator)).expect("checked to be header-safe")
        };
        Self {
            surrogate: value(" "),
            tags: value(","),
        }
    }

    /// These keys and one more.
    pub fn and(&self, key: &str) -> Self {
        let keys = self.surrogate.to_str().unwrap_or_default();
        Self::new(keys.split(' ').chain(std::iter::once(key)))
    }

    /// Sends the keys with `response`.
    pub fn apply(&self, headers: &mut HeaderMap) {
        headers.insert(SURROGATE_KEY, self.surrogate.clone());
        headers.insert(CACHE_TAG, self.tags.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purge_keys_go_out_in_each_cdns_own_syntax() {
        let keys = PurgeKeys::new(["article:a-slug", "article:a-slug:pt-BR"]).and("faq:a-slug:why");
        let mut headers = HeaderMap::new();
        keys.apply(&mut headers);
        assert_eq!(
            headers.get(SURROGATE_KEY).unwrap(),
            "article:a-slug article:a-slug:pt-BR faq:a-slug:why"
        );
        assert_eq!(
            headers.get(CACHE_TAG).unwrap(),
            "article:a-slug,article:a-slug:pt-BR,faq:a-slug:why"
        );
    }

    #[test]
    fn a_key_that_would_break_the_header_is_left_out() {
        let keys = PurgeKeys::new(["bundle", "two words", "new\nline", ""]);
        let mut headers = HeaderMap::new();
        keys.apply(&mut headers);
        assert_eq!(headers.get(SURROGATE_KEY).unwrap(), "bundle");
    }
}
