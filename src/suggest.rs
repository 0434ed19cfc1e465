//! Near misses: the known name a mistyped one most likely meant, for the
//! "did you mean" that ends an error's detail. One rule for every list of
//! names a client sends (query parameters, `?fields=`, a reply's fields), so
//! each misspelling is met alike.

use std::fmt::Display;

/// The end of an error's detail naming what was meant: "; did you mean
/// \`x\`?", or nothing when nothing was.
pub fn did_you_mean(meant: Option<impl Display>) -> String {
    meant
        .map(|meant| format!("; did you mean `{meant}`?"))
        .unwrap_or_default()
}

/// The names a client may use, as a detail lists them: "the fields are a,
/// b", or "the only field is a".
pub fn listing<S: AsRef<str>>(noun: &str, known: &[S]) -> String {
    match known {
        [only] => format!("the only {noun} is {}", only.as_ref()),
        _ => {
            let names: Vec<&str> = known.iter().map(AsRef::as_ref).collect();
            format!("the {noun}s are {}", names.join(", "))
        }
    }
}

/// The name in `known` that `given` most likely meant, when exactly one is
/// nearest and near enough; `None` when nothing is or two are equally near
/// (a guess between them would mislead as often as help). Names' words may
/// be joined by `_` (fields) or `-` (ids); either is met by either.
pub fn nearest<'a, S: AsRef<str>>(given: &str, known: &'a [S]) -> Option<&'a str> {
    let given = words(given);
    let mut nearest = None;
    let mut tied = false;
    for name in known.iter().map(AsRef::as_ref) {
        let Some(distance) = distance(&given, &words(name)) else {
            continue;
        };
        match nearest {
            Some((best, _)) if best < distance => {}
            Some((best, _)) if best == distance => tied = true,
            _ => {
                nearest = Some((distance, name));
                tied = false;
            }
        }
    }
    nearest.filter(|_| !tied).map(|(_, name)| name)
}

/// Many names (every article's slug) kept for "did you mean": they are an
/// FST walked by [`WithinEdits`], so a mistyped name is met among 10,000
/// in microseconds, where [`nearest`] over each of them would take
/// milliseconds on every 404.
pub struct Names(Option<tantivy_fst::Map<Vec<u8>>>);

impl std::fmt::Debug for Names {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self.0.as_ref().map_or(0, tantivy_fst::Map::len);
        f.debug_struct("Names").field("count", &count).finish()
    }
}

impl Names {
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        // An FST takes its keys sorted, once each.
        let mut names: Vec<&str> = names.into_iter().collect();
        names.sort_unstable();
        names.dedup();
        Self(tantivy_fst::Map::from_iter(names.into_iter().map(|name| (name, 0))).ok())
    }

    /// The name `given` most likely meant, by the edits [`nearest`] allows
    /// (its other rule, some of a name's words, is left to short lists).
    pub fn nearest(&self, given: &str) -> Option<String> {
        use tantivy_fst::{IntoStreamer, Streamer};
        let edits = allowed_edits(given);
        if edits == 0 {
            return None;
        }
        let automaton = WithinEdits {
            given: given.as_bytes(),
            edits,
        };
        let mut near = Vec::new();
        let mut stream = self.0.as_ref()?.search(&automaton).into_stream();
        while let Some((name, _)) = stream.next() {
            near.extend(std::str::from_utf8(name).map(str::to_owned));
        }
        nearest(given, &near).map(str::to_owned)
    }
}

/// The names within `edits` (Levenshtein, by bytes) of `given`, as an
/// automaton that an FST walk feeds one byte at a time: its state is the
/// row of distances from `given`'s prefixes to the bytes read, and a
/// branch is left as soon as no entry of its row is within reach. Made
/// per lookup with nothing to build first, where tantivy's Levenshtein DFA
/// took most of a millisecond to build for a slug at two edits. (Slugs are
/// ASCII, so bytes are letters; a transposition counts two here, and
/// [`nearest`] then ranks what is found, counting it one.)
struct WithinEdits<'a> {
    given: &'a [u8],
    edits: usize,
}

impl tantivy_fst::Automaton for WithinEdits<'_> {
    type State = Option<Vec<usize>>;

    fn start(&self) -> Self::State {
        Some((0..=self.given.len()).collect())
    }

    fn is_match(&self, row: &Self::State) -> bool {
        row.as_ref()
            .is_some_and(|row| row[self.given.len()] <= self.edits)
    }

    fn can_match(&self, row: &Self::State) -> bool {
        row.is_some()
    }

    fn accept(&self, row: &Self::State, byte: u8) -> Self::State {
        let row = row.as_ref()?;
        let mut next = Vec::with_capacity(row.len());
        next.push(row[0] + 1);
        for (at, &letter) in self.given.iter().enumerate() {
            let replace = row[at] + usize::from(letter != byte);
            next.push(replace.min(row[at + 1] + 1).min(next[at] + 1));
        }
        next.iter()
            .any(|&distance| distance <= self.edits)
            .then_some(next)
    }
}

/// `name` in one spelling: lowercase, its words joined by `_`.
fn words(name: &str) -> String {
    name.to_ascii_lowercase().replace('-', "_")
}

/// How far `name` is from `given` (both as [`words`] spells them), when
/// near enough to suggest: 0 for the same name, 1 for some of its words in
/// order (`email` of `author_email`, `muscle_tension` of
/// `reduces_muscle_tension`), else the edits, a swap of neighbours counting
/// as one: one allowed from four letters, two from eight.
fn distance(given: &str, name: &str) -> Option<usize> {
    if given == name {
        return Some(0);
    }
    if !given.is_empty() && format!("_{name}_").contains(&format!("_{given}_")) {
        return Some(1);
    }
    let edits = strsim::osa_distance(given, name);
    (edits <= allowed_edits(given)).then_some(edits)
}

/// How many edits a typo of `given` may make: none under four letters,
/// one from four, two from eight.
fn allowed_edits(given: &str) -> usize {
    match given.chars().count() {
        0..4 => 0,
        4..8 => 1,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPLY: [&str; 4] = ["author_name", "author_email", "body", "parent_id"];

    #[test]
    fn a_word_of_a_longer_name_or_another_spelling_of_it_is_met() {
        assert_eq!(nearest("name", &REPLY), Some("author_name"));
        assert_eq!(nearest("email", &REPLY), Some("author_email"));
        assert_eq!(nearest("Author-Email", &REPLY), Some("author_email"));
        assert_eq!(nearest("authorName", &REPLY), Some("author_name"));
        assert_eq!(nearest("parent", &REPLY), Some("parent_id"));
    }

    #[test]
    fn an_id_is_met_by_some_of_its_words_or_a_typo() {
        const IDS: [&str; 3] = [
            "reduces-muscle-tension",
            "increases-blood-circulation",
            "breaks-up-scar-tissue",
        ];
        assert_eq!(nearest("muscle-tension", &IDS), Some(IDS[0]));
        assert_eq!(nearest("blood_circulation", &IDS), Some(IDS[1]));
        assert_eq!(nearest("reduce-muscle-tension", &IDS), Some(IDS[0]));
        assert_eq!(nearest("scar", &IDS), Some(IDS[2]));
        assert_eq!(nearest("tension-muscle", &IDS), None);
    }

    #[test]
    fn a_mistyped_name_is_met_among_many() {
        let slugs: Vec<String> = (0..10_000)
            .map(|n| format!("synthetic-article-{n:05}"))
            .chain(["deep-tissue-massage-for-back-pain".to_owned()])
            .collect();
        let names = Names::new(slugs.iter().map(String::as_str));
        for (given, meant) in [
            (
                "deep-tissue-massage-for-back-pian",
                Some("deep-tissue-massage-for-back-pain"),
            ),
            (
                "deep-tisue-massage-for-bak-pain",
                Some("deep-tissue-massage-for-back-pain"),
            ),
            ("deep-tissue-massage", None),
            // One edit from many: no guess.
            ("synthetic-article-0000", None),
            ("synthetic-article-123456", None),
            ("syntheticarticle-01234", Some("synthetic-article-01234")),
        ] {
            assert_eq!(names.nearest(given).as_deref(), meant, "{given}");
        }
        assert_eq!(Names::new([]).nearest("anything"), None);
    }

    #[test]
    fn a_typo_is_met_within_one_edit_or_two_in_a_long_name() {
        assert_eq!(nearest("titel", &["title", "body"]), Some("title"));
        assert_eq!(nearest("bdy", &["title", "body"]), None);
        assert_eq!(nearest("athor_nme", &REPLY), Some("author_name"));
        assert_eq!(nearest("auth_name", &REPLY), Some("author_name"));
    }

    #[test]
    fn a_listing_of_one_name_is_worded_for_one() {
        assert_eq!(listing("field", &["status"]), "the only field is status");
        assert_eq!(
            listing("field", &REPLY[..2]),
            "the fields are author_name, author_email"
        );
    }

    #[test]
    fn nothing_near_or_two_equally_near_suggest_nothing() {
        assert_eq!(nearest("website", &REPLY), None);
        assert_eq!(nearest("author", &REPLY), None);
        assert_eq!(nearest("", &REPLY), None);
        assert_eq!(nearest("x", &[] as &[&str]), None);
    }
}
