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
    HttpRequest, HttpResponse, HttpResponseBuilder,
    http::{
        StatusCode,
        header::{self, HeaderValue, HttpDate},
    },
    web::Bytes,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use xxhash_rust::xxh3::{Xxh3, xxh3_128};

use super::{
    cache::{CachePolicy, Cacheable, Caching},
    conditional::{IfModifiedSince, none_match},
    negotiation::{Coding, accepts, negotiate},
    problem,
    range::{self, RangeRequest, Requested},
};

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
    /// The 128-bit XXH3 of the body: an ETag needs no cryptographic hash
    /// (the content comes from its editors, not from whoever asks), and
    /// every body of every article is hashed at load, where SHA-256 took a
    /// tenth of start-up at 10,000 articles. (The content history's
    /// digests are SHA-256: see [`Representation::digest`].)
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

impl Representation {
    /// Prepares `body`: hashes it; see [`Self::compress`] for the variants.
    /// Build `body` with [`exact`] when it comes from a growing `Vec`.
    pub fn new(body: Bytes) -> Self {
        let hash = xxh3_128(&body).to_be_bytes();
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
        // Streamed, the hash is that of the bytes put together.
        let mut hasher = Xxh3::new();
        hasher.update(before);
        hasher.update(&middle);
        hasher.update(&after);
        let hash = hasher.digest128().to_be_bytes();
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

    /// Whether answering costs no compressing: the variants are made, or
    /// the body is too small to have any.
    pub fn is_compressed(&self) -> bool {
        self.compressed
            .as_ref()
            .is_none_or(|cell| cell.get().is_some())
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

    /// The identity body's SHA-256, its first 16 bytes in hex: whether the
    /// body changed between two content sets. The content history keeps
    /// these, so they stay SHA-256 whatever ETags are made of (another
    /// hash would show every resource as changed once, after an upgrade);
    /// made when asked, after start-up, not at load.
    pub fn digest(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        let (before, after) = match &self.frame {
            Some(frame) => (frame.before, &*frame.after),
            None => (&[][..], &[][..]),
        };
        hasher.update(before);
        hasher.update(&self.identity);
        hasher.update(after);
        let mut hex = [0; 32];
        for (pair, &byte) in hex.chunks_exact_mut(2).zip(&hasher.finalize()[..16]) {
            pair.copy_from_slice(&hex_pair(byte));
        }
        hex
    }

    /// The smaller of the two compressed variants, making them if need be:
    /// br at the quality used is not always (the bundle of 10,000 articles
    /// is 6.8 MB in br, 5.6 MB in gzip).
    fn smaller(&self) -> Coding {
        match self.compress() {
            Some(variants) if variants.gzip.len() < variants.br.len() => Coding::Gzip,
            _ => Coding::Br,
        }
    }

    /// Whether `tag` is the entity tag of this representation in any coding.
    fn names(&self, tag: &[u8]) -> bool {
        [Coding::Identity, Coding::Gzip, Coding::Br]
            .into_iter()
            .any(|coding| self.etag_bytes(coding).as_bytes() == tag)
    }

    /// The entity tag, formatted on the stack: this runs on every request.
    fn etag_bytes(&self, coding: Coding) -> EtagBuf {
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
            hex_pair(byte).into_iter().for_each(&mut push);
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
        let since = IfModifiedSince::default();
        self.respond_full(req, content_type, caching, None, since, None)
    }

    /// [`Self::respond`] for a resource that serves byte ranges: also 206
    /// with the one range `range` asks for, 416 when it starts past the end.
    pub fn respond_ranged(
        &self,
        req: &HttpRequest,
        content_type: &'static str,
        caching: Caching,
        range: &RangeRequest,
    ) -> HttpResponse {
        let since = IfModifiedSince::default();
        self.respond_full(req, content_type, caching, None, since, Some(range))
    }

    /// [`Self::respond`] for a resource with a modification date:
    /// sends `Last-Modified`, and answers `since` (`If-Modified-Since`) with 304 when
    /// the resource is no newer (only when there is no `If-None-Match`,
    /// which takes precedence, RFC 9110 13.2.2). `range` is given by a
    /// resource that serves byte ranges (and says so with `Accept-Ranges`).
    pub fn respond_full(
        &self,
        req: &HttpRequest,
        content_type: &'static str,
        caching: Caching,
        last_modified: Option<SystemTime>,
        since: IfModifiedSince,
        range: Option<&RangeRequest>,
    ) -> HttpResponse {
        let (cache_control, cacheable) = match caching {
            Caching::Content => (CachePolicy::of(req), true),
            Caching::Revalidate(cache_control) => (cache_control, false),
        };
        let headers = req.headers();
        if !accepts(headers, content_type) {
            return problem::refusal(
                StatusCode::NOT_ACCEPTABLE,
                format!(
                    "this resource is only available as {content_type}; the Accept header refuses it"
                ),
            );
        }
        let Some(coding) = negotiate(headers, self.compressed.is_some(), || self.smaller()) else {
            return problem::refusal(
                StatusCode::NOT_ACCEPTABLE,
                "no acceptable content coding: this resource is available as identity, gzip or br",
            );
        };
        let ranges = range.is_some();
        // Ranges are of the uncompressed body only (see `range`): a client
        // that takes a compressed one gets it whole, which costs it less.
        let range = range.filter(|range| range.asks() && coding == Coding::Identity);
        let etag = self.etag_bytes(coding);

        let not_modified = if headers.contains_key(header::IF_NONE_MATCH) {
            none_match(headers, etag.as_str())
        } else {
            last_modified.is_some_and(|modified| since.not_modified(modified))
        };
        // The body, and which of its bytes are asked for: a 304 needs neither.
        let (body, requested) = if not_modified {
            (Bytes::new(), Requested::Whole)
        } else {
            let body = self.variant(coding).expect("negotiated codings exist");
            let requested = range.map_or(Requested::Whole, |range| {
                range.of(|tag| self.names(tag), body.len() as u64)
            });
            (body, requested)
        };
        let mut response = match requested {
            Requested::Whole if not_modified => HttpResponse::NotModified(),
            Requested::Whole => HttpResponse::Ok(),
            Requested::Part { .. } => HttpResponse::PartialContent(),
            Requested::Unsatisfiable => {
                let mut refusal = problem::refusal(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    format!(
                        "the range asked for starts past the end of this representation, \
                         which is {} bytes long",
                        body.len()
                    ),
                );
                refusal.headers_mut().insert(
                    header::CONTENT_RANGE,
                    range::unsatisfied_range(body.len() as u64),
                );
                return refusal;
            }
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
        if ranges {
            set(
                &mut response,
                header::ACCEPT_RANGES,
                HeaderValue::from_static("bytes"),
            );
        }
        let body = match requested {
            Requested::Part { first, last } => {
                set(
                    &mut response,
                    header::CONTENT_RANGE,
                    range::content_range(first, last, body.len() as u64),
                );
                // Both ends are within the body: `Requested` says so.
                body.slice(first as usize..=last as usize)
            }
            _ => body,
        };
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

/// A byte as two lowercase hex digits.
fn hex_pair(byte: u8) -> [u8; 2] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    [HEX[usize::from(byte >> 4)], HEX[usize::from(byte & 0xf)]]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_compressed_once_its_variants_are_made_or_if_too_small_for_any() {
        let large = Representation::new(Bytes::from(vec![b'x'; 4096]));
        assert!(!large.is_compressed());
        assert!(large.compress().is_some());
        assert!(large.is_compressed());
        let small = Representation::new(Bytes::from_static(b"{}"));
        assert!(small.is_compressed());
        assert!(small.compress().is_none());
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

    /// A list framed around its items, and the same bytes whole.
    fn framed_and_whole() -> (Representation, Representation) {
        let framed = Representation::framed(
            b"{\"items\":",
            Bytes::from_static(b"[1,2]"),
            b",\"total\":2}".to_vec(),
        );
        let whole = Representation::new(Bytes::from_static(b"{\"items\":[1,2],\"total\":2}"));
        (framed, whole)
    }

    #[test]
    fn a_framed_body_has_the_etag_of_its_bytes_put_together() {
        let (framed, whole) = framed_and_whole();
        assert_eq!(framed.etag(Coding::Identity), whole.etag(Coding::Identity));
        assert_ne!(
            whole.etag(Coding::Identity),
            Representation::new(Bytes::from_static(b"{}")).etag(Coding::Identity)
        );
    }

    #[test]
    fn a_digest_is_the_sha256_of_the_bytes_put_together_as_the_history_keeps_it() {
        let (framed, whole) = framed_and_whole();
        assert_eq!(framed.digest(), whole.digest());
        // What earlier versions stored for the empty body: the first 16
        // bytes of its well-known SHA-256.
        assert_eq!(
            &Representation::new(Bytes::new()).digest(),
            b"e3b0c44298fc1c149afbf4c8996fb924"
        );
    }
}
