//! Sync tokens: where a client's copy of the content stands, or where a
//! sync that spans several pages is. Opaque to clients (base64url of a
//! small JSON object), checked on the way in like any other parameter.

use std::{fmt, str::FromStr};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

use crate::{content::Lang, search::HitType};

/// A token as given in `next_sync_token` or `next_page_token`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncToken {
    /// The history the numbers below belong to.
    #[serde(rename = "e")]
    pub epoch: String,
    /// Changes after this number are asked for; `None` for a sync from
    /// scratch (every resource as it is now).
    #[serde(rename = "f", default, skip_serializing_if = "Option::is_none")]
    pub from: Option<i64>,
    /// For a page after the first: the change number the sync runs up to,
    /// and where the last page ended.
    #[serde(rename = "p", default, skip_serializing_if = "Option::is_none")]
    pub page: Option<PageCursor>,
    /// The filters the sync began with; they hold for every later call.
    #[serde(rename = "t", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<HitType>,
    #[serde(rename = "l", default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<Lang>,
}

/// Where a sync spanning several pages stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageCursor {
    /// The sync reports the content as of this change number.
    #[serde(rename = "u")]
    pub upto: i64,
    #[serde(rename = "a")]
    pub after: After,
}

/// The last resource of the page before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum After {
    /// In a sync from scratch: a resource, by its place in the content
    /// (article, language, kind, index among its kind). A key rather than
    /// an offset, so that a reload between pages skips nothing unchanged.
    #[serde(rename = "i")]
    Item(String, String, HitType, usize),
    /// In a delta: the number of the last change sent.
    #[serde(rename = "s")]
    Change(i64),
}

/// A string that is not a token this server gave.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is not a sync token this server gave (start again without one)")]
pub struct BadToken;

impl fmt::Display for SyncToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let json = serde_json::to_vec(self).map_err(|_| fmt::Error)?;
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
        serde_json::from_slice(&json).map_err(|_| BadToken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> SyncToken {
        SyncToken {
            epoch: "9f2c".into(),
            from: Some(42),
            page: Some(PageCursor {
                upto: 57,
                after: After::Item("a-slug".into(), "es".into(), HitType::Benefit, 3),
            }),
            kind: Some(HitType::Faq),
            lang: Some("es".parse().unwrap()),
        }
    }

    #[test]
    fn a_token_reads_back_as_what_it_was_made_from() {
        let token = token();
        assert_eq!(token.to_string().parse::<SyncToken>(), Ok(token));
        let bare = SyncToken {
            epoch: "e".into(),
            from: Some(1),
            page: None,
            kind: None,
            lang: None,
        };
        assert_eq!(bare.to_string().parse::<SyncToken>(), Ok(bare));
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
    fn what_this_server_did_not_give_is_refused() {
        for raw in ["", "not a token", "e30", "eyJlIjoxfQ", &"A".repeat(2000)] {
            assert_eq!(raw.parse::<SyncToken>(), Err(BadToken), "{raw}");
        }
    }
}
