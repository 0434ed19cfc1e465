//! Content negotiation: every `Accept*` header's q-values, parsed once
//! here. `Accept-Encoding` chooses a [`Coding`], `Accept` whether a media
//! type is acceptable at all, `Accept-Language` gives the ranges a resource
//! with translations chooses among (RFC 9110 12.4-12.5).

use actix_web::http::header::{self, HeaderMap};

/// A content coding this server can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Identity,
    Gzip,
    Br,
}

impl Coding {
    pub fn name(self) -> &'static str {
        match self {
            Self::Identity => "identity",
            Self::Gzip => "gzip",
            Self::Br => "br",
        }
    }
}

/// Chooses the coding to send (RFC 9110 12.5.3): the highest q-value among
/// the codings we have, `*` standing for codings not named, identity the
/// last resort unless refused. A tie between br and gzip goes to the
/// smaller body, which `smaller` tells (it is asked only then: it may have
/// to compress); either beats identity. `None` means the client refuses
/// everything we have.
pub fn negotiate(
    headers: &HeaderMap,
    compressed: bool,
    smaller: impl FnOnce() -> Coding,
) -> Option<Coding> {
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
    let br = compressed.then(|| br.or(any).unwrap_or(0));
    let gzip = compressed.then(|| gzip.or(any).unwrap_or(0));
    let candidates = [
        (Coding::Br, br),
        (Coding::Gzip, gzip),
        (Coding::Identity, Some(identity_q)),
    ];
    for (coding, q) in candidates {
        if let Some(q) = q.filter(|&q| q > best.0) {
            best = (q, Some(coding));
        }
    }
    match best.1 {
        Some(Coding::Br) if gzip == br => Some(smaller()),
        chosen => chosen,
    }
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

/// The language ranges of `Accept-Language`, lowercased, each with its
/// q-value in thousandths, in the order sent; malformed entries are dropped.
pub fn language_ranges(headers: &HeaderMap) -> Vec<(String, u16)> {
    let mut ranges = Vec::new();
    for value in headers.get_all(header::ACCEPT_LANGUAGE) {
        let Ok(value) = value.to_str() else { continue };
        for entry in value.split(',') {
            let mut parts = entry.split(';');
            let range = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            if range.is_empty() {
                continue;
            }
            if let Some(q) = weight(parts) {
                ranges.push((range, q));
            }
        }
    }
    ranges
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    pub(crate) fn headers(name: HeaderName, values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    /// The coding chosen for a body whose br variant is the smaller.
    fn choose(accept: &[&str]) -> Option<Coding> {
        negotiate(&headers(header::ACCEPT_ENCODING, accept), true, || {
            Coding::Br
        })
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
        // A body that gzip makes smaller than br (the bundle of 10,000
        // articles, at the br quality used) goes as gzip on a tie only.
        let gzip_smaller = |accept: &[&str]| {
            negotiate(&headers(header::ACCEPT_ENCODING, accept), true, || {
                Coding::Gzip
            })
        };
        assert_eq!(gzip_smaller(&["gzip, deflate, br"]), Some(Coding::Gzip));
        assert_eq!(gzip_smaller(&["*"]), Some(Coding::Gzip));
        assert_eq!(gzip_smaller(&["br"]), Some(Coding::Br));
        assert_eq!(gzip_smaller(&["br, gzip;q=0.9"]), Some(Coding::Br));
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
                false,
                || Coding::Br
            ),
            None
        );
    }

    #[test]
    fn small_bodies_are_sent_as_identity() {
        assert_eq!(
            negotiate(
                &headers(header::ACCEPT_ENCODING, &["br, gzip"]),
                false,
                || Coding::Br
            ),
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
    fn language_ranges_keep_their_q_values_and_drop_malformed_ones() {
        assert_eq!(
            language_ranges(&headers(
                header::ACCEPT_LANGUAGE,
                &["es-MX, en;q=0.5, fr;q=x"]
            )),
            vec![("es-mx".to_owned(), 1000), ("en".to_owned(), 500)]
        );
    }
}
