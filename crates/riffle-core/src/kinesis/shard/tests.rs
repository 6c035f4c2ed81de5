//! Scenario tests on virtual time: one per behaviour, plus property tests of the invariants.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::*;
use crate::filter::Filters;
use crate::invocation::MAX_PAYLOAD_BYTES;
use crate::kinesis::event::{EventSource, kinesis_event, record_json};

mod format;
mod invariants;
mod scripts;
mod windows;

const T0: Millis = 1_700_000_000_000;

fn settings() -> ShardSettings {
    ShardSettings {
        batch_size: 100,
        batching_window_ms: 0,
        parallelization_factor: 1,
        bisect_on_function_error: false,
        maximum_retry_attempts: None,
        maximum_record_age_ms: 24 * 3_600_000,
        report_batch_item_failures: false,
        destination: Some(DestinationKind::Sqs),
        backoff: Backoff::default(),
        max_payload_bytes: MAX_PAYLOAD_BYTES,
        source: EventSource {
            stream_arn: "arn:aws:kinesis:us-east-1:000000000000:stream/s".into(),
            region: "us-east-1".into(),
            invoke_identity_arn: "arn:aws:iam::000000000000:role/r".into(),
            shard_id: "shardId-000000000000".into(),
        },
        function_arn: "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
        buffer_limit: 10_000,
        filters: Filters::default(),
        tumbling_window_ms: None,
    }
}

fn record(seq: u64, key: &str, arrival_ms: Millis) -> StreamRecord {
    StreamRecord {
        sequence_number: SequenceNumber::parse(&seq.to_string()).unwrap(),
        partition_key: key.to_owned(),
        data: bytes::Bytes::from(format!("r{seq}")),
        arrival_ms,
    }
}

/// One invocation as the scripted function saw it.
#[derive(Debug, Clone)]
struct Call {
    at: Millis,
    lane: usize,
    seqs: Vec<u64>,
    payload: serde_json::Value,
    /// The payload's length as sent.
    bytes: usize,
}

/// Drives a shard machine on virtual time against a scripted function and destination.
struct Sim {
    shard: Shard,
    now: Millis,
    calls: Vec<Call>,
    delivered: Vec<FailureRecord>,
    checkpoints: Vec<u64>,
    journal: Vec<Decision>,
    queue: VecDeque<Effect>,
    /// Invocations (with their outcomes) and discards, in the order they happened.
    events: Vec<SimEvent>,
}

#[derive(Debug, Clone)]
enum SimEvent {
    Call(Call, Outcome),
    Discard { lane: usize, start: u64, end: u64 },
}

fn seqs_of(payload: &str) -> Vec<u64> {
    let event: serde_json::Value = serde_json::from_str(payload).unwrap();
    event["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["kinesis"]["sequenceNumber"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect()
}

impl Sim {
    fn new(settings: ShardSettings) -> Self {
        Self {
            shard: Shard::new(settings, None, T0),
            now: T0,
            calls: Vec::new(),
            delivered: Vec::new(),
            checkpoints: Vec::new(),
            journal: Vec::new(),
            queue: VecDeque::new(),
            events: Vec::new(),
        }
    }

    fn put(&mut self, records: Vec<StreamRecord>) {
        let effects = self.shard.records_polled(records, self.now);
        self.queue.extend(effects);
    }

    /// Runs until nothing is left to do, answering invocations with `function` and deliveries
    /// with `destination`. Each invocation takes `duration` ms of virtual time.
    fn run(
        &mut self,
        mut function: impl FnMut(&Call) -> Outcome,
        mut destination: impl FnMut(&FailureRecord) -> bool,
    ) {
        for _ in 0..100_000 {
            if let Some(effect) = self.queue.pop_front() {
                match effect {
                    Effect::Invoke {
                        lane,
                        batch,
                        payload,
                        ..
                    } => {
                        let call = Call {
                            at: self.now,
                            lane,
                            seqs: seqs_of(&payload),
                            bytes: payload.len(),
                            payload: serde_json::from_str(&payload).unwrap(),
                        };
                        let outcome = function(&call);
                        self.events
                            .push(SimEvent::Call(call.clone(), outcome.clone()));
                        self.calls.push(call);
                        let invocation = Invocation {
                            request_id: format!("req-{batch}"),
                            outcome,
                        };
                        let effects = self
                            .shard
                            .invocation_finished(lane, batch, invocation, self.now);
                        self.queue.extend(effects);
                    }
                    Effect::Deliver {
                        lane,
                        delivery,
                        record,
                    } => {
                        let ok = destination(&record);
                        if ok {
                            self.events.push(SimEvent::Discard {
                                lane,
                                start: record.start_sequence_number.parse().unwrap(),
                                end: record.end_sequence_number.parse().unwrap(),
                            });
                            self.delivered.push(record);
                        }
                        let effects = self.shard.delivery_finished(lane, delivery, ok, self.now);
                        self.queue.extend(effects);
                    }
                    Effect::Checkpoint(seq) => self.checkpoints.push(seq.as_str().parse().unwrap()),
                    Effect::Journal(entry) => {
                        if let Decision::Discarded {
                            lane,
                            range,
                            delivered: false,
                            ..
                        } = &entry
                        {
                            self.events.push(SimEvent::Discard {
                                lane: *lane,
                                start: range.0.as_str().parse().unwrap(),
                                end: range.1.as_str().parse().unwrap(),
                            });
                        }
                        self.journal.push(entry);
                    }
                }
                continue;
            }
            let Some(wake) = self.shard.next_wake() else {
                return;
            };
            self.now = self.now.max(wake);
            let effects = self.shard.tick(self.now);
            self.queue.extend(effects);
        }
        panic!("the simulation did not settle");
    }

    fn invoked(&self) -> Vec<Vec<u64>> {
        self.calls.iter().map(|c| c.seqs.clone()).collect()
    }
}

fn ok(_: &Call) -> Outcome {
    Outcome::Success(Vec::new())
}

fn error() -> Outcome {
    Outcome::function_error("Error", "")
}

fn accept(_: &FailureRecord) -> bool {
    true
}

fn puts(n: u64) -> Vec<StreamRecord> {
    (1..=n).map(|s| record(s, "k", T0)).collect()
}

/// A machine with `settings` that has records 1..=n (key "k", arrived at T0) to process.
fn sim_with(settings: ShardSettings, n: u64) -> Sim {
    let mut sim = Sim::new(settings);
    sim.put(puts(n));
    sim
}

/// A function that answers `outcome` to every invocation carrying record `seq`, and succeeds
/// otherwise.
fn failing_on(seq: u64, outcome: Outcome) -> impl FnMut(&Call) -> Outcome {
    move |call| {
        if call.seqs.contains(&seq) {
            outcome.clone()
        } else {
            Outcome::Success(Vec::new())
        }
    }
}

/// A function that answers `outcome` to its first `times` invocations, and succeeds after.
fn failing_first(times: usize, outcome: Outcome) -> impl FnMut(&Call) -> Outcome {
    let mut left = times;
    move |_| {
        if left > 0 {
            left -= 1;
            outcome.clone()
        } else {
            Outcome::Success(Vec::new())
        }
    }
}

/// A destination that refuses its first `times` deliveries, and accepts after.
fn refusing_first(times: usize) -> impl FnMut(&FailureRecord) -> bool {
    let mut left = times;
    move |_| {
        if left > 0 {
            left -= 1;
            false
        } else {
            true
        }
    }
}

/// The sequence numbers a failure record names, first and last.
fn range_of(record: &FailureRecord) -> (&str, &str) {
    (
        record.start_sequence_number.as_str(),
        record.end_sequence_number.as_str(),
    )
}

/// Filters keeping the records whose JSON data has `"keep": true`.
fn keep_filter() -> Filters {
    let pattern: serde_json::Value = serde_json::from_str(r#"{"data":{"keep":[true]}}"#).unwrap();
    Filters::compile(&[pattern]).unwrap()
}

#[test]
fn batching_cuts_at_batch_size() {
    let mut sim = sim_with(
        ShardSettings {
            batch_size: 3,
            ..settings()
        },
        7,
    );
    sim.run(ok, accept);
    assert_eq!(sim.invoked(), [vec![1, 2, 3], vec![4, 5, 6], vec![7]]);
    assert_eq!(sim.checkpoints.last(), Some(&7));
}

#[test]
fn batching_window_starts_when_the_previous_invocation_finished() {
    let mut sim = sim_with(
        ShardSettings {
            batching_window_ms: 5_000,
            ..settings()
        },
        2,
    );
    sim.run(ok, accept);
    assert_eq!(
        sim.calls[0].at,
        T0 + 5_000,
        "the first window starts with the mapping"
    );
    sim.put(vec![record(3, "k", sim.now)]);
    sim.now += 1_000;
    sim.put(vec![record(4, "k", sim.now)]);
    sim.run(ok, accept);
    assert_eq!(sim.calls[1].seqs, [3, 4]);
    assert_eq!(
        sim.calls[1].at,
        T0 + 10_000,
        "five seconds after the previous invocation ended"
    );
}

#[test]
fn a_full_batch_does_not_wait_for_the_window() {
    let mut sim = sim_with(
        ShardSettings {
            batching_window_ms: 300_000,
            batch_size: 2,
            ..settings()
        },
        2,
    );
    sim.run(ok, accept);
    assert_eq!(sim.calls[0].at, T0);
}

#[test]
fn batches_are_cut_at_the_payload_limit() {
    let one = record_json(&settings().source, &record(1, "k", T0)).len() + 1;
    let limit = ENVELOPE_BYTES + 2 * one + one / 2;
    let mut sim = sim_with(
        ShardSettings {
            max_payload_bytes: limit,
            ..settings()
        },
        5,
    );
    sim.run(ok, accept);
    assert_eq!(sim.invoked(), [vec![1, 2], vec![3, 4], vec![5]]);
    for call in &sim.calls {
        let payload = kinesis_event(
            &settings().source,
            call.seqs
                .iter()
                .map(|s| record(*s, "k", T0))
                .collect::<Vec<_>>()
                .iter(),
        );
        assert!(payload.len() <= limit);
    }
}

#[test]
fn function_errors_retry_the_whole_batch_with_back_off_until_success() {
    let mut sim = sim_with(settings(), 3);
    sim.run(failing_first(3, error()), accept);
    assert_eq!(sim.invoked(), vec![vec![1, 2, 3]; 4]);
    let times: Vec<Millis> = sim.calls.iter().map(|c| c.at - T0).collect();
    assert_eq!(times, [0, 500, 1_500, 3_500], "0.5 s, 1 s, 2 s back-off");
    assert_eq!(sim.checkpoints, [3]);
    assert!(sim.delivered.is_empty());
}

#[test]
fn maximum_retry_attempts_n_means_n_plus_one_invocations() {
    for n in [0u32, 1, 2, 3] {
        let mut sim = sim_with(
            ShardSettings {
                maximum_retry_attempts: Some(n),
                ..settings()
            },
            2,
        );
        sim.run(|_| error(), accept);
        assert_eq!(sim.calls.len() as u32, n + 1);
        let record = &sim.delivered[0];
        assert_eq!(record.condition, FailureCondition::RetryAttemptsExhausted);
        assert_eq!(record.approximate_invoke_count, n + 1);
        assert_eq!(record.batch_size, 2);
        assert_eq!(range_of(record), ("1", "2"));
        assert_eq!(
            record.response.as_ref().unwrap().function_error.as_deref(),
            Some("Unhandled")
        );
        assert_eq!(
            sim.checkpoints,
            [2],
            "checkpointed past the batch after delivery"
        );
    }
}

#[test]
fn s3_destinations_get_the_discarded_records_as_the_function_saw_them() {
    // A bisected batch: the record sent to S3 carries exactly the discarded half's event.
    let mut sim = sim_with(
        ShardSettings {
            maximum_retry_attempts: Some(0),
            bisect_on_function_error: true,
            destination: Some(DestinationKind::S3),
            ..settings()
        },
        4,
    );
    sim.run(failing_on(3, error()), accept);
    let last_call = sim.calls.iter().rfind(|c| c.seqs == [3]).unwrap();
    let record = sim
        .delivered
        .iter()
        .find(|r| range_of(r) == ("3", "3"))
        .unwrap();
    let payload: serde_json::Value =
        serde_json::from_str(record.payload.as_ref().unwrap()).unwrap();
    assert_eq!(
        payload, last_call.payload,
        "the payload is the event as invoked"
    );
    let json: serde_json::Value = serde_json::from_str(&record.to_json()).unwrap();
    assert_eq!(json["payload"], last_call.payload);

    // Queues get the metadata only.
    let mut sim = sim_with(
        ShardSettings {
            maximum_retry_attempts: Some(0),
            ..settings()
        },
        2,
    );
    sim.run(|_| error(), accept);
    assert_eq!(sim.delivered[0].payload, None);
    assert!(!sim.delivered[0].to_json().contains("payload"));
}

#[test]
fn infinite_retries_end_when_records_exceed_their_maximum_age() {
    // AWS recorded 8 invocations before RecordAgeExceeded with retries -1 and age 60 s.
    let mut sim = sim_with(
        ShardSettings {
            maximum_record_age_ms: 60_000,
            ..settings()
        },
        1,
    );
    sim.run(|_| error(), accept);
    assert_eq!(sim.calls.len(), 8);
    let record = &sim.delivered[0];
    assert_eq!(record.condition, FailureCondition::RecordAgeExceeded);
    assert_eq!(
        record.response, None,
        "RecordAgeExceeded carries no responseContext"
    );
    assert_eq!(record.approximate_invoke_count, 8);
}

#[test]
fn expired_records_are_split_off_before_invoking_and_fresh_ones_delivered() {
    let mut sim = Sim::new(ShardSettings {
        maximum_record_age_ms: 60_000,
        ..settings()
    });
    sim.now = T0 + 61_000;
    let mut records = vec![record(1, "k", T0)];
    records.extend((2..=6).map(|s| record(s, "k", T0 + 30_000)));
    sim.put(records);
    sim.run(ok, accept);
    assert_eq!(sim.invoked(), [vec![2, 3, 4, 5, 6]]);
    let record = &sim.delivered[0];
    assert_eq!(record.condition, FailureCondition::RecordAgeExceeded);
    assert_eq!(record.batch_size, 1);
    assert_eq!(
        record.approximate_invoke_count, 1,
        "as AWS reports for records never invoked"
    );
    assert_eq!(sim.checkpoints.last(), Some(&6));
}

/// Runs `records` records through a mapping that bisects on function errors and retries
/// `retries` times, whose function fails every invocation carrying record `poison`.
fn bisecting_past_a_failure(retries: u32, records: u64, poison: u64) -> Sim {
    let mut sim = sim_with(
        ShardSettings {
            bisect_on_function_error: true,
            maximum_retry_attempts: Some(retries),
            ..settings()
        },
        records,
    );
    sim.run(failing_on(poison, error()), accept);
    sim
}

#[test]
fn bisect_isolates_a_poison_record_while_its_neighbours_succeed() {
    let sim = bisecting_past_a_failure(0, 4, 3);
    assert_eq!(
        sim.invoked(),
        [vec![1, 2, 3, 4], vec![1, 2], vec![3, 4], vec![3], vec![4]]
    );
    assert_eq!(sim.delivered.len(), 1);
    assert_eq!(sim.delivered[0].start_sequence_number, "3");
    assert_eq!(sim.delivered[0].batch_size, 1);
    assert_eq!(sim.checkpoints.last(), Some(&4));
}

#[test]
fn bisect_gives_the_left_half_the_extra_record_and_does_not_use_retries() {
    let sim = bisecting_past_a_failure(1, 5, 5);
    assert_eq!(
        sim.invoked(),
        [
            vec![1, 2, 3, 4, 5],
            vec![1, 2, 3],
            vec![4, 5],
            vec![4],
            vec![5],
            vec![5]
        ]
    );
    assert_eq!(
        sim.delivered[0].approximate_invoke_count, 2,
        "the single record: 1 + 1 retry"
    );
}

fn report(seqs: &[u64]) -> Outcome {
    let items: Vec<String> = seqs
        .iter()
        .map(|s| format!("{{\"itemIdentifier\":\"{s}\"}}"))
        .collect();
    Outcome::Success(format!("{{\"batchItemFailures\":[{}]}}", items.join(",")).into_bytes())
}

#[test]
fn partial_failures_checkpoint_before_the_lowest_failure_and_count_as_attempts() {
    // The AWS-recorded flow: 6 records, BatchSize 3, record 6 always fails, 3 retries.
    let mut sim = sim_with(
        ShardSettings {
            batch_size: 3,
            report_batch_item_failures: true,
            maximum_retry_attempts: Some(3),
            ..settings()
        },
        6,
    );
    sim.run(failing_on(6, report(&[6])), accept);
    assert_eq!(
        sim.invoked(),
        [vec![1, 2, 3], vec![4, 5, 6], vec![6], vec![6], vec![6]]
    );
    let record = &sim.delivered[0];
    assert_eq!(record.batch_size, 1);
    assert_eq!(range_of(record), ("6", "6"));
    assert_eq!(
        record.approximate_invoke_count, 4,
        "the first, larger invocation counts"
    );
    let response = record.response.as_ref().unwrap();
    assert_eq!(
        (response.status_code, response.function_error.clone()),
        (200, None)
    );
    assert_eq!(sim.checkpoints, [3, 5, 6]);
}

#[test]
fn the_lowest_of_several_reported_items_is_where_retries_resume() {
    let mut sim = sim_with(
        ShardSettings {
            report_batch_item_failures: true,
            ..settings()
        },
        5,
    );
    sim.run(failing_first(1, report(&[4, 2])), accept);
    assert_eq!(sim.invoked(), [vec![1, 2, 3, 4, 5], vec![2, 3, 4, 5]]);
    assert_eq!(sim.checkpoints, [1, 5]);
}

#[test]
fn an_unknown_item_identifier_fails_the_whole_batch() {
    let mut sim = sim_with(
        ShardSettings {
            report_batch_item_failures: true,
            maximum_retry_attempts: Some(2),
            ..settings()
        },
        3,
    );
    sim.run(
        |_| Outcome::Success(br#"{"batchItemFailures":[{"itemIdentifier":"123"}]}"#.to_vec()),
        accept,
    );
    assert_eq!(sim.invoked(), vec![vec![1, 2, 3]; 3]);
    assert_eq!(
        sim.delivered[0].response.as_ref().unwrap().function_error,
        None
    );
}

#[test]
fn responses_are_ignored_without_report_batch_item_failures() {
    let mut sim = sim_with(settings(), 2);
    sim.run(|_| report(&[1]), accept);
    assert_eq!(sim.calls.len(), 1);
}

#[test]
fn throttles_do_not_count_against_maximum_retry_attempts() {
    let mut sim = sim_with(
        ShardSettings {
            maximum_retry_attempts: Some(0),
            ..settings()
        },
        1,
    );
    sim.run(failing_first(5, Outcome::Throttled), accept);
    assert_eq!(sim.calls.len(), 6);
    assert!(sim.delivered.is_empty());
    assert_eq!(sim.checkpoints, [1]);
}

#[test]
fn the_checkpoint_moves_past_a_discarded_batch_only_after_the_destination_acknowledges() {
    let mut sim = sim_with(
        ShardSettings {
            maximum_retry_attempts: Some(0),
            ..settings()
        },
        2,
    );
    sim.run(failing_on(1, error()), refusing_first(2));
    assert_eq!(sim.delivered.len(), 1);
    let failures = sim
        .journal
        .iter()
        .filter(|e| matches!(e, Decision::DeliveryFailed { .. }))
        .count();
    assert_eq!(failures, 2);
    assert_eq!(
        sim.checkpoints,
        [2],
        "no checkpoint before the acknowledgement"
    );
}

#[test]
fn without_a_destination_discarded_records_are_journaled_as_dropped() {
    let mut sim = sim_with(
        ShardSettings {
            maximum_retry_attempts: Some(0),
            destination: None,
            ..settings()
        },
        2,
    );
    sim.run(|_| error(), accept);
    assert!(sim.delivered.is_empty());
    assert!(sim.journal.iter().any(|e| matches!(
        e,
        Decision::Discarded {
            delivered: false,
            records: 2,
            ..
        }
    )));
    assert_eq!(sim.checkpoints, [2]);
}

#[test]
fn a_failing_lane_blocks_only_its_own_keys_and_holds_the_shard_checkpoint() {
    let lanes = 4;
    let keys: Vec<String> = (0..200).map(|i| format!("key-{i}")).collect();
    let poison = keys
        .iter()
        .find(|k| lane_of(k, lanes) == 0)
        .unwrap()
        .clone();
    let other = keys
        .iter()
        .find(|k| lane_of(k, lanes) == 1)
        .unwrap()
        .clone();
    let mut sim = Sim::new(ShardSettings {
        parallelization_factor: lanes,
        maximum_retry_attempts: Some(2),
        ..settings()
    });
    sim.put(vec![
        record(1, &poison, T0),
        record(2, &other, T0),
        record(3, &poison, T0),
        record(4, &other, T0),
    ]);
    sim.run(
        |call| {
            if call.lane == 0 && call.seqs.contains(&1) {
                error()
            } else {
                Outcome::Success(Vec::new())
            }
        },
        accept,
    );
    let other_lane: Vec<&Call> = sim.calls.iter().filter(|c| c.lane == 1).collect();
    assert_eq!(other_lane[0].seqs, [2, 4]);
    assert_eq!(other_lane[0].at, T0, "the other lane is not blocked");
    let poison_lane: Vec<Vec<u64>> = sim
        .calls
        .iter()
        .filter(|c| c.lane == 0)
        .map(|c| c.seqs.clone())
        .collect();
    assert_eq!(poison_lane, vec![vec![1, 3]; 3]);
    assert_eq!(sim.checkpoints, [4], "held at 0 until lane 0 was done");
}

#[test]
fn a_resumed_shard_reports_its_checkpoint() {
    let shard = Shard::new(settings(), SequenceNumber::parse("41"), T0);
    assert_eq!(shard.checkpoint().map(SequenceNumber::as_str), Some("41"));
}

#[test]
fn polling_pauses_when_the_buffer_is_full_and_the_shard_finishes_after_its_end() {
    let mut sim = sim_with(
        ShardSettings {
            buffer_limit: 5,
            batch_size: 2,
            batching_window_ms: 1_000,
            ..settings()
        },
        5,
    );
    assert!(!sim.shard.wants_records());
    sim.run(ok, accept);
    assert!(sim.shard.wants_records());
    let effects = sim.shard.shard_ended(sim.now);
    assert!(effects.is_empty());
    assert!(sim.shard.is_finished());
}

#[test]
fn filtered_out_records_are_skipped_and_checkpointed() {
    let mut sim = Sim::new(ShardSettings {
        filters: keep_filter(),
        ..settings()
    });
    let data = |seq: u64, keep: bool| StreamRecord {
        data: bytes::Bytes::from(format!("{{\"keep\":{keep}}}")),
        ..record(seq, "k", T0)
    };
    sim.put(vec![data(1, false), data(2, true), data(3, false)]);
    sim.run(ok, accept);
    assert_eq!(sim.invoked(), [vec![2]]);
    assert_eq!(
        sim.checkpoints.last(),
        Some(&3),
        "filtered records are checkpointed past"
    );
    assert!(sim.journal.contains(&Decision::Filtered { records: 2 }));
}

#[test]
fn a_poll_that_is_entirely_filtered_invokes_nothing() {
    let mut sim = sim_with(
        ShardSettings {
            filters: keep_filter(),
            ..settings()
        },
        3,
    );
    sim.run(ok, accept);
    assert!(sim.calls.is_empty());
    assert_eq!(sim.checkpoints, [3]);
}
