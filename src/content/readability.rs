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
        Self::of_tally(Tally::of(texts), lang)
    }

    /// The readability of what `tally` counted, in `lang`.
    pub fn of_tally(tally: Tally, lang: &Lang) -> Self {
        let Tally {
            words,
            sentences,
            syllables,
        } = tally;
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

/// What texts hold: words, sentences and syllables. Tallies add up, so a
/// whole is measured from its parts' tallies without counting them again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    words: usize,
    sentences: usize,
    syllables: usize,
}

impl Tally {
    /// The tally of `texts`, each counted on its own.
    pub fn of<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        texts.into_iter().map(count).sum()
    }
}

impl std::ops::Add for Tally {
    type Output = Self;

    fn add(self, other: Self) -> Self {
        Self {
            words: self.words + other.words,
            sentences: self.sentences + other.sentences,
            syllables: self.syllables + other.syllables,
        }
    }
}

impl std::iter::Sum for Tally {
    fn sum<I: Iterator<Item = Self>>(tallies: I) -> Self {
        tallies.fold(Self::default(), std::ops::Add::add)
    }
}

/// Words are runs of letters (an apostrophe or hyphen inside one joins
/// it); a sentence ends at `.`, `!` or `?`, and a text that does not end
/// with one (a heading) is a sentence of its own. Counted in one pass
/// without allocating: every text of every article is counted at load.
fn count(text: &str) -> Tally {
    let mut words = 0;
    let mut syllables = 0;
    for word in text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’' || c == '-'))
    {
        let word = word.trim_matches(|c: char| !c.is_alphanumeric());
        if word.chars().any(char::is_alphabetic) {
            words += 1;
            syllables += self::syllables(word);
        }
    }
    let mut sentences = 0;
    let mut in_end = false;
    for c in text.bytes() {
        let end = matches!(c, b'.' | b'!' | b'?');
        if end && !in_end {
            sentences += 1;
        }
        in_end = end;
    }
    if words > 0 && !text.trim_end().ends_with(['.', '!', '?']) {
        sentences += 1;
    }
    Tally {
        words,
        sentences,
        syllables,
    }
}

/// Syllables in an English word: groups of vowels (`y` counts), less a
/// final silent `e` (but not `-le` after a consonant, as in "table"), at
/// least one. Only its ASCII letters count.
fn syllables(word: &str) -> usize {
    let vowel = |c: u8| matches!(c, b'a' | b'e' | b'i' | b'o' | b'u' | b'y');
    let mut groups: usize = 0;
    let mut previous = false;
    // The last three letters, the last first.
    let mut last = [0u8; 3];
    let mut letters = 0;
    for c in word
        .bytes()
        .filter(u8::is_ascii_alphabetic)
        .map(|c| c.to_ascii_lowercase())
    {
        let is = vowel(c);
        if is && !previous {
            groups += 1;
        }
        previous = is;
        last = [c, last[0], last[1]];
        letters += 1;
    }
    if letters > 2 && last[0] == b'e' && !vowel(last[1]) {
        let consonant_le = last[1] == b'l' && !vowel(last[2]);
        if !consonant_le {
            groups = groups.saturating_sub(1);
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
