//! Tests of the SQS event JSON.
use serde_json::Value;

use super::*;

#[test]
fn the_event_matches_the_aws_recorded_shape() {
    let message = crate::examples::sqs_message();
    let event = sqs_event(
        "arn:aws:sqs:eu-west-1:111122223333:jobs",
        "eu-west-1",
        std::slice::from_ref(&message),
    );
    assert_eq!(
        event,
        r#"{"Records":[{"messageId":"c2a4f1de-7b0e-4b57-9a4e-1f2e3d4c5b6a","receiptHandle":"AQEB","body":"{\"order\": 7}","attributes":{"ApproximateReceiveCount":"1","SentTimestamp":"1732550400123"},"messageAttributes":{"Author":{"stringValue":"Ada","stringListValues":[],"binaryListValues":[],"dataType":"String"}},"md5OfMessageAttributes":"d25a6aea97eb8f585bfa92d314504a92","md5OfBody":"e4e68fb7bd0e697a0ae8f1bb342846b3","eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:eu-west-1:111122223333:jobs","awsRegion":"eu-west-1"}]}"#
    );
    let bare = QueueMessage {
        message_attributes: Vec::new(),
        md5_of_message_attributes: None,
        ..message
    };
    let event: Value = serde_json::from_str(&sqs_event("arn", "r", &[bare])).unwrap();
    assert!(event["Records"][0]["md5OfMessageAttributes"].is_null());
    assert_eq!(
        event["Records"][0]["messageAttributes"],
        serde_json::json!({})
    );
}

/// The record as it was written before it went into one buffer: serde_json for every
/// string, format! and join around them.
fn record_by_format(queue_arn: &str, region: &str, m: &QueueMessage) -> String {
    let string = |value: &str| serde_json::to_string(value).unwrap();
    let attributes: Vec<String> = m
        .attributes
        .iter()
        .map(|(k, v)| format!("{}:{}", string(k), string(v)))
        .collect();
    let message_attributes: Vec<String> = m
        .message_attributes
        .iter()
        .map(|(name, a)| {
            let mut fields = Vec::new();
            if let Some(v) = &a.string_value {
                fields.push(format!("\"stringValue\":{}", string(v)));
            }
            if let Some(v) = &a.binary_value {
                fields.push(format!("\"binaryValue\":{}", string(v)));
            }
            fields.push("\"stringListValues\":[]".to_owned());
            fields.push("\"binaryListValues\":[]".to_owned());
            fields.push(format!("\"dataType\":{}", string(&a.data_type)));
            format!("{}:{{{}}}", string(name), fields.join(","))
        })
        .collect();
    format!(
        "{{\"messageId\":{},\"receiptHandle\":{},\"body\":{},\"attributes\":{{{}}},\"messageAttributes\":{{{}}},\"md5OfMessageAttributes\":{},\"md5OfBody\":{},\"eventSource\":\"aws:sqs\",\"eventSourceARN\":{},\"awsRegion\":{}}}",
        string(&m.message_id),
        string(&m.receipt_handle),
        string(&m.body),
        attributes.join(","),
        message_attributes.join(","),
        m.md5_of_message_attributes
            .as_deref()
            .map_or("null".to_owned(), string),
        string(&m.md5_of_body),
        string(queue_arn),
        string(region),
    )
}

#[test]
fn records_are_escaped_exactly_as_serde_json_escapes_them() {
    let awkward = [
        "",
        "plain",
        "{\"order\": 7, \"path\": \"a\\\\b\"}",
        "tab\tnew\nline\rreturn\u{8}\u{c}",
        "\u{0}\u{1}\u{1f}\u{7f} é ü 😀 /slash",
        "ends with quote\"",
    ];
    for (i, text) in awkward.iter().enumerate() {
        let message = QueueMessage {
            message_id: format!("id-{text}"),
            receipt_handle: (*text).to_owned(),
            body: (*text).to_owned(),
            md5_of_body: "e4e68fb7bd0e697a0ae8f1bb342846b3".into(),
            attributes: vec![
                ("ApproximateReceiveCount".into(), "1".into()),
                ("AWSTraceHeader".into(), (*text).to_owned()),
            ],
            message_attributes: if i % 2 == 0 {
                vec![
                    (
                        (*text).to_owned(),
                        EventAttribute {
                            data_type: "String.custom".into(),
                            string_value: Some((*text).to_owned()),
                            binary_value: None,
                        },
                    ),
                    (
                        "bin".into(),
                        EventAttribute {
                            data_type: "Binary".into(),
                            string_value: None,
                            binary_value: Some("AAEC/w==".into()),
                        },
                    ),
                ]
            } else {
                Vec::new()
            },
            md5_of_message_attributes: (i % 2 == 0).then(|| "d25a6aea".into()),
        };
        let arn = format!("arn:aws:sqs:eu-west-1:111122223333:{i}");
        assert_eq!(
            record_json(&arn, "eu-west-1", &message),
            record_by_format(&arn, "eu-west-1", &message),
            "{text:?}"
        );
    }
}
