//! The bodies of the busiest SQS answers (SendMessage and SendMessageBatch results, received
//! messages, batch entry results), written straight into bytes instead of through
//! `serde_json::Value` trees, which cost the emulator a fifth of its time per message.
//!
//! Invariant: the bytes are exactly those `serde_json::to_vec` wrote for the `json!` values this
//! replaced: compact, object keys in sorted order (serde_json's map without `preserve_order`),
//! strings escaped by `riffle_core::json`, the workspace's one escaper (serde_json's escapes).
//! The tests compare the two.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::digest::{AttributeValue, attributes_md5};
use super::store::Message;
use crate::error::{ApiError, ErrorCode};
use riffle_core::json::{write_string, write_u64};

/// A JSON object being written: keys must come in sorted order.
pub(crate) struct Object<'a> {
    out: &'a mut Vec<u8>,
    empty: bool,
}

impl<'a> Object<'a> {
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Self { out, empty: true }
    }

    /// Writes `"key":` and returns the buffer for the value.
    pub(crate) fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        write_string(self.out, key);
        self.out.push(b':');
        self.out
    }

    pub(crate) fn str(&mut self, key: &str, value: &str) {
        write_string(self.key(key), value);
    }

    pub(crate) fn finish(self) {
        self.out.push(b'}');
    }
}

/// A batch answer: `{"Failed":[…],"Successful":[…]}` around entries already written.
pub(crate) fn batch(successful: &[u8], failed: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(successful.len() + failed.len() + 32);
    out.extend_from_slice(b"{\"Failed\":[");
    out.extend_from_slice(failed);
    out.extend_from_slice(b"],\"Successful\":[");
    out.extend_from_slice(successful);
    out.extend_from_slice(b"]}");
    out
}

/// Appends one entry to a list of entries being written (comma-separated, no brackets).
pub(crate) fn entry(list: &mut Vec<u8>) -> &mut Vec<u8> {
    if !list.is_empty() {
        list.push(b',');
    }
    list
}

/// A `Failed` entry of a batch answer.
pub(crate) fn batch_failure(out: &mut Vec<u8>, id: &str, error: &ApiError) {
    let mut object = Object::new(out);
    object.str("Code", error.code.sqs_query_code());
    object.str("Id", id);
    object.str("Message", &error.message);
    object
        .key("SenderFault")
        .extend_from_slice(if error.code != ErrorCode::InternalFailure {
            b"true"
        } else {
            b"false"
        });
    object.finish();
}

/// A `Successful` entry of a batch answer that carries only the entry id.
pub(crate) fn batch_success(out: &mut Vec<u8>, id: &str) {
    let mut object = Object::new(out);
    object.str("Id", id);
    object.finish();
}

/// The result of sending `message`: SendMessage's answer, or (with the entry `id`) an entry of
/// SendMessageBatch's `Successful`.
pub(crate) fn send_result(out: &mut Vec<u8>, message: &Message, id: Option<&str>) {
    let mut object = Object::new(out);
    if let Some(id) = id {
        object.str("Id", id);
    }
    if let Some(md5) = &message.md5_attributes {
        object.str("MD5OfMessageAttributes", md5);
    }
    object.str("MD5OfMessageBody", &message.md5_body);
    if let Some(md5) = attributes_md5(&message.system_attributes) {
        object.str("MD5OfMessageSystemAttributes", &md5);
    }
    object.str("MessageId", &message.id);
    if let Some(sequence_number) = &message.sequence_number {
        object.str("SequenceNumber", sequence_number);
    }
    object.finish();
}

/// The system attributes a receive can ask for, in sorted order (the order they are written).
pub(crate) const SYSTEM_ATTRIBUTES: [&str; 9] = [
    "AWSTraceHeader",
    "ApproximateFirstReceiveTimestamp",
    "ApproximateReceiveCount",
    "DeadLetterQueueSourceArn",
    "MessageDeduplicationId",
    "MessageGroupId",
    "SenderId",
    "SentTimestamp",
    "SequenceNumber",
];

/// A set of [`SYSTEM_ATTRIBUTES`], one bit each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SystemAttributes(u16);

impl SystemAttributes {
    pub(crate) const ALL: Self = Self((1 << SYSTEM_ATTRIBUTES.len()) - 1);

    /// Adds `name`; `false` if it is not a system attribute.
    pub(crate) fn insert(&mut self, name: &str) -> bool {
        match SYSTEM_ATTRIBUTES.iter().position(|n| *n == name) {
            Some(i) => {
                self.0 |= 1 << i;
                true
            }
            None => false,
        }
    }

    pub(crate) fn extend(&mut self, other: Self) {
        self.0 |= other.0;
    }

    fn contains(self, i: usize) -> bool {
        self.0 & (1 << i) != 0
    }
}

/// The message attributes MessageAttributeNames `filter` selects.
fn selected_attributes(
    attributes: &BTreeMap<String, AttributeValue>,
    filter: &[String],
) -> BTreeMap<String, AttributeValue> {
    attributes
        .iter()
        .filter(|(name, _)| attribute_selected(name, filter))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Whether message attribute `name` is selected by MessageAttributeNames `filter`.
pub(crate) fn attribute_selected(name: &str, filter: &[String]) -> bool {
    filter.iter().any(|f| {
        f == "All"
            || f == ".*"
            || f == name
            || f.strip_suffix(".*").is_some_and(|prefix| {
                name.len() > prefix.len()
                    && name.starts_with(prefix)
                    && name.as_bytes()[prefix.len()] == b'.'
            })
    })
}

/// A system attribute's value: text the message holds, or a number written as a string.
enum Value<'a> {
    Text(&'a str),
    Number(u64),
}

/// One element of ReceiveMessage's `Messages`.
pub(crate) fn received(
    out: &mut Vec<u8>,
    message: &Message,
    receipt_handle: &str,
    system: SystemAttributes,
    attribute_filter: &[String],
) {
    let mut object = Object::new(out);
    let mut values: [Option<Value<'_>>; SYSTEM_ATTRIBUTES.len()] = Default::default();
    for (i, name) in SYSTEM_ATTRIBUTES.iter().enumerate() {
        if !system.contains(i) {
            continue;
        }
        values[i] = match *name {
            "AWSTraceHeader" => message
                .system_attributes
                .get("AWSTraceHeader")
                .and_then(|v| v.string_value.as_deref())
                .map(Value::Text),
            "ApproximateFirstReceiveTimestamp" => message.first_receive_ms.map(Value::Number),
            "ApproximateReceiveCount" => Some(Value::Number(message.receive_count.into())),
            "DeadLetterQueueSourceArn" => {
                message.dead_letter_source_arn.as_deref().map(Value::Text)
            }
            "MessageDeduplicationId" => message.deduplication_id.as_deref().map(Value::Text),
            "MessageGroupId" => message.group_id.as_deref().map(Value::Text),
            "SenderId" => Some(Value::Text(&message.sender_id)),
            "SentTimestamp" => Some(Value::Number(message.sent_ms)),
            "SequenceNumber" => message.sequence_number.as_deref().map(Value::Text),
            _ => None,
        };
    }
    if values.iter().any(Option::is_some) {
        let mut map = Object::new(object.key("Attributes"));
        for (name, value) in SYSTEM_ATTRIBUTES.iter().zip(&values) {
            match value {
                Some(Value::Text(text)) => map.str(name, text),
                Some(Value::Number(number)) => {
                    let out = map.key(name);
                    out.push(b'"');
                    write_u64(out, *number);
                    out.push(b'"');
                }
                None => {}
            }
        }
        map.finish();
    }
    object.str("Body", &message.body);
    object.str("MD5OfBody", &message.md5_body);
    if !message.attributes.is_empty() {
        let all = message
            .attributes
            .keys()
            .all(|name| attribute_selected(name, attribute_filter));
        if all {
            if let Some(md5) = &message.md5_attributes {
                object.str("MD5OfMessageAttributes", md5);
            }
            message_attributes(object.key("MessageAttributes"), &message.attributes);
        } else {
            let selected = selected_attributes(&message.attributes, attribute_filter);
            if let Some(md5) = attributes_md5(&selected) {
                object.str("MD5OfMessageAttributes", &md5);
                message_attributes(object.key("MessageAttributes"), &selected);
            }
        }
    }
    object.str("MessageId", &message.id);
    object.str("ReceiptHandle", receipt_handle);
    object.finish();
}

fn message_attributes(out: &mut Vec<u8>, attributes: &BTreeMap<String, AttributeValue>) {
    let mut map = Object::new(out);
    for (name, value) in attributes {
        let mut attribute = Object::new(map.key(name));
        if let Some(binary) = &value.binary_value {
            attribute.str("BinaryValue", &STANDARD.encode(binary));
        }
        attribute.str("DataType", &value.data_type);
        if let Some(text) = &value.string_value {
            attribute.str("StringValue", text);
        }
        attribute.finish();
    }
    map.finish();
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use serde_json::{Map, Value, json};

    fn message() -> Message {
        let attribute =
            |data_type: &str, text: Option<&str>, binary: Option<&[u8]>| AttributeValue {
                data_type: data_type.into(),
                string_value: text.map(str::to_owned),
                binary_value: binary.map(Bytes::copy_from_slice),
            };
        let attributes: BTreeMap<String, AttributeValue> = [
            ("b.one".to_owned(), attribute("String", Some("x\"y"), None)),
            (
                "a".to_owned(),
                attribute("Binary.png", None, Some(&[0, 1, 255])),
            ),
            ("c".to_owned(), attribute("Number", Some("7"), None)),
        ]
        .into_iter()
        .collect();
        let system: BTreeMap<String, AttributeValue> = [(
            "AWSTraceHeader".to_owned(),
            attribute("String", Some("Root=1-abc"), None),
        )]
        .into_iter()
        .collect();
        Message {
            seq: 4,
            id: "0123abcd-0000-4000-a000-000000000001".into(),
            body: "tab\there \"quoted\" \\ \u{1} é 😀".into(),
            md5_body: "d41d8cd98f00b204e9800998ecf8427e".into(),
            md5_attributes: attributes_md5(&attributes),
            attributes,
            system_attributes: system,
            sent_ms: 1_732_550_400_123,
            available_ms: 1_732_550_400_123,
            visible_ms: 1_732_550_430_000,
            receive_count: 2,
            first_receive_ms: Some(1_732_550_400_200),
            last_receive_ms: Some(1_732_550_401_000),
            sender_id: "AKIDEXAMPLE".into(),
            group_id: Some("g-1".into()),
            deduplication_id: Some("d-1".into()),
            sequence_number: Some("18000000000000000004".into()),
            dead_letter_source_arn: Some("arn:aws:sqs:us-east-1:000000000000:src".into()),
        }
    }

    /// What `received_json` built before, as a `serde_json::Value`.
    fn received_value(
        message: &Message,
        handle: &str,
        system: &[&str],
        filter: &[String],
    ) -> Value {
        let mut out = json!({
            "MessageId": message.id,
            "ReceiptHandle": handle,
            "MD5OfBody": message.md5_body,
            "Body": message.body,
        });
        let mut attributes = Map::new();
        for name in system {
            let value = match *name {
                "SenderId" => Some(message.sender_id.clone()),
                "SentTimestamp" => Some(message.sent_ms.to_string()),
                "ApproximateReceiveCount" => Some(message.receive_count.to_string()),
                "ApproximateFirstReceiveTimestamp" => {
                    message.first_receive_ms.map(|t| t.to_string())
                }
                "SequenceNumber" => message.sequence_number.clone(),
                "MessageDeduplicationId" => message.deduplication_id.clone(),
                "MessageGroupId" => message.group_id.clone(),
                "AWSTraceHeader" => message
                    .system_attributes
                    .get("AWSTraceHeader")
                    .and_then(|v| v.string_value.clone()),
                "DeadLetterQueueSourceArn" => message.dead_letter_source_arn.clone(),
                _ => None,
            };
            if let Some(value) = value {
                attributes.insert((*name).to_owned(), json!(value));
            }
        }
        if !attributes.is_empty() {
            out["Attributes"] = Value::Object(attributes);
        }
        let selected = selected_attributes(&message.attributes, filter);
        if let Some(md5) = attributes_md5(&selected) {
            out["MD5OfMessageAttributes"] = json!(md5);
            let mut map = Map::new();
            for (name, value) in &selected {
                let mut v = json!({ "DataType": value.data_type });
                if let Some(s) = &value.string_value {
                    v["StringValue"] = json!(s);
                }
                if let Some(b) = &value.binary_value {
                    v["BinaryValue"] = json!(STANDARD.encode(b));
                }
                map.insert(name.clone(), v);
            }
            out["MessageAttributes"] = Value::Object(map);
        }
        out
    }

    #[test]
    fn system_attribute_names_are_sorted() {
        let mut sorted = SYSTEM_ATTRIBUTES;
        sorted.sort_unstable();
        assert_eq!(sorted, SYSTEM_ATTRIBUTES);
    }

    #[test]
    fn received_messages_are_written_as_serde_json_wrote_them() {
        let mut message = message();
        let filters: [Vec<String>; 4] = [
            vec!["All".into()],
            vec!["b.*".into(), "c".into()],
            vec!["nothing".into()],
            vec![],
        ];
        let systems: [&[&str]; 3] = [
            &SYSTEM_ATTRIBUTES,
            &["SentTimestamp", "ApproximateReceiveCount"],
            &[],
        ];
        for bare in [false, true] {
            if bare {
                message.group_id = None;
                message.first_receive_ms = None;
                message.system_attributes.clear();
            }
            for filter in &filters {
                for system in systems {
                    let mut set = SystemAttributes::default();
                    for name in system {
                        assert!(set.insert(name));
                    }
                    let mut out = Vec::new();
                    received(&mut out, &message, "handle-1", set, filter);
                    let expected =
                        serde_json::to_vec(&received_value(&message, "handle-1", system, filter))
                            .unwrap();
                    assert_eq!(
                        String::from_utf8(out).unwrap(),
                        String::from_utf8(expected).unwrap(),
                        "{filter:?} {system:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn send_results_and_batch_entries_are_written_as_serde_json_wrote_them() {
        let mut message = message();
        for round in 0..2 {
            if round == 1 {
                message.md5_attributes = None;
                message.system_attributes.clear();
                message.sequence_number = None;
            }
            for id in [None, Some("entry-1")] {
                let mut out = Vec::new();
                send_result(&mut out, &message, id);
                let mut value =
                    json!({ "MessageId": message.id, "MD5OfMessageBody": message.md5_body });
                if let Some(id) = id {
                    value["Id"] = json!(id);
                }
                if let Some(md5) = &message.md5_attributes {
                    value["MD5OfMessageAttributes"] = json!(md5);
                }
                if let Some(md5) = attributes_md5(&message.system_attributes) {
                    value["MD5OfMessageSystemAttributes"] = json!(md5);
                }
                if let Some(sequence_number) = &message.sequence_number {
                    value["SequenceNumber"] = json!(sequence_number);
                }
                assert_eq!(out, serde_json::to_vec(&value).unwrap());
            }
        }
        let error = ApiError::new(ErrorCode::ReceiptHandleIsInvalid, "bad \"handle\"");
        let (mut successful, mut failed) = (Vec::new(), Vec::new());
        batch_success(entry(&mut successful), "a");
        batch_success(entry(&mut successful), "b");
        batch_failure(entry(&mut failed), "c", &error);
        let expected = json!({
            "Successful": [{ "Id": "a" }, { "Id": "b" }],
            "Failed": [{
                "Id": "c",
                "SenderFault": true,
                "Code": error.code.sqs_query_code(),
                "Message": error.message,
            }],
        });
        assert_eq!(
            batch(&successful, &failed),
            serde_json::to_vec(&expected).unwrap()
        );
        assert_eq!(
            batch(&[], &[]),
            serde_json::to_vec(&json!({ "Successful": [], "Failed": [] })).unwrap()
        );
    }
}
