//! W3C Trace Context (`traceparent`): the trace a request belongs to, so
//! that its access line (and, when exported, its span) joins the trace of
//! the services it passed through. A request without a valid `traceparent`
//! starts a trace of its own.

use std::{fmt, str::FromStr};

/// A trace id: 16 bytes, never all zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceId(pub [u8; 16]);

/// A span id: 8 bytes, never all zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanId(pub [u8; 8]);

/// A `traceparent` header, version `00`: the caller's trace, its span
/// (the parent of ours) and its flags (bit 0: sampled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    pub trace_id: TraceId,
    pub parent_id: SpanId,
    pub flags: u8,
}

/// Why a `traceparent` is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a W3C traceparent: {0}")]
pub struct BadTraceParent(&'static str);

/// Lower-case hex of exactly `N` bytes.
fn hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N
        || !text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

impl FromStr for TraceParent {
    type Err = BadTraceParent;

    /// `version-traceid-parentid-flags`, as the W3C recommendation reads
    /// it: a later version may append fields after a dash, which are
    /// ignored; version `ff` and all-zero ids are invalid.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let mut fields = value.trim().splitn(5, '-');
        let version = fields
            .next()
            .and_then(hex::<1>)
            .ok_or(BadTraceParent("version"))?;
        if version[0] == 0xff {
            return Err(BadTraceParent("version ff"));
        }
        let trace_id = fields
            .next()
            .and_then(hex::<16>)
            .filter(|id| *id != [0; 16])
            .ok_or(BadTraceParent("trace-id"))?;
        let parent_id = fields
            .next()
            .and_then(hex::<8>)
            .filter(|id| *id != [0; 8])
            .ok_or(BadTraceParent("parent-id"))?;
        let flags = fields
            .next()
            .and_then(hex::<1>)
            .ok_or(BadTraceParent("trace-flags"))?;
        if version[0] == 0 && fields.next().is_some() {
            return Err(BadTraceParent("fields after version 00's"));
        }
        Ok(Self {
            trace_id: TraceId(trace_id),
            parent_id: SpanId(parent_id),
            flags: flags[0],
        })
    }
}

impl TraceId {
    /// A new random trace id, for a request that brings none.
    pub fn random() -> Self {
        Self(*uuid::Uuid::new_v4().as_bytes())
    }
}

fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn the_recommendations_example_is_read_and_written_back() {
        let parent: TraceParent = EXAMPLE.parse().unwrap();
        assert_eq!(
            parent.trace_id.to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(parent.parent_id.to_string(), "00f067aa0ba902b7");
        assert_eq!(parent.flags, 1);
    }

    #[test]
    fn malformed_or_zero_ids_are_refused() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert!(bad.parse::<TraceParent>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_later_version_may_add_fields() {
        let later = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-next";
        assert!(later.parse::<TraceParent>().is_ok());
    }

    #[test]
    fn new_trace_ids_differ_and_are_not_zero() {
        let (a, b) = (TraceId::random(), TraceId::random());
        assert_ne!(a, b);
        assert_ne!(a.0, [0; 16]);
        assert_eq!(a.to_string().len(), 32);
    }
}
