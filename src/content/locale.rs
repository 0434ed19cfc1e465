//! Choosing among an article's translations: `?lang=` when given, else the
//! client's `Accept-Language` (RFC 9110 12.5.4, with q-values), else the
//! default language; a translation that is missing falls back to the
//! default language, then to any.

use super::Lang;

/// Which translation a request asks for.
#[derive(Debug, Clone, Default)]
pub struct LangPreference {
    /// `?lang=`, which overrides the header.
    pub explicit: Option<Lang>,
    /// The language ranges of `Accept-Language`, with q-values in thousandths.
    pub ranges: Vec<(String, u16)>,
}

impl LangPreference {
    /// `explicit` is the validated `?lang=`; `ranges` are those of
    /// `Accept-Language` (lowercase, q-values in thousandths), as the HTTP
    /// layer reads them.
    pub fn new(explicit: Option<Lang>, ranges: Vec<(String, u16)>) -> Self {
        Self { explicit, ranges }
    }

    /// The index in `available` of the translation to serve. `available`
    /// is not empty; `default` is the language to fall back on. An
    /// iterator (walked more than once), so that a caller hands over its
    /// translations' languages without collecting them.
    pub fn choose<'a, I>(&self, available: I, default: &Lang) -> usize
    where
        I: Iterator<Item = &'a Lang> + Clone,
    {
        let position = |wanted: &dyn Fn(&Lang) -> bool| available.clone().position(wanted);
        let fallback = || position(&|lang| lang == default).unwrap_or(0);
        if let Some(wanted) = &self.explicit {
            return position(&|lang| lang == wanted)
                .or_else(|| position(&|lang| lang.primary() == wanted.primary()))
                .unwrap_or_else(fallback);
        }
        // (q, specificity, whether it is the default, index)
        let mut best: Option<(u16, u8, bool, usize)> = None;
        for (index, lang) in available.clone().enumerate() {
            let Some((q, specificity)) = self
                .ranges
                .iter()
                .filter_map(|(range, q)| matches(range, lang.as_str()).map(|s| (*q, s)))
                .max_by_key(|&(_, specificity)| specificity)
            else {
                continue;
            };
            if q == 0 {
                continue;
            }
            let is_default = lang == default;
            let better = best.is_none_or(|(best_q, best_s, best_is_default, _)| {
                (q, specificity) > (best_q, best_s)
                    || (q, specificity) == (best_q, best_s) && is_default && !best_is_default
            });
            if better {
                best = Some((q, specificity, is_default, index));
            }
        }
        best.map_or_else(fallback, |(_, _, _, index)| index)
    }
}

/// How specifically language range `range` (lowercase) matches `tag` (in
/// any case, as tags are compared): 3 exactly, 2 as a prefix (`es` for
/// `es-MX`), 1 the other way round (`es-mx` for `es`, the nearest we have),
/// 0 for `*`; `None` if not at all.
fn matches(range: &str, tag: &str) -> Option<u8> {
    // `shorter` followed by `-` begins `longer`, regardless of case.
    let prefix = |shorter: &str, longer: &str| {
        longer.as_bytes().get(shorter.len()) == Some(&b'-')
            && longer.as_bytes()[..shorter.len()].eq_ignore_ascii_case(shorter.as_bytes())
    };
    if range.eq_ignore_ascii_case(tag) {
        Some(3)
    } else if prefix(range, tag) {
        Some(2)
    } else if prefix(tag, range) {
        Some(1)
    } else if range == "*" {
        Some(0)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lang(tag: &str) -> Lang {
        tag.parse().unwrap()
    }

    /// `accept` as `Accept-Language` ranges: `[("es-mx", 1000), ("en", 500)]`.
    fn choose(explicit: Option<&str>, accept: &[(&str, u16)], available: &[&str]) -> String {
        let ranges = accept
            .iter()
            .map(|&(range, q)| (range.to_owned(), q))
            .collect();
        let available: Vec<Lang> = available.iter().map(|tag| lang(tag)).collect();
        let preference = LangPreference::new(explicit.map(lang), ranges);
        available[preference.choose(available.iter(), &lang("en"))].to_string()
    }

    #[test]
    fn the_query_parameter_wins_over_the_header() {
        assert_eq!(choose(Some("es"), &[("en", 1000)], &["en", "es"]), "es");
        assert_eq!(choose(Some("es-MX"), &[], &["en", "es"]), "es");
    }

    #[test]
    fn a_missing_translation_falls_back_to_the_default_language() {
        assert_eq!(choose(Some("fr"), &[], &["en", "es"]), "en");
        assert_eq!(
            choose(None, &[("fr", 1000), ("de", 500)], &["es", "en"]),
            "en"
        );
        assert_eq!(choose(None, &[], &["en", "es"]), "en");
        assert_eq!(choose(None, &[("fr", 1000)], &["es"]), "es");
    }

    #[test]
    fn accept_language_is_read_by_q_value_and_prefix() {
        assert_eq!(
            choose(None, &[("es-mx", 1000), ("en", 500)], &["en", "es"]),
            "es"
        );
        assert_eq!(
            choose(None, &[("en", 400), ("es", 800)], &["en", "es"]),
            "es"
        );
        assert_eq!(choose(None, &[("es", 0), ("*", 1000)], &["es", "en"]), "en");
        assert_eq!(choose(None, &[("*", 1000)], &["es", "en"]), "en");
    }

    #[test]
    fn ranges_match_tags_whatever_the_tags_case() {
        // Tags are kept as `pt-BR`, ranges as the HTTP layer lowercases them.
        assert_eq!(
            choose(None, &[("pt-br", 1000)], &["en", "pt-PT", "pt-BR"]),
            "pt-BR"
        );
        assert_eq!(choose(None, &[("pt", 1000)], &["en", "pt-BR"]), "pt-BR");
        assert_eq!(
            choose(
                None,
                &[("es-mx", 1000), ("pt-br", 900)],
                &["en", "pt-BR", "es"]
            ),
            "es"
        );
        assert_eq!(choose(None, &[("pt-b", 1000)], &["en", "pt-BR"]), "en");
    }

    #[test]
    fn language_tags_are_normalised_and_checked() {
        assert_eq!(lang("PT-br").as_str(), "pt-BR");
        assert_eq!(lang("pt-BR").primary(), "pt");
        for bad in ["", "e", "english", "en_US", "en-", "12"] {
            assert!(bad.parse::<Lang>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_locale_written_with_an_underscore_is_told_its_tag() {
        assert_eq!(
            "pt_br".parse::<Lang>().unwrap_err(),
            "`pt_br` is not a language tag such as `en` or `pt-BR`; did you mean `pt-BR`?"
        );
        assert_eq!(
            "english".parse::<Lang>().unwrap_err(),
            "`english` is not a language tag such as `en` or `pt-BR`"
        );
        assert!(!"x_y".parse::<Lang>().unwrap_err().contains("did you mean"));
    }

    #[test]
    fn only_english_as_written_is_the_default_language() {
        assert!(Lang::default().is_default());
        assert!(lang("EN").is_default());
        for other in ["en-GB", "es", "eng"] {
            assert!(!lang(other).is_default(), "{other:?}");
        }
    }
}
