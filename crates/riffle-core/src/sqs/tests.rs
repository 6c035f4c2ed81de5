//! Tests of SQS mapping validation, the SQS event JSON and batch item failures.
use super::*;

fn facts() -> SqsFacts {
    SqsFacts {
        fifo: false,
        visibility_timeout_seconds: 30,
        function_timeout_seconds: 3,
    }
}

fn raw() -> RawSqsMapping {
    RawSqsMapping {
        event_source_arn: Some("arn:aws:sqs:us-east-1:000000000000:jobs".into()),
        function_name: Some("f".into()),
        ..RawSqsMapping::default()
    }
}

#[test]
fn defaults_are_aws_defaults() {
    let config = raw().validate(facts()).unwrap();
    assert_eq!((config.batch_size, config.batching_window_ms), (10, 0));
    assert!(config.enabled && !config.report_batch_item_failures);
    assert_eq!(config.maximum_concurrency, None);
}

#[test]
fn batch_size_over_ten_needs_a_batching_window_with_aws_message() {
    let mut config = raw();
    config.batch_size = Some(11);
    let errors = config.validate(facts()).unwrap_err();
    assert_eq!(
        errors.0[0].message,
        "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"
    );
    config.maximum_batching_window_in_seconds = Some(1);
    assert_eq!(config.validate(facts()).unwrap().batch_size, 11);
}

#[test]
fn fifo_queues_take_at_most_ten_and_no_window() {
    let fifo = SqsFacts {
        fifo: true,
        ..facts()
    };
    let mut config = raw();
    config.batch_size = Some(11);
    config.maximum_batching_window_in_seconds = Some(1);
    let errors = config.validate(fifo).unwrap_err();
    let properties: Vec<&str> = errors.0.iter().map(|e| e.property).collect();
    assert_eq!(properties, ["BatchSize", "MaximumBatchingWindowInSeconds"]);
}

#[test]
fn visibility_timeout_shorter_than_the_function_timeout_is_refused() {
    let errors = raw()
        .validate(SqsFacts {
            visibility_timeout_seconds: 10,
            function_timeout_seconds: 30,
            ..facts()
        })
        .unwrap_err();
    assert_eq!(
        errors.0[0].message,
        "Queue visibility timeout: 10 seconds is less than Function timeout: 30 seconds"
    );
}

#[test]
fn maximum_concurrency_and_stream_only_properties_are_checked() {
    let mut config = raw();
    config.scaling_config = Some(RawScalingConfig {
        maximum_concurrency: Some(1),
    });
    config.parallelization_factor = Some(serde_json::json!(2));
    config.destination_config = Some(serde_json::json!({"OnFailure": {}}));
    let errors = config.validate(facts()).unwrap_err();
    let properties: Vec<&str> = errors.0.iter().map(|e| e.property).collect();
    assert_eq!(
        properties,
        [
            "ParallelizationFactor",
            "DestinationConfig",
            "ScalingConfig"
        ]
    );
    assert_eq!(
        errors.0[1].message,
        "Unsupported DestinationConfig parameter for given event source mapping type."
    );
}

#[test]
fn the_event_matches_the_aws_recorded_shape() {
    let message = QueueMessage {
        message_id: "c2a4f1de-7b0e-4b57-9a4e-1f2e3d4c5b6a".into(),
        receipt_handle: "AQEB".into(),
        body: "{\"order\": 7}".into(),
        md5_of_body: "e4e68fb7bd0e697a0ae8f1bb342846b3".into(),
        attributes: vec![
            ("ApproximateReceiveCount".into(), "1".into()),
            ("SentTimestamp".into(), "1732550400123".into()),
        ],
        message_attributes: vec![(
            "Author".into(),
            EventAttribute {
                data_type: "String".into(),
                string_value: Some("Ada".into()),
                binary_value: None,
            },
        )],
        md5_of_message_attributes: Some("d25a6aea97eb8f585bfa92d314504a92".into()),
    };
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
            sqs_record_json(&arn, "eu-west-1", &message),
            record_by_format(&arn, "eu-west-1", &message),
            "{text:?}"
        );
    }
}

#[test]
fn responses_are_judged_by_the_sqs_rules() {
    let ids = ["a", "b", "c"];
    for body in [
        "",
        "null",
        "{}",
        r#"{"batchItemFailures":[]}"#,
        r#"{"batchItemFailures":null}"#,
    ] {
        assert_eq!(
            judge_sqs(body.as_bytes(), &ids),
            SqsVerdict::Success,
            "{body}"
        );
    }
    assert_eq!(
        judge_sqs(
            br#"{"batchItemFailures":[{"itemIdentifier":"b"},{"itemIdentifier":"c"}]}"#,
            &ids
        ),
        SqsVerdict::PartialFailure(vec!["b".into(), "c".into()])
    );
    for body in [
        "not json",
        r#"{"batchItemFailures":[{"foo":"notvalid"}]}"#,
        r#"{"batchItemFailures":[{"itemIdentifier":""}]}"#,
        r#"{"batchItemFailures":[{"itemIdentifier":null}]}"#,
        r#"{"batchItemFailures":[{"itemIdentifier":"z"}]}"#,
    ] {
        assert!(
            matches!(
                judge_sqs(body.as_bytes(), &ids),
                SqsVerdict::CompleteFailure(_)
            ),
            "{body}"
        );
    }
}

/// A pattern of `length` characters that matches bodies `{"k": "xx…"}`.
fn pattern_of_length(length: usize) -> String {
    let frame = r#"{"body":{"k":[""]}}"#.len();
    format!(r#"{{"body":{{"k":["{}"]}}}}"#, "x".repeat(length - frame))
}

fn with_filters(patterns: Vec<String>) -> RawSqsMapping {
    let mut raw = raw();
    raw.filter_criteria = Some(RawFilterCriteria {
        filters: Some(
            patterns
                .into_iter()
                .map(|p| crate::config::RawFilter { pattern: Some(p) })
                .collect(),
        ),
    });
    raw
}

#[test]
fn sqs_mappings_refuse_more_than_five_filters_as_kinesis_mappings_do() {
    let five = with_filters(vec![r#"{"body":{"k":["a"]}}"#.to_owned(); 5]);
    assert_eq!(five.validate(facts()).unwrap().filter_patterns.len(), 5);
    let six = with_filters(vec![r#"{"body":{"k":["a"]}}"#.to_owned(); 6]);
    let errors = six.validate(facts()).unwrap_err().0;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].kind, ConfigErrorKind::InvalidParameterValue);
    assert_eq!(
        errors[0].message,
        "The number of filters (6) exceeds the limit of 5 per event source mapping."
    );
}

#[test]
fn sqs_filter_patterns_of_4096_characters_pass_and_longer_ones_fail_the_model_constraint() {
    let exact = pattern_of_length(4096);
    assert_eq!(exact.len(), 4096);
    let config = with_filters(vec![exact]).validate(facts()).unwrap();
    assert_eq!(config.filter_patterns.len(), 1);
    let long = pattern_of_length(4097);
    let errors = with_filters(vec![r#"{"body":["a"]}"#.to_owned(), long.clone()])
        .validate(facts())
        .unwrap_err()
        .0;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].kind, ConfigErrorKind::Validation);
    assert_eq!(
        errors[0].message,
        format!(
            "Value '{long}' at 'filterCriteria.filters.2.member.pattern' failed to satisfy \
             constraint: Member must have length less than or equal to 4096"
        )
    );
    // Characters, not bytes: 4096 two-byte characters are within the limit.
    let wide = format!(r#"{{"body":["{}"]}}"#, "é".repeat(4096 - 13));
    assert_eq!(wide.chars().count(), 4096);
    assert!(with_filters(vec![wide]).validate(facts()).is_ok());
}
