//! Moderator authentication: `Authorization: Bearer <token>`, checked
//! against the SHA-256 digests listed in `--moderator-tokens-file`, so the
//! server never holds a token itself. With no digests configured,
//! moderation is off (503), never open. SIGHUP reads the file again, so
//! tokens are added or revoked without a restart.

use std::{
    future::{Ready, ready},
    path::{Path, PathBuf},
    sync::Arc,
};

use arc_swap::ArcSwap;

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The digests of the tokens that moderators hold.
#[derive(Debug, Default, Clone)]
pub struct ModeratorTokens {
    digests: Vec<[u8; 32]>,
}

/// A tokens file the server cannot use: which file, which line, why.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {reason}")]
pub struct TokensFileError {
    file: String,
    line: usize,
    reason: String,
}

impl ModeratorTokens {
    /// Reads a tokens file: one lowercase hex SHA-256 digest per line;
    /// blank lines and lines starting with `#` are ignored.
    pub fn load(path: &Path) -> Result<Self, TokensFileError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| TokensFileError {
            file: file.clone(),
            line: 0,
            reason: format!("cannot read the moderator tokens file: {e}"),
        })?;
        Self::parse(&text, &file)
    }

    fn parse(text: &str, file: &str) -> Result<Self, TokensFileError> {
        let mut digests = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let digest = parse_digest(line).ok_or_else(|| TokensFileError {
                file: file.to_owned(),
                line: index + 1,
                reason: "expected the SHA-256 digest of a token as 64 lowercase hex digits \
                         (make one with `relief-api hash-token`), never the token itself"
                    .into(),
            })?;
            digests.push(digest);
        }
        Ok(Self { digests })
    }

    pub fn len(&self) -> usize {
        self.digests.len()
    }

    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }

    /// Whether `token` is a moderator's. Every digest is compared, each in
    /// constant time, so the time taken says nothing about how close a guess came.
    fn admits(&self, token: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut found = subtle::Choice::from(0);
        for known in &self.digests {
            found |= known.ct_eq(&digest);
        }
        found.into()
    }
}

fn parse_digest(line: &str) -> Option<[u8; 32]> {
    let bytes = line.as_bytes();
    if bytes.len() != 64 || !bytes.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut digest = [0; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        let hex = std::str::from_utf8(pair).ok()?;
        digest[i] = u8::from_str_radix(hex, 16).ok()?;
    }
    Some(digest)
}

/// The tokens in use, and the file they come from.
#[derive(Debug)]
pub struct Moderators {
    file: Option<PathBuf>,
    tokens: ArcSwap<ModeratorTokens>,
}

impl Moderators {
    /// Reads `file`, if given; without one, moderation is off.
    pub fn load(file: Option<&Path>) -> Result<Self, TokensFileError> {
        let tokens = match file {
            Some(file) => ModeratorTokens::load(file)?,
            None => ModeratorTokens::default(),
        };
        Ok(Self {
            file: file.map(Path::to_path_buf),
            tokens: ArcSwap::from_pointee(tokens),
        })
    }

    /// The tokens in use.
    pub fn current(&self) -> Arc<ModeratorTokens> {
        self.tokens.load_full()
    }

    /// Reads the file again and uses what it now lists; a file that cannot
    /// be used changes nothing. `Ok(None)` when there is no file.
    pub fn reload(&self) -> Result<Option<usize>, TokensFileError> {
        let Some(file) = &self.file else {
            return Ok(None);
        };
        let tokens = ModeratorTokens::load(file)?;
        let count = tokens.len();
        self.tokens.store(Arc::new(tokens));
        Ok(Some(count))
    }
}

/// The line to put in a tokens file for `token`: its SHA-256, in lowercase hex.
pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Proof that the request carries a moderator's token. Taking it as a
/// handler argument is what puts a handler behind authentication.
#[derive(Debug)]
pub struct Moderator;

/// Why a request is not a moderator's. `error.rs` says what each is in HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No moderator tokens are configured: moderation is off.
    #[error("moderation is off: the server has no moderator tokens (see --moderator-tokens-file)")]
    Off,
    /// No `Authorization` header.
    #[error("moderation needs `Authorization: Bearer <token>`")]
    Missing,
    /// More than one `Authorization` header.
    #[error("the request has more than one Authorization header; send exactly one")]
    Several,
    /// An `Authorization` header that is not `Bearer <token>`.
    #[error("the Authorization header must be `Bearer <token>`")]
    Malformed,
    /// A token that is not a moderator's.
    #[error("this token is not a moderator's")]
    NotAModerator,
}

impl FromRequest for Moderator {
    type Error = AuthError;
    type Future = Ready<Result<Self, AuthError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

fn authenticate(req: &HttpRequest) -> Result<Moderator, AuthError> {
    let tokens = req
        .app_data::<web::Data<Moderators>>()
        .map(|moderators| moderators.current())
        .filter(|tokens| !tokens.is_empty())
        .ok_or(AuthError::Off)?;
    let mut sent = req.headers().get_all(header::AUTHORIZATION);
    let Some(value) = sent.next() else {
        return Err(AuthError::Missing);
    };
    // Which of several credentials counts is a choice proxies and servers
    // make differently; judging by one of them would be a guess.
    if sent.next().is_some() {
        return Err(AuthError::Several);
    }
    let token = value
        .to_str()
        .ok()
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty())
        .ok_or(AuthError::Malformed)?;
    if tokens.admits(token) {
        Ok(Moderator)
    } else {
        Err(AuthError::NotAModerator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST_OF_SECRET: &str =
        "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b";

    #[test]
    fn a_token_hashes_to_its_sha256_in_lowercase_hex() {
        assert_eq!(hash_token("secret"), DIGEST_OF_SECRET);
    }

    #[test]
    fn a_listed_token_is_admitted_and_others_are_not() {
        let text = format!("# moderators\n\n{DIGEST_OF_SECRET}\n");
        let tokens = ModeratorTokens::parse(&text, "tokens").unwrap();
        assert_eq!(tokens.len(), 1);
        assert!(tokens.admits("secret"));
        assert!(!tokens.admits("Secret"));
        assert!(!tokens.admits(DIGEST_OF_SECRET));
    }

    #[test]
    fn a_bad_line_is_named_with_its_file_and_number() {
        let text = format!("{DIGEST_OF_SECRET}\nsecret\n");
        let error = ModeratorTokens::parse(&text, "tokens.txt").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("tokens.txt:2: expected the SHA-256 digest")
        );
        let upper = DIGEST_OF_SECRET.to_uppercase();
        assert!(ModeratorTokens::parse(&upper, "t").is_err());
    }
}
