//! Review status: whether an article's facts were checked recently enough,
//! as health publishers show it. Computed from the article's
//! `last_reviewed` and `next_review` against a given day (the server's
//! today, in UTC), so a status moves on as the days pass without an edit.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Date;

/// A review is `due` this many days before its date.
pub const DUE_WITHIN_DAYS: i64 = 30;
/// When a file gives `last_reviewed` but no `next_review`, the next review
/// is due this many days after the last (health publishers review at least
/// once a year).
pub const DEFAULT_INTERVAL_DAYS: i64 = 365;

/// Where an article stands with its review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReviewStatus {
    /// Reviewed, and the next review is more than 30 days away.
    Current,
    /// The next review is within 30 days.
    Due,
    /// The next review's date has passed.
    Overdue,
    /// Never reviewed: the content gives no `last_reviewed`.
    Unreviewed,
}

impl ReviewStatus {
    pub const ALL: [Self; 4] = [Self::Current, Self::Due, Self::Overdue, Self::Unreviewed];

    /// Its name, as in JSON and in `?review_status=`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Current => "current",
            Self::Due => "due",
            Self::Overdue => "overdue",
            Self::Unreviewed => "unreviewed",
        }
    }
}

impl std::str::FromStr for ReviewStatus {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == raw)
            .ok_or_else(|| "must be one of `current`, `due`, `overdue`, `unreviewed`".to_owned())
    }
}

/// An article's review: its dates and its status on the day it was served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Review {
    /// When a reviewer last checked the article's facts; null if never.
    #[schema(value_type = Option<String>, format = Date, example = "2024-05-01")]
    pub last_reviewed: Option<Date>,
    /// When the next review is due: the content's `next_review`, else a
    /// year after `last_reviewed`; null if never reviewed and none is set.
    #[schema(value_type = Option<String>, format = Date, example = "2025-05-01")]
    pub next_review: Option<Date>,
    /// `current`, `due` (within 30 days), `overdue` or `unreviewed`, as of
    /// the day served (UTC).
    #[schema(example = "current")]
    pub status: ReviewStatus,
}

impl Review {
    /// The review of an article with these dates, as of `today`.
    pub fn on(last_reviewed: Option<Date>, next_review: Option<Date>, today: Date) -> Self {
        let next_review =
            next_review.or_else(|| last_reviewed.map(|last| last.plus_days(DEFAULT_INTERVAL_DAYS)));
        let status = match (last_reviewed, next_review) {
            (None, _) => ReviewStatus::Unreviewed,
            (Some(_), Some(next)) if today > next => ReviewStatus::Overdue,
            (Some(_), Some(next)) if next.days() - today.days() <= DUE_WITHIN_DAYS => {
                ReviewStatus::Due
            }
            (Some(_), _) => ReviewStatus::Current,
        };
        Self {
            last_reviewed,
            next_review,
            status,
        }
    }
}

/// What `relief-api validate` warns of: each article whose review is
/// overdue as of `today`, naming it and since when.
pub fn overdue_warnings(articles: &[super::Article], today: Date) -> Vec<String> {
    articles
        .iter()
        .filter_map(|article| {
            let review = Review::on(article.last_reviewed, article.next_review, today);
            let next = review.next_review?;
            (review.status == ReviewStatus::Overdue).then(|| {
                format!(
                    "warning: article `{}` ({}): review overdue since {next} (last reviewed {}); \
                     review it and set last_reviewed and next_review",
                    article.slug,
                    article.lang,
                    article
                        .last_reviewed
                        .map_or_else(String::new, |d| d.to_string())
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Date {
        serde_json::from_value(serde_json::Value::String(text.into())).unwrap()
    }

    fn status(last: Option<&str>, next: Option<&str>, today: &str) -> ReviewStatus {
        Review::on(last.map(date), next.map(date), date(today)).status
    }

    #[test]
    fn an_article_never_reviewed_is_unreviewed_whatever_is_planned() {
        assert_eq!(status(None, None, "2026-01-01"), ReviewStatus::Unreviewed);
        assert_eq!(
            status(None, Some("2027-01-01"), "2026-01-01"),
            ReviewStatus::Unreviewed
        );
    }

    #[test]
    fn a_review_is_current_then_due_thirty_days_before_then_overdue_the_day_after() {
        let at = |today| status(Some("2025-01-01"), Some("2026-01-31"), today);
        assert_eq!(at("2025-12-31"), ReviewStatus::Current);
        assert_eq!(at("2026-01-01"), ReviewStatus::Due);
        assert_eq!(at("2026-01-31"), ReviewStatus::Due);
        assert_eq!(at("2026-02-01"), ReviewStatus::Overdue);
    }

    #[test]
    fn without_a_next_review_the_next_is_a_year_after_the_last() {
        let review = Review::on(Some(date("2024-05-01")), None, date("2025-06-01"));
        assert_eq!(review.next_review, Some(date("2025-05-01")));
        assert_eq!(review.status, ReviewStatus::Overdue);
    }

    #[test]
    fn statuses_are_named_in_lowercase_alike_in_json_and_urls() {
        use ReviewStatus::*;
        for status in [Current, Due, Overdue, Unreviewed] {
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
    }
}
