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
         as in `reduces-muscle-tension`{}",
        crate::suggest::did_you_mean(suggestion.as_ref())
    )]
    NotKebabCase {
        /// The input in kebab-case, when it has letters or digits to keep:
        /// most often a title's words or an id's case mistyped.
        suggestion: Option<Slug>,
    },
}

impl Slug {
    /// The longest slug accepted; long enough for any real title.
    pub const MAX_LEN: usize = 100;
    /// The rule as a regular expression, published in the OpenAPI spec.
    pub const PATTERN: &'static str = "^[a-z0-9]+(-[a-z0-9]+)*$";

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `s` in kebab-case: its ASCII letters lowercased and digits kept,
    /// every run of anything else one hyphen. `None` when nothing is left,
    /// or when `s` has a letter outside ASCII, which has no one spelling
    /// in a-z to suggest.
    fn suggest(s: &str) -> Option<Self> {
        if s.chars().any(|c| c.is_alphanumeric() && !c.is_ascii()) {
            return None;
        }
        let words: Vec<&str> = s
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|word| !word.is_empty())
            .collect();
        let kebab = words.join("-").to_ascii_lowercase();
        (!kebab.is_empty() && kebab.len() <= Self::MAX_LEN).then_some(Self(kebab))
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
            return Err(SlugError::NotKebabCase {
                suggestion: Self::suggest(s),
            });
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
            assert!(
                matches!(bad.parse::<Slug>(), Err(SlugError::NotKebabCase { .. })),
                "{bad}"
            );
        }
        let long = "a".repeat(Slug::MAX_LEN + 1);
        assert_eq!(long.parse::<Slug>(), Err(SlugError::TooLong { len: 101 }));
        assert!("a".repeat(Slug::MAX_LEN).parse::<Slug>().is_ok());
    }

    #[test]
    fn a_mistyped_slug_is_told_its_kebab_case_form() {
        for (bad, meant) in [
            ("Deep-Tissue-Massage", "deep-tissue-massage"),
            ("Not Kebab", "not-kebab"),
            ("snake_case", "snake-case"),
            ("-leading--and trailing-", "leading-and-trailing"),
            ("Faq 2!", "faq-2"),
            ("a/b", "a-b"),
        ] {
            let error = bad.parse::<Slug>().unwrap_err();
            assert_eq!(
                error,
                SlugError::NotKebabCase {
                    suggestion: Some(meant.parse().unwrap())
                },
                "{bad}"
            );
            assert!(
                error
                    .to_string()
                    .ends_with(&format!("; did you mean `{meant}`?")),
                "{error}"
            );
        }
        for nothing_to_keep in ["é", "naïve", "—", "_ _"] {
            let error = nothing_to_keep.parse::<Slug>().unwrap_err();
            assert_eq!(error, SlugError::NotKebabCase { suggestion: None });
            assert!(error.to_string().ends_with("`reduces-muscle-tension`"));
        }
    }
}
