//! The JSON Lambda sends: the Kinesis event handed to the function and the invocation record
//! sent to an on-failure destination, byte-for-byte in AWS's shape and field order.
//!
//! Invariant: `approximateArrivalTimestamp` is a JSON number with exactly three fraction digits
//! (`1732550400.123`), as AWS sends it, never a string.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::invocation::ENVELOPE_BYTES;
use crate::json;
use crate::kinesis::shard::{Discard, EventFormat};
use crate::record::StreamRecord;
use crate::time::{Millis, iso8601_millis, parse_iso8601_millis};

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
    let mut out = String::with_capacity(value.len() + 2);
    json::write_string(&mut out, value);
    out
}

/// Epoch milliseconds as AWS writes `approximateArrivalTimestamp`: seconds, three decimals.
pub fn arrival_timestamp(ms: Millis) -> String {
    let mut out = String::with_capacity(16);
    push_arrival(&mut out, ms);
    out
}

/// The encoder: the event is written once, by [`emit_record`], either into a buffer or into a
/// counter that computes the exact length without building anything.
trait Sink {
    fn raw(&mut self, text: &str);
    fn json_str(&mut self, value: &str) {
        self.json_str_parts(&[value]);
    }
    /// One JSON string literal whose content is `parts` concatenated.
    fn json_str_parts(&mut self, parts: &[&str]);
    fn base64(&mut self, data: &[u8]);
    fn arrival(&mut self, ms: Millis);
}

impl Sink for String {
    fn raw(&mut self, text: &str) {
        self.push_str(text);
    }
    fn json_str_parts(&mut self, parts: &[&str]) {
        self.push('"');
        for part in parts {
            json::write_content(self, part);
        }
        self.push('"');
    }
    fn base64(&mut self, data: &[u8]) {
        STANDARD.encode_string(data, self);
    }
    fn arrival(&mut self, ms: Millis) {
        push_arrival(self, ms);
    }
}

/// Counts the bytes a [`String`] sink would receive.
struct Length(usize);

impl Sink for Length {
    fn raw(&mut self, text: &str) {
        self.0 += text.len();
    }
    fn json_str_parts(&mut self, parts: &[&str]) {
        self.0 += 2 + parts.iter().map(|p| json::escaped_len(p)).sum::<usize>();
    }
    fn base64(&mut self, data: &[u8]) {
        self.0 += data.len().div_ceil(3) * 4;
    }
    fn arrival(&mut self, ms: Millis) {
        self.0 += json::decimal_len(ms / 1000) + 4;
    }
}

fn push_arrival(out: &mut String, ms: Millis) {
    json::write_u64(out, ms / 1000);
    let fraction = ms % 1000;
    out.push('.');
    out.push((b'0' + (fraction / 100) as u8) as char);
    out.push((b'0' + (fraction / 10 % 10) as u8) as char);
    out.push((b'0' + (fraction % 10) as u8) as char);
}

/// One element of `Records`, in AWS's field order.
fn emit_record(out: &mut impl Sink, source: &EventSource, record: &StreamRecord) {
    let sequence_number = record.sequence_number.as_str();
    out.raw("{\"kinesis\":{\"kinesisSchemaVersion\":\"1.0\",\"partitionKey\":");
    out.json_str(&record.partition_key);
    out.raw(",\"sequenceNumber\":");
    out.json_str(sequence_number);
    out.raw(",\"data\":\"");
    out.base64(&record.data);
    out.raw("\",\"approximateArrivalTimestamp\":");
    out.arrival(record.arrival_ms);
    out.raw("},\"eventSource\":\"aws:kinesis\",\"eventVersion\":\"1.0\",\"eventID\":");
    out.json_str_parts(&[&source.shard_id, ":", sequence_number]);
    out.raw(",\"eventName\":\"aws:kinesis:record\",\"invokeIdentityArn\":");
    out.json_str(&source.invoke_identity_arn);
    out.raw(",\"awsRegion\":");
    out.json_str(&source.region);
    out.raw(",\"eventSourceARN\":");
    out.json_str(&source.stream_arn);
    out.raw("}");
}

/// One element of `Records`.
pub fn record_json(source: &EventSource, record: &StreamRecord) -> String {
    let mut out = String::with_capacity(record_json_len(source, record));
    emit_record(&mut out, source, record);
    out
}

/// The exact length of [`record_json`]'s output, computed without building it.
pub fn record_json_len(source: &EventSource, record: &StreamRecord) -> usize {
    let mut length = Length(0);
    emit_record(&mut length, source, record);
    length.0
}

/// The Kinesis event for a batch: `{"Records":[…]}`.
pub fn kinesis_event<'a>(
    source: &EventSource,
    records: impl IntoIterator<Item = &'a StreamRecord>,
) -> String {
    kinesis_event_with_capacity(source, records, 0)
}

/// [`kinesis_event`] into a buffer of `capacity` bytes, for a caller that knows the size.
pub fn kinesis_event_with_capacity<'a>(
    source: &EventSource,
    records: impl IntoIterator<Item = &'a StreamRecord>,
    capacity: usize,
) -> String {
    let mut out = String::with_capacity(capacity.max(ENVELOPE_BYTES));
    out.push_str("{\"Records\":[");
    for (i, record) in records.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        emit_record(&mut out, source, record);
    }
    out.push_str("]}");
    out
}

/// What a tumbling-window invocation adds to the Kinesis event.
#[derive(Debug, Clone, Copy)]
pub struct WindowFields<'a> {
    /// Window start, epoch ms (whole seconds).
    pub start_ms: Millis,
    /// Window end, epoch ms.
    pub end_ms: Millis,
    /// The state carried from the previous invocation (`{}` at first).
    pub state: &'a serde_json::Value,
    /// `isFinalInvokeForWindow`.
    pub final_invoke: bool,
    /// `isWindowTerminatedEarly`.
    pub terminated_early: bool,
}

/// The event of a tumbling-window invocation: the Kinesis event plus `window`, `state`,
/// `shardId`, `eventSourceARN`, `isFinalInvokeForWindow` and `isWindowTerminatedEarly`.
pub fn windowed_event(event: &str, source: &EventSource, window: &WindowFields<'_>) -> String {
    let body = event.strip_suffix('}').unwrap_or(event);
    format!(
        "{body},\"window\":{{\"start\":\"{}\",\"end\":\"{}\"}},\"state\":{},\"shardId\":{},\"eventSourceARN\":{},\"isFinalInvokeForWindow\":{},\"isWindowTerminatedEarly\":{}}}",
        crate::time::iso8601_seconds(window.start_ms),
        crate::time::iso8601_seconds(window.end_ms),
        window.state,
        string(&source.shard_id),
        string(&source.stream_arn),
        window.final_invoke,
        window.terminated_early,
    )
}

/// The bytes [`windowed_event`] adds to an event for a window from `start_ms` to `end_ms` whose
/// state serializes to `state_bytes` bytes; an upper bound, as both flags count as `false`.
pub fn window_fields_len(
    source: &EventSource,
    start_ms: Millis,
    end_ms: Millis,
    state_bytes: usize,
) -> usize {
    let empty = serde_json::json!({});
    let fields = WindowFields {
        start_ms,
        end_ms,
        state: &empty,
        final_invoke: false,
        terminated_early: false,
    };
    // `{}` in, `{…fields}` out; the placeholder state `{}` is two bytes.
    windowed_event("{}", source, &fields).len() - 2 - 2 + state_bytes
}

/// Why a batch went to the on-failure destination. Serialized as AWS spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseContext {
    /// HTTP status of the last invocation (200 for function errors, as Lambda reports them).
    pub status_code: u16,
    /// `$LATEST` or the version that ran.
    pub executed_version: String,
    /// `Unhandled` for function errors; `None` (JSON null) when partial failures exhausted retries.
    pub function_error: Option<String>,
}

/// Everything an on-failure invocation record says. It serializes to (and reads back from)
/// exactly the JSON AWS sends to an SQS destination, field for field and in AWS's order.
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
    /// The invocation's event (`{"Records":[…]}`, as the function received the batch), which
    /// AWS adds as `payload` for S3 destinations only.
    pub payload: Option<String>,
}

/// The JSON shape of a [`FailureRecord`], borrowing its strings when written (read back, they
/// are owned).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireRecord<'a> {
    request_context: WireRequest<'a>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    response_context: Option<Cow<'a, ResponseContext>>,
    version: Cow<'a, str>,
    timestamp: Cow<'a, str>,
    #[serde(rename = "KinesisBatchInfo")]
    kinesis_batch_info: WireBatch<'a>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    payload: Option<Box<RawValue>>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireRequest<'a> {
    request_id: Cow<'a, str>,
    function_arn: Cow<'a, str>,
    condition: FailureCondition,
    approximate_invoke_count: u32,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireBatch<'a> {
    shard_id: Cow<'a, str>,
    start_sequence_number: Cow<'a, str>,
    end_sequence_number: Cow<'a, str>,
    approximate_arrival_of_first_record: Cow<'a, str>,
    approximate_arrival_of_last_record: Cow<'a, str>,
    batch_size: usize,
    stream_arn: Cow<'a, str>,
}

impl Serialize for FailureRecord {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        WireRecord {
            request_context: WireRequest {
                request_id: Cow::Borrowed(&self.request_id),
                function_arn: Cow::Borrowed(&self.function_arn),
                condition: self.condition,
                approximate_invoke_count: self.approximate_invoke_count,
            },
            response_context: self.response.as_ref().map(Cow::Borrowed),
            version: Cow::Borrowed("1.0"),
            timestamp: Cow::Owned(iso8601_millis(self.timestamp_ms)),
            kinesis_batch_info: WireBatch {
                shard_id: Cow::Borrowed(&self.shard_id),
                start_sequence_number: Cow::Borrowed(&self.start_sequence_number),
                end_sequence_number: Cow::Borrowed(&self.end_sequence_number),
                approximate_arrival_of_first_record: Cow::Owned(iso8601_millis(
                    self.first_arrival_ms,
                )),
                approximate_arrival_of_last_record: Cow::Owned(iso8601_millis(
                    self.last_arrival_ms,
                )),
                batch_size: self.batch_size,
                stream_arn: Cow::Borrowed(&self.stream_arn),
            },
            payload: match &self.payload {
                Some(event) => {
                    Some(RawValue::from_string(event.clone()).map_err(serde::ser::Error::custom)?)
                }
                None => None,
            },
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for FailureRecord {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WireRecord::deserialize(deserializer)?;
        let time = |text: &str| {
            parse_iso8601_millis(text).ok_or_else(|| {
                serde::de::Error::custom(format!("{text:?} is not an ISO-8601 UTC time"))
            })
        };
        let (request, batch) = (wire.request_context, wire.kinesis_batch_info);
        Ok(Self {
            request_id: request.request_id.into_owned(),
            function_arn: request.function_arn.into_owned(),
            condition: request.condition,
            approximate_invoke_count: request.approximate_invoke_count,
            response: wire.response_context.map(Cow::into_owned),
            timestamp_ms: time(&wire.timestamp)?,
            shard_id: batch.shard_id.into_owned(),
            start_sequence_number: batch.start_sequence_number.into_owned(),
            end_sequence_number: batch.end_sequence_number.into_owned(),
            first_arrival_ms: time(&batch.approximate_arrival_of_first_record)?,
            last_arrival_ms: time(&batch.approximate_arrival_of_last_record)?,
            batch_size: batch.batch_size,
            stream_arn: batch.stream_arn.into_owned(),
            payload: wire
                .payload
                .map(|event| String::from(Box::<str>::from(event))),
        })
    }
}

/// The Kinesis event format: the shard machine writes Kinesis events with it.
impl EventFormat for EventSource {
    fn record_len(&self, record: &StreamRecord) -> usize {
        record_json_len(self, record)
    }

    fn event<'a>(
        &self,
        records: impl IntoIterator<Item = &'a StreamRecord>,
        capacity: usize,
    ) -> String {
        kinesis_event_with_capacity(self, records, capacity)
    }

    fn windowed(&self, event: &str, window: &WindowFields<'_>) -> String {
        windowed_event(event, self, window)
    }

    fn window_fields_len(&self, start_ms: Millis, end_ms: Millis, state_bytes: usize) -> usize {
        window_fields_len(self, start_ms, end_ms, state_bytes)
    }

    fn failure_record(&self, discard: Discard<'_>) -> FailureRecord {
        FailureRecord {
            request_id: discard.request_id.to_owned(),
            function_arn: discard.function_arn.to_owned(),
            condition: discard.condition,
            approximate_invoke_count: discard.invocations,
            response: discard.response.cloned(),
            timestamp_ms: discard.now,
            shard_id: self.shard_id.clone(),
            start_sequence_number: discard.first.sequence_number.to_string(),
            end_sequence_number: discard.last.sequence_number.to_string(),
            first_arrival_ms: discard.first.arrival_ms,
            last_arrival_ms: discard.last.arrival_ms,
            batch_size: discard.records,
            stream_arn: self.stream_arn.clone(),
            payload: discard.payload,
        }
    }
}

impl FailureRecord {
    /// The JSON AWS writes: the message body for an SQS destination, the object for an S3 one
    /// (with `payload`).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a failure record always serializes")
    }

    /// Where an S3 destination keeps this record for mapping `mapping_id` (AWS's layout; the
    /// same record always gets the same key).
    pub fn s3_key(&self, mapping_id: &str) -> String {
        crate::destination::s3_failure_key(
            mapping_id,
            &self.shard_id,
            self.timestamp_ms,
            &[&self.start_sequence_number, &self.end_sequence_number],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sequence::SequenceNumber;

    fn source() -> EventSource {
        crate::examples::kinesis_source()
    }

    #[test]
    fn the_event_matches_the_spec_example_byte_for_byte() {
        let record = crate::examples::kinesis_record();
        let expected = r#"{"Records":[{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"user-42","sequenceNumber":"49655502019283746571650018761293848571958377116573155330","data":"eyJvcmRlciI6IDd9","approximateArrivalTimestamp":1732550400.123},"eventSource":"aws:kinesis","eventVersion":"1.0","eventID":"shardId-000000000003:49655502019283746571650018761293848571958377116573155330","eventName":"aws:kinesis:record","invokeIdentityArn":"arn:aws:iam::111122223333:role/my-fn-role","awsRegion":"eu-west-1","eventSourceARN":"arn:aws:kinesis:eu-west-1:111122223333:stream/orders"}]}"#;
        assert_eq!(kinesis_event(&source(), [&record]), expected);
        let parsed: serde_json::Value = serde_json::from_str(expected).unwrap();
        assert!(parsed["Records"][0]["kinesis"]["approximateArrivalTimestamp"].is_number());
    }

    #[test]
    fn the_computed_record_length_is_the_written_length() {
        let mut source = source();
        let mut record = StreamRecord {
            sequence_number: SequenceNumber::parse(
                "49655502019283746571650018761293848571958377116573155330",
            )
            .unwrap(),
            partition_key: String::new(),
            data: bytes::Bytes::new(),
            arrival_ms: 0,
        };
        for (key, data, arrival) in [
            ("", 0usize, 0u64),
            ("k", 1, 9),
            ("quote\"and\\slash\ncontrol\u{1}", 2, 1_732_550_400_007),
            ("日本-😀", 3, u64::MAX),
            ("x", 1000, 99_999),
        ] {
            record.partition_key = key.into();
            record.data = bytes::Bytes::from(vec![0xfe; data]);
            record.arrival_ms = arrival;
            source.shard_id = format!("shard\t{key}");
            let json = record_json(&source, &record);
            assert_eq!(record_json_len(&source, &record), json.len(), "{json}");
            let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
            assert_eq!(parsed["kinesis"]["partitionKey"], key);
            assert_eq!(
                parsed["eventID"],
                format!("shard\t{key}:{}", record.sequence_number.as_str())
            );
        }
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
            payload: None,
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

    #[test]
    fn failure_records_read_back_from_their_json() {
        let mut record = FailureRecord {
            request_id: "r\"1".into(),
            function_arn: "arn:aws:lambda:eu-west-1:111122223333:function:consumer".into(),
            condition: FailureCondition::RetryAttemptsExhausted,
            approximate_invoke_count: 3,
            response: Some(ResponseContext {
                status_code: 200,
                executed_version: "$LATEST".into(),
                function_error: None,
            }),
            timestamp_ms: 1_764_088_501_512,
            shard_id: "shardId-000000000001".into(),
            start_sequence_number: "49655502019283746571650018761293848571958377116573155330"
                .into(),
            end_sequence_number: "49655502019283746571650018761293848571958377116573155331".into(),
            first_arrival_ms: 1_764_088_498_101,
            last_arrival_ms: 1_764_088_498_907,
            batch_size: 2,
            stream_arn: "arn:aws:kinesis:eu-west-1:111122223333:stream/orders".into(),
            payload: None,
        };
        for response in [record.response.clone(), None] {
            record.response = response;
            let json = record.to_json();
            assert_eq!(
                serde_json::from_str::<FailureRecord>(&json).unwrap(),
                record,
                "{json}"
            );
        }
        // An S3 destination's record carries the invocation's event as a JSON object.
        record.payload = Some(r#"{"Records":[{"kinesis":{"data":"eA=="}}]}"#.into());
        let json = record.to_json();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["payload"]["Records"][0]["kinesis"]["data"], "eA==");
        assert!(json.ends_with(r#""payload":{"Records":[{"kinesis":{"data":"eA=="}}]}}"#));
        assert_eq!(
            serde_json::from_str::<FailureRecord>(&json).unwrap(),
            record
        );
        let bad_time = record
            .to_json()
            .replace("2025-11-25T16:35:01.512Z", "yesterday");
        assert!(serde_json::from_str::<FailureRecord>(&bad_time).is_err());
    }

    #[test]
    fn failure_conditions_serialize_as_aws_spells_them() {
        for condition in [
            FailureCondition::RetryAttemptsExhausted,
            FailureCondition::RecordAgeExceeded,
        ] {
            let json = serde_json::to_string(&condition).unwrap();
            assert_eq!(json, format!("\"{}\"", condition.as_str()));
            assert_eq!(
                serde_json::from_str::<FailureCondition>(&json).unwrap(),
                condition
            );
        }
    }
}
