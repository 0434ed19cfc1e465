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
/// with one (a heading) is a sentence of its own. Counted in one pass over
/// the characters, without allocating: every text of every article is
/// counted at load.
fn count(text: &str) -> Tally {
    let mut tally = Tally::default();
    // The word being read: whether it has a letter, and its syllables.
    let mut word: Option<(bool, Syllables)> = None;
    let mut in_end = false;
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        // ASCII, nearly all of it, is classed by the byte; any other
        // character is decoded.
        let byte = bytes[at];
        let (joins, letter, width) = if byte.is_ascii() {
            let letter = byte.is_ascii_alphabetic();
            (
                letter || byte.is_ascii_digit() || matches!(byte, b'\'' | b'-'),
                letter,
                1,
            )
        } else {
            let c = text[at..].chars().next().unwrap_or_default();
            (
                c.is_alphanumeric() || c == '’',
                c.is_alphabetic(),
                c.len_utf8().max(1),
            )
        };
        at += width;
        if joins {
            let (any_letter, syllables) = word.get_or_insert_with(Default::default);
            *any_letter |= letter;
            if letter && width == 1 {
                syllables.push(byte);
            }
        } else if let Some((any_letter, syllables)) = word.take()
            && any_letter
        {
            tally.words += 1;
            tally.syllables += syllables.count();
        }
        let end = matches!(byte, b'.' | b'!' | b'?');
        if end && !in_end {
            tally.sentences += 1;
        }
        in_end = end;
    }
    if let Some((true, syllables)) = word {
        tally.words += 1;
        tally.syllables += syllables.count();
    }
    if tally.words > 0 && !text.trim_end().ends_with(['.', '!', '?']) {
        tally.sentences += 1;
    }
    tally
}

/// Syllables in an English word: groups of vowels (`y` counts), less a
/// final silent `e` (but not `-le` after a consonant, as in "table"), at
/// least one. Only its ASCII letters count. (Load counts as it reads, with
/// [`Syllables`]; this is the same count for one word, for the tests.)
#[cfg(test)]
fn syllables(word: &str) -> usize {
    let mut counted = Syllables::default();
    word.bytes()
        .filter(u8::is_ascii_alphabetic)
        .for_each(|c| counted.push(c));
    counted.count()
}

/// A word's syllables, counted as its ASCII letters come.
#[derive(Debug, Clone, Copy, Default)]
struct Syllables {
    groups: usize,
    /// Whether the last letter was a vowel.
    previous: bool,
    /// The last three letters, the last first.
    last: [u8; 3],
    letters: usize,
}

impl Syllables {
    fn vowel(c: u8) -> bool {
        matches!(c, b'a' | b'e' | b'i' | b'o' | b'u' | b'y')
    }

    fn push(&mut self, letter: u8) {
        let c = letter.to_ascii_lowercase();
        let is = Self::vowel(c);
        if is && !self.previous {
            self.groups += 1;
        }
        self.previous = is;
        self.last = [c, self.last[0], self.last[1]];
        self.letters += 1;
    }

    fn count(self) -> usize {
        let Self {
            mut groups,
            last,
            letters,
            ..
        } = self;
        if letters > 2 && last[0] == b'e' && !Self::vowel(last[1]) {
            let consonant_le = last[1] == b'l' && !Self::vowel(last[2]);
            if !consonant_le {
                groups = groups.saturating_sub(1);
            }
        }
        groups.max(1)
    }
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
