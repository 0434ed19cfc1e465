//! Conditional requests (RFC 9110 13): whether the client's copy, named by
//! `If-None-Match` or `If-Modified-Since`, is still current.

use std::time::SystemTime;

use actix_web::http::header::{self, HeaderMap, HttpDate};

/// Whether `If-Modified-Since` names a time no earlier than `modified`
/// (an unreadable date is ignored, as RFC 9110 13.1.3 asks).
pub fn not_modified_since(headers: &HeaderMap, modified: SystemTime) -> bool {
    headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|value| value.to_str().ok()?.parse::<HttpDate>().ok())
        .is_some_and(|since| modified <= SystemTime::from(since))
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

#[cfg(test)]
mod tests {
    use super::*;
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
