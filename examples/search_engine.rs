//! The search engine alone, without HTTP: builds the index of a content
//! directory, then times `SearchIndex::search` (the count and the ranked
//! page, no snippets) on the benchmark's kind of query, two random words of
//! a word list at a random offset, one search at a time on one thread. It
//! says how much of a search's cost is the ranking and how many
//! documents a query matches, which is what that cost follows.
//!
//! Run: `cargo run --release --example search_engine -- DIR WORDS [QUERY]`
//! (DIR as written by `bench/gen_corpus.py`, WORDS one word per line; with
//! QUERY, that query alone, at offsets 0 and 20.)

use std::time::{Duration, Instant};

use relief_api::content::{ContentSource, load};
use relief_api::search::{Search, SearchIndex};

/// Hits a page: the search route's default, as the benchmark asks.
const LIMIT: usize = 20;

/// Searches timed, after as many again unmeasured to warm up.
const SEARCHES: usize = 3000;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(words)) = (args.next(), args.next()) else {
        eprintln!("usage: search_engine DIR WORDS [QUERY]");
        std::process::exit(2);
    };
    let words: Vec<String> = std::fs::read_to_string(words)
        .expect("the word list is readable")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let articles = load(&ContentSource::dir(dir)).expect("the content is valid");
    let began = Instant::now();
    let index =
        SearchIndex::of(articles.iter().map(|a| &a.lang), &articles).expect("the index builds");
    println!(
        "index: {} documents in {:.2} s",
        index.documents(),
        began.elapsed().as_secs_f64()
    );
    let search = |query: &str, offset: usize| {
        let began = Instant::now();
        let found = index
            .search(&Search {
                query: &query.parse().expect("a query to find"),
                kind: None,
                lang: None,
                limit: LIMIT,
                offset,
            })
            .expect("the search runs");
        (began.elapsed(), found.total)
    };

    if let Some(query) = args.next() {
        for offset in [0, 20] {
            let (spent, total) = (0..SEARCHES).fold((Duration::ZERO, 0), |(spent, _), _| {
                let (one, total) = search(&query, offset);
                (spent + one, total)
            });
            println!(
                "{query:?} offset {offset}: {:.0} µs a search, {total} matches",
                spent.as_secs_f64() * 1e6 / SEARCHES as f64
            );
        }
        return;
    }

    // A fixed xorshift sequence: every run asks the same queries.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let queries: Vec<(String, usize)> = (0..2 * SEARCHES)
        .map(|_| {
            let query = format!("{} {}", words[next(words.len())], words[next(words.len())]);
            (query, next(21))
        })
        .collect();
    let (warm, timed) = queries.split_at(SEARCHES);
    for (query, offset) in warm {
        search(query, *offset);
    }
    let mut runs: Vec<(Duration, usize, &str)> = timed
        .iter()
        .map(|(query, offset)| {
            let (spent, total) = search(query, *offset);
            (spent, total, query.as_str())
        })
        .collect();
    let mean = runs.iter().map(|run| run.0).sum::<Duration>() / SEARCHES as u32;
    let mut matches: Vec<usize> = runs.iter().map(|run| run.1).collect();
    matches.sort_unstable();
    runs.sort_unstable();
    let at = |p: usize| p * SEARCHES / 100;
    println!(
        "{SEARCHES} searches: mean {:.0} µs, p50 {:.0} µs, p90 {:.0} µs, p99 {:.0} µs",
        mean.as_secs_f64() * 1e6,
        runs[at(50)].0.as_secs_f64() * 1e6,
        runs[at(90)].0.as_secs_f64() * 1e6,
        runs[at(99)].0.as_secs_f64() * 1e6,
    );
    println!(
        "matches a query: mean {}, p50 {}, p90 {}, p99 {} (of {} documents)",
        matches.iter().sum::<usize>() / SEARCHES,
        matches[at(50)],
        matches[at(90)],
        matches[at(99)],
        index.documents()
    );
    println!("slowest:");
    for (spent, total, query) in runs.iter().rev().take(5) {
        println!(
            "  {query:?}: {:.0} µs, {total} matches",
            spent.as_secs_f64() * 1e6
        );
    }
}
