//! Search: full-text search over every article and its parts, on
//! tantivy (BM25 ranked by MaxScore, Snowball stemming per language,
//! Levenshtein automata for typos, snippets). It reads the typed content
//! the store feeds it and answers with ranked positions; what a hit looks
//! like to a client is the store's to say. Searches run on a bounded pool
//! ([`SearchPool`]) so that a burst of them queues there, not in front of
//! content requests.

mod bits;
mod engine;
mod pool;
mod query;
mod rank;
mod snippet;

use std::borrow::Cow;

use serde::Serialize;
use utoipa::ToSchema;

use crate::content::Lang;

pub use engine::{SearchError, SearchIndex};
pub use pool::{PoolError, SearchPool, SearchRefused};
pub use query::{Query, QueryRefused};

/// The kinds of resource a hit can be, in the order an article has them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize, ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum HitType {
    Article,
    Section,
    Benefit,
    Precaution,
    Faq,
}

impl HitType {
    pub const ALL: [Self; 5] = [
        Self::Article,
        Self::Section,
        Self::Benefit,
        Self::Precaution,
        Self::Faq,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Article => "article",
            Self::Section => "section",
            Self::Benefit => "benefit",
            Self::Precaution => "precaution",
            Self::Faq => "faq",
        }
    }

    /// How a message names one: as `as_str`, but "FAQ".
    pub fn noun(self) -> &'static str {
        match self {
            Self::Faq => "FAQ",
            other => other.as_str(),
        }
    }

    /// The path segment of the part's collection.
    pub fn collection(self) -> Option<&'static str> {
        match self {
            Self::Article => None,
            Self::Section => Some("sections"),
            Self::Benefit => Some("benefits"),
            Self::Precaution => Some("precautions"),
            Self::Faq => Some("faqs"),
        }
    }
}

impl std::str::FromStr for HitType {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == raw)
            .ok_or_else(|| {
                "must be one of `article`, `section`, `benefit`, `precaution`, `faq`".to_owned()
            })
    }
}

// A hit borrows what it can from the content it was found in: a page of
// hits is serialized where it is made, and each string copied was an
// allocation (glibc's malloc was about a tenth of a search's CPU).
/// One search result.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchHit<'a> {
    /// What was found.
    #[serde(rename = "type")]
    pub kind: HitType,
    /// The resource's id (the slug, for an article).
    #[schema(example = "reduces-muscle-tension")]
    pub id: &'a str,
    /// The slug of the article it belongs to.
    #[schema(example = "deep-tissue-massage-for-back-pain")]
    pub article: &'a str,
    /// The language of the text found.
    #[schema(example = "en")]
    pub lang: &'a str,
    /// Where the resource is served.
    #[schema(
        example = "/v1/articles/deep-tissue-massage-for-back-pain/benefits/reduces-muscle-tension"
    )]
    pub url: String,
    /// The resource's title (a heading, a benefit's title, a question).
    #[schema(example = "Reduces Muscle Tension")]
    pub title: Cow<'a, str>,
    /// A passage of the text, up to 200 bytes of it, with the matched words
    /// in `<mark>` (a quoted phrase of `q` in one, and a passage that has
    /// it chosen first) and `…` at either end where the text goes on; HTML,
    /// with the text itself escaped.
    #[schema(
        example = "…It involves applying firm pressure and slow strokes to break up <mark>muscle</mark> knots and <mark>tension</mark>."
    )]
    pub snippet: String,
    /// BM25 relevance; higher is better.
    #[schema(example = 7.25)]
    pub score: f32,
}

/// What a search asks for.
#[derive(Debug, Clone)]
pub struct Search<'a> {
    pub query: &'a Query,
    pub kind: Option<HitType>,
    /// Only text in this language.
    pub lang: Option<&'a Lang>,
    pub limit: usize,
    pub offset: usize,
}

/// A document found: where it is in the content the index was built from.
#[derive(Debug, Clone, Copy)]
pub struct Ranked {
    /// The article, by its place in the order the index was given them.
    pub article: usize,
    pub kind: HitType,
    /// The part, by its place in the article's list of that kind.
    pub item: usize,
    /// BM25 relevance, rounded to thousandths.
    pub score: f32,
}
