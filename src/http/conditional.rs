//! Conditional requests (RFC 9110 13): whether the client's copy, named by
//! `If-None-Match` or `If-Modified-Since`, is still current.

use std::{
    convert::Infallible,
    future::{Ready, ready},
    time::SystemTime,
};

use actix_web::{
    FromRequest, HttpRequest,
    dev::Payload,
    http::header::{self, HeaderMap, HttpDate},
};
use utoipa::IntoParams;

/// `If-Modified-Since`, where `Last-Modified` is sent.
#[derive(Debug, Clone, Copy, Default, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfModifiedSince {
    /// An HTTP date such as `Wed, 01 May 2024 00:00:00 GMT`; if the
    /// article's `updated_at` is no later, the answer is `304` (ignored when
    /// `If-None-Match` is sent).
    #[param(rename = "If-Modified-Since", value_type = Option<String>)]
    pub since: Option<SystemTime>,
}

impl IfModifiedSince {
    /// Reads the header; an unreadable date is ignored, as RFC 9110 13.1.3 asks.
    pub fn read(headers: &HeaderMap) -> Self {
        Self {
            since: headers
                .get(header::IF_MODIFIED_SINCE)
                .and_then(|value| value.to_str().ok()?.parse::<HttpDate>().ok())
                .map(SystemTime::from),
        }
    }

    /// Whether a resource last modified at `modified` is no newer than the
    /// client's copy.
    pub fn not_modified(self, modified: SystemTime) -> bool {
        self.since.is_some_and(|since| modified <= since)
    }
}

impl FromRequest for IfModifiedSince {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self::read(req.headers())))
    }
}

/// Whether `If-None-Match` matches `etag` (weak comparison, RFC 9110 13.1.2):
/// `*` matches any current representation, and a list matches if any member
/// names the same opaque tag, `W/` or not. A malformed header is ignored.
pub fn none_match(headers: &HeaderMap, etag: &str) -> bool {
    let ours = etag.trim_matches('"');
    headers.get_all(header::IF_NONE_MATCH).any(|value| {
        let Ok(value) = value.to_str() else {
            return false;
        };
        value.split(',').map(str::trim).any(|tag| {
            tag == "*" || {
                let tag = tag.strip_prefix("W/").unwrap_or(tag);
                tag.len() >= 2
                    && tag.starts_with('"')
                    && tag.ends_with('"')
                    && &tag[1..tag.len() - 1] == ours
            }
        })
    })
}

/// The weak entity tag of a page whose bytes differ only by the second it
/// was issued (a form's signed timestamp): `W/"{hash}.{issued}"`, `hash`
/// that of everything else on the page. Weak, since two pages of one
/// `hash` are the same to a reader.
pub fn stamped_tag(hash: u128, issued: u64) -> String {
    format!("W/\"{hash:032x}.{issued}\"")
}

/// The second a page named in `If-None-Match` was issued, when the list
/// names a [`stamped_tag`] of `hash` issued no later than `now` and at most
/// `max_age` seconds before it: the client's copy is then still current.
pub fn stamped_match(headers: &HeaderMap, hash: u128, now: u64, max_age: u64) -> Option<u64> {
    let ours = format!("{hash:032x}");
    headers
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(',').map(str::trim))
        .filter_map(|tag| {
            let tag = tag.strip_prefix("W/").unwrap_or(tag);
            let (hash, issued) = tag.strip_prefix('"')?.strip_suffix('"')?.split_once('.')?;
            let issued: u64 = issued.parse().ok()?;
            (hash == ours && issued <= now && now - issued <= max_age).then_some(issued)
        })
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamped_page_is_current_for_its_hash_within_its_age() {
        let hash = 0xab;
        let tag = stamped_tag(hash, 1_000);
        assert_eq!(tag, format!("W/\"{:032x}.1000\"", 0xab));
        let asks = |value: &str| headers(header::IF_NONE_MATCH, &[value]);
        assert_eq!(stamped_match(&asks(&tag), hash, 1_000, 60), Some(1_000));
        assert_eq!(stamped_match(&asks(&tag), hash, 1_060, 60), Some(1_000));
        // Too old, issued in the future, another page, no stamp, garbage.
        assert_eq!(stamped_match(&asks(&tag), hash, 1_061, 60), None);
        assert_eq!(stamped_match(&asks(&tag), hash, 999, 60), None);
        assert_eq!(stamped_match(&asks(&tag), 0xac, 1_000, 60), None);
        let unstamped = format!("\"{hash:032x}\"");
        assert_eq!(stamped_match(&asks(&unstamped), hash, 1_000, 60), None);
        assert_eq!(stamped_match(&asks("W/\"x.y\", *"), hash, 1_000, 60), None);
        // In a list, the newest that fits.
        let list = format!(
            "{}, {tag}, {}",
            stamped_tag(hash, 990),
            stamped_tag(hash, 900)
        );
        assert_eq!(stamped_match(&asks(&list), hash, 1_000, 60), Some(1_000));
    }
    use crate::http::negotiation::tests::headers;

    #[test]
    fn if_none_match_compares_weakly_and_understands_lists_and_star() {
        let matches =
            |values: &[&str]| none_match(&headers(header::IF_NONE_MATCH, values), "\"abc\"");
        assert!(matches(&["\"abc\""]));
        assert!(matches(&["W/\"abc\""]));
        assert!(matches(&["\"x\", \"abc\""]));
        assert!(matches(&["\"x\"", "\"abc\""]));
        assert!(matches(&["*"]));
        assert!(!matches(&["\"abcd\""]));
        assert!(!matches(&["abc"]));
        assert!(!matches(&[]));
    }
}
