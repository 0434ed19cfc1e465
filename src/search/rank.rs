//! Ranking a query's terms by MaxScore (Turtle and Flood, 1995; the way
//! Lucene 9.6 and later rank disjunctions): the exact top k of a sum of
//! weighted BM25 term scores, as tantivy's `TopDocs` would find it, ties
//! to the lower document.
//!
//! The terms are sorted by the most each can score. Once the page is full,
//! the terms whose bounds together cannot beat its last score are not
//! essential: only documents of the other terms are candidates, and a
//! candidate is looked up in the non-essential terms (their largest bound
//! first) only while it can still reach the page, and only in those whose
//! documents, kept as bits for the count, include it. A two-word query has a
//! title term (boosted, short lists) and a body term (long lists) per
//! word; the page soon needs a title match, and the long body lists are
//! only sought into, where tantivy's block-max WAND steps through them.
//!
//! The bounds are each term's most in fact, per window of documents
//! ([`maxima`], kept with the bits), not BM25's limit for any frequency
//! and length: a window whose terms cannot reach the page together is
//! passed by, and within one the terms are essential or not by the
//! window's own bounds, as Lucene's MaxScore scorer partitions its terms
//! again for each window.

use std::{cmp::Ordering, collections::BinaryHeap};

use super::bits::{has, insert};

use tantivy::{
    DocAddress, DocId, DocSet, Score, Searcher, TERMINATED, Term,
    fieldnorm::FieldNormReader,
    postings::{Postings, SegmentPostings},
    query::Bm25Weight,
    schema::IndexRecordOption,
};

/// One term's documents in a segment, scored as tantivy's `TermScorer`
/// scores them (a type tantivy keeps to itself).
struct Cursor {
    postings: SegmentPostings,
    norms: FieldNormReader,
    weight: Bm25Weight,
    /// The term's documents as bits: a candidate not in them is passed
    /// by without a seek (a block read and unpacked).
    bits: std::sync::Arc<[u64]>,
    /// The most the term scores in each window, unboosted (see [`maxima`]).
    maxima: std::sync::Arc<[Score]>,
    boost: Score,
}

impl Cursor {
    /// The most the term scores in window `window`: BM25's limit where
    /// its maxima do not say, so that a window is never passed by unread
    /// for want of one.
    fn window_max(&self, window: usize) -> Score {
        self.maxima
            .get(window)
            .map_or_else(|| self.weight.max_score(), |most| most * self.boost)
    }

    fn doc(&self) -> DocId {
        self.postings.doc()
    }

    fn score(&self) -> Score {
        self.weight.score(
            self.norms.fieldnorm_id(self.postings.doc()),
            self.postings.term_freq(),
        )
    }
}

/// A document on the page: more score first, then the lower address.
#[derive(Debug, Clone, Copy)]
struct Entry {
    score: Score,
    address: DocAddress,
}

// Equality as the order has it (`total_cmp`), so that the two agree.
impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Entry {}

impl Ord for Entry {
    /// The better entry is the greater.
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then_with(|| other.address.cmp(&self.address))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The best `k` entries pushed in address order.
struct Page {
    heap: BinaryHeap<std::cmp::Reverse<Entry>>,
    k: usize,
}

impl Page {
    /// The score a document must beat to enter, once the page is full.
    fn threshold(&self) -> Option<Score> {
        (self.heap.len() == self.k)
            .then(|| self.heap.peek().map(|worst| worst.0.score))
            .flatten()
    }

    fn push(&mut self, entry: Entry) {
        if self.heap.len() < self.k {
            self.heap.push(std::cmp::Reverse(entry));
        } else if let Some(mut worst) = self.heap.peek_mut()
            && entry.score > worst.0.score
        {
            *worst = std::cmp::Reverse(entry);
        }
    }
}

/// Whether a document whose score is at most `bound` can still enter a
/// page whose last score is `threshold`. The bound is widened by a
/// millionth: a sum of scores rounds in its own order, and a document
/// that rounds just past the threshold must not be lost.
fn can_beat(bound: Score, threshold: Option<Score>) -> bool {
    threshold.is_none_or(|threshold| bound * (1.0 + 1e-6) > threshold)
}

/// Per segment, the documents a search may find, as bits (`None`: all).
pub type Allowed = Vec<Option<std::sync::Arc<[u64]>>>;

/// Per segment, each clause's documents as bits, in the clauses' order.
pub type Sets = Vec<Vec<std::sync::Arc<[u64]>>>;

/// Per segment, the most each clause's term scores in each window of
/// [`WINDOW`] documents, unboosted, in the clauses' order (see [`maxima`]).
pub type Maxima = Vec<Vec<std::sync::Arc<[Score]>>>;

/// The most a term scores (BM25 by `weight`, unboosted) in each window of
/// [`WINDOW`] documents of a segment of `documents`, from its `postings`:
/// the ranking passes by a window whose terms' maxima together cannot
/// reach the page, and a term's largest maximum bounds it far closer than
/// BM25's limit for any frequency and length.
pub fn maxima(
    mut postings: SegmentPostings,
    norms: &FieldNormReader,
    weight: &Bm25Weight,
    documents: u32,
) -> Vec<Score> {
    let mut maxima = vec![0.0 as Score; (documents as usize).div_ceil(WINDOW)];
    let mut doc = postings.doc();
    while doc != TERMINATED {
        let score = weight.score(norms.fieldnorm_id(doc), postings.term_freq());
        let most = &mut maxima[doc as usize / WINDOW];
        *most = most.max(score);
        doc = postings.advance();
    }
    maxima
}

/// The best `k` documents of those `allowed` for the sum of `clauses`'
/// scores (each term's BM25 times its weight), best first, ties to the
/// lower address. `sets` are the clauses' documents as bits (see [`Sets`]).
pub fn top(
    searcher: &Searcher,
    clauses: &[(Term, f32)],
    sets: &Sets,
    maxima: &Maxima,
    allowed: &Allowed,
    k: usize,
) -> tantivy::Result<Vec<(Score, DocAddress)>> {
    // Each term's BM25 over the searcher's statistics, times its weight.
    let weights = clauses
        .iter()
        .map(|(term, weight)| {
            Ok(Bm25Weight::for_terms(searcher, std::slice::from_ref(term))?.boost_by(*weight))
        })
        .collect::<tantivy::Result<Vec<_>>>()?;
    let mut page = Page {
        heap: BinaryHeap::with_capacity(k + 1),
        k: k.max(1),
    };
    // Segments paired with their sets as the count pairs them, so that
    // the two read the same segments.
    let segments = searcher.segment_readers().iter().zip(sets).zip(maxima);
    for (ord, ((segment, segment_sets), segment_maxima)) in segments.enumerate() {
        let mut terms: Vec<(Score, Cursor)> = Vec::with_capacity(clauses.len());
        let each = clauses
            .iter()
            .zip(&weights)
            .zip(segment_sets.iter().zip(segment_maxima));
        for (((term, boost), weight), (bits, maxima)) in each {
            let field = term.field();
            let Some(postings) = segment
                .inverted_index(field)?
                .read_postings(term, IndexRecordOption::WithFreqs)?
            else {
                continue;
            };
            let cursor = Cursor {
                postings,
                norms: segment.get_fieldnorms_reader(field)?,
                weight: weight.clone(),
                bits: bits.clone(),
                maxima: maxima.clone(),
                boost: *boost,
            };
            if cursor.doc() != TERMINATED {
                let windows = (segment.max_doc() as usize).div_ceil(WINDOW);
                let most = (0..windows)
                    .map(|window| cursor.window_max(window))
                    .fold(0.0, Score::max);
                terms.push((most, cursor));
            }
        }
        terms.sort_by(|a, b| a.0.total_cmp(&b.0));
        // bounds[i]: the most terms[..=i] can score together.
        let bounds: Vec<Score> = terms
            .iter()
            .scan(0.0, |sum, (bound, _)| {
                *sum += bound;
                Some(*sum)
            })
            .collect();
        let allowed = allowed.get(ord).and_then(Option::as_deref);
        rank_segment(&mut terms, &bounds, allowed, ord as u32, &mut page);
    }
    let mut ranked: Vec<Entry> = page.heap.into_iter().map(|entry| entry.0).collect();
    ranked.sort_by(|a, b| b.cmp(a));
    Ok(ranked.into_iter().map(|e| (e.score, e.address)).collect())
}

/// Documents a window of the ranking spans: its scores and marks fit in
/// the first level of cache. It is also how finely a term's [`maxima`]
/// are kept, so a change to it changes their size (about 200 bytes a term
/// at 200,000 documents) and how closely they bound; windows of 1,024
/// measured the same (bench/README.md).
pub const WINDOW: usize = 4096;

/// MaxScore over one segment's `terms` (sorted by their bounds, whose
/// running sums are `bounds`), into `page`, a window of documents at a
/// time: each essential term adds its scores in the window into one
/// array, list after list without comparing them document by document,
/// then the window's candidates are settled in document order.
fn rank_segment(
    terms: &mut [(Score, Cursor)],
    bounds: &[Score],
    allowed: Option<&[u64]>,
    segment_ord: u32,
    page: &mut Page,
) {
    let mut threshold = page.threshold();
    // terms[essential..] are essential: a document in none of them
    // cannot reach the page. By `bounds` over the segment, or by a
    // window's own.
    let settle = |bounds: &[Score], threshold: Option<Score>, essential: usize| {
        essential
            + bounds[essential..]
                .iter()
                .take_while(|bound| !can_beat(**bound, threshold))
                .count()
    };
    let mut essential = settle(bounds, threshold, 0);
    let mut scores = vec![0.0 as Score; WINDOW];
    let mut marks = [0u64; WINDOW / 64];
    // window_bounds[i]: the most terms[..=i] score together in the window.
    let mut window_bounds = vec![0.0 as Score; terms.len()];
    // The first document not yet settled.
    let mut from: DocId = 0;
    while essential < terms.len() {
        let mut next = TERMINATED;
        for (_, term) in &mut terms[essential..] {
            if term.doc() < from {
                term.postings.seek(from);
            }
            next = next.min(term.doc());
        }
        if next == TERMINATED {
            break;
        }
        let window = next as usize / WINDOW;
        let start = (window * WINDOW) as DocId;
        let end = start.saturating_add(WINDOW as DocId);
        from = end;
        let mut sum = 0.0;
        for (bound, (_, term)) in window_bounds.iter_mut().zip(terms.iter()) {
            sum += term.window_max(window);
            *bound = sum;
        }
        let window_essential = settle(&window_bounds, threshold, essential);
        for (_, term) in &mut terms[window_essential..] {
            let mut doc = term.doc();
            while doc < end {
                let at = (doc - start) as usize;
                scores[at] += term.score();
                insert(&mut marks, at);
                doc = term.postings.advance();
            }
        }
        for (word, marked) in marks.iter_mut().enumerate() {
            let mut bits = std::mem::take(marked);
            while bits != 0 {
                let at = word * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let mut score = std::mem::take(&mut scores[at]);
                let doc = start + at as DocId;
                if allowed.is_some_and(|bits| !has(bits, doc as usize)) {
                    continue;
                }
                let mut entered = true;
                for i in (0..window_essential).rev() {
                    if !can_beat(score + window_bounds[i], threshold) {
                        entered = false;
                        break;
                    }
                    let term = &mut terms[i].1;
                    // Most candidates are not in a non-essential (long)
                    // list: one bit says so where a seek would unpack a
                    // block of it.
                    if !has(&term.bits, doc as usize) {
                        continue;
                    }
                    if term.doc() < doc {
                        term.postings.seek(doc);
                    }
                    if term.doc() == doc {
                        score += term.score();
                    }
                }
                if entered {
                    page.push(Entry {
                        score,
                        address: DocAddress::new(segment_ord, doc),
                    });
                    threshold = page.threshold();
                }
            }
        }
        essential = settle(bounds, threshold, essential);
    }
}
