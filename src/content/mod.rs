//! Content: the typed model of an article, loading and validating content
//! files, and the store of responses prepared from them.

mod jsonld;
mod live;
mod load;
mod locale;
mod model;
mod search;
mod slug;
mod store;

pub use jsonld::article_jsonld;
pub use live::LiveContent;
pub use load::{
    ContentError, ContentSource, DEFAULT_MAX_FILE_BYTES, Loaded, Problem, load, load_with,
    parse_article,
};
pub use locale::LangPreference;
pub use model::{
    Article, ArticleSummary, Benefit, Date, Faq, Group, Lang, Part, Precaution, RepliesPart,
    Section,
};
pub use search::{HitType, Search, SearchHit, SearchIndex};
pub use slug::{Slug, SlugError};
pub use store::{Bundle, Collection, Entry, List, Page, PreparedPage, Store, link_header};
