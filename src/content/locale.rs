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
    /// is not empty; `default` is the language to fall back on.
    pub fn choose(&self, available: &[&Lang], default: &Lang) -> usize {
        let fallback = || {
            available
                .iter()
                .position(|lang| *lang == default)
                .unwrap_or(0)
        };
        if let Some(wanted) = &self.explicit {
            return available
                .iter()
                .position(|lang| *lang == wanted)
                .or_else(|| {
                    available
                        .iter()
                        .position(|lang| lang.primary() == wanted.primary())
                })
                .unwrap_or_else(fallback);
        }
        let mut best: Option<(u16, u8, usize)> = None; // (q, specificity, index)
        for (index, lang) in available.iter().enumerate() {
            let tag = lang.as_str().to_ascii_lowercase();
            let Some((q, specificity)) = self
                .ranges
                .iter()
                .filter_map(|(range, q)| matches(range, &tag).map(|s| (*q, s)))
                .max_by_key(|&(_, specificity)| specificity)
            else {
                continue;
            };
            if q == 0 {
                continue;
            }
            let better = best.is_none_or(|(best_q, best_s, best_index)| {
                (q, specificity) > (best_q, best_s)
                    || (q, specificity) == (best_q, best_s)
                        && *lang == default
                        && available[best_index] != default
            });
            if better {
                best = Some((q, specificity, index));
            }
        }
        best.map_or_else(fallback, |(_, _, index)| index)
    }
}

/// How specifically language range `range` matches `tag` (both lowercase):
/// 3 exactly, 2 as a prefix (`es` for `es-mx`), 1 the other way round
/// (`es-mx` for `es`, the nearest we have), 0 for `*`; `None` if not at all.
fn matches(range: &str, tag: &str) -> Option<u8> {
    if range == tag {
        Some(3)
    } else if tag
        .strip_prefix(range)
        .is_some_and(|rest| rest.starts_with('-'))
    {
        Some(2)
    } else if range
        .strip_prefix(tag)
        .is_some_and(|rest| rest.starts_with('-'))
    {
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
        let refs: Vec<&Lang> = available.iter().collect();
        let preference = LangPreference::new(explicit.map(lang), ranges);
        available[preference.choose(&refs, &lang("en"))].to_string()
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
    fn language_tags_are_normalised_and_checked() {
        assert_eq!(lang("PT-br").as_str(), "pt-BR");
        assert_eq!(lang("pt-BR").primary(), "pt");
        for bad in ["", "e", "english", "en_US", "en-", "12"] {
            assert!(bad.parse::<Lang>().is_err(), "{bad:?}");
        }
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
