//! Sync tokens: where a client's copy of the content stands, or where a
//! sync that spans several pages is. Opaque to clients (base64url of a
//! small JSON object), checked on the way in like any other parameter.

use std::{fmt, str::FromStr};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

use crate::{content::Lang, search::HitType};

/// A token as given in `next_sync_token` or `next_page_token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncToken {
    /// The history the change numbers belong to.
    pub epoch: String,
    /// Where in that history the client's copy, or the sync, stands.
    pub at: Position,
    /// The filters the sync began with; they hold for every later call.
    pub kind: Option<HitType>,
    pub lang: Option<Lang>,
}

/// Where a sync token stands: only the shapes this server gives can be
/// written, so a forged token of another shape is refused on the way in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    /// The changes after change number `from` are asked for; `page` is
    /// where a delta spanning several pages stands.
    Since { from: i64, page: Option<ChangePage> },
    /// A sync from scratch (every resource as it is now), past its first
    /// page: it reports the content as of change `upto`, after `after`.
    Scratch { upto: i64, after: ItemKey },
}

impl Position {
    /// Where a client stands that has every change up to `from`.
    pub fn since(from: i64) -> Self {
        Position::Since { from, page: None }
    }
}

/// Where a delta spanning several pages stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangePage {
    /// The sync reports the changes up to this number.
    pub upto: i64,
    /// The number of the last change sent.
    pub after: i64,
}

/// A resource by its place in the content (article, language, kind,
/// index among its kind): a key rather than an offset, so that a reload
/// between pages skips nothing unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemKey {
    pub slug: String,
    pub lang: String,
    pub kind: HitType,
    pub index: usize,
}

/// A string that is not a token this server gave.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is not a sync token this server gave (start again without one)")]
pub struct BadToken;

/// The token as written: a small JSON object of one-letter keys, the
/// format every token given so far has, so that they keep working.
#[derive(Serialize, Deserialize)]
struct Wire {
    #[serde(rename = "e")]
    epoch: String,
    #[serde(rename = "f", default, skip_serializing_if = "Option::is_none")]
    from: Option<i64>,
    #[serde(rename = "p", default, skip_serializing_if = "Option::is_none")]
    page: Option<WirePage>,
    #[serde(rename = "t", default, skip_serializing_if = "Option::is_none")]
    kind: Option<HitType>,
    #[serde(rename = "l", default, skip_serializing_if = "Option::is_none")]
    lang: Option<Lang>,
}

#[derive(Serialize, Deserialize)]
struct WirePage {
    #[serde(rename = "u")]
    upto: i64,
    #[serde(rename = "a")]
    after: WireAfter,
}

#[derive(Serialize, Deserialize)]
enum WireAfter {
    #[serde(rename = "i")]
    Item(String, String, HitType, usize),
    #[serde(rename = "s")]
    Change(i64),
}

impl From<&SyncToken> for Wire {
    fn from(token: &SyncToken) -> Self {
        let (from, page) = match &token.at {
            Position::Since { from, page } => (
                Some(*from),
                page.map(|page| WirePage {
                    upto: page.upto,
                    after: WireAfter::Change(page.after),
                }),
            ),
            Position::Scratch { upto, after } => (
                None,
                Some(WirePage {
                    upto: *upto,
                    after: WireAfter::Item(
                        after.slug.clone(),
                        after.lang.clone(),
                        after.kind,
                        after.index,
                    ),
                }),
            ),
        };
        Wire {
            epoch: token.epoch.clone(),
            from,
            page,
            kind: token.kind,
            lang: token.lang.clone(),
        }
    }
}

impl TryFrom<Wire> for SyncToken {
    type Error = BadToken;

    fn try_from(wire: Wire) -> Result<Self, BadToken> {
        let at = match (wire.from, wire.page) {
            (Some(from), None) => Position::since(from),
            (
                Some(from),
                Some(WirePage {
                    upto,
                    after: WireAfter::Change(after),
                }),
            ) => Position::Since {
                from,
                page: Some(ChangePage { upto, after }),
            },
            (
                None,
                Some(WirePage {
                    upto,
                    after: WireAfter::Item(slug, lang, kind, index),
                }),
            ) => Position::Scratch {
                upto,
                after: ItemKey {
                    slug,
                    lang,
                    kind,
                    index,
                },
            },
            // A delta's cursor without a delta, a from-scratch cursor in a
            // delta, or no position at all: no token this server gave.
            _ => return Err(BadToken),
        };
        Ok(SyncToken {
            epoch: wire.epoch,
            at,
            kind: wire.kind,
            lang: wire.lang,
        })
    }
}

impl fmt::Display for SyncToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let json = serde_json::to_vec(&Wire::from(self)).map_err(|_| fmt::Error)?;
        f.write_str(&URL_SAFE_NO_PAD.encode(json))
    }
}

impl FromStr for SyncToken {
    type Err = BadToken;

    fn from_str(raw: &str) -> Result<Self, BadToken> {
        if raw.len() > 1024 {
            return Err(BadToken);
        }
        let json = URL_SAFE_NO_PAD.decode(raw).map_err(|_| BadToken)?;
        let wire: Wire = serde_json::from_slice(&json).map_err(|_| BadToken)?;
        SyncToken::try_from(wire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> SyncToken {
        SyncToken {
            epoch: "9f2c".into(),
            at: Position::Scratch {
                upto: 57,
                after: ItemKey {
                    slug: "a-slug".into(),
                    lang: "es".into(),
                    kind: HitType::Benefit,
                    index: 3,
                },
            },
            kind: Some(HitType::Faq),
            lang: Some("es".parse().unwrap()),
        }
    }

    #[test]
    fn a_token_reads_back_as_what_it_was_made_from() {
        let token = token();
        assert_eq!(token.to_string().parse::<SyncToken>(), Ok(token));
        for at in [
            Position::Since {
                from: 1,
                page: None,
            },
            Position::Since {
                from: 1,
                page: Some(ChangePage { upto: 9, after: 4 }),
            },
        ] {
            let bare = SyncToken {
                epoch: "e".into(),
                at,
                kind: None,
                lang: None,
            };
            assert_eq!(bare.to_string().parse::<SyncToken>(), Ok(bare));
        }
    }

    #[test]
    fn a_token_is_safe_in_a_url_as_it_is() {
        let text = token().to_string();
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{text}"
        );
    }

    #[test]
    fn a_token_keeps_the_format_tokens_given_before_had() {
        // {"e":"e","f":1}, as an event of the day before carries.
        assert_eq!(
            "eyJlIjoiZSIsImYiOjF9".parse::<SyncToken>(),
            Ok(SyncToken {
                epoch: "e".into(),
                at: Position::Since {
                    from: 1,
                    page: None
                },
                kind: None,
                lang: None,
            })
        );
    }

    #[test]
    fn a_token_of_a_shape_this_server_never_gives_is_refused() {
        for json in [
            r#"{"e":"e"}"#,
            r#"{"e":"e","p":{"u":5,"a":{"s":3}}}"#,
            r#"{"e":"e","f":1,"p":{"u":5,"a":{"i":["a","en","benefit",0]}}}"#,
        ] {
            let raw = URL_SAFE_NO_PAD.encode(json);
            assert_eq!(raw.parse::<SyncToken>(), Err(BadToken), "{json}");
        }
    }

    #[test]
    fn what_this_server_did_not_give_is_refused() {
        for raw in ["", "not a token", "e30", "eyJlIjoxfQ", &"A".repeat(2000)] {
            assert_eq!(raw.parse::<SyncToken>(), Err(BadToken), "{raw}");
        }
    }
}
