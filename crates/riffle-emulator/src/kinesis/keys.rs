//! Hash keys, sequence numbers and shard ids: the value types of the Kinesis data model.
//!
//! Invariants: a partition key maps to the 128-bit MD5 of its UTF-8 bytes; sequence numbers
//! follow AWS's layout ([`SequenceParts`]) and grow strictly within a shard; the emulator's are
//! all 56 decimal digits (between 2^185 and 1.5 · 2^185), so text order is numeric order.

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

/// A sequence number wide enough for every layout AWS has used (188 bits).
type Wide = bnum::Uint<24>;

/// Nine hex digits: the width of the times in a sequence number.
const SECS_MASK: u64 = 0xf_ffff_ffff;
/// A shard creation time at or past this (seconds, in the year 2477) is refused, as AWS does.
const MAX_CREATED_SECS: u64 = 16_025_175_000;
/// The sequence index of a closed shard's `EndingSequenceNumber`: above every record's.
pub(crate) const ENDING_SEQ_IX: u64 = i64::MAX as u64;

/// The parts of a sequence number in AWS's current layout (version 2), which the emulator
/// writes. Read as 47 hex digits, most significant first:
///
/// `2` · shard creation time in seconds (9) · last hex digit of the shard index (1) · sequence
/// index (16, below 2^63) · `00` · the record's arrival time in seconds (9) · shard index (8) ·
/// the version `2`.
///
/// The sequence index is counted per stream (a record's is above every earlier record's in
/// the stream); a shard's `StartingSequenceNumber` has index 0 and its creation time as the
/// record time. So within a shard, numbers grow with the index, and numeric order is write
/// order. AWS's clients see only the decimal string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SequenceParts {
    /// When the shard was created, whole seconds since the epoch.
    pub shard_created_secs: u64,
    /// The shard's ordinal (the number in `shardId-000000000007`).
    pub shard: u32,
    /// The sequence index (see above).
    pub seq_ix: u64,
    /// The record's arrival time, whole seconds since the epoch.
    pub record_secs: u64,
}

impl SequenceParts {
    fn wide(&self) -> Wide {
        let shard = u64::from(self.shard);
        // Bits 0..128 and 128..188; the sequence index straddles the two.
        let low = 2u128
            | u128::from(shard) << 4
            | u128::from(self.record_secs & SECS_MASK) << 36
            | u128::from(self.seq_ix) << 80;
        let high = self.seq_ix >> 48
            | (shard & 0xf) << 16
            | (self.shard_created_secs & SECS_MASK) << 20
            | 2 << 56;
        let mut bytes = [0u8; 24];
        bytes[..8].copy_from_slice(&high.to_be_bytes());
        bytes[8..].copy_from_slice(&low.to_be_bytes());
        Wide::from_be_bytes(bytes)
    }

    /// The decimal string AWS clients see.
    pub(crate) fn encode(&self) -> String {
        self.wide().to_string()
    }

    /// Appends the decimal string to `out` (no intermediate string: this runs once per record
    /// in GetRecords and PutRecords answers).
    pub(crate) fn write_to(&self, out: &mut Vec<u8>) {
        use std::io::Write as _;
        write!(out, "{}", self.wide()).expect("writing to a Vec cannot fail");
    }
}

/// A sequence number as AWS reads one: any of the layouts it has used. Versions 0 and 1 are
/// older layouts AWS still parses (and refuses later, as not of the stream).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ParsedSequence {
    /// The layout: 0, 1 or 2.
    pub version: u8,
    /// The shard creation time it encodes, in seconds.
    pub shard_created_secs: u64,
    /// The shard index it encodes (negative when its top bit is set, as AWS reads it).
    pub shard: i64,
    /// The sequence index (version 2; 0 otherwise).
    pub seq_ix: u64,
    /// The record time in seconds (versions 1 and 2).
    pub record_secs: Option<u64>,
}

impl ParsedSequence {
    /// Parses a decimal sequence number as AWS does; `None` for one AWS calls invalid: not a
    /// number of a known layout, a sequence index of 2^63 or more, or a creation time past
    /// the year 2477. Numbers below 2^124 are read as version 0 after adding 2^124.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut value = Wide::from_str_radix(text, 10).ok()?;
        let version_0_floor = Wide::power_of_two(124);
        if value < version_0_floor {
            value += version_0_floor;
        }
        let hex = format!("{value:x}");
        let field = |range: std::ops::Range<usize>| u64::from_str_radix(&hex[range], 16).ok();
        if value < Wide::power_of_two(129) {
            let shard_created_secs = field(1..10).filter(|s| *s < MAX_CREATED_SECS)?;
            return Some(Self {
                version: 0,
                shard_created_secs,
                shard: field(28..32)? as i64,
                seq_ix: 0,
                record_secs: None,
            });
        }
        // Versions 1 and 2: 47 hex digits starting with 2, above 2^185, the version last.
        if hex.len() != 47 || !hex.starts_with('2') || value == Wide::power_of_two(185) {
            return None;
        }
        match &hex[46..] {
            "2" => {
                let seq_ix = field(11..27).filter(|ix| *ix <= ENDING_SEQ_IX)?;
                let shard = field(38..46)?;
                Some(Self {
                    version: 2,
                    shard_created_secs: field(1..10).filter(|s| *s < MAX_CREATED_SECS)?,
                    shard: if shard > u64::from(i32::MAX as u32) {
                        -(shard as i64)
                    } else {
                        shard as i64
                    },
                    seq_ix,
                    record_secs: field(29..38),
                })
            }
            "1" => Some(Self {
                version: 1,
                shard_created_secs: field(1..10)?,
                shard: field(38..46)? as i64,
                seq_ix: 0,
                record_secs: field(13..22),
            }),
            _ => None,
        }
    }

    /// The parts, if this is a version 2 number of a shard that can exist.
    pub(crate) fn current(&self) -> Option<SequenceParts> {
        Some(SequenceParts {
            shard_created_secs: self.shard_created_secs,
            shard: u32::try_from(self.shard).ok()?,
            seq_ix: self.seq_ix,
            record_secs: self.record_secs?,
        })
        .filter(|_| self.version == 2)
    }

    /// The shard id it encodes, as AWS spells it (`shardId--02147483648` when negative).
    pub(crate) fn shard_id(&self) -> String {
        match u32::try_from(self.shard) {
            Ok(ordinal) => shard_id(ordinal),
            Err(_) => format!("shardId--{:011}", self.shard.unsigned_abs()),
        }
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

    /// The hex digits of a decimal sequence number, as kinesalite's AWS-recorded tests read it.
    fn hex(decimal: &str) -> String {
        format!("{:x}", Wide::from_str_radix(decimal, 10).unwrap())
    }

    fn decimal(hex: &str) -> String {
        Wide::from_str_radix(hex, 16).unwrap().to_string()
    }

    const PARTS: SequenceParts = SequenceParts {
        shard_created_secs: 1_700_000_000,
        shard: 0x1d,
        seq_ix: 9,
        record_secs: 1_700_000_123,
    };

    #[test]
    fn sequence_numbers_have_aws_layout() {
        // 2 · creation (9) · last shard digit · index (16) · 00 · record time (9) · shard (8) · 2
        let text = PARTS.encode();
        assert_eq!(
            hex(&text),
            format!(
                "2{:09x}d{:016x}00{:09x}{:08x}2",
                1_700_000_000u64, 9, 1_700_000_123u64, 0x1d
            )
        );
        let mut written = Vec::new();
        PARTS.write_to(&mut written);
        assert_eq!(written, text.as_bytes());
        let parsed = ParsedSequence::parse(&text).unwrap();
        assert_eq!(parsed.version, 2);
        assert_eq!(parsed.current(), Some(PARTS));
        assert_eq!(parsed.shard_id(), "shardId-000000000029");
    }

    #[test]
    fn sequence_numbers_order_by_index_within_a_shard() {
        let later = SequenceParts {
            seq_ix: 10,
            record_secs: 1_600_000_000,
            ..PARTS
        };
        let start = SequenceParts {
            seq_ix: 0,
            record_secs: PARTS.shard_created_secs,
            ..PARTS
        };
        let end = SequenceParts {
            seq_ix: ENDING_SEQ_IX,
            ..PARTS
        };
        let numeric = |p: SequenceParts| Wide::from_str_radix(&p.encode(), 10).unwrap();
        assert!(numeric(start) < numeric(PARTS));
        assert!(
            numeric(PARTS) < numeric(later),
            "the index outranks the record time"
        );
        assert!(numeric(later) < numeric(end));
        assert_eq!(
            ParsedSequence::parse(&end.encode()).unwrap().current(),
            Some(end)
        );
    }

    #[test]
    fn aws_older_layouts_and_refusals() {
        // Below 2^124: version 0 with 2^124 added; "5" encodes shard 5.
        let small = ParsedSequence::parse("5").unwrap();
        assert_eq!((small.version, small.shard), (0, 5));
        assert_eq!(small.current(), None);
        assert_eq!(ParsedSequence::parse("0").unwrap().version, 0);
        // Version 1 is read; versions 0, 3 and 4 in the long form are not.
        let v1 = decimal("20000000000000000000000000000000000000000000001");
        assert_eq!(ParsedSequence::parse(&v1).unwrap().version, 1);
        for refused in [
            "20000000000000000000000000000000000000000000000",
            "20000000000000000000000000000000000000000000003",
            "20000000000000000000000000000000000000000000004",
            "30000000000000000000000000000000000000000000001",
            "1ffffffffff7fffffffffffffff000000000007fffffff2",
            // An index of 2^63 or more; a creation time past 2477 (long and short forms).
            "20000000000800000000000000000000000000000000002",
            "2ffffffffff7fffffffffffffff000000000007fffffff2",
            "13bb2cc3d80000000000000000000000",
        ] {
            assert_eq!(ParsedSequence::parse(&decimal(refused)), None, "{refused}");
        }
        assert_eq!(ParsedSequence::parse(&"9".repeat(129)), None);
        assert_eq!(ParsedSequence::parse("12a"), None);
        // A shard index with its top bit set is negative, as AWS names it.
        let negative = decimal("20000000000000000000000000000000000000800000002");
        let parsed = ParsedSequence::parse(&negative).unwrap();
        assert_eq!(parsed.shard_id(), "shardId--02147483648");
        assert_eq!(parsed.current(), None);
    }

    proptest::proptest! {
        #[test]
        fn sequence_numbers_round_trip(
            created in 0u64..MAX_CREATED_SECS,
            shard in 0u32..=i32::MAX as u32,
            seq_ix in 0u64..=ENDING_SEQ_IX,
            record in 0u64..=SECS_MASK,
            later in 1u64..1000,
        ) {
            let parts = SequenceParts {
                shard_created_secs: created,
                shard,
                seq_ix,
                record_secs: record,
            };
            let text = parts.encode();
            proptest::prop_assert_eq!(ParsedSequence::parse(&text).and_then(|p| p.current()), Some(parts));
            // A later index in the same shard is a larger number, whatever the record time.
            if let Some(seq_ix) = seq_ix.checked_add(later).filter(|ix| *ix <= ENDING_SEQ_IX) {
                let next = SequenceParts { seq_ix, record_secs: 0, ..parts };
                let (a, b) = (riffle_core::sequence::SequenceNumber::parse(&text).unwrap(),
                    riffle_core::sequence::SequenceNumber::parse(&next.encode()).unwrap());
                proptest::prop_assert!(a < b);
            }
        }
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
