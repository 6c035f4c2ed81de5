//! The engine's invariants under random failures, throttles, partial failures, bisects, lanes
//! and delivery refusals, as a property test: proptest draws the mapping, the records and the
//! function's and destination's answers, and shrinks a failing case to a small one.

use proptest::prelude::*;

use super::*;

/// How the scripted function answers one invocation.
#[derive(Debug, Clone, Copy)]
enum Answer {
    Error,
    Throttle,
    /// Report the record at this index (of the batch, after the first) failed.
    ReportFailure(usize),
    Success,
}

fn answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        1 => Just(Answer::Error),
        1 => Just(Answer::Throttle),
        1 => any::<usize>().prop_map(Answer::ReportFailure),
        3 => Just(Answer::Success),
    ]
}

/// A mapping, its records and how the function and the destination behave.
#[derive(Debug, Clone)]
struct Scenario {
    lanes: usize,
    batch_size: usize,
    bisect: bool,
    reports_enabled: bool,
    retries: Option<u32>,
    has_destination: bool,
    /// The partition key (an index) of each record, in sequence order.
    keys: Vec<u8>,
    /// The function's answers, in invocation order, cycled.
    answers: Vec<Answer>,
    /// Whether the destination accepts each delivery, in order, cycled; the last is `true`.
    acks: Vec<bool>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        1..=10usize,
        1..=8usize,
        any::<bool>(),
        any::<bool>(),
        prop_oneof![Just(None), Just(Some(0)), Just(Some(1)), Just(Some(3))],
        prop::bool::weighted(0.75),
        1..=6u8,
    )
        .prop_flat_map(
            |(lanes, batch_size, bisect, reports_enabled, retries, has_destination, keys)| {
                (
                    prop::collection::vec(0..keys, 1..=60),
                    prop::collection::vec(answer(), 1..=64),
                    prop::collection::vec(prop::bool::weighted(0.8), 1..=16),
                )
                    .prop_map(move |(keys, answers, mut acks)| {
                        // A destination that never accepts holds the shard forever (deliveries are
                        // retried until accepted), so every cycle of acknowledgements accepts once.
                        acks.push(true);
                        Scenario {
                            lanes,
                            batch_size,
                            bisect,
                            reports_enabled,
                            retries,
                            has_destination,
                            keys,
                            answers,
                            acks,
                        }
                    })
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn ordering_and_nothing_lost_hold_under_random_failures_bisects_and_lanes(
        scenario in scenario()
    ) {
        check(&scenario);
    }
}

fn check(scenario: &Scenario) {
    let Scenario {
        lanes,
        reports_enabled,
        ..
    } = *scenario;
    let mut sim = Sim::new(ShardSettings {
        batch_size: scenario.batch_size,
        parallelization_factor: lanes,
        bisect_on_function_error: scenario.bisect,
        report_batch_item_failures: reports_enabled,
        maximum_retry_attempts: scenario.retries,
        maximum_record_age_ms: 120_000,
        destination: scenario.has_destination.then_some(DestinationKind::Sqs),
        ..settings()
    });
    let n = scenario.keys.len() as u64;
    let records: Vec<StreamRecord> = (1..=n)
        .map(|s| record(s, &format!("k{}", scenario.keys[s as usize - 1]), T0))
        .collect();
    let key_of: BTreeMap<u64, String> = records
        .iter()
        .map(|r| {
            (
                r.sequence_number.as_str().parse().unwrap(),
                r.partition_key.clone(),
            )
        })
        .collect();
    sim.put(records);
    let mut answers = scenario.answers.iter().cycle();
    let mut acks = scenario.acks.iter().cycle();
    sim.run(
        |call| match answers.next().copied().unwrap_or(Answer::Success) {
            Answer::Error => error(),
            Answer::Throttle => Outcome::Throttled,
            Answer::ReportFailure(at) if call.seqs.len() > 1 => {
                report(&[call.seqs[1 + at % (call.seqs.len() - 1)]])
            }
            _ => Outcome::Success(Vec::new()),
        },
        |_| acks.next().copied().unwrap_or(true),
    );
    // Replay what happened, in order, tracking which records are finished.
    let mut finished: BTreeSet<u64> = BTreeSet::new();
    for event in &sim.events {
        match event {
            SimEvent::Call(call, outcome) => {
                for seq in &call.seqs {
                    let key = &key_of[seq];
                    let blocked = key_of.iter().any(|(s, k)| {
                        k == key && s < seq && !finished.contains(s) && !call.seqs.contains(s)
                    });
                    assert!(
                        !blocked,
                        "{seq} handed out before an earlier record of {key}"
                    );
                    assert!(
                        !finished.contains(seq),
                        "{seq} handed out after it finished"
                    );
                }
                if let Outcome::Success(body) = outcome {
                    let text = String::from_utf8_lossy(body);
                    let resume = (reports_enabled && text.contains("itemIdentifier"))
                        .then(|| text.split('"').nth(5).unwrap().parse::<u64>().unwrap());
                    finished.extend(call.seqs.iter().filter(|s| resume.is_none_or(|r| **s < r)));
                }
            }
            SimEvent::Discard { lane, start, end } => {
                finished.extend(
                    key_of
                        .iter()
                        .filter(|(s, k)| **s >= *start && **s <= *end && lane_of(k, lanes) == *lane)
                        .map(|(s, _)| *s),
                );
            }
        }
    }
    for seq in key_of.keys() {
        assert!(
            finished.contains(seq),
            "record {seq} was neither processed nor discarded"
        );
    }
    assert_eq!(
        sim.checkpoints.last(),
        Some(&n),
        "the checkpoint reaches the end"
    );
    assert!(
        sim.checkpoints.windows(2).all(|w| w[0] < w[1]),
        "checkpoints only move forward"
    );
}
