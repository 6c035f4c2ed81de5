//! GetShardIterator and GetRecords: sealed iterators, reading from a position, the read limits,
//! and the child shards of a closed shard read to its end.
//!
//! Invariants: an iterator is a sealed (stream, stream creation time, shard, position, issue
//! time), so a forged or foreign one is refused and one of a re-created stream of the same name
//! is not found; GetRecords never returns a record whose write is not yet durable.

use std::borrow::Cow;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::request::{StreamIdent, to_body};
use super::{Kinesis, Reply};
use crate::clock::Millis;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::kinesis::keys::{ParsedSequence, SequenceParts, parse_shard_id, shard_id};
use crate::kinesis::store::{
    GET_RECORDS_MAX_BYTES, ITERATOR_LIFETIME_MS, Shard, Stream, shard_not_found,
};
use riffle_core::json::write_string;

impl Kinesis {
    pub(super) fn get_shard_iterator(&self, input: GetShardIteratorInput) -> ApiResult<Reply> {
        let now = self.clock.now_millis();
        let mut store = self.lock();
        // The model checker has checked the members' shapes (and that the type is one of AWS's).
        let name = self.named_stream(&store, &input.ident)?;
        let iterator_type = input.shard_iterator_type.unwrap_or_default();
        let shard_name = input.shard_id.unwrap_or_default();
        let enforce = store.settings.enforce_throughput;
        let account = store.settings.account_id.clone();
        // AWS resolves the shard id before the stream: a malformed one is "Could not find", and
        // a well-formed one of a missing stream is reported as the shard, not the stream.
        let ordinal = parse_shard_id(&shard_name).ok_or_else(|| {
            ApiError::new(
                ErrorCode::ResourceNotFoundException,
                format!(
                    "Could not find shard {shard_name} in stream {name} under account {account}."
                ),
            )
        })?;
        let shard_name = shard_id(ordinal);
        let stream = store
            .stream(&name, now)
            .map_err(|_| shard_not_found(&shard_name, &name, &account))?;
        stream.shard(&shard_name, now, &account)?;
        let shard = &stream.shards[ordinal as usize];
        let sequence = input.starting_sequence_number.as_deref();
        let wrong_combination = |also: &str| {
            ApiError::invalid_argument(format!(
                "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and \
                 StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no \
                 StartingSequenceNumber. Request specified {iterator_type} and {also} \
                 StartingSequenceNumber."
            ))
        };
        let position = match iterator_type.as_str() {
            "TRIM_HORIZON" | "LATEST" if sequence.is_some() => {
                return Err(wrong_combination("also a"));
            }
            "TRIM_HORIZON" => shard.first_counter(),
            "LATEST" => shard.last_counter + 1,
            "AT_SEQUENCE_NUMBER" | "AFTER_SEQUENCE_NUMBER" => {
                let text = sequence.ok_or_else(|| wrong_combination("no"))?;
                let after = iterator_type == "AFTER_SEQUENCE_NUMBER";
                position_of(shard, text, after).map_err(|refusal| {
                    refusal.error(text, "GetShardIterator", &shard_name, &name, &account)
                })?
            }
            _ => {
                let timestamp = input.timestamp.ok_or_else(|| {
                    ApiError::invalid_argument(
                        "Must specify timestampInMillis parameter for iterator of type \
                         AT_TIMESTAMP. Current request has no timestamp parameter.",
                    )
                })?;
                let requested = timestamp * 1000.0;
                if requested > now as f64 {
                    return Err(ApiError::invalid_argument(format!(
                        "The timestampInMillis parameter cannot be greater than the \
                         currentTimestampInMillis. timestampInMillis: {requested}, \
                         currentTimestampInMillis: {now}"
                    )));
                }
                let ts = requested.max(0.0) as Millis;
                shard
                    .records
                    .iter()
                    .find(|r| r.arrival_ms >= ts)
                    .map_or(shard.last_counter + 1, |r| r.counter)
            }
        };
        if sequence.is_some() && input.timestamp.is_some() {
            return Err(ApiError::invalid_argument(
                "Request must not contain both a StartingSequenceNumber and a Timestamp.",
            ));
        }
        if enforce
            && !stream.shards[ordinal as usize]
                .throughput
                .try_iterator_call(now)
        {
            return Err(ApiError::new(
                ErrorCode::ProvisionedThroughputExceededException,
                format!(
                    "Rate exceeded for shard {shard_name} in stream {name} under account {account}."
                ),
            ));
        }
        let iterator = self.seal_iterator(stream, ordinal, position, now);
        Ok(Reply::now(to_body(&json!({ "ShardIterator": iterator }))))
    }

    pub(super) fn seal_iterator(
        &self,
        stream: &Stream,
        shard: u32,
        position: u64,
        now: Millis,
    ) -> String {
        let payload = IteratorPayload {
            stream: Cow::Borrowed(&stream.name),
            stream_created_ms: stream.created_ms,
            shard,
            position,
            issued_ms: now,
        };
        let sealed = self
            .sealer
            .seal(&postcard::to_allocvec(&payload).expect("plain struct"));
        iterator_text(&sealed)
    }

    /// The stream a shard iterator reads, if it is one of ours (for injected read throttles).
    pub(crate) fn iterator_stream(&self, token: &str) -> Option<String> {
        let bytes = self.sealer.open(&sealed_text(token)?)?;
        postcard::from_bytes::<IteratorPayload<'_>>(&bytes)
            .ok()
            .map(|payload| payload.stream.into_owned())
    }

    pub(super) fn get_records(&self, input: GetRecordsInput) -> ApiResult<Reply> {
        let now = self.clock.now_millis();
        // The model checker has checked the iterator's length and the limit's range.
        let token = input.shard_iterator.unwrap_or_default();
        let payload = sealed_text(&token)
            .and_then(|sealed| self.sealer.open(&sealed))
            .and_then(|bytes| {
                postcard::from_bytes::<IteratorPayload<'_>>(&bytes)
                    .ok()
                    .map(IteratorPayload::into_owned)
            })
            .ok_or_else(|| ApiError::invalid_argument("Invalid ShardIterator."))?;
        if now.saturating_sub(payload.issued_ms) > ITERATOR_LIFETIME_MS {
            return Err(ApiError::new(
                ErrorCode::ExpiredIteratorException,
                format!(
                    "Iterator expired. The iterator was created at time {} while right now it is \
                     {} which is further in the future than the tolerated delay of \
                     {ITERATOR_LIFETIME_MS} milliseconds.",
                    java_date(payload.issued_ms),
                    java_date(now)
                ),
            ));
        }
        let limit = input.limit.unwrap_or(10_000).clamp(1, 10_000) as usize;
        let durable = self.wal.as_ref().map_or(u64::MAX, |wal| wal.durable_lsn());
        let mut store = self.lock();
        let enforce = store.settings.enforce_throughput;
        let account = store.settings.account_id.clone();
        let shard_name = shard_id(payload.shard);
        // An iterator of a deleted (or deleted and re-created) stream names its shard.
        let gone = || shard_not_found(&shard_name, &payload.stream, &account);
        let stream = store.stream(&payload.stream, now).map_err(|_| gone())?;
        if stream.created_ms != payload.stream_created_ms {
            return Err(gone());
        }
        let ordinal = stream.shard(&shard_name, now, &account)?.ordinal;
        let shard = &mut stream.shards[ordinal as usize];
        if enforce && !shard.throughput.try_read_call(now) {
            return Err(ApiError::new(
                ErrorCode::ProvisionedThroughputExceededException,
                format!(
                    "Rate exceeded for shard {shard_name} in stream {} under account {account}.",
                    payload.stream
                ),
            ));
        }
        // Positions are clamped to the stored records: before them is the trim horizon, past
        // them is the tip (iterators are sealed, so only a sequence number can point past it).
        let start = payload
            .position
            .clamp(shard.first_counter(), shard.last_counter + 1);
        let mut bytes = 0usize;
        let mut out = Vec::new();
        let mut next = start;
        for record in shard.records.range(shard.index_of(start)..) {
            if out.len() >= limit
                || record.lsn > durable
                || (bytes + record.size() > GET_RECORDS_MAX_BYTES && !out.is_empty())
            {
                break;
            }
            bytes += record.size();
            next = record.counter + 1;
            out.push(record.clone());
        }
        if enforce {
            shard.throughput.charge_read(bytes);
        }
        let caught_up = next > shard.last_counter;
        let millis_behind = match shard.records.get(shard.index_of(next)) {
            Some(pending) if !caught_up => now.saturating_sub(pending.arrival_ms),
            _ => 0,
        };
        let closed = !shard.is_open();
        let stream = &*stream;
        let start_parts = SequenceParts {
            shard_created_secs: stream.shards[ordinal as usize].sequence_created_secs(),
            shard: ordinal,
            seq_ix: 0,
            record_secs: 0,
        };
        let data_bytes: usize = out.iter().map(|r| r.data.len()).sum();
        let mut body = Vec::with_capacity(256 + data_bytes * 4 / 3 + out.len() * 160);
        body.extend_from_slice(b"{\"Records\":[");
        for (i, record) in out.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(b"{\"SequenceNumber\":\"");
            SequenceParts {
                seq_ix: record.seq_ix,
                record_secs: record.arrival_ms / 1000,
                ..start_parts
            }
            .write_to(&mut body);
            body.extend_from_slice(
                format!(
                    "\",\"ApproximateArrivalTimestamp\":{}.{:03},\"Data\":\"",
                    record.arrival_ms / 1000,
                    record.arrival_ms % 1000
                )
                .as_bytes(),
            );
            // Base64 never needs JSON escaping: encode straight into the body.
            let start = body.len();
            body.resize(
                start + base64_simd::STANDARD.encoded_length(record.data.len()),
                0,
            );
            let written = base64_simd::STANDARD
                .encode(
                    &record.data,
                    base64_simd::Out::from_slice(&mut body[start..]),
                )
                .len();
            body.truncate(start + written);
            body.extend_from_slice(b"\",\"PartitionKey\":");
            write_string(&mut body, &record.partition_key);
            body.push(b'}');
        }
        body.extend_from_slice(b"]");
        if closed && caught_up {
            body.extend_from_slice(b",\"ChildShards\":");
            body.extend_from_slice(&to_body(&super::subscribe::child_shards(stream, ordinal)));
        } else {
            body.extend_from_slice(b",\"NextShardIterator\":");
            write_string(&mut body, &self.seal_iterator(stream, ordinal, next, now));
        }
        body.extend_from_slice(format!(",\"MillisBehindLatest\":{millis_behind}}}").as_bytes());
        Ok(Reply::now(body))
    }
}

/// Why a `StartingSequenceNumber` names no position in a shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SequenceRefusal {
    /// It is no sequence number AWS can read.
    Invalid,
    /// It encodes another shard (the id it encodes).
    OtherShard(String),
    /// It is of another layout or another shard creation time.
    NotOfStream,
    /// It is of AWS's oldest layout, which AWS answers with an internal failure.
    Old,
}

impl SequenceRefusal {
    /// AWS's error for `text` given to `operation` on a shard of a stream.
    pub(super) fn error(
        &self,
        text: &str,
        operation: &str,
        shard: &str,
        stream: &str,
        account: &str,
    ) -> ApiError {
        let invalid = format!(
            "StartingSequenceNumber {text} used in {operation} on shard {shard} in stream \
             {stream} under account {account} is invalid"
        );
        match self {
            Self::Invalid => ApiError::invalid_argument(format!("{invalid}.")),
            Self::OtherShard(encoded) => ApiError::invalid_argument(format!(
                "Invalid StartingSequenceNumber. It encodes {encoded}, while it was used in a \
                 call to a shard with {shard}"
            )),
            Self::NotOfStream => ApiError::invalid_argument(format!(
                "{invalid} because it did not come from this stream."
            )),
            Self::Old => ApiError::internal(""),
        }
    }
}

/// The counter of the record a `StartingSequenceNumber` of `shard` points at (the one after it
/// when `after`): the oldest stored record for one older than them all, the tip for one past
/// the newest.
pub(super) fn position_of(shard: &Shard, text: &str, after: bool) -> Result<u64, SequenceRefusal> {
    let parsed = ParsedSequence::parse(text).ok_or(SequenceRefusal::Invalid)?;
    if parsed.shard != i64::from(shard.ordinal) {
        return Err(SequenceRefusal::OtherShard(parsed.shard_id()));
    }
    match parsed
        .current()
        .filter(|p| p.shard_created_secs == shard.sequence_created_secs())
    {
        Some(parts) => Ok(shard.counter_of(parts.seq_ix, after)),
        None if parsed.version == 0 => Err(SequenceRefusal::Old),
        None => Err(SequenceRefusal::NotOfStream),
    }
}

/// The eight bytes every AWS shard iterator starts with once base64-decoded.
const ITERATOR_PREFIX: [u8; 8] = [0, 0, 0, 0, 0, 0, 0, 1];

/// A sealed token in AWS's shard iterator shape: standard base64 of the eight-byte prefix, the
/// token and `.` padding to a length of 8 modulo 16 (as AWS's are; clients check neither, but
/// kinesalite's AWS-recorded suite does).
fn iterator_text(sealed: &str) -> String {
    let mut bytes = Vec::with_capacity(sealed.len() + 24);
    bytes.extend_from_slice(&ITERATOR_PREFIX);
    bytes.extend_from_slice(sealed.as_bytes());
    while bytes.len() % 16 != 8 {
        bytes.push(b'.');
    }
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The sealed token inside an iterator made by [`iterator_text`].
fn sealed_text(iterator: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(iterator)
        .ok()?;
    let rest = bytes.strip_prefix(&ITERATOR_PREFIX)?;
    let text = std::str::from_utf8(rest).ok()?;
    Some(text.trim_end_matches('.').to_owned())
}

/// `millis` as Java's `Date.toString()` writes it in UTC (`Thu Dec 03 11:59:45 UTC 2026`),
/// the form AWS's expired-iterator message uses.
fn java_date(millis: Millis) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = millis / 1000;
    let days = secs / 86_400;
    let (h, m, s) = (secs % 86_400 / 3600, secs % 3600 / 60, secs % 60);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{} {} {day:02} {h:02}:{m:02}:{s:02} UTC {year}",
        DAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize]
    )
}

/// What a shard iterator encodes.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct IteratorPayload<'a> {
    #[serde(borrow)]
    stream: Cow<'a, str>,
    stream_created_ms: Millis,
    shard: u32,
    position: u64,
    issued_ms: Millis,
}

impl IteratorPayload<'_> {
    pub(super) fn into_owned(self) -> IteratorPayload<'static> {
        IteratorPayload {
            stream: Cow::Owned(self.stream.into_owned()),
            ..self
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct GetShardIteratorInput {
    #[serde(flatten)]
    ident: StreamIdent,
    shard_id: Option<String>,
    shard_iterator_type: Option<String>,
    starting_sequence_number: Option<String>,
    timestamp: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct GetRecordsInput {
    shard_iterator: Option<String>,
    limit: Option<i64>,
    #[serde(rename = "StreamARN")]
    _stream_arn: Option<String>,
}

#[cfg(test)]
mod wire_tests {
    use super::*;

    #[test]
    fn java_dates_are_utc() {
        assert_eq!(java_date(0), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(java_date(1_796_299_185_000), "Thu Dec 03 11:59:45 UTC 2026");
        assert_eq!(java_date(951_782_400_000), "Tue Feb 29 00:00:00 UTC 2000");
    }

    #[test]
    fn iterators_have_aws_shape_and_round_trip() {
        let text = iterator_text("abc-_9");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&text)
            .unwrap();
        assert_eq!(bytes.len() % 16, 8);
        assert_eq!(bytes[..8], ITERATOR_PREFIX);
        assert_eq!(sealed_text(&text).as_deref(), Some("abc-_9"));
        assert_eq!(sealed_text("forged"), None);
    }
}
