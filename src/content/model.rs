//! The content model: one set of types for the content file, the JSON response
//! and the OpenAPI schema.
//!
//! An article file deserializes straight into [`Article`]; the loader then
//! fills in what is derived rather than written (the slug from the file name,
//! positions from file order) and validates the rest. The loader refuses a
//! derived field typed into a file, so an editor cannot make them disagree.
//! Served JSON deserializes back into the same types, which is how the
//! typed view of a prepared article is made.

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use super::{
    Citation, Review, Slug,
    readability::{Readability, Tally},
};

/// A whole article, its parts in reading order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Article {
    /// The article's identifier in URLs: the name of its content file.
    #[serde(default = "Slug::unset")]
    #[schema(required = true)]
    pub slug: Slug,
    /// The article's language (a BCP 47 tag); translations of an article
    /// share its slug and differ in language.
    #[serde(default)]
    #[schema(value_type = String, required = true, example = "en", pattern = r"^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$")]
    pub lang: Lang,
    /// The article's title.
    #[schema(example = "Back Pain Relief With Deep Tissue Massage")]
    pub title: String,
    /// What the article is about (the therapy or condition), as search engines are told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "Deep Tissue Massage")]
    pub about: Option<String>,
    /// Who the article is written for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "patient")]
    pub audience: Option<Audience>,
    /// When the article was first published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date, example = "2024-03-01")]
    pub published_at: Option<Date>,
    /// When the article was last changed; sent as `Last-Modified`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date, example = "2024-05-01")]
    pub updated_at: Option<Date>,
    /// When a reviewer last checked the article's facts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date, example = "2024-05-01")]
    pub last_reviewed: Option<Date>,
    /// When the next review is due; not before `last_reviewed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date, example = "2025-05-01")]
    pub next_review: Option<Date>,
    /// Who wrote the article.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(example = json!(["A. Writer"]))]
    pub authors: Vec<String>,
    /// Who reviewed the article's facts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(example = json!(["Dr. A. Reviewer"]))]
    pub reviewed_by: Vec<String>,
    /// The license the text is published under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "CC BY 4.0")]
    pub license: Option<String>,
    /// The opening text, before the first heading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intro: Option<Section>,
    /// The prose sections between the intro and the lists, in reading order.
    #[serde(default)]
    #[schema(required = true)]
    pub sections: Vec<Section>,
    /// The numbered list of benefits.
    #[serde(default)]
    #[schema(required = true)]
    pub benefits: Group<Benefit>,
    /// The numbered list of precautions.
    #[serde(default)]
    #[schema(required = true)]
    pub precautions: Group<Precaution>,
    /// The closing text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conclusion: Option<Section>,
    /// Frequently asked questions.
    #[serde(default)]
    #[schema(required = true)]
    pub faqs: Group<Faq>,
    /// The heading readers see above the reply form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replies: Option<RepliesPart>,
    /// The sources it relies on, if the content names any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub citations: Vec<Citation>,
    /// How long it is and how hard to read: computed when the content is
    /// loaded, never written in a content file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Readability, required = true)]
    pub readability: Option<Readability>,
    /// Where it stands with its review, as of the day served (UTC):
    /// computed from `last_reviewed` and `next_review`, never written in a
    /// content file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Review, required = true)]
    pub review: Option<Review>,
}

/// Who an article is written for (schema.org's `medicalAudience`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    /// People with the condition.
    Patient,
    /// People who look after them.
    Caregiver,
    /// Health professionals.
    Clinician,
}

impl Audience {
    /// The name schema.org gives this audience.
    pub fn schema_name(self) -> &'static str {
        match self {
            Self::Patient => "Patient",
            Self::Caregiver => "Caregiver",
            Self::Clinician => "Clinician",
        }
    }
}

/// A calendar date, written `2024-05-01` in content files (a TOML date)
/// and in JSON (a string).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// Midnight UTC at the start of this date.
    pub fn to_system_time(self) -> std::time::SystemTime {
        let seconds = u64::try_from(self.days() * 86_400).unwrap_or(0);
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds)
    }

    /// Today's date in UTC, by the system clock.
    pub fn today() -> Self {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Self::from_days(i64::try_from(since.as_secs() / 86_400).unwrap_or(0))
    }

    /// Days since 1970-01-01 (negative before), by H. Hinnant's
    /// days-from-civil algorithm.
    pub fn days(self) -> i64 {
        let (y, m, d) = (
            i64::from(self.year),
            i64::from(self.month),
            i64::from(self.day),
        );
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01 (Hinnant's civil-from-days), for
    /// years 0 to 65535.
    pub fn from_days(days: i64) -> Self {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Self {
            year: u16::try_from(year.clamp(0, i64::from(u16::MAX))).unwrap_or_default(),
            month: u8::try_from(month).unwrap_or(1),
            day: u8::try_from(day).unwrap_or(1),
        }
    }

    /// The date `days` later (earlier when negative).
    pub fn plus_days(self, days: i64) -> Self {
        Self::from_days(self.days() + days)
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Reads a TOML date (in a content file) or a string (in served JSON).
impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DateVisitor;

        impl<'de> serde::de::Visitor<'de> for DateVisitor {
            type Value = Date;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a date such as 2024-05-01")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Date, A::Error> {
                let value = toml::value::Datetime::deserialize(
                    serde::de::value::MapAccessDeserializer::new(map),
                )?;
                Date::from_datetime(value)
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Date, E> {
                let value = text.parse::<toml::value::Datetime>().map_err(E::custom)?;
                Date::from_datetime(value)
            }
        }

        deserializer.deserialize_any(DateVisitor)
    }
}

impl Date {
    fn from_datetime<E: serde::de::Error>(value: toml::value::Datetime) -> Result<Self, E> {
        match (value.date, value.time, value.offset) {
            (Some(date), None, None) => Ok(Self {
                year: date.year,
                month: date.month,
                day: date.day,
            }),
            _ => Err(E::custom(
                "must be a date such as 2024-05-01, without a time",
            )),
        }
    }
}

/// A language tag (BCP 47, e.g. `en`, `es`, `pt-BR`): a 2-3 letter
/// language, then optional subtags; the language is kept in lowercase and a
/// 2-letter region in uppercase, so equal tags compare equal.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lang(Box<str>);

impl Lang {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The language alone, without subtags: `pt` for `pt-BR`.
    pub fn primary(&self) -> &str {
        // A byte loop, not `split('-')`: a search page asks for each hit,
        // and the char searcher's set-up was 2% of a search's CPU.
        let end = self.0.bytes().position(|b| b == b'-');
        &self.0[..end.unwrap_or(self.0.len())]
    }

    /// Whether this is [`Lang::default`], without making one to compare
    /// with (a search page asks twenty times).
    pub fn is_default(&self) -> bool {
        &*self.0 == Self::DEFAULT
    }

    const DEFAULT: &str = "en";
}

impl Default for Lang {
    /// English, the language of the source article.
    fn default() -> Self {
        Self(Self::DEFAULT.into())
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Lang {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        Self::parse(raw).map_err(|shown| {
            // A locale as operating systems write it (`pt_BR`) is the likeliest slip.
            let meant = raw
                .contains('_')
                .then(|| Self::parse(&raw.replace('_', "-")).ok())
                .flatten();
            format!(
                "`{shown}` is not a language tag such as `en` or `pt-BR`{}",
                crate::suggest::did_you_mean(meant)
            )
        })
    }
}

impl Lang {
    /// The tag in its canonical case; what of `raw` an error shows if it is
    /// not one.
    fn parse(raw: &str) -> Result<Self, String> {
        let shown = || raw.chars().take(40).collect::<String>();
        let mut subtags = raw.split('-');
        let language = subtags.next().unwrap_or_default();
        let valid_language =
            (2..=3).contains(&language.len()) && language.bytes().all(|b| b.is_ascii_alphabetic());
        let mut tag = language.to_ascii_lowercase();
        for subtag in subtags {
            if subtag.is_empty()
                || subtag.len() > 8
                || !subtag.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return Err(shown());
            }
            tag.push('-');
            if subtag.len() == 2 {
                tag.push_str(&subtag.to_ascii_uppercase());
            } else {
                tag.push_str(&subtag.to_ascii_lowercase());
            }
        }
        if !valid_language || raw.len() > 35 {
            return Err(shown());
        }
        Ok(Self(tag.into()))
    }
}

impl Serialize for Lang {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Lang {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

/// A prose section: an optional heading and its text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// Identifier, unique among the article's sections.
    #[schema(value_type = Slug, example = "understanding-deep-tissue-massage")]
    pub id: String,
    /// 1-based place among the article's sections (intro, sections, conclusion), in reading order.
    #[serde(default)]
    #[schema(required = true, minimum = 1, example = 2)]
    pub position: u32,
    /// The heading; absent for the opening text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "Understanding Deep Tissue Massage")]
    pub heading: Option<String>,
    /// Plain text; paragraphs are separated by a blank line.
    #[schema(
        example = "Deep tissue massage is a therapeutic technique that focuses on reaching the deeper layers of muscles and connective tissues in the body."
    )]
    pub body: String,
    /// How long it is and how hard to read: computed when the content is
    /// loaded, never written in a content file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Readability, required = true)]
    pub readability: Option<Readability>,
}

/// A titled list of an article's items, such as its benefits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, bound(deserialize = "T: Deserialize<'de>"))]
pub struct Group<T> {
    /// The heading above the list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "Benefits of Deep Tissue Massage for Back Pain Relief")]
    pub heading: Option<String>,
    /// A lead-in sentence between the heading and the list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intro: Option<String>,
    /// The items, in reading order.
    #[serde(default)]
    #[schema(required = true)]
    pub items: Vec<T>,
}

// By hand: the derive would needlessly require `T: Default`.
impl<T> Default for Group<T> {
    fn default() -> Self {
        Self {
            heading: None,
            intro: None,
            items: Vec::new(),
        }
    }
}

/// One benefit of the therapy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Benefit {
    /// Identifier, unique among the article's benefits.
    #[schema(value_type = Slug, example = "reduces-muscle-tension")]
    pub id: String,
    /// 1-based place in the numbered list.
    #[serde(default)]
    #[schema(required = true, minimum = 1, example = 1)]
    pub position: u32,
    /// The benefit in a few words.
    #[schema(example = "Reduces Muscle Tension")]
    pub title: String,
    /// Plain text explaining the benefit.
    #[schema(
        example = "Deep tissue massage effectively helps in reducing muscle tension, which is often a leading cause of back pain. By targeting the deeper layers of muscles, it helps release any built-up tension and promotes relaxation."
    )]
    pub body: String,
    /// The sources it relies on, if the content names any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub citations: Vec<Citation>,
    /// How long it is and how hard to read: computed when the content is
    /// loaded, never written in a content file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Readability, required = true)]
    pub readability: Option<Readability>,
}

/// One precaution to take before or after the therapy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Precaution {
    /// Identifier, unique among the article's precautions.
    #[schema(value_type = Slug, example = "professional-massage-therapist")]
    pub id: String,
    /// 1-based place in the numbered list.
    #[serde(default)]
    #[schema(required = true, minimum = 1, example = 1)]
    pub position: u32,
    /// The precaution in a few words.
    #[schema(example = "Professional Massage Therapist")]
    pub title: String,
    /// Plain text explaining the precaution.
    #[schema(
        example = "It is crucial to choose a licensed and experienced massage therapist who specializes in deep tissue massage. They will have the necessary knowledge and skills to perform the technique correctly and safely."
    )]
    pub body: String,
    /// The sources it relies on, if the content names any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub citations: Vec<Citation>,
    /// How long it is and how hard to read: computed when the content is
    /// loaded, never written in a content file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Readability, required = true)]
    pub readability: Option<Readability>,
}

/// A frequently asked question and its answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Faq {
    /// Identifier, unique among the article's FAQs.
    #[schema(value_type = Slug, example = "what-is-deep-tissue-massage")]
    pub id: String,
    /// 1-based place in the FAQ.
    #[serde(default)]
    #[schema(required = true, minimum = 1, example = 1)]
    pub position: u32,
    /// The question, without a "Q:" marker.
    #[schema(example = "What is deep tissue massage?")]
    pub question: String,
    /// The answer, without an "A:" marker.
    #[schema(
        example = "Deep tissue massage is a therapeutic technique that focuses on reaching the deeper layers of muscles and connective tissues in the body. It involves applying firm pressure and slow strokes to break up muscle knots and tension."
    )]
    pub answer: String,
    /// The sources it relies on, if the content names any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub citations: Vec<Citation>,
    /// How long it is and how hard to read: computed when the content is
    /// loaded, never written in a content file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Readability, required = true)]
    pub readability: Option<Readability>,
}

/// The part of the article where readers leave replies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepliesPart {
    /// The heading above the reply form.
    #[schema(example = "Leave a Reply")]
    pub heading: String,
}

/// An article in a list: enough to show a link to it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ArticleSummary {
    /// The article's identifier in URLs.
    pub slug: Slug,
    /// The article's title.
    #[schema(example = "Back Pain Relief With Deep Tissue Massage")]
    pub title: String,
    /// Where the whole article is served.
    #[schema(example = "/v1/articles/deep-tissue-massage-for-back-pain")]
    pub url: String,
    /// The languages the article is available in (`?lang=` or
    /// `Accept-Language` chooses); the title is in the first that is the
    /// default language, `en`, else in the first.
    #[schema(value_type = Vec<String>, example = json!(["en"]))]
    pub languages: Vec<Lang>,
    /// Where the article stands with its review, as of the day served.
    pub review: Review,
}

/// An item of an article that has an id and a place in a list.
pub trait Part {
    /// How the part is named in messages and URLs, singular: "benefit".
    const KIND: &'static str;
    fn id(&self) -> &str;
    fn set_position(&mut self, position: u32);
    /// The required text fields, by key, for validation and normalising.
    fn texts_mut(&mut self) -> Vec<(&'static str, &mut String)>;
    /// What the part is called: a heading, a title, a question.
    fn title(&self) -> &str;
    /// What it says: a body, an answer.
    fn text(&self) -> &str;
    /// Every text a reader reads in it, in order: heading or title, then text.
    fn reading(&self) -> Vec<&str>;
    /// Its readability, once measured (see [`Part::measure`]).
    fn readability(&self) -> Option<&Readability>;
    /// Measures its readability in `lang` and keeps it; returns what it
    /// counted, for the whole article's.
    fn measure(&mut self, lang: &Lang) -> Tally {
        let tally = Tally::of(self.reading());
        self.set_readability(Readability::of_tally(tally, lang));
        tally
    }
    fn set_readability(&mut self, readability: Readability);
}

macro_rules! part {
    ($ty:ty, $kind:literal, title: $title:expr, text: $text:ident, reading: $reading:expr, $($field:ident),+) => {
        impl Part for $ty {
            const KIND: &'static str = $kind;
            fn id(&self) -> &str {
                &self.id
            }
            fn title(&self) -> &str {
                let title: fn(&Self) -> &str = $title;
                title(self)
            }
            fn text(&self) -> &str {
                &self.$text
            }
            fn set_position(&mut self, position: u32) {
                self.position = position;
            }
            fn texts_mut(&mut self) -> Vec<(&'static str, &mut String)> {
                vec![$((stringify!($field), &mut self.$field)),+]
            }
            fn reading(&self) -> Vec<&str> {
                let reading: fn(&Self) -> Vec<&str> = $reading;
                reading(self)
            }
            fn readability(&self) -> Option<&Readability> {
                self.readability.as_ref()
            }
            fn set_readability(&mut self, readability: Readability) {
                self.readability = Some(readability);
            }
        }
    };
}

part!(Section, "section", title: |s| s.heading.as_deref().unwrap_or_default(), text: body,
    reading: |s| s.heading.iter().map(String::as_str).chain([s.body.as_str()]).collect(), body);
part!(Benefit, "benefit", title: |b| &b.title, text: body,
    reading: |b| vec![&b.title, &b.body], title, body);
part!(Precaution, "precaution", title: |p| &p.title, text: body,
    reading: |p| vec![&p.title, &p.body], title, body);
part!(Faq, "faq", title: |f| &f.question, text: answer,
    reading: |f| vec![&f.question, &f.answer], question, answer);

impl Article {
    /// Computes its review status as of `today`.
    pub fn review_on(&mut self, today: Date) {
        self.review = Some(Review::on(self.last_reviewed, self.next_review, today));
    }

    /// Measures the readability of each part and of the whole, which is
    /// every text a reader reads, in order (headings and lead-ins included).
    pub fn measure(&mut self) {
        let lang = self.lang.clone();
        // Each text is counted once: the whole adds up its parts' tallies.
        let mut whole = Tally::of([self.title.as_str()]);
        for section in self
            .intro
            .iter_mut()
            .chain(&mut self.sections)
            .chain(&mut self.conclusion)
        {
            whole = whole + section.measure(&lang);
        }
        fn group<T: Part>(group: &mut Group<T>, lang: &Lang) -> Tally {
            let lead = Tally::of(group.heading.iter().chain(&group.intro).map(String::as_str));
            lead + group.items.iter_mut().map(|item| item.measure(lang)).sum()
        }
        whole = whole + group(&mut self.benefits, &lang);
        whole = whole + group(&mut self.precautions, &lang);
        whole = whole + group(&mut self.faqs, &lang);
        self.readability = Some(Readability::of_tally(whole, &lang));
    }

    /// The article's prose in reading order: intro, sections, conclusion;
    /// what `/sections` lists.
    pub fn prose(&self) -> impl Iterator<Item = &Section> {
        self.intro
            .iter()
            .chain(&self.sections)
            .chain(&self.conclusion)
    }
}

impl Slug {
    /// Stands in until the loader sets the slug from the file name.
    pub(crate) fn unset() -> Self {
        "unset".parse().expect("a valid slug")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Date {
        serde_json::from_value(serde_json::Value::String(text.into())).unwrap()
    }

    #[test]
    fn days_count_from_the_unix_epoch_and_back() {
        assert_eq!(date("1970-01-01").days(), 0);
        assert_eq!(date("2000-03-01").days(), 11_017);
        for text in [
            "1970-01-01",
            "2024-02-29",
            "2024-12-31",
            "2100-03-01",
            "1969-12-31",
        ] {
            assert_eq!(Date::from_days(date(text).days()), date(text), "{text}");
        }
    }

    #[test]
    fn adding_days_crosses_months_leap_days_and_years() {
        assert_eq!(date("2024-02-28").plus_days(1), date("2024-02-29"));
        assert_eq!(date("2024-02-29").plus_days(1), date("2024-03-01"));
        assert_eq!(date("2025-02-28").plus_days(1), date("2025-03-01"));
        assert_eq!(date("2024-12-31").plus_days(1), date("2025-01-01"));
        assert_eq!(date("2025-01-01").plus_days(-1), date("2024-12-31"));
        assert_eq!(date("2024-05-01").plus_days(365), date("2025-05-01"));
    }

    #[test]
    fn today_is_a_real_date() {
        let today = Date::today();
        assert!(today > date("2024-01-01"));
        assert_eq!(Date::from_days(today.days()), today);
    }
}
