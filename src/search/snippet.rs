//! Snippets: the passage of a hit's text where the searched words weigh
//! most, as tantivy's `SnippetGenerator` chooses it (a test in `engine.rs`
//! holds the two together), widened to read as a passage (from the start of
//! its sentence when in reach, with its closing punctuation, `…` where the
//! text goes on), HTML-escaped, the words in `<mark>`; or the text's
//! beginning when no word is in it. A quoted phrase of the search is marked
//! whole, and a passage that has it comes before one that has only its
//! words apart: a reader who asked for "deep tissue" sees where the text
//! says it.

use super::engine::is_stop_word;

/// The longest snippet, in bytes of its text (as tantivy counts it).
pub(super) const SNIPPET_CHARS: usize = 200;

// A passage keeps which phrases it has as the bits of a `u64`.
const _: () = assert!(super::query::MAX_PHRASES <= 64);

/// Marks the words of a search in texts of one field: tantivy's
/// `SnippetGenerator` (the same passage chosen, the same words marked: a
/// test holds the two together), without its copy of every token of every
/// hit's text to lowercase it again. Those copies, one allocation each,
/// were 12% of a search's CPU under load, and drove glibc's malloc into
/// sorting and merging its free chunks (another 17%, bench/README.md).
pub(super) struct Marker {
    /// Each written form of a searched stem, with the stem's weight.
    // Looked up for every word of every hit's text, so hashed by Fx (as
    // tantivy's stop-word filter is), not SipHash (2.5% of a search's CPU).
    // Its keys are words of the content, so no client picks colliding ones.
    forms: rustc_hash::FxHashMap<String, Form>,
    /// The lengths of `forms`' keys, a bit each ([`length_bit`]): most
    /// words of a text have a length no form has, and are passed by
    /// without hashing.
    lengths: u64,
    /// The quoted phrases of the search, of two words or more, in each of
    /// their readings.
    phrases: Vec<PhraseReading>,
    /// How many places the longest reading of a phrase spans: a phrase's
    /// word met further back than that can end no phrase.
    span: usize,
}

/// A length's bit in [`Marker::lengths`]: lengths of 63 bytes or more
/// share the last.
fn length_bit(length: usize) -> u64 {
    1 << length.min(63)
}

/// One reading of a quoted phrase of the search.
#[derive(Debug, Clone)]
pub(super) struct PhraseReading {
    /// Which phrase of the search it reads.
    pub(super) phrase: usize,
    /// Each word's stem (as [`Form::stem`] names it) at its place after
    /// the first word.
    pub(super) words: Box<[(usize, u32)]>,
}

/// What a written form of a searched word counts for in a snippet.
#[derive(Debug, Clone, Copy)]
pub(super) struct Form {
    /// Its stem's weight.
    pub(super) weight: f32,
    /// Its stem, as the phrases name it; [`Form::IN_NO_PHRASE`] when no
    /// phrase has it.
    pub(super) stem: u32,
}

impl Form {
    /// The stem of a word that is in no quoted phrase.
    pub(super) const IN_NO_PHRASE: u32 = u32::MAX;
}

impl Marker {
    pub(super) fn new(
        forms: rustc_hash::FxHashMap<String, Form>,
        phrases: Vec<PhraseReading>,
    ) -> Self {
        let lengths = forms
            .keys()
            .fold(0, |bits, form| bits | length_bit(form.len()));
        let span = phrases
            .iter()
            .filter_map(|reading| reading.words.last().map(|&(at, _)| at + 1))
            .max()
            .unwrap_or(0);
        Self {
            forms,
            lengths,
            phrases,
            span,
        }
    }

    /// The passage of `text` of at most [`SNIPPET_CHARS`] bytes that has
    /// the most of the search's phrases, then whose words weigh most (the
    /// first of equals), escaped, its matched words and phrases in
    /// `<mark>`; `None` when no word of `text` matches.
    pub(super) fn mark(&self, text: &str) -> Option<String> {
        /// A passage: where it starts and stops, what its words weigh,
        /// which phrases it has (a bit each) and where they all are.
        #[derive(Default)]
        struct Passage {
            start: usize,
            stop: usize,
            weight: f32,
            phrases: u64,
            marks: Vec<std::ops::Range<usize>>,
        }
        let rank = |passage: &Passage| (passage.phrases.count_ones(), passage.weight);
        let mut best: Option<Passage> = None;
        let mut keep = |passage: Passage| {
            if passage.weight > 0.0 && best.as_ref().is_none_or(|best| rank(&passage) > rank(best))
            {
                best = Some(passage);
            }
        };
        // The words of the phrases met lately, at their places: where each
        // stands, its stem, and where it starts in `text`.
        let mut recent: Vec<(usize, u32, usize)> = Vec::new();
        let mut words = Words::new(text);
        let mut passage = Passage::default();
        while let Some(token) = words.next() {
            if token.offset_to - passage.start > SNIPPET_CHARS {
                let start = token.offset_from;
                keep(std::mem::replace(
                    &mut passage,
                    Passage {
                        start,
                        stop: start,
                        ..Passage::default()
                    },
                ));
            }
            passage.stop = token.offset_to;
            let has_length = self.lengths & length_bit(token.text.len()) != 0;
            let Some(form) = has_length.then(|| self.forms.get(token.text)).flatten() else {
                continue;
            };
            passage.weight += form.weight;
            passage.marks.push(token.offset_from..token.offset_to);
            if form.stem == Form::IN_NO_PHRASE {
                continue;
            }
            recent.retain(|&(at, ..)| at + self.span > token.position);
            recent.push((token.position, form.stem, token.offset_from));
            for reading in &self.phrases {
                // A phrase that began before this passage is not in it.
                let Some(from) = ends_here(&reading.words, &recent, token.position)
                    .filter(|&from| from >= passage.start)
                else {
                    continue;
                };
                passage.phrases |= 1 << reading.phrase;
                // Its words' marks become one (and a phrase overlapping it
                // joins it).
                let mut start = from;
                while let Some(mark) = passage.marks.pop_if(|mark| mark.end > from) {
                    start = start.min(mark.start);
                }
                passage.marks.push(start..token.offset_to);
            }
        }
        keep(passage);
        let best = best?;
        let (start, stop) = widen(text, best.start, best.stop);
        let mut html = String::with_capacity(stop - start + 16 * best.marks.len() + 6);
        if start > 0 {
            html.push('…');
        }
        let mut from = start;
        for mark in best.marks {
            escape_into(&mut html, &text[from..mark.start]);
            html.push_str("<mark>");
            escape_into(&mut html, &text[mark.clone()]);
            html.push_str("</mark>");
            from = mark.end;
        }
        escape_into(&mut html, &text[from..stop]);
        if !text[stop..].trim().is_empty() {
            html.push('…');
        }
        Some(html)
    }
}

/// The words of a text as the index's analysers read them before stemming
/// (tantivy's `SimpleTokenizer`: runs of letters and digits; its
/// `LowerCaser`; stop words dropped, their places counted), in one pass.
/// As tantivy's chain of three, each word was copied into a token,
/// lowercased there and hashed against the stop words, a call through a
/// pointer per word at each step, for every word of twenty hits' texts:
/// about a tenth of a search's CPU in a profile under load. Here a word
/// already in lower case is read where it stands, and a search's own work
/// takes a fifth fewer instructions; no time saved shows beyond the
/// benchmark's noise, though (bench/README.md).
struct Words<'t> {
    text: &'t str,
    /// Where the next word is looked for.
    at: usize,
    /// The place of the word last read, stop words counted; the first
    /// word's is 0.
    position: usize,
    /// The word last read, lowercased, when it was not already.
    lowered: String,
}

/// What a byte of a text is to [`Words`], read from a table: the scans
/// look at every byte of twenty hits' texts, and the table took them
/// from about a dozen instructions a byte, asking `is_ascii_alphanumeric`
/// and its kin in turn, to a few.
#[derive(Clone, Copy)]
enum ByteClass {
    /// ASCII, not a letter or digit: between words.
    Other,
    /// A lowercase ASCII letter, or a digit.
    Lower,
    /// An uppercase ASCII letter.
    Upper,
    /// Part of a character beyond ASCII, which is looked at whole.
    NonAscii,
}

impl ByteClass {
    const TABLE: [Self; 256] = {
        let mut table = [Self::Other; 256];
        let mut byte = 0;
        while byte < 256 {
            table[byte] = match byte as u8 {
                b'a'..=b'z' | b'0'..=b'9' => Self::Lower,
                b'A'..=b'Z' => Self::Upper,
                0x80..=0xff => Self::NonAscii,
                _ => Self::Other,
            };
            byte += 1;
        }
        table
    };

    fn of(byte: u8) -> Self {
        Self::TABLE[usize::from(byte)]
    }
}

/// A word of a text, as [`Words`] reads it.
struct Word<'w> {
    /// Its place in the text, stop words counted.
    position: usize,
    /// Where it starts and stops in the text, in bytes.
    offset_from: usize,
    offset_to: usize,
    /// It lowercased.
    text: &'w str,
}

impl<'t> Words<'t> {
    fn new(text: &'t str) -> Self {
        Self {
            text,
            at: 0,
            position: usize::MAX,
            lowered: String::new(),
        }
    }

    /// The next word that is not a stop word.
    fn next(&mut self) -> Option<Word<'_>> {
        loop {
            let from = self.seek(self.at);
            if from == self.text.len() {
                return None;
            }
            let (to, plain) = self.word_end(from);
            self.at = to;
            self.position = self.position.wrapping_add(1);
            let written = &self.text[from..to];
            let lowered = if plain {
                false
            } else if written.is_ascii() {
                self.lowered.clear();
                self.lowered.push_str(written);
                self.lowered.make_ascii_lowercase();
                true
            } else {
                // As tantivy's `LowerCaser`: each character's lower case,
                // without the final sigma's special case.
                self.lowered.clear();
                self.lowered
                    .extend(written.chars().flat_map(char::to_lowercase));
                true
            };
            // Looked at, then taken again to be handed out: a word handed
            // out borrows `lowered`, which the next turn of the loop writes.
            if is_stop_word(if lowered { &self.lowered } else { written }) {
                continue;
            }
            return Some(Word {
                position: self.position,
                offset_from: from,
                offset_to: to,
                text: if lowered { &self.lowered } else { written },
            });
        }
    }

    /// Where the first letter or digit at or after `from` starts; the
    /// text's end when there is none.
    fn seek(&self, from: usize) -> usize {
        let bytes = self.text.as_bytes();
        let mut at = from;
        while let Some(&byte) = bytes.get(at) {
            match ByteClass::of(byte) {
                ByteClass::Other => at += 1,
                ByteClass::Lower | ByteClass::Upper => return at,
                ByteClass::NonAscii => {
                    let c = self.char_at(at);
                    if c.is_alphanumeric() {
                        return at;
                    }
                    at += c.len_utf8();
                }
            }
        }
        bytes.len()
    }

    /// Where the word starting at `from` ends, and whether it is plain:
    /// ASCII, and in lower case already.
    fn word_end(&self, from: usize) -> (usize, bool) {
        let bytes = self.text.as_bytes();
        let (mut at, mut plain) = (from, true);
        while let Some(&byte) = bytes.get(at) {
            match ByteClass::of(byte) {
                ByteClass::Lower => at += 1,
                ByteClass::Upper => {
                    plain = false;
                    at += 1;
                }
                ByteClass::Other => break,
                ByteClass::NonAscii => {
                    let c = self.char_at(at);
                    if !c.is_alphanumeric() {
                        break;
                    }
                    plain = false;
                    at += c.len_utf8();
                }
            }
        }
        (at, plain)
    }

    /// The character that starts at byte `at` (a character's start: the
    /// scans step over whole characters).
    fn char_at(&self, at: usize) -> char {
        self.text[at..].chars().next().unwrap_or_default()
    }
}

/// Where `phrase` starts in the text when its last word is the one at
/// `at`, the last of `recent` (the phrases' words met lately: place, stem,
/// start); `None` when the words before it are not each in their place.
fn ends_here(phrase: &[(usize, u32)], recent: &[(usize, u32, usize)], at: usize) -> Option<usize> {
    let &(last, stem) = phrase.last()?;
    let first = at.checked_sub(last)?;
    if recent.last().map(|&(_, stem, _)| stem) != Some(stem) {
        return None;
    }
    let mut from = None;
    for &(place, stem) in phrase {
        let &(_, _, start) = recent
            .iter()
            .find(|&&(at, met, _)| at == first + place && met == stem)?;
        from.get_or_insert(start);
    }
    from
}

/// `text[start..stop]`, a passage tantivy chose (it starts at a matched
/// word and stops at a word's end), widened within [`SNIPPET_CHARS`] to
/// read as one: forward over the punctuation that closes its last word,
/// then back to the earliest sentence start in reach, else to a word's
/// start. Tantivy's passage alone dropped a text's final full stop, and
/// the last passage of a text could be a fragment of its last sentence
/// ("muscle knots and tension").
fn widen(text: &str, start: usize, stop: usize) -> (usize, usize) {
    let is_space = |byte: &u8| byte.is_ascii_whitespace();
    let bytes = text.as_bytes();
    let closing = text[stop..]
        .find(|c: char| c.is_whitespace() || c.is_alphanumeric())
        .map_or(text.len(), |at| stop + at);
    let stop = if closing - start <= SNIPPET_CHARS && bytes.get(closing).is_none_or(is_space) {
        closing
    } else {
        stop
    };
    // A passage of one word can be longer than a snippet.
    let mut floor = start.saturating_sub(SNIPPET_CHARS.saturating_sub(stop - start));
    while !text.is_char_boundary(floor) {
        floor += 1;
    }
    if floor == 0 {
        return (0, stop);
    }
    // A sentence starts after `.`, `!` or `?` and white space; the byte
    // before `floor` is looked at too, so that a sentence starting at
    // `floor` is found.
    let sentence = (floor - 1..start).find_map(|at| {
        let after = at + 1;
        let starts =
            matches!(bytes[at], b'.' | b'!' | b'?') && bytes.get(after).is_some_and(is_space);
        starts.then(|| {
            after
                + bytes[after..start]
                    .iter()
                    .take_while(|b| is_space(b))
                    .count()
        })
    });
    let word = || {
        bytes[floor..start].iter().position(is_space).map(|at| {
            floor
                + at
                + bytes[floor + at..start]
                    .iter()
                    .take_while(|b| is_space(b))
                    .count()
        })
    };
    let start = sentence
        .filter(|&at| at >= floor)
        .or_else(word)
        .unwrap_or(start);
    (start, stop)
}

/// Appends `text` to `html`, escaped as tantivy's snippets escape it.
fn escape_into(html: &mut String, text: &str) {
    // Runs between the characters to escape go in whole: pushed one
    // character at a time, escaping was 2.4% of a search's CPU. The five
    // are ASCII, and no byte of a longer UTF-8 character is, so every cut
    // falls between characters.
    let mut from = 0;
    for (at, byte) in text.bytes().enumerate() {
        let entity = match byte {
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'&' => "&amp;",
            b'"' => "&quot;",
            b'\'' => "&#x27;",
            _ => continue,
        };
        html.push_str(&text[from..at]);
        html.push_str(entity);
        from = at + 1;
    }
    html.push_str(&text[from..]);
}

/// The first words of `text`, up to the snippet's length, escaped.
pub(super) fn beginning(text: &str) -> String {
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
    escape_into(&mut out, &text[..end]);
    if end < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `text` with the passage starting at `from` and stopping after
    /// `to`, widened, as the text it then shows.
    fn widened<'a>(text: &'a str, from: &str, to: &str) -> &'a str {
        let start = text.find(from).unwrap();
        let stop = text.rfind(to).unwrap() + to.len();
        let (start, stop) = widen(text, start, stop);
        &text[start..stop]
    }

    #[test]
    fn a_passage_is_widened_to_its_sentence_and_its_closing_stop() {
        let faq = "Deep tissue massage is a therapeutic technique that focuses on reaching \
                   the deeper layers of muscles and connective tissues in the body. It involves \
                   applying firm pressure and slow strokes to break up muscle knots and tension.";
        assert_eq!(
            widened(faq, "muscle knots", "tension"),
            "It involves applying firm pressure and slow strokes to break up muscle knots and tension."
        );
        // A short text is shown whole, its leading quote and final stop too.
        let short = "\"Press gently\" on the muscles, she said.";
        assert_eq!(widened(short, "Press", "said"), short);
        // Punctuation that does not end the word is not taken.
        assert_eq!(
            widened("Rest the back-muscles now", "Rest", "back"),
            "Rest the back"
        );
    }

    #[test]
    fn a_passage_with_no_sentence_start_in_reach_starts_at_a_word() {
        let long = format!("{} the pain eases", "word ".repeat(60));
        let shown = widened(&long, "pain", "eases");
        assert!(
            shown.starts_with("word ") && shown.ends_with("the pain eases"),
            "{shown}"
        );
        assert!(shown.len() <= SNIPPET_CHARS, "{}", shown.len());
        // Never wider than a snippet, even when the passage fills it.
        let full = "x".repeat(SNIPPET_CHARS);
        let text = format!("Before. {full}.");
        assert_eq!(widened(&text, &full, &full), full);
        let word = "x".repeat(SNIPPET_CHARS + 100);
        let text = format!("Before. {word} after");
        assert_eq!(widened(&text, &word, &word), word);
    }

    #[test]
    fn words_are_read_as_tantivys_analysers_read_them() {
        use tantivy::tokenizer::{
            LowerCaser, SimpleTokenizer, StopWordFilter, TextAnalyzer, TokenStream,
        };
        let stop_words = super::super::engine::STOP_WORDS.iter();
        let mut tantivy = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(LowerCaser)
            .filter(StopWordFilter::remove(stop_words.map(|w| (*w).to_owned())))
            .build();
        let article = include_str!("../../content/articles/deep-tissue-massage-for-back-pain.toml");
        for text in [
            "",
            " ,. ",
            "a",
            "The Deep-Tissue massage, and THE back!",
            "Ünïcode: Straße İstanbul ΟΔΟΣ naïve CAFÉ 42km x² ǅemal",
            "don't stop_words of the 3rd; The end",
            "日本語のテキスト and 🙂 between, Ω",
            article,
        ] {
            let mut expected = Vec::new();
            let mut stream = tantivy.token_stream(text);
            while stream.advance() {
                let token = stream.token();
                let at = (token.position, token.offset_from, token.offset_to);
                expected.push((at, token.text.clone()));
            }
            let mut read = Vec::new();
            let mut words = Words::new(text);
            while let Some(word) = words.next() {
                let at = (word.position, word.offset_from, word.offset_to);
                read.push((at, word.text.to_owned()));
            }
            assert_eq!(read, expected, "{text}");
        }
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

    #[test]
    fn escaping_replaces_the_five_characters_and_keeps_every_other() {
        let mut html = String::from("kept ");
        escape_into(&mut html, "<é>&\"ü'—x'");
        assert_eq!(html, "kept &lt;é&gt;&amp;&quot;ü&#x27;—x&#x27;");
        let mut plain = String::new();
        escape_into(&mut plain, "Massage — relief, naïve.");
        assert_eq!(plain, "Massage — relief, naïve.");
    }
}
