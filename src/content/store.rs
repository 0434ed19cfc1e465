//! The prepared store: every response body the content can produce, serialized
//! once when the content is loaded.
//!
//! Handlers only look bodies up and hand out a cheap clone of their bytes; the
//! typed [`Article`]s are kept beside them for what is computed per request
//! (pagination of the article list).

use std::collections::HashMap;

use actix_web::web::Bytes;
use serde::Serialize;
use utoipa::ToSchema;

use super::{Article, ArticleSummary, ContentError, ContentSource, Part, Section};

/// An article's parts, as a list: `{"items": [...], "total": N}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct List<T> {
    /// The items, in reading order.
    pub items: Vec<T>,
    /// How many items there are.
    #[schema(example = 7)]
    pub total: usize,
}

/// One page of a long list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// How many items there are on all pages.
    #[schema(example = 1)]
    pub total: usize,
    /// The most items a page holds, as requested.
    #[schema(example = 20)]
    pub limit: usize,
    /// How many items come before this page.
    #[schema(example = 0)]
    pub offset: usize,
}

/// A response body ready to send.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub body: Bytes,
}

impl Prepared {
    /// Serializes `value` as the JSON body of a response.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Self {
        let body = serde_json::to_vec(value).expect("content types always serialize to JSON");
        Self {
            body: Bytes::from(body),
        }
    }
}

/// A list of parts and each part alone, prepared.
#[derive(Debug)]
pub struct Collection {
    pub list: Prepared,
    items: Vec<(String, Prepared)>,
}

impl Collection {
    fn new<T: Part + Serialize>(items: &[T]) -> Self {
        Self {
            list: Prepared::json(&List {
                items: items.iter().collect(),
                total: items.len(),
            }),
            items: items
                .iter()
                .map(|item| (item.id().to_owned(), Prepared::json(item)))
                .collect(),
        }
    }

    /// The prepared part with this id. Lists are short, so a scan beats hashing.
    pub fn get(&self, id: &str) -> Option<&Prepared> {
        self.items
            .iter()
            .find(|(item_id, _)| item_id == id)
            .map(|(_, prepared)| prepared)
    }
}

/// One article, typed and prepared.
#[derive(Debug)]
pub struct Entry {
    pub article: Article,
    pub summary: ArticleSummary,
    pub whole: Prepared,
    pub sections: Collection,
    pub benefits: Collection,
    pub precautions: Collection,
    pub faqs: Collection,
}

impl Entry {
    fn new(article: Article) -> Self {
        let sections: Vec<Section> = article
            .intro
            .iter()
            .chain(&article.sections)
            .chain(&article.conclusion)
            .cloned()
            .collect();
        Self {
            summary: ArticleSummary::from(&article),
            whole: Prepared::json(&article),
            sections: Collection::new(&sections),
            benefits: Collection::new(&article.benefits.items),
            precautions: Collection::new(&article.precautions.items),
            faqs: Collection::new(&article.faqs.items),
            article,
        }
    }
}

/// Every article of a content set, ready to serve.
#[derive(Debug)]
pub struct Store {
    /// Sorted by slug, the order of the article list.
    entries: Vec<Entry>,
    by_slug: HashMap<String, usize>,
}

impl Store {
    /// Loads, validates and prepares the content of `source`.
    pub fn load(source: &ContentSource) -> Result<Self, ContentError> {
        Ok(Self::from_articles(super::load(source)?))
    }

    pub fn from_articles(articles: Vec<Article>) -> Self {
        let entries: Vec<Entry> = articles.into_iter().map(Entry::new).collect();
        let by_slug = entries
            .iter()
            .enumerate()
            .map(|(i, entry)| (entry.article.slug.to_string(), i))
            .collect();
        Self { entries, by_slug }
    }

    pub fn get(&self, slug: &str) -> Option<&Entry> {
        self.by_slug.get(slug).map(|&i| &self.entries[i])
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
}
