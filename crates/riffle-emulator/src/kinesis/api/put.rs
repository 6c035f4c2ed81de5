//! PutRecord and PutRecords: validating records, routing them to shards, the per-shard write
//! limit, and the answer that names each record's shard and sequence number.
//!
//! Invariant: a PutRecords batch decodes all its data into one allocation; a record refused by
//! the throughput limit is neither stored nor logged.

use std::borrow::Cow;

use bytes::{Bytes, BytesMut};
use serde::Deserialize;
use serde_json::json;

use super::request::{StreamIdent, to_body};
use super::{Kinesis, Reply};
use crate::clock::Millis;
use crate::error::{ApiError, ApiResult, ErrorCode, Violations};
use crate::kinesis::keys::{SequenceParts, is_sequence_number_shaped, parse_hash_key, push_padded};
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
        let record = validate_entry(
            &mut v,
            None,
            input.data.as_deref(),
            input.partition_key.clone(),
            input.explicit_hash_key.as_deref(),
            &mut BytesMut::new(),
        );
        if let Some(seq) = &input.sequence_number_for_ordering
            && !is_sequence_number_shaped(seq)
        {
            v.failed(
                "sequenceNumberForOrdering",
                seq,
                "satisfy regular expression pattern: 0|([1-9]\\d{0,128})",
            );
        }
        v.finish()?;
        let record =
            record.map_err(|()| ApiError::internal("validation passed without a record"))?;
        let name = self.require_stream(name)?;
        let enforce = store.settings.enforce_throughput;
        let (stream, account) = store.stream_and_account(&name, now)?;
        let records = vec![record];
        if enforce && let Some(refused) = charge_writes(stream, account, now, &records)?.pop() {
            return Err(refused.1);
        }
        let created_secs = stream.created_ms / 1000;
        let mutation = Mutation::PutRecords {
            stream: name,
            records,
        };
        let (appended, durable_at) = self.commit(&mut store, now, mutation)?;
        let appended = appended[0];
        Ok(Reply {
            body: to_body(&json!({
                "ShardId": appended.shard_id(),
                "SequenceNumber": SequenceParts {
                    stream_created_secs: created_secs,
                    shard: appended.shard,
                    counter: appended.counter,
                }
                .encode(),
                "EncryptionType": "NONE",
            })),
            durable_at,
        })
    }

    pub(super) fn put_records(&self, body: &[u8]) -> ApiResult<Reply> {
        let input: PutRecordsInput<'_> = serde_json::from_slice(body)
            .map_err(|e| ApiError::new(ErrorCode::SerializationException, e.to_string()))?;
        let now = self.clock.now_millis();
        let mut v = Violations::default();
        let mut records = Vec::new();
        let mut total = 0usize;
        let count = input.records.as_ref().map_or(0, Vec::len);
        match input.records {
            None => v.missing("records"),
            Some(entries) if entries.is_empty() || entries.len() > 500 => {
                let constraint = if entries.is_empty() {
                    "have length greater than or equal to 1"
                } else {
                    "have length less than or equal to 500"
                };
                v.failed(
                    "records",
                    format!("[{} records]", entries.len()),
                    constraint,
                );
            }
            Some(entries) => {
                records.reserve(count);
                // Every record's data is decoded into one allocation and split off it.
                let encoded: usize = entries
                    .iter()
                    .map(|e| e.data.as_ref().map_or(0, |d| d.len()))
                    .sum();
                let mut buffer = BytesMut::with_capacity(encoded / 4 * 3 + 3 * count);
                for (i, entry) in entries.into_iter().enumerate() {
                    let record = validate_entry(
                        &mut v,
                        Some(i),
                        entry.data.as_deref(),
                        entry.partition_key,
                        entry.explicit_hash_key.as_deref(),
                        &mut buffer,
                    );
                    if let Ok(record) = record {
                        total += record_size(&record);
                        records.push(record);
                    }
                }
            }
        }
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
        let created_secs = stream.created_ms / 1000;
        let count = records.len();
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
                    let Appended { shard, counter } =
                        appended.next().expect("one landing per accepted record");
                    body.extend_from_slice(b"{\"SequenceNumber\":\"");
                    SequenceParts {
                        stream_created_secs: created_secs,
                        shard,
                        counter,
                    }
                    .write_to(&mut body);
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
        body.extend_from_slice(b"],\"EncryptionType\":\"NONE\"}");
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

/// Validates one record of PutRecord or PutRecords (`index` is its position in PutRecords),
/// decoding its data into `buffer` and splitting it off, so a batch's data shares one
/// allocation. Member names for error messages are only formatted when something fails.
pub(super) fn validate_entry(
    v: &mut Violations,
    index: Option<usize>,
    data: Option<&str>,
    partition_key: Option<String>,
    explicit_hash_key: Option<&str>,
    buffer: &mut BytesMut,
) -> Result<NewRecord, ()> {
    let member = |field: &str| match index {
        Some(i) => format!("records.{}.member.{field}", i + 1),
        None => field.to_owned(),
    };
    let mut ok = true;
    let data = match data {
        None => {
            v.missing(&member("data"));
            ok = false;
            Bytes::new()
        }
        Some(text) => {
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
                Ok(n) if n > MAX_RECORD_BYTES => {
                    v.failed(
                        &member("data"),
                        "java.nio.HeapByteBuffer",
                        &format!("have length less than or equal to {MAX_RECORD_BYTES}"),
                    );
                    ok = false;
                    Bytes::new()
                }
                Ok(n) => {
                    buffer.truncate(n);
                    buffer.split().freeze()
                }
                Err(_) => {
                    v.failed(&member("data"), text, "be valid base64-encoded binary data");
                    ok = false;
                    Bytes::new()
                }
            }
        }
    };
    match &partition_key {
        None => {
            v.missing(&member("partitionKey"));
            ok = false;
        }
        // A key of 1 to 256 bytes has 1 to 256 characters; only longer ones need counting.
        Some(key) if !key.is_empty() && key.len() <= 256 => {}
        Some(key) => {
            let before = v.len();
            v.length(&member("partitionKey"), key, 1, 256);
            ok &= before == v.len();
        }
    }
    let explicit = match explicit_hash_key {
        Some(text) => match parse_hash_key(text) {
            Some(hash) => Some(hash),
            None => {
                v.failed(
                    &member("explicitHashKey"),
                    text,
                    "satisfy regular expression pattern: 0|([1-9]\\d{0,38})",
                );
                ok = false;
                None
            }
        },
        None => None,
    };
    if !ok {
        return Err(());
    }
    Ok(NewRecord {
        partition_key: partition_key.unwrap_or_default(),
        explicit_hash_key: explicit,
        data,
    })
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
