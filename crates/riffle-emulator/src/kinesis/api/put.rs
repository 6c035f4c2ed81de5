//! PutRecord and PutRecords: validating records, routing them to shards, the per-shard write
//! limit, and the answer that names each record's shard and sequence number.
//!
//! Invariants: members' shapes (lengths, patterns, required members) were checked against
//! AWS's model before a handler runs (`kinesis/model`), so what is checked here is what the
//! model cannot say, in AWS's order: the stream, then hash keys in range, then the ordering
//! sequence number. A PutRecords batch decodes all its data into one allocation; a record
//! refused by the throughput limit is neither stored nor logged.

use std::borrow::Cow;

use bytes::{Bytes, BytesMut};
use serde::Deserialize;
use serde_json::json;

use super::request::{StreamIdent, to_body};
use super::{Kinesis, Reply};
use crate::clock::Millis;
use crate::error::{ApiError, ApiResult, ErrorCode, Violations};
use crate::kinesis::keys::{ParsedSequence, push_padded};
use crate::kinesis::store::{Appended, Mutation, NewRecord, Stream};
use riffle_core::json::write_string;

/// Largest record payload (the stream default `MaxRecordSizeInKiB` of 1024).
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;
/// Largest PutRecords request, data plus partition keys.
pub const MAX_PUT_RECORDS_BYTES: usize = 5 * 1024 * 1024;

impl Kinesis {
    pub(super) fn put_record(&self, input: PutRecordInput) -> ApiResult<Reply> {
        let now = self.clock.now_millis();
        let mut store = self.lock();
        let mut v = Violations::default();
        let name = self.stream_name(&store, &input.ident, &mut v);
        v.finish()?;
        let data = decode_data(None, input.data.as_deref(), &mut BytesMut::new())?;
        let name = self.require_stream(name)?;
        let enforce = store.settings.enforce_throughput;
        let (stream, account) = store.stream_and_account(&name, now)?;
        let record = NewRecord {
            partition_key: input.partition_key.unwrap_or_default(),
            explicit_hash_key: explicit_hash_key(input.explicit_hash_key.as_deref())?,
            data,
        };
        if let Some(seq) = &input.sequence_number_for_ordering {
            // AWS refuses what does not parse, or names a time still to come; it orders every
            // record after the ones before it anyway, which satisfies any valid number.
            let parsed = ParsedSequence::parse(seq).filter(|p| {
                p.record_secs
                    .is_none_or(|secs| secs.saturating_mul(1000) <= now)
            });
            if parsed.is_none() {
                return Err(ApiError::invalid_argument(format!(
                    "ExclusiveMinimumSequenceNumber {seq} used in PutRecord on stream {name} \
                     under account {account} is invalid."
                )));
            }
        }
        let records = vec![record];
        if enforce && let Some(refused) = charge_writes(stream, account, now, &records)?.pop() {
            return Err(refused.1);
        }
        let mutation = Mutation::PutRecords {
            stream: name,
            records,
        };
        let (appended, durable_at) = self.commit(&mut store, now, mutation)?;
        let appended = appended[0];
        Ok(Reply {
            body: to_body(&json!({
                "ShardId": appended.shard_id(),
                "SequenceNumber": appended.sequence.encode(),
            })),
            durable_at,
        })
    }

    pub(super) fn put_records(&self, body: &[u8]) -> ApiResult<Reply> {
        let input: PutRecordsInput<'_> = serde_json::from_slice(body)
            .map_err(|e| ApiError::new(ErrorCode::SerializationException, e.to_string()))?;
        let now = self.clock.now_millis();
        let entries = input.records.unwrap_or_default();
        let count = entries.len();
        let mut records = Vec::with_capacity(count);
        let mut total = 0usize;
        // Every record's data is decoded into one allocation and split off it.
        let encoded: usize = entries
            .iter()
            .map(|e| e.data.as_ref().map_or(0, |d| d.len()))
            .sum();
        let mut buffer = BytesMut::with_capacity(encoded / 4 * 3 + 3 * count);
        let mut hash_keys = Vec::with_capacity(count);
        for (i, entry) in entries.into_iter().enumerate() {
            let data = decode_data(Some(i), entry.data.as_deref(), &mut buffer)?;
            let record = NewRecord {
                partition_key: entry.partition_key.unwrap_or_default(),
                explicit_hash_key: None,
                data,
            };
            total += record_size(&record);
            records.push(record);
            hash_keys.push(entry.explicit_hash_key);
        }
        let mut v = Violations::default();
        let mut store = self.lock();
        let ident = StreamIdent {
            name: input.stream_name,
            arn: input.stream_arn,
        };
        let name = self.stream_name(&store, &ident, &mut v);
        v.finish()?;
        if total > MAX_PUT_RECORDS_BYTES {
            return Err(ApiError::invalid_argument(
                "Records size exceeds 5 MB limit",
            ));
        }
        let name = self.require_stream(name)?;
        let enforce = store.settings.enforce_throughput;
        let (stream, account) = store.stream_and_account(&name, now)?;
        for (record, hash_key) in records.iter_mut().zip(&hash_keys) {
            record.explicit_hash_key = explicit_hash_key(hash_key.as_deref())?;
        }
        // Only the records the write limit accepts are applied and logged; replaying them
        // routes each to the same shard, as routing depends only on the hash key and the open
        // shards. With the limit off every record is accepted and the batch moves as it is.
        let mut refused = Vec::new();
        if enforce {
            refused = charge_writes(stream, account, now, &records)?;
        }
        let failed = refused.len();
        if failed > 0 {
            let mut at = 0;
            let mut skip = refused.iter().map(|(i, _)| *i).peekable();
            records.retain(|_| {
                let keep = skip.next_if_eq(&at).is_none();
                at += 1;
                keep
            });
        }
        let (appended, durable_at) = self.commit(
            &mut store,
            now,
            Mutation::PutRecords {
                stream: name,
                records,
            },
        )?;
        drop(store);
        let mut appended = appended.into_iter();
        let mut refused = refused.into_iter().peekable();
        let mut body = Vec::with_capacity(64 + count * 120);
        body.extend_from_slice(
            format!("{{\"FailedRecordCount\":{failed},\"Records\":[").as_bytes(),
        );
        for i in 0..count {
            if i > 0 {
                body.push(b',');
            }
            match refused.next_if(|(at, _)| *at == i) {
                None => {
                    let Appended {
                        shard, sequence, ..
                    } = appended.next().expect("one landing per accepted record");
                    body.extend_from_slice(b"{\"SequenceNumber\":\"");
                    sequence.write_to(&mut body);
                    body.extend_from_slice(b"\",\"ShardId\":\"shardId-");
                    push_padded(&mut body, u64::from(shard), 12);
                    body.extend_from_slice(b"\"}");
                }
                Some((_, e)) => {
                    body.extend_from_slice(b"{\"ErrorCode\":");
                    write_string(&mut body, e.code.as_str());
                    body.extend_from_slice(b",\"ErrorMessage\":");
                    write_string(&mut body, &e.message);
                    body.push(b'}');
                }
            }
        }
        // No EncryptionType: AWS names it only for encrypted streams, as its recorded answers
        // for unencrypted ones show.
        body.extend_from_slice(b"]}");
        Ok(Reply { body, durable_at })
    }
}

pub(super) fn record_size(record: &NewRecord) -> usize {
    record.data.len() + record.partition_key.len()
}

/// Charges each record to its shard's write limit, in order; the records refused, by position,
/// with AWS's error. The stream must accept writes, checked first so that a refused call
/// consumes nothing.
fn charge_writes(
    stream: &mut Stream,
    account: &str,
    now: Millis,
    records: &[NewRecord],
) -> ApiResult<Vec<(usize, ApiError)>> {
    stream.require_writable(now, account)?;
    let mut refused = Vec::new();
    for (i, record) in records.iter().enumerate() {
        let index = stream.shard_for_hash(record.hash_key());
        if !stream.shards[index]
            .throughput
            .try_write(now, record_size(record))
        {
            refused.push((
                i,
                ApiError::new(
                    ErrorCode::ProvisionedThroughputExceededException,
                    format!(
                        "Rate exceeded for shard {} in stream {} under account {account}.",
                        stream.shards[index].id(),
                        stream.name
                    ),
                ),
            ));
        }
    }
    Ok(refused)
}

/// Decodes one record's data (`index` is its position in PutRecords) into `buffer` and splits
/// it off, so a batch's data shares one allocation. The model checker has refused missing data
/// and text that is not base64; this decoder's refusal is kept in AWS's words all the same.
fn decode_data(
    index: Option<usize>,
    data: Option<&str>,
    buffer: &mut BytesMut,
) -> ApiResult<Bytes> {
    let text = data.unwrap_or_default();
    buffer.clear();
    buffer.resize(base64::decoded_len_estimate(text.len()), 0);
    // SIMD base64 (the largest cost of PutRecords); same alphabet and padding rules.
    let decoded = base64_simd::STANDARD
        .decode(
            text.as_bytes(),
            base64_simd::Out::from_slice(&mut buffer[..]),
        )
        .map(|bytes| bytes.len());
    match decoded {
        Ok(n) => {
            buffer.truncate(n);
            Ok(buffer.split().freeze())
        }
        Err(_) => {
            let member = match index {
                Some(i) => format!("records.{}.member.data", i + 1),
                None => "data".to_owned(),
            };
            let mut v = Violations::default();
            v.failed(&member, text, "be valid base64-encoded binary data");
            v.finish().map(|()| Bytes::new())
        }
    }
}

/// An `ExplicitHashKey` (its pattern, `0|[1-9]\d{0,38}`, checked by the model) in AWS's range.
fn explicit_hash_key(text: Option<&str>) -> ApiResult<Option<u128>> {
    text.map(|text| {
        text.parse().map_err(|_| {
            ApiError::invalid_argument(format!(
                "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. \
                 Specified value was {text}"
            ))
        })
    })
    .transpose()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PutRecordInput {
    #[serde(flatten)]
    ident: StreamIdent,
    data: Option<String>,
    partition_key: Option<String>,
    explicit_hash_key: Option<String>,
    sequence_number_for_ordering: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PutRecordsEntry<'a> {
    #[serde(borrow)]
    data: Option<Cow<'a, str>>,
    partition_key: Option<String>,
    explicit_hash_key: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct PutRecordsInput<'a> {
    #[serde(rename = "Records", borrow)]
    records: Option<Vec<PutRecordsEntry<'a>>>,
    #[serde(rename = "StreamName")]
    stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<String>,
}
