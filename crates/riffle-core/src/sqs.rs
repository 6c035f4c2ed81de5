//! SQS mappings: configuration with AWS's rules, the SQS event JSON, and how a response with
//! batch item failures is judged. (The queue poller's state machine builds on these.)
//!
//! Invariants: a configuration AWS would refuse is refused with AWS's message (BatchSize over 10
//! without a batching window, a visibility timeout shorter than the function timeout,
//! stream-only properties); the event is written in AWS's shape and field order, with
//! `md5OfMessageAttributes: null` when a message has no attributes.

use serde::Deserialize;
use serde_json::Value;

use crate::config::{
    ConfigError, ConfigErrorKind, ConfigErrors, RawFilterCriteria, filter_patterns,
};
use crate::time::Millis;

/// SQS mapping properties with AWS's names. Properties that only apply to streams are accepted
/// by the parser so they can be refused by name with AWS's error.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RawSqsMapping {
    /// Queue ARN.
    pub event_source_arn: Option<String>,
    /// Function name or ARN.
    pub function_name: Option<String>,
    /// Whether the mapping polls.
    pub enabled: Option<bool>,
    /// 1–10 000 (FIFO 1–10), default 10.
    pub batch_size: Option<i64>,
    /// 0–300 s, default 0; not for FIFO queues.
    pub maximum_batching_window_in_seconds: Option<i64>,
    /// `[]` or `["ReportBatchItemFailures"]`.
    pub function_response_types: Option<Vec<String>>,
    /// Filters on `body` and metadata.
    pub filter_criteria: Option<RawFilterCriteria>,
    /// `{ MaximumConcurrency: 2–1000 }`.
    pub scaling_config: Option<RawScalingConfig>,
    /// Stream-only: refused.
    pub starting_position: Option<Value>,
    /// Stream-only: refused.
    pub starting_position_timestamp: Option<Value>,
    /// Stream-only: refused.
    pub parallelization_factor: Option<Value>,
    /// Stream-only: refused.
    pub bisect_batch_on_function_error: Option<Value>,
    /// Stream-only: refused.
    pub maximum_retry_attempts: Option<Value>,
    /// Stream-only: refused.
    pub maximum_record_age_in_seconds: Option<Value>,
    /// Stream-only: refused.
    pub tumbling_window_in_seconds: Option<Value>,
    /// Not for SQS mappings: refused.
    pub destination_config: Option<Value>,
}

/// `ScalingConfig`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RawScalingConfig {
    /// 2–1000.
    pub maximum_concurrency: Option<i64>,
}

/// What validation needs to know about the queue and the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqsFacts {
    /// Whether the queue is a FIFO queue.
    pub fifo: bool,
    /// The queue's VisibilityTimeout, seconds.
    pub visibility_timeout_seconds: u64,
    /// The function's Timeout, seconds.
    pub function_timeout_seconds: u64,
}

/// A validated SQS mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct SqsMappingConfig {
    /// Queue ARN.
    pub event_source_arn: String,
    /// Function name or ARN.
    pub function_name: String,
    /// Whether the mapping polls.
    pub enabled: bool,
    /// Most messages per batch.
    pub batch_size: usize,
    /// Batching window.
    pub batching_window_ms: Millis,
    /// Whether the function reports failed messages.
    pub report_batch_item_failures: bool,
    /// Filter patterns (JSON objects), ORed.
    pub filter_patterns: Vec<Value>,
    /// Most concurrent batches, if capped.
    pub maximum_concurrency: Option<u32>,
}

impl RawSqsMapping {
    /// Validates the mapping as CreateEventSourceMapping would for a queue described by `facts`.
    pub fn validate(&self, facts: SqsFacts) -> Result<SqsMappingConfig, ConfigErrors> {
        let mut errors = Vec::new();
        let mut invalid = |property: &'static str, message: String| {
            errors.push(ConfigError {
                property,
                kind: ConfigErrorKind::InvalidParameterValue,
                message,
            });
        };
        let stream_only: [(&'static str, bool); 8] = [
            ("StartingPosition", self.starting_position.is_some()),
            (
                "StartingPositionTimestamp",
                self.starting_position_timestamp.is_some(),
            ),
            (
                "ParallelizationFactor",
                self.parallelization_factor.is_some(),
            ),
            (
                "BisectBatchOnFunctionError",
                self.bisect_batch_on_function_error.is_some(),
            ),
            (
                "MaximumRetryAttempts",
                self.maximum_retry_attempts.is_some(),
            ),
            (
                "MaximumRecordAgeInSeconds",
                self.maximum_record_age_in_seconds.is_some(),
            ),
            (
                "TumblingWindowInSeconds",
                self.tumbling_window_in_seconds.is_some(),
            ),
            ("DestinationConfig", self.destination_config.is_some()),
        ];
        for (property, present) in stream_only {
            if present {
                invalid(
                    property,
                    if property == "DestinationConfig" {
                        "Unsupported DestinationConfig parameter for given event source mapping type.".to_owned()
                    } else {
                        format!(
                            "Unsupported {property} parameter for given event source mapping type."
                        )
                    },
                );
            }
        }
        let mut constraint = |property: &'static str, value: i64, rule: String| {
            let mut chars = property.chars();
            let member: String = chars
                .next()
                .map(|c| c.to_ascii_lowercase())
                .into_iter()
                .chain(chars)
                .collect();
            errors.push(ConfigError {
                property,
                kind: ConfigErrorKind::Validation,
                message: format!(
                    "Value '{value}' at '{member}' failed to satisfy constraint: Member must {rule}"
                ),
            });
        };
        let batch_size = self.batch_size.unwrap_or(10);
        let max_batch = if facts.fifo { 10 } else { 10_000 };
        if !(1..=max_batch).contains(&batch_size) {
            let rule = if batch_size < 1 {
                "have value greater than or equal to 1".to_owned()
            } else {
                format!("have value less than or equal to {max_batch}")
            };
            constraint("BatchSize", batch_size, rule);
        }
        let window = self.maximum_batching_window_in_seconds.unwrap_or(0);
        if !(0..=300).contains(&window) {
            let rule = if window < 0 {
                "have value greater than or equal to 0".to_owned()
            } else {
                "have value less than or equal to 300".to_owned()
            };
            constraint("MaximumBatchingWindowInSeconds", window, rule);
        }
        let concurrency = self
            .scaling_config
            .as_ref()
            .and_then(|s| s.maximum_concurrency);
        if let Some(value) = concurrency.filter(|c| !(2..=1000).contains(c)) {
            let rule = if value < 2 {
                "have value greater than or equal to 2".to_owned()
            } else {
                "have value less than or equal to 1000".to_owned()
            };
            constraint("ScalingConfig", value, rule);
        }
        let mut invalid = |property: &'static str, message: String| {
            errors.push(ConfigError {
                property,
                kind: ConfigErrorKind::InvalidParameterValue,
                message,
            });
        };
        if batch_size > 10 && window < 1 {
            invalid(
                "MaximumBatchingWindowInSeconds",
                "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10".into(),
            );
        }
        if facts.fifo && window > 0 {
            invalid(
                "MaximumBatchingWindowInSeconds",
                "MaximumBatchingWindowInSeconds is not supported for FIFO queues.".into(),
            );
        }
        if facts.visibility_timeout_seconds < facts.function_timeout_seconds {
            invalid(
                "EventSourceArn",
                format!(
                    "Queue visibility timeout: {} seconds is less than Function timeout: {} seconds",
                    facts.visibility_timeout_seconds, facts.function_timeout_seconds
                ),
            );
        }
        let mut report_batch_item_failures = false;
        for response_type in self.function_response_types.iter().flatten() {
            if response_type == "ReportBatchItemFailures" {
                report_batch_item_failures = true;
            } else {
                invalid(
                    "FunctionResponseTypes",
                    format!("Unsupported FunctionResponseType: {response_type}"),
                );
            }
        }
        if self.event_source_arn.is_none() {
            invalid("EventSourceArn", "EventSourceArn is required.".into());
        }
        if self.function_name.is_none() {
            invalid("FunctionName", "FunctionName is required.".into());
        }
        let filter_patterns = filter_patterns(self.filter_criteria.as_ref(), &mut errors);
        if !errors.is_empty() {
            return Err(ConfigErrors(errors));
        }
        Ok(SqsMappingConfig {
            event_source_arn: self.event_source_arn.clone().unwrap_or_default(),
            function_name: self.function_name.clone().unwrap_or_default(),
            enabled: self.enabled.unwrap_or(true),
            batch_size: batch_size as usize,
            batching_window_ms: window as Millis * 1000,
            report_batch_item_failures,
            filter_patterns,
            maximum_concurrency: concurrency.map(|c| c as u32),
        })
    }
}

/// A message attribute as the SQS event carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventAttribute {
    /// `String`, `Number`, `Binary`, with optional suffix.
    pub data_type: String,
    /// String or number value.
    pub string_value: Option<String>,
    /// Binary value, base64.
    pub binary_value: Option<String>,
}

/// One received message, as the engine hands it to the function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMessage {
    /// MessageId.
    pub message_id: String,
    /// ReceiptHandle of this receive.
    pub receipt_handle: String,
    /// Body, raw.
    pub body: String,
    /// MD5 of the body.
    pub md5_of_body: String,
    /// System attributes (`ApproximateReceiveCount`, `SentTimestamp`, …), all strings.
    pub attributes: Vec<(String, String)>,
    /// Message attributes, by name.
    pub message_attributes: Vec<(String, EventAttribute)>,
    /// MD5 of the message attributes (`None` when there are none).
    pub md5_of_message_attributes: Option<String>,
}

/// Appends `value` as a JSON string literal, escaped exactly as serde_json escapes it.
fn push_json_str(out: &mut String, value: &str) {
    out.push('"');
    let bytes = value.as_bytes();
    let mut start = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let escape: &str = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..0x20 => "",
            _ => continue,
        };
        out.push_str(&value[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(HEX[usize::from(byte >> 4)] as char);
            out.push(HEX[usize::from(byte & 0xf)] as char);
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&value[start..]);
    out.push('"');
}

/// Bytes of the record JSON around the message's own strings, for sizing the buffer.
const RECORD_OVERHEAD: usize = 256;

/// One element of `Records` of the SQS event, in AWS's field order.
pub fn sqs_record_json(queue_arn: &str, region: &str, m: &QueueMessage) -> String {
    let strings = m.message_id.len()
        + m.receipt_handle.len()
        + m.body.len()
        + m.md5_of_body.len()
        + queue_arn.len()
        + region.len()
        + m.attributes
            .iter()
            .map(|(k, v)| k.len() + v.len() + 6)
            .sum::<usize>()
        + m.message_attributes
            .iter()
            .map(|(k, a)| {
                k.len()
                    + a.data_type.len()
                    + a.string_value.as_ref().map_or(0, String::len)
                    + a.binary_value.as_ref().map_or(0, String::len)
                    + 100
            })
            .sum::<usize>();
    let mut out = String::with_capacity(strings + RECORD_OVERHEAD);
    out.push_str("{\"messageId\":");
    push_json_str(&mut out, &m.message_id);
    out.push_str(",\"receiptHandle\":");
    push_json_str(&mut out, &m.receipt_handle);
    out.push_str(",\"body\":");
    push_json_str(&mut out, &m.body);
    out.push_str(",\"attributes\":{");
    for (i, (k, v)) in m.attributes.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_str(&mut out, k);
        out.push(':');
        push_json_str(&mut out, v);
    }
    out.push_str("},\"messageAttributes\":{");
    for (i, (name, a)) in m.message_attributes.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_str(&mut out, name);
        out.push_str(":{");
        if let Some(v) = &a.string_value {
            out.push_str("\"stringValue\":");
            push_json_str(&mut out, v);
            out.push(',');
        }
        if let Some(v) = &a.binary_value {
            out.push_str("\"binaryValue\":");
            push_json_str(&mut out, v);
            out.push(',');
        }
        out.push_str("\"stringListValues\":[],\"binaryListValues\":[],\"dataType\":");
        push_json_str(&mut out, &a.data_type);
        out.push('}');
    }
    out.push_str("},\"md5OfMessageAttributes\":");
    match &m.md5_of_message_attributes {
        Some(md5) => push_json_str(&mut out, md5),
        None => out.push_str("null"),
    }
    out.push_str(",\"md5OfBody\":");
    push_json_str(&mut out, &m.md5_of_body);
    out.push_str(",\"eventSource\":\"aws:sqs\",\"eventSourceARN\":");
    push_json_str(&mut out, queue_arn);
    out.push_str(",\"awsRegion\":");
    push_json_str(&mut out, region);
    out.push('}');
    out
}

/// The SQS event for a batch: `{"Records":[…]}` in AWS's field order.
pub fn sqs_event(queue_arn: &str, region: &str, messages: &[QueueMessage]) -> String {
    let records: Vec<String> = messages
        .iter()
        .map(|m| sqs_record_json(queue_arn, region, m))
        .collect();
    records_event(&records)
}

/// `{"Records":[…]}` around records already written as JSON.
pub fn records_event<S: AsRef<str>>(records: &[S]) -> String {
    let size = records.iter().map(|r| r.as_ref().len() + 1).sum::<usize>();
    let mut out = String::with_capacity(size + crate::event::ENVELOPE_BYTES);
    out.push_str("{\"Records\":[");
    for (i, record) in records.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(record.as_ref());
    }
    out.push_str("]}");
    out
}

/// The verdict on a successful invocation of an SQS batch with ReportBatchItemFailures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqsVerdict {
    /// Every message succeeded: delete them all.
    Success,
    /// These message ids failed (they return to the queue); the rest are deleted.
    PartialFailure(Vec<String>),
    /// The whole batch failed.
    CompleteFailure(String),
}

/// Judges `body` for a batch of `message_ids`, by the SQS rules: success for an empty or null
/// body, `{}`, or a null or empty `batchItemFailures`; complete failure for a body that is not
/// JSON, an identifier that is missing, null, empty, not a string or not in the batch.
pub fn judge_sqs(body: &[u8], message_ids: &[&str]) -> SqsVerdict {
    if body.iter().all(u8::is_ascii_whitespace) {
        return SqsVerdict::Success;
    }
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return SqsVerdict::CompleteFailure("the response is not JSON".into());
    };
    let items = match &value {
        Value::Null => return SqsVerdict::Success,
        Value::Object(map) => match map.get("batchItemFailures") {
            None | Some(Value::Null) => return SqsVerdict::Success,
            Some(Value::Array(items)) if items.is_empty() => return SqsVerdict::Success,
            Some(Value::Array(items)) => items,
            Some(_) => {
                return SqsVerdict::CompleteFailure("batchItemFailures is not a list".into());
            }
        },
        _ => return SqsVerdict::CompleteFailure("the response is not an object".into()),
    };
    let mut failed = Vec::new();
    for item in items {
        match item.get("itemIdentifier") {
            Some(Value::String(id)) if message_ids.contains(&id.as_str()) => {
                if !failed.contains(id) {
                    failed.push(id.clone());
                }
            }
            _ => {
                return SqsVerdict::CompleteFailure(format!(
                    "batch item failure {item} does not name a message of the batch"
                ));
            }
        }
    }
    SqsVerdict::PartialFailure(failed)
}

#[cfg(test)]
mod tests;
