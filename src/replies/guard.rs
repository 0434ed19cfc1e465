//! Keeping spam out without captchas, and the authors' edit window: what
//! is signed with the server's secret. The reader page's form carries a
//! signed timestamp ([`Secret::form_token`]) and a honeypot field; a reply
//! whose form says it came from a bot, or that carries too many links, is
//! stored as spam with the usual answer, so a bot learns nothing. Each
//! stored reply has an edit token ([`Secret::edit_token`]) that lets its
//! author correct or withdraw it for [`EDIT_WINDOW`]; only its hash is
//! stored.

use std::time::Duration;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use super::ReplyStatus;

/// How long an author may correct or withdraw a reply after posting it.
pub const EDIT_WINDOW: Duration = Duration::from_secs(15 * 60);

/// When the edit window of a reply received at `created_at` closes (both
/// in milliseconds since the epoch): what is stored and what the 202 says.
pub fn editable_until(created_at: i64) -> i64 {
    created_at + EDIT_WINDOW.as_millis() as i64
}
/// A form posted sooner than this after its page was served is a bot's.
pub const FORM_MIN_AGE: Duration = Duration::from_secs(3);
/// A form's timestamp is good for this long (a tab left open over a day).
pub const FORM_MAX_AGE: Duration = Duration::from_secs(24 * 3600);
/// Links a reply may carry before it is taken for spam.
pub const MAX_LINKS: usize = 2;
/// The honeypot: a form field people never see, so never fill.
pub const HONEYPOT_FIELD: &str = "website";
/// The form field with the signed timestamp.
pub const FORM_TOKEN_FIELD: &str = "form_token";

/// The server's secret: it signs form timestamps and derives edit tokens.
/// Replicas behind one load balancer need the same one (`--secret`).
#[derive(Clone)]
pub struct Secret([u8; 32]);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    /// The secret made from a passphrase (any length; hashed to a key).
    pub fn from_passphrase(passphrase: &str) -> Self {
        Self(Sha256::digest(passphrase.as_bytes()).into())
    }

    /// A secret of this process alone, drawn from the operating system.
    pub fn random() -> Self {
        let mut key = [0; 32];
        getrandom::fill(&mut key).expect("the operating system has randomness");
        Self(key)
    }

    fn mac(&self, purpose: &str, parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key");
        mac.update(purpose.as_bytes());
        for part in parts {
            mac.update(&[0]);
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    /// The edit token of reply `id` created at `created_at` (milliseconds):
    /// derived, so that a retried post (same Idempotency-Key) is answered
    /// with the same token without the token being stored.
    pub fn edit_token(&self, id: i64, created_at: i64) -> String {
        let mac = self.mac(
            "reply-edit",
            &[&id.to_be_bytes(), &created_at.to_be_bytes()],
        );
        URL_SAFE_NO_PAD.encode(mac)
    }
}

/// What is stored of an edit token: its SHA-256, in hex.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Whether `token` is the one whose hash is `stored`, compared in constant
/// time.
pub fn token_matches(token: &str, stored: &str) -> bool {
    token_hash(token).as_bytes().ct_eq(stored.as_bytes()).into()
}

/// Why a posted form is taken for a bot's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bot {
    /// The honeypot field is filled in.
    Honeypot,
    /// Posted sooner than [`FORM_MIN_AGE`] after the page was served.
    TooFast,
    /// The timestamp is older than [`FORM_MAX_AGE`].
    Expired,
    /// The timestamp is missing, malformed or not signed by this secret.
    Forged,
}

/// The reader form's signed timestamps.
impl Secret {
    /// The form token for a page of article `slug` served at `now` (Unix
    /// seconds): `{seconds}.{signature}`.
    pub fn form_token(&self, slug: &str, now: u64) -> String {
        format!("{now}.{}", self.form_signature(slug, now))
    }

    fn form_signature(&self, slug: &str, at: u64) -> String {
        let mac = self.mac("reply-form", &[slug.as_bytes(), &at.to_be_bytes()]);
        URL_SAFE_NO_PAD.encode(&mac[..16])
    }

    /// Whether a form for `slug`, with this honeypot value and token,
    /// posted at `now` (Unix seconds), came from a person.
    pub fn check_form(&self, slug: &str, honeypot: &str, token: &str, now: u64) -> Result<(), Bot> {
        if !honeypot.is_empty() {
            return Err(Bot::Honeypot);
        }
        let (at, signature) = token.split_once('.').ok_or(Bot::Forged)?;
        let at: u64 = at.parse().map_err(|_| Bot::Forged)?;
        let expected = self.form_signature(slug, at);
        if !bool::from(expected.as_bytes().ct_eq(signature.as_bytes())) {
            return Err(Bot::Forged);
        }
        let age = now.checked_sub(at).ok_or(Bot::Forged)?;
        if age < FORM_MIN_AGE.as_secs() {
            return Err(Bot::TooFast);
        }
        if age > FORM_MAX_AGE.as_secs() {
            return Err(Bot::Expired);
        }
        Ok(())
    }
}

/// The status a new reply is stored with: `spam` when its form says a bot
/// sent it (`form`; the API's own clients have none) or it carries more
/// than [`MAX_LINKS`] links, else `pending`.
pub fn initial_status(body: &str, form: Result<(), Bot>) -> ReplyStatus {
    if form.is_err() || links(body) > MAX_LINKS {
        ReplyStatus::Spam
    } else {
        ReplyStatus::Pending
    }
}

/// The links in `text`: each `http://`, `https://` or `www.` that starts a
/// word, in any case.
pub fn links(text: &str) -> usize {
    text.split(|c: char| c.is_whitespace() || matches!(c, '(' | '<' | '[' | '"' | '\''))
        .filter(|word| {
            let word = word.to_ascii_lowercase();
            word.starts_with("http://") || word.starts_with("https://") || word.starts_with("www.")
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> Secret {
        Secret::from_passphrase("test")
    }

    #[test]
    fn a_person_posts_a_form_some_seconds_after_it_was_served() {
        let token = guard().form_token("an-article", 1_000);
        assert_eq!(guard().check_form("an-article", "", &token, 1_003), Ok(()));
        assert_eq!(
            guard().check_form("an-article", "", &token, 1_000 + 86_400),
            Ok(())
        );
    }

    #[test]
    fn a_bot_fills_the_honeypot_or_posts_at_once_or_late_or_forges() {
        let token = guard().form_token("an-article", 1_000);
        let check =
            |honeypot, token: &str, now| guard().check_form("an-article", honeypot, token, now);
        assert_eq!(check("http://spam", &token, 1_010), Err(Bot::Honeypot));
        assert_eq!(check("", &token, 1_002), Err(Bot::TooFast));
        assert_eq!(check("", &token, 1_000 + 86_401), Err(Bot::Expired));
        assert_eq!(check("", &token, 999), Err(Bot::Forged));
        assert_eq!(check("", "", 1_010), Err(Bot::Forged));
        assert_eq!(check("", "1000.AAAA", 1_010), Err(Bot::Forged));
        // Moved to another time, or to another article, it no longer holds.
        let (_, signature) = token.split_once('.').unwrap();
        assert_eq!(
            check("", &format!("900.{signature}"), 1_010),
            Err(Bot::Forged)
        );
        assert_eq!(
            guard().check_form("another", "", &token, 1_010),
            Err(Bot::Forged)
        );
        // Another server's secret did not sign it.
        let stranger = Secret::from_passphrase("other");
        assert_eq!(
            stranger.check_form("an-article", "", &token, 1_010),
            Err(Bot::Forged)
        );
    }

    #[test]
    fn links_are_counted_where_a_word_starts_with_one() {
        assert_eq!(links("no links here, only a www-less word"), 0);
        assert_eq!(links("see https://a.example and (http://b.example)"), 2);
        assert_eq!(links("WWW.A.EXAMPLE www.b.example <https://c.example>"), 3);
        assert_eq!(links("an email: dana@www.example"), 0);
    }

    #[test]
    fn edit_tokens_are_derived_per_reply_and_stored_only_as_a_hash() {
        let secret = Secret::from_passphrase("test");
        let token = secret.edit_token(7, 1_000);
        assert_eq!(token, secret.edit_token(7, 1_000));
        assert_ne!(token, secret.edit_token(8, 1_000));
        assert_ne!(token, secret.edit_token(7, 1_001));
        let stored = token_hash(&token);
        assert!(!stored.contains(&token));
        assert!(token_matches(&token, &stored));
        assert!(!token_matches(&secret.edit_token(8, 1_000), &stored));
        assert!(!token_matches("", &stored));
    }
}
