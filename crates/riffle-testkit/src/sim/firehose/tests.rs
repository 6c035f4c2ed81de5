//! The Firehose simulation: buffering on virtual time, retries, processing-failed output.

use aws_lambda_events::event::firehose::{KinesisFirehoseEvent, KinesisFirehoseResponse};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use riffle_core::firehose::delivery::{Decision, ObjectKind};

use crate::firehose::{self, FirehoseEventBuilder};
use crate::sim::FirehoseSimulation;

async fn tagging(
    event: LambdaEvent<KinesisFirehoseEvent>,
) -> Result<KinesisFirehoseResponse, Error> {
    let records = event
        .payload
        .records
        .iter()
        .map(|r| match r.data.0.as_slice() {
            b"fail" => firehose::processing_failed(r),
            b"drop" => firehose::dropped(r),
            data => firehose::ok(r, [b"T:", data, b"\n"].concat()),
        });
    Ok(firehose::response(records.collect()))
}

async fn failing(_: LambdaEvent<KinesisFirehoseEvent>) -> Result<KinesisFirehoseResponse, Error> {
    Err("the transformation is down".into())
}

#[tokio::test]
async fn buffering_waits_for_the_processor_then_the_destination_interval() {
    let mut sim = FirehoseSimulation::new(service_fn(tagging)).buffering(5, 120);
    sim.put("a");
    sim.put("drop");
    sim.put("fail");
    sim.advance(59_999).await;
    assert!(
        sim.trace().invocations.is_empty(),
        "the processor's 60 s interval"
    );
    sim.advance(1).await;
    assert_eq!(sim.trace().invocations.len(), 1);
    sim.advance(119_999).await;
    assert!(
        sim.trace().objects.is_empty(),
        "the destination's 120 s interval"
    );
    let trace = sim.run().await;
    assert_eq!(trace.delivered_text(), "T:a\n");
    let delivered = &trace.delivered()[0];
    assert_eq!(delivered.at_ms, 180_000);
    assert_eq!(delivered.bucket, "test-bucket");
    assert!(
        delivered
            .key
            .starts_with("2024/11/25/16/test-delivery-stream-1-2024-11-25-16-03-00-")
    );
    let failed = trace.processing_failed();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].data(), b"fail");
    assert_eq!(failed[0].error_code, "Lambda.ProcessingFailed");
    assert_eq!(
        (
            trace.counters.transformed,
            trace.counters.dropped,
            trace.counters.failed
        ),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn invocation_errors_are_retried_then_go_to_processing_failed() {
    let mut sim =
        FirehoseSimulation::new(service_fn(failing)).processor_parameter("NumberOfRetries", "1");
    sim.put("x");
    let trace = sim.run().await;
    assert_eq!(trace.invocations.len(), 2);
    let failed = trace.processing_failed();
    assert_eq!(failed[0].attempts_made, 2);
    assert_eq!(failed[0].error_code, "Lambda.FunctionError");
    assert!(
        failed[0]
            .error_message
            .contains("the transformation is down")
    );
    let retrying: Vec<bool> = trace
        .decisions
        .iter()
        .filter_map(|d| match d {
            Decision::InvocationFailed { retrying, .. } => Some(*retrying),
            _ => None,
        })
        .collect();
    assert_eq!(retrying, [true, false]);
    let object = trace
        .objects
        .iter()
        .find(|o| o.kind == ObjectKind::ProcessingFailed)
        .unwrap();
    assert!(
        object.key.starts_with("processing-failed/2024/11/25/16/"),
        "{}",
        object.key
    );
}

#[tokio::test]
async fn failed_writes_are_retried_and_backups_keep_the_source() {
    let mut sim = FirehoseSimulation::new(service_fn(tagging))
        .backup("source-bucket", "raw/")
        .compression("GZIP");
    sim.fail_writes(1);
    sim.put("a");
    let trace = sim.run().await;
    assert_eq!(trace.failed_writes, 1);
    assert_eq!(trace.delivered().len(), 1);
    assert!(trace.delivered()[0].key.ends_with(".gz"));
    let backup = &trace.backups()[0];
    assert_eq!(backup.bucket, "source-bucket");
    assert!(backup.key.starts_with("raw/"));
}

#[test]
fn the_builder_writes_what_firehose_sends() {
    let builder = FirehoseEventBuilder::new()
        .kinesis_source("arn:aws:kinesis:us-east-1:000000000000:stream/logs")
        .record("hello");
    let json: serde_json::Value = serde_json::from_str(&builder.json()).unwrap();
    assert_eq!(
        json["sourceKinesisStreamArn"],
        "arn:aws:kinesis:us-east-1:000000000000:stream/logs"
    );
    assert_eq!(json["records"][0]["data"], "aGVsbG8=");
    assert_eq!(
        json["records"][0]["kinesisRecordMetadata"]["shardId"],
        "shardId-000000000000"
    );
    let event = builder.build();
    let metadata = event.records[0]
        .kinesis_firehose_record_metadata
        .as_ref()
        .unwrap();
    assert_eq!(metadata.subsequence_number, 0);
    let response = firehose::response(vec![firehose::ok(&event.records[0], "HELLO")]);
    assert_eq!(
        firehose::transformation_results(&response),
        vec![(
            builder.record_ids()[0].clone(),
            "Ok".to_owned(),
            b"HELLO".to_vec()
        )]
    );
}
