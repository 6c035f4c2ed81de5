//! The JSON Lambda sends: the Kinesis event handed to the function and the invocation record
//! sent to an on-failure destination, byte-for-byte in AWS's shape and field order.
//!
//! Invariant: `approximateArrivalTimestamp` is a JSON number with exactly three fraction digits
//! (`1732550400.123`), as AWS sends it, never a string.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::record::StreamRecord;
use crate::time::{Millis, iso8601_millis};

/// Where a batch comes from, for the fields every record repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSource {
    /// Stream ARN (`eventSourceARN`).
    pub stream_arn: String,
    /// Region (`awsRegion`).
    pub region: String,
    /// The function's execution role ARN (`invokeIdentityArn`).
    pub invoke_identity_arn: String,
    /// Shard id (`shardId-000000000000`).
    pub shard_id: String,
}

fn string(value: &str) -> String {
    serde_json::to_string(value).expect("strings always encode")
}

fn object(fields: &[(&str, String)]) -> String {
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}:{v}", string(k)))
        .collect();
    format!("{{{}}}", body.join(","))
}

/// Epoch milliseconds as AWS writes `approximateArrivalTimestamp`: seconds, three decimals.
pub fn arrival_timestamp(ms: Millis) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// One element of `Records`.
pub fn record_json(source: &EventSource, record: &StreamRecord) -> String {
    let sequence_number = record.sequence_number.as_str();
    let kinesis = object(&[
        ("kinesisSchemaVersion", string("1.0")),
        ("partitionKey", string(&record.partition_key)),
        ("sequenceNumber", string(sequence_number)),
        ("data", string(&STANDARD.encode(&record.data))),
        (
            "approximateArrivalTimestamp",
            arrival_timestamp(record.arrival_ms),
        ),
    ]);
    object(&[
        ("kinesis", kinesis),
        ("eventSource", string("aws:kinesis")),
        ("eventVersion", string("1.0")),
        (
            "eventID",
            string(&format!("{}:{sequence_number}", source.shard_id)),
        ),
        ("eventName", string("aws:kinesis:record")),
        ("invokeIdentityArn", string(&source.invoke_identity_arn)),
        ("awsRegion", string(&source.region)),
        ("eventSourceARN", string(&source.stream_arn)),
    ])
}

/// Bytes `{"Records":[]}` adds around the records, and each separating comma.
pub const ENVELOPE_BYTES: usize = 14;

/// The Kinesis event for a batch: `{"Records":[…]}`.
pub fn kinesis_event<'a>(
    source: &EventSource,
    records: impl IntoIterator<Item = &'a StreamRecord>,
) -> String {
    let records: Vec<String> = records
        .into_iter()
        .map(|r| record_json(source, r))
        .collect();
    format!("{{\"Records\":[{}]}}", records.join(","))
}

/// Why a batch went to the on-failure destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureCondition {
    /// The retry quota ran out.
    RetryAttemptsExhausted,
    /// The records were older than MaximumRecordAgeInSeconds (or about to leave the stream).
    RecordAgeExceeded,
}

impl FailureCondition {
    /// AWS's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RetryAttemptsExhausted => "RetryAttemptsExhausted",
            Self::RecordAgeExceeded => "RecordAgeExceeded",
        }
    }
}

/// `responseContext` of a failure record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseContext {
    /// HTTP status of the last invocation (200 for function errors, as Lambda reports them).
    pub status_code: u16,
    /// `$LATEST` or the version that ran.
    pub executed_version: String,
    /// `Unhandled` for function errors; `None` (JSON null) when partial failures exhausted retries.
    pub function_error: Option<String>,
}

/// Everything an on-failure invocation record says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureRecord {
    /// Request id of the last invocation.
    pub request_id: String,
    /// The function's ARN.
    pub function_arn: String,
    /// Why.
    pub condition: FailureCondition,
    /// Invocations of this batch (at least 1).
    pub approximate_invoke_count: u32,
    /// The last invocation's response; absent for `RecordAgeExceeded`.
    pub response: Option<ResponseContext>,
    /// When the record was written.
    pub timestamp_ms: Millis,
    /// Shard id.
    pub shard_id: String,
    /// First discarded record's sequence number.
    pub start_sequence_number: String,
    /// Last discarded record's sequence number.
    pub end_sequence_number: String,
    /// First discarded record's arrival.
    pub first_arrival_ms: Millis,
    /// Last discarded record's arrival.
    pub last_arrival_ms: Millis,
    /// Number of discarded records.
    pub batch_size: usize,
    /// Stream ARN.
    pub stream_arn: String,
}

impl FailureRecord {
    /// The message body AWS sends to an SQS destination.
    pub fn to_json(&self) -> String {
        let request_context = object(&[
            ("requestId", string(&self.request_id)),
            ("functionArn", string(&self.function_arn)),
            ("condition", string(self.condition.as_str())),
            (
                "approximateInvokeCount",
                self.approximate_invoke_count.to_string(),
            ),
        ]);
        let mut fields = vec![("requestContext", request_context)];
        if let Some(response) = &self.response {
            fields.push((
                "responseContext",
                object(&[
                    ("statusCode", response.status_code.to_string()),
                    ("executedVersion", string(&response.executed_version)),
                    (
                        "functionError",
                        response
                            .function_error
                            .as_deref()
                            .map_or("null".to_owned(), string),
                    ),
                ]),
            ));
        }
        fields.push(("version", string("1.0")));
        fields.push(("timestamp", string(&iso8601_millis(self.timestamp_ms))));
        fields.push((
            "KinesisBatchInfo",
            object(&[
                ("shardId", string(&self.shard_id)),
                ("startSequenceNumber", string(&self.start_sequence_number)),
                ("endSequenceNumber", string(&self.end_sequence_number)),
                (
                    "approximateArrivalOfFirstRecord",
                    string(&iso8601_millis(self.first_arrival_ms)),
                ),
                (
                    "approximateArrivalOfLastRecord",
                    string(&iso8601_millis(self.last_arrival_ms)),
                ),
                ("batchSize", self.batch_size.to_string()),
                ("streamArn", string(&self.stream_arn)),
            ]),
        ));
        object(&fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sequence::SequenceNumber;

    fn source() -> EventSource {
        EventSource {
            stream_arn: "arn:aws:kinesis:eu-west-1:111122223333:stream/orders".into(),
            region: "eu-west-1".into(),
            invoke_identity_arn: "arn:aws:iam::111122223333:role/my-fn-role".into(),
            shard_id: "shardId-000000000003".into(),
        }
    }

    #[test]
    fn the_event_matches_the_spec_example_byte_for_byte() {
        let record = StreamRecord {
            sequence_number: SequenceNumber::parse(
                "49655502019283746571650018761293848571958377116573155330",
            )
            .unwrap(),
            partition_key: "user-42".into(),
            data: bytes::Bytes::from_static(b"{\"order\": 7}"),
            arrival_ms: 1_732_550_400_123,
        };
        let expected = r#"{"Records":[{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"user-42","sequenceNumber":"49655502019283746571650018761293848571958377116573155330","data":"eyJvcmRlciI6IDd9","approximateArrivalTimestamp":1732550400.123},"eventSource":"aws:kinesis","eventVersion":"1.0","eventID":"shardId-000000000003:49655502019283746571650018761293848571958377116573155330","eventName":"aws:kinesis:record","invokeIdentityArn":"arn:aws:iam::111122223333:role/my-fn-role","awsRegion":"eu-west-1","eventSourceARN":"arn:aws:kinesis:eu-west-1:111122223333:stream/orders"}]}"#;
        assert_eq!(kinesis_event(&source(), [&record]), expected);
        let parsed: serde_json::Value = serde_json::from_str(expected).unwrap();
        assert!(parsed["Records"][0]["kinesis"]["approximateArrivalTimestamp"].is_number());
    }

    #[test]
    fn arrival_timestamps_keep_three_digits() {
        assert_eq!(arrival_timestamp(1_732_550_400_123), "1732550400.123");
        assert_eq!(arrival_timestamp(1_732_550_400_007), "1732550400.007");
        assert_eq!(arrival_timestamp(1_732_550_400_000), "1732550400.000");
    }

    #[test]
    fn failure_records_match_the_spec_shape() {
        let mut record = FailureRecord {
            request_id: "0d5c1d8e-5a7b-4c2e-9a1f-2b3c4d5e6f70".into(),
            function_arn: "arn:aws:lambda:eu-west-1:111122223333:function:consumer".into(),
            condition: FailureCondition::RetryAttemptsExhausted,
            approximate_invoke_count: 2,
            response: Some(ResponseContext {
                status_code: 200,
                executed_version: "$LATEST".into(),
                function_error: Some("Unhandled".into()),
            }),
            timestamp_ms: 1_764_088_501_512,
            shard_id: "shardId-000000000000".into(),
            start_sequence_number: "1".into(),
            end_sequence_number: "2".into(),
            first_arrival_ms: 1_764_088_498_101,
            last_arrival_ms: 1_764_088_498_907,
            batch_size: 2,
            stream_arn: "arn:aws:kinesis:eu-west-1:111122223333:stream/orders".into(),
        };
        assert_eq!(
            record.to_json(),
            r#"{"requestContext":{"requestId":"0d5c1d8e-5a7b-4c2e-9a1f-2b3c4d5e6f70","functionArn":"arn:aws:lambda:eu-west-1:111122223333:function:consumer","condition":"RetryAttemptsExhausted","approximateInvokeCount":2},"responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},"version":"1.0","timestamp":"2025-11-25T16:35:01.512Z","KinesisBatchInfo":{"shardId":"shardId-000000000000","startSequenceNumber":"1","endSequenceNumber":"2","approximateArrivalOfFirstRecord":"2025-11-25T16:34:58.101Z","approximateArrivalOfLastRecord":"2025-11-25T16:34:58.907Z","batchSize":2,"streamArn":"arn:aws:kinesis:eu-west-1:111122223333:stream/orders"}}"#
        );
        record.condition = FailureCondition::RecordAgeExceeded;
        record.response = None;
        let json: serde_json::Value = serde_json::from_str(&record.to_json()).unwrap();
        assert!(
            json.get("responseContext").is_none(),
            "RecordAgeExceeded has no responseContext"
        );
        record.condition = FailureCondition::RetryAttemptsExhausted;
        record.response = Some(ResponseContext {
            status_code: 200,
            executed_version: "$LATEST".into(),
            function_error: None,
        });
        let json: serde_json::Value = serde_json::from_str(&record.to_json()).unwrap();
        assert!(json["responseContext"]["functionError"].is_null());
    }
}
