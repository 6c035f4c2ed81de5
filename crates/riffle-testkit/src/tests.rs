//! The test kit's own tests: fixtures against the engine's real output, the simulation's
//! semantics and trace assertions, and fault injection.

use std::collections::HashMap;
use std::time::Duration;

use aws_lambda_events::event::kinesis::{
    KinesisEvent, KinesisTimeWindowEvent, KinesisTimeWindowEventResponse,
};
use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use riffle_core::invocation::Outcome;
use serde_json::{Value, json};

use crate::*;

async fn accept(_: LambdaEvent<KinesisEvent>) -> Result<(), Error> {
    Ok(())
}

async fn accept_sqs(_: LambdaEvent<SqsEvent>) -> Result<(), Error> {
    Ok(())
}

#[tokio::test]
async fn kinesis_fixtures_are_byte_for_byte_what_the_engine_sends() {
    let mut sim = KinesisSimulation::new(service_fn(accept), json!({}));
    let a = sim.put("user-1", r#"{"order": 7}"#);
    sim.advance(Duration::from_millis(250));
    let b = sim.put("user-2", vec![0u8, 159, 255]);
    let trace = sim.run().await;
    let sent = &trace.invocations[0].payload;
    let fixture = KinesisEventBuilder::new()
        .record_with(&a, "user-1", r#"{"order": 7}"#, sim::SIMULATION_EPOCH_MS)
        .record_with(
            &b,
            "user-2",
            vec![0u8, 159, 255],
            sim::SIMULATION_EPOCH_MS + 250,
        )
        .json();
    assert_eq!(&fixture, sent);
}

/// Field names and order of every record, and the names of its attributes.
fn shape(event: &str) -> Vec<(Vec<String>, Vec<String>)> {
    let event: serde_json::Map<String, Value> = serde_json::from_str(event).unwrap();
    event["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let keys = r.as_object().unwrap().keys().cloned().collect();
            let mut attributes: Vec<String> = r["attributes"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect();
            attributes.sort();
            (keys, attributes)
        })
        .collect()
}

#[tokio::test]
async fn sqs_fixtures_have_the_fields_the_engine_sends() {
    let mut sim = SqsSimulation::new(service_fn(accept_sqs), json!({}));
    sim.send("first");
    let trace = sim.run().await;
    let fixture = SqsEventBuilder::new()
        .message(SqsMessage::new("first"))
        .json();
    assert_eq!(shape(&fixture), shape(&trace.invocations[0].payload));
    let event = SqsEventBuilder::new()
        .message(
            SqsMessage::new("x")
                .string_attribute("kind", "order")
                .number_attribute("n", 3),
        )
        .build();
    // SQS's digest of these attributes, as the emulator and AWS compute it.
    assert_eq!(
        event.records[0]
            .md5_of_message_attributes
            .as_deref()
            .map(str::len),
        Some(32)
    );
    assert_eq!(
        event.records[0].md5_of_body.as_deref(),
        Some("9dd4e461268c8034f5c8564e155c67a6")
    );
    assert_eq!(
        event.records[0].message_attributes["n"]
            .data_type
            .as_deref(),
        Some("Number")
    );
}

#[test]
fn window_fixtures_carry_state_and_flags() {
    let state = HashMap::from([("total".to_owned(), "12".to_owned())]);
    let event: KinesisTimeWindowEvent = KinesisEventBuilder::new().record("k", "1").window(
        1_732_550_400_000,
        1_732_550_460_000,
        &state,
        true,
    );
    assert_eq!(event.time_window_properties.state, state);
    assert!(event.time_window_properties.is_final_invoke_for_window);
    assert_eq!(event.kinesis_event.records.len(), 1);
}

#[test]
fn responses_are_read_as_the_engine_reads_them() {
    let response = json!({"batchItemFailures": [{"itemIdentifier": "2"}, {"itemIdentifier": "5"}]});
    assert_eq!(failed_items(&response), ["2", "5"]);
    assert_failed_items(&response, &["5", "2"]);
    assert!(failed_items(&json!({})).is_empty());
    assert_eq!(
        window_state(&json!({"state": {"n": "1"}})),
        Some(json!({"n": "1"}))
    );
    assert_eq!(window_state(&json!({})), None);
}

async fn fail_on_poison(event: LambdaEvent<KinesisEvent>) -> Result<(), Error> {
    if event
        .payload
        .records
        .iter()
        .any(|r| r.kinesis.data.0 == b"poison")
    {
        return Err("poison".into());
    }
    Ok(())
}

#[tokio::test]
async fn bisect_isolates_the_poison_record_and_the_trace_shows_how() {
    let mut sim = KinesisSimulation::new(
        service_fn(fail_on_poison),
        json!({
            "BatchSize": 8,
            "BisectBatchOnFunctionError": true,
            "MaximumRetryAttempts": 0,
            "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:dlq"}},
        }),
    );
    let mut ids = Vec::new();
    for n in 0..8 {
        ids.push(sim.put(
            &format!("k{}", n % 3),
            if n == 5 {
                "poison".to_owned()
            } else {
                format!("r{n}")
            },
        ));
    }
    let trace = sim.run().await;
    assert!(trace.finished);
    trace.assert_in_destination(&[&ids[5]], "RetryAttemptsExhausted");
    trace.assert_nothing_lost();
    trace.assert_order_per_key();
    assert_eq!(trace.bisects(), 3, "8 → 4 → 2 → 1");
    let processed: Vec<String> = trace.processed().iter().map(|r| r.text()).collect();
    assert_eq!(processed.len(), 7);
    assert!(!processed.contains(&"poison".to_owned()));
}

#[tokio::test]
async fn an_s3_destination_keeps_the_discarded_records_under_aws_key_layout() {
    let mut sim = KinesisSimulation::new(
        service_fn(fail_on_poison),
        json!({
            "BatchSize": 4,
            "BisectBatchOnFunctionError": true,
            "MaximumRetryAttempts": 0,
            "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:s3:::failed-batches"}},
        }),
    );
    let ids: Vec<String> = ["a", "poison", "b", "c"]
        .iter()
        .map(|data| sim.put("k", *data))
        .collect();
    let trace = sim.run().await;
    trace.assert_in_destination(&[&ids[1]], "RetryAttemptsExhausted");
    trace.assert_nothing_lost();
    let [(key, object)] = trace.on_failure_objects.as_slice() else {
        panic!("one object: {:?}", trace.on_failure_objects);
    };
    assert!(
        key.starts_with("aws/lambda/simulation/shardId-000000000000/2024/11/25/2024-11-25T16."),
        "{key}"
    );
    assert_eq!(object["KinesisBatchInfo"]["batchSize"], 1);
    let carried = trace.in_destination_payloads();
    assert_eq!(carried.len(), 1);
    assert_eq!(
        (carried[0].id.as_str(), carried[0].text()),
        (ids[1].as_str(), "poison".into())
    );
}

#[tokio::test]
async fn retries_take_virtual_time_not_real_time() {
    let mut sim = KinesisSimulation::new(
        service_fn(fail_on_poison),
        json!({"MaximumRetryAttempts": 5}),
    );
    sim.put("k", "poison");
    let started = std::time::Instant::now();
    let trace = sim.run().await;
    assert_eq!(
        trace.invocations.len(),
        6,
        "MaximumRetryAttempts 5: six invocations"
    );
    let times: Vec<u64> = trace.invocations.iter().map(|i| i.at_ms).collect();
    assert!(
        times.windows(2).all(|w| w[1] > w[0]),
        "back-off between retries: {times:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    // Without a destination the record is dropped: the trace says it was lost.
    let lost = std::panic::catch_unwind(|| trace.assert_nothing_lost());
    assert!(lost.is_err(), "a dropped record is reported as lost");
}

#[tokio::test]
async fn faults_fail_throttle_and_answer_for_the_handler() {
    let mut sim = KinesisSimulation::new(
        service_fn(accept),
        json!({"FunctionResponseTypes": ["ReportBatchItemFailures"]}),
    )
    .function_timeout(Duration::from_secs(10))
    .faults(
        Faults::new()
            .on_invocation(0, Fault::Throttle)
            .on_invocation(1, Fault::Timeout)
            .on_invocation(
                2,
                Fault::Respond(r#"{"batchItemFailures":[{"itemIdentifier":"nope"}]}"#.into()),
            ),
    );
    sim.put("k", "a");
    let trace = sim.run().await;
    let outcomes: Vec<&Outcome> = trace.invocations.iter().map(|i| &i.outcome).collect();
    assert_eq!(outcomes.len(), 4, "three injected faults, then the handler");
    assert_eq!(*outcomes[0], Outcome::Throttled);
    assert!(
        matches!(outcomes[1], Outcome::FunctionError { error_type, .. } if error_type == "Sandbox.Timedout")
    );
    assert_eq!(trace.invocations[1].succeeded, [false]);
    assert_eq!(
        trace.invocations[2].succeeded,
        [false],
        "an unknown id fails the whole batch"
    );
    assert_eq!(trace.invocations[3].fault, None);
    assert!(
        trace.invocations[2].at_ms >= trace.invocations[1].at_ms + 10_000,
        "a timeout takes the function's timeout of virtual time"
    );
}

#[tokio::test]
async fn a_poison_record_fault_needs_no_change_to_the_handler() {
    let mut sim = KinesisSimulation::new(
        service_fn(accept),
        json!({
            "BatchSize": 4,
            "BisectBatchOnFunctionError": true,
            "MaximumRetryAttempts": 1,
            "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:dlq"}},
        }),
    )
    .faults(Faults::new().when_record(|r| r.data == b"bad", Fault::Error("Poison".into())));
    let ids: Vec<String> = ["a", "b", "bad", "c"]
        .iter()
        .map(|d| sim.put("k", *d))
        .collect();
    let trace = sim.run().await;
    trace.assert_in_destination(&[&ids[2]], "RetryAttemptsExhausted");
    trace.assert_nothing_lost();
    trace.assert_order_per_key();
}

#[test]
#[should_panic(expected = "was processed after")]
fn the_order_assertion_catches_a_reordering() {
    let record = |id: &str| TraceRecord {
        id: id.into(),
        key: "k".into(),
        data: Vec::new(),
    };
    let invocation = |ids: &[&str]| TraceInvocation {
        at_ms: 0,
        request_id: String::new(),
        records: ids.iter().map(|id| record(id)).collect(),
        outcome: Outcome::Success(Vec::new()),
        fault: None,
        payload: String::new(),
        succeeded: vec![true; ids.len()],
    };
    let trace = Trace {
        invocations: vec![invocation(&["2"]), invocation(&["1"])],
        put: vec![record("1"), record("2")],
        finished: true,
        ..Trace::default()
    };
    trace.assert_order_per_key();
}

async fn running_total(
    event: LambdaEvent<KinesisTimeWindowEvent>,
) -> Result<KinesisTimeWindowEventResponse, Error> {
    let window = &event.payload.time_window_properties;
    let mut total: i64 = window
        .state
        .get("total")
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    for record in &event.payload.kinesis_event.records {
        total += std::str::from_utf8(&record.kinesis.data.0)?.parse::<i64>()?;
    }
    let mut response = KinesisTimeWindowEventResponse::default();
    response.time_window_event_response_properties.state =
        HashMap::from([("total".to_owned(), total.to_string())]);
    Ok(response)
}

#[tokio::test]
async fn a_tumbling_window_ends_with_its_final_state() {
    let mut sim = KinesisSimulation::windowed(
        service_fn(running_total),
        json!({"TumblingWindowInSeconds": 60, "BatchSize": 2}),
    );
    for n in [1, 2, 3] {
        sim.put("k", n.to_string());
    }
    sim.advance(Duration::from_secs(60));
    sim.put("k", "10");
    let trace = sim.run().await;
    let event = |i: &TraceInvocation| serde_json::from_str::<Value>(&i.payload).unwrap();
    let last_of_first_window = trace
        .invocations
        .iter()
        .find(|i| event(i)["isFinalInvokeForWindow"] == true)
        .expect("the first window closed with a final invocation");
    let Outcome::Success(body) = &last_of_first_window.outcome else {
        panic!("the final invocation succeeded");
    };
    let response: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(
        window_state(&response),
        Some(json!({"total": "6"})),
        "the window's final state is the sum of its records"
    );
    let second = trace.invocations.last().unwrap();
    assert_eq!(second.texts(), ["10"]);
    assert_eq!(
        event(second)["state"],
        json!({}),
        "the next window starts fresh"
    );
}

#[tokio::test]
async fn bisected_halves_of_a_windowed_batch_reach_a_time_window_handler_with_their_state() {
    let mut sim = KinesisSimulation::windowed(
        service_fn(running_total),
        json!({
            "TumblingWindowInSeconds": 60,
            "BisectBatchOnFunctionError": true,
            "MaximumRetryAttempts": 0,
        }),
    );
    for data in ["1", "2", "bad", "3"] {
        sim.put("k", data);
    }
    sim.advance(Duration::from_secs(60));
    sim.put("k", "10");
    let trace = sim.run().await;
    let texts: Vec<Vec<String>> = trace.invocations.iter().map(|i| i.texts()).collect();
    assert_eq!(
        texts[..5],
        [
            vec!["1", "2", "bad", "3"],
            vec!["1", "2"],
            vec!["bad", "3"],
            vec!["bad"],
            vec!["3"]
        ]
    );
    for invocation in &trace.invocations {
        serde_json::from_str::<KinesisTimeWindowEvent>(&invocation.payload)
            .expect("every piece is a KinesisTimeWindowEvent");
    }
    let event = |i: &TraceInvocation| serde_json::from_str::<Value>(&i.payload).unwrap();
    let last_half = &trace.invocations[4];
    assert_eq!(event(last_half)["state"], json!({"total": "3"}));
    let closing = trace
        .invocations
        .iter()
        .find(|i| event(i)["isFinalInvokeForWindow"] == true)
        .expect("the window closed with a final invocation");
    assert_eq!(
        event(closing)["state"],
        json!({"total": "6"}),
        "the halves' sums reach the final state; the poison record was dropped"
    );
}

async fn fail_bad_sqs(event: LambdaEvent<SqsEvent>) -> Result<(), Error> {
    if event
        .payload
        .records
        .iter()
        .any(|m| m.body.as_deref() == Some("bad"))
    {
        return Err("bad message".into());
    }
    Ok(())
}

#[tokio::test]
async fn queue_simulations_show_visibility_timeouts_and_the_dead_letter_queue() {
    let mut sim = SqsSimulation::new(service_fn(fail_bad_sqs), json!({"BatchSize": 1}))
        .visibility_timeout(Duration::from_secs(60))
        .redrive(3);
    sim.send("good");
    sim.send("bad");
    let trace = sim.run().await;
    assert!(trace.finished);
    assert_eq!(trace.dead_letters, ["bad"]);
    let bad: Vec<u64> = trace
        .invocations
        .iter()
        .filter(|i| i.texts() == ["bad"])
        .map(|i| i.at_ms)
        .collect();
    assert_eq!(bad.len(), 3, "maxReceiveCount 3");
    assert!(
        bad.windows(2).all(|w| w[1] - w[0] >= 60_000),
        "each retry waits out the visibility timeout: {bad:?}"
    );
    trace.assert_nothing_lost();
}
