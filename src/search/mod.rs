//! Search: the full-text engine over every article and its parts, an
//! inverted index ranked by BM25. It reads the typed content it is given
//! (the store feeds it each article) and answers with ranked positions;
//! what a hit looks like to a client is the store's to say.
//!
//! Words are lowercased, stop words dropped, and each word reduced to its
//! Snowball stem in the article's language (`rust-stemmers`), so "massages"
//! finds "massage" and "relaxing" finds "relaxation". A query word of five
//! letters or more that is not in the index matches the indexed words one
//! edit away (a typo), at a lower weight. A title weighs twice its body.
//!
//! Posting lists are delta- and varint-encoded bytes (about 2.5 bytes per
//! posting), so 10,000 articles index in a few tens of megabytes.

use std::{borrow::Borrow, collections::HashMap};

use rust_stemmers::{Algorithm, Stemmer};
use serde::Serialize;
use utoipa::ToSchema;

use crate::content::{Article, Lang, Part};

/// The kinds of resource a hit can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
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

/// One search result.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchHit {
    /// What was found.
    #[serde(rename = "type")]
    pub kind: HitType,
    /// The resource's id (the slug, for an article).
    #[schema(example = "reduces-muscle-tension")]
    pub id: String,
    /// The slug of the article it belongs to.
    #[schema(example = "deep-tissue-massage-for-back-pain")]
    pub article: String,
    /// The language of the text found.
    #[schema(example = "en")]
    pub lang: String,
    /// Where the resource is served.
    #[schema(
        example = "/v1/articles/deep-tissue-massage-for-back-pain/benefits/reduces-muscle-tension"
    )]
    pub url: String,
    /// The resource's title (a heading, a benefit's title, a question).
    #[schema(example = "Reduces Muscle Tension")]
    pub title: String,
    /// A passage of the text with the matched words in `<mark>`; HTML, with
    /// the text itself escaped.
    #[schema(
        example = "Deep tissue massage effectively helps in reducing <mark>muscle</mark> <mark>tension</mark>, which is often a leading cause of back pain."
    )]
    pub snippet: String,
    /// BM25 relevance; higher is better.
    #[schema(example = 7.25)]
    pub score: f32,
}

/// What a search asks for.
#[derive(Debug, Clone)]
pub struct Search<'a> {
    pub query: &'a str,
    pub kind: Option<HitType>,
    pub limit: usize,
    pub offset: usize,
}

/// A document: one article's title, or one of its parts.
#[derive(Debug, Clone, Copy)]
struct Doc {
    entry: u32,
    kind: HitType,
    item: u16,
    /// Length in indexed words (titles counted twice).
    len: u16,
}

/// The inverted index of a content set.
#[derive(Debug, Default)]
pub struct SearchIndex {
    terms: HashMap<Box<str>, u32>,
    /// Every word as written (lowercased), with its term: what a typo is
    /// measured against, since a typo can change how a word stems.
    surface: Vec<(Box<str>, u32)>,
    /// Per term: (doc delta varint, term frequency byte) pairs.
    postings: Vec<Vec<u8>>,
    doc_freq: Vec<u32>,
    docs: Vec<Doc>,
    avg_len: f32,
    /// The stemmers of the languages in the content, for queries.
    languages: Vec<Lang>,
}

const K1: f32 = 1.2;
const B: f32 = 0.75;
/// How much a typo match counts against an exact one.
const TYPO_WEIGHT: f32 = 0.5;
/// Shorter query words must match exactly: one edit in a short word is
/// too often another word.
const TYPO_MIN_CHARS: usize = 5;

/// English function words, too common to tell documents apart.
const STOP_WORDS: &[&str] = &[
    "a", "about", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "do", "does",
    "for", "from", "has", "have", "how", "if", "in", "into", "is", "it", "its", "may", "of", "on",
    "or", "our", "so", "such", "than", "that", "the", "their", "them", "then", "there", "these",
    "they", "this", "those", "to", "was", "we", "were", "what", "when", "which", "while", "who",
    "will", "with", "you", "your",
];

fn stemmer(lang: &Lang) -> Option<Stemmer> {
    let algorithm = match lang.primary() {
        "en" => Algorithm::English,
        "es" => Algorithm::Spanish,
        "fr" => Algorithm::French,
        "de" => Algorithm::German,
        "it" => Algorithm::Italian,
        "pt" => Algorithm::Portuguese,
        "nl" => Algorithm::Dutch,
        "sv" => Algorithm::Swedish,
        "da" => Algorithm::Danish,
        "no" | "nb" | "nn" => Algorithm::Norwegian,
        "fi" => Algorithm::Finnish,
        "ru" => Algorithm::Russian,
        "ro" => Algorithm::Romanian,
        "hu" => Algorithm::Hungarian,
        "tr" => Algorithm::Turkish,
        "el" => Algorithm::Greek,
        "ar" => Algorithm::Arabic,
        "ta" => Algorithm::Tamil,
        _ => return None,
    };
    Some(Stemmer::create(algorithm))
}

/// The words of `text` with their byte ranges: runs of letters and digits.
fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(move |word| (word.as_ptr() as usize - text.as_ptr() as usize, word))
}

/// The index term of a word, if it is one: lowercased, not a stop word,
/// stemmed.
fn term(word: &str, stemmer: Option<&Stemmer>) -> Option<String> {
    if word.chars().count() < 2 {
        return None;
    }
    let lower = word.to_lowercase();
    if STOP_WORDS.contains(&lower.as_str()) {
        return None;
    }
    Some(match stemmer {
        Some(stemmer) => stemmer.stem(&lower).into_owned(),
        None => lower,
    })
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

/// The outcome of a search: one page of documents, how many match in all,
/// and the terms matched (for [`SearchIndex::snippet`]).
#[derive(Debug)]
pub struct Found {
    pub ranked: Vec<Ranked>,
    pub total: usize,
    marked: Vec<u32>,
}

/// What is gathered while documents are added, then dropped.
#[derive(Default)]
struct Building {
    counts: HashMap<String, u16>,
    surface: HashMap<String, u32>,
    seen_words: Vec<(String, String)>,
    last_doc: Vec<u32>,
    total_len: u64,
}

impl SearchIndex {
    /// Indexes `articles` (in every language), their titles and every
    /// part; a hit names an article by its place in this order.
    pub fn build<A: Borrow<Article>>(articles: impl IntoIterator<Item = A>) -> Self {
        let mut index = Self::default();
        let mut building = Building::default();
        for (article_index, article) in articles.into_iter().enumerate() {
            let article = article.borrow();
            if !index.languages.contains(&article.lang) {
                index.languages.push(article.lang.clone());
            }
            let stemmer = stemmer(&article.lang);
            let mut add = |kind: HitType, item: usize, title: &str, body: &str| {
                index.add(
                    &mut building,
                    stemmer.as_ref(),
                    (article_index, kind, item),
                    title,
                    body,
                );
            };
            add(HitType::Article, 0, &article.title, "");
            for (i, section) in article.prose().enumerate() {
                add(HitType::Section, i, section.title(), section.text());
            }
            for (i, part) in article.benefits.items.iter().enumerate() {
                add(HitType::Benefit, i, part.title(), part.text());
            }
            for (i, part) in article.precautions.items.iter().enumerate() {
                add(HitType::Precaution, i, part.title(), part.text());
            }
            for (i, part) in article.faqs.items.iter().enumerate() {
                add(HitType::Faq, i, part.title(), part.text());
            }
        }
        index
            .postings
            .iter_mut()
            .for_each(|list| list.shrink_to_fit());
        index.surface = building
            .surface
            .into_iter()
            .map(|(word, term)| (word.into_boxed_str(), term))
            .collect();
        index.avg_len = if index.docs.is_empty() {
            1.0
        } else {
            (building.total_len as f32 / index.docs.len() as f32).max(1.0)
        };
        index
    }

    /// Adds one document: a title (weighing twice) and a body.
    fn add(
        &mut self,
        building: &mut Building,
        stemmer: Option<&Stemmer>,
        (article, kind, item): (usize, HitType, usize),
        title: &str,
        body: &str,
    ) {
        let Building {
            counts,
            surface,
            seen_words,
            last_doc,
            total_len,
        } = building;
        counts.clear();
        let mut len: usize = 0;
        seen_words.clear();
        for (weight, text) in [(2, title), (1, body)] {
            for (_, word) in words(text) {
                if let Some(term) = term(word, stemmer) {
                    if word.len() >= TYPO_MIN_CHARS {
                        let lower = word.to_lowercase();
                        if !surface.contains_key(&lower) {
                            seen_words.push((lower, term.clone()));
                        }
                    }
                    *counts.entry(term).or_default() += weight;
                    len += usize::from(weight);
                }
            }
        }
        let doc = u32::try_from(self.docs.len()).expect("fewer than 4 billion documents");
        self.docs.push(Doc {
            entry: u32::try_from(article).unwrap_or(u32::MAX),
            kind,
            item: u16::try_from(item).unwrap_or(u16::MAX),
            len: u16::try_from(len).unwrap_or(u16::MAX),
        });
        *total_len += len as u64;
        for (term, &tf) in counts.iter() {
            let id = match self.terms.get(term.as_str()) {
                Some(&id) => id,
                None => {
                    let id = u32::try_from(self.postings.len()).unwrap_or(u32::MAX);
                    self.terms.insert(term.as_str().into(), id);
                    self.postings.push(Vec::new());
                    self.doc_freq.push(0);
                    last_doc.push(0);
                    id
                }
            };
            let id = id as usize;
            let list = &mut self.postings[id];
            let delta = doc - last_doc[id];
            last_doc[id] = doc;
            push_varint(list, delta);
            list.push(u8::try_from(tf).unwrap_or(u8::MAX));
            self.doc_freq[id] += 1;
        }
        for (word, term) in seen_words.drain(..) {
            surface
                .entry(word)
                .or_insert_with(|| self.terms[term.as_str()]);
        }
    }

    /// The query's terms and their weights: each word's stem in every
    /// language of the content, or, for a longer word not in the index,
    /// the indexed terms one edit away.
    fn query_terms(&self, query: &str) -> Vec<(u32, f32)> {
        let stemmers: Vec<Option<Stemmer>> = self.languages.iter().map(stemmer).collect();
        let mut terms: Vec<(u32, f32)> = Vec::new();
        let mut add = |id: u32, weight: f32| match terms.iter_mut().find(|(t, _)| *t == id) {
            Some((_, w)) => *w = w.max(weight),
            None => terms.push((id, weight)),
        };
        for (_, word) in words(query) {
            let candidates: Vec<String> = stemmers
                .iter()
                .filter_map(|stemmer| term(word, stemmer.as_ref()))
                .collect();
            let mut found = false;
            for candidate in &candidates {
                if let Some(&id) = self.terms.get(candidate.as_str()) {
                    add(id, 1.0);
                    found = true;
                }
            }
            if found || word.chars().count() < TYPO_MIN_CHARS {
                continue;
            }
            let lower = word.to_lowercase();
            for (known, id) in &self.surface {
                if one_edit_apart(&lower, known) {
                    add(*id, TYPO_WEIGHT);
                }
            }
        }
        terms
    }

    /// The bytes the index holds on the heap (roughly: the tables' contents).
    pub fn heap_bytes(&self) -> usize {
        let postings: usize = self.postings.iter().map(Vec::capacity).sum();
        let surface: usize = self.surface.iter().map(|(word, _)| word.len() + 24).sum();
        postings
            + self.postings.capacity() * 24
            + self.docs.capacity() * std::mem::size_of::<Doc>()
            + self.doc_freq.capacity() * 4
            + self.terms.capacity() * 28
            + surface
    }

    /// How many documents (article titles and parts) are indexed.
    pub fn documents(&self) -> usize {
        self.docs.len()
    }

    /// Ranks the documents that match `search`: one page, and how many match.
    pub fn search(&self, search: &Search<'_>) -> Found {
        let terms = self.query_terms(search.query);
        let mut scores = vec![0f32; self.docs.len()];
        let mut matched: Vec<u32> = Vec::new();
        let n = self.docs.len() as f32;
        for &(term, weight) in &terms {
            let df = self.doc_freq[term as usize] as f32;
            let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln() * weight;
            let mut doc = 0u32;
            let mut bytes = self.postings[term as usize].as_slice();
            while let Some((delta, rest)) = read_varint(bytes) {
                doc += delta;
                let (&tf, rest) = rest.split_first().expect("a frequency follows each doc");
                bytes = rest;
                let info = self.docs[doc as usize];
                if search.kind.is_some_and(|kind| kind != info.kind) {
                    continue;
                }
                let tf = f32::from(tf);
                let norm = K1 * (1.0 - B + B * f32::from(info.len) / self.avg_len);
                let slot = &mut scores[doc as usize];
                if *slot == 0.0 {
                    matched.push(doc);
                }
                *slot += idf * tf * (K1 + 1.0) / (tf + norm);
            }
        }
        let total = matched.len();
        let by_rank = |a: &u32, b: &u32| {
            scores[*b as usize]
                .total_cmp(&scores[*a as usize])
                .then(a.cmp(b))
        };
        let end = (search.offset + search.limit).min(total);
        let marked: Vec<u32> = terms.iter().map(|&(term, _)| term).collect();
        if search.offset >= total {
            return Found {
                ranked: Vec::new(),
                total,
                marked,
            };
        }
        if end < total {
            matched.select_nth_unstable_by(end, by_rank);
            matched.truncate(end);
        }
        matched.sort_unstable_by(by_rank);
        let ranked = matched[search.offset..end]
            .iter()
            .map(|&doc| {
                let info = self.docs[doc as usize];
                Ranked {
                    article: info.entry as usize,
                    kind: info.kind,
                    item: usize::from(info.item),
                    score: (scores[doc as usize] * 1000.0).round() / 1000.0,
                }
            })
            .collect();
        Found {
            ranked,
            total,
            marked,
        }
    }

    /// A passage of `text` (in `lang`) around the first of the words
    /// `found` matched, HTML-escaped, matched words in `<mark>`.
    pub fn snippet(&self, found: &Found, lang: &Lang, text: &str) -> String {
        let stemmer = stemmer(lang);
        let is_marked = |word: &str| {
            term(word, stemmer.as_ref())
                .and_then(|term| self.terms.get(term.as_str()))
                .is_some_and(|id| found.marked.contains(id))
        };
        snippet(text, is_marked)
    }
}

/// Words of context around the first match.
const SNIPPET_BEFORE: usize = 8;
const SNIPPET_WORDS: usize = 32;

/// A passage of `text` around its first marked word, HTML-escaped, with
/// marked words in `<mark>`.
fn snippet(text: &str, is_marked: impl Fn(&str) -> bool) -> String {
    let words: Vec<(usize, &str)> = words(text).collect();
    let first = words
        .iter()
        .position(|(_, word)| is_marked(word))
        .unwrap_or(0);
    let start_word = first.saturating_sub(SNIPPET_BEFORE);
    let end_word = (start_word + SNIPPET_WORDS).min(words.len());
    let start = if start_word == 0 {
        0
    } else {
        words[start_word].0
    };
    let end = if end_word >= words.len() {
        text.len()
    } else {
        words[end_word].0
    };
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    let mut at = start;
    for &(offset, word) in &words[start_word..end_word] {
        escape_into(&mut out, &text[at..offset]);
        if is_marked(word) {
            out.push_str("<mark>");
            escape_into(&mut out, word);
            out.push_str("</mark>");
        } else {
            escape_into(&mut out, word);
        }
        at = offset + word.len();
    }
    escape_into(&mut out, text[at..end].trim_end());
    if end < text.len() {
        out.push('…');
    }
    out
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
}

/// Whether `a` becomes `b` by one insertion, deletion, substitution or
/// swap of neighbours (Damerau-Levenshtein distance 1).
fn one_edit_apart(a: &str, b: &str) -> bool {
    if a == b || a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[prefix..], &b[prefix..]);
    match a.len().cmp(&b.len()) {
        std::cmp::Ordering::Equal => {
            a[1..] == b[1..] || (a.len() >= 2 && a[0] == b[1] && a[1] == b[0] && a[2..] == b[2..])
        }
        std::cmp::Ordering::Less => a == &b[1..],
        std::cmp::Ordering::Greater => &a[1..] == b,
    }
}

fn push_varint(out: &mut Vec<u8>, mut value: u32) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn read_varint(bytes: &[u8]) -> Option<(u32, &[u8])> {
    let mut value = 0u32;
    for (i, &byte) in bytes.iter().enumerate().take(5) {
        value |= u32::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, &bytes[i + 1..]));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn english() -> Option<Stemmer> {
        stemmer(&Lang::default())
    }

    #[test]
    fn inflections_share_a_stem() {
        let stem = |word| term(word, english().as_ref()).unwrap();
        assert_eq!(stem("massages"), stem("massage"));
        assert_eq!(stem("relaxing"), stem("relaxation"));
        assert_eq!(term("the", english().as_ref()), None);
    }

    #[test]
    fn one_edit_is_a_typo_two_are_not() {
        assert!(one_edit_apart("masage", "massage"));
        assert!(one_edit_apart("massgae", "massage"));
        assert!(one_edit_apart("massagy", "massage"));
        assert!(!one_edit_apart("msage", "massage"));
        assert!(!one_edit_apart("massage", "massage"));
    }

    #[test]
    fn snippets_escape_the_text_and_mark_matches() {
        let text = "Pain <b> & relief: massage helps";
        let out = snippet(text, |word| word == "massage");
        assert_eq!(
            out,
            "Pain &lt;b&gt; &amp; relief: <mark>massage</mark> helps"
        );
    }

    #[test]
    fn varints_round_trip() {
        let mut bytes = Vec::new();
        for value in [0, 1, 127, 128, 300, u32::MAX] {
            push_varint(&mut bytes, value);
        }
        let mut rest = bytes.as_slice();
        for value in [0, 1, 127, 128, 300, u32::MAX] {
            let (read, next) = read_varint(rest).unwrap();
            assert_eq!(read, value);
            rest = next;
        }
    }
}
