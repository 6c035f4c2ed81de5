//! Firehose transformation events and results: [`FirehoseEventBuilder`] writes the
//! KinesisFirehoseEvent with the same code the delivery machine uses to build what it sends
//! (`riffle_core::firehose::transform`), and [`ok`], [`dropped`], [`processing_failed`] and
//! [`transformation_results`] build and read a handler's answer.
//!
//! Invariant: an event built here is byte for byte what `riffle_core::firehose::delivery`
//! would send for the same records.

use aws_lambda_events::event::firehose::{
    KinesisFirehoseEvent, KinesisFirehoseEventRecord, KinesisFirehoseResponse,
    KinesisFirehoseResponseRecord,
};
use base64::Engine as _;
use riffle_core::firehose::transform::{EventRecord, FirehoseEvent, KinesisRecordMetadata};
use riffle_core::time::Millis;
use serde::Serialize;

use crate::events::FIXTURE_EPOCH_MS;

/// The delivery stream fixtures use.
pub const FIXTURE_DELIVERY_STREAM_ARN: &str =
    "arn:aws:firehose:us-east-1:000000000000:deliverystream/test-delivery-stream";

/// Builds a KinesisFirehoseEvent.
///
/// ```
/// use riffle_testkit::FirehoseEventBuilder;
///
/// let event = FirehoseEventBuilder::new().record("one").record("two").build();
/// assert_eq!(event.records.len(), 2);
/// assert_eq!(event.records[1].data.0, b"two");
/// assert_eq!(event.records[0].record_id.as_deref(), Some("record-000000"));
/// ```
#[derive(Debug, Clone)]
pub struct FirehoseEventBuilder {
    event: FirehoseEvent,
}

impl Default for FirehoseEventBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl FirehoseEventBuilder {
    /// A direct-put stream's event with no records.
    pub fn new() -> Self {
        Self {
            event: FirehoseEvent {
                invocation_id: "00000000-0000-4000-8000-00000000f1e0".into(),
                delivery_stream_arn: FIXTURE_DELIVERY_STREAM_ARN.into(),
                source_kinesis_stream_arn: None,
                region: "us-east-1".into(),
                records: Vec::new(),
            },
        }
    }

    /// The delivery stream's ARN (and the event's region from it).
    pub fn delivery_stream_arn(mut self, arn: &str) -> Self {
        if let Some(region) = arn.split(':').nth(3) {
            self.event.region = region.to_owned();
        }
        self.event.delivery_stream_arn = arn.to_owned();
        self
    }

    /// The stream reads this Kinesis stream: later records carry `kinesisRecordMetadata`.
    pub fn kinesis_source(mut self, stream_arn: &str) -> Self {
        self.event.source_kinesis_stream_arn = Some(stream_arn.to_owned());
        self
    }

    /// A record, arriving a second after the previous one.
    pub fn record(self, data: impl Into<Vec<u8>>) -> Self {
        let at = FIXTURE_EPOCH_MS + 1000 * self.event.records.len() as Millis;
        self.record_at(data, at)
    }

    /// A record with `value` as JSON data.
    pub fn json_record(self, value: &impl Serialize) -> Self {
        self.record(serde_json::to_vec(value).expect("serializable"))
    }

    /// A record arriving at `arrival` (epoch ms).
    pub fn record_at(mut self, data: impl Into<Vec<u8>>, arrival: Millis) -> Self {
        let n = self.event.records.len();
        let metadata =
            self.event
                .source_kinesis_stream_arn
                .as_ref()
                .map(|_| KinesisRecordMetadata {
                    shard_id: "shardId-000000000000".into(),
                    partition_key: format!("key-{n}"),
                    approximate_arrival_timestamp: arrival,
                    sequence_number: format!("4960{n:052}"),
                    subsequence_number: 0,
                });
        self.event.records.push(EventRecord {
            record_id: format!("record-{n:06}"),
            approximate_arrival_timestamp: arrival,
            data: base64::engine::general_purpose::STANDARD.encode(data.into()),
            kinesis_record_metadata: metadata,
        });
        self
    }

    /// The record ids, in order.
    pub fn record_ids(&self) -> Vec<String> {
        self.event
            .records
            .iter()
            .map(|r| r.record_id.clone())
            .collect()
    }

    /// The event JSON, as Firehose sends it.
    pub fn json(&self) -> String {
        serde_json::to_string(&self.event).expect("plain fields serialize")
    }

    /// The event as `aws_lambda_events` reads it.
    pub fn build(&self) -> KinesisFirehoseEvent {
        serde_json::from_str(&self.json()).expect("the event reads back")
    }
}

fn answer(
    record: &KinesisFirehoseEventRecord,
    result: &str,
    data: Vec<u8>,
) -> KinesisFirehoseResponseRecord {
    let mut answer = KinesisFirehoseResponseRecord::default();
    answer.record_id = record.record_id.clone();
    answer.result = Some(result.to_owned());
    answer.data.0 = data;
    answer
}

/// `record` transformed to `data`.
pub fn ok(
    record: &KinesisFirehoseEventRecord,
    data: impl Into<Vec<u8>>,
) -> KinesisFirehoseResponseRecord {
    answer(record, "Ok", data.into())
}

/// `record` dropped on purpose.
pub fn dropped(record: &KinesisFirehoseEventRecord) -> KinesisFirehoseResponseRecord {
    answer(record, "Dropped", Vec::new())
}

/// `record` could not be transformed (its original data is returned, as AWS's blueprints do).
pub fn processing_failed(record: &KinesisFirehoseEventRecord) -> KinesisFirehoseResponseRecord {
    answer(record, "ProcessingFailed", record.data.0.clone())
}

/// A response of `records`.
pub fn response(records: Vec<KinesisFirehoseResponseRecord>) -> KinesisFirehoseResponse {
    let mut response = KinesisFirehoseResponse::default();
    response.records = records;
    response
}

/// Each record of a response: its id, result and decoded data.
pub fn transformation_results(
    response: &KinesisFirehoseResponse,
) -> Vec<(String, String, Vec<u8>)> {
    response
        .records
        .iter()
        .map(|r| {
            (
                r.record_id.clone().unwrap_or_default(),
                r.result.clone().unwrap_or_default(),
                r.data.0.clone(),
            )
        })
        .collect()
}
