//! The index, on tantivy, held in memory. One document per article title
//! and per part (section, benefit, precaution, FAQ), with its place in the
//! content as fast fields.
//!
//! Text is analysed per language: split on anything not a letter or
//! digit, lowercased, stop words dropped, and each word reduced to its
//! Snowball stem in the language of its article, so "massages" finds
//! "massage" and "relaxing" finds "relaxation". Each language has its own
//! fields (title, body) with its own analyser, and a query is analysed in
//! every language of the content. A title weighs twice its body. A query
//! word of five letters or more that is in no text matches, at half the
//! weight, the words written one edit away (a typo): the Levenshtein
//! automaton of tantivy's `FuzzyTermQuery` walks an FST of the content's
//! words as written (five letters or more), and each word found is searched
//! as its stem. Snippets are passages chosen as tantivy's
//! `SnippetGenerator` chooses them (a test holds the two together), widened
//! to their sentence's start and closing stop, the matched words in
//! `<mark>` and the rest escaped.
//!
//! Titles and bodies keep their words' positions: a phrase to find or to
//! leave out (see [`Query`](super::Query)) is matched by tantivy's
//! `PhraseQuery`, as a set of documents the count and the ranking keep to
//! or pass by. A word of a phrase is forgiven a typo as a plain word is,
//! the phrase then searched in each of its readings.
//!
//! Two things are made once and kept, because a search would otherwise
//! redo them for every hit: each stem's written forms (a snippet finds the
//! query's words by their forms, without stemming every word of every
//! hit's text again) and each term's documents as bits (the total is the
//! count of a union of bits, where tantivy's union scores every match, and
//! the ranking reads a long list only for the documents the bits say it has).

use std::{
    borrow::Borrow,
    collections::{BTreeSet, HashMap},
    sync::{Arc, Mutex},
};

use tantivy::{
    DocAddress, DocSet, Index, IndexReader, ReloadPolicy, Searcher, SegmentReader, TERMINATED,
    TantivyDocument, Term,
    columnar::Column,
    query::{Bm25Weight, EnableScoring, FuzzyTermQuery, PhraseQuery, Query as _},
    schema::{
        FAST, Field, INDEXED, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions,
    },
    tokenizer::{
        Language, LowerCaser, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer, TokenStream,
    },
};

use super::bits;
use super::rank::{self, Allowed, Maxima, Sets};
use super::snippet::{Form, Marker, PhraseReading, beginning};
use super::{HitType, Ranked, Search};
use crate::content::{Article, Lang, Part};

/// How much a title counts against its body.
const TITLE_BOOST: f32 = 2.0;
/// How much a typo match counts against an exact one.
const TYPO_WEIGHT: f32 = 0.5;
/// Shorter query words must match exactly: one edit in a short word is
/// too often another word.
const TYPO_MIN_CHARS: usize = 5;
/// The memory kept for terms' documents as bits and their maxima (see
/// [`DocSets`]): at 200,000 documents, 25 KB a term, so some 640 terms.
const DOC_SETS_BYTES: usize = 16 << 20;
/// The indexer's memory: enough that 10,000 articles, their words'
/// positions with them, make one segment. At 32 MB they made two, merged
/// into a third: 3.0-3.8 s and a higher peak, against 2.5-2.8 s for one
/// (bench/README.md). The arena grows as it is used, so a small content
/// set takes no more for it.
const WRITER_BUDGET_BYTES: usize = 64 << 20;

/// English function words, too common to tell documents apart.
pub(super) const STOP_WORDS: &[&str] = &[
    "a", "about", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "do", "does",
    "for", "from", "has", "have", "how", "if", "in", "into", "is", "it", "its", "may", "of", "on",
    "or", "our", "so", "such", "than", "that", "the", "their", "them", "then", "there", "these",
    "they", "this", "those", "to", "was", "we", "were", "what", "when", "which", "while", "who",
    "will", "with", "you", "your",
];

/// The search index of a content set.
pub struct SearchIndex {
    reader: IndexReader,
    fields: Fields,
    /// Each segment's fast fields (article, kind, item), opened once: a
    /// hit is read from them.
    columns: Vec<[Column<u64>; 3]>,
    /// Words as written: an analyser made once and cloned per search.
    splitter: TextAnalyzer,
    documents: usize,
    doc_sets: DocSets,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("documents", &self.documents)
            .finish_non_exhaustive()
    }
}

/// The index failed to build or to answer (tantivy's error, which says why).
#[derive(Debug, thiserror::Error)]
#[error("the search index failed: {0}")]
pub struct SearchError(#[from] tantivy::TantivyError);

/// The schema's fields.
struct Fields {
    article: Field,
    kind: Field,
    item: Field,
    lang: Field,
    /// One set per language of the content (by primary language: `pt` and
    /// `pt-BR` stem alike).
    languages: Vec<LanguageFields>,
}

struct LanguageFields {
    primary: String,
    title: Field,
    body: Field,
    /// Every word of five letters or more as written (lowercased), in an
    /// FST: the dictionary a typo is looked up in.
    words: tantivy_fst::Map<Vec<u8>>,
    /// Each stem and the words written in the content that have it.
    forms: HashMap<String, Box<[String]>>,
    analyzer: TextAnalyzer,
}

/// What a search found: one page, how many match in all, and what is
/// needed to mark the matched words in snippets.
pub struct Found {
    pub ranked: Vec<Ranked>,
    pub total: usize,
    /// Per language of the content: the snippet makers of its title and
    /// its body, made on first use.
    snippets: Vec<std::sync::OnceLock<[Marker; 2]>>,
    /// The terms searched, and their weights.
    clauses: Vec<(Term, f32)>,
    /// The phrases a hit must have, as read: snippets mark them whole.
    phrases: Vec<ReadPhrase>,
    searcher: Searcher,
}

impl HitType {
    fn code(self) -> u64 {
        match self {
            Self::Article => 0,
            Self::Section => 1,
            Self::Benefit => 2,
            Self::Precaution => 3,
            Self::Faq => 4,
        }
    }

    fn from_code(code: u64) -> Self {
        Self::ALL
            .into_iter()
            .find(|kind| kind.code() == code)
            .unwrap_or(Self::Article)
    }
}

/// The Snowball stemmer of a language, if there is one.
fn language(primary: &str) -> Option<Language> {
    Some(match primary {
        "en" => Language::English,
        "es" => Language::Spanish,
        "fr" => Language::French,
        "de" => Language::German,
        "it" => Language::Italian,
        "pt" => Language::Portuguese,
        "nl" => Language::Dutch,
        "sv" => Language::Swedish,
        "da" => Language::Danish,
        "no" | "nb" | "nn" => Language::Norwegian,
        "fi" => Language::Finnish,
        "ru" => Language::Russian,
        "ro" => Language::Romanian,
        "hu" => Language::Hungarian,
        "tr" => Language::Turkish,
        "el" => Language::Greek,
        "ar" => Language::Arabic,
        "ta" => Language::Tamil,
        _ => return None,
    })
}

/// Words as written: split and lowercased.
fn words_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(LowerCaser)
        .build()
}

/// The analyser of a language: split, lowercased, stop words dropped, stemmed.
fn stemming_analyzer(primary: &str) -> TextAnalyzer {
    let builder = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(LowerCaser)
        .filter(StopWordFilter::remove(
            STOP_WORDS.iter().map(|word| (*word).to_owned()),
        ))
        .dynamic();
    match language(primary) {
        Some(language) => builder.filter_dynamic(Stemmer::new(language)).build(),
        None => builder.build(),
    }
}

/// Whether `word`, lowercased, is one of [`STOP_WORDS`], which the
/// stemming analyser drops.
#[inline]
pub(super) fn is_stop_word(word: &str) -> bool {
    // A word longer than every stop word needs no hashing: a snippet asks
    // this of every word of twenty hits' texts.
    const LONGEST: usize = {
        let (mut longest, mut at) = (0, 0);
        while at < STOP_WORDS.len() {
            if STOP_WORDS[at].len() > longest {
                longest = STOP_WORDS[at].len();
            }
            at += 1;
        }
        longest
    };
    static SET: std::sync::LazyLock<rustc_hash::FxHashSet<&str>> =
        std::sync::LazyLock::new(|| STOP_WORDS.iter().copied().collect());
    word.len() <= LONGEST && SET.contains(word)
}

/// A document's place in the order it is indexed in (see
/// [`SearchIndex::build`]): compared field by field, lengths first, then
/// content order.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Place {
    body_words: usize,
    title_words: usize,
    /// The article, by its place in the order the index was given them.
    article: usize,
    kind: HitType,
    /// The part, by its place in the article's list of that kind.
    item: usize,
}

/// The documents of `article` in content order, as (kind, place in the
/// article's list of that kind, title, body): its title, then each part.
fn documents_of(article: &Article) -> impl Iterator<Item = (HitType, usize, &str, &str)> {
    fn each<'a, P: Part + 'a>(
        kind: HitType,
        parts: impl IntoIterator<Item = &'a P>,
    ) -> impl Iterator<Item = (HitType, usize, &'a str, &'a str)> {
        parts
            .into_iter()
            .enumerate()
            .map(move |(i, part)| (kind, i, part.title(), part.text()))
    }
    std::iter::once((HitType::Article, 0, article.title.as_str(), ""))
        .chain(each(HitType::Section, article.prose()))
        .chain(each(HitType::Benefit, &article.benefits.items))
        .chain(each(HitType::Precaution, &article.precautions.items))
        .chain(each(HitType::Faq, &article.faqs.items))
}

/// The words `analyzer` keeps of `text`, each at its place in it (a stop
/// word dropped keeps its place, so that in a phrase it stands for any).
fn placed(analyzer: &TextAnalyzer, text: &str) -> Vec<(usize, String)> {
    let mut analyzer = analyzer.clone();
    let mut stream = analyzer.token_stream(text);
    let mut words = Vec::new();
    while stream.advance() {
        let token = stream.token();
        words.push((token.position, token.text.clone()));
    }
    words
}

/// One way to read a phrase: its stems, each at its place after the first.
type Reading = Box<[(usize, String)]>;

/// A phrase of a search, read in each language of the content: its
/// readings there, or `None` where it is only stop words.
type ReadPhrase = Vec<Option<Vec<Reading>>>;

/// The most readings the typos in a search's phrases may add, together,
/// beyond one for each phrase in each language. Each reading is a set of
/// documents made for it (about 50 ms at 10,000 articles for a common
/// phrase, the first time): typos multiply readings, and without a bound
/// one `q` could ask for hundreds.
const MAX_TYPO_READINGS: usize = 8;

/// The tokens `analyzer` makes of `text`.
fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

impl SearchIndex {
    /// Indexes `articles`, held in memory (in every one of `languages`):
    /// their titles and every part; a hit names an article by its place in
    /// this order.
    pub fn of<'l, A: Borrow<Article>>(
        languages: impl IntoIterator<Item = &'l Lang>,
        articles: &[A],
    ) -> Result<Self, SearchError> {
        Self::build(
            languages,
            articles.iter().map(A::borrow),
            |article, kind, item| {
                documents_of(articles.get(article)?.borrow())
                    .find(|document| (document.0, document.1) == (kind, item))
                    .map(|(_, _, title, body)| (title, body))
            },
        )
    }

    /// Indexes `articles` (in every one of `languages`), their titles and
    /// every part, reading each article once and not keeping it; a hit
    /// names an article by its place in this order. The documents are then
    /// indexed in another order (see below), each read again through
    /// `texts(article, kind, item)`: its title and body (an article's own
    /// document: its title, and no body).
    pub fn build<'l, A: Borrow<Article>, T: AsRef<str>>(
        languages: impl IntoIterator<Item = &'l Lang>,
        articles: impl IntoIterator<Item = A>,
        texts: impl Fn(usize, HitType, usize) -> Option<(T, T)>,
    ) -> Result<Self, SearchError> {
        let primaries: BTreeSet<String> = languages
            .into_iter()
            .map(|lang| lang.primary().to_owned())
            .collect();
        let mut schema = Schema::builder();
        let article = schema.add_u64_field("article", FAST);
        let kind = schema.add_u64_field("kind", FAST | INDEXED);
        let item = schema.add_u64_field("item", FAST);
        let lang = schema.add_text_field("lang", STRING);
        let text = |analyzer: &str, record: IndexRecordOption| {
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(analyzer)
                    .set_index_option(record),
            )
        };
        let mut languages = Vec::new();
        for primary in primaries {
            let name = format!("stem_{primary}");
            languages.push(LanguageFields {
                words: tantivy_fst::Map::from_iter(std::iter::empty::<(&str, u64)>())
                    .map_err(|e| tantivy::TantivyError::InternalError(e.to_string()))?,
                forms: HashMap::new(),
                title: schema.add_text_field(
                    &format!("title_{primary}"),
                    text(&name, IndexRecordOption::WithFreqsAndPositions),
                ),
                body: schema.add_text_field(
                    &format!("body_{primary}"),
                    text(&name, IndexRecordOption::WithFreqsAndPositions),
                ),
                analyzer: stemming_analyzer(&primary),
                primary,
            });
        }
        let fields = Fields {
            article,
            kind,
            item,
            lang,
            languages,
        };
        let index = Index::create_in_ram(schema.build());
        for language in &fields.languages {
            index.tokenizers().register(
                &format!("stem_{}", language.primary),
                language.analyzer.clone(),
            );
        }
        // Documents are added shortest first: by the words of their body,
        // then of their title, in content order among equals. BM25 ranks
        // short texts higher, so every term's best documents come early in
        // its postings, the page's threshold rises soon, and the ranking
        // (`rank.rs`) skips more of what follows (0.5-0.6x the time of
        // content order on the benchmark's corpus, measured with tantivy's
        // block-max WAND, bench/README.md). One thread, so that
        // documents get ids in the order they are added and equal scores
        // rank in that order, whatever the machine.
        let mut writer =
            index.writer_with_num_threads::<TantivyDocument>(1, WRITER_BUDGET_BYTES)?;
        let mut written: Vec<BTreeSet<String>> = vec![BTreeSet::new(); fields.languages.len()];
        let mut splitter = words_analyzer();
        // Each article's language: its tag, and its fields' place in
        // `fields.languages`.
        let mut langs = Vec::new();
        let mut order = Vec::new();
        for (position, article) in articles.into_iter().enumerate() {
            let article = article.borrow();
            let at = fields
                .languages
                .iter()
                .position(|language| language.primary == article.lang.primary());
            langs.push(at.map(|at| (article.lang.clone(), at)));
            let Some(at) = at else {
                continue;
            };
            let words = &mut written[at];
            for (kind, item, title, body) in documents_of(article) {
                let [title_words, body_words] = [title, body].map(|text| {
                    let mut count = 0;
                    let mut stream = splitter.token_stream(text);
                    while stream.advance() {
                        count += 1;
                        let word = &stream.token().text;
                        if !words.contains(word) {
                            words.insert(word.clone());
                        }
                    }
                    count
                });
                order.push(Place {
                    body_words,
                    title_words,
                    article: position,
                    kind,
                    item,
                });
            }
        }
        // Every place is distinct, and its last fields are in content order.
        order.sort_unstable();
        let mut documents = 0;
        for place in order {
            let (Some((title, body)), Some(Some((lang, at)))) = (
                texts(place.article, place.kind, place.item),
                langs.get(place.article),
            ) else {
                continue;
            };
            let language = &fields.languages[*at];
            let mut document = TantivyDocument::default();
            document.add_u64(fields.article, place.article as u64);
            document.add_u64(fields.kind, place.kind.code());
            document.add_u64(fields.item, place.item as u64);
            document.add_text(fields.lang, lang.as_str());
            document.add_text(language.title, title.as_ref());
            document.add_text(language.body, body.as_ref());
            writer.add_document(document)?;
            documents += 1;
        }
        writer.commit()?;
        let segments = index.searchable_segment_ids()?;
        if segments.len() > 1 {
            writer.merge(&segments).wait()?;
        }
        writer.wait_merging_threads()?;
        let mut fields = fields;
        for (language, words) in fields.languages.iter_mut().zip(written) {
            let mut forms: HashMap<String, Vec<String>> = HashMap::new();
            for word in &words {
                for stem in tokens(&mut language.analyzer, word) {
                    forms.entry(stem).or_default().push(word.clone());
                }
            }
            language.forms = forms
                .into_iter()
                .map(|(stem, forms)| (stem, forms.into_boxed_slice()))
                .collect();
            let long = words
                .into_iter()
                .filter(|word| word.chars().count() >= TYPO_MIN_CHARS);
            language.words = tantivy_fst::Map::from_iter(long.map(|word| (word, 0)))
                .map_err(|e| tantivy::TantivyError::InternalError(e.to_string()))?;
        }
        let reader: IndexReader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        // The reader is never reloaded, so segments keep their places.
        let columns = reader
            .searcher()
            .segment_readers()
            .iter()
            .map(|segment| {
                let fast = segment.fast_fields();
                Ok([fast.u64("article")?, fast.u64("kind")?, fast.u64("item")?])
            })
            .collect::<Result<_, tantivy::TantivyError>>()?;
        Ok(Self {
            reader,
            fields,
            columns,
            splitter,
            documents,
            doc_sets: DocSets::default(),
        })
    }

    /// How many documents (article titles and parts) are indexed.
    pub fn documents(&self) -> usize {
        self.documents
    }

    /// The terms to search for `words`, with their weights, in every
    /// language of the content: each word's stem in the title (boosted) and
    /// the body; for a longer word found in no text, the words one edit
    /// away, at half the weight, unless it is a stop word, which asks for
    /// nothing (`there` is not a typo of `three`). Only terms some document
    /// has: one in none adds nothing to the count, the ranking or a
    /// snippet, and left out it costs none of them (each language's fields
    /// have a term per word).
    fn text_terms(
        &self,
        searcher: &Searcher,
        words: &str,
    ) -> Result<Vec<(Term, f32)>, SearchError> {
        let mut clauses = Vec::new();
        let written = tokens(&mut self.splitter.clone(), words);
        for word in &written {
            let mut stems = Vec::new();
            for language in &self.fields.languages {
                for stem in tokens(&mut language.analyzer.clone(), word) {
                    stems.push((language, stem));
                }
            }
            let mut found = present(searcher, stems, 1.0)?;
            if found.is_empty() && word.chars().count() >= TYPO_MIN_CHARS && !is_stop_word(word) {
                found = present(searcher, self.one_edit_away(word)?, TYPO_WEIGHT)?;
            }
            clauses.extend(found);
        }
        Ok(clauses)
    }

    /// The stems of the words written one edit from `word` (a typo), in
    /// each language, by a Levenshtein automaton over the written words.
    fn one_edit_away<'a>(
        &'a self,
        word: &str,
    ) -> Result<Vec<(&'a LanguageFields, String)>, SearchError> {
        let mut stems = Vec::new();
        for language in &self.fields.languages {
            let near = one_edit_away_in(language, word)?;
            stems.extend(near.into_iter().map(|stem| (language, stem)));
        }
        Ok(stems)
    }

    /// The ways to read `phrase` in `language`: its stems, each at its
    /// place after the first; where a word of five letters or more is in
    /// no title or text of the language (a typo, forgiven as a plain
    /// word's is), each stem one edit from it that some document has, in
    /// its place. At most `1 + *extra`, taking from `extra` those beyond
    /// one; none when a word is in no document and nothing near it is;
    /// `None` when the phrase is only stop words, which ask for nothing.
    fn phrase_readings(
        &self,
        searcher: &Searcher,
        language: &LanguageFields,
        phrase: &str,
        extra: &mut usize,
    ) -> Result<Option<Vec<Reading>>, SearchError> {
        let stems = placed(&language.analyzer, phrase);
        let Some(&(first, _)) = stems.first() else {
            return Ok(None);
        };
        let written = placed(&self.splitter, phrase);
        let has = |stem: &str| -> Result<bool, SearchError> {
            for field in [language.title, language.body] {
                if searcher.doc_freq(&Term::from_field_text(field, stem))? > 0 {
                    return Ok(true);
                }
            }
            Ok(false)
        };
        let mut readings: Vec<Vec<(usize, String)>> = vec![Vec::new()];
        for (at, stem) in stems {
            let mut choices = Vec::new();
            if has(&stem)? {
                choices.push(stem);
            } else if let Some((_, word)) = written.iter().find(|(place, _)| *place == at)
                && word.chars().count() >= TYPO_MIN_CHARS
            {
                for near in one_edit_away_in(language, word)? {
                    if !choices.contains(&near) && has(&near)? {
                        choices.push(near);
                    }
                }
            }
            readings = readings
                .iter()
                .flat_map(|reading| {
                    choices.iter().map(move |choice| {
                        let mut longer = reading.clone();
                        longer.push((at - first, choice.clone()));
                        longer
                    })
                })
                .take(1 + *extra)
                .collect();
        }
        *extra -= readings.len().saturating_sub(1);
        Ok(Some(
            readings.into_iter().map(Vec::into_boxed_slice).collect(),
        ))
    }

    /// Each of `phrases` read in each language, the readings its typos add
    /// taken from `extra`.
    fn read_phrases(
        &self,
        searcher: &Searcher,
        phrases: &[String],
        extra: &mut usize,
    ) -> Result<Vec<ReadPhrase>, SearchError> {
        let mut read = Vec::with_capacity(phrases.len());
        for phrase in phrases {
            let mut languages = Vec::with_capacity(self.fields.languages.len());
            for language in &self.fields.languages {
                languages.push(self.phrase_readings(searcher, language, phrase, extra)?);
            }
            read.push(languages);
        }
        Ok(read)
    }

    /// Ranks the documents that match `search`: one page, and how many match.
    pub fn search(&self, search: &Search<'_>) -> Result<Found, SearchError> {
        let searcher = self.reader.searcher();
        let clauses = self.text_terms(&searcher, search.query.ranked())?;
        let mut filters = Vec::new();
        if let Some(kind) = search.kind {
            filters.push(Term::from_field_u64(self.fields.kind, kind.code()));
        }
        if let Some(lang) = search.lang {
            filters.push(Term::from_field_text(self.fields.lang, lang.as_str()));
        }
        let mut extra = MAX_TYPO_READINGS;
        let required = self.read_phrases(&searcher, search.query.required(), &mut extra)?;
        let excluded = self.read_phrases(&searcher, search.query.excluded(), &mut extra)?;
        let allowed = self.allowed(&searcher, &filters, &required, &excluded)?;
        let sets = self.sets(&searcher, &clauses)?;
        let total = count(&searcher, &sets, &allowed);
        // Counted first: an offset past the matches (up to 2^31 - 1 is
        // valid) must not become the size of the page to rank.
        let top = if search.offset >= total {
            Vec::new()
        } else {
            rank::top(
                &searcher,
                &clauses,
                &sets,
                &self.maxima(&searcher, &clauses)?,
                &allowed,
                search.offset + search.limit.max(1),
            )?
        };
        let ranked = top
            .into_iter()
            .skip(search.offset)
            .take(search.limit)
            .map(|(score, address)| self.ranked(score, address))
            .collect();
        Ok(Found {
            ranked,
            total,
            snippets: self
                .fields
                .languages
                .iter()
                .map(|_| std::sync::OnceLock::new())
                .collect(),
            clauses,
            phrases: required,
            searcher,
        })
    }

    /// Each segment's documents that have all of `filters`, every phrase
    /// `required` and none `excluded`, as bits; none when nothing is
    /// filtered.
    fn allowed(
        &self,
        searcher: &Searcher,
        filters: &[Term],
        required: &[ReadPhrase],
        excluded: &[ReadPhrase],
    ) -> Result<Allowed, SearchError> {
        let phrases = |phrases: &[ReadPhrase]| -> Result<Vec<Vec<Arc<[u64]>>>, SearchError> {
            let mut sets = Vec::new();
            for phrase in phrases {
                sets.extend(self.phrase_sets(searcher, phrase)?);
            }
            Ok(sets)
        };
        let (required, excluded) = (phrases(required)?, phrases(excluded)?);
        searcher
            .segment_readers()
            .iter()
            .enumerate()
            .map(|(ord, segment)| {
                let filters = filters
                    .iter()
                    .map(|term| self.doc_sets.get(ord, segment, term))
                    .collect::<Result<Vec<_>, _>>()?;
                let sets = filters.iter().chain(required.iter().map(|sets| &sets[ord]));
                let sets = sets.map(|set| (set, false));
                let sets = sets.chain(excluded.iter().map(|sets| (&sets[ord], true)));
                let mut bits: Option<Arc<[u64]>> = None;
                for (set, left_out) in sets {
                    bits = Some(match bits {
                        // The first set to keep to is shared as kept, not copied.
                        None if !left_out => Arc::clone(set),
                        bits => {
                            let mut kept = bits.as_deref().map_or_else(
                                || vec![u64::MAX; bit_words(segment)],
                                <[u64]>::to_vec,
                            );
                            for (kept, word) in kept.iter_mut().zip(set.iter()) {
                                *kept &= if left_out { !word } else { *word };
                            }
                            kept.into()
                        }
                    });
                }
                Ok(bits)
            })
            .collect()
    }

    /// Per segment, the documents that have `phrase` in a title or a body
    /// in any of its readings, its words in that order (each in any of its
    /// forms, a stop word between them as any stop word), as bits; none
    /// when the phrase is only stop words, which ask for nothing.
    fn phrase_sets(
        &self,
        searcher: &Searcher,
        phrase: &ReadPhrase,
    ) -> Result<Option<Vec<Arc<[u64]>>>, SearchError> {
        let segments = searcher.segment_readers();
        let mut sets: Vec<Vec<u64>> = segments
            .iter()
            .map(|segment| vec![0; bit_words(segment)])
            .collect();
        let mut any_words = false;
        for (language, readings) in self.fields.languages.iter().zip(phrase) {
            let Some(readings) = readings else {
                continue;
            };
            any_words = true;
            for (stems, field) in readings
                .iter()
                .flat_map(|stems| [(stems, language.title), (stems, language.body)])
            {
                let terms: Vec<(usize, Term)> = stems
                    .iter()
                    .map(|(at, stem)| (*at, Term::from_field_text(field, stem)))
                    .collect();
                // A term no document has: no document has the phrase.
                let mut present = true;
                for (_, term) in &terms {
                    present &= searcher.doc_freq(term)? > 0;
                }
                if !present {
                    continue;
                }
                for (ord, segment) in segments.iter().enumerate() {
                    let set = match terms.as_slice() {
                        // One word: its kept set, with no positions to read.
                        [(_, term)] => self.doc_sets.get(ord, segment, term)?,
                        _ => self.doc_sets.phrase(ord, searcher, segment, &terms)?,
                    };
                    for (bits, word) in sets[ord].iter_mut().zip(set.iter()) {
                        *bits |= word;
                    }
                }
            }
        }
        Ok(any_words.then(|| sets.into_iter().map(Arc::from).collect()))
    }

    /// Per segment, each of `clauses`' documents as bits, in their order.
    fn sets(&self, searcher: &Searcher, clauses: &[(Term, f32)]) -> Result<Sets, SearchError> {
        per_clause(searcher, clauses, |ord, segment, term| {
            self.doc_sets.get(ord, segment, term)
        })
    }

    /// Per segment, the most each of `clauses`' terms scores in each
    /// window of the ranking, in their order.
    fn maxima(&self, searcher: &Searcher, clauses: &[(Term, f32)]) -> Result<Maxima, SearchError> {
        per_clause(searcher, clauses, |ord, segment, term| {
            self.doc_sets.maxima(ord, searcher, segment, term)
        })
    }

    /// The hit at `address`, read from its segment's fast fields.
    fn ranked(&self, score: f32, address: DocAddress) -> Ranked {
        let value = |column: &Column<u64>| column.first(address.doc_id).unwrap_or(0);
        let (article, kind, item) = match self.columns.get(address.segment_ord as usize) {
            Some([article, kind, item]) => (value(article), value(kind), value(item)),
            None => (u64::MAX, 0, u64::MAX),
        };
        Ranked {
            article: usize::try_from(article).unwrap_or(usize::MAX),
            kind: HitType::from_code(kind),
            item: usize::try_from(item).unwrap_or(usize::MAX),
            score: (score * 1000.0).round() / 1000.0,
        }
    }

    /// A passage of `text` (a title when `title`, else a body, in `lang`)
    /// around the words `found` matched, HTML-escaped, the matched words in
    /// `<mark>`; its beginning when none is in it.
    pub fn snippet(&self, found: &Found, lang: &Lang, text: &str, title: bool) -> String {
        let Some(at) = self
            .fields
            .languages
            .iter()
            .position(|language| language.primary == lang.primary())
        else {
            return beginning(text);
        };
        let language = &self.fields.languages[at];
        let generators = found.snippets[at].get_or_init(|| {
            // Each phrase of two words or more, in each of its readings
            // (a typo forgiven, as the index reads it), its stems named by
            // their place in `stems`.
            let mut stems: Vec<String> = Vec::new();
            let mut phrases = Vec::new();
            for (which, phrase) in found.phrases.iter().enumerate() {
                let readings = phrase.get(at).and_then(Option::as_deref);
                let readings = readings.unwrap_or_default();
                for reading in readings.iter().filter(|reading| reading.len() > 1) {
                    let words = reading
                        .iter()
                        .map(|(at, stem)| {
                            let named = stems.iter().position(|known| known == stem);
                            let named = named.unwrap_or_else(|| {
                                stems.push(stem.clone());
                                stems.len() - 1
                            });
                            (*at, u32::try_from(named).unwrap_or(Form::IN_NO_PHRASE))
                        })
                        .collect();
                    phrases.push(PhraseReading {
                        phrase: which,
                        words,
                    });
                }
            }
            [language.title, language.body].map(|field| {
                // What tantivy's `SnippetGenerator::create` weighs each
                // term by, given to the term's written forms.
                let mut forms = rustc_hash::FxHashMap::default();
                for (term, _) in found.clauses.iter().filter(|(t, _)| t.field() == field) {
                    let value = term.value();
                    let Some(stem) = value.as_str() else {
                        continue;
                    };
                    let documents = found.searcher.doc_freq(term).unwrap_or(0);
                    if documents == 0 {
                        continue;
                    }
                    let form = Form {
                        weight: 1.0 / (1.0 + documents as f32),
                        stem: stems
                            .iter()
                            .position(|known| known == stem)
                            .and_then(|named| u32::try_from(named).ok())
                            .unwrap_or(Form::IN_NO_PHRASE),
                    };
                    for written in language.forms.get(stem).into_iter().flatten() {
                        forms.insert(written.clone(), form);
                    }
                }
                Marker::new(forms, phrases.clone())
            })
        });
        generators[usize::from(!title)]
            .mark(text)
            .unwrap_or_else(|| beginning(text))
    }
}

/// The stems of the words written one edit from `word` (a typo) in
/// `language`, by a Levenshtein automaton over its written words.
fn one_edit_away_in(language: &LanguageFields, word: &str) -> Result<Vec<String>, SearchError> {
    use tantivy_fst::{IntoStreamer, Streamer};
    // The term's field only carries the word to the automaton.
    let automaton =
        FuzzyTermQuery::new(Term::from_field_text(language.title, word), 1, true).automaton()?;
    let mut near = BTreeSet::new();
    let mut stream = language.words.search(&automaton).into_stream();
    while let Some((written, _)) = stream.next() {
        if let Ok(written) = std::str::from_utf8(written) {
            near.insert(written.to_owned());
        }
    }
    let mut stems = Vec::new();
    for written in near {
        stems.extend(tokens(&mut language.analyzer.clone(), &written));
    }
    Ok(stems)
}

/// The title and body terms of `stems` that some document has, at
/// `weight` (a title's boosted).
fn present(
    searcher: &Searcher,
    stems: Vec<(&LanguageFields, String)>,
    weight: f32,
) -> Result<Vec<(Term, f32)>, SearchError> {
    let mut clauses = Vec::new();
    for (language, stem) in stems {
        for (field, boost) in [(language.title, TITLE_BOOST), (language.body, 1.0)] {
            let term = Term::from_field_text(field, &stem);
            if searcher.doc_freq(&term)? > 0 {
                clauses.push((term, boost * weight));
            }
        }
    }
    Ok(clauses)
}

/// Per segment, `each` of `clauses`' terms in it (given the segment's
/// ordinal), in their order.
fn per_clause<T>(
    searcher: &Searcher,
    clauses: &[(Term, f32)],
    each: impl Fn(usize, &SegmentReader, &Term) -> Result<T, SearchError>,
) -> Result<Vec<Vec<T>>, SearchError> {
    searcher
        .segment_readers()
        .iter()
        .enumerate()
        .map(|(ord, segment)| {
            clauses
                .iter()
                .map(|(term, _)| each(ord, segment, term))
                .collect()
        })
        .collect()
}

/// How many documents are in any of the terms' `sets` and `allowed`: the
/// union and intersection of their documents as bits.
fn count(searcher: &Searcher, sets: &Sets, allowed: &Allowed) -> usize {
    let segments = searcher.segment_readers().iter().zip(sets);
    segments
        .enumerate()
        .map(|(ord, (segment, sets))| {
            let allowed = allowed.get(ord).and_then(Option::as_deref);
            // The index is written once and never deletes, so every
            // document counted is alive.
            count_union(sets, allowed, bit_words(segment))
        })
        .sum()
}

/// How many documents are in any of `sets` and in `allowed` (all, when
/// none), of the `words` 64-bit words each holds. A chunk at a time, set
/// after set, over slices the compiler can see the ends of, so that it
/// vectorises: a word at a time, through every set and with every index
/// checked, it was about 4% of a search's CPU under load, and the engine
/// alone took 2% longer a search (bench/README.md).
fn count_union(sets: &[Arc<[u64]>], allowed: Option<&[u64]>, words: usize) -> usize {
    const CHUNK: usize = 512;
    let mut any = [0u64; CHUNK];
    let mut total = 0;
    for start in (0..words).step_by(CHUNK) {
        let end = (start + CHUNK).min(words);
        let any = &mut any[..end - start];
        any.fill(0);
        for set in sets {
            for (bits, word) in any.iter_mut().zip(&set[start..end]) {
                *bits |= word;
            }
        }
        if let Some(allowed) = allowed {
            for (bits, word) in any.iter_mut().zip(&allowed[start..end]) {
                *bits &= word;
            }
        }
        total += any
            .iter()
            .map(|word| word.count_ones() as usize)
            .sum::<usize>();
    }
    total
}

/// Term `term`'s postings in `segment`, read with `option`.
fn postings(
    segment: &SegmentReader,
    term: &Term,
    option: IndexRecordOption,
) -> Result<Option<tantivy::postings::SegmentPostings>, SearchError> {
    Ok(segment
        .inverted_index(term.field())?
        .read_postings(term, option)
        .map_err(tantivy::TantivyError::from)?)
}

/// The documents of `docs`, of `segment`, as bits.
fn doc_bits<D: DocSet + ?Sized>(docs: &mut D, segment: &SegmentReader) -> Arc<[u64]> {
    let mut set = vec![0u64; bit_words(segment)];
    let mut doc = docs.doc();
    while doc != TERMINATED {
        bits::insert(&mut set, doc as usize);
        doc = docs.advance();
    }
    set.into()
}

/// How many 64-bit words hold a bit per document of `segment`.
fn bit_words(segment: &SegmentReader) -> usize {
    bits::words(segment.max_doc() as usize)
}

/// Each term's documents, per segment, as bits, and the most it scores in
/// each window of the ranking: made on first use and kept while
/// [`DOC_SETS_BYTES`] lasts (a term met beyond it is made for the search
/// alone). A search's total is then a few passes of OR and popcount
/// instead of a scored walk through every match, and the ranking knows
/// which windows it can pass by.
#[derive(Default)]
struct DocSets {
    kept: Mutex<Kept>,
}

/// What is kept of terms, by segment and term.
type KeptBy<T> = HashMap<(usize, Term), Arc<[T]>>;

/// A phrase in one field: its terms, each at its place in the phrase.
type PhraseTerms = Box<[(usize, Term)]>;

/// The kept sets and maxima, and their size in bytes.
#[derive(Default)]
struct Kept {
    sets: KeptBy<u64>,
    maxima: KeptBy<f32>,
    /// A phrase's documents in a field, as bits: reading every match's
    /// positions took 48 ms for `"deep tissue"` at 10,000 articles, and
    /// a phrase asked once is often asked again.
    phrases: HashMap<(usize, PhraseTerms), Arc<[u64]>>,
    bytes: usize,
}

impl DocSets {
    fn get(
        &self,
        ord: usize,
        segment: &SegmentReader,
        term: &Term,
    ) -> Result<Arc<[u64]>, SearchError> {
        self.kept(
            |kept| &mut kept.sets,
            (ord, term.clone()),
            || match postings(segment, term, IndexRecordOption::Basic)? {
                Some(mut postings) => Ok(doc_bits(&mut postings, segment)),
                None => Ok(vec![0; bit_words(segment)].into()),
            },
        )
    }

    /// The documents of segment `ord` that have `terms` in their places,
    /// as bits.
    fn phrase(
        &self,
        ord: usize,
        searcher: &Searcher,
        segment: &SegmentReader,
        terms: &[(usize, Term)],
    ) -> Result<Arc<[u64]>, SearchError> {
        self.kept(
            |kept| &mut kept.phrases,
            (ord, terms.into()),
            || {
                let weight = PhraseQuery::new_with_offset(terms.to_vec())
                    .weight(EnableScoring::disabled_from_searcher(searcher))?;
                Ok(doc_bits(weight.scorer(segment, 1.0)?.as_mut(), segment))
            },
        )
    }

    /// Term `term`'s maxima in segment `ord` (see [`rank::maxima`]).
    fn maxima(
        &self,
        ord: usize,
        searcher: &Searcher,
        segment: &SegmentReader,
        term: &Term,
    ) -> Result<Arc<[f32]>, SearchError> {
        self.kept(
            |kept| &mut kept.maxima,
            (ord, term.clone()),
            || {
                let Some(postings) = postings(segment, term, IndexRecordOption::WithFreqs)? else {
                    return Ok(Arc::from([]));
                };
                let weight = Bm25Weight::for_terms(searcher, std::slice::from_ref(term))?;
                let norms = segment.get_fieldnorms_reader(term.field())?;
                Ok(rank::maxima(postings, &norms, &weight, segment.max_doc()).into())
            },
        )
    }

    /// `key`'s entry in the map `which` picks: the one kept, or one `make`
    /// makes, kept while the budget lasts.
    fn kept<K: std::hash::Hash + Eq, T>(
        &self,
        which: fn(&mut Kept) -> &mut HashMap<K, Arc<[T]>>,
        key: K,
        make: impl FnOnce() -> Result<Arc<[T]>, SearchError>,
    ) -> Result<Arc<[T]>, SearchError> {
        if let Some(kept) = which(&mut self.lock()).get(&key) {
            return Ok(kept.clone());
        }
        let made = make()?;
        let mut kept = self.lock();
        let bytes = std::mem::size_of_val(&*made);
        if kept.bytes + bytes <= DOC_SETS_BYTES {
            kept.bytes += bytes;
            which(&mut kept).insert(key, made.clone());
        }
        Ok(made)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        // Nothing can be left half-written under this lock, so a poisoned
        // one is as good as any.
        self.kept
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::Query;
    use crate::search::snippet::SNIPPET_CHARS;
    use tantivy::collector::TopDocs;
    use tantivy::query::{BooleanQuery, Occur, Query as TantivyQuery, TermQuery};
    use tantivy::snippet::SnippetGenerator;

    fn stem(word: &str) -> Vec<String> {
        tokens(&mut stemming_analyzer("en"), word)
    }

    #[test]
    fn inflections_share_a_stem_and_stop_words_are_dropped() {
        assert_eq!(stem("massages"), stem("massage"));
        assert_eq!(stem("relaxing"), stem("relaxation"));
        assert!(stem("the").is_empty());
    }

    fn article(toml: &str) -> Article {
        crate::content::parse_article("a.toml", toml).unwrap()
    }

    /// An article of one benefit whose text is `body`.
    fn one_benefit(body: &str) -> Article {
        article(&format!(
            r#"
            title = "T"
            [benefits]
            [[benefits.items]]
            id = "one"
            title = "One"
            body = "{body}"
            "#
        ))
    }

    #[test]
    fn snippets_escape_the_text_and_mark_matches() {
        let article = one_benefit("Pain <b> & relief: massage helps");
        let index = SearchIndex::of([&article.lang], &[&article]).unwrap();
        let search = Search {
            query: &q("massages"),
            kind: None,
            lang: None,
            limit: 10,
            offset: 0,
        };
        let found = index.search(&search).unwrap();
        assert_eq!(found.total, 1);
        let snippet = index.snippet(
            &found,
            &article.lang,
            "Pain <b> & relief: massage helps",
            false,
        );
        assert_eq!(
            snippet,
            "Pain &lt;b&gt; &amp; relief: <mark>massage</mark> helps"
        );
    }

    #[test]
    fn a_term_no_document_has_is_not_searched_for() {
        let english = fixture();
        let spanish = article(
            r#"
            lang = "es"
            title = "Alivio del dolor de espalda"
            [benefits]
            [[benefits.items]]
            id = "uno"
            title = "Relajación"
            body = "Relaja los músculos de la espalda."
            "#,
        );
        let index = SearchIndex::of([&english.lang, &spanish.lang], &[&english, &spanish]).unwrap();
        let searcher = index.reader.searcher();
        let en = index
            .fields
            .languages
            .iter()
            .find(|language| language.primary == "en")
            .unwrap();
        // "massage" is in English titles and bodies, in no Spanish text.
        let fields: Vec<Field> = index
            .text_terms(&searcher, "massage")
            .unwrap()
            .iter()
            .map(|(term, _)| term.field())
            .collect();
        assert_eq!(fields, [en.title, en.body]);
        assert!(index.text_terms(&searcher, "zzzz").unwrap().is_empty());
    }

    #[test]
    fn a_stop_word_is_not_read_as_a_typo_of_a_word_one_edit_away() {
        let article = one_benefit("Three sessions a week ease the back.");
        let index = SearchIndex::of([&article.lang], &[&article]).unwrap();
        let searcher = index.reader.searcher();
        // "threr", a typo of "three", is forgiven; "there", a stop word
        // one transposition from "three", asks for nothing, as "the" does.
        assert!(!index.text_terms(&searcher, "threr").unwrap().is_empty());
        assert!(index.text_terms(&searcher, "there").unwrap().is_empty());
        assert!(
            index
                .text_terms(&searcher, "There these")
                .unwrap()
                .is_empty()
        );
    }

    fn fixture() -> Article {
        article(
            r#"
            title = "Massage for back pain"
            [benefits]
            [[benefits.items]]
            id = "one"
            title = "Relaxation"
            body = "Relaxing the muscles eases the pain of the back; the massages help."
            [[benefits.items]]
            id = "two"
            title = "Circulation"
            body = "Blood flows better after a massage, and tension leaves the muscle."
            [precautions]
            [[precautions.items]]
            id = "three"
            title = "Pain"
            body = "Deep pressure can hurt: tell the therapist when the pressure is too much."
            "#,
        )
    }

    fn q(text: &str) -> Query {
        text.parse().unwrap()
    }

    fn search<'a>(query: &'a Query, kind: Option<HitType>) -> Search<'a> {
        Search {
            query,
            kind,
            lang: None,
            limit: 10,
            offset: 0,
        }
    }

    #[test]
    fn documents_are_indexed_shortest_body_first_then_in_content_order() {
        fn indexed(article: &Article) -> Vec<(HitType, usize)> {
            let index = SearchIndex::of([&article.lang], &[article]).unwrap();
            let searcher = index.reader.searcher();
            let mut out = Vec::new();
            for (segment, reader) in searcher.segment_readers().iter().enumerate() {
                for doc in 0..reader.max_doc() {
                    let hit = index.ranked(0.0, DocAddress::new(segment as u32, doc));
                    out.push((hit.kind, hit.item));
                }
            }
            out
        }
        // The title (no body), then bodies of 11, 12 and 14 words.
        assert_eq!(
            indexed(&fixture()),
            [
                (HitType::Article, 0),
                (HitType::Benefit, 1),
                (HitType::Benefit, 0),
                (HitType::Precaution, 0),
            ]
        );
        // Equal lengths keep their order; a shorter title goes first.
        let ties = article(
            r#"
            title = "T"
            [benefits]
            [[benefits.items]]
            id = "one"
            title = "Long title here"
            body = "Three words here."
            [[benefits.items]]
            id = "two"
            title = "Short"
            body = "Three words again."
            [[benefits.items]]
            id = "three"
            title = "Short too"
            body = "Three more words."
            [[benefits.items]]
            id = "four"
            title = "Short"
            body = "Three words still."
            "#,
        );
        assert_eq!(
            indexed(&ties),
            [
                (HitType::Article, 0),
                (HitType::Benefit, 1),
                (HitType::Benefit, 3),
                (HitType::Benefit, 2),
                (HitType::Benefit, 0),
            ]
        );
    }

    #[test]
    fn the_total_is_the_number_of_documents_tantivy_finds() {
        let article = fixture();
        let index = SearchIndex::of([&article.lang], &[&article]).unwrap();
        let searcher = index.reader.searcher();
        let all = TopDocs::with_limit(100).order_by_score();
        for query in [
            "pain",
            "massage muscles",
            "pressure",
            "relaxing tension",
            "nothing",
        ] {
            for kind in [None, Some(HitType::Benefit), Some(HitType::Precaution)] {
                let found = index.search(&search(&q(query), kind)).unwrap();
                let mut clauses: Vec<(Occur, Box<dyn TantivyQuery>)> = vec![(
                    Occur::Must,
                    Box::new(BooleanQuery::new(
                        index
                            .text_terms(&searcher, query)
                            .unwrap()
                            .into_iter()
                            .map(|(term, _)| -> (Occur, Box<dyn TantivyQuery>) {
                                (
                                    Occur::Should,
                                    Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
                                )
                            })
                            .collect(),
                    )),
                )];
                if let Some(kind) = kind {
                    clauses.push((
                        Occur::Must,
                        Box::new(TermQuery::new(
                            Term::from_field_u64(index.fields.kind, kind.code()),
                            IndexRecordOption::Basic,
                        )),
                    ));
                }
                let expected = searcher.search(&BooleanQuery::new(clauses), &all).unwrap();
                assert_eq!(found.total, expected.len(), "{query} {kind:?}");
            }
        }
        assert_eq!(index.search(&search(&q("pain"), None)).unwrap().total, 3);
    }

    #[test]
    fn a_phrase_must_be_in_a_hit_in_its_order_and_a_word_after_a_minus_must_not() {
        let article = fixture();
        let index = SearchIndex::of([&article.lang], &[&article]).unwrap();
        let hits = |query: &str| -> Vec<(HitType, usize)> {
            let found = index.search(&search(&q(query), None)).unwrap();
            assert_eq!(found.total, found.ranked.len(), "{query}");
            let mut hits: Vec<_> = found
                .ranked
                .iter()
                .map(|hit| (hit.kind, hit.item))
                .collect();
            hits.sort();
            hits
        };
        let (title, one, two, three) = (
            (HitType::Article, 0),
            (HitType::Benefit, 0),
            (HitType::Benefit, 1),
            (HitType::Precaution, 0),
        );
        assert_eq!(hits("back pain"), [title, one, three]);
        // "pain of the back" has both words, not the phrase.
        assert_eq!(hits(r#""back pain""#), [title]);
        // A stop word stands for any stop word, and a word for its forms.
        assert_eq!(hits(r#""pains in the back""#), [one]);
        assert_eq!(hits(r#""massage helps""#), [one]);
        assert_eq!(hits(r#""helps massage""#), []);
        // A typo in a word of five letters or more is forgiven, as a plain
        // word's is; a shorter word is as written.
        assert_eq!(hits(r#""masage helps""#), [one]);
        assert_eq!(hits(r#""massage hlps""#), []);
        // A phrase of one word is that word, required; the others still rank.
        assert_eq!(hits(r#"tension "pain""#), [title, one, three]);
        assert_eq!(hits("massage -pain"), [two]);
        assert_eq!(hits(r#"pain -"back pain""#), [one, three]);
        assert_eq!(hits(r#"pain -"the""#), hits("pain"));
        // The phrase and the exclusion held to tantivy's own queries.
        let searcher = index.reader.searcher();
        let en = &index.fields.languages[0];
        let phrase = |field| -> Box<dyn TantivyQuery> {
            Box::new(tantivy::query::PhraseQuery::new(vec![
                Term::from_field_text(field, "back"),
                Term::from_field_text(field, "pain"),
            ]))
        };
        let term = |field, text| -> (Occur, Box<dyn TantivyQuery>) {
            let term = Term::from_field_text(field, text);
            (
                Occur::Should,
                Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
            )
        };
        let expected = BooleanQuery::new(vec![
            (
                Occur::Must,
                Box::new(BooleanQuery::new(vec![
                    term(en.title, "muscl"),
                    term(en.body, "muscl"),
                ])),
            ),
            (
                Occur::MustNot,
                Box::new(BooleanQuery::new(vec![
                    (Occur::Should, phrase(en.title)),
                    (Occur::Should, phrase(en.body)),
                ])),
            ),
        ]);
        let all = TopDocs::with_limit(100).order_by_score();
        let expected = searcher.search(&expected, &all).unwrap().len();
        assert_eq!(hits(r#"muscles -"back pain""#).len(), expected);
        assert_eq!(expected, 2);
    }

    #[test]
    fn a_quoted_phrase_is_marked_whole_in_the_passage_that_has_it() {
        // The words apart, often, in the first passage; the phrase once,
        // in the last.
        let body = "Deep pressure reaches the tissue below. Deep work loosens \
            tissue, and deep strokes warm tissue. Therapists also stretch \
            the shoulders and the neck, and ask how the last week has felt \
            before they begin. A deep tissue massage eases the pain of the \
            lower back.";
        let article = one_benefit(body);
        let index = SearchIndex::of([&article.lang], &[&article]).unwrap();
        let snippet = |query: &str| {
            let found = index.search(&search(&q(query), None)).unwrap();
            assert_eq!(found.total, 1, "{query}");
            index.snippet(&found, &article.lang, body, false)
        };
        // Unquoted, the words weigh most where they are most often.
        let words = snippet("deep tissue");
        assert!(words.starts_with("<mark>Deep</mark> pressure"), "{words}");
        assert!(!words.contains("<mark>deep tissue</mark>"), "{words}");
        // Quoted, the passage with the phrase, marked whole.
        // (widened back to the earliest sentence start in reach).
        assert_eq!(
            snippet(r#""deep tissue""#),
            "…Therapists also stretch the shoulders and the neck, and ask how the last week \
             has felt before they begin. A <mark>deep tissue</mark> massage eases the pain of \
             the lower back."
        );
        // Each word in any of its forms; a stop word stands for any.
        let stop_word = snippet(r#""pains in the lower back""#);
        assert!(
            stop_word.ends_with("eases the <mark>pain of the lower back</mark>."),
            "{stop_word}"
        );
        // A typo forgiven in the phrase is forgiven in its mark.
        assert_eq!(snippet(r#""deep tisue""#), snippet(r#""deep tissue""#));
        // Phrases that overlap are one mark.
        let overlapping = snippet(r#""deep tissue" "tissue massages""#);
        assert!(
            overlapping
                .ends_with("A <mark>deep tissue massage</mark> eases the pain of the lower back."),
            "{overlapping}"
        );
        // A phrase of one word is a word.
        assert_eq!(snippet(r#""deep""#), snippet("deep"));
    }

    #[test]
    fn the_readings_typos_add_to_a_searchs_phrases_are_bounded_together() {
        let article = one_benefit("Cares, cards, carts and carps.");
        let index = SearchIndex::of([&article.lang], &[&article]).unwrap();
        let searcher = index.reader.searcher();
        let readings = |phrases: &[&str]| -> usize {
            let phrases: Vec<String> = phrases.iter().map(|&phrase| phrase.to_owned()).collect();
            let mut extra = MAX_TYPO_READINGS;
            let read = index.read_phrases(&searcher, &phrases, &mut extra).unwrap();
            read.iter().flatten().flatten().map(Vec::len).sum()
        };
        // One typo, four words one edit from it: four readings.
        assert_eq!(readings(&["carxs"]), 4);
        // Four such phrases would be sixteen.
        assert_eq!(readings(&["carxs"; 4]), 4 + MAX_TYPO_READINGS);
        let found = index.search(&search(&q(r#""carxs""#), None)).unwrap();
        assert_eq!(found.total, 1);
    }

    #[test]
    fn a_count_over_several_chunks_is_the_documents_in_any_set_and_allowed() {
        // 1,100 words: two whole chunks and a part, so every edge is met.
        let words = 1_100;
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut random = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let sets: Vec<Arc<[u64]>> = (0..3)
            .map(|_| (0..words).map(|_| random() & random()).collect())
            .collect();
        let allowed: Vec<u64> = (0..words).map(|_| random()).collect();
        let documents = words * 64;
        let in_any = |doc: usize| sets.iter().any(|set| bits::has(set, doc));
        let expected_all = (0..documents).filter(|&doc| in_any(doc)).count();
        let expected_allowed = (0..documents)
            .filter(|&doc| in_any(doc) && bits::has(&allowed, doc))
            .count();
        assert!(expected_allowed > 0 && expected_allowed < expected_all);
        assert_eq!(count_union(&sets, None, words), expected_all);
        assert_eq!(count_union(&sets, Some(&allowed), words), expected_allowed);
        assert_eq!(count_union(&[], None, words), 0);
    }

    /// `n` articles of a few words drawn at random (a fixed sequence):
    /// many documents per term, many equal scores, so that a page is
    /// settled long before the last document. A thousand make 10,000
    /// documents: more than one window of the ranking (`rank.rs`).
    fn small_words_corpus(n: usize) -> Vec<Article> {
        const WORDS: &[&str] = &[
            "massage",
            "pain",
            "back",
            "muscle",
            "tension",
            "pressure",
            "relief",
            "deep",
            "tissue",
            "posture",
            "blood",
            "therapist",
        ];
        // Knuth's MMIX linear congruential generator.
        let mut state = 1u64;
        let mut words = |count: usize| {
            (0..count)
                .map(|_| {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    WORDS[(state >> 33) as usize % WORDS.len()]
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        (0..n)
            .map(|i| {
                let mut toml = format!("title = \"{} {i}\"\n[benefits]\n", words(3));
                for item in 0..6 {
                    toml += &format!(
                        "[[benefits.items]]\nid = \"b{item}\"\ntitle = \"{}\"\nbody = \"{}.\"\n",
                        words(1 + item % 3),
                        words(4 + item * 3),
                    );
                }
                toml += "[precautions]\n";
                for item in 0..3 {
                    toml += &format!(
                        "[[precautions.items]]\nid = \"p{item}\"\ntitle = \"{}\"\nbody = \"{}.\"\n",
                        words(2),
                        words(5 + item * 4),
                    );
                }
                article(&toml)
            })
            .collect()
    }

    #[test]
    fn a_page_is_the_one_tantivys_top_docs_ranks() {
        let articles = small_words_corpus(1000);
        let index = SearchIndex::of(articles.iter().map(|a| &a.lang), &articles).unwrap();
        let searcher = index.reader.searcher();
        let mut compared = 0;
        for query in [
            "massage",
            "pain back",
            "muscle tension pressure",
            "relief deep tissue posture",
            "blood therapst",
            "nothing",
        ] {
            let clauses = index.text_terms(&searcher, query).unwrap();
            // Both filters at once: the intersection of their bits.
            let both = (Some(HitType::Benefit), Some(&articles[0].lang));
            for (kind, lang) in [
                (None, None),
                (Some(HitType::Benefit), None),
                (Some(HitType::Precaution), None),
                both,
            ] {
                for (limit, offset) in [(1, 0), (3, 0), (10, 0), (10, 20), (40, 0), (20, 5)] {
                    // The query as tantivy's own ranking takes it: the
                    // weighted terms' sum, the filters scoring nothing.
                    let mut all: Vec<(Occur, Box<dyn TantivyQuery>)> = vec![(
                        Occur::Must,
                        Box::new(BooleanQuery::new(
                            clauses
                                .iter()
                                .map(|(term, weight)| -> (Occur, Box<dyn TantivyQuery>) {
                                    let term =
                                        TermQuery::new(term.clone(), IndexRecordOption::WithFreqs);
                                    (
                                        Occur::Should,
                                        Box::new(tantivy::query::BoostQuery::new(
                                            Box::new(term),
                                            *weight,
                                        )),
                                    )
                                })
                                .collect(),
                        )),
                    )];
                    let filters =
                        kind.map(|kind| Term::from_field_u64(index.fields.kind, kind.code()))
                            .into_iter()
                            .chain(lang.map(|lang| {
                                Term::from_field_text(index.fields.lang, lang.as_str())
                            }));
                    for term in filters {
                        all.push((
                            Occur::Must,
                            Box::new(tantivy::query::ConstScoreQuery::new(
                                Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
                                0.0,
                            )),
                        ));
                    }
                    let top = TopDocs::with_limit(limit)
                        .and_offset(offset)
                        .order_by_score();
                    let expected: Vec<Ranked> = searcher
                        .search(&BooleanQuery::new(all), &top)
                        .unwrap()
                        .into_iter()
                        .map(|(score, address)| index.ranked(score, address))
                        .collect();
                    let found = index
                        .search(&Search {
                            query: &q(query),
                            kind,
                            lang,
                            limit,
                            offset,
                        })
                        .unwrap();
                    // Equal scores may differ in their last bit, as the
                    // two add the same terms' scores in different orders,
                    // and so be ranked either way: the scores must be the
                    // same, and the hits too, but for those tied with the
                    // page's last score, which either may leave out.
                    let case = format!("{query:?} {kind:?} {lang:?} {limit} {offset}");
                    let scores = |page: &[Ranked]| page.iter().map(|h| h.score).collect::<Vec<_>>();
                    assert_eq!(scores(&found.ranked), scores(&expected), "{case}");
                    let last = expected.last().map(|hit| hit.score);
                    let settled = |page: &[Ranked]| {
                        let mut hits: Vec<_> = page
                            .iter()
                            .filter(|hit| Some(hit.score) != last)
                            .map(|hit| (hit.article, hit.kind, hit.item))
                            .collect();
                        hits.sort();
                        hits
                    };
                    assert_eq!(settled(&found.ranked), settled(&expected), "{case}");
                    compared += expected.len();
                }
            }
        }
        assert!(compared > 500, "too few hits compared: {compared}");
    }

    #[test]
    fn snippets_mark_the_words_a_stemming_generator_marks() {
        let article = fixture();
        let index = SearchIndex::of([&article.lang], &[&article]).unwrap();
        let filler = "Warm up first with gentle strokes over the shoulders and neck. ";
        // Texts longer than a snippet: passages that weigh more or less,
        // and passages that weigh the same.
        let long = format!(
            "{}The massage eases pain in the back. {}Massage the muscle: the pain fades, \
             the massage ends. Rest.",
            filler.repeat(3),
            filler.repeat(3)
        );
        let tied = format!("Pain here. {}Pain there.", filler.repeat(4));
        let texts = [
            "Relaxing the muscles eases the pain of the back; the massages help.",
            "Blood flows better after a massage, and tension leaves the muscle.",
            "Deep pressure can hurt: tell the therapist when the pressure is too much.",
            "Don't press \"hard\" on <the> back & muscles: it's pain, not 'relief'.",
            // Capitals, and words and punctuation beyond ASCII; the Kelvin
            // sign lowercases to an ASCII "k", so "BAC\u{212A}" is "back".
            "THE MASSAGE—Naïve ÉTÉ Pain… Über 2 massages; The BAC\u{212A}.",
            &long,
            &tied,
        ];
        for query in [
            "muscle relax",
            "massage",
            "pressure pain",
            "the back",
            "pain massage",
        ] {
            let found = index.search(&search(&q(query), None)).unwrap();
            let searcher = index.reader.searcher();
            let query_terms = BooleanQuery::new(
                found
                    .clauses
                    .iter()
                    .map(|(term, _)| -> (Occur, Box<dyn TantivyQuery>) {
                        (
                            Occur::Should,
                            Box::new(TermQuery::new(term.clone(), IndexRecordOption::Basic)),
                        )
                    })
                    .collect(),
            );
            let body = index.fields.languages[0].body;
            let mut stemming = SnippetGenerator::create(&searcher, &query_terms, body).unwrap();
            stemming.set_max_num_chars(SNIPPET_CHARS);
            for text in texts {
                let mut expected = stemming.snippet(text);
                let expected = if expected.highlighted().is_empty() {
                    beginning(text)
                } else {
                    expected.set_snippet_prefix_postfix("<mark>", "</mark>");
                    expected.to_html()
                };
                // The same passage, the same words marked; ours is only
                // widened around it.
                let ours = index.snippet(&found, &article.lang, text, false);
                assert!(ours.contains(&expected), "{query}: {ours} lacks {expected}");
                // Its text is the hit's own, verbatim, at most a snippet
                // long, with `…` where the text goes on.
                let shown = ours.trim_start_matches('…').trim_end_matches('…');
                let shown = [
                    ("<mark>", ""),
                    ("</mark>", ""),
                    ("&lt;", "<"),
                    ("&gt;", ">"),
                    ("&quot;", "\""),
                    ("&#x27;", "'"),
                    ("&amp;", "&"),
                ]
                .iter()
                .fold(shown.to_owned(), |shown, (from, to)| {
                    shown.replace(from, to)
                });
                let at = text
                    .find(&shown)
                    .unwrap_or_else(|| panic!("{shown} is not in {text}"));
                assert!(shown.len() <= SNIPPET_CHARS, "{shown}");
                assert_eq!(ours.starts_with('…'), at > 0, "{ours}");
                assert_eq!(
                    ours.ends_with('…'),
                    !text[at + shown.len()..].trim().is_empty(),
                    "{ours}"
                );
            }
        }
        let found = index.search(&search(&q("muscle"), None)).unwrap();
        assert_eq!(
            index.snippet(&found, &article.lang, texts[0], false),
            "Relaxing the <mark>muscles</mark> eases the pain of the back; the massages help."
        );
    }
}
