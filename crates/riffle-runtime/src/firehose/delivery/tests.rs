//! The delivery performer against in-memory records and objects, on a manual clock: every test
//! runs on a paused current-thread runtime and looks only once the runtime settled.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use riffle_core::firehose::settings::{
    DeliverySettings, RawDelivery, RawProcessor, RawS3Destination,
};
use riffle_core::firehose::transform::FirehoseEvent;
use riffle_core::invocation::Outcome;
use tokio::sync::watch;
use tower::service_fn;

use super::{FirehoseDelivery, FirehoseOptions};
use crate::ManualClock;
use crate::firehose::{MemoryObjects, MemoryRecords};
use crate::invoke::InvokeRequest;

const START: u64 = 1_764_806_400_000; // 2025-12-04T00:00:00Z

fn settings(processor: bool) -> DeliverySettings {
    DeliverySettings::new(&RawDelivery {
        stream_name: "logs".into(),
        stream_arn: "arn:aws:firehose:us-east-1:000000000000:deliverystream/logs".into(),
        version: 1,
        region: "us-east-1".into(),
        source_stream_arn: None,
        destination: RawS3Destination {
            bucket_arn: "arn:aws:s3:::archive".into(),
            buffer_size_mb: Some(1),
            buffer_interval_seconds: Some(60),
            ..RawS3Destination::default()
        },
        processor: processor.then(|| RawProcessor {
            parameters: vec![
                (
                    "LambdaArn".into(),
                    "arn:aws:lambda:us-east-1:000000000000:function:upper".into(),
                ),
                ("BufferIntervalInSeconds".into(), "0".into()),
                ("NumberOfRetries".into(), "1".into()),
            ],
        }),
        backup: None,
    })
    .expect("valid settings")
}

/// Answers every record `Ok` with its data upper-cased.
fn upper(request: InvokeRequest) -> Outcome {
    let event: FirehoseEvent = serde_json::from_str(&request.payload).expect("a Firehose event");
    let records: Vec<_> = event
        .records
        .iter()
        .map(|r| {
            let data = STANDARD.decode(&r.data).expect("base64");
            serde_json::json!({
                "recordId": r.record_id,
                "result": "Ok",
                "data": STANDARD.encode(data.to_ascii_uppercase()),
            })
        })
        .collect();
    Outcome::Success(serde_json::to_vec(&serde_json::json!({ "records": records })).unwrap())
}

type Invoke = fn(InvokeRequest) -> Outcome;

struct Harness {
    clock: Arc<ManualClock>,
    records: Arc<MemoryRecords>,
    objects: MemoryObjects,
    stop: watch::Sender<bool>,
    run: tokio::task::JoinHandle<Result<(), String>>,
}

fn start(processor: bool, invoke: Option<Invoke>) -> Harness {
    let clock = Arc::new(ManualClock::new(START));
    let records = Arc::new(MemoryRecords::default());
    let objects = MemoryObjects::default();
    let invoker = invoke.map(|f| {
        service_fn(move |request: InvokeRequest| async move { Ok::<_, Infallible>(f(request)) })
    });
    let delivery = FirehoseDelivery::new(
        settings(processor),
        records.clone(),
        objects.clone(),
        invoker,
        clock.clone(),
        FirehoseOptions::default(),
    );
    let (stop, stopped) = watch::channel(false);
    let run = tokio::spawn(delivery.run(stopped));
    Harness {
        clock,
        records,
        objects,
        stop,
        run,
    }
}

fn bodies(objects: &MemoryObjects) -> Vec<String> {
    objects
        .objects()
        .into_iter()
        .map(|o| String::from_utf8(o.body).unwrap())
        .collect()
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn records_wait_for_the_buffer_interval_then_go_out_as_one_object() {
    let h = start(false, None);
    for (i, line) in ["a\n", "b\n", "c\n"].iter().enumerate() {
        h.records.put(&format!("r{i}"), line.as_bytes(), START);
    }
    ManualClock::settle().await;
    assert!(
        h.objects.objects().is_empty(),
        "nothing before the interval"
    );
    assert_eq!(h.records.unacknowledged(), 3);

    h.clock.advance(Duration::from_secs(60));
    ManualClock::settle().await;
    let objects = h.objects.objects();
    assert_eq!(objects.len(), 1);
    assert_eq!(objects[0].bucket, "archive");
    assert!(
        objects[0].key.starts_with("2025/12/04/00/logs-1-"),
        "{}",
        objects[0].key
    );
    assert_eq!(bodies(&h.objects), ["a\nb\nc\n"]);
    assert_eq!(
        h.records.unacknowledged(),
        0,
        "delivered records are acknowledged"
    );
    assert_eq!(h.records.acknowledged(), 3);
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_transformation_is_invoked_and_its_output_delivered() {
    let h = start(true, Some(upper));
    h.records.put("r0", b"hello ", START);
    h.records.put("r1", b"world", START);
    assert!(
        h.clock
            .run_until(Duration::from_secs(1), Duration::from_secs(120), || {
                !h.objects.objects().is_empty()
            })
            .await
    );
    assert_eq!(bodies(&h.objects), ["HELLO WORLD"]);
    assert_eq!(h.records.unacknowledged(), 0);
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn without_a_function_to_invoke_the_records_end_processing_failed() {
    let h = start(true, None);
    h.records.put("r0", b"x", START);
    assert!(
        h.clock
            .run_until(Duration::from_secs(1), Duration::from_secs(120), || {
                !h.objects.objects().is_empty()
            })
            .await
    );
    let objects = h.objects.objects();
    assert_eq!(objects.len(), 1);
    assert!(
        objects[0].key.starts_with("processing-failed/"),
        "{}",
        objects[0].key
    );
    let line: serde_json::Value = serde_json::from_slice(&objects[0].body).unwrap();
    assert_eq!(line["rawData"], STANDARD.encode("x"));
    assert_eq!(line["attemptsMade"], 2, "the first attempt and one retry");
    assert_eq!(h.records.unacknowledged(), 0);
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_failed_write_keeps_the_records_until_a_retry_succeeds() {
    let h = start(false, None);
    h.objects.fail_writes(Some("ServiceUnavailable: try again"));
    h.records.put("r0", b"kept", START);
    ManualClock::settle().await;
    h.clock.advance(Duration::from_secs(60));
    ManualClock::settle().await;
    assert!(h.objects.attempts() >= 1);
    assert!(h.objects.objects().is_empty());
    assert_eq!(
        h.records.unacknowledged(),
        1,
        "nothing is forgotten before it is written"
    );

    h.objects.fail_writes(None);
    assert!(
        h.clock
            .run_until(Duration::from_secs(1), Duration::from_secs(120), || {
                h.records.unacknowledged() == 0
            })
            .await
    );
    assert_eq!(bodies(&h.objects), ["kept"]);
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn stopping_delivers_what_is_buffered_without_waiting_for_the_hints() {
    let h = start(false, None);
    h.records.put("r0", b"last words", START);
    ManualClock::settle().await;
    h.stop.send_replace(true);
    h.run.await.unwrap().unwrap();
    assert_eq!(bodies(&h.objects), ["last words"]);
    assert_eq!(h.records.unacknowledged(), 0);
}
