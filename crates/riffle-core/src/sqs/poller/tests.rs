//! Scenario tests of the SQS poller's decisions on virtual time.

use super::*;
use crate::invocation::{MAX_PAYLOAD_BYTES, Outcome};
use crate::sqs::config::{RawScalingConfig, RawSqsMapping, SqsFacts, SqsMappingConfig};
use crate::sqs::event::QueueMessage;
use crate::time::Millis;

const T0: Millis = 1_700_000_000_000;
const FACTS: SqsFacts = SqsFacts {
    fifo: false,
    visibility_timeout_seconds: 30,
    function_timeout_seconds: 3,
};

fn config(batch_size: i64, window: i64, report: bool) -> SqsMappingConfig {
    RawSqsMapping {
        event_source_arn: Some("arn:aws:sqs:us-east-1:000000000000:jobs".into()),
        function_name: Some("f".into()),
        batch_size: Some(batch_size),
        maximum_batching_window_in_seconds: Some(window),
        function_response_types: report.then(|| vec!["ReportBatchItemFailures".into()]),
        ..RawSqsMapping::default()
    }
    .validate(FACTS)
    .unwrap()
}

fn settings(batch_size: i64, window: i64, report: bool) -> PollerSettings {
    PollerSettings::new(&config(batch_size, window, report), "us-east-1", FACTS).unwrap()
}

fn message(n: usize, body: &str) -> QueueMessage {
    QueueMessage {
        message_id: format!("m-{n}"),
        receipt_handle: format!("r-{n}"),
        body: body.into(),
        md5_of_body: String::new(),
        attributes: Vec::new(),
        message_attributes: Vec::new(),
        md5_of_message_attributes: None,
    }
}

fn messages(range: std::ops::Range<usize>) -> Vec<QueueMessage> {
    range.map(|n| message(n, "{}")).collect()
}

fn ids(messages: &[QueueMessage]) -> Vec<&str> {
    messages.iter().map(|m| m.message_id.as_str()).collect()
}

#[test]
fn an_idle_poller_long_polls_for_twenty_seconds() {
    let settings = settings(10, 0, false);
    let gatherer = Gatherer::new();
    assert_eq!(
        gatherer.step(&settings, T0),
        Step::Receive {
            max_messages: 10,
            wait_seconds: 20
        }
    );
}

#[test]
fn without_a_window_a_batch_is_what_one_receive_returned() {
    let settings = settings(10, 0, false);
    let mut gatherer = Gatherer::new();
    gatherer.received(&settings, messages(0..3), T0);
    assert_eq!(gatherer.step(&settings, T0), Step::Invoke);
    let batch = gatherer.take(&settings, T0);
    assert_eq!(ids(&batch.messages), ["m-0", "m-1", "m-2"]);
    assert_eq!(batch.hidden_until, T0 + 30_000);
    let event: serde_json::Value = serde_json::from_str(&batch.payload).unwrap();
    assert_eq!(event["Records"].as_array().unwrap().len(), 3);
    assert_eq!(event["Records"][1]["receiptHandle"], "r-1");
}

#[test]
fn the_batching_window_starts_at_the_first_message_and_waits_for_the_rest() {
    let settings = settings(100, 5, false);
    let mut gatherer = Gatherer::new();
    gatherer.received(&settings, messages(0..10), T0);
    // 90 more wanted, at most 10 a receive, waiting out the 5 s window.
    assert_eq!(
        gatherer.step(&settings, T0 + 1_500),
        Step::Receive {
            max_messages: 10,
            wait_seconds: 4
        }
    );
    gatherer.received(&settings, messages(10..15), T0 + 2_000);
    assert_eq!(
        gatherer.step(&settings, T0 + 4_999),
        Step::Receive {
            max_messages: 10,
            wait_seconds: 1
        }
    );
    assert_eq!(gatherer.step(&settings, T0 + 5_000), Step::Invoke);
    let batch = gatherer.take(&settings, T0 + 5_000);
    assert_eq!(batch.messages.len(), 15);
    // The first message's visibility timeout governs the batch.
    assert_eq!(batch.hidden_until, T0 + settings.visibility_timeout_ms);
}

#[test]
fn a_full_batch_is_invoked_before_its_window_ends() {
    let settings = settings(20, 60, false);
    let mut gatherer = Gatherer::new();
    gatherer.received(&settings, messages(0..10), T0);
    assert_eq!(
        gatherer.step(&settings, T0),
        Step::Receive {
            max_messages: 10,
            wait_seconds: 20
        }
    );
    gatherer.received(&settings, messages(10..20), T0 + 10);
    assert_eq!(gatherer.step(&settings, T0 + 10), Step::Invoke);
}

#[test]
fn a_batch_is_cut_at_six_mb_and_the_rest_starts_the_next_batch() {
    let settings = settings(10, 1, false);
    let big = "x".repeat(1_100_000);
    let mut gatherer = Gatherer::new();
    gatherer.received(&settings, (0..7).map(|n| message(n, &big)).collect(), T0);
    assert_eq!(
        gatherer.step(&settings, T0),
        Step::Invoke,
        "over 6 MB: no waiting"
    );
    let batch = gatherer.take(&settings, T0);
    assert_eq!(batch.messages.len(), 5);
    assert!(batch.payload.len() <= MAX_PAYLOAD_BYTES);
    assert_eq!(gatherer.held(), 2);
    // The rest wait for their own window, which starts now.
    assert_eq!(
        gatherer.step(&settings, T0 + 10),
        Step::Receive {
            max_messages: 8,
            wait_seconds: 1
        }
    );
    let next = gatherer.take(&settings, T0 + 1_000);
    assert_eq!(ids(&next.messages), ["m-5", "m-6"]);
}

#[test]
fn filtered_out_messages_are_handed_back_for_deletion() {
    let mut config = config(10, 0, false);
    config.filter_patterns = vec![serde_json::json!({"body": {"kind": ["order"]}})];
    let settings = PollerSettings::new(&config, "us-east-1", FACTS).unwrap();
    let mut gatherer = Gatherer::new();
    let dropped = gatherer.received(
        &settings,
        vec![
            message(0, r#"{"kind":"order"}"#),
            message(1, r#"{"kind":"refund"}"#),
            message(2, "plain"),
        ],
        T0,
    );
    assert_eq!(ids(&dropped), ["m-1", "m-2"]);
    assert_eq!(ids(&gatherer.take(&settings, T0).messages), ["m-0"]);
}

#[test]
fn a_window_longer_than_the_visibility_timeout_extends_it() {
    // 30 s queue, 3 s function: a 40 s window makes it 40 + 3 + 30 s.
    let long = PollerSettings::new(&config(100, 40, false), "us-east-1", FACTS).unwrap();
    assert_eq!(long.receive_visibility_timeout_seconds, Some(73));
    assert_eq!(long.visibility_timeout_ms, 73_000);
    let short = settings(100, 5, false);
    assert_eq!(short.receive_visibility_timeout_seconds, None);
    assert_eq!(short.visibility_timeout_ms, 30_000);
}

fn batch_of(settings: &PollerSettings, n: usize) -> QueueBatch {
    let mut gatherer = Gatherer::new();
    gatherer.received(settings, messages(0..n), T0);
    gatherer.take(settings, T0)
}

fn success(body: &str) -> Outcome {
    Outcome::Success(body.as_bytes().to_vec())
}

#[test]
fn success_deletes_the_batch_and_a_function_error_deletes_nothing() {
    let settings = settings(10, 0, false);
    let mut batch = batch_of(&settings, 3);
    let Settlement::Done {
        delete,
        returned,
        settled,
    } = settle(&settings, &mut batch, &success("null"), T0)
    else {
        panic!("settled")
    };
    assert_eq!(
        (ids(&delete).len(), returned.len(), settled),
        (3, 0, Settled::Success)
    );
    let mut batch = batch_of(&settings, 3);
    let error = Outcome::function_error("Sandbox.Timedout", "");
    let Settlement::Done {
        delete,
        returned,
        settled,
    } = settle(&settings, &mut batch, &error, T0)
    else {
        panic!("settled")
    };
    assert!(delete.is_empty());
    assert_eq!(returned.len(), 3);
    assert_eq!(settled, Settled::FunctionError("Sandbox.Timedout".into()));
}

#[test]
fn reported_failures_return_only_those_messages() {
    let settings = settings(10, 0, true);
    let mut batch = batch_of(&settings, 4);
    let body = r#"{"batchItemFailures":[{"itemIdentifier":"m-2"},{"itemIdentifier":"m-0"}]}"#;
    let Settlement::Done {
        delete,
        returned,
        settled,
    } = settle(&settings, &mut batch, &success(body), T0)
    else {
        panic!("settled")
    };
    assert_eq!(ids(&delete), ["m-1", "m-3"]);
    assert_eq!(ids(&returned), ["m-0", "m-2"]);
    assert_eq!(
        settled,
        Settled::PartialFailure(vec!["m-2".into(), "m-0".into()])
    );
}

#[test]
fn an_unknown_id_fails_the_whole_batch_but_is_ignored_without_report_batch_item_failures() {
    let body = r#"{"batchItemFailures":[{"itemIdentifier":"not-in-batch"}]}"#;
    let reporting = settings(10, 0, true);
    let mut batch = batch_of(&reporting, 2);
    let Settlement::Done {
        delete, settled, ..
    } = settle(&reporting, &mut batch, &success(body), T0)
    else {
        panic!("settled")
    };
    assert!(delete.is_empty());
    assert!(matches!(settled, Settled::InvalidResponse(_)));
    assert!(
        batch.messages.is_empty(),
        "a settled batch hands its messages over"
    );
    let plain = settings(10, 0, false);
    let mut batch = batch_of(&plain, 2);
    let Settlement::Done { delete, .. } = settle(&plain, &mut batch, &success(body), T0) else {
        panic!("settled")
    };
    assert_eq!(
        delete.len(),
        2,
        "without the response type the body is not read"
    );
}

#[test]
fn throttles_retry_the_same_batch_until_its_visibility_timeout_is_near() {
    let settings = settings(10, 0, false);
    let mut batch = batch_of(&settings, 2);
    let mut now = T0;
    let mut delays = Vec::new();
    loop {
        match settle(&settings, &mut batch, &Outcome::Throttled, now) {
            Settlement::RetryAt { at } => {
                delays.push(at - now);
                now = at;
            }
            Settlement::Done {
                delete,
                returned,
                settled,
            } => {
                assert!(delete.is_empty());
                assert_eq!(returned.len(), 2);
                assert_eq!(settled, Settled::GaveUp("throttled".into()));
                break;
            }
        }
    }
    assert_eq!(delays, [1000, 2000, 4000, 8000, 8000]);
    assert!(now + VISIBILITY_MARGIN_MS <= batch.hidden_until);
}

fn new_scaler(maximum_concurrency: Option<i64>) -> Scaler {
    let mut raw = RawSqsMapping {
        event_source_arn: Some("arn:aws:sqs:us-east-1:000000000000:jobs".into()),
        function_name: Some("f".into()),
        ..RawSqsMapping::default()
    };
    raw.scaling_config = maximum_concurrency.map(|c| RawScalingConfig {
        maximum_concurrency: Some(c),
    });
    let config = raw.validate(FACTS).unwrap();
    let settings = PollerSettings::new(&config, "us-east-1", FACTS).unwrap();
    Scaler::new(&settings, T0)
}

/// A scaler that has had full receives at the end of each of the first `seconds` seconds.
fn busy_scaler(maximum_concurrency: Option<i64>, seconds: u64) -> Scaler {
    let mut scaler = new_scaler(maximum_concurrency);
    for second in 1..=seconds {
        scaler.received(10, 10, T0 + second * 1000);
    }
    scaler
}

#[test]
fn pollers_start_at_five_and_grow_by_five_a_second_while_receives_come_back_full() {
    let mut scaler = new_scaler(None);
    assert_eq!(scaler.target(), 5);
    // Full receives within the first second do not grow it yet.
    assert!(!scaler.received(10, 10, T0 + 500));
    let mut now = T0;
    for _ in 0..60 {
        now += 1000;
        scaler.received(10, 10, now);
    }
    assert_eq!(scaler.target(), 5 + 300, "300 a minute");
    // Receives that find fewer messages than asked for hold it.
    assert!(!scaler.received(10, 3, now + 5000));
}

#[test]
fn pollers_never_exceed_maximum_concurrency() {
    let capped = busy_scaler(Some(12), 10);
    assert_eq!(capped.target(), 12);
}

#[test]
fn pollers_shrink_when_receives_come_back_empty_to_five_then_two_after_a_idle_minute() {
    let mut scaler = busy_scaler(None, 4);
    assert_eq!(scaler.target(), 25);
    let busy_until = T0 + 4000;
    for n in 0..30 {
        scaler.received(10, 0, busy_until + n);
    }
    assert_eq!(
        scaler.target(),
        5,
        "floor while messages flowed within the minute"
    );
    scaler.received(10, 0, busy_until + IDLE_AFTER_MS);
    assert_eq!(scaler.target(), 4);
    for n in 0..10 {
        scaler.received(10, 0, busy_until + IDLE_AFTER_MS + n);
    }
    assert_eq!(scaler.target(), 2);
    // A message brings it back to five at once.
    scaler.received(10, 1, busy_until + IDLE_AFTER_MS + 100);
    assert_eq!(scaler.target(), 5);
    // With MaximumConcurrency set, the floor stays at five.
    let mut capped = new_scaler(Some(50));
    capped.received(10, 0, T0 + 2 * IDLE_AFTER_MS);
    assert_eq!(capped.target(), 5);
}

#[test]
fn failures_halve_the_pollers_down_to_the_floor() {
    let mut scaler = busy_scaler(None, 7);
    assert_eq!(scaler.target(), 40);
    assert!(scaler.backed_off(T0 + 7_500));
    assert_eq!(scaler.target(), 20);
    scaler.backed_off(T0 + 7_600);
    scaler.backed_off(T0 + 7_700);
    assert_eq!(scaler.target(), 5);
}

mod machine;
mod scripts;
