//! Realistic events, built from the same writers the engine uses, so a fixture is byte for byte
//! what a handler receives under Riffle (and, field for field, under Lambda).
//!
//! Invariant: `json()` is the engine's output for the same records; `build()` is that JSON read
//! through `aws_lambda_events`, exactly as `lambda_runtime` would hand it to a handler.

use std::collections::HashMap;

use aws_lambda_events::event::kinesis::{KinesisEvent, KinesisTimeWindowEvent};
use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Context, LambdaEvent};
use riffle_core::digest::{AttributeValue, attributes_md5, md5_hex};
use riffle_core::kinesis::event::{EventSource, WindowFields, kinesis_event, windowed_event};
use riffle_core::record::StreamRecord;
use riffle_core::sequence::SequenceNumber;
use riffle_core::sqs::event::{EventAttribute, QueueMessage, sqs_event};
use riffle_core::time::Millis;
use serde::Serialize;

/// 2024-11-25T16:00:00Z: where fixtures' arrival times start unless given.
pub const FIXTURE_EPOCH_MS: Millis = 1_732_550_400_000;

/// Builds Kinesis events. Records get increasing sequence numbers and arrival times one
/// millisecond apart unless given.
///
/// ```
/// use riffle_testkit::KinesisEventBuilder;
///
/// let event = KinesisEventBuilder::new()
///     .json_record("user-1", &serde_json::json!({"order": 7}))
///     .record("user-2", "plain bytes")
///     .build();
/// assert_eq!(event.records.len(), 2);
/// assert_eq!(event.records[1].kinesis.data.0, b"plain bytes");
/// assert_eq!(event.records[0].kinesis.partition_key, "user-1");
/// ```
#[derive(Debug, Clone)]
pub struct KinesisEventBuilder {
    source: EventSource,
    records: Vec<StreamRecord>,
}

impl Default for KinesisEventBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl KinesisEventBuilder {
    /// An empty event from `shardId-000000000000` of stream `test-stream` in us-east-1.
    pub fn new() -> Self {
        Self {
            source: EventSource {
                stream_arn: "arn:aws:kinesis:us-east-1:000000000000:stream/test-stream".into(),
                region: "us-east-1".into(),
                invoke_identity_arn: "arn:aws:iam::000000000000:role/riffle-local".into(),
                shard_id: "shardId-000000000000".into(),
            },
            records: Vec::new(),
        }
    }

    /// The stream ARN (`eventSourceARN`); the region follows the ARN.
    pub fn stream_arn(mut self, arn: &str) -> Self {
        if let Some(region) = arn.split(':').nth(3) {
            self.source.region = region.to_owned();
        }
        self.source.stream_arn = arn.to_owned();
        self
    }

    /// The shard id (`eventID` prefix).
    pub fn shard_id(mut self, shard_id: &str) -> Self {
        self.source.shard_id = shard_id.to_owned();
        self
    }

    /// A record with raw `data`.
    pub fn record(self, partition_key: &str, data: impl Into<Vec<u8>>) -> Self {
        let arrival = FIXTURE_EPOCH_MS + self.records.len() as Millis;
        self.record_at(partition_key, data, arrival)
    }

    /// A record whose data is `value` as JSON.
    pub fn json_record(self, partition_key: &str, value: &impl Serialize) -> Self {
        let data = serde_json::to_vec(value).expect("the value serializes to JSON");
        self.record(partition_key, data)
    }

    /// A record that arrived at `arrival_ms` (epoch ms).
    pub fn record_at(
        self,
        partition_key: &str,
        data: impl Into<Vec<u8>>,
        arrival_ms: Millis,
    ) -> Self {
        let n = self.records.len() + 1;
        self.record_with(&format!("4959{n:052}"), partition_key, data, arrival_ms)
    }

    /// A record with a given sequence number (decimal digits), as a trace or a failure record
    /// names it.
    pub fn record_with(
        mut self,
        sequence_number: &str,
        partition_key: &str,
        data: impl Into<Vec<u8>>,
        arrival_ms: Millis,
    ) -> Self {
        let sequence_number =
            SequenceNumber::parse(sequence_number).expect("a sequence number is decimal digits");
        self.records.push(StreamRecord {
            sequence_number,
            partition_key: partition_key.to_owned(),
            data: bytes::Bytes::from(data.into()),
            arrival_ms,
        });
        self
    }

    /// The sequence numbers of the records, in order (for asserting `batchItemFailures`).
    pub fn sequence_numbers(&self) -> Vec<String> {
        self.records
            .iter()
            .map(|r| r.sequence_number.to_string())
            .collect()
    }

    /// The event JSON, exactly as the engine sends it.
    pub fn json(&self) -> String {
        kinesis_event(&self.source, &self.records)
    }

    /// The event as a handler receives it.
    pub fn build(&self) -> KinesisEvent {
        serde_json::from_str(&self.json()).expect("the engine's event reads as a KinesisEvent")
    }

    /// The event of a tumbling-window invocation for the window `[start_ms, end_ms)` carrying
    /// `state`, as a handler with `KinesisTimeWindowEvent` receives it.
    pub fn window(
        &self,
        start_ms: Millis,
        end_ms: Millis,
        state: &HashMap<String, String>,
        final_invoke: bool,
    ) -> KinesisTimeWindowEvent {
        let state = serde_json::to_value(state).expect("strings serialize");
        let fields = WindowFields {
            start_ms,
            end_ms,
            state: &state,
            final_invoke,
            terminated_early: false,
        };
        let json = windowed_event(&self.json(), &self.source, &fields);
        serde_json::from_str(&json).expect("the engine's event reads as a KinesisTimeWindowEvent")
    }
}

/// One SQS message for [`SqsEventBuilder`].
#[derive(Debug, Clone)]
pub struct SqsMessage {
    body: String,
    attributes: Vec<(String, String)>,
    message_attributes: Vec<(String, AttributeValue)>,
    group: Option<(String, String)>,
}

impl SqsMessage {
    /// A message with `body`, received once.
    pub fn new(body: impl Into<String>) -> Self {
        Self {
            body: body.into(),
            attributes: Vec::new(),
            message_attributes: Vec::new(),
            group: None,
        }
    }

    /// A message whose body is `value` as JSON.
    pub fn json(value: &impl Serialize) -> Self {
        Self::new(serde_json::to_string(value).expect("the value serializes to JSON"))
    }

    /// Sets a system attribute (`ApproximateReceiveCount`, `AWSTraceHeader`, …).
    pub fn attribute(mut self, name: &str, value: impl Into<String>) -> Self {
        self.attributes.retain(|(k, _)| k != name);
        self.attributes.push((name.to_owned(), value.into()));
        self
    }

    /// Adds a String message attribute.
    pub fn string_attribute(mut self, name: &str, value: impl Into<String>) -> Self {
        self.message_attributes.push((
            name.to_owned(),
            AttributeValue {
                data_type: "String".into(),
                string_value: Some(value.into()),
                binary_value: None,
            },
        ));
        self
    }

    /// Adds a Number message attribute.
    pub fn number_attribute(mut self, name: &str, value: impl ToString) -> Self {
        self.message_attributes.push((
            name.to_owned(),
            AttributeValue {
                data_type: "Number".into(),
                string_value: Some(value.to_string()),
                binary_value: None,
            },
        ));
        self
    }

    /// Makes it a FIFO message of `group` with `deduplication_id`.
    pub fn fifo(mut self, group: &str, deduplication_id: &str) -> Self {
        self.group = Some((group.to_owned(), deduplication_id.to_owned()));
        self
    }
}

/// Builds SQS events; message ids, receipt handles and MD5s are filled in as SQS would.
///
/// ```
/// use riffle_testkit::{SqsEventBuilder, SqsMessage};
///
/// let builder = SqsEventBuilder::new()
///     .message(SqsMessage::json(&serde_json::json!({"job": 1})).string_attribute("kind", "a"))
///     .message(SqsMessage::new("second"));
/// let event = builder.build();
/// assert_eq!(event.records[1].body.as_deref(), Some("second"));
/// assert_eq!(event.records[0].message_id.as_deref(), Some(builder.message_ids()[0].as_str()));
/// ```
#[derive(Debug, Clone)]
pub struct SqsEventBuilder {
    queue_arn: String,
    region: String,
    messages: Vec<SqsMessage>,
}

impl Default for SqsEventBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl SqsEventBuilder {
    /// An empty event from queue `test-queue` in us-east-1.
    pub fn new() -> Self {
        Self {
            queue_arn: "arn:aws:sqs:us-east-1:000000000000:test-queue".into(),
            region: "us-east-1".into(),
            messages: Vec::new(),
        }
    }

    /// The queue ARN (`eventSourceARN`); the region follows the ARN.
    pub fn queue_arn(mut self, arn: &str) -> Self {
        if let Some(region) = arn.split(':').nth(3) {
            self.region = region.to_owned();
        }
        self.queue_arn = arn.to_owned();
        self
    }

    /// Adds a message.
    pub fn message(mut self, message: SqsMessage) -> Self {
        self.messages.push(message);
        self
    }

    /// The message ids, in order (for asserting `batchItemFailures`).
    pub fn message_ids(&self) -> Vec<String> {
        (1..=self.messages.len()).map(message_id).collect()
    }

    fn queue_messages(&self) -> Vec<QueueMessage> {
        self.messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let sent = FIXTURE_EPOCH_MS + i as Millis;
                // Lambda's order: the FIFO attributes around SenderId, the first receive last.
                let mut attributes = vec![
                    ("ApproximateReceiveCount".to_owned(), "1".to_owned()),
                    ("SentTimestamp".to_owned(), sent.to_string()),
                ];
                if let Some((group, _)) = &m.group {
                    attributes.push(("SequenceNumber".into(), format!("{:020}", i + 1)));
                    attributes.push(("MessageGroupId".into(), group.clone()));
                }
                attributes.push(("SenderId".to_owned(), "AIDAIENQZJOLO23YVJ4VO".to_owned()));
                if let Some((_, dedup)) = &m.group {
                    attributes.push(("MessageDeduplicationId".into(), dedup.clone()));
                }
                attributes.push((
                    "ApproximateFirstReceiveTimestamp".to_owned(),
                    (sent + 10).to_string(),
                ));
                for (name, value) in &m.attributes {
                    match attributes.iter_mut().find(|(k, _)| k == name) {
                        Some(slot) => slot.1 = value.clone(),
                        None => attributes.push((name.clone(), value.clone())),
                    }
                }
                let sorted: std::collections::BTreeMap<String, AttributeValue> =
                    m.message_attributes.iter().cloned().collect();
                QueueMessage {
                    message_id: message_id(i + 1),
                    receipt_handle: format!("AQEB{:032x}", i + 1),
                    body: m.body.clone(),
                    md5_of_body: md5_hex(m.body.as_bytes()),
                    attributes,
                    message_attributes: sorted
                        .iter()
                        .map(|(name, a)| {
                            (
                                name.clone(),
                                EventAttribute {
                                    data_type: a.data_type.clone(),
                                    string_value: a.string_value.clone(),
                                    binary_value: None,
                                },
                            )
                        })
                        .collect(),
                    md5_of_message_attributes: attributes_md5(&sorted),
                }
            })
            .collect()
    }

    /// The event JSON, exactly as the engine sends it.
    pub fn json(&self) -> String {
        sqs_event(&self.queue_arn, &self.region, &self.queue_messages())
    }

    /// The event as a handler receives it.
    pub fn build(&self) -> SqsEvent {
        serde_json::from_str(&self.json()).expect("the engine's event reads as an SqsEvent")
    }
}

fn message_id(n: usize) -> String {
    format!("7f9c1a2e-0000-4000-8000-{n:012x}")
}

/// A `lambda_runtime::Context` as Lambda fills it for an invocation.
///
/// ```
/// let context = riffle_testkit::context("req-1");
/// assert_eq!(context.request_id, "req-1");
/// assert!(context.invoked_function_arn.starts_with("arn:aws:lambda:"));
/// ```
pub fn context(request_id: &str) -> Context {
    let mut context = Context::default();
    context.request_id = request_id.to_owned();
    context.deadline = FIXTURE_EPOCH_MS + 3_000;
    context.invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:test".into();
    context.xray_trace_id = Some("Root=1-674491c0-000000000000000000000001;Sampled=0".into());
    context
}

/// `payload` with a [`context`], ready for `handler(event)` or `service.call(event)`.
///
/// ```
/// use riffle_testkit::{KinesisEventBuilder, lambda_event};
///
/// let event = lambda_event(KinesisEventBuilder::new().record("k", "v").build());
/// assert_eq!(event.payload.records.len(), 1);
/// assert!(!event.context.request_id.is_empty());
/// ```
pub fn lambda_event<T>(payload: T) -> LambdaEvent<T> {
    LambdaEvent::new(payload, context("00000000-0000-4000-8000-000000000001"))
}
