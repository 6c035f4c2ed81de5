use std::time::Duration;

use riffle_core::sequence::SequenceNumber;

use super::*;

/// A Kinesis mapping with one shard that failed once and sent a record to its destination, an
/// SQS mapping, and their function with two durations.
fn known() -> Snapshot {
    let shard = ShardStatus {
        iterator_age_ms: Some(1_250),
        invocations: 3,
        errors: 1,
        throttles: 2,
        retries: 1,
        bisects: 1,
        sent_to_destination: 2,
        filtered: 4,
        position: Some(SequenceNumber::parse("49").unwrap()),
        ..ShardStatus::default()
    };
    let mut duration = riffle_lambda::DurationHistogram::default();
    duration.observe(Duration::from_millis(3));
    duration.observe(Duration::from_millis(120));
    Snapshot {
        kinesis: vec![KinesisMapping {
            id: "Orders".into(),
            function: "orders-fn".into(),
            stream: "orders".into(),
            counters: KinesisCounters {
                polled: 10,
                invoked_records: 12,
                ..KinesisCounters::default()
            },
            shards: BTreeMap::from([("shardId-000000000000".to_owned(), shard)]),
        }],
        queues: vec![QueueMapping {
            id: "Jobs".into(),
            function: "orders-fn".into(),
            queue: "jobs".into(),
            counters: SqsCounters {
                received: 5,
                invocations: 2,
                invoked_messages: 5,
                deleted: 4,
                failed: 1,
                errors: 1,
                throttles: 1,
                pollers: 2,
                oldest_message_age_ms: 900,
                ..SqsCounters::default()
            },
        }],
        functions: vec![Function {
            name: "orders-fn".into(),
            stats: FunctionStats {
                invocations: 5,
                errors: 2,
                throttles: 1,
                cold_starts: vec![Duration::from_millis(40)],
                concurrent_executions: 1,
                duration,
                ..FunctionStats::default()
            },
        }],
        deliveries: Vec::new(),
    }
}

#[test]
fn a_delivery_stream_is_counted_under_its_name_and_bucket() {
    let snapshot = Snapshot {
        deliveries: vec![Delivery {
            name: "log-archive".into(),
            bucket: "archive".into(),
            counters: riffle_core::firehose::delivery::Counters {
                records_in: 7,
                transformed: 5,
                dropped: 1,
                failed: 1,
                delivered_objects: 2,
                ..Default::default()
            },
            buffered_bytes: 300,
        }],
        ..Snapshot::default()
    };
    let text = render(snapshot, Format::OpenMetrics);
    let labels = r#"{delivery_stream="log-archive",bucket="archive"}"#;
    for line in [
        format!("riffle_firehose_incoming_records_total{labels} 7"),
        format!("riffle_firehose_transformed_records_total{labels} 5"),
        format!("riffle_firehose_dropped_records_total{labels} 1"),
        format!("riffle_firehose_processing_failed_records_total{labels} 1"),
        format!("riffle_firehose_delivered_objects_total{labels} 2"),
        format!("riffle_firehose_buffered_bytes{labels} 300"),
    ] {
        assert!(text.lines().any(|l| l == line), "no {line} in:\n{text}");
    }
    assert!(
        text.contains("# TYPE riffle_firehose_buffered_bytes gauge"),
        "{text}"
    );
}

#[test]
fn a_known_state_renders_as_this_openmetrics_text() {
    let text = render(known(), Format::OpenMetrics);
    assert_eq!(text, EXPECTED);
}

const EXPECTED: &str = r#"# HELP riffle_iterator_age_milliseconds IteratorAge: how old the last record of a shard's last successful batch was when the batch finished; 0 once the shard is caught up
# TYPE riffle_iterator_age_milliseconds gauge
# UNIT riffle_iterator_age_milliseconds milliseconds
riffle_iterator_age_milliseconds{mapping="Orders",function="orders-fn",stream="orders",shard="shardId-000000000000"} 1250
# HELP riffle_polled_events PolledEventCount: records (Kinesis) or messages (SQS, each receive) the mapping read
# TYPE riffle_polled_events counter
riffle_polled_events_total{mapping="Orders",function="orders-fn",stream="orders"} 10
riffle_polled_events_total{mapping="Jobs",function="orders-fn",queue="jobs"} 5
# HELP riffle_invoked_events InvokedEventCount: records or messages sent to the function, counting retries
# TYPE riffle_invoked_events counter
riffle_invoked_events_total{mapping="Orders",function="orders-fn",stream="orders"} 12
riffle_invoked_events_total{mapping="Jobs",function="orders-fn",queue="jobs"} 5
# HELP riffle_mapping_invocations Invocations of the function by the mapping (per shard for Kinesis), counting retries
# TYPE riffle_mapping_invocations counter
riffle_mapping_invocations_total{mapping="Orders",function="orders-fn",stream="orders",shard="shardId-000000000000"} 3
riffle_mapping_invocations_total{mapping="Jobs",function="orders-fn",queue="jobs"} 2
# HELP riffle_mapping_errors Invocations by the mapping that failed (function error, timeout, invalid response)
# TYPE riffle_mapping_errors counter
riffle_mapping_errors_total{mapping="Orders",function="orders-fn",stream="orders",shard="shardId-000000000000"} 1
riffle_mapping_errors_total{mapping="Jobs",function="orders-fn",queue="jobs"} 1
# HELP riffle_mapping_throttles Invocations by the mapping that the function throttled (retried, not counted as attempts)
# TYPE riffle_mapping_throttles counter
riffle_mapping_throttles_total{mapping="Orders",function="orders-fn",stream="orders",shard="shardId-000000000000"} 2
riffle_mapping_throttles_total{mapping="Jobs",function="orders-fn",queue="jobs"} 1
# HELP riffle_mapping_retries Retries the Kinesis mapping scheduled, per shard
# TYPE riffle_mapping_retries counter
riffle_mapping_retries_total{mapping="Orders",function="orders-fn",stream="orders",shard="shardId-000000000000"} 1
# HELP riffle_mapping_bisects Batches the Kinesis mapping split in two (BisectBatchOnFunctionError), per shard
# TYPE riffle_mapping_bisects counter
riffle_mapping_bisects_total{mapping="Orders",function="orders-fn",stream="orders",shard="shardId-000000000000"} 1
# HELP riffle_on_failure_destination_delivered_events OnFailureDestinationDeliveredEventCount: records reported to the on-failure destination
# TYPE riffle_on_failure_destination_delivered_events counter
riffle_on_failure_destination_delivered_events_total{mapping="Orders",function="orders-fn",stream="orders",shard="shardId-000000000000"} 2
# HELP riffle_dropped_events DroppedEventCount: records given up without an on-failure destination
# TYPE riffle_dropped_events counter
riffle_dropped_events_total{mapping="Orders",function="orders-fn",stream="orders",shard="shardId-000000000000"} 0
# HELP riffle_filtered_out_events FilteredOutEventCount: records or messages the filter criteria dropped
# TYPE riffle_filtered_out_events counter
riffle_filtered_out_events_total{mapping="Orders",function="orders-fn",stream="orders",shard="shardId-000000000000"} 4
riffle_filtered_out_events_total{mapping="Jobs",function="orders-fn",queue="jobs"} 0
# HELP riffle_deleted_events DeletedEventCount: messages the SQS mapping deleted after the function succeeded
# TYPE riffle_deleted_events counter
riffle_deleted_events_total{mapping="Jobs",function="orders-fn",queue="jobs"} 4
# HELP riffle_failed_invoke_events FailedInvokeEventCount: messages of failed invocations, left to return to the queue
# TYPE riffle_failed_invoke_events counter
riffle_failed_invoke_events_total{mapping="Jobs",function="orders-fn",queue="jobs"} 1
# HELP riffle_pollers Pollers the SQS mapping runs now
# TYPE riffle_pollers gauge
riffle_pollers{mapping="Jobs",function="orders-fn",queue="jobs"} 2
# HELP riffle_approximate_age_of_oldest_message_milliseconds ApproximateAgeOfOldestMessage: the age of the oldest message of the SQS mapping's last receive
# TYPE riffle_approximate_age_of_oldest_message_milliseconds gauge
# UNIT riffle_approximate_age_of_oldest_message_milliseconds milliseconds
riffle_approximate_age_of_oldest_message_milliseconds{mapping="Jobs",function="orders-fn",queue="jobs"} 900
# HELP riffle_invocations Invocations: invocations of the function, from every mapping and the Invoke API
# TYPE riffle_invocations counter
riffle_invocations_total{function="orders-fn"} 5
# HELP riffle_errors Errors: invocations that ended in a function error (timeouts and crashes included)
# TYPE riffle_errors counter
riffle_errors_total{function="orders-fn"} 2
# HELP riffle_throttles Throttles: invocations refused for lack of concurrency
# TYPE riffle_throttles counter
riffle_throttles_total{function="orders-fn"} 1
# HELP riffle_concurrent_executions ConcurrentExecutions: invocations of the function under way now
# TYPE riffle_concurrent_executions gauge
riffle_concurrent_executions{function="orders-fn"} 1
# HELP riffle_cold_starts Execution environments started and initialised (an Init Duration in a REPORT line)
# TYPE riffle_cold_starts counter
riffle_cold_starts_total{function="orders-fn"} 1
# HELP riffle_duration_milliseconds Duration: how long the function ran, per invocation it answered, failed or timed out
# TYPE riffle_duration_milliseconds histogram
# UNIT riffle_duration_milliseconds milliseconds
riffle_duration_milliseconds_sum{function="orders-fn"} 123.0
riffle_duration_milliseconds_count{function="orders-fn"} 2
riffle_duration_milliseconds_bucket{le="1.0",function="orders-fn"} 0
riffle_duration_milliseconds_bucket{le="5.0",function="orders-fn"} 1
riffle_duration_milliseconds_bucket{le="10.0",function="orders-fn"} 1
riffle_duration_milliseconds_bucket{le="25.0",function="orders-fn"} 1
riffle_duration_milliseconds_bucket{le="50.0",function="orders-fn"} 1
riffle_duration_milliseconds_bucket{le="100.0",function="orders-fn"} 1
riffle_duration_milliseconds_bucket{le="250.0",function="orders-fn"} 2
riffle_duration_milliseconds_bucket{le="500.0",function="orders-fn"} 2
riffle_duration_milliseconds_bucket{le="1000.0",function="orders-fn"} 2
riffle_duration_milliseconds_bucket{le="2500.0",function="orders-fn"} 2
riffle_duration_milliseconds_bucket{le="5000.0",function="orders-fn"} 2
riffle_duration_milliseconds_bucket{le="10000.0",function="orders-fn"} 2
riffle_duration_milliseconds_bucket{le="30000.0",function="orders-fn"} 2
riffle_duration_milliseconds_bucket{le="60000.0",function="orders-fn"} 2
riffle_duration_milliseconds_bucket{le="300000.0",function="orders-fn"} 2
riffle_duration_milliseconds_bucket{le="900000.0",function="orders-fn"} 2
riffle_duration_milliseconds_bucket{le="+Inf",function="orders-fn"} 2
# EOF
"#;

#[test]
fn nothing_running_is_an_empty_exposition() {
    assert_eq!(render(Snapshot::default(), Format::OpenMetrics), "# EOF\n");
}

#[test]
fn prometheus_text_is_served_to_a_scraper_that_asks_for_it() {
    assert_eq!(Format::from_accept(None), Format::OpenMetrics);
    // What Prometheus itself sends: OpenMetrics first, text/plain as a fallback.
    assert_eq!(
        Format::from_accept(Some(
            "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1"
        )),
        Format::OpenMetrics
    );
    assert_eq!(
        Format::from_accept(Some("text/plain; version=0.0.4")),
        Format::Prometheus
    );
    assert_eq!(
        Format::OpenMetrics.content_type(),
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert_eq!(
        Format::Prometheus.content_type(),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = render(known(), Format::Prometheus);
    assert!(!text.contains("# EOF"), "{text}");
    assert!(!text.contains("# UNIT"), "{text}");
    assert!(
        text.contains("riffle_invocations_total{function=\"orders-fn\"} 5\n"),
        "{text}"
    );
    assert!(
        text.contains("riffle_duration_milliseconds_bucket{function=\"orders-fn\",le=\"250\"} 2\n"),
        "{text}"
    );
}

#[test]
fn streams_and_queues_are_labelled_by_name_whatever_arn_reads_them() {
    assert_eq!(
        source_name("arn:aws:kinesis:us-east-1:000000000000:stream/orders"),
        "orders"
    );
    assert_eq!(
        source_name("arn:aws:kinesis:us-east-1:000000000000:stream/orders/consumer/fan:1700000000"),
        "orders",
        "a mapping through a consumer is labelled with the consumer's stream"
    );
    assert_eq!(
        source_name("arn:aws:sqs:us-east-1:000000000000:jobs.fifo"),
        "jobs.fifo"
    );
}
