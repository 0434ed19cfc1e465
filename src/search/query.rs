//! What a search's `q` asks for, read as a web search box reads it (and
//! WordPress's search, and GitHub's): plain words rank the hits; a
//! `"quoted phrase"` must be in a hit, its words in that order; a word or
//! a quoted phrase right after a `-` must not be. A `-` inside a word
//! (`x-ray`) is part of the word, and a quote left open runs to the end.
//! The words of each phrase to find rank the hits too.

use std::str::FromStr;

/// A search's words, read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// The words that rank the hits: the plain words and those of the
    /// phrases to find, space-separated.
    ranked: String,
    /// The phrases a hit must have (one word is a phrase of one).
    required: Vec<String>,
    /// The words and phrases a hit must not have.
    excluded: Vec<String>,
}

impl Query {
    /// The words that rank the hits.
    pub fn ranked(&self) -> &str {
        &self.ranked
    }

    /// The phrases a hit must have.
    pub fn required(&self) -> &[String] {
        &self.required
    }

    /// The words and phrases a hit must not have.
    pub fn excluded(&self) -> &[String] {
        &self.excluded
    }
}

/// The most phrases and words to leave out a query may give, together.
/// Each becomes a set of documents made for it, and a phrase's means
/// reading every match's words' positions (48 ms for `"deep tissue"` at
/// 10,000 articles): without a bound, one `q` of 200 characters could ask
/// for dozens. GitHub's search takes five such operators.
pub const MAX_PHRASES: usize = 8;

/// Why a `q` is refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueryRefused {
    /// Nothing but words to leave out: there is nothing to find.
    #[error(
        "query parameter `q` has only words to leave out (those after a `-`); give a word to find as well"
    )]
    NothingToFind,
    /// More phrases and words to leave out than [`MAX_PHRASES`].
    #[error(
        "query parameter `q` has {0} quoted phrases and words to leave out; give at most {MAX_PHRASES}"
    )]
    TooManyPhrases(usize),
}

impl FromStr for Query {
    type Err = QueryRefused;

    fn from_str(written: &str) -> Result<Self, QueryRefused> {
        let mut query = Self::default();
        let mut rest = written;
        loop {
            rest = rest.trim_start();
            if rest.is_empty() {
                break;
            }
            // A `-` leaves out what follows it at once; a lone one is no word.
            let (left_out, at) = match rest.strip_prefix('-') {
                Some(after) if after.starts_with(|c: char| !c.is_whitespace()) => (true, after),
                _ => (false, rest),
            };
            let (words, phrase, after) = match at.strip_prefix('"') {
                Some(inner) => match inner.split_once('"') {
                    Some((phrase, after)) => (phrase, true, after),
                    None => (inner, true, ""),
                },
                None => {
                    let end = at
                        .find(|c: char| c.is_whitespace() || c == '"')
                        .unwrap_or(at.len());
                    (&at[..end], false, &at[end..])
                }
            };
            rest = after;
            if words.trim().is_empty() {
                continue;
            }
            if left_out {
                query.excluded.push(words.to_owned());
                continue;
            }
            if phrase {
                query.required.push(words.to_owned());
            }
            if !query.ranked.is_empty() {
                query.ranked.push(' ');
            }
            query.ranked.push_str(words);
        }
        if query.ranked.is_empty() && !query.excluded.is_empty() {
            return Err(QueryRefused::NothingToFind);
        }
        let phrases = query.required.len() + query.excluded.len();
        if phrases > MAX_PHRASES {
            return Err(QueryRefused::TooManyPhrases(phrases));
        }
        Ok(query)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(q: &str) -> (String, Vec<String>, Vec<String>) {
        let query: Query = q.parse().unwrap();
        (query.ranked, query.required, query.excluded)
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|item| (*item).to_owned()).collect()
    }

    #[test]
    fn plain_words_only_rank() {
        assert_eq!(
            read("  deep   tissue\tmassage "),
            ("deep tissue massage".into(), vec![], vec![])
        );
    }

    #[test]
    fn a_quoted_phrase_is_required_and_ranks() {
        assert_eq!(
            read(r#"relief "deep tissue" massage"#),
            (
                "relief deep tissue massage".into(),
                strings(&["deep tissue"]),
                vec![]
            )
        );
        // A quote closes a word as a space does, and one left open runs to
        // the end.
        assert_eq!(
            read(r#"back"deep tissue"#),
            ("back deep tissue".into(), strings(&["deep tissue"]), vec![])
        );
    }

    #[test]
    fn a_word_or_phrase_after_a_minus_is_left_out_and_does_not_rank() {
        assert_eq!(
            read(r#"massage -pressure -"firm strokes""#),
            (
                "massage".into(),
                vec![],
                strings(&["pressure", "firm strokes"])
            )
        );
    }

    #[test]
    fn a_minus_inside_a_word_or_alone_leaves_nothing_out() {
        assert_eq!(
            read("x-ray - back-pain"),
            ("x-ray - back-pain".into(), vec![], vec![])
        );
    }

    #[test]
    fn empty_quotes_ask_for_nothing() {
        assert_eq!(
            read(r#"massage "" " ""#),
            ("massage".into(), vec![], vec![])
        );
    }

    #[test]
    fn only_words_to_leave_out_is_refused() {
        let nothing = Err(QueryRefused::NothingToFind);
        assert_eq!("-massage".parse::<Query>(), nothing);
        assert_eq!(r#"-"deep tissue" -back"#.parse::<Query>(), nothing);
        // Punctuation alone is no error: it finds nothing, as a word in no
        // text does.
        assert!("?!".parse::<Query>().is_ok());
    }

    #[test]
    fn at_most_eight_phrases_and_words_to_leave_out_are_taken() {
        let eight = r#"a "b c" "d" -e -"f g" -h "i j" -k -l"#;
        assert_eq!(
            eight.parse::<Query>().map(|q| q.ranked),
            Ok("a b c d i j".into())
        );
        assert_eq!(
            format!(r#"{eight} "m n""#).parse::<Query>(),
            Err(QueryRefused::TooManyPhrases(9))
        );
        // Plain words are not counted: they are the search.
        assert!("a b c d e f g h i j k".parse::<Query>().is_ok());
    }
}
