//! The transformation alone, and behind the real Firehose delivery semantics.

use lambda_runtime::service_fn;
use riffle_testkit::{FirehoseEventBuilder, FirehoseSimulation, firehose, lambda_event};
use serde_json::{Value, json};

use super::*;

#[test]
fn lines_are_normalised() {
    let normalizer = Normalizer::new(&["debug"]);
    let Verdict::Keep(line) = normalizer
        .judge(br#"{"lvl":"warning","msg":"disk 91%","ts":"2024-11-25T16:00:00Z","host":"a"}"#)
    else {
        panic!("kept");
    };
    assert_eq!(line.level, "WARN");
    assert_eq!(line.message, "disk 91%");
    assert_eq!(line.timestamp, "2024-11-25T16:00:00Z");
    assert_eq!(line.fields["host"], "a");
    assert_eq!(
        normalizer.judge(br#"{"level":"DEBUG","message":"x"}"#),
        Verdict::Drop
    );
    assert_eq!(
        normalizer.judge(b"plain text"),
        Verdict::Fail("not a JSON object")
    );
    assert_eq!(
        normalizer.judge(br#"{"level":"info"}"#),
        Verdict::Fail("no message")
    );
}

#[tokio::test]
async fn every_record_gets_one_result() {
    let builder = FirehoseEventBuilder::new()
        .json_record(&json!({"level": "info", "message": "up"}))
        .json_record(&json!({"level": "debug", "message": "noise"}))
        .record("{broken");
    let response = Normalizer::new(&["DEBUG"])
        .handle(lambda_event(builder.build()))
        .await
        .unwrap();
    let results = firehose::transformation_results(&response);
    let ids: Vec<String> = results.iter().map(|r| r.0.clone()).collect();
    assert_eq!(ids, builder.record_ids());
    let kinds: Vec<&str> = results.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(kinds, ["Ok", "Dropped", "ProcessingFailed"]);
    assert_eq!(results[2].2, b"{broken", "a failed record keeps its data");
}

#[tokio::test]
async fn delivered_objects_are_newline_delimited_json() {
    let normalizer = Normalizer::new(&["DEBUG"]);
    let mut sim = FirehoseSimulation::new(service_fn(|event| normalizer.handle(event))).prefixes(
        "logs/!{timestamp:yyyy-MM-dd}/",
        Some("errors/!{firehose:error-output-type}/"),
    );
    sim.put(r#"{"level":"error","message":"boom","ts":1}"#);
    sim.put(r#"{"level":"debug","message":"noise"}"#);
    sim.put("not json");
    sim.put(r#"{"severity":"Warning","msg":"slow","latency_ms":900}"#);
    let trace = sim.run().await;

    let lines: Vec<Value> = trace
        .delivered_text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines,
        [
            json!({"timestamp": 1, "level": "ERROR", "message": "boom", "fields": {}}),
            json!({"timestamp": null, "level": "WARN", "message": "slow", "fields": {"latency_ms": 900}}),
        ]
    );
    assert!(
        trace.delivered()[0]
            .key
            .starts_with("logs/2024-11-25/test-delivery-stream-1-")
    );
    let failed = trace.processing_failed();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].data(), b"not json");
    assert_eq!(trace.counters.dropped, 1);
    let error_object = trace
        .objects
        .iter()
        .find(|o| o.key.starts_with("errors/processing-failed/"));
    assert!(
        error_object.is_some(),
        "{:?}",
        trace.objects.iter().map(|o| &o.key).collect::<Vec<_>>()
    );
}
