//! Kinesis sequence numbers: decimal strings up to 129 digits, compared as numbers.
//!
//! Invariant: ordering is numeric (`"9" < "10"`), never textual.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

/// A Kinesis sequence number. Cloning is a reference-count increment: the engine keeps each
/// record's sequence number in several places (its lane, the shard's checkpoint log).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SequenceNumber(Arc<str>);

impl SequenceNumber {
    /// Parses `0|[1-9][0-9]{0,128}`.
    pub fn parse(text: &str) -> Option<Self> {
        Self::valid(text).then(|| Self(Arc::from(text)))
    }

    /// [`SequenceNumber::parse`] of an owned string, for readers that already hold one; an
    /// invalid string is handed back.
    pub fn parse_owned(text: String) -> Result<Self, String> {
        if Self::valid(&text) {
            Ok(Self(Arc::from(text)))
        } else {
            Err(text)
        }
    }

    fn valid(text: &str) -> bool {
        !text.is_empty()
            && text.len() <= 129
            && text.bytes().all(|b| b.is_ascii_digit())
            && (text == "0" || !text.starts_with('0'))
    }

    /// The decimal string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Ord for SequenceNumber {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.cmp(&other.0))
    }
}

impl PartialOrd for SequenceNumber {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Written as its decimal string, as AWS writes sequence numbers.
impl serde::Serialize for SequenceNumber {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Read from a decimal string; anything [`SequenceNumber::parse`] refuses is an error.
impl<'de> serde::Deserialize<'de> for SequenceNumber {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse_owned(text)
            .map_err(|text| serde::de::Error::custom(format!("{text:?} is not a sequence number")))
    }
}

impl fmt::Display for SequenceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_numerically_not_textually() {
        let n = |s| SequenceNumber::parse(s).unwrap();
        assert!(n("9") < n("10"));
        assert!(n("49590338271490256608559692538361571095921575989136588898") > n("123"));
        assert!(n("100") == n("100"));
        assert_eq!(SequenceNumber::parse("01"), None);
        assert_eq!(SequenceNumber::parse("x"), None);
    }

    #[test]
    fn serializes_as_its_string_and_refuses_what_parse_refuses() {
        let n = SequenceNumber::parse("49590338271490256608559692538361571095921575989136588898");
        let json = serde_json::to_string(&n).unwrap();
        assert_eq!(
            json,
            "\"49590338271490256608559692538361571095921575989136588898\""
        );
        assert_eq!(
            serde_json::from_str::<Option<SequenceNumber>>(&json).unwrap(),
            n
        );
        assert!(serde_json::from_str::<SequenceNumber>("\"01\"").is_err());
        assert!(serde_json::from_str::<SequenceNumber>("12").is_err());
    }
}
