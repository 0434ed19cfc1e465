//! Prepared representations and the HTTP rules for handing them out.
//!
//! A [`Representation`] is a response body made once, when content is loaded:
//! its identity bytes, a strong `ETag` (a hash of those bytes), and `gzip` and
//! `br` variants for bodies large enough to gain from them. Answering a request
//! is then only choosing a variant (`Accept-Encoding`), checking the client's
//! validators (`If-None-Match`) and copying headers: no serializing, hashing or
//! compressing per request. A framed body (a list of parts: its article's own
//! bytes with `{"items":` before and `,"total":N}` after) is held once, inside
//! the article's, and only its uncompressed form is put together per request.
//!
//! Compressing is the one costly step (milliseconds per article, so seconds
//! for thousands). Small content is compressed before it is served; a large
//! content set is compressed by a background thread right after the server
//! starts, so that start-up stays short, and until then a variant is made by
//! the first request that wants it. Either way each variant is made once.

use std::{
    io::Write as _,
    sync::{Arc, OnceLock},
    time::SystemTime,
};

use actix_web::{
    HttpRequest, HttpResponse, HttpResponseBuilder, ResponseError,
    http::header::{self, HeaderMap, HeaderValue, HttpDate},
    web::{self, Bytes},
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{config::defaults, error::ApiError};

/// Bodies smaller than this are served as they are: they fit in one TCP
/// segment either way, so compressing them saves no round trip, and each
/// variant would cost memory for every such body.
pub const COMPRESS_MIN_BYTES: usize = 1400;

/// Brotli quality (0-11). Measured on the source article (7.4 kB): quality 4
/// takes 80 µs for 2,458 bytes, 5 to 9 take 4-5 ms for 2,330-2,350, 11 takes
/// 7 ms for 1,941. Thousands of articles must be compressed in seconds, so 4.
const BROTLI_QUALITY: i32 = 4;

/// A response body with its validator and compressed variants; cheap to clone.
/// Held inline (64 bytes): a content set has tens of representations per
/// article, and one allocation each would add up.
#[derive(Debug, Clone)]
pub struct Representation {
    /// The body, or, for a framed body, its middle part.
    identity: Bytes,
    /// For a body that is another body's bytes with a frame around them
    /// (a list of parts, inside its article's JSON): the frame.
    frame: Option<Arc<Frame>>,
    /// The first 16 bytes of the SHA-256 of the body.
    hash: [u8; 16],
    /// Present for bodies large enough to be worth compressing; the many
    /// small bodies (single items) carry only a null pointer.
    compressed: Option<Arc<OnceLock<Compressed>>>,
}

/// What goes before and after a framed body's middle part.
#[derive(Debug)]
struct Frame {
    before: &'static [u8],
    after: Box<[u8]>,
}

/// The compressed variants of a body.
#[derive(Debug)]
pub struct Compressed {
    gzip: Bytes,
    br: Bytes,
}

/// A content coding this server can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Identity,
    Gzip,
    Br,
}

impl Coding {
    fn name(self) -> &'static str {
        match self {
            Self::Identity => "identity",
            Self::Gzip => "gzip",
            Self::Br => "br",
        }
    }
}

impl Representation {
    /// Prepares `body`: hashes it; see [`Self::compress`] for the variants.
    /// Build `body` with [`exact`] when it comes from a growing `Vec`.
    pub fn new(body: Bytes) -> Self {
        let digest = Sha256::digest(&body);
        let mut hash = [0; 16];
        hash.copy_from_slice(&digest[..16]);
        Self {
            compressed: (body.len() >= COMPRESS_MIN_BYTES).then(Arc::default),
            identity: body,
            frame: None,
            hash,
        }
    }

    /// Prepares the body `before` + `middle` + `after` without copying
    /// `middle`, a slice of a body held anyway (a list of parts is, bar its
    /// frame, a slice of its article's JSON): the identity body is put
    /// together per request, the compressed variants once.
    pub fn framed(before: &'static [u8], middle: Bytes, after: Vec<u8>) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(before);
        hasher.update(&middle);
        hasher.update(&after);
        let digest = hasher.finalize();
        let mut hash = [0; 16];
        hash.copy_from_slice(&digest[..16]);
        let len = before.len() + middle.len() + after.len();
        Self {
            compressed: (len >= COMPRESS_MIN_BYTES).then(Arc::default),
            identity: middle,
            frame: Some(Arc::new(Frame {
                before,
                after: after.into_boxed_slice(),
            })),
            hash,
        }
    }

    /// Makes the compressed variants, once; later calls return at once.
    /// `None` for bodies too small to compress.
    pub fn compress(&self) -> Option<&Compressed> {
        self.compressed.as_ref().map(|cell| {
            cell.get_or_init(|| {
                let identity = self.body();
                Compressed {
                    gzip: exact(gzip(&identity)),
                    br: exact(brotli(&identity)),
                }
            })
        })
    }

    /// Serializes `value` as JSON and prepares it.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Self {
        Self::new(exact(to_json(value)))
    }

    /// The same body with no compressed variants, for a body made for one
    /// request: compressing it would cost more than sending it.
    pub fn without_variants(mut self) -> Self {
        self.compressed = None;
        self
    }

    /// The uncompressed body (put together, for a framed one).
    pub fn body(&self) -> Bytes {
        match &self.frame {
            None => self.identity.clone(),
            Some(frame) => {
                let mut body = Vec::with_capacity(self.len());
                body.extend_from_slice(frame.before);
                body.extend_from_slice(&self.identity);
                body.extend_from_slice(&frame.after);
                Bytes::from(body)
            }
        }
    }

    /// The body of a representation that is not framed, without a copy:
    /// articles and their parts, as search and the bundle read them.
    pub fn unframed(&self) -> &Bytes {
        debug_assert!(self.frame.is_none(), "a framed body has no single buffer");
        &self.identity
    }

    /// The length of the uncompressed body.
    pub fn len(&self) -> usize {
        self.identity.len()
            + self
                .frame
                .as_ref()
                .map_or(0, |frame| frame.before.len() + frame.after.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The body in `coding`, if this representation has that variant.
    pub fn variant(&self, coding: Coding) -> Option<Bytes> {
        match coding {
            Coding::Identity => Some(self.body()),
            Coding::Gzip => self.compress().map(|c| c.gzip.clone()),
            Coding::Br => self.compress().map(|c| c.br.clone()),
        }
    }

    /// The strong entity tag of the variant in `coding`, quotes included.
    /// Each variant has its own, as RFC 9110 asks of strong validators.
    pub fn etag(&self, coding: Coding) -> String {
        self.etag_bytes(coding).as_str().to_owned()
    }

    /// The entity tag, formatted on the stack: this runs on every request.
    fn etag_bytes(&self, coding: Coding) -> EtagBuf {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut buf = EtagBuf {
            bytes: [0; 40],
            len: 0,
        };
        let mut push = |byte: u8| {
            buf.bytes[buf.len] = byte;
            buf.len += 1;
        };
        push(b'"');
        for byte in self.hash {
            push(HEX[usize::from(byte >> 4)]);
            push(HEX[usize::from(byte & 0xf)]);
        }
        if coding != Coding::Identity {
            push(b'-');
            coding.name().bytes().for_each(&mut push);
        }
        push(b'"');
        buf
    }

    /// Answers a GET or HEAD for this representation: 200 with the best
    /// variant, 304 when the client's copy is current, 406 when the client
    /// accepts no coding we have. `caching` says whether it is content.
    pub fn respond(
        &self,
        req: &HttpRequest,
        content_type: &'static str,
        caching: Caching,
    ) -> HttpResponse {
        self.respond_full(req, content_type, caching, None)
    }

    /// [`Self::respond_with`] for a resource with a modification date:
    /// sends `Last-Modified`, and answers `If-Modified-Since` with 304 when
    /// the resource is no newer (only when there is no `If-None-Match`,
    /// which takes precedence, RFC 9110 13.2.2).
    pub fn respond_full(
        &self,
        req: &HttpRequest,
        content_type: &'static str,
        caching: Caching,
        last_modified: Option<SystemTime>,
    ) -> HttpResponse {
        let (cache_control, cacheable) = match caching {
            Caching::Content => (CachePolicy::of(req), true),
            Caching::Revalidate(cache_control) => (cache_control, false),
        };
        let headers = req.headers();
        if !accepts(headers, content_type) {
            return ApiError::NotAcceptable(format!(
                "this resource is only available as {content_type}; the Accept header refuses it"
            ))
            .error_response();
        }
        let Some(coding) = negotiate(headers, self.compressed.is_some()) else {
            return ApiError::NotAcceptable(
                "no acceptable content coding: this resource is available as identity, gzip or br"
                    .into(),
            )
            .error_response();
        };
        let etag = self.etag_bytes(coding);

        let not_modified = if headers.contains_key(header::IF_NONE_MATCH) {
            none_match(headers, etag.as_str())
        } else {
            last_modified.is_some_and(|modified| not_modified_since(headers, modified))
        };
        let mut response = if not_modified {
            HttpResponse::NotModified()
        } else {
            HttpResponse::Ok()
        };
        set(
            &mut response,
            header::ETAG,
            HeaderValue::from_bytes(etag.as_bytes()).expect("hex is a valid header"),
        );
        set(&mut response, header::CACHE_CONTROL, cache_control);
        if cacheable {
            response.extensions_mut().insert(Cacheable);
        }
        if let Some(modified) = last_modified {
            response.insert_header((header::LAST_MODIFIED, HttpDate::from(modified)));
        }
        set(
            &mut response,
            header::VARY,
            HeaderValue::from_static("accept-encoding"),
        );
        if not_modified {
            return response.finish();
        }
        if coding != Coding::Identity {
            set(
                &mut response,
                header::CONTENT_ENCODING,
                HeaderValue::from_static(coding.name()),
            );
        }
        let body = self.variant(coding).expect("negotiated codings exist");
        response.content_type(content_type).body(body)
    }
}

/// An entity tag: a quote, 32 hex digits, an optional `-gzip`, a quote.
struct EtagBuf {
    bytes: [u8; 40],
    len: usize,
}

impl EtagBuf {
    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).expect("hex is ASCII")
    }
}

fn set(response: &mut HttpResponseBuilder, name: header::HeaderName, value: HeaderValue) {
    response.insert_header((name, value));
}

/// The bytes of `buffer` without its spare capacity: a `Vec` grown by
/// doubling holds up to twice its length, which, kept for the life of the
/// content, would be memory held for nothing.
pub fn exact(mut buffer: Vec<u8>) -> Bytes {
    buffer.shrink_to_fit();
    Bytes::from(buffer)
}

/// Serializes a value of the content types, which cannot fail to serialize.
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("content types always serialize to JSON")
}

fn gzip(body: &[u8]) -> Vec<u8> {
    // Level 6 compresses prose as well as 9 here (2,513 bytes for the article) and no slower.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(body)
        .expect("writing to memory cannot fail");
    encoder.finish().expect("writing to memory cannot fail")
}

fn brotli(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    // A window no larger than the body: brotli sizes (and zeroes) its tables
    // by the window, which for small bodies dominates the time to compress.
    let lgwin = body
        .len()
        .next_power_of_two()
        .trailing_zeros()
        .clamp(10, 22);
    let params = brotli::enc::BrotliEncoderParams {
        quality: BROTLI_QUALITY,
        lgwin: lgwin as i32,
        size_hint: body.len(),
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &body[..], &mut out, &params)
        .expect("writing to memory cannot fail");
    out
}

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
    /// The `Cache-Control` of content responses, as configured for this app.
    pub fn of(req: &HttpRequest) -> HeaderValue {
        req.app_data::<web::Data<CachePolicy>>().map_or_else(
            || CachePolicy::default().header.clone(),
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

impl Default for CachePolicy {
    fn default() -> Self {
        Self::new(
            defaults::CACHE_MAX_AGE,
            defaults::CACHE_STALE_WHILE_REVALIDATE,
        )
    }
}

/// Whether `If-Modified-Since` names a time no earlier than `modified`
/// (an unreadable date is ignored, as RFC 9110 13.1.3 asks).
fn not_modified_since(headers: &HeaderMap, modified: SystemTime) -> bool {
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

/// Chooses the coding to send (RFC 9110 12.5.3): the highest q-value among
/// the codings we have, `*` standing for codings not named, identity the
/// last resort unless refused; ties go to the smaller body (br, gzip,
/// identity). `None` means the client refuses everything we have.
pub fn negotiate(headers: &HeaderMap, compressed: bool) -> Option<Coding> {
    let mut values = headers.get_all(header::ACCEPT_ENCODING).peekable();
    if values.peek().is_none() {
        return Some(Coding::Identity);
    }
    // q-values in thousandths; None = not named.
    let (mut br, mut gzip, mut identity, mut any) = (None, None, None, None);
    for value in values {
        let Ok(value) = value.to_str() else { continue };
        for entry in value.split(',') {
            let mut parts = entry.split(';');
            let name = parts.next().unwrap_or_default().trim();
            if name.is_empty() {
                continue;
            }
            let Some(q) = weight(parts) else {
                continue;
            };
            let slot = match name.to_ascii_lowercase().as_str() {
                "br" => &mut br,
                "gzip" | "x-gzip" => &mut gzip,
                "identity" => &mut identity,
                "*" => &mut any,
                _ => continue,
            };
            *slot = Some(q);
        }
    }
    // Identity, when not named, is the acceptable last resort: the lowest q above 0.
    let identity_q = identity.or(any).unwrap_or(1);
    let mut best = (0, None);
    let candidates = [
        (Coding::Br, compressed.then(|| br.or(any).unwrap_or(0))),
        (Coding::Gzip, compressed.then(|| gzip.or(any).unwrap_or(0))),
        (Coding::Identity, Some(identity_q)),
    ];
    for (coding, q) in candidates {
        if let Some(q) = q.filter(|&q| q > best.0) {
            best = (q, Some(coding));
        }
    }
    best.1
}

/// Whether the `Accept` header allows `media_type` (`type/subtype`): absent,
/// or naming it, its `type/*`, or `*/*`, with a q-value above 0. The most
/// specific range decides, as RFC 9110 12.5.1 says.
pub fn accepts(headers: &HeaderMap, media_type: &str) -> bool {
    // Parameters (`; charset=utf-8`) do not take part in matching.
    let media_type = media_type.split(';').next().unwrap_or_default().trim();
    let (kind, _) = media_type.split_once('/').unwrap_or((media_type, ""));
    let mut best: Option<(u8, u16)> = None; // (specificity, q)
    let mut present = false;
    for value in headers.get_all(header::ACCEPT) {
        present = true;
        let Ok(value) = value.to_str() else { continue };
        for entry in value.split(',') {
            let mut parts = entry.split(';');
            let range = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let specificity = if range == media_type {
                3
            } else if range.strip_suffix("/*") == Some(kind) {
                2
            } else if range == "*/*" {
                1
            } else {
                continue;
            };
            let q = weight(parts).unwrap_or(0);
            if best.is_none_or(|(s, _)| specificity > s) {
                best = Some((specificity, q));
            }
        }
    }
    !present || best.is_some_and(|(_, q)| q > 0)
}

/// The q-value among an `Accept*` entry's parameters, in thousandths: 1000
/// when absent, `None` when malformed.
pub(crate) fn weight<'a>(parameters: impl Iterator<Item = &'a str>) -> Option<u16> {
    parameters
        .map(str::trim)
        .find_map(|p| p.strip_prefix("q=").or(p.strip_prefix("Q=")))
        .map_or(Some(1000), parse_q)
}

/// Parses a q-value (`0`, `0.5`, `1.000`) into thousandths.
fn parse_q(raw: &str) -> Option<u16> {
    let (whole, fraction) = raw.split_once('.').unwrap_or((raw, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{fraction:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderName;

    fn headers(name: HeaderName, values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn choose(accept: &[&str]) -> Option<Coding> {
        negotiate(&headers(header::ACCEPT_ENCODING, accept), true)
    }

    #[test]
    fn no_accept_encoding_means_identity() {
        assert_eq!(choose(&[]), Some(Coding::Identity));
    }

    #[test]
    fn the_smallest_acceptable_coding_wins_a_tie() {
        assert_eq!(choose(&["gzip, deflate, br"]), Some(Coding::Br));
        assert_eq!(choose(&["gzip"]), Some(Coding::Gzip));
        assert_eq!(choose(&["deflate"]), Some(Coding::Identity));
        assert_eq!(choose(&["*"]), Some(Coding::Br));
    }

    #[test]
    fn q_values_rank_codings() {
        assert_eq!(choose(&["br;q=0.5, gzip;q=0.8"]), Some(Coding::Gzip));
        assert_eq!(choose(&["br;q=0, gzip"]), Some(Coding::Gzip));
        assert_eq!(
            choose(&["br;q=0.1, identity;q=0.9"]),
            Some(Coding::Identity)
        );
        assert_eq!(choose(&["*;q=0.2, gzip;q=0.1"]), Some(Coding::Br));
        assert_eq!(choose(&["gzip;q=1.0", "br;q=0.999"]), Some(Coding::Gzip));
    }

    #[test]
    fn identity_can_be_refused() {
        assert_eq!(choose(&["identity;q=0"]), None);
        assert_eq!(choose(&["*;q=0"]), None);
        assert_eq!(choose(&["*;q=0, identity"]), Some(Coding::Identity));
        assert_eq!(choose(&["identity;q=0, gzip"]), Some(Coding::Gzip));
        assert_eq!(
            negotiate(
                &headers(header::ACCEPT_ENCODING, &["identity;q=0, gzip"]),
                false
            ),
            None
        );
    }

    #[test]
    fn small_bodies_are_sent_as_identity() {
        assert_eq!(
            negotiate(&headers(header::ACCEPT_ENCODING, &["br, gzip"]), false),
            Some(Coding::Identity)
        );
    }

    #[test]
    fn malformed_q_values_drop_their_entry() {
        assert_eq!(choose(&["br;q=2, gzip"]), Some(Coding::Gzip));
        assert_eq!(choose(&["br;q=abc"]), Some(Coding::Identity));
        assert_eq!(parse_q("0.25"), Some(250));
        assert_eq!(parse_q("1"), Some(1000));
        assert_eq!(parse_q("0.0001"), None);
    }

    #[test]
    fn json_is_acceptable_unless_the_accept_header_rules_it_out() {
        let accepts_json =
            |values: &[&str]| accepts(&headers(header::ACCEPT, values), "application/json");
        assert!(accepts_json(&[]));
        assert!(accepts_json(&["application/json"]));
        assert!(accepts_json(&["*/*"]));
        assert!(accepts_json(&["application/*;q=0.5"]));
        assert!(accepts_json(&[
            "text/html, application/xhtml+xml, */*;q=0.8"
        ]));
        assert!(!accepts_json(&["text/html"]));
        assert!(!accepts_json(&["application/json;q=0"]));
        assert!(!accepts_json(&["*/*, application/json;q=0"]));
        assert!(!accepts_json(&["image/png, text/*"]));
    }

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

    #[test]
    fn each_variant_has_its_own_strong_etag() {
        let rep = Representation::new(Bytes::from(vec![b'x'; 4096]));
        let identity = rep.etag(Coding::Identity);
        assert!(identity.starts_with('"') && identity.ends_with('"') && identity.len() == 34);
        assert_eq!(
            rep.etag(Coding::Br),
            format!("{}-br\"", identity.trim_end_matches('"'))
        );
        assert_ne!(rep.etag(Coding::Gzip), identity);
        assert_eq!(
            Representation::new(Bytes::from(vec![b'x'; 4096])).etag(Coding::Identity),
            identity
        );
    }
}
