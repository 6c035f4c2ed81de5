//! The engine's invariants under random failures, throttles, partial failures, bisects, lanes
//! and delivery refusals.

use super::*;

/// A small deterministic generator for the property tests.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn ordering_and_nothing_lost_hold_under_random_failures_bisects_and_lanes() {
    for seed in 1..=300u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let lanes = 1 + rng.below(10) as usize;
        let reports_enabled = rng.below(2) == 0;
        let mut sim = Sim::new(ShardSettings {
            batch_size: 1 + rng.below(8) as usize,
            parallelization_factor: lanes,
            bisect_on_function_error: rng.below(2) == 0,
            report_batch_item_failures: reports_enabled,
            maximum_retry_attempts: [None, Some(0), Some(1), Some(3)][rng.below(4) as usize],
            maximum_record_age_ms: 120_000,
            has_destination: rng.below(4) != 0,
            ..settings()
        });
        let n = 1 + rng.below(60);
        let keys = 1 + rng.below(6);
        let records: Vec<StreamRecord> = (1..=n)
            .map(|s| record(s, &format!("k{}", rng.below(keys)), T0))
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
        let mut script = Rng(seed);
        let mut acks = Rng(seed + 7);
        sim.run(
            |call| match script.below(6) {
                0 => error(),
                1 => Outcome::Throttled,
                2 if call.seqs.len() > 1 => {
                    report(&[call.seqs[1 + script.below(call.seqs.len() as u64 - 1) as usize]])
                }
                _ => Outcome::Success(Vec::new()),
            },
            |_| acks.below(5) != 0,
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
                            "seed {seed}: {seq} handed out before an earlier record of {key}"
                        );
                        assert!(
                            !finished.contains(seq),
                            "seed {seed}: {seq} handed out after it finished"
                        );
                    }
                    if let Outcome::Success(body) = outcome {
                        let text = String::from_utf8_lossy(body);
                        let resume = (reports_enabled && text.contains("itemIdentifier"))
                            .then(|| text.split('"').nth(5).unwrap().parse::<u64>().unwrap());
                        finished
                            .extend(call.seqs.iter().filter(|s| resume.is_none_or(|r| **s < r)));
                    }
                }
                SimEvent::Discard { lane, start, end } => {
                    finished.extend(
                        key_of
                            .iter()
                            .filter(|(s, k)| {
                                **s >= *start && **s <= *end && lane_of(k, lanes) == *lane
                            })
                            .map(|(s, _)| *s),
                    );
                }
            }
        }
        for seq in key_of.keys() {
            assert!(
                finished.contains(seq),
                "seed {seed}: record {seq} was neither processed nor discarded"
            );
        }
        assert_eq!(
            sim.checkpoints.last(),
            Some(&n),
            "seed {seed}: the checkpoint reaches the end"
        );
        assert!(
            sim.checkpoints.windows(2).all(|w| w[0] < w[1]),
            "seed {seed}: checkpoints only move forward"
        );
    }
}
