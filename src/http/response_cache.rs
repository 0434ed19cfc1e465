//! The response cache: whole content responses, kept so that the same request
//! is answered again without routing, extractors or handlers.
//!
//! Content is prepared once, but answering still costs actix-web's routing
//! (regex path matching), the extractors, language and encoding negotiation
//! and a dozen header inserts: about three times the work of the bare server
//! the benchmark compares against. A content response depends on nothing but
//! the content revision, the method, the URL and a few request headers (those
//! it names in `Vary`, and the conditional ones), so the edge keeps it under
//! exactly those and hands out a copy of its head and its shared body bytes.
//!
//! Only content responses are kept: a 200 or 304 whose handler answered with
//! [`Caching::Content`](super::cache::Caching), which marks it
//! [`Cacheable`] (a type in its extensions, never a header compared as a
//! string). Errors, replies (they change without a reload), moderation and
//! pages that show replies are answered with `Caching::Revalidate` and always
//! reach their handlers, whatever `Cache-Control` they carry. A response that
//! varies on a header the key does not hold is not kept.
//! A reload starts a new generation, which is part of every key, so a request
//! never gets an answer made from content older than the one it would see.
//! Memory is bounded by bytes (`--response-cache-bytes`); quick_cache evicts
//! the entries least likely to be asked for again.

use std::sync::Arc;

use actix_web::{
    HttpResponse,
    body::BoxBody,
    dev::ServiceRequest,
    http::{
        Method, StatusCode,
        header::{self, HeaderMap, HeaderName, HeaderValue},
    },
    web::Bytes,
};
use prometheus::IntCounter;
use smallvec::SmallVec;

use super::cache::Cacheable;
use crate::metrics::RouteMetrics;

/// What the response cache's entries are made from, as a number that
/// changes whenever it does: part of every key, so that a request never gets
/// an answer made from an older generation than the one it would be served.
pub trait Generation: Send + Sync {
    /// The current generation. Read before the content a response is made
    /// from, so that what is made is from this generation or a newer one.
    fn generation(&self) -> u64;
}

/// How many headers are [`KEYED`].
const KEYED_COUNT: usize = 8;

/// The request headers a content response may depend on: its `Vary` names
/// some of these, the conditional ones decide between 200 and 304, and the
/// CORS ones (which `Vary` names when only some origins are allowed) decide
/// its `Access-Control-*` headers: the edge keeps responses as CORS left them.
const KEYED: [HeaderName; KEYED_COUNT] = [
    header::ACCEPT,
    header::ACCEPT_ENCODING,
    header::ACCEPT_LANGUAGE,
    header::IF_NONE_MATCH,
    header::IF_MODIFIED_SINCE,
    header::ORIGIN,
    header::ACCESS_CONTROL_REQUEST_METHOD,
    header::ACCESS_CONTROL_REQUEST_HEADERS,
];

/// What an entry costs beyond its key, body and header bytes: the map's
/// slot, the `Arc`, the header map's table.
const ENTRY_OVERHEAD: usize = 512;

/// Kept responses by request key, with the content they were made from.
pub struct ResponseCache {
    /// `None` when the cache is turned off (`--response-cache-bytes 0`).
    entries: Option<quick_cache::sync::Cache<Box<[u8]>, Arc<Stored>, ByBytes>>,
    generation: Arc<dyn Generation>,
    hits: IntCounter,
    misses: IntCounter,
}

/// A kept response: its status, headers and body, and the metric handles of
/// its route, so that answering it again looks up no labels either.
pub struct Stored {
    status: StatusCode,
    /// A list, not a map: copying them into the response's own (pooled,
    /// already allocated) map costs less than cloning a map.
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
    route: RouteMetrics,
    weight: u64,
}

impl Stored {
    pub fn new(status: StatusCode, headers: HeaderMap, body: Bytes, route: RouteMetrics) -> Self {
        let headers: Vec<_> = headers.into_iter().collect();
        let header_bytes: usize = headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len())
            .sum();
        let weight = (body.len() + header_bytes + ENTRY_OVERHEAD) as u64;
        Self {
            status,
            headers,
            body,
            route,
            weight,
        }
    }

    /// A response equal to the one kept; the body's bytes are shared.
    pub fn response(&self) -> HttpResponse {
        let mut response = HttpResponse::with_body(self.status, BoxBody::new(self.body.clone()));
        let headers = response.headers_mut();
        for (name, value) in &self.headers {
            headers.append(name.clone(), value.clone());
        }
        response
    }

    /// The route the response came from, with its metric handles.
    pub fn route(&self) -> &RouteMetrics {
        &self.route
    }
}

/// Weighs an entry by the bytes it holds.
#[derive(Clone)]
struct ByBytes;

impl quick_cache::Weighter<Box<[u8]>, Arc<Stored>> for ByBytes {
    fn weight(&self, key: &Box<[u8]>, stored: &Arc<Stored>) -> u64 {
        key.len() as u64 + stored.weight
    }
}

impl ResponseCache {
    /// A cache holding up to `capacity` bytes of responses; 0 turns it off.
    pub fn new(
        capacity: u64,
        generation: Arc<dyn Generation>,
        hits: IntCounter,
        misses: IntCounter,
    ) -> Self {
        // Most entries are a prepared article or part: a few kilobytes each.
        let estimated_entries = usize::try_from(capacity / 4096).unwrap_or(usize::MAX);
        Self {
            entries: (capacity > 0).then(|| {
                quick_cache::sync::Cache::with_weighter(
                    estimated_entries.max(16),
                    capacity,
                    ByBytes,
                )
            }),
            generation,
            hits,
            misses,
        }
    }

    /// The key of a request whose answer may be kept: a GET or HEAD, with
    /// the content generation, the URL and the keyed headers, each field
    /// length-prefixed so that no two requests share a key. A request that
    /// repeats a keyed header is not cached (legal, rare, and then its key
    /// would depend on the order of the repeats), nor one asking for a
    /// `Range`: its handler cuts the part from the prepared whole.
    pub fn key(&self, req: &ServiceRequest) -> Option<Key> {
        self.entries.as_ref()?;
        let method = match *req.method() {
            Method::GET => b'G',
            Method::HEAD => b'H',
            _ => return None,
        };
        // One pass over the request's few headers, rather than a lookup
        // per keyed name.
        let mut keyed: [Option<&HeaderValue>; KEYED_COUNT] = [None; KEYED_COUNT];
        for (name, value) in req.headers() {
            if let Some(slot) = KEYED.iter().position(|keyed| keyed == name)
                && keyed[slot].replace(value).is_some()
            {
                return None;
            }
            if name == header::RANGE {
                return None;
            }
        }
        let target = req.uri().path_and_query().map_or("", |pq| pq.as_str());
        let mut key = Key::new();
        key.extend_from_slice(&self.generation.generation().to_le_bytes());
        key.push(method);
        push_field(&mut key, target.as_bytes());
        for value in keyed {
            match value {
                Some(value) => {
                    key.push(1);
                    push_field(&mut key, value.as_bytes());
                }
                None => key.push(0),
            }
        }
        Some(key)
    }

    /// The response kept for `key`, if any.
    pub fn get(&self, key: &[u8]) -> Option<Arc<Stored>> {
        let found = self.entries.as_ref()?.get(key);
        match &found {
            Some(_) => self.hits.inc(),
            None => self.misses.inc(),
        }
        found
    }

    /// Keeps `stored` under `key`.
    pub fn insert(&self, key: Key, stored: Arc<Stored>) {
        if let Some(entries) = &self.entries {
            entries.insert(Box::from(&key[..]), stored);
        }
    }

    /// Forgets every response: after a reload, their generation is never
    /// asked for again, and the memory is better spent on the new one's.
    pub fn clear(&self) {
        if let Some(entries) = &self.entries {
            entries.clear();
        }
    }
}

/// Whether `response` may be kept: a 200 or 304 its handler marked
/// [`Cacheable`] (content), varying only on headers in the key. Its
/// `Cache-Control` decides nothing.
pub fn keeps<B>(response: &HttpResponse<B>) -> bool {
    matches!(response.status(), StatusCode::OK | StatusCode::NOT_MODIFIED)
        && response.extensions().contains::<Cacheable>()
        && response
            .headers()
            .get_all(header::VARY)
            .all(varies_on_keyed_headers)
}

/// A request's key, built on the stack: most are a URL and a few short
/// header values, and a hit then allocates nothing for it.
pub type Key = SmallVec<[u8; 192]>;

fn push_field(key: &mut Key, bytes: &[u8]) {
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    key.extend_from_slice(&len.to_le_bytes());
    key.extend_from_slice(bytes);
}

/// Whether every header a `Vary` value names is part of the key.
fn varies_on_keyed_headers(vary: &HeaderValue) -> bool {
    vary.to_str().is_ok_and(|names| {
        names.split(',').all(|name| {
            let name = name.trim();
            KEYED
                .iter()
                .any(|keyed| name.eq_ignore_ascii_case(keyed.as_str()))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_responses_their_handler_marked_cacheable_are_kept_whatever_their_cache_control() {
        let content_policy = "public, max-age=300, stale-while-revalidate=86400";
        let mut unmarked = HttpResponse::Ok();
        unmarked.insert_header((header::CACHE_CONTROL, content_policy));
        assert!(!keeps(&unmarked.finish()));
        let mut marked = HttpResponse::Ok();
        marked.extensions_mut().insert(Cacheable);
        assert!(keeps(&marked.finish()));
        let mut not_modified = HttpResponse::NotModified();
        not_modified.extensions_mut().insert(Cacheable);
        assert!(keeps(&not_modified.finish()));
        let mut error = HttpResponse::NotFound();
        error.extensions_mut().insert(Cacheable);
        assert!(!keeps(&error.finish()));
    }

    #[test]
    fn only_responses_varying_on_keyed_headers_are_kept() {
        let value = HeaderValue::from_static;
        assert!(varies_on_keyed_headers(&value("accept-encoding")));
        assert!(varies_on_keyed_headers(&value(
            "Accept-Encoding, Accept-Language, accept"
        )));
        assert!(varies_on_keyed_headers(&value(
            "accept-encoding, Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
        )));
        assert!(!varies_on_keyed_headers(&value("accept-encoding, cookie")));
        assert!(!varies_on_keyed_headers(&value("*")));
    }

    #[test]
    fn keys_tell_apart_what_a_plain_concatenation_would_not() {
        let mut a = Key::new();
        push_field(&mut a, b"ab");
        push_field(&mut a, b"c");
        let mut b = Key::new();
        push_field(&mut b, b"a");
        push_field(&mut b, b"bc");
        assert_ne!(a, b);
    }
}
