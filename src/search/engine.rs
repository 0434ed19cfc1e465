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
//! as its stem. Snippets come from tantivy's `SnippetGenerator`,
//! the matched words in `<mark>` and the rest escaped.

use std::{borrow::Borrow, collections::BTreeSet};

use tantivy::{
    DocAddress, Index, IndexReader, ReloadPolicy, Searcher, TantivyDocument, Term,
    collector::TopDocs,
    columnar::Column,
    query::{BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, Query, TermQuery},
    schema::{
        FAST, Field, INDEXED, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions,
    },
    snippet::SnippetGenerator,
    tokenizer::{
        Language, LowerCaser, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer, TokenStream,
    },
};

use super::{HitType, Ranked, Search};
use crate::content::{Article, Lang, Part};

/// How much a title counts against its body.
const TITLE_BOOST: f32 = 2.0;
/// How much a typo match counts against an exact one.
const TYPO_WEIGHT: f32 = 0.5;
/// Shorter query words must match exactly: one edit in a short word is
/// too often another word.
const TYPO_MIN_CHARS: usize = 5;
/// The longest snippet, in characters.
const SNIPPET_CHARS: usize = 200;
/// The indexer's memory: enough that 10,000 articles make one segment or
/// few, small enough to stay well inside the memory target.
const WRITER_BUDGET_BYTES: usize = 32 << 20;

/// English function words, too common to tell documents apart.
const STOP_WORDS: &[&str] = &[
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
    documents: usize,
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
    analyzer: TextAnalyzer,
}

/// What a search found: one page, how many match in all, and what is
/// needed to mark the matched words in snippets.
pub struct Found {
    pub ranked: Vec<Ranked>,
    pub total: usize,
    searcher: Searcher,
    query: Box<dyn Query>,
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
    /// Indexes `articles` (in every one of `languages`), their titles and
    /// every part; a hit names an article by its place in this order.
    pub fn build<'l, A: Borrow<Article>>(
        languages: impl IntoIterator<Item = &'l Lang>,
        articles: impl IntoIterator<Item = A>,
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
                title: schema.add_text_field(
                    &format!("title_{primary}"),
                    text(&name, IndexRecordOption::WithFreqs),
                ),
                body: schema.add_text_field(
                    &format!("body_{primary}"),
                    text(&name, IndexRecordOption::WithFreqs),
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
        // One thread: documents get ids in the order they are added, so
        // equal scores rank in content order, whatever the machine.
        let mut writer =
            index.writer_with_num_threads::<TantivyDocument>(1, WRITER_BUDGET_BYTES)?;
        let mut documents = 0;
        let mut written: Vec<BTreeSet<String>> = vec![BTreeSet::new(); fields.languages.len()];
        let mut splitter = words_analyzer();
        for (position, article) in articles.into_iter().enumerate() {
            let article = article.borrow();
            let Some(at) = fields
                .languages
                .iter()
                .position(|language| language.primary == article.lang.primary())
            else {
                continue;
            };
            let language = &fields.languages[at];
            let words = &mut written[at];
            let mut add = |kind: HitType, item: usize, title: &str, body: &str| {
                let mut document = TantivyDocument::default();
                document.add_u64(fields.article, position as u64);
                document.add_u64(fields.kind, kind.code());
                document.add_u64(fields.item, item as u64);
                document.add_text(fields.lang, article.lang.as_str());
                document.add_text(language.title, title);
                document.add_text(language.body, body);
                for text in [title, body] {
                    let mut stream = splitter.token_stream(text);
                    while stream.advance() {
                        let word = &stream.token().text;
                        if word.chars().count() >= TYPO_MIN_CHARS && !words.contains(word) {
                            words.insert(word.clone());
                        }
                    }
                }
                documents += 1;
                writer.add_document(document)
            };
            add(HitType::Article, 0, &article.title, "")?;
            for (i, section) in article.prose().enumerate() {
                add(HitType::Section, i, section.title(), section.text())?;
            }
            for (i, part) in article.benefits.items.iter().enumerate() {
                add(HitType::Benefit, i, part.title(), part.text())?;
            }
            for (i, part) in article.precautions.items.iter().enumerate() {
                add(HitType::Precaution, i, part.title(), part.text())?;
            }
            for (i, part) in article.faqs.items.iter().enumerate() {
                add(HitType::Faq, i, part.title(), part.text())?;
            }
        }
        writer.commit()?;
        let segments = index.searchable_segment_ids()?;
        if segments.len() > 1 {
            writer.merge(&segments).wait()?;
        }
        writer.wait_merging_threads()?;
        let mut fields = fields;
        for (language, words) in fields.languages.iter_mut().zip(written) {
            language.words = tantivy_fst::Map::from_iter(words.into_iter().map(|word| (word, 0)))
                .map_err(|e| tantivy::TantivyError::InternalError(e.to_string()))?;
        }
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Self {
            reader,
            fields,
            documents,
        })
    }

    /// How many documents (article titles and parts) are indexed.
    pub fn documents(&self) -> usize {
        self.documents
    }

    /// The query for `words`, in every language of the content: each
    /// word's stem in the title (boosted) and the body; for a longer word
    /// found in no text, the words one edit away, at half the weight.
    fn text_query(&self, searcher: &Searcher, words: &str) -> Result<BooleanQuery, SearchError> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let written = tokens(&mut words_analyzer(), words);
        for word in &written {
            let mut found = false;
            let mut stems = Vec::new();
            for language in &self.fields.languages {
                for stem in tokens(&mut language.analyzer.clone(), word) {
                    let title = Term::from_field_text(language.title, &stem);
                    let body = Term::from_field_text(language.body, &stem);
                    found |= searcher.doc_freq(&title)? > 0 || searcher.doc_freq(&body)? > 0;
                    stems.push((language, stem));
                }
            }
            let mut weight = 1.0;
            if !found && word.chars().count() >= TYPO_MIN_CHARS {
                stems = self.one_edit_away(word)?;
                weight = TYPO_WEIGHT;
            }
            for (language, stem) in stems {
                let term_query = |field: Field, boost: f32| -> (Occur, Box<dyn Query>) {
                    let query = TermQuery::new(
                        Term::from_field_text(field, &stem),
                        IndexRecordOption::WithFreqs,
                    );
                    (
                        Occur::Should,
                        Box::new(BoostQuery::new(Box::new(query), boost)),
                    )
                };
                clauses.push(term_query(language.title, TITLE_BOOST * weight));
                clauses.push(term_query(language.body, weight));
            }
        }
        Ok(BooleanQuery::new(clauses))
    }

    /// The stems of the words written one edit from `word` (a typo), in
    /// each language, by a Levenshtein automaton over the written words.
    fn one_edit_away<'a>(
        &'a self,
        word: &str,
    ) -> Result<Vec<(&'a LanguageFields, String)>, SearchError> {
        use tantivy_fst::{IntoStreamer, Streamer};
        let mut stems = Vec::new();
        for language in &self.fields.languages {
            // The term's field only carries the word to the automaton.
            let automaton =
                FuzzyTermQuery::new(Term::from_field_text(language.title, word), 1, true)
                    .automaton()?;
            let mut near = BTreeSet::new();
            let mut stream = language.words.search(&automaton).into_stream();
            while let Some((written, _)) = stream.next() {
                if let Ok(written) = std::str::from_utf8(written) {
                    near.insert(written.to_owned());
                }
            }
            for written in near {
                for stem in tokens(&mut language.analyzer.clone(), &written) {
                    stems.push((language, stem));
                }
            }
        }
        Ok(stems)
    }

    /// Ranks the documents that match `search`: one page, and how many match.
    pub fn search(&self, search: &Search<'_>) -> Result<Found, SearchError> {
        let searcher = self.reader.searcher();
        let text = self.text_query(&searcher, search.query)?;
        let mut filters: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut filter = |term: Term| {
            let query = TermQuery::new(term, IndexRecordOption::Basic);
            filters.push((
                Occur::Must,
                Box::new(ConstScoreQuery::new(Box::new(query), 0.0)),
            ));
        };
        if let Some(kind) = search.kind {
            filter(Term::from_field_u64(self.fields.kind, kind.code()));
        }
        if let Some(lang) = search.lang {
            filter(Term::from_field_text(self.fields.lang, lang.as_str()));
        }
        // Unfiltered, the query is the disjunction of term queries alone,
        // which tantivy ranks by block-max WAND, skipping the blocks that
        // cannot reach the page. The total is counted apart, unscored.
        let query: Box<dyn Query> = if filters.is_empty() {
            Box::new(text.clone())
        } else {
            filters.push((Occur::Must, Box::new(text.clone())));
            Box::new(BooleanQuery::new(filters))
        };
        let total = query.count(&searcher)?;
        // Counted first: tantivy keeps `offset + limit` documents to rank,
        // so an offset past the matches (up to 2^31 - 1 is valid) must not
        // reach it.
        let top = if search.offset >= total {
            Vec::new()
        } else {
            let top = TopDocs::with_limit(search.limit.max(1))
                .and_offset(search.offset)
                .order_by_score();
            searcher.search(query.as_ref(), &top)?
        };
        let mut columns = Vec::new();
        let ranked = top
            .into_iter()
            .take(search.limit)
            .map(|(score, address)| self.ranked(&searcher, &mut columns, score, address))
            .collect::<Result<_, _>>()?;
        Ok(Found {
            ranked,
            total,
            searcher,
            query: Box::new(text),
        })
    }

    /// The hit at `address`, read from its segment's fast fields (opened
    /// once per segment per search, in `columns`).
    fn ranked(
        &self,
        searcher: &Searcher,
        columns: &mut Vec<(u32, [Column<u64>; 3])>,
        score: f32,
        address: DocAddress,
    ) -> Result<Ranked, SearchError> {
        let at = match columns
            .iter()
            .position(|(segment, _)| *segment == address.segment_ord)
        {
            Some(at) => at,
            None => {
                let fast = searcher.segment_reader(address.segment_ord).fast_fields();
                columns.push((
                    address.segment_ord,
                    [fast.u64("article")?, fast.u64("kind")?, fast.u64("item")?],
                ));
                columns.len() - 1
            }
        };
        let [article, kind, item] = &columns[at].1;
        let value = |column: &Column<u64>| column.first(address.doc_id).unwrap_or(0);
        Ok(Ranked {
            article: usize::try_from(value(article)).unwrap_or(usize::MAX),
            kind: HitType::from_code(value(kind)),
            item: usize::try_from(value(item)).unwrap_or(usize::MAX),
            score: (score * 1000.0).round() / 1000.0,
        })
    }

    /// A passage of `text` (a title when `title`, else a body, in `lang`)
    /// around the words `found` matched, HTML-escaped, the matched words in
    /// `<mark>`; its beginning when none is in it.
    pub fn snippet(&self, found: &Found, lang: &Lang, text: &str, title: bool) -> String {
        let generator = self
            .fields
            .languages
            .iter()
            .find(|language| language.primary == lang.primary())
            .and_then(|language| {
                let field = if title { language.title } else { language.body };
                SnippetGenerator::create(&found.searcher, found.query.as_ref(), field).ok()
            });
        let Some(mut generator) = generator else {
            return beginning(text);
        };
        generator.set_max_num_chars(SNIPPET_CHARS);
        let mut snippet = generator.snippet(text);
        if snippet.highlighted().is_empty() {
            return beginning(text);
        }
        snippet.set_snippet_prefix_postfix("<mark>", "</mark>");
        snippet.to_html()
    }
}

/// The first words of `text`, up to the snippet's length, escaped.
fn beginning(text: &str) -> String {
    let mut end = text.len().min(SNIPPET_CHARS);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    if end < text.len()
        && let Some(space) = text[..end].rfind(char::is_whitespace)
    {
        end = space;
    }
    let mut out = String::with_capacity(end + 8);
    for c in text[..end].chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    if end < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stem(word: &str) -> Vec<String> {
        tokens(&mut stemming_analyzer("en"), word)
    }

    #[test]
    fn inflections_share_a_stem_and_stop_words_are_dropped() {
        assert_eq!(stem("massages"), stem("massage"));
        assert_eq!(stem("relaxing"), stem("relaxation"));
        assert!(stem("the").is_empty());
    }

    #[test]
    fn the_beginning_of_a_text_is_escaped_and_cut_at_a_word() {
        assert_eq!(
            beginning("Pain <b> & relief"),
            "Pain &lt;b&gt; &amp; relief"
        );
        let long = "word ".repeat(100);
        let cut = beginning(&long);
        assert!(cut.ends_with('…') && cut.chars().count() <= SNIPPET_CHARS + 1);
    }

    fn article(toml: &str) -> Article {
        crate::content::parse_article("a.toml", toml).unwrap()
    }

    #[test]
    fn snippets_escape_the_text_and_mark_matches() {
        let article = article(
            r#"
            title = "T"
            [benefits]
            [[benefits.items]]
            id = "one"
            title = "One"
            body = "Pain <b> & relief: massage helps"
            "#,
        );
        let index = SearchIndex::build([&article.lang], [&article]).unwrap();
        let search = Search {
            query: "massages",
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
}
