//! The prepared store: every response the content can produce, serialized
//! and hashed once when the content is loaded, and compressed once soon after
//! (see `representation`).
//!
//! Handlers only look representations up. To keep memory flat with many
//! articles, a part fetched alone shares the bytes of its list: the JSON of
//! an item is, byte for byte, its entry in the list's JSON, so it is a slice
//! of the list's buffer rather than a copy.

use std::collections::HashMap;

use actix_web::{http::header::HeaderValue, web::Bytes};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Article, ArticleSummary, ContentError, ContentSource, Part, Section};
use crate::representation::{Representation, exact, to_json};

/// An article's parts, as a list: `{"items": [...], "total": N}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct List<T> {
    /// The items, in reading order.
    pub items: Vec<T>,
    /// How many items there are.
    #[schema(example = 7)]
    pub total: usize,
}

/// The bytes that open a serialized [`List`], before its first item.
const LIST_OPENING: &[u8] = b"{\"items\":[";

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

/// A list of parts and each part alone, prepared.
#[derive(Debug)]
pub struct Collection {
    pub list: Representation,
    items: Vec<(Box<str>, Representation)>,
}

impl Collection {
    fn new<T: Part + Serialize>(items: &[T]) -> Self {
        let list = exact(to_json(&List {
            items: items.iter().collect(),
            total: items.len(),
        }));
        let mut offset = LIST_OPENING.len();
        let mut scratch = Vec::new();
        let items = items
            .iter()
            .map(|item| {
                scratch.clear();
                serde_json::to_writer(&mut scratch, item).expect("content types always serialize");
                let end = offset + scratch.len();
                // The slice is the item's own JSON; should serde_json ever lay a
                // list out differently, fall back to a copy rather than serve a wrong body.
                let body = if list.get(offset..end) == Some(&scratch[..]) {
                    list.slice(offset..end)
                } else {
                    Bytes::copy_from_slice(&scratch)
                };
                offset = end + 1; // the comma between items
                (item.id().into(), Representation::new(body))
            })
            .collect();
        Self {
            list: Representation::new(list),
            items,
        }
    }

    fn representations(&self) -> impl Iterator<Item = &Representation> {
        std::iter::once(&self.list).chain(self.items.iter().map(|(_, rep)| rep))
    }

    /// The prepared part with this id. Lists are short, so a scan beats hashing.
    pub fn get(&self, id: &str) -> Option<&Representation> {
        self.items
            .iter()
            .find(|(item_id, _)| &**item_id == id)
            .map(|(_, rep)| rep)
    }
}

/// One article, prepared.
#[derive(Debug)]
pub struct Entry {
    pub summary: ArticleSummary,
    pub whole: Representation,
    pub sections: Collection,
    pub benefits: Collection,
    pub precautions: Collection,
    pub faqs: Collection,
}

impl Entry {
    fn representations(&self) -> impl Iterator<Item = &Representation> {
        std::iter::once(&self.whole)
            .chain(self.sections.representations())
            .chain(self.benefits.representations())
            .chain(self.precautions.representations())
            .chain(self.faqs.representations())
    }

    fn new(article: &Article) -> Self {
        let sections: Vec<Section> = article
            .intro
            .iter()
            .chain(&article.sections)
            .chain(&article.conclusion)
            .cloned()
            .collect();
        Self {
            summary: ArticleSummary::from(article),
            whole: Representation::json(article),
            sections: Collection::new(&sections),
            benefits: Collection::new(&article.benefits.items),
            precautions: Collection::new(&article.precautions.items),
            faqs: Collection::new(&article.faqs.items),
        }
    }
}

/// A page of the article list, prepared with its `Link` header.
#[derive(Debug, Clone)]
pub struct PreparedPage {
    pub representation: Representation,
    pub link: HeaderValue,
}

/// Every article of a content set, ready to serve.
#[derive(Debug)]
pub struct Store {
    /// Sorted by slug, the order of the article list.
    entries: Vec<Entry>,
    by_slug: HashMap<String, usize>,
    /// The pages of the article list at the default page size, by offset / size.
    default_pages: Vec<PreparedPage>,
    revision: String,
    revision_header: HeaderValue,
}

impl Store {
    /// The page size clients get when they ask for none.
    pub const DEFAULT_PAGE_SIZE: usize = 20;

    /// Loads, validates and prepares the content of `source`. Each article is
    /// prepared as soon as it is read, and its typed form dropped, so memory
    /// holds the prepared responses and little else.
    pub fn load(source: &ContentSource) -> Result<Self, ContentError> {
        let loaded = super::load_with(source, |article| Entry::new(&article))?;
        Ok(Self::from_entries(loaded.items, loaded.revision))
    }

    fn from_entries(entries: Vec<Entry>, revision: String) -> Self {
        let by_slug = entries
            .iter()
            .enumerate()
            .map(|(i, entry)| (entry.summary.slug.to_string(), i))
            .collect();
        let mut store = Self {
            entries,
            by_slug,
            default_pages: Vec::new(),
            revision_header: HeaderValue::from_str(&revision)
                .expect("a hex revision is a valid header"),
            revision,
        };
        let pages = store.len().div_ceil(Self::DEFAULT_PAGE_SIZE).max(1);
        store.default_pages = (0..pages)
            .map(|page| store.build_page(Self::DEFAULT_PAGE_SIZE, page * Self::DEFAULT_PAGE_SIZE))
            .collect();
        store
    }

    /// The content revision: a hash of the content files.
    pub fn revision(&self) -> &str {
        &self.revision
    }

    /// The revision as the `X-Content-Revision` header value.
    pub fn revision_header(&self) -> &HeaderValue {
        &self.revision_header
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

    /// The bytes of all prepared bodies, before compression.
    pub fn prepared_bytes(&self) -> usize {
        self.representations()
            .map(|representation| representation.body().len())
            .sum()
    }

    /// Makes the compressed variants of every prepared response, article list
    /// pages first; meant for a background thread once the server is up.
    pub fn compress_all(&self) {
        self.representations().for_each(|representation| {
            representation.compress();
        });
    }

    /// Every prepared response: the article list's pages, then each article's.
    fn representations(&self) -> impl Iterator<Item = &Representation> {
        let pages = self.default_pages.iter().map(|page| &page.representation);
        pages.chain(self.entries.iter().flat_map(Entry::representations))
    }

    /// One page of the article list: prepared at load for the default page
    /// size; for any other, built for the request (at most 100 summaries) and
    /// sent uncompressed.
    pub fn page(&self, limit: usize, offset: usize) -> PreparedPage {
        if limit == Self::DEFAULT_PAGE_SIZE
            && offset.is_multiple_of(limit)
            && let Some(page) = self.default_pages.get(offset / limit)
        {
            return page.clone();
        }
        let mut page = self.build_page(limit, offset);
        page.representation = page.representation.without_variants();
        page
    }

    fn build_page(&self, limit: usize, offset: usize) -> PreparedPage {
        let total = self.entries.len();
        let items: Vec<&ArticleSummary> = self
            .entries
            .iter()
            .skip(offset)
            .take(limit)
            .map(|e| &e.summary)
            .collect();
        PreparedPage {
            representation: Representation::json(&Page {
                items,
                total,
                limit,
                offset,
            }),
            link: HeaderValue::from_str(&link_header("/v1/articles", limit, offset, total))
                .expect("a link header is ASCII"),
        }
    }
}

/// The `Link` header (RFC 8288) of the page at `offset` of the list at
/// `base` (a path, with its other query parameters if any).
pub fn link_header(base: &str, limit: usize, offset: usize, total: usize) -> String {
    let link = |offset: usize, rel: &str| {
        let separator = if base.contains('?') { '&' } else { '?' };
        format!("<{base}{separator}limit={limit}&offset={offset}>; rel=\"{rel}\"")
    };
    let last = total.saturating_sub(1) / limit * limit;
    let mut links = vec![link(0, "first")];
    if offset > 0 {
        links.push(link(offset.saturating_sub(limit).min(last), "prev"));
    }
    if offset + limit < total {
        links.push(link(offset + limit, "next"));
    }
    links.push(link(last, "last"));
    links.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_page_links_only_to_itself() {
        assert_eq!(
            link_header("/v1/articles", 20, 0, 1),
            "</v1/articles?limit=20&offset=0>; rel=\"first\", </v1/articles?limit=20&offset=0>; rel=\"last\""
        );
    }

    #[test]
    fn a_middle_page_links_both_ways() {
        let header = link_header("/v1/articles", 2, 2, 5);
        assert!(header.contains("</v1/articles?limit=2&offset=0>; rel=\"prev\""));
        assert!(header.contains("</v1/articles?limit=2&offset=4>; rel=\"next\""));
        assert!(header.contains("</v1/articles?limit=2&offset=4>; rel=\"last\""));
    }

    #[test]
    fn a_page_past_the_end_links_back_to_the_last() {
        let header = link_header("/v1/articles", 10, 50, 15);
        assert!(header.contains("</v1/articles?limit=10&offset=10>; rel=\"prev\""));
        assert!(!header.contains("next"));
    }

    #[test]
    fn an_item_alone_is_the_same_bytes_as_its_entry_in_the_list() {
        let store = Store::load(&ContentSource::Embedded).unwrap();
        let entry = store.get("deep-tissue-massage-for-back-pain").unwrap();
        let list: serde_json::Value = serde_json::from_slice(entry.benefits.list.body()).unwrap();
        for item in list["items"].as_array().unwrap() {
            let alone = entry.benefits.get(item["id"].as_str().unwrap()).unwrap();
            assert_eq!(
                serde_json::from_slice::<serde_json::Value>(alone.body()).unwrap(),
                *item
            );
        }
    }
}
