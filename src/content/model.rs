//! The content model: one set of types for the content file, the JSON response
//! and the OpenAPI schema.
//!
//! An article file deserializes straight into [`Article`]; the loader then
//! fills in what is derived rather than written (the slug from the file name,
//! positions from file order) and validates the rest. Fields that are derived
//! reject a value typed into the file, so an editor cannot make them disagree.

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use super::Slug;

/// A whole article, its parts in reading order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Article {
    /// The article's identifier in URLs: the name of its content file.
    #[serde(default = "Slug::unset", deserialize_with = "derived_slug")]
    #[schema(required = true)]
    pub slug: Slug,
    /// The article's title.
    #[schema(example = "Back Pain Relief With Deep Tissue Massage")]
    pub title: String,
    /// The opening text, before the first heading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intro: Option<Section>,
    /// The prose sections between the intro and the lists, in reading order.
    #[serde(default)]
    #[schema(required = true)]
    pub sections: Vec<Section>,
    /// The numbered list of benefits.
    #[serde(default)]
    #[schema(required = true)]
    pub benefits: Group<Benefit>,
    /// The numbered list of precautions.
    #[serde(default)]
    #[schema(required = true)]
    pub precautions: Group<Precaution>,
    /// The closing text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conclusion: Option<Section>,
    /// Frequently asked questions.
    #[serde(default)]
    #[schema(required = true)]
    pub faqs: Group<Faq>,
    /// The heading readers see above the reply form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replies: Option<RepliesPart>,
}

/// A prose section: an optional heading and its text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// Identifier, unique among the article's sections.
    #[schema(value_type = Slug, example = "understanding-deep-tissue-massage")]
    pub id: String,
    /// 1-based place among the article's sections (intro, sections, conclusion), in reading order.
    #[serde(default, deserialize_with = "derived_position")]
    #[schema(required = true, minimum = 1, example = 2)]
    pub position: u32,
    /// The heading; absent for the opening text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "Understanding Deep Tissue Massage")]
    pub heading: Option<String>,
    /// Plain text; paragraphs are separated by a blank line.
    #[schema(
        example = "Deep tissue massage is a therapeutic technique that focuses on reaching the deeper layers of muscles and connective tissues in the body."
    )]
    pub body: String,
}

/// A titled list of an article's items, such as its benefits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, bound(deserialize = "T: Deserialize<'de>"))]
pub struct Group<T> {
    /// The heading above the list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "Benefits of Deep Tissue Massage for Back Pain Relief")]
    pub heading: Option<String>,
    /// A lead-in sentence between the heading and the list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intro: Option<String>,
    /// The items, in reading order.
    #[serde(default)]
    #[schema(required = true)]
    pub items: Vec<T>,
}

// By hand: the derive would needlessly require `T: Default`.
impl<T> Default for Group<T> {
    fn default() -> Self {
        Self {
            heading: None,
            intro: None,
            items: Vec::new(),
        }
    }
}

/// One benefit of the therapy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Benefit {
    /// Identifier, unique among the article's benefits.
    #[schema(value_type = Slug, example = "reduces-muscle-tension")]
    pub id: String,
    /// 1-based place in the numbered list.
    #[serde(default, deserialize_with = "derived_position")]
    #[schema(required = true, minimum = 1, example = 1)]
    pub position: u32,
    /// The benefit in a few words.
    #[schema(example = "Reduces Muscle Tension")]
    pub title: String,
    /// Plain text explaining the benefit.
    #[schema(
        example = "Deep tissue massage effectively helps in reducing muscle tension, which is often a leading cause of back pain. By targeting the deeper layers of muscles, it helps release any built-up tension and promotes relaxation."
    )]
    pub body: String,
}

/// One precaution to take before or after the therapy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Precaution {
    /// Identifier, unique among the article's precautions.
    #[schema(value_type = Slug, example = "professional-massage-therapist")]
    pub id: String,
    /// 1-based place in the numbered list.
    #[serde(default, deserialize_with = "derived_position")]
    #[schema(required = true, minimum = 1, example = 1)]
    pub position: u32,
    /// The precaution in a few words.
    #[schema(example = "Professional Massage Therapist")]
    pub title: String,
    /// Plain text explaining the precaution.
    #[schema(
        example = "It is crucial to choose a licensed and experienced massage therapist who specializes in deep tissue massage. They will have the necessary knowledge and skills to perform the technique correctly and safely."
    )]
    pub body: String,
}

/// A frequently asked question and its answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Faq {
    /// Identifier, unique among the article's FAQs.
    #[schema(value_type = Slug, example = "what-is-deep-tissue-massage")]
    pub id: String,
    /// 1-based place in the FAQ.
    #[serde(default, deserialize_with = "derived_position")]
    #[schema(required = true, minimum = 1, example = 1)]
    pub position: u32,
    /// The question, without a "Q:" marker.
    #[schema(example = "What is deep tissue massage?")]
    pub question: String,
    /// The answer, without an "A:" marker.
    #[schema(
        example = "Deep tissue massage is a therapeutic technique that focuses on reaching the deeper layers of muscles and connective tissues in the body. It involves applying firm pressure and slow strokes to break up muscle knots and tension."
    )]
    pub answer: String,
}

/// The part of the article where readers leave replies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepliesPart {
    /// The heading above the reply form.
    #[schema(example = "Leave a Reply")]
    pub heading: String,
}

/// An article in a list: enough to show a link to it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ArticleSummary {
    /// The article's identifier in URLs.
    pub slug: Slug,
    /// The article's title.
    #[schema(example = "Back Pain Relief With Deep Tissue Massage")]
    pub title: String,
    /// Where the whole article is served.
    #[schema(example = "/v1/articles/deep-tissue-massage-for-back-pain")]
    pub url: String,
}

impl From<&Article> for ArticleSummary {
    fn from(article: &Article) -> Self {
        Self {
            url: format!("/v1/articles/{}", article.slug),
            slug: article.slug.clone(),
            title: article.title.clone(),
        }
    }
}

/// An item of an article that has an id and a place in a list.
pub trait Part {
    /// How the part is named in messages and URLs, singular: "benefit".
    const KIND: &'static str;
    fn id(&self) -> &str;
    fn set_position(&mut self, position: u32);
    /// The required text fields, by key, for validation and normalising.
    fn texts_mut(&mut self) -> Vec<(&'static str, &mut String)>;
}

macro_rules! part {
    ($ty:ty, $kind:literal, $($field:ident),+) => {
        impl Part for $ty {
            const KIND: &'static str = $kind;
            fn id(&self) -> &str {
                &self.id
            }
            fn set_position(&mut self, position: u32) {
                self.position = position;
            }
            fn texts_mut(&mut self) -> Vec<(&'static str, &mut String)> {
                vec![$((stringify!($field), &mut self.$field)),+]
            }
        }
    };
}

part!(Section, "section", body);
part!(Benefit, "benefit", title, body);
part!(Precaution, "precaution", title, body);
part!(Faq, "faq", question, answer);

impl Slug {
    /// Stands in until the loader sets the slug from the file name.
    pub(crate) fn unset() -> Self {
        "unset".parse().expect("a valid slug")
    }
}

// The loader derives these fields; a value typed into the file is refused
// with a message that tells the editor why.

fn derived_slug<'de, D: Deserializer<'de>>(_: D) -> Result<Slug, D::Error> {
    Err(serde::de::Error::custom(
        "`slug` is the file's name, not a field; remove it (rename the file to change the slug)",
    ))
}

fn derived_position<'de, D: Deserializer<'de>>(_: D) -> Result<u32, D::Error> {
    Err(serde::de::Error::custom(
        "`position` follows the order of items in the file, not a field; remove it (move the item to change its position)",
    ))
}
