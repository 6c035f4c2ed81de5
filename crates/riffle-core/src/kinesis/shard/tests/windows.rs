//! Tumbling windows: state, final invocations, early termination, bisect and the payload
//! limit.

use super::*;
use crate::kinesis::event::window_fields_len;

/// A window-aligned start time: 1,700,000,040,000 ms is a multiple of 60 s.
const W0: Millis = 1_700_000_040_000;

fn windowed() -> ShardSettings {
    ShardSettings {
        tumbling_window_ms: Some(60_000),
        ..settings()
    }
}

/// A window handler: counts records into `state.count`.
fn count_into_state(call: &Call) -> Outcome {
    let before = call.payload["state"]["count"].as_u64().unwrap_or(0);
    let body = serde_json::json!({ "state": { "count": before + call.seqs.len() as u64 } });
    Outcome::Success(body.to_string().into_bytes())
}

#[test]
fn tumbling_windows_carry_state_and_close_with_a_final_invocation() {
    let mut sim = Sim::new(windowed());
    sim.now = W0 + 3_000;
    sim.put(vec![record(1, "k", W0 + 1_000), record(2, "k", W0 + 2_000)]);
    sim.run(count_into_state, accept);
    sim.now = W0 + 30_000;
    sim.put(vec![record(3, "k", W0 + 29_000)]);
    sim.run(count_into_state, accept);
    sim.now = W0 + 61_500;
    sim.put(vec![record(4, "k", W0 + 61_000)]);
    sim.run(count_into_state, accept);
    let payloads: Vec<&serde_json::Value> = sim.calls.iter().map(|c| &c.payload).collect();
    assert_eq!(sim.invoked(), [vec![1, 2], vec![3], vec![], vec![4]]);
    assert_eq!(payloads[0]["window"]["start"], "2023-11-14T22:14:00Z");
    assert_eq!(payloads[0]["window"]["end"], "2023-11-14T22:15:00Z");
    assert_eq!(payloads[0]["state"], serde_json::json!({}));
    assert_eq!(
        payloads[1]["state"]["count"], 2,
        "state carried to the next invocation"
    );
    assert_eq!(payloads[2]["isFinalInvokeForWindow"], true);
    assert_eq!(
        payloads[2]["state"]["count"], 3,
        "the final invocation gets the final state"
    );
    assert_eq!(payloads[2]["Records"], serde_json::json!([]));
    assert_eq!(
        payloads[3]["state"],
        serde_json::json!({}),
        "a new window starts fresh"
    );
    assert_eq!(payloads[3]["window"]["start"], "2023-11-14T22:15:00Z");
    assert_eq!(payloads[0]["shardId"], "shardId-000000000000");
    assert_eq!(payloads[0]["isWindowTerminatedEarly"], false);
    assert_eq!(sim.checkpoints.last(), Some(&4));
}

#[test]
fn a_window_closes_once_the_reader_caught_up_past_its_end() {
    let mut sim = Sim::new(windowed());
    sim.now = W0 + 1_000;
    sim.put(vec![record(1, "k", W0 + 500)]);
    sim.run(count_into_state, accept);
    sim.now = W0 + 59_000;
    sim.queue.extend(sim.shard.caught_up(sim.now, sim.now));
    sim.run(count_into_state, accept);
    assert_eq!(sim.calls.len(), 1, "not before the window's end");
    sim.now = W0 + 60_000;
    sim.queue.extend(sim.shard.caught_up(sim.now, sim.now));
    sim.run(count_into_state, accept);
    assert_eq!(sim.calls.len(), 2);
    assert_eq!(sim.calls[1].payload["isFinalInvokeForWindow"], true);
}

#[test]
fn a_window_stays_open_when_the_read_that_caught_up_started_before_its_end() {
    let mut sim = Sim::new(windowed());
    sim.now = W0 + 1_000;
    sim.put(vec![record(1, "k", W0 + 500)]);
    sim.run(count_into_state, accept);
    // A read started before the window's end reached the tip, but the machine learns of it
    // only after the end: records that arrived in between may not be read yet.
    sim.now = W0 + 61_000;
    sim.queue.extend(sim.shard.caught_up(W0 + 59_000, sim.now));
    sim.run(count_into_state, accept);
    assert_eq!(sim.calls.len(), 1, "the window is not final yet");
    sim.queue.extend(sim.shard.caught_up(W0 + 60_500, sim.now));
    sim.run(count_into_state, accept);
    assert_eq!(sim.calls.len(), 2);
    assert_eq!(sim.calls[1].payload["isFinalInvokeForWindow"], true);
}

#[test]
fn a_window_response_without_state_is_a_failure() {
    let mut sim = Sim::new(ShardSettings {
        maximum_retry_attempts: Some(1),
        ..windowed()
    });
    sim.now = W0 + 1_000;
    sim.put(vec![record(1, "k", W0 + 500)]);
    sim.run(|_| Outcome::Success(b"{}".to_vec()), accept);
    assert_eq!(sim.calls.len(), 2);
    assert_eq!(
        sim.delivered[0].condition,
        FailureCondition::RetryAttemptsExhausted
    );
}

#[test]
fn state_over_one_megabyte_ends_the_window_early_and_it_continues_fresh() {
    let mut sim = Sim::new(ShardSettings {
        batch_size: 1,
        ..windowed()
    });
    sim.now = W0 + 3_000;
    sim.put(vec![record(1, "k", W0 + 1_000), record(2, "k", W0 + 2_000)]);
    let big = "x".repeat(MAX_WINDOW_STATE_BYTES);
    sim.run(
        |call| {
            let state = if call.seqs == [1] {
                serde_json::json!({ "big": big })
            } else {
                serde_json::json!({ "n": 1 })
            };
            Outcome::Success(
                serde_json::json!({ "state": state })
                    .to_string()
                    .into_bytes(),
            )
        },
        accept,
    );
    let payloads: Vec<&serde_json::Value> = sim.calls.iter().map(|c| &c.payload).collect();
    assert_eq!(sim.invoked(), [vec![1], vec![], vec![2]]);
    assert_eq!(payloads[1]["isFinalInvokeForWindow"], true);
    assert_eq!(payloads[1]["isWindowTerminatedEarly"], true);
    assert!(
        payloads[1]["state"]["big"].is_string(),
        "the early final invocation carries the state"
    );
    assert_eq!(
        payloads[2]["state"],
        serde_json::json!({}),
        "the same window continues with fresh state"
    );
    assert_eq!(payloads[2]["window"], payloads[0]["window"]);
}

#[test]
fn batches_never_span_two_windows() {
    let mut sim = Sim::new(windowed());
    sim.now = W0 + 70_000;
    sim.put(vec![
        record(1, "k", W0 + 59_000),
        record(2, "k", W0 + 61_000),
    ]);
    sim.run(count_into_state, accept);
    assert_eq!(sim.invoked(), [vec![1], vec![], vec![2]]);
}

/// Every property a `KinesisTimeWindowEvent` handler reads, present and of its type.
fn assert_windowed(call: &Call) {
    let p = &call.payload;
    assert!(p["window"]["start"].is_string(), "window: {p}");
    assert!(p["window"]["end"].is_string(), "window: {p}");
    assert!(p["state"].is_object(), "state: {p}");
    assert_eq!(p["shardId"], "shardId-000000000000");
    assert_eq!(
        p["eventSourceARN"],
        "arn:aws:kinesis:us-east-1:000000000000:stream/s"
    );
    assert!(p["isFinalInvokeForWindow"].is_boolean(), "{p}");
    assert!(p["isWindowTerminatedEarly"].is_boolean(), "{p}");
}

#[test]
fn bisected_halves_of_a_windowed_batch_keep_the_window_and_its_state() {
    let mut sim = Sim::new(ShardSettings {
        bisect_on_function_error: true,
        maximum_retry_attempts: Some(0),
        ..windowed()
    });
    sim.now = W0 + 5_000;
    sim.put((1..=4).map(|s| record(s, "k", W0 + s * 1_000)).collect());
    sim.run(
        |call| {
            if call.seqs.contains(&3) {
                error()
            } else {
                count_into_state(call)
            }
        },
        accept,
    );
    assert_eq!(
        sim.invoked(),
        [vec![1, 2, 3, 4], vec![1, 2], vec![3, 4], vec![3], vec![4]]
    );
    for call in &sim.calls {
        assert_windowed(call);
        assert_eq!(call.payload["window"]["start"], "2023-11-14T22:14:00Z");
        assert_eq!(call.payload["isFinalInvokeForWindow"], false);
    }
    let states: Vec<&serde_json::Value> = sim.calls.iter().map(|c| &c.payload["state"]).collect();
    assert_eq!(
        states[1],
        &serde_json::json!({}),
        "the failed batch's state"
    );
    assert_eq!(
        states[2]["count"], 2,
        "the right half gets what the left returned"
    );
    assert_eq!(
        states[4]["count"], 2,
        "and so does the piece after the poison"
    );
    assert_eq!(
        sim.delivered.len(),
        1,
        "the poison record alone is discarded"
    );
    assert_eq!(sim.checkpoints.last(), Some(&4));
}

#[test]
fn only_the_last_half_of_a_final_window_batch_is_the_final_invocation() {
    let mut sim = Sim::new(ShardSettings {
        bisect_on_function_error: true,
        ..windowed()
    });
    // The reader caught up after the window's end: the batch of its last records is final.
    sim.now = W0 + 61_000;
    sim.queue.extend(sim.shard.caught_up(W0 + 60_500, sim.now));
    sim.put(vec![record(1, "k", W0 + 1_000), record(2, "k", W0 + 2_000)]);
    sim.run(
        |call| {
            if call.seqs.len() == 2 {
                error()
            } else {
                count_into_state(call)
            }
        },
        accept,
    );
    assert_eq!(sim.invoked(), [vec![1, 2], vec![1], vec![2]]);
    let finals: Vec<&serde_json::Value> = sim
        .calls
        .iter()
        .map(|c| &c.payload["isFinalInvokeForWindow"])
        .collect();
    assert_eq!(finals, [true, false, true]);
    sim.calls.iter().for_each(assert_windowed);
    assert_eq!(sim.calls[2].payload["state"]["count"], 1);
    assert_eq!(sim.checkpoints.last(), Some(&2));
}

#[test]
fn the_payload_limit_of_a_windowed_batch_counts_its_state() {
    let source = settings().source;
    let one = record_json(&source, &record(1, "k", W0 + 1_000)).len() + 1;
    let fields = window_fields_len(&source, W0, W0 + 60_000, 2);
    // Three records fit with the fresh state `{}`; a state of two records' size leaves room
    // for one.
    let limit = ENVELOPE_BYTES + fields + 3 * one + one / 2;
    let mut sim = Sim::new(ShardSettings {
        max_payload_bytes: limit,
        ..windowed()
    });
    let big_state = |_: &Call| {
        let pad = "x".repeat(2 * one - r#"{"pad":""}"#.len());
        let body = serde_json::json!({ "state": { "pad": pad } });
        Outcome::Success(body.to_string().into_bytes())
    };
    sim.now = W0 + 5_000;
    sim.put(vec![record(1, "k", W0 + 1_000)]);
    sim.run(big_state, accept);
    sim.put((2..=4).map(|s| record(s, "k", W0 + 1_000)).collect());
    sim.run(big_state, accept);
    assert_eq!(sim.invoked(), [vec![1], vec![2], vec![3], vec![4]]);
    for call in &sim.calls {
        assert!(call.bytes <= limit, "{} > {limit}", call.bytes);
    }
}

#[test]
fn a_bisected_half_is_cut_again_when_the_state_it_carries_has_grown() {
    let source = settings().source;
    let one = record_json(&source, &record(1, "k", W0 + 1_000)).len() + 1;
    let fields = window_fields_len(&source, W0, W0 + 60_000, 2);
    // Four records fit with the fresh state; with a state of three records' size, one does.
    let limit = ENVELOPE_BYTES + fields + 4 * one + one / 2;
    let mut sim = Sim::new(ShardSettings {
        max_payload_bytes: limit,
        bisect_on_function_error: true,
        ..windowed()
    });
    sim.now = W0 + 5_000;
    sim.put((1..=4).map(|s| record(s, "k", W0 + 1_000)).collect());
    sim.run(
        |call| {
            if call.seqs.len() == 4 {
                return error();
            }
            let pad = "x".repeat(3 * one - r#"{"pad":""}"#.len());
            let body = serde_json::json!({ "state": { "pad": pad } });
            Outcome::Success(body.to_string().into_bytes())
        },
        accept,
    );
    assert_eq!(
        sim.invoked(),
        [vec![1, 2, 3, 4], vec![1, 2], vec![3], vec![4]]
    );
    for call in &sim.calls {
        assert!(call.bytes <= limit, "{} > {limit}", call.bytes);
        assert_windowed(call);
    }
    assert_eq!(sim.checkpoints.last(), Some(&4));
}
