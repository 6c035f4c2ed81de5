//! The repository's template.

use super::*;

fn repository_template() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml"))
        .expect("the repository's template.yaml")
}

#[test]
fn the_repository_template_reads_into_the_expected_model() {
    let source = repository_template();
    let template = read_ok(&source);
    let app = &template.application;

    let streams: Vec<_> = app
        .streams
        .iter()
        .map(|s| {
            (
                s.logical_id.as_str(),
                s.name.as_str(),
                s.mode,
                s.retention_period_hours,
            )
        })
        .collect();
    assert_eq!(
        streams,
        [
            (
                "OrderEvents",
                "order-events",
                StreamMode::Provisioned { shard_count: 2 },
                24
            ),
            (
                "Clickstream",
                "clickstream",
                StreamMode::Provisioned { shard_count: 1 },
                24
            ),
            (
                "AppLogs",
                "app-logs",
                StreamMode::Provisioned { shard_count: 1 },
                24
            ),
        ]
    );
    assert_eq!(
        app.streams[0].arn,
        "arn:aws:kinesis:us-east-1:000000000000:stream/order-events"
    );

    let failures = &app.queues[0];
    assert_eq!(failures.logical_id, "OrderEventsFailures");
    assert_eq!(failures.name, "order-events-failures");
    assert_eq!(
        failures.url,
        "http://127.0.0.1:4566/000000000000/order-events-failures"
    );
    assert_eq!(failures.visibility_timeout_seconds, Some(60));
    assert_eq!(failures.message_retention_period_seconds, Some(1_209_600));
    assert_eq!(
        failures.redrive_policy,
        Some(RedrivePolicy {
            dead_letter_target_arn: "arn:aws:sqs:us-east-1:000000000000:order-events-failures-dlq"
                .into(),
            max_receive_count: 3,
        })
    );
    assert_eq!(
        failures.create_queue_attributes(),
        [
            ("VisibilityTimeout", "60".to_owned()),
            ("MessageRetentionPeriod", "1209600".to_owned()),
            (
                "RedrivePolicy",
                r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:order-events-failures-dlq","maxReceiveCount":3}"#
                    .to_owned()
            ),
        ]
    );
    assert_eq!(app.queues[1].name, "order-events-failures-dlq");
    assert_eq!(app.queues[1].visibility_timeout(), 30);

    let functions: Vec<_> = app
        .functions
        .iter()
        .map(|f| {
            (
                f.logical_id.as_str(),
                f.build.as_ref().and_then(|b| b.binary.as_deref()),
                f.timeout_seconds,
                f.memory_size_mb,
                f.runtime.as_str(),
                f.handler.as_str(),
                f.code_uri.as_str(),
            )
        })
        .collect();
    assert_eq!(
        functions,
        [
            (
                "OrderEventsFunction",
                Some("order-events"),
                30,
                128,
                "provided.al2023",
                "bootstrap",
                "."
            ),
            (
                "ClickstreamTotalsFunction",
                Some("clickstream-totals"),
                30,
                128,
                "provided.al2023",
                "bootstrap",
                "."
            ),
            (
                "FailureInspectorFunction",
                Some("failure-inspector"),
                30,
                128,
                "provided.al2023",
                "bootstrap",
                "."
            ),
            (
                "LogNormalizerFunction",
                Some("log-normalizer"),
                30,
                128,
                "provided.al2023",
                "bootstrap",
                "."
            ),
        ]
    );
    // The log archive: app-logs → log-normalizer → the bucket.
    assert_eq!(app.buckets.len(), 1);
    assert_eq!(app.buckets[0].name, "riffle-example-log-archive");
    let archive = &app.delivery_streams[0];
    assert_eq!(archive.name, "log-archive");
    assert_eq!(
        archive.source_stream_arn.as_deref(),
        Some(app.streams[2].arn.as_str())
    );
    assert_eq!(
        archive.destination.bucket_arn,
        "arn:aws:s3:::riffle-example-log-archive"
    );
    let transformation = archive.destination.transformation.as_ref().unwrap();
    assert_eq!(transformation.function_logical_id, "LogNormalizerFunction");
    assert_eq!(app.functions[0].name, "riffle-OrderEventsFunction");

    let orders = &app.mappings[0];
    assert_eq!(orders.logical_id, "OrderEventsFunctionOrders");
    assert_eq!(orders.function, "OrderEventsFunction");
    assert_eq!(orders.kind, SourceKind::Kinesis);
    assert_eq!(orders.event_source_arn, app.streams[0].arn);
    assert_eq!(
        orders.properties,
        json!({
            "EventSourceArn": "arn:aws:kinesis:us-east-1:000000000000:stream/order-events",
            "FunctionName": "riffle-OrderEventsFunction",
            "StartingPosition": "TRIM_HORIZON",
            "BatchSize": 100,
            "MaximumBatchingWindowInSeconds": 1,
            "BisectBatchOnFunctionError": true,
            "MaximumRetryAttempts": 3,
            "MaximumRecordAgeInSeconds": 3600,
            "ParallelizationFactor": 1,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "DestinationConfig": {"OnFailure": {"Destination": failures.arn}},
        })
    );
    let MappingConfig::Kinesis(config) = &orders.config else {
        panic!("a Kinesis mapping");
    };
    assert_eq!(
        config.on_failure_destination.as_deref(),
        Some(failures.arn.as_str())
    );
    assert!(config.bisect_on_function_error && config.report_batch_item_failures);

    let clicks = &app.mappings[1];
    assert_eq!(clicks.logical_id, "ClickstreamTotalsFunctionClicks");
    let MappingConfig::Kinesis(config) = &clicks.config else {
        panic!("a Kinesis mapping");
    };
    assert_eq!(config.tumbling_window_ms, Some(60_000));
    assert_eq!(
        config.filter_patterns,
        [json!({"data": {"type": ["click"]}})]
    );

    let inspector = &app.mappings[2];
    assert_eq!(inspector.logical_id, "FailureInspectorFunctionFailures");
    assert_eq!(inspector.kind, SourceKind::Sqs);
    assert_eq!(
        inspector.properties,
        json!({
            "EventSourceArn": failures.arn,
            "FunctionName": "riffle-FailureInspectorFunction",
            "BatchSize": 10,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        })
    );

    assert_eq!(
        app.outputs,
        [
            Output {
                name: "StreamName".into(),
                value: "order-events".into()
            },
            Output {
                name: "FailureQueueUrl".into(),
                value: failures.url.clone()
            },
        ]
    );

    // Policies is the one thing of the template without local effect.
    assert_eq!(template.warnings.len(), 1, "{:?}", template.warnings);
    let policies = &template.warnings[0];
    assert_eq!(line(policies), line_of(&source, "Policies:"));
    assert_eq!(policies.resource.as_deref(), Some("OrderEventsFunction"));
}

#[test]
fn mapping_properties_deserialize_into_riffle_core_raw_types() {
    let template = read_ok(&repository_template());
    for mapping in &template.application.mappings {
        match &mapping.config {
            MappingConfig::Kinesis(config) => {
                let raw: RawKinesisMapping =
                    serde_json::from_value(mapping.properties.clone()).expect("RawKinesisMapping");
                assert_eq!(&raw.validate(NOW).unwrap(), config);
            }
            MappingConfig::Sqs(_) => {
                let raw: RawSqsMapping =
                    serde_json::from_value(mapping.properties.clone()).expect("RawSqsMapping");
                assert_eq!(
                    raw.event_source_arn.as_deref(),
                    Some(mapping.event_source_arn.as_str())
                );
            }
        }
    }
}
