//! PutRecord and PutRecordBatch: records accepted into an `ACTIVE` DirectPut stream, durable
//! before the answer, each with an opaque RecordId.
//!
//! Invariants: a batch is accepted whole or refused whole (the model checker has already
//! refused a record over 1,000 KiB and a batch over 500 records, as Firehose does, with a
//! `ValidationException`); RecordIds are unique per data directory (derived from its key, the
//! stream's name and creation time, and the record's position).

use base64::Engine as _;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::request::{PutRecordBatchInput, PutRecordInput, RecordInput, to_body};
use super::{Firehose, Reply};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::firehose::store::{DeliveryStream, FirehoseStore, Mutation, Record, StreamStatus};

/// Most bytes of data one PutRecordBatch may carry (before base64).
pub(crate) const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;

impl Firehose {
    pub(super) fn put_record(&self, input: PutRecordInput) -> ApiResult<Reply> {
        let (ids, encrypted, durable_at) =
            self.append(&input.delivery_stream_name, vec![input.record])?;
        Ok(Reply {
            body: to_body(&json!({ "RecordId": ids[0], "Encrypted": encrypted })),
            durable_at,
        })
    }

    pub(super) fn put_record_batch(&self, input: PutRecordBatchInput) -> ApiResult<Reply> {
        let (ids, encrypted, durable_at) =
            self.append(&input.delivery_stream_name, input.records)?;
        let responses: Vec<_> = ids.iter().map(|id| json!({ "RecordId": id })).collect();
        Ok(Reply {
            body: to_body(&json!({
                "FailedPutCount": 0,
                "Encrypted": encrypted,
                "RequestResponses": responses,
            })),
            durable_at,
        })
    }

    /// Appends `records` to the DirectPut stream `name`: their RecordIds, whether the stream
    /// encrypts, and the log position to wait for.
    fn append(
        &self,
        name: &str,
        records: Vec<RecordInput>,
    ) -> ApiResult<(Vec<String>, bool, Option<u64>)> {
        let mut data = Vec::with_capacity(records.len());
        for record in records {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(record.data.as_bytes())
                .map_err(|e| ApiError::new(ErrorCode::SerializationException, e.to_string()))?;
            data.push(bytes);
        }
        let total: usize = data.iter().map(Vec::len).sum();
        if total > MAX_BATCH_BYTES {
            return Err(ApiError::invalid_argument(format!(
                "Records size exceeds 4 MiB limit: the batch holds {total} bytes of data."
            )));
        }
        let (mut store, now) = self.lock_now();
        let stream = store.stream(name)?;
        if store.status(stream, now) != StreamStatus::Active {
            // PutRecord's errors have no ResourceInUseException: Firehose reports a stream it
            // is still creating as not found.
            return Err(store.not_found(name));
        }
        if stream.config.source.is_some() {
            return Err(ApiError::invalid_argument(
                "This operation is not permitted on KinesisStreamAsSource delivery stream type.",
            ));
        }
        let encrypted = stream.config.encryption.is_some();
        let records = records_at(&store, stream, now, data.into_iter().map(|d| (d, None)));
        let ids = records.iter().map(|r| r.record_id.clone()).collect();
        let mutation = Mutation::Append {
            name: name.to_owned(),
            records,
        };
        let durable_at = self.commit(&mut store, now, mutation)?;
        Ok((ids, encrypted, durable_at))
    }
}

/// `data` as records at `stream`'s next positions, arriving at `now`, with their RecordIds.
pub(super) fn records_at(
    store: &FirehoseStore,
    stream: &DeliveryStream,
    now: crate::clock::Millis,
    data: impl Iterator<
        Item = (
            Vec<u8>,
            Option<riffle_core::firehose::transform::KinesisRecordMetadata>,
        ),
    >,
) -> Vec<Record> {
    data.zip(stream.next_position..)
        .map(|((data, kinesis), position)| Record {
            position,
            record_id: match &kinesis {
                Some(metadata) => metadata.sequence_number.clone(),
                None => record_id(&store.id_key, stream, position),
            },
            arrival: now,
            data,
            kinesis,
            lsn: 0,
        })
        .collect()
}

/// An opaque RecordId as long as Firehose's (160 base64 characters), unique to the data
/// directory's key, the stream (its name and creation time) and the position.
fn record_id(key: &[u8; 16], stream: &DeliveryStream, position: u64) -> String {
    let mut bytes = Vec::with_capacity(128);
    for block in 0u8..4 {
        let mut hash = Sha256::new();
        hash.update(key);
        hash.update(stream.name.as_bytes());
        hash.update(stream.created_ms.to_le_bytes());
        hash.update(position.to_le_bytes());
        hash.update([block]);
        bytes.extend_from_slice(&hash.finalize());
    }
    // The position in the clear as well, so two records of one stream can never collide.
    bytes[..8].copy_from_slice(&position.to_be_bytes());
    bytes.truncate(120);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
