//! Replies: the article's "Leave a Reply" form as a moderated resource.
//!
//! Readers post replies; nothing is public until a moderator approves it.
//! This module holds the types (each one the JSON body, the stored row and
//! the OpenAPI schema), the rules a posted reply must meet ([`validate`]),
//! and the database behind them ([`db`]). Article content never touches it.

pub mod db;
pub mod guard;
mod validate;

use std::{
    fmt,
    str::FromStr,
    time::{Duration, UNIX_EPOCH},
};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use db::{
    ChangeQuery, Changes, ContentChange, Created, Database, DatabaseTlsError, DatabaseUrlError,
    DueDelivery, ItemDigest, NewChange, PostCount, Recorded, now_millis,
};
pub use validate::{MAX_REPLY_BYTES, parse_correction, parse_decision, parse_reply};

/// Why replies refused a request, or could not carry it out. `error.rs`
/// says what each is in HTTP.
#[derive(Debug, thiserror::Error)]
pub enum ReplyError {
    /// The body is not JSON at all.
    #[error("{0}")]
    Malformed(String),
    /// The body breaks the rules: each broken rule is in `violations`.
    #[error("{detail}")]
    Invalid {
        detail: String,
        violations: Vec<Violation>,
    },
    /// The request cannot be carried out in the present state (a retried
    /// post whose reply a moderator has deleted since).
    #[error("{0}")]
    Conflict(String),
    /// An edit token that does not open the reply: not its own, or its
    /// window has closed (which of the two is not said).
    #[error(
        "this Reply-Token does not allow changing this reply (a reply can be changed with the \
         edit_token its 202 carried, for 15 minutes)"
    )]
    TokenRefused,
    /// The database cannot answer now; it may in `retry_after` seconds.
    #[error("the replies database cannot answer now")]
    Down { retry_after: u64 },
}

/// One rule one field of a posted body breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The field, by its name in the body (empty for the body as a whole).
    pub field: String,
    /// The rule: `required`, `type`, `min_length`, `max_length`, ...
    pub rule: String,
    /// What to fix, for a person.
    pub message: String,
}

impl Violation {
    pub fn new(field: &str, rule: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            rule: rule.to_owned(),
            message: message.into(),
        }
    }
}

/// Where a reply stands in moderation. Only `approved` replies are public.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReplyStatus {
    /// Waiting for a moderator; every reply starts here.
    #[default]
    Pending,
    /// Public.
    Approved,
    /// Refused by a moderator.
    Rejected,
    /// Refused as spam.
    Spam,
}

impl ReplyStatus {
    pub const ALL: [Self; 4] = [Self::Pending, Self::Approved, Self::Rejected, Self::Spam];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Spam => "spam",
        }
    }
}

impl fmt::Display for ReplyStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReplyStatus {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == raw)
            .ok_or_else(|| "must be one of `pending`, `approved`, `rejected`, `spam`".to_owned())
    }
}

/// A reply's id: a positive integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ReplyId(i64);

impl ReplyId {
    pub fn get(self) -> i64 {
        self.0
    }
}

impl TryFrom<i64> for ReplyId {
    type Error = String;

    fn try_from(id: i64) -> Result<Self, String> {
        if id >= 1 {
            Ok(Self(id))
        } else {
            Err(format!("must be a positive integer, not `{id}`"))
        }
    }
}

impl FromStr for ReplyId {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        // Digits only: `+7` and ` 7` are not how ids are written.
        if raw.is_empty() || raw.len() > 19 || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "must be a positive integer, not `{}`",
                raw.chars().take(32).collect::<String>()
            ));
        }
        raw.parse::<i64>()
            .map_err(|_| format!("must be a positive integer, not `{raw}`"))
            .and_then(Self::try_from)
    }
}

impl fmt::Display for ReplyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A reply as a reader posts it. Unknown fields are refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReply {
    /// The name shown with the reply: 1 to 80 characters, no control characters.
    #[schema(
        min_length = 1,
        max_length = 80,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*$",
        example = "Dana"
    )]
    pub author_name: String,
    /// An address moderators may use to reach the author; never shown publicly.
    #[schema(format = Email, max_length = 254, example = "dana@example.com")]
    pub author_email: Option<String>,
    /// The reply, as plain text (never interpreted as HTML): 1 to 5,000
    /// characters; line breaks and tabs allowed, other control characters not.
    #[schema(
        min_length = 1,
        max_length = 5000,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$",
        example = "Thank you, the stretches before bed help me too."
    )]
    pub body: String,
    /// The id of the approved reply of the same article that this one answers.
    #[schema(value_type = Option<i64>, minimum = 1, example = json!(null))]
    pub parent_id: Option<ReplyId>,
}

/// An author's correction of their reply: the fields given replace those
/// stored (`author_email: null` removes the address); at least one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct ReplyCorrection {
    /// The name shown with the reply: 1 to 80 characters.
    #[schema(min_length = 1, max_length = 80, example = "Dana")]
    pub author_name: Option<String>,
    /// The address moderators may use; `null` removes it.
    #[schema(value_type = Option<String>, format = Email, max_length = 254, example = "dana@example.com")]
    pub author_email: Option<Option<String>>,
    /// The reply, as plain text: 1 to 5,000 characters.
    #[schema(
        min_length = 1,
        max_length = 5000,
        example = "Thank you, the stretches before bed help me a lot."
    )]
    pub body: Option<String>,
}

/// An author's e-mail address, as a path names it: checked by the rules
/// replies are posted with (at most 254 characters, an address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorEmail(String);

impl AuthorEmail {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for AuthorEmail {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        if raw.chars().count() <= 254 && email_address::EmailAddress::is_valid(raw) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(format!(
                "must be an e-mail address, not `{}`",
                raw.chars().take(64).collect::<String>()
            ))
        }
    }
}

impl fmt::Display for AuthorEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Every reply sent with one e-mail address, whatever its status: what a
/// person gets when they ask for their data (GDPR article 15).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuthorReplies {
    /// The address asked for (replies match it without regard to case).
    #[schema(example = "dana@example.com")]
    pub email: String,
    /// The replies, oldest first.
    pub items: Vec<ModeratedReply>,
    /// How many there are.
    #[schema(example = 2)]
    pub total: usize,
}

/// What erasing a person's replies came to (GDPR article 17).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Erasure {
    /// How many replies were erased.
    #[schema(example = 2)]
    pub deleted: u64,
}

/// What `POST .../replies` answers: the reply is stored and awaits moderation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReplyReceipt {
    /// The reply's id.
    #[schema(example = 42)]
    pub id: i64,
    /// Always `pending`: a moderator decides what is shown.
    #[schema(example = "pending")]
    pub status: ReplyStatus,
    /// When the reply was received (RFC 3339, UTC).
    #[schema(format = DateTime, example = "2026-11-26T15:20:16.123Z")]
    pub created_at: String,
    /// Lets the author correct (`PATCH`) or withdraw (`DELETE`) the reply,
    /// sent as the `Reply-Token` header, until `editable_until`. Shown only
    /// here (the server keeps its hash): keep it with the reply. Absent from
    /// a replayed answer once the window has closed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "qL3nXb0r5m1T8w2cV6yZ4aKpD9sHfJgE7uQoRiNt0lM")]
    pub edit_token: Option<String>,
    /// When the edit window closes: 15 minutes after the reply was received.
    #[schema(format = DateTime, example = "2026-11-26T15:35:16.123Z")]
    pub editable_until: String,
}

impl ReplyReceipt {
    /// The receipt of reply `id`, received at `created_at`.
    pub fn new(id: i64, created_at: Timestamp, edit_token: Option<String>) -> Self {
        Self {
            id,
            // Spam too: a bot learns nothing.
            status: ReplyStatus::Pending,
            created_at: created_at.to_string(),
            edit_token,
            editable_until: Timestamp::from(guard::editable_until(created_at.millis())).to_string(),
        }
    }
}

/// An approved reply, as every reader sees it.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Reply {
    /// The reply's id.
    #[schema(example = 42)]
    pub id: i64,
    /// The reply this one answers, if any.
    #[schema(example = json!(null))]
    pub parent_id: Option<i64>,
    /// The name the author gave.
    #[schema(example = "Dana")]
    pub author_name: String,
    /// The reply, as plain text: show it as text, never as HTML.
    #[schema(example = "Thank you, the stretches before bed help me too.")]
    pub body: String,
    /// When the reply was received (RFC 3339, UTC).
    #[schema(value_type = String, format = DateTime, example = "2026-11-26T15:20:16.123Z")]
    #[sqlx(try_from = "i64")]
    pub created_at: Timestamp,
}

/// A reply as moderators see it: with its status, article and the author's
/// e-mail address. The client's network address is kept for abuse
/// investigations but shown to no one.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct ModeratedReply {
    /// The reply's id.
    #[schema(example = 42)]
    pub id: i64,
    /// The slug of the article replied to.
    #[schema(example = "deep-tissue-massage-for-back-pain")]
    pub article: String,
    /// The reply this one answers, if any.
    #[schema(example = json!(null))]
    pub parent_id: Option<i64>,
    /// The name the author gave.
    #[schema(example = "Dana")]
    pub author_name: String,
    /// The address the author gave, if any.
    #[schema(example = "dana@example.com")]
    pub author_email: Option<String>,
    /// The reply, as plain text.
    #[schema(example = "Thank you, the stretches before bed help me too.")]
    pub body: String,
    /// Where the reply stands in moderation.
    #[sqlx(try_from = "String")]
    pub status: ReplyStatus,
    /// When the reply was received (RFC 3339, UTC).
    #[schema(value_type = String, format = DateTime, example = "2026-11-26T15:20:16.123Z")]
    #[sqlx(try_from = "i64")]
    pub created_at: Timestamp,
    /// When the reply was last moderated, or received if never (RFC 3339, UTC).
    #[schema(value_type = String, format = DateTime, example = "2026-11-26T16:02:44.918Z")]
    #[sqlx(try_from = "i64")]
    pub updated_at: Timestamp,
}

impl TryFrom<String> for ReplyStatus {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, String> {
        raw.parse()
    }
}

// Stored as its text on either backend; read back typed, so that the code
// deciding what a change announces compares statuses, not strings.
impl<DB: sqlx::Database> sqlx::Type<DB> for ReplyStatus
where
    String: sqlx::Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <String as sqlx::Type<DB>>::type_info()
    }

    fn compatible(ty: &DB::TypeInfo) -> bool {
        <String as sqlx::Type<DB>>::compatible(ty)
    }
}

impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for ReplyStatus
where
    String: sqlx::Decode<'r, DB>,
{
    fn decode(value: DB::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        Ok(<String as sqlx::Decode<'r, DB>>::decode(value)?.parse()?)
    }
}

/// A moderator's decision on a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModerationDecision {
    /// The reply's new status; `approved` makes it public.
    #[schema(example = "approved")]
    pub status: ReplyStatus,
}

/// A moment, stored as milliseconds since the Unix epoch and written as
/// RFC 3339 in UTC with milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(i64);

impl Timestamp {
    pub fn now() -> Self {
        let since = std::time::SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Self(i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
    }

    pub fn millis(self) -> i64 {
        self.0
    }
}

impl From<i64> for Timestamp {
    fn from(millis: i64) -> Self {
        Self(millis)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = UNIX_EPOCH + Duration::from_millis(u64::try_from(self.0).unwrap_or(0));
        humantime::format_rfc3339_millis(at).fmt(f)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_ids_are_positive_integers_written_plainly() {
        assert_eq!("42".parse::<ReplyId>().map(ReplyId::get), Ok(42));
        for bad in [
            "0",
            "-1",
            "+1",
            " 1",
            "1.0",
            "abc",
            "",
            "99999999999999999999",
        ] {
            assert!(bad.parse::<ReplyId>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn author_emails_are_addresses() {
        assert_eq!(
            "dana@example.com"
                .parse::<AuthorEmail>()
                .map(|e| e.to_string()),
            Ok("dana@example.com".to_owned())
        );
        for bad in [
            "",
            "dana",
            "dana@",
            "@example.com",
            &format!("{}@x.org", "a".repeat(250)),
        ] {
            assert!(bad.parse::<AuthorEmail>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn statuses_are_their_lowercase_names() {
        for status in ReplyStatus::ALL {
            assert_eq!(status.as_str().parse(), Ok(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::Value::String(status.to_string())
            );
        }
        assert!("Approved".parse::<ReplyStatus>().is_err());
    }

    #[test]
    fn timestamps_are_rfc3339_utc_with_milliseconds() {
        assert_eq!(
            Timestamp::from(1_795_706_416_123).to_string(),
            "2026-11-26T15:20:16.123Z"
        );
    }
}
