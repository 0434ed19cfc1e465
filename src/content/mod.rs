//! Content: the typed model of an article, loading and validating content
//! files, and the store of responses prepared from them.

mod live;
mod load;
mod model;
mod slug;
mod store;

pub use live::LiveContent;
pub use load::{ContentError, ContentSource, Loaded, Problem, load, load_with, parse_article};
pub use model::{
    Article, ArticleSummary, Benefit, Faq, Group, Part, Precaution, RepliesPart, Section,
};
pub use slug::{Slug, SlugError};
pub use store::{Collection, Entry, List, Page, PreparedPage, Store, link_header};
