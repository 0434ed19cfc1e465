//! The rules a posted reply (and a moderator's decision) must meet.
//!
//! The body is read as a JSON object and checked field by field, so that a
//! client learns every problem at once, each with its field, the rule it
//! broke and a message, rather than serde's first error alone.

use serde_json::{Map, Value};
use unicode_normalization::UnicodeNormalization;

use crate::suggest;

use super::{ModerationDecision, NewReply, ReplyCorrection, ReplyError, ReplyId, Violation};

const NAME_MAX: usize = 80;
const BODY_MAX: usize = 5000;
/// The longest address SMTP carries (RFC 5321, 4.5.3.1.3).
const EMAIL_MAX: usize = 254;

/// The most bytes a reply's request body may have: every reply these rules
/// accept fits, even with each character sent at its longest (12 bytes: a
/// JSON `\uXXXX\uXXXX` surrogate pair, or four UTF-8 bytes percent-encoded
/// in a form), so that the rules decide (422), not the transport (413).
pub const MAX_REPLY_BYTES: usize = 64 * 1024;
const _: () = assert!(12 * (NAME_MAX + BODY_MAX + EMAIL_MAX) + 1024 <= MAX_REPLY_BYTES);

/// Characters that are invisible or reorder what follows: bidirectional
/// embeddings, overrides and isolates (U+202A-202E, U+2066-2069), and
/// zero-width spaces and joiners (U+200B-200D, U+2060, U+FEFF). In a reply
/// they hide or disguise text from a moderator and a reader.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// Validates the JSON body of `POST /v1/articles/{slug}/replies`. Whether a
/// `parent_id` names an approved reply of the article is checked on storing.
pub fn parse_reply(body: &[u8]) -> Result<NewReply, ReplyError> {
    let mut fields = Fields::parse(body, &["author_name", "author_email", "body", "parent_id"])?;
    let author_name = fields.text("author_name", NAME_MAX, false);
    let author_email = fields.optional_email("author_email");
    let text = fields.text("body", BODY_MAX, true);
    let parent_id = fields.optional_id("parent_id");
    fields.finish("reply")?;
    Ok(NewReply {
        author_name: author_name.unwrap_or_default(),
        author_email: author_email.flatten(),
        body: text.unwrap_or_default(),
        parent_id: parent_id.flatten(),
    })
}

/// Validates the JSON body of an author's `PATCH
/// /v1/articles/{slug}/replies/{id}`: the fields of a reply, each by its
/// rule, any of them, at least one.
pub fn parse_correction(body: &[u8]) -> Result<ReplyCorrection, ReplyError> {
    let mut fields = Fields::parse(body, &["author_name", "author_email", "body"])?;
    if fields.object.is_empty() && fields.errors.is_empty() {
        fields.error::<()>("", "min_properties", "name at least one field to correct");
    }
    let present = |fields: &Fields, field| fields.object.contains_key(field);
    let author_name = if present(&fields, "author_name") {
        fields.text("author_name", NAME_MAX, false)
    } else {
        None
    };
    let author_email = if present(&fields, "author_email") {
        fields.optional_email("author_email")
    } else {
        None
    };
    let text = if present(&fields, "body") {
        fields.text("body", BODY_MAX, true)
    } else {
        None
    };
    fields.finish("correction")?;
    Ok(ReplyCorrection {
        author_name,
        author_email,
        body: text,
    })
}

/// Validates the JSON body of `PATCH /v1/moderation/replies/{id}`.
pub fn parse_decision(body: &[u8]) -> Result<ModerationDecision, ReplyError> {
    let mut fields = Fields::parse(body, &["status"])?;
    let status = fields
        .take("status")
        .and_then(|value| match value.as_str().map(str::parse) {
            Some(Ok(status)) => Some(status),
            Some(Err(message)) => fields.error("status", "enum", message),
            None => fields.error("status", "type", "must be a string"),
        });
    fields.finish("decision")?;
    Ok(ModerationDecision {
        status: status.expect("finish() refuses a decision without a status"),
    })
}

/// The names a JSON object gives more than once, each named once. Parsers
/// disagree on which of a repeated name's values counts (serde_json keeps
/// the last, others the first), so a tool in front of the API could read
/// another reply than the one stored: such a body is refused, as I-JSON
/// (RFC 7493) asks.
#[derive(Default)]
struct Repeated(Vec<String>);

impl<'de> serde::Deserialize<'de> for Repeated {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Names;
        impl<'de> serde::de::Visitor<'de> for Names {
            type Value = Repeated;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Repeated, A::Error> {
                let mut seen = std::collections::HashSet::new();
                let mut repeated = Vec::new();
                while let Some(name) = map.next_key::<String>()? {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    if !seen.insert(name.clone()) && !repeated.contains(&name) {
                        repeated.push(name);
                    }
                }
                Ok(Repeated(repeated))
            }
        }
        deserializer.deserialize_map(Names)
    }
}

/// A JSON object being checked, and the problems found so far.
struct Fields {
    object: Map<String, Value>,
    errors: Vec<Violation>,
}

impl Fields {
    /// Parses `body` as a JSON object; fields other than `known` are errors.
    fn parse(body: &[u8], known: &[&str]) -> Result<Self, ReplyError> {
        // A byte order mark that some tools (PowerShell, .NET) put first
        // is passed over, as RFC 8259 section 8.1 lets a parser do.
        let body = body.strip_prefix("\u{feff}".as_bytes()).unwrap_or(body);
        if body.trim_ascii().is_empty() {
            return Err(ReplyError::Malformed(format!(
                "the body is empty; send a JSON object with the fields {}",
                known.join(", ")
            )));
        }
        // Said before parsing: serde_json's word for a Latin-1 `é` is an
        // "invalid unicode code point", which does not name the fix.
        if let Err(error) = std::str::from_utf8(body) {
            return Err(ReplyError::Malformed(format!(
                "the body is not UTF-8 text (byte {} is not); send JSON in UTF-8, as RFC 8259 requires",
                error.valid_up_to() + 1
            )));
        }
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| ReplyError::Malformed(format!("the body is not valid JSON: {e}")))?;
        let Value::Object(object) = value else {
            return Err(ReplyError::Invalid {
                detail: "the body must be a JSON object".into(),
                violations: vec![Violation::new("", "type", "must be a JSON object")],
            });
        };
        let unknown = object
            .keys()
            .filter(|key| !known.contains(&key.as_str()))
            .map(|key| {
                let message = format!(
                    "is not a field; {}{}",
                    suggest::listing("field", known),
                    suggest::did_you_mean(suggest::nearest(key, known))
                );
                Violation::new(key, "unknown_field", message)
            });
        // The body parsed as an object once, so it parses as one again.
        let Repeated(repeated) = serde_json::from_slice(body).unwrap_or_default();
        let repeated = repeated.into_iter().map(|key| {
            Violation::new(
                &key,
                "repeated_field",
                "is given more than once; give it once",
            )
        });
        let errors = repeated.chain(unknown).collect();
        Ok(Self { object, errors })
    }

    /// Records a problem with `field`; returns `None` for the caller's convenience.
    fn error<T>(&mut self, field: &str, rule: &str, message: impl Into<String>) -> Option<T> {
        self.errors.push(Violation::new(field, rule, message));
        None
    }

    /// The field's value; a missing or `null` one is recorded as required.
    fn take(&mut self, field: &str) -> Option<Value> {
        match self.object.remove(field) {
            None | Some(Value::Null) => self.error(field, "required", "is required"),
            value => value,
        }
    }

    /// The field's value if present and not `null`: `Some(None)` when absent.
    fn take_optional(&mut self, field: &str) -> Option<Option<Value>> {
        match self.object.remove(field) {
            None | Some(Value::Null) => Some(None),
            value => Some(value),
        }
    }

    /// A required string of 1 to `max` characters, normalised to NFC
    /// before it is measured, that is not blank and has neither control
    /// characters (`multiline` allows line breaks and tabs) nor invisible
    /// ones ([`is_invisible`]).
    fn text(&mut self, field: &str, max: usize, multiline: bool) -> Option<String> {
        let value = self.take(field)?;
        let Value::String(text) = value else {
            return self.error(field, "type", "must be a string");
        };
        let text: String = text.nfc().collect();
        let length = text.chars().count();
        if length == 0 {
            return self.error(field, "min_length", "must not be empty");
        }
        if length > max {
            return self.error(
                field,
                "max_length",
                format!("must be at most {max} characters, not {length}"),
            );
        }
        let allowed = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
        if let Some(c) = text.chars().find(|&c| c.is_control() && !allowed(c)) {
            return self.error(
                field,
                "no_control_characters",
                format!(
                    "must not contain control characters (found U+{:04X})",
                    u32::from(c)
                ),
            );
        }
        if let Some(c) = text.chars().find(|&c| is_invisible(c)) {
            return self.error(
                field,
                "no_invisible_characters",
                format!(
                    "must not contain invisible or direction-changing characters (found U+{:04X})",
                    u32::from(c)
                ),
            );
        }
        if text.trim().is_empty() {
            return self.error(field, "not_blank", "must contain more than white space");
        }
        Some(text)
    }

    fn optional_email(&mut self, field: &str) -> Option<Option<String>> {
        let Some(value) = self.take_optional(field)? else {
            return Some(None);
        };
        let Value::String(email) = value else {
            return self.error(field, "type", "must be a string");
        };
        if email.chars().count() > EMAIL_MAX {
            return self.error(
                field,
                "max_length",
                format!("must be at most {EMAIL_MAX} characters"),
            );
        }
        if !email_address::EmailAddress::is_valid(&email) {
            return self.error(field, "email", "must be an e-mail address");
        }
        Some(Some(email))
    }

    fn optional_id(&mut self, field: &str) -> Option<Option<ReplyId>> {
        let Some(value) = self.take_optional(field)? else {
            return Some(None);
        };
        match value.as_i64().map(ReplyId::try_from) {
            Some(Ok(id)) => Some(Some(id)),
            Some(Err(message)) => self.error(field, "minimum", message),
            None => self.error(field, "type", "must be an integer"),
        }
    }

    /// Fails with every problem found, if any.
    fn finish(self, what: &str) -> Result<(), ReplyError> {
        if self.errors.is_empty() {
            return Ok(());
        }
        let count = self.errors.len();
        Err(ReplyError::Invalid {
            detail: format!(
                "the {what} is not valid: {count} problem{}, listed in `errors`",
                if count == 1 { "" } else { "s" }
            ),
            violations: self.errors,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(body: &str) -> Vec<(String, String)> {
        match parse_reply(body.as_bytes()) {
            Ok(reply) => panic!("accepted: {reply:?}"),
            Err(ReplyError::Invalid {
                violations: errors, ..
            }) => errors.into_iter().map(|e| (e.field, e.rule)).collect(),
            Err(other) => vec![("-".into(), other.to_string())],
        }
    }

    fn pair(field: &str, rule: &str) -> (String, String) {
        (field.into(), rule.into())
    }

    #[test]
    fn a_complete_reply_is_accepted_as_sent() {
        let reply = parse_reply(
            br#"{"author_name":"Dana","author_email":"dana@example.com","body":"Line one\nline two","parent_id":3}"#,
        )
        .unwrap();
        assert_eq!(reply.author_name, "Dana");
        assert_eq!(reply.author_email.as_deref(), Some("dana@example.com"));
        assert_eq!(reply.body, "Line one\nline two");
        assert_eq!(reply.parent_id.map(ReplyId::get), Some(3));
    }

    #[test]
    fn email_and_parent_are_optional_and_may_be_null() {
        let reply =
            parse_reply(br#"{"author_name":"D","body":"b","author_email":null,"parent_id":null}"#)
                .unwrap();
        assert_eq!(reply.author_email, None);
        assert_eq!(reply.parent_id, None);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        assert_eq!(
            errors(r#"{"author_email":"not an address","parent_id":0,"extra":1}"#),
            vec![
                pair("extra", "unknown_field"),
                pair("author_name", "required"),
                pair("author_email", "email"),
                pair("body", "required"),
                pair("parent_id", "minimum"),
            ]
        );
    }

    #[test]
    fn a_field_given_twice_is_refused_whichever_value_would_count() {
        assert_eq!(
            errors(r#"{"body":"a","author_name":"D","body":"b","body":"c","x":1,"x":2}"#),
            vec![
                pair("body", "repeated_field"),
                pair("x", "repeated_field"),
                pair("x", "unknown_field"),
            ]
        );
        let ReplyError::Invalid { violations, .. } =
            parse_decision(br#"{"status":"approved","status":"spam"}"#).unwrap_err()
        else {
            panic!("a decision given twice was not refused as invalid");
        };
        assert_eq!(violations[0].rule, "repeated_field");
        // A name repeated within a value is that value's problem, not a
        // field given twice.
        assert_eq!(
            errors(r#"{"author_name":"D","body":{"x":1,"x":2}}"#),
            vec![pair("body", "type")]
        );
    }

    #[test]
    fn lengths_are_counted_in_characters() {
        let name = "é".repeat(80);
        let ok = format!(r#"{{"author_name":"{name}","body":"b"}}"#);
        assert!(parse_reply(ok.as_bytes()).is_ok());
        let long = format!(
            r#"{{"author_name":"{name}é","body":"{}"}}"#,
            "x".repeat(5001)
        );
        assert_eq!(
            errors(&long),
            vec![
                pair("author_name", "max_length"),
                pair("body", "max_length")
            ]
        );
        assert_eq!(
            errors(r#"{"author_name":"","body":""}"#),
            vec![
                pair("author_name", "min_length"),
                pair("body", "min_length")
            ]
        );
    }

    #[test]
    fn control_characters_are_refused_but_the_body_may_break_lines() {
        assert_eq!(
            errors(r#"{"author_name":"Da\nna","body":"a\u0007b"}"#),
            vec![
                pair("author_name", "no_control_characters"),
                pair("body", "no_control_characters")
            ]
        );
        assert!(parse_reply(br#"{"author_name":"Dana","body":"a\r\n\tb"}"#).is_ok());
    }

    #[test]
    fn invisible_and_blank_text_is_refused() {
        for invisible in [
            '\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}', '\u{200B}', '\u{200D}', '\u{2060}',
            '\u{FEFF}',
        ] {
            let body = serde_json::json!({ "author_name": format!("Da{invisible}na"), "body": format!("a{invisible}b") });
            assert_eq!(
                errors(&body.to_string()),
                vec![
                    pair("author_name", "no_invisible_characters"),
                    pair("body", "no_invisible_characters")
                ],
                "U+{:04X}",
                u32::from(invisible)
            );
        }
        assert_eq!(
            errors(r#"{"author_name":"   ","body":"\n\n\t"}"#),
            vec![pair("author_name", "not_blank"), pair("body", "not_blank")]
        );
        // Visible text around white space is fine, and so is a joiner's
        // absence from ordinary emoji.
        assert!(parse_reply(r#"{"author_name":"Dana Q","body":" 👍 \n"}"#.as_bytes()).is_ok());
    }

    #[test]
    fn text_is_normalised_to_nfc_before_it_is_measured() {
        // "é" sent decomposed (e + U+0301) is one character, stored composed.
        let name = "e\u{301}".repeat(80);
        let body = serde_json::json!({ "author_name": name, "body": "b" });
        let reply = parse_reply(body.to_string().as_bytes()).unwrap();
        assert_eq!(reply.author_name, "é".repeat(80));
    }

    #[test]
    fn the_longest_reply_fits_the_byte_limit_however_it_is_encoded() {
        let emoji = "😀".repeat(BODY_MAX);
        let name = "😀".repeat(NAME_MAX);
        let escaped = format!(
            r#"{{"author_name":"{}","body":"{}"}}"#,
            "\\ud83d\\ude00".repeat(NAME_MAX),
            "\\ud83d\\ude00".repeat(BODY_MAX)
        );
        assert!(escaped.len() <= MAX_REPLY_BYTES, "{}", escaped.len());
        assert_eq!(parse_reply(escaped.as_bytes()).unwrap().body, emoji);
        let form = serde_urlencoded::to_string([("author_name", &name), ("body", &emoji)]).unwrap();
        assert!(form.len() <= MAX_REPLY_BYTES, "{}", form.len());
    }

    #[test]
    fn wrong_types_are_named() {
        assert_eq!(
            errors(r#"{"author_name":7,"body":["x"],"author_email":1,"parent_id":"3"}"#),
            vec![
                pair("author_name", "type"),
                pair("author_email", "type"),
                pair("body", "type"),
                pair("parent_id", "type"),
            ]
        );
        assert_eq!(errors("[]"), vec![pair("", "type")]);
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        assert!(matches!(
            parse_reply(b"{\"author_name\":"),
            Err(ReplyError::Malformed(_))
        ));
    }

    #[test]
    fn a_body_not_in_utf8_is_told_so_and_a_byte_order_mark_is_passed_over() {
        let Err(ReplyError::Malformed(detail)) =
            parse_reply(b"{\"author_name\":\"Jos\xe9\",\"body\":\"caf\xe9\"}")
        else {
            panic!("a Latin-1 body was taken");
        };
        assert_eq!(
            detail,
            "the body is not UTF-8 text (byte 20 is not); send JSON in UTF-8, as RFC 8259 requires"
        );
        let reply = parse_reply(b"\xef\xbb\xbf{\"author_name\":\"Bo\",\"body\":\"hi\"}").unwrap();
        assert_eq!(
            (reply.author_name.as_str(), reply.body.as_str()),
            ("Bo", "hi")
        );
        // Only a mark that comes first: anywhere else it is not white space.
        assert!(matches!(
            parse_reply(b" \xef\xbb\xbf{}"),
            Err(ReplyError::Malformed(_))
        ));
    }

    #[test]
    fn a_decision_names_a_known_status() {
        assert_eq!(
            parse_decision(br#"{"status":"approved"}"#).unwrap().status,
            super::super::ReplyStatus::Approved
        );
        assert!(matches!(
            parse_decision(br#"{"status":"published"}"#),
            Err(ReplyError::Invalid { .. })
        ));
        assert!(matches!(
            parse_decision(br#"{}"#),
            Err(ReplyError::Invalid { .. })
        ));
    }
}
