//! The SQS event JSON: the messages of a batch as Lambda hands them to the function.
//!
//! Invariant: the event is written in AWS's shape and field order, with
//! `md5OfMessageAttributes: null` when a message has no attributes, its strings escaped exactly
//! as serde_json escapes them.

use crate::invocation::records_event;
use crate::json;

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

/// Bytes of the record JSON around the message's own strings, for sizing the buffer.
const RECORD_OVERHEAD: usize = 256;

/// One element of `Records` of the SQS event, in AWS's field order.
pub fn record_json(queue_arn: &str, region: &str, m: &QueueMessage) -> String {
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
    json::write_string(&mut out, &m.message_id);
    out.push_str(",\"receiptHandle\":");
    json::write_string(&mut out, &m.receipt_handle);
    out.push_str(",\"body\":");
    json::write_string(&mut out, &m.body);
    out.push_str(",\"attributes\":{");
    for (i, (k, v)) in m.attributes.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json::write_string(&mut out, k);
        out.push(':');
        json::write_string(&mut out, v);
    }
    out.push_str("},\"messageAttributes\":{");
    for (i, (name, a)) in m.message_attributes.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json::write_string(&mut out, name);
        out.push_str(":{");
        if let Some(v) = &a.string_value {
            out.push_str("\"stringValue\":");
            json::write_string(&mut out, v);
            out.push(',');
        }
        if let Some(v) = &a.binary_value {
            out.push_str("\"binaryValue\":");
            json::write_string(&mut out, v);
            out.push(',');
        }
        out.push_str("\"stringListValues\":[],\"binaryListValues\":[],\"dataType\":");
        json::write_string(&mut out, &a.data_type);
        out.push('}');
    }
    out.push_str("},\"md5OfMessageAttributes\":");
    match &m.md5_of_message_attributes {
        Some(md5) => json::write_string(&mut out, md5),
        None => out.push_str("null"),
    }
    out.push_str(",\"md5OfBody\":");
    json::write_string(&mut out, &m.md5_of_body);
    out.push_str(",\"eventSource\":\"aws:sqs\",\"eventSourceARN\":");
    json::write_string(&mut out, queue_arn);
    out.push_str(",\"awsRegion\":");
    json::write_string(&mut out, region);
    out.push('}');
    out
}

/// The SQS event for a batch: `{"Records":[…]}` in AWS's field order.
pub fn sqs_event(queue_arn: &str, region: &str, messages: &[QueueMessage]) -> String {
    let records: Vec<String> = messages
        .iter()
        .map(|m| record_json(queue_arn, region, m))
        .collect();
    records_event(&records)
}

#[cfg(test)]
mod tests;
