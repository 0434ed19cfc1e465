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
}

impl Cursor {
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

/// The best `k` documents of those `allowed` for the sum of `clauses`'
/// scores (each term's BM25 times its weight), best first, ties to the
/// lower address. `sets` are the clauses' documents as bits (see [`Sets`]).
pub fn top(
    searcher: &Searcher,
    clauses: &[(Term, f32)],
    sets: &Sets,
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
    let segments = searcher.segment_readers().iter().zip(sets);
    for (ord, (segment, segment_sets)) in segments.enumerate() {
        let mut terms: Vec<(Score, Cursor)> = Vec::with_capacity(clauses.len());
        for (((term, _), weight), bits) in clauses.iter().zip(&weights).zip(segment_sets) {
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
            };
            if cursor.doc() != TERMINATED {
                terms.push((weight.max_score(), cursor));
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
/// the first level of cache.
const WINDOW: usize = 4096;

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
    // cannot reach the page.
    let settle = |threshold: Option<Score>, essential: usize| {
        essential
            + bounds[essential..]
                .iter()
                .take_while(|bound| !can_beat(**bound, threshold))
                .count()
    };
    let mut essential = settle(threshold, 0);
    let mut scores = vec![0.0 as Score; WINDOW];
    let mut marks = [0u64; WINDOW / 64];
    while essential < terms.len() {
        let start: DocId = terms[essential..]
            .iter()
            .map(|(_, term)| term.doc())
            .min()
            .unwrap_or(TERMINATED);
        if start == TERMINATED {
            break;
        }
        let end = start.saturating_add(WINDOW as DocId);
        for (_, term) in &mut terms[essential..] {
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
                for i in (0..essential).rev() {
                    if !can_beat(score + bounds[i], threshold) {
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
        essential = settle(threshold, essential);
    }
}
