//! Content: the typed model of an article, loading and validating content
//! files, slugs, and choosing among an article's translations. Pure data:
//! it imports nothing of `http`, `routes`, `config` or `startup` (a test in
//! `tests/api/architecture.rs` holds it to that), so the same types serve
//! the loader, the JSON responses and the OpenAPI schema.

mod citation;
mod jsonld;
mod load;
mod locale;
mod model;
mod readability;
mod review;
mod slug;

pub use citation::Citation;
pub use jsonld::article_jsonld;
pub use load::{
    ContentError, ContentSource, DEFAULT_MAX_FILE_BYTES, Loaded, Problem, derived_revision, load,
    load_with, parse_article,
};
pub use locale::LangPreference;
pub use model::{
    Article, ArticleSummary, Audience, Benefit, Date, Faq, Group, Lang, Part, Precaution,
    RepliesPart, Section,
};
pub use readability::Readability;
pub use review::{Review, ReviewStatus, overdue_warnings};
pub use slug::{Slug, SlugError};
