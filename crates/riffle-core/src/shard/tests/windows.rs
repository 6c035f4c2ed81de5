//! Tumbling windows with bisect and with the payload limit.

use super::*;

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
