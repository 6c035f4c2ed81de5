//! Hash keys, sequence numbers and shard ids: the value types of the Kinesis data model.
//!
//! Invariants: a partition key maps to the 128-bit MD5 of its UTF-8 bytes; sequence numbers are
//! 56-digit decimal strings, strictly increasing within a shard, so that numeric and textual order
//! agree.

use md5::{Digest, Md5};

/// The largest hash key, 2^128 − 1.
pub(crate) const MAX_HASH_KEY: u128 = u128::MAX;

/// The 128-bit hash key of a partition key: its MD5 read as a big-endian unsigned integer.
pub(crate) fn partition_key_hash(partition_key: &str) -> u128 {
    u128::from_be_bytes(Md5::digest(partition_key.as_bytes()).into())
}

/// Parses an `ExplicitHashKey` / `NewStartingHashKey`: `0|[1-9]\d{0,38}` and at most 2^128 − 1.
pub(crate) fn parse_hash_key(text: &str) -> Option<u128> {
    let well_formed = !text.is_empty()
        && text.len() <= 39
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if well_formed { text.parse().ok() } else { None }
}

/// Whether `text` matches AWS's sequence number pattern `0|[1-9]\d{0,128}`.
pub(crate) fn is_sequence_number_shaped(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 129
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'))
}

/// A sequence number decoded into the parts the emulator encodes in it (the emulator's own
/// layout; clients and the rest of the workspace see only the opaque string, which
/// `riffle_core::sequence::SequenceNumber` holds).
///
/// Layout (56 decimal digits): `49`, the stream's creation time in seconds (10 digits), the
/// shard's ordinal (6), eighteen zeros, then the record counter within the shard (20). Counter 0
/// is the shard's `StartingSequenceNumber`; the record at dense position `p` has counter `p + 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SequenceParts {
    /// Stream creation time, whole seconds since the epoch.
    pub stream_created_secs: u64,
    /// The shard's ordinal (the number in `shardId-000000000007`).
    pub shard: u32,
    /// The counter within the shard.
    pub counter: u64,
}

impl SequenceParts {
    /// The decimal string AWS clients see.
    pub(crate) fn encode(&self) -> String {
        format!(
            "49{:010}{:06}{:018}{:020}",
            self.stream_created_secs % 10_000_000_000,
            self.shard,
            0,
            self.counter
        )
    }

    /// Appends the decimal string to `out` (no allocation, no formatter: this runs once per
    /// record in GetRecords and PutRecords answers).
    pub(crate) fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"49");
        push_padded(out, self.stream_created_secs % 10_000_000_000, 10);
        push_padded(out, u64::from(self.shard), 6);
        out.extend_from_slice(&[b'0'; 18]);
        push_padded(out, self.counter, 20);
    }

    /// Decodes a string produced by [`SequenceParts::encode`]; `None` for anything else.
    pub(crate) fn decode(text: &str) -> Option<Self> {
        if text.len() != 56 || !text.starts_with("49") || !text.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        if text[18..36].bytes().any(|b| b != b'0') {
            return None;
        }
        Some(Self {
            stream_created_secs: text[2..12].parse().ok()?,
            shard: text[12..18].parse().ok()?,
            counter: text[36..56].parse().ok()?,
        })
    }
}

/// Appends `value` in decimal, left-padded with zeros to `width` digits.
pub(crate) fn push_padded(out: &mut Vec<u8>, mut value: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut i = digits.len();
    while value > 0 && i > 0 {
        i -= 1;
        digits[i] = b'0' + (value % 10) as u8;
        value /= 10;
    }
    let used = digits.len() - i;
    out.extend(std::iter::repeat_n(b'0', width.saturating_sub(used)));
    out.extend_from_slice(&digits[i..]);
}

/// The `shardId-000000000000` form of a shard ordinal.
pub(crate) fn shard_id(ordinal: u32) -> String {
    format!("shardId-{ordinal:012}")
}

/// Resolves a shard id the way AWS does: the text after the first `-` (or all of it when there
/// is none), read as a decimal number of at most 2^31 − 1. So `shardId-000000000007`,
/// `shardId-7`, `7` and `anything-7` all name shard 7; `None` for anything else.
pub(crate) fn parse_shard_id(text: &str) -> Option<u32> {
    let digits = text
        .split('-')
        .nth(1)
        .filter(|d| !d.is_empty())
        .unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = digits.trim_start_matches('0');
    if digits.len() > 10 {
        return None;
    }
    digits
        .parse::<u64>()
        .ok()
        .or(digits.is_empty().then_some(0))
        .filter(|n| *n <= i32::MAX as u64)
        .map(|n| n as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_key_hash_is_md5_big_endian() {
        // MD5("a") = 0cc175b9c0f1b6a831c399e269772661
        assert_eq!(partition_key_hash("a"), 0x0cc175b9c0f1b6a831c399e269772661);
    }

    #[test]
    fn hash_keys_follow_aws_pattern_and_range() {
        assert_eq!(parse_hash_key("0"), Some(0));
        assert_eq!(parse_hash_key(&u128::MAX.to_string()), Some(u128::MAX));
        assert_eq!(
            parse_hash_key("340282366920938463463374607431768211456"),
            None
        );
        assert_eq!(parse_hash_key("01"), None);
        assert_eq!(parse_hash_key("-1"), None);
        assert_eq!(parse_hash_key(""), None);
    }

    #[test]
    fn sequence_numbers_round_trip_and_order_numerically() {
        let a = SequenceParts {
            stream_created_secs: 1_700_000_000,
            shard: 3,
            counter: 9,
        };
        let b = SequenceParts { counter: 10, ..a };
        let (ta, tb) = (a.encode(), b.encode());
        assert_eq!(ta.len(), 56);
        assert_eq!(SequenceParts::decode(&ta), Some(a));
        let mut written = Vec::new();
        a.write_to(&mut written);
        assert_eq!(written, ta.as_bytes());
        assert!(ta < tb, "fixed width makes text order numeric order");
        assert_eq!(SequenceParts::decode("123"), None);
        let mut tampered = ta.clone();
        tampered.replace_range(20..21, "7");
        assert_eq!(SequenceParts::decode(&tampered), None);
    }

    #[test]
    fn padded_numbers_match_the_formatter() {
        for (value, width) in [
            (0u64, 6),
            (7, 12),
            (1_700_000_000, 10),
            (u64::MAX, 20),
            (123, 1),
        ] {
            let mut out = Vec::new();
            push_padded(&mut out, value, width);
            assert_eq!(String::from_utf8(out).unwrap(), format!("{value:0width$}"));
        }
    }

    #[test]
    fn shard_ids_round_trip() {
        assert_eq!(shard_id(7), "shardId-000000000007");
        assert_eq!(parse_shard_id("shardId-000000000007"), Some(7));
        assert_eq!(parse_shard_id("7"), Some(7));
        assert_eq!(parse_shard_id("shardId-x"), None);
        // AWS's spellings: any prefix before the first hyphen, any number of zeros.
        assert_eq!(parse_shard_id("shardId-5"), Some(5));
        assert_eq!(parse_shard_id("a-00002147483647"), Some(i32::MAX as u32));
        assert_eq!(parse_shard_id("-0"), Some(0));
        assert_eq!(parse_shard_id("2147483648"), None);
        assert_eq!(parse_shard_id("2.14E4"), None);
    }
}
