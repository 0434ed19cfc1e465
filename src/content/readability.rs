//! Readability, computed at load: how long a text is, how long it takes
//! to read, and, for English, how hard it is (Flesch reading ease and
//! Flesch-Kincaid grade level). Syllables are counted by a rule (vowel
//! groups, less a silent final `e`), tested below on words of the article;
//! no well-kept Rust crate does this for English better than the rule.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Lang;

/// Words a minute an adult reads silently: 238 for non-fiction (Brysbaert,
/// 2019, a meta-analysis of 190 studies).
const WORDS_PER_MINUTE: usize = 238;

/// How long a text is and how hard it is to read; computed, never written.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Readability {
    /// Words in the text (headings and titles included).
    #[schema(example = 52)]
    pub word_count: usize,
    /// Minutes to read it at 238 words a minute, rounded up; at least 1.
    #[schema(example = 1)]
    pub reading_time_minutes: usize,
    /// Flesch reading ease (higher is easier; 60-70 is plain English);
    /// null for languages other than English, for which the formula does
    /// not hold.
    #[schema(example = 38.2)]
    pub flesch_reading_ease: Option<f64>,
    /// Flesch-Kincaid grade level: the US school grade that can follow the
    /// text; null for languages other than English.
    #[schema(example = 13.1)]
    pub flesch_kincaid_grade: Option<f64>,
}

impl Readability {
    /// The readability of `texts`, read one after the other, in `lang`.
    pub fn of<'a>(texts: impl IntoIterator<Item = &'a str>, lang: &Lang) -> Self {
        let mut words = 0;
        let mut sentences = 0;
        let mut syllables = 0;
        for text in texts {
            let counted = count(text);
            words += counted.words;
            sentences += counted.sentences;
            syllables += counted.syllables;
        }
        let english = lang.primary() == "en" && words > 0;
        let per_sentence = words as f64 / sentences.max(1) as f64;
        let per_word = syllables as f64 / words.max(1) as f64;
        let round = |value: f64| (value * 10.0).round() / 10.0;
        Self {
            word_count: words,
            reading_time_minutes: words.div_ceil(WORDS_PER_MINUTE).max(1),
            flesch_reading_ease: english
                .then(|| round(206.835 - 1.015 * per_sentence - 84.6 * per_word)),
            flesch_kincaid_grade: english
                .then(|| round(0.39 * per_sentence + 11.8 * per_word - 15.59)),
        }
    }
}

/// What one text holds.
struct Counts {
    words: usize,
    sentences: usize,
    syllables: usize,
}

/// Words are runs of letters (an apostrophe or hyphen inside one joins
/// it); a sentence ends at `.`, `!` or `?`, and a text that does not end
/// with one (a heading) is a sentence of its own.
fn count(text: &str) -> Counts {
    let words: Vec<&str> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’' || c == '-'))
        .map(|word| word.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|word| word.chars().any(char::is_alphabetic))
        .collect();
    let mut sentences = 0;
    let mut in_end = false;
    for c in text.chars() {
        let end = matches!(c, '.' | '!' | '?');
        if end && !in_end {
            sentences += 1;
        }
        in_end = end;
    }
    let trimmed = text.trim_end();
    if !words.is_empty() && !trimmed.ends_with(['.', '!', '?']) {
        sentences += 1;
    }
    Counts {
        words: words.len(),
        sentences,
        syllables: words.iter().map(|word| syllables(word)).sum(),
    }
}

/// Syllables in an English word: groups of vowels (`y` counts), less a
/// final silent `e` (but not `-le` after a consonant, as in "table"), at
/// least one.
fn syllables(word: &str) -> usize {
    let word: Vec<char> = word
        .chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let vowel = |c: char| matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y');
    let mut groups = 0;
    let mut previous = false;
    for &c in &word {
        let is = vowel(c);
        if is && !previous {
            groups += 1;
        }
        previous = is;
    }
    let n = word.len();
    if n > 2 && word[n - 1] == 'e' && !vowel(word[n - 2]) {
        let consonant_le = word[n - 2] == 'l' && !vowel(word[n - 3]);
        if !consonant_le {
            groups -= 1;
        }
    }
    groups.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syllables_are_counted_as_english_speakers_say_them() {
        for (word, expected) in [
            ("the", 1),
            ("back", 1),
            ("make", 1),
            ("massage", 2),
            ("tissue", 2),
            ("posture", 2),
            ("table", 2),
            ("simple", 2),
            ("muscle", 2),
            ("therapy", 3),
            ("relaxation", 4),
            ("circulation", 4),
            ("body's", 2),
        ] {
            assert_eq!(syllables(word), expected, "{word}");
        }
    }

    #[test]
    fn words_and_sentences_are_counted_in_plain_text() {
        let counted = count("Deep tissue massage helps. It really does! Why?");
        assert_eq!((counted.words, counted.sentences), (8, 3));
        let heading = count("Benefits of Deep Tissue Massage");
        assert_eq!((heading.words, heading.sentences), (5, 1));
        assert_eq!(count("well-being, the body’s own").words, 4);
    }

    #[test]
    fn english_gets_flesch_scores_and_other_languages_null() {
        let english = Readability::of(["The cat sat on the mat."], &"en".parse().unwrap());
        assert_eq!(english.word_count, 6);
        assert_eq!(english.reading_time_minutes, 1);
        // 206.835 - 1.015 * 6 - 84.6 * 1 = 116.145; 0.39 * 6 + 11.8 - 15.59
        // = -1.45, a hair above in binary floating point: both to one decimal.
        assert_eq!(english.flesch_reading_ease, Some(116.1));
        assert_eq!(english.flesch_kincaid_grade, Some(-1.4));
        let spanish = Readability::of(["El gato."], &"es".parse().unwrap());
        assert_eq!(spanish.flesch_reading_ease, None);
        assert_eq!(spanish.flesch_kincaid_grade, None);
    }

    #[test]
    fn reading_time_rounds_up_at_238_words_a_minute() {
        let lang = "en".parse().unwrap();
        let words = |n: usize| vec!["word"; n].join(" ");
        assert_eq!(
            Readability::of([words(238).as_str()], &lang).reading_time_minutes,
            1
        );
        assert_eq!(
            Readability::of([words(239).as_str()], &lang).reading_time_minutes,
            2
        );
    }
}
