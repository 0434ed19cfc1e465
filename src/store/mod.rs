//! The prepared store: every response the content can produce, serialized
//! and hashed once when the content is loaded, and compressed once soon after
//! (see `http::representation`), with a typed view of each article for what
//! reads fields (the reader page, JSON-LD) and the search index. [`LiveContent`]
//! is the store being served, swapped whole on reload.
//!
//! Handlers only look representations up. To keep memory flat with many
//! articles, a part fetched alone shares the bytes of its list: the JSON of
//! an item is, byte for byte, its entry in the list's JSON, so it is a slice
//! of the list's buffer rather than a copy.

use std::{borrow::Cow, collections::HashMap, sync::OnceLock, time::SystemTime};

use actix_web::{http::header::HeaderValue, web::Bytes};
use serde::Serialize;
use utoipa::ToSchema;

mod live;

pub use live::LiveContent;

use crate::{
    content::{
        Article, ArticleSummary, ContentError, ContentSource, Date, Lang, LangPreference, Part,
        Review, ReviewStatus, Section, article_jsonld,
    },
    http::{
        cache::PurgeKeys,
        representation::{Representation, exact, to_json},
    },
    search::{HitType, Search, SearchError, SearchHit, SearchIndex},
    suggest, urls,
};

/// An article's parts, as a list: `{"items": [...], "total": N}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct List<T> {
    /// The items, in reading order.
    pub items: Vec<T>,
    /// How many items there are.
    #[schema(example = 7)]
    pub total: usize,
}

/// The bytes that open a serialized [`List`], before its items array.
const LIST_OPENING_KEY: &[u8] = b"{\"items\":";

/// Where `needle` (a JSON array) is in `haystack`: a range of it. Every
/// list of every article is found in its article's JSON at load, so this
/// looks for the needle's opening bytes with a SIMD substring search (a
/// finder for the whole needle, kilobytes long, costs more to build than
/// the search) and compares the rest where they are.
fn find(haystack: &[u8], needle: &[u8]) -> Option<std::ops::Range<usize>> {
    let opening = needle
        .get(..needle.len().min(32))
        .filter(|o| !o.is_empty())?;
    memchr::memmem::find_iter(haystack, opening)
        .map(|at| at..at + needle.len())
        .find(|range| haystack.get(range.clone()) == Some(needle))
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

/// A list of parts and each part alone, prepared.
#[derive(Debug)]
pub struct Collection {
    pub list: Representation,
    items: Vec<Item>,
}

/// One part, prepared: its id, its JSON, and where its title and text are
/// in that JSON, which search reads for every hit.
#[derive(Debug)]
struct Item {
    id: Box<str>,
    rep: Representation,
    texts: Option<TextSpans>,
}

/// Where a part's title and text are in its JSON: the spans of the two
/// JSON strings, quotes included; an empty span for no title (a section
/// without a heading). Noted once when the part is prepared, so a search
/// reads them without parsing the part (6% of a search's CPU), and holds
/// no second copy of the text: 16 bytes a part. `None` where a span would
/// not fit (a part of 4 GiB), and the part is then parsed.
#[derive(Debug, Clone, Copy)]
struct TextSpans {
    title: [u32; 2],
    text: [u32; 2],
}

impl TextSpans {
    /// Finds `title` and `text` in `json`, the part serialized. Any place
    /// where a text's JSON string is found decodes to that text.
    fn find(json: &[u8], title: &str, text: &str) -> Option<Self> {
        let span = |text: &str| -> Option<[u32; 2]> {
            if text.is_empty() {
                return Some([0, 0]);
            }
            // JSON writes a text as it is between quotes unless it holds a
            // character to escape; serializing every text again, and a
            // searcher for every whole text, made start-up 30% slower.
            let quoted = if text.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
                serde_json::to_vec(text).ok()?
            } else {
                [b"\"", text.as_bytes(), b"\""].concat()
            };
            let at = find(json, &quoted)?;
            Some([u32::try_from(at.start).ok()?, u32::try_from(at.end).ok()?])
        };
        Some(Self {
            title: span(title)?,
            text: span(text)?,
        })
    }

    /// The text at `span` of `json`: borrowed when it has no escapes.
    fn read(json: &[u8], [start, end]: [u32; 2]) -> Option<Cow<'_, str>> {
        if start == end {
            return Some(Cow::Borrowed(""));
        }
        let quoted = json.get(start as usize..end as usize)?;
        let inner = quoted.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
        if memchr::memchr(b'\\', inner).is_none() {
            return std::str::from_utf8(inner).ok().map(Cow::Borrowed);
        }
        serde_json::from_slice(quoted).ok().map(Cow::Owned)
    }
}

impl Collection {
    /// Prepares `items` as a list and one by one. The list's items array
    /// is taken from `within` (the article's JSON) when it is there byte
    /// for byte, so the text is held once; each item is a slice of it.
    fn new<T: Part + Serialize>(items: &[T], within: &Bytes) -> Self {
        // The array as serde_json writes a slice (`[`, the items joined by
        // commas, `]`), each item serialized once, where it starts and ends
        // noted.
        let mut array = vec![b'['];
        let mut spans = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                array.push(b',');
            }
            let start = array.len();
            serde_json::to_writer(&mut array, item).expect("content types always serialize");
            spans.push(start..array.len());
        }
        array.push(b']');
        let array = find(within, &array).map_or_else(|| exact(array), |at| within.slice(at));
        let total = format!(",\"total\":{}}}", items.len());
        let items = items
            .iter()
            .zip(spans)
            .map(|(item, span)| Item {
                id: item.id().into(),
                texts: TextSpans::find(&array[span.clone()], item.title(), item.text()),
                rep: Representation::new(array.slice(span)),
            })
            .collect();
        // Byte for byte what serializing `List { items, total }` gives.
        Self {
            list: Representation::framed(LIST_OPENING_KEY, array, total.into_bytes()),
            items,
        }
    }

    fn representations(&self) -> impl Iterator<Item = &Representation> {
        std::iter::once(&self.list).chain(self.items.iter().map(|item| &item.rep))
    }

    /// Each part's JSON, in order.
    pub fn bodies(&self) -> impl Iterator<Item = &[u8]> {
        self.items.iter().map(|item| item.rep.unframed().as_ref())
    }

    /// Each part's id and representation, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Representation)> {
        self.items.iter().map(|item| (&*item.id, &item.rep))
    }

    /// The id and JSON of the part at `index`: what the tests compare a
    /// hit's reading of the part with (search reads [`Self::texts`]).
    #[cfg(test)]
    fn nth(&self, index: usize) -> Option<(&str, &[u8])> {
        self.items
            .get(index)
            .map(|item| (&*item.id, item.rep.unframed().as_ref()))
    }

    /// The id, title and text of the part at `index`, borrowed from its
    /// JSON where they have no escapes.
    fn texts(&self, index: usize) -> Option<(&str, Cow<'_, str>, Cow<'_, str>)> {
        let item = self.items.get(index)?;
        let json = item.rep.unframed().as_ref();
        let (title, text) = match item.texts {
            Some(spans) => (
                TextSpans::read(json, spans.title)?,
                TextSpans::read(json, spans.text)?,
            ),
            None => {
                let texts: PartTexts = serde_json::from_slice(json).ok()?;
                (texts.title.unwrap_or_default(), texts.body)
            }
        };
        Some((&*item.id, title, text))
    }

    /// The first byte of the text of the part at `index`, read only to
    /// bring it into the cache (see [`Store::search`]).
    fn first_text_byte(&self, index: usize) -> Option<u8> {
        let item = self.items.get(index)?;
        let start = item.texts.map_or(0, |spans| spans.text[0]);
        item.rep.unframed().get(start as usize).copied()
    }

    /// The prepared part with this id. Lists are short, so a scan beats hashing.
    pub fn get(&self, id: &str) -> Option<&Representation> {
        self.items
            .iter()
            .find(|item| &*item.id == id)
            .map(|item| &item.rep)
    }
}

/// The `Link` headers (RFC 8288) that name an article's other
/// representations, made once: on its JSON, and on its JSON-LD.
#[derive(Debug)]
pub struct Alternates {
    pub of_json: HeaderValue,
    pub of_jsonld: HeaderValue,
}

impl Alternates {
    fn of(article: &Article) -> Self {
        let header = |this| {
            HeaderValue::from_str(&urls::alternates(&article.slug, &article.lang, this))
                .expect("a slug and a language tag make a valid header")
        };
        Self {
            of_json: header(urls::Form::Json),
            of_jsonld: header(urls::Form::JsonLd),
        }
    }
}

/// One article in one language, prepared.
#[derive(Debug)]
pub struct Entry {
    pub summary: ArticleSummary,
    pub lang: Lang,
    /// `lang` as the `Content-Language` header, made once.
    pub lang_header: HeaderValue,
    /// The `Link` headers naming the article's other representations.
    pub alternates: Alternates,
    /// The article's purge keys, made once.
    pub purge: PurgeKeys,
    /// From `updated_at`: midnight UTC of that day.
    pub last_modified: Option<SystemTime>,
    pub whole: Representation,
    /// The schema.org JSON-LD, made on first request: kept for every
    /// article at load, it would cost memory most articles never use.
    jsonld: OnceLock<Representation>,
    /// The article typed, made from its JSON on first use and then shared:
    /// kept for every article at load, it would double the memory the
    /// text takes.
    typed: OnceLock<Box<Article>>,
    pub sections: Collection,
    pub benefits: Collection,
    pub precautions: Collection,
    pub faqs: Collection,
}

impl Entry {
    /// The article's parts of one kind; `None` for the article itself.
    pub fn parts(&self, kind: HitType) -> Option<&Collection> {
        match kind {
            HitType::Article => None,
            HitType::Section => Some(&self.sections),
            HitType::Benefit => Some(&self.benefits),
            HitType::Precaution => Some(&self.precautions),
            HitType::Faq => Some(&self.faqs),
        }
    }

    /// The article's schema.org JSON-LD, made on first use.
    pub fn jsonld(&self) -> &Representation {
        self.jsonld
            .get_or_init(|| Representation::json(&article_jsonld(self.article())))
    }

    /// The article, typed: made on first use, then kept.
    pub fn article(&self) -> &Article {
        self.typed.get_or_init(|| Box::new(self.parse()))
    }

    /// The article typed anew from its served JSON, for a use that reads
    /// every article once (indexing) and should not keep them all.
    fn parse(&self) -> Article {
        parse_served(self.whole.unframed())
    }

    fn representations(&self) -> impl Iterator<Item = &Representation> {
        std::iter::once(&self.whole)
            .chain(self.sections.representations())
            .chain(self.benefits.representations())
            .chain(self.precautions.representations())
            .chain(self.faqs.representations())
    }

    fn new(article: &Article) -> Self {
        let sections: Vec<Section> = article.prose().cloned().collect();
        let whole = Representation::json(article);
        let json = whole.unframed().clone();
        Self {
            summary: summary(article),
            lang: article.lang.clone(),
            lang_header: HeaderValue::from_str(article.lang.as_str())
                .expect("a language tag is a valid header"),
            alternates: Alternates::of(article),
            purge: PurgeKeys::new(
                urls::purge::article(&article.slug, &article.lang)
                    .iter()
                    .map(String::as_str),
            ),
            last_modified: article.updated_at.map(Date::to_system_time),
            whole,
            jsonld: OnceLock::new(),
            typed: OnceLock::new(),
            sections: Collection::new(&sections, &json),
            benefits: Collection::new(&article.benefits.items, &json),
            precautions: Collection::new(&article.precautions.items, &json),
            faqs: Collection::new(&article.faqs.items, &json),
        }
    }
}

/// An article as the list shows it; `languages` is filled in once every
/// translation is loaded.
fn summary(article: &Article) -> ArticleSummary {
    ArticleSummary {
        url: urls::article(&article.slug),
        slug: article.slug.clone(),
        title: article.title.clone(),
        languages: vec![article.lang.clone()],
        // Stamped by the store; an article that was not is reviewed as of now.
        review: article.review.unwrap_or_else(|| {
            Review::on(article.last_reviewed, article.next_review, Date::today())
        }),
    }
}

/// Why a search could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum SearchFailed {
    /// The index could not be built (logged when it failed).
    #[error("the search index could not be built")]
    NoIndex,
    #[error(transparent)]
    Engine(#[from] SearchError),
    /// The search panicked on the pool's thread (logged there).
    #[error("the search panicked")]
    Panicked,
}

/// Served JSON typed again: it was serialized from this very type.
fn parse_served<T: serde::de::DeserializeOwned>(json: &[u8]) -> T {
    serde_json::from_slice(json).expect("served JSON deserializes into the type it was made from")
}

/// What a search reads of a part whose [`TextSpans`] could not be noted:
/// its title and text, parsed from its JSON, borrowed where they need no
/// unescaping. The keys are the part types' own (a test holds each type's
/// `Part::title`/`Part::text` to what this reads of its JSON).
#[derive(serde::Deserialize)]
struct PartTexts<'a> {
    /// A benefit's or precaution's `title`, a section's `heading`, a FAQ's
    /// `question`.
    #[serde(borrow, default, alias = "heading", alias = "question")]
    title: Option<Cow<'a, str>>,
    /// A FAQ's `answer`, every other part's `body`.
    #[serde(borrow, alias = "answer")]
    body: Cow<'a, str>,
}

/// The document a hit names: its id, title and text (an article's own: its
/// slug, its title and no text), borrowed from `entry` where they can be.
trait PartOf {
    fn part(self, entry: &Entry, item: usize) -> Option<(&str, Cow<'_, str>, Cow<'_, str>)>;
}

impl PartOf for HitType {
    fn part(self, entry: &Entry, item: usize) -> Option<(&str, Cow<'_, str>, Cow<'_, str>)> {
        match entry.parts(self) {
            Some(parts) => parts.texts(item),
            None => Some((
                entry.summary.slug.as_str(),
                Cow::Borrowed(&entry.summary.title),
                Cow::Borrowed(""),
            )),
        }
    }
}

/// A page of the article list, prepared with its `Link` header.
#[derive(Debug, Clone)]
pub struct PreparedPage {
    pub representation: Representation,
    pub link: HeaderValue,
}

/// Every article of a content set, in every language, ready to serve.
#[derive(Debug)]
pub struct Store {
    /// Sorted by slug, then language.
    entries: Vec<Entry>,
    /// Each article's translations: indices into `entries`, by language.
    by_slug: HashMap<String, Vec<usize>>,
    /// One entry per article, in the default language where there is one:
    /// the article list.
    listed: Vec<usize>,
    /// The pages of the article list at the default page size, by offset / size.
    default_pages: Vec<PreparedPage>,
    revision: String,
    revision_header: HeaderValue,
    /// The day (UTC) the review statuses were computed for.
    today: Date,
    /// Every article whole, in one body, made on first request.
    bundle: OnceLock<Representation>,
    /// The slugs, for the "did you mean" of a mistyped one: made on the
    /// first request for an unknown slug.
    slugs: OnceLock<suggest::Names>,
    /// The full-text index, built once the content is loaded (see
    /// [`Store::index_for_search`]).
    search: OnceLock<Option<SearchIndex>>,
}

/// Every article, whole, in every language: for apps that work offline.
#[derive(Debug, Serialize, ToSchema)]
pub struct Bundle {
    /// The content revision the bundle was made from.
    #[schema(example = "9c1d2e3f4a5b6c7d")]
    pub revision: String,
    /// Every article in every language, sorted by slug, then language.
    pub articles: Vec<Article>,
}

impl Store {
    /// The page size clients get when they ask for none.
    pub const DEFAULT_PAGE_SIZE: usize = 20;

    /// Loads, validates and prepares the content of `source`. Each article is
    /// prepared as soon as it is read, and its typed form dropped, so memory
    /// holds the prepared responses and little else.
    pub fn load(source: &ContentSource) -> Result<Self, ContentError> {
        let today = Date::today();
        let loaded = crate::content::load_with(source, |mut article| {
            article.review_on(today);
            Entry::new(&article)
        })?;
        Ok(Self::from_entries(loaded.items, loaded.revision, today))
    }

    /// The same content with its review statuses as of `today`, if any of
    /// them differs from this store's: a review falls due, or overdue, as
    /// the days pass without an edit. Its revision is this one's and the
    /// day's, hashed, so that what changed has a new revision.
    pub fn restamped(&self, today: Date) -> Option<Self> {
        let changes = self.entries.iter().any(|entry| {
            let then = entry.summary.review;
            Review::on(then.last_reviewed, then.next_review, today).status != then.status
        });
        if today == self.today || !changes {
            return None;
        }
        let entries = self
            .entries
            .iter()
            .map(|entry| {
                let mut article = entry.parse();
                article.review_on(today);
                Entry::new(&article)
            })
            .collect();
        let revision = crate::content::derived_revision(&self.revision, &today.to_string());
        Some(Self::from_entries(entries, revision, today))
    }

    /// The day the review statuses were computed for.
    pub fn today(&self) -> Date {
        self.today
    }

    fn from_entries(mut entries: Vec<Entry>, revision: String, today: Date) -> Self {
        let mut by_slug: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, entry) in entries.iter().enumerate() {
            by_slug
                .entry(entry.summary.slug.to_string())
                .or_default()
                .push(i);
        }
        let default = Lang::default();
        let mut listed: Vec<usize> = by_slug
            .values()
            .map(|variants| {
                let languages: Vec<Lang> =
                    variants.iter().map(|&i| entries[i].lang.clone()).collect();
                let shown = variants
                    .iter()
                    .copied()
                    .find(|&i| entries[i].lang == default)
                    .unwrap_or(variants[0]);
                entries[shown].summary.languages = languages;
                shown
            })
            .collect();
        listed.sort_unstable();
        let mut store = Self {
            entries,
            by_slug,
            listed,
            default_pages: Vec::new(),
            revision_header: HeaderValue::from_str(&revision)
                .expect("a hex revision is a valid header"),
            revision,
            today,
            bundle: OnceLock::new(),
            slugs: OnceLock::new(),
            search: OnceLock::new(),
        };
        let pages = store.len().div_ceil(Self::DEFAULT_PAGE_SIZE).max(1);
        store.default_pages = (0..pages)
            .map(|page| {
                store.build_page(
                    None,
                    Self::DEFAULT_PAGE_SIZE,
                    page * Self::DEFAULT_PAGE_SIZE,
                )
            })
            .collect();
        store
    }

    /// The content revision: a hash of the content files (and of the day,
    /// once a review status has moved on with it).
    pub fn revision(&self) -> &str {
        &self.revision
    }

    /// The revision as the `X-Content-Revision` header value.
    pub fn revision_header(&self) -> &HeaderValue {
        &self.revision_header
    }

    /// The article with this slug, in the language `preference` chooses.
    /// The slug of an article that `slug`, which names none, most likely
    /// meant (a typo of it).
    pub fn slug_meant(&self, slug: &str) -> Option<String> {
        self.slugs
            .get_or_init(|| suggest::Names::new(self.by_slug.keys().map(String::as_str)))
            .nearest(slug)
    }

    pub fn get(&self, slug: &str, preference: &LangPreference) -> Option<&Entry> {
        let variants = self.by_slug.get(slug)?;
        if let [only] = variants.as_slice() {
            return Some(&self.entries[*only]);
        }
        let languages = variants.iter().map(|&i| &self.entries[i].lang);
        let chosen = preference.choose(languages, &Lang::default());
        Some(&self.entries[variants[chosen]])
    }

    /// The article with this slug in exactly this language.
    pub fn exact(&self, slug: &str, lang: &str) -> Option<&Entry> {
        self.by_slug
            .get(slug)?
            .iter()
            .map(|&i| &self.entries[i])
            .find(|entry| entry.lang.as_str() == lang)
    }

    /// Every article in every language, sorted by slug, then language.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Builds the full-text index; later calls return at once.
    /// A failure is logged, and searches then answer that search is
    /// unavailable.
    pub fn index_for_search(&self) {
        self.search.get_or_init(|| {
            let languages = self.entries.iter().map(|entry| &entry.lang);
            // Each article is typed once to be read, and each of its parts
            // again to be indexed in the index's own order, rather than
            // every article kept typed meanwhile (about 110 MB at 10,000).
            let texts = |article: usize, kind: HitType, item: usize| {
                let (_, title, text) = kind.part(self.entries.get(article)?, item)?;
                Some((title, text))
            };
            SearchIndex::build(languages, self.entries.iter().map(Entry::parse), texts)
                .inspect_err(|error| tracing::error!("{error}; search will answer 503"))
                .ok()
        });
    }

    /// Whether [`Self::index_for_search`] has run (built the index, or
    /// failed to).
    pub fn indexed(&self) -> bool {
        self.search.get().is_some()
    }

    /// The full-text index, once [`Self::index_for_search`] has built it.
    pub fn search_index(&self) -> Option<&SearchIndex> {
        self.search.get()?.as_ref()
    }

    /// One page of what matches `search`, and how many match in all;
    /// `None` until the index is built.
    pub fn search(
        &self,
        search: &Search<'_>,
    ) -> Option<Result<(Vec<SearchHit<'_>>, usize), SearchFailed>> {
        let Some(index) = self.search.get()?.as_ref() else {
            return Some(Err(SearchFailed::NoIndex));
        };
        let found = match index.search(search) {
            Ok(found) => found,
            Err(error) => return Some(Err(SearchFailed::Engine(error))),
        };
        // Each hit's article and text lie apart in memory (thousands of
        // articles): read first, all at once, their cache misses overlap,
        // rather than each waiting behind the last hit's snippet.
        for ranked in &found.ranked {
            if let Some(entry) = self.entries.get(ranked.article) {
                std::hint::black_box(entry.summary.slug.as_str().as_bytes().first().copied());
                if let Some(parts) = entry.parts(ranked.kind) {
                    std::hint::black_box(parts.first_text_byte(ranked.item));
                }
            }
        }
        let hits = found
            .ranked
            .iter()
            .filter_map(|ranked| {
                // The index was built from these entries, so every hit
                // names one; one that did not would be skipped, not a panic.
                let entry = self.entries.get(ranked.article)?;
                let slug = &entry.summary.slug;
                let (id, title, text) = ranked.kind.part(entry, ranked.item)?;
                let snippet = if text.is_empty() {
                    index.snippet(&found, &entry.lang, &title, true)
                } else {
                    index.snippet(&found, &entry.lang, &text, false)
                };
                Some(SearchHit {
                    kind: ranked.kind,
                    url: urls::hit(slug, ranked.kind, id, &entry.lang),
                    id,
                    article: slug.as_str(),
                    lang: entry.lang.as_str(),
                    title,
                    snippet,
                    score: ranked.score,
                })
            })
            .collect();
        Some(Ok((hits, found.total)))
    }

    /// The [`Bundle`] if it has been made.
    pub fn bundle_made(&self) -> Option<&Representation> {
        self.bundle.get()
    }

    /// The [`Bundle`], made on first request from the prepared bodies of
    /// the articles (so not serialized again), then kept.
    pub fn bundle(&self) -> &Representation {
        self.bundle.get_or_init(|| {
            let size = self
                .entries
                .iter()
                .map(|e| e.whole.len() + 1)
                .sum::<usize>();
            let mut body = Vec::with_capacity(size + self.revision.len() + 32);
            body.extend_from_slice(b"{\"revision\":");
            body.extend_from_slice(&to_json(&self.revision));
            body.extend_from_slice(b",\"articles\":[");
            for (i, entry) in self.entries.iter().enumerate() {
                if i > 0 {
                    body.push(b',');
                }
                body.extend_from_slice(entry.whole.unframed());
            }
            body.extend_from_slice(b"]}");
            Representation::new(exact(body))
        })
    }

    /// Each article once, in the default language where it has one, sorted
    /// by slug: what the article list shows.
    pub fn listed(&self) -> impl Iterator<Item = &Entry> {
        self.listed.iter().map(|&i| &self.entries[i])
    }

    /// How many articles there are (translations of one article count once).
    pub fn len(&self) -> usize {
        self.listed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.listed.is_empty()
    }

    /// The bytes of all prepared bodies, before compression.
    pub fn prepared_bytes(&self) -> usize {
        self.representations().map(Representation::len).sum()
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

    /// One page of the article list, of those whose review has `status`
    /// if one is given: prepared at load for the default page size and no
    /// status; otherwise built for the request (at most 100 summaries) and
    /// sent uncompressed.
    pub fn page(&self, status: Option<ReviewStatus>, limit: usize, offset: usize) -> PreparedPage {
        if status.is_none()
            && limit == Self::DEFAULT_PAGE_SIZE
            && offset.is_multiple_of(limit)
            && let Some(page) = self.default_pages.get(offset / limit)
        {
            return page.clone();
        }
        let mut page = self.build_page(status, limit, offset);
        page.representation = page.representation.without_variants();
        page
    }

    fn build_page(
        &self,
        status: Option<ReviewStatus>,
        limit: usize,
        offset: usize,
    ) -> PreparedPage {
        let summaries = self
            .listed()
            .map(|entry| &entry.summary)
            .filter(|summary| status.is_none_or(|status| summary.review.status == status));
        let (mut total, mut items) = (0, Vec::new());
        for (i, summary) in summaries.enumerate() {
            total += 1;
            if i >= offset && items.len() < limit {
                items.push(summary);
            }
        }
        let base = match status {
            None => urls::ARTICLES.to_owned(),
            Some(status) => urls::articles_reviewed(status),
        };
        PreparedPage {
            representation: Representation::json(&Page {
                items,
                total,
                limit,
                offset,
            }),
            link: HeaderValue::from_str(&urls::link_header(&base, limit, offset, total))
                .expect("a link header is ASCII"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_is_found_in_its_article_where_its_bytes_match_in_full() {
        let long = format!("[{}]", "\"x\",".repeat(20) + "\"y\"");
        let article = format!("{{\"a\":[\"x\",\"x\"],\"b\":{long}}}");
        let at = find(article.as_bytes(), long.as_bytes()).unwrap();
        assert_eq!(&article[at], long);
        // The opening bytes alone are not a match.
        let other = format!("[{}]", "\"x\",".repeat(20) + "\"z\"");
        assert_eq!(find(article.as_bytes(), other.as_bytes()), None);
        assert_eq!(find(article.as_bytes(), b""), None);
    }

    #[test]
    fn the_typed_view_of_a_prepared_article_is_the_article_loaded() {
        let mut articles = crate::content::load(&ContentSource::Embedded).unwrap();
        let every_field = crate::content::parse_article(
            "dated.es.toml",
            r#"
                lang = "es"
                title = "Título"
                about = "Masaje"
                published_at = 2024-03-01
                updated_at = 2024-05-01
                last_reviewed = 2024-05-01
                next_review = 2025-05-01
                authors = ["A. Writer"]
                reviewed_by = ["Dr. A. Reviewer"]
                license = "CC BY 4.0"
                intro = { id = "intro", body = "Texto <con> \"comillas\"." }
                replies = { heading = "Deja una respuesta" }
                [benefits]
                heading = "Beneficios"
                [[benefits.items]]
                id = "uno"
                title = "Uno"
                body = "Cuerpo."
            "#,
        )
        .unwrap();
        articles.push(every_field);
        for article in &articles {
            let entry = Entry::new(article);
            assert_eq!(entry.article(), article);
            assert_eq!(&entry.parse(), article);
        }
    }

    #[test]
    fn what_a_hit_reads_of_a_part_is_its_typed_title_and_text() {
        let mut articles = crate::content::load(&ContentSource::Embedded).unwrap();
        // Escapes in a text are read unescaped, not borrowed as written.
        articles.push(
            crate::content::parse_article(
                "quoted.toml",
                r#"
                    title = "Quoted"
                    about = "Massage"
                    intro = { id = "intro", body = "Opening \"quoted\" text." }
                    [[sections]]
                    id = "a"
                    heading = "A \"heading\""
                    body = "Tab\there."
                "#,
            )
            .unwrap(),
        );
        fn each<'a, T: Part + 'a>(
            kind: HitType,
            entry: &'a Entry,
            typed: impl IntoIterator<Item = &'a T>,
        ) -> usize {
            let parts = entry.parts(kind).expect("a part's kind");
            let mut count = 0;
            for (item, part) in typed.into_iter().enumerate() {
                let expected = (part.id(), part.title(), part.text());
                // Read where its spans say, as a search reads it...
                assert!(parts.items[item].texts.is_some(), "{kind:?} {item}");
                let (id, title, text) = kind.part(entry, item).unwrap();
                assert_eq!((id, &*title, &*text), expected, "{kind:?} {item}");
                // ...borrowed unless it has escapes...
                for read in [&title, &text] {
                    let escaped = serde_json::to_string(&**read).unwrap().contains('\\');
                    assert_eq!(matches!(read, Cow::Owned(_)), escaped, "{read}");
                }
                // ...and parsed, as a part without spans is.
                let texts: PartTexts = serde_json::from_slice(parts.nth(item).unwrap().1).unwrap();
                let parsed = (texts.title.unwrap_or_default(), texts.body);
                assert_eq!((&*parsed.0, &*parsed.1), (expected.1, expected.2));
                count += 1;
            }
            count
        }
        for article in &articles {
            let entry = Entry::new(article);
            let (slug, title, text) = HitType::Article.part(&entry, 0).unwrap();
            assert_eq!(
                (slug, &*title, &*text),
                (article.slug.as_str(), &*article.title, "")
            );
            // Every part the entry serves is read, none past them.
            for (kind, read, served) in [
                (
                    HitType::Section,
                    each(HitType::Section, &entry, article.prose()),
                    &entry.sections,
                ),
                (
                    HitType::Benefit,
                    each(HitType::Benefit, &entry, &article.benefits.items),
                    &entry.benefits,
                ),
                (
                    HitType::Precaution,
                    each(HitType::Precaution, &entry, &article.precautions.items),
                    &entry.precautions,
                ),
                (
                    HitType::Faq,
                    each(HitType::Faq, &entry, &article.faqs.items),
                    &entry.faqs,
                ),
            ] {
                assert_eq!(read, served.bodies().count());
                assert!(kind.part(&entry, read).is_none());
            }
        }
    }

    #[test]
    fn a_list_is_what_serializing_it_gives_and_holds_no_copy_of_the_article() {
        let articles = crate::content::load(&ContentSource::Embedded).unwrap();
        let article = &articles[0];
        let entry = Entry::new(article);
        let whole = entry.whole.unframed();
        let expected = to_json(&List {
            items: article.benefits.items.iter().collect(),
            total: article.benefits.items.len(),
        });
        assert_eq!(&entry.benefits.list.body()[..], &expected[..]);
        // Each benefit alone points into the article's own buffer.
        let (_, first) = entry.benefits.nth(0).unwrap();
        let range = whole.as_ptr() as usize..whole.as_ptr() as usize + whole.len();
        assert!(range.contains(&(first.as_ptr() as usize)));
        // The sections list (intro, sections, conclusion) is not one run of
        // the article's JSON, so it is its own; it serializes the same.
        let sections: Vec<Section> = article.prose().cloned().collect();
        let expected = to_json(&List {
            items: sections.iter().collect(),
            total: sections.len(),
        });
        assert_eq!(&entry.sections.list.body()[..], &expected[..]);
    }

    fn date(text: &str) -> Date {
        serde_json::from_value(serde_json::Value::String(text.into())).unwrap()
    }

    #[test]
    fn a_review_falls_due_as_the_days_pass_and_the_store_serves_it_under_a_new_revision() {
        let mut article = crate::content::parse_article(
            "reviewed.toml",
            "title = \"T\"\nlast_reviewed = 2025-01-01\nnext_review = 2026-01-31\n",
        )
        .unwrap();
        article.review_on(date("2025-12-01"));
        let store = Store::from_entries(
            vec![Entry::new(&article)],
            "0123456789abcdef".into(),
            date("2025-12-01"),
        );
        let status = |store: &Store| {
            let entry = store.exact("reviewed", "en").unwrap();
            let served: serde_json::Value = serde_json::from_slice(&entry.whole.body()).unwrap();
            assert_eq!(
                served["review"]["status"],
                serde_json::json!(entry.summary.review.status)
            );
            entry.summary.review.status
        };
        assert_eq!(status(&store), ReviewStatus::Current);
        // Nothing moved on: nothing to serve anew.
        assert!(store.restamped(date("2025-12-01")).is_none());
        assert!(store.restamped(date("2025-12-31")).is_none());

        let due = store.restamped(date("2026-01-01")).unwrap();
        assert_eq!(status(&due), ReviewStatus::Due);
        assert_ne!(due.revision(), store.revision());
        assert_eq!(due.today(), date("2026-01-01"));
        let overdue = due.restamped(date("2026-02-01")).unwrap();
        assert_eq!(status(&overdue), ReviewStatus::Overdue);
        let page = overdue.page(Some(ReviewStatus::Overdue), 20, 0);
        let page: serde_json::Value = serde_json::from_slice(&page.representation.body()).unwrap();
        assert_eq!(page["items"][0]["slug"], "reviewed");
    }

    #[test]
    fn an_item_alone_is_the_same_bytes_as_its_entry_in_the_list() {
        let store = Store::load(&ContentSource::Embedded).unwrap();
        let entry = store
            .get("deep-tissue-massage-for-back-pain", &Default::default())
            .unwrap();
        let list: serde_json::Value = serde_json::from_slice(&entry.benefits.list.body()).unwrap();
        for item in list["items"].as_array().unwrap() {
            let alone = entry.benefits.get(item["id"].as_str().unwrap()).unwrap();
            assert_eq!(
                serde_json::from_slice::<serde_json::Value>(&alone.body()).unwrap(),
                *item
            );
        }
    }
}
