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
    let allowed = match given.chars().count() {
        0..4 => 0,
        4..8 => 1,
        _ => 2,
    };
    let edits = strsim::osa_distance(given, name);
    (edits <= allowed).then_some(edits)
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
