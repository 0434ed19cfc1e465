//! `Slug`: the validated identifier of an article or of one of its parts.
//!
//! Article slugs and part ids share one rule (lowercase kebab-case, at most
//! [`Slug::MAX_LEN`] characters), so one type checks both: in content files at
//! load time and in request paths, where it turns a malformed segment into a
//! clear `400` before any lookup happens.

use std::{borrow::Borrow, fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use utoipa::{
    PartialSchema, ToSchema,
    openapi::{ObjectBuilder, RefOr, Schema, Type},
};

/// A lowercase kebab-case identifier: `deep-tissue-massage-for-back-pain`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

/// Why a string is not a [`Slug`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} characters long, not {len}", max = Slug::MAX_LEN)]
    TooLong { len: usize },
    #[error(
        "must be lowercase kebab-case (letters a-z, digits and single hyphens between them), \
         as in `reduces-muscle-tension`"
    )]
    NotKebabCase,
}

impl Slug {
    /// The longest slug accepted; long enough for any real title.
    pub const MAX_LEN: usize = 100;
    /// The rule as a regular expression, published in the OpenAPI spec.
    pub const PATTERN: &'static str = "^[a-z0-9]+(-[a-z0-9]+)*$";

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Slug {
    type Err = SlugError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(SlugError::Empty);
        }
        if s.len() > Self::MAX_LEN {
            return Err(SlugError::TooLong { len: s.len() });
        }
        let kebab = s.split('-').all(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
        if !kebab {
            return Err(SlugError::NotKebabCase);
        }
        Ok(Self(s.to_owned()))
    }
}

impl TryFrom<String> for Slug {
    type Error = SlugError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Slug> for String {
    fn from(slug: Slug) -> Self {
        slug.0
    }
}

impl Borrow<str> for Slug {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialSchema for Slug {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("A lowercase kebab-case identifier."))
            .pattern(Some(Self::PATTERN))
            .min_length(Some(1))
            .max_length(Some(Self::MAX_LEN))
            .examples(["reduces-muscle-tension"])
            .into()
    }
}

impl ToSchema for Slug {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_kebab_case_words_and_digits() {
        for ok in ["a", "deep-tissue-massage-for-back-pain", "faq-2", "2024"] {
            assert_eq!(ok.parse::<Slug>().unwrap().as_str(), ok);
        }
    }

    #[test]
    fn rejects_anything_else_with_the_reason() {
        assert_eq!("".parse::<Slug>(), Err(SlugError::Empty));
        for bad in [
            "Upper",
            "two--hyphens",
            "-leading",
            "trailing-",
            "snake_case",
            "spa ce",
            "é",
            "a/b",
        ] {
            assert_eq!(bad.parse::<Slug>(), Err(SlugError::NotKebabCase), "{bad}");
        }
        let long = "a".repeat(Slug::MAX_LEN + 1);
        assert_eq!(long.parse::<Slug>(), Err(SlugError::TooLong { len: 101 }));
        assert!("a".repeat(Slug::MAX_LEN).parse::<Slug>().is_ok());
    }
}
