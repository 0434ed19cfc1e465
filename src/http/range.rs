//! Range requests (RFC 9110 14): part of a representation, so that a client
//! whose download was cut off (a large bundle on a phone's network) asks for
//! the rest rather than all of it again.
//!
//! A resource serves ranges when its handler takes a [`RangeRequest`] (the
//! bundle does: the one large download) and says so with `Accept-Ranges`;
//! others answer any `Range` with the whole body, as the RFC allows.
//! One byte range is served, as `206 Partial Content` with its
//! `Content-Range`; a request for several is answered whole (`200`), which
//! the RFC allows and which spares a `multipart/byteranges` body no client
//! here needs. A range that starts past the end is a `416` that says the
//! length. Only `GET` has ranges; a `Range` the server cannot read is
//! ignored, as the RFC asks, and the whole answered.
//!
//! Ranges are of the uncompressed body only, as nginx does with gzip on
//! (checked: a client that takes gzip gets the whole, compressed, `200`).
//! The bundle compresses 14 to 17 times (94 MB to 5.6 MB with gzip, 6.8
//! MB with br, at 10,000 articles), so the whole compressed costs less than most uncompressed
//! remainders, and no client that decodes as it reads (most do) is handed
//! a fragment of a compressed stream it cannot decode. Clients that ask
//! for a range ask for it uncompressed anyway: browsers (the Fetch
//! standard) and OkHttp. One that decoded a compressed download holds the
//! uncompressed bytes under that coding's `ETag`, so `If-Range` may name
//! the representation in any coding.

use std::{
    convert::Infallible,
    future::{Ready, ready},
};

use actix_web::{
    FromRequest, HttpRequest,
    dev::Payload,
    http::{
        Method,
        header::{self, ByteRangeSpec, HeaderMap, HeaderValue},
    },
};
use utoipa::IntoParams;

/// `Range` and `If-Range`, as an operation that serves byte ranges reads
/// them (for any method but `GET`, they are left unread).
#[derive(Debug, Clone, Default, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct RangeRequest {
    /// One byte range of the body: `bytes=0-1023`, `bytes=1024-` (to the
    /// end) or `bytes=-500` (the last 500); the answer is `206` with those
    /// bytes. Several ranges, or one that cannot be read, get the whole body.
    #[param(rename = "Range", value_type = Option<String>, example = "bytes=1024-")]
    pub range: Option<HeaderValue>,
    /// The `ETag` of the copy the client holds part of: the `Range` is
    /// honoured only while that copy is current, else the whole body is sent.
    #[param(rename = "If-Range", value_type = Option<String>)]
    pub if_range: Option<HeaderValue>,
}

/// What a request asks of a representation `len` bytes long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requested {
    /// The whole body: no range, or one not to be honoured.
    Whole,
    /// The bytes `first..=last`.
    Part { first: u64, last: u64 },
    /// A range wholly past the end: `416`.
    Unsatisfiable,
}

impl RangeRequest {
    /// Reads the two headers of a `GET`; each is read only when sent once.
    pub fn read(method: &Method, headers: &HeaderMap) -> Self {
        if method != Method::GET {
            return Self::default();
        }
        Self {
            range: one(headers, header::RANGE).cloned(),
            if_range: one(headers, header::IF_RANGE).cloned(),
        }
    }

    /// Whether a range is asked for at all.
    pub fn asks(&self) -> bool {
        self.range.is_some()
    }

    /// What is asked of a body `len` bytes long, whose representation
    /// `names_this` tells by its strong entity tags (quotes included).
    pub fn of(&self, names_this: impl Fn(&[u8]) -> bool, len: u64) -> Requested {
        let Some(range) = &self.range else {
            return Requested::Whole;
        };
        // If-Range names the copy the client holds part of; when it is not
        // this one, the rest of this one would not fit the part held.
        // A weak tag or a date never names it: neither is a strong
        // validator of these bytes (RFC 9110 13.1.5).
        if let Some(validator) = &self.if_range
            && !names_this(validator.as_bytes())
        {
            return Requested::Whole;
        }
        let Ok(header::Range::Bytes(specs)) =
            range.to_str().unwrap_or_default().parse::<header::Range>()
        else {
            return Requested::Whole;
        };
        let [spec] = specs.as_slice() else {
            return Requested::Whole;
        };
        match spec.to_satisfiable_range(len) {
            Some((first, last)) => Requested::Part { first, last },
            // An empty body's only satisfiable range is a suffix (RFC 9110
            // 14.1.1), and no `Content-Range` can name its no bytes.
            None if len == 0 && matches!(spec, ByteRangeSpec::Last(n) if *n > 0) => {
                Requested::Whole
            }
            None => Requested::Unsatisfiable,
        }
    }
}

impl FromRequest for RangeRequest {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self::read(req.method(), req.headers())))
    }
}

/// The `Content-Range` of a part: `bytes first-last/len`.
pub fn content_range(first: u64, last: u64, len: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("bytes {first}-{last}/{len}"))
        .expect("digits are a valid header")
}

/// The `Content-Range` of a `416`: `bytes */len`, the length to ask within.
pub fn unsatisfied_range(len: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("bytes */{len}")).expect("digits are a valid header")
}

/// The value of a header sent once; a repeated one is not read.
fn one(headers: &HeaderMap, name: header::HeaderName) -> Option<&HeaderValue> {
    let mut values = headers.get_all(name);
    let value = values.next()?;
    values.next().is_none().then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ETAG: &str = "\"0123456789abcdef0123456789abcdef\"";

    fn ask(method: Method, headers: &[(&str, &str)], len: u64) -> Requested {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        // The representation is named by its identity and gzip tags.
        let names_this = |tag: &[u8]| {
            tag == ETAG.as_bytes() || tag == b"\"0123456789abcdef0123456789abcdef-gzip\""
        };
        RangeRequest::read(&method, &map).of(names_this, len)
    }

    fn get(headers: &[(&str, &str)]) -> Requested {
        ask(Method::GET, headers, 1000)
    }

    #[test]
    fn one_range_is_a_part_in_each_of_its_three_forms() {
        let part = |first, last| Requested::Part { first, last };
        assert_eq!(get(&[("range", "bytes=0-99")]), part(0, 99));
        assert_eq!(get(&[("range", "bytes=900-")]), part(900, 999));
        assert_eq!(get(&[("range", "bytes=-100")]), part(900, 999));
        // An end past the body's is the body's end; a suffix longer than
        // the body is all of it.
        assert_eq!(get(&[("range", "bytes=990-5000")]), part(990, 999));
        assert_eq!(get(&[("range", "bytes=-5000")]), part(0, 999));
    }

    #[test]
    fn no_range_several_ranges_or_an_unreadable_one_ask_for_the_whole() {
        assert_eq!(get(&[]), Requested::Whole);
        assert_eq!(get(&[("range", "bytes=0-9,20-29")]), Requested::Whole);
        for unreadable in ["bytes=", "bytes=9-2", "bytes=a-b", "items=0-9", "0-9"] {
            assert_eq!(
                get(&[("range", unreadable)]),
                Requested::Whole,
                "{unreadable}"
            );
        }
        assert_eq!(
            get(&[("range", "bytes=0-9"), ("range", "bytes=10-19")]),
            Requested::Whole
        );
    }

    #[test]
    fn a_range_past_the_end_is_unsatisfiable() {
        assert_eq!(get(&[("range", "bytes=1000-")]), Requested::Unsatisfiable);
        assert_eq!(
            get(&[("range", "bytes=1000-1999")]),
            Requested::Unsatisfiable
        );
        assert_eq!(get(&[("range", "bytes=-0")]), Requested::Unsatisfiable);
    }

    #[test]
    fn an_empty_body_is_sent_whole_for_a_suffix_and_has_no_other_range() {
        let empty = |range| ask(Method::GET, &[("range", range)], 0);
        assert_eq!(empty("bytes=-10"), Requested::Whole);
        assert_eq!(empty("bytes=0-"), Requested::Unsatisfiable);
        assert_eq!(empty("bytes=0-9"), Requested::Unsatisfiable);
    }

    #[test]
    fn only_get_has_ranges() {
        for method in [Method::HEAD, Method::POST] {
            assert_eq!(
                ask(method, &[("range", "bytes=0-9")], 1000),
                Requested::Whole
            );
        }
    }

    #[test]
    fn if_range_honours_the_range_only_for_a_strong_tag_of_this_representation() {
        let with = |if_range| get(&[("range", "bytes=0-9"), ("if-range", if_range)]);
        let part = Requested::Part { first: 0, last: 9 };
        assert_eq!(with(ETAG), part);
        assert_eq!(with("\"0123456789abcdef0123456789abcdef-gzip\""), part);
        let weak = format!("W/{ETAG}");
        for other in [
            weak.as_str(),
            "\"fedcba9876543210fedcba9876543210\"",
            "Wed, 01 May 2024 00:00:00 GMT",
        ] {
            assert_eq!(with(other), Requested::Whole, "{other}");
        }
    }
}
