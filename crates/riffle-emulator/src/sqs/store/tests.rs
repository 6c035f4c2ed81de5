//! The store's tests: the index against a scan of the whole queue, and its rebuilds.

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::sqs::attributes::default_attributes;

/// A small deterministic generator (xorshift64*), so failures replay.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn store() -> SqsStore {
    SqsStore::new(StoreSettings {
        region: "us-east-1".into(),
        account_id: "000000000000".into(),
    })
}

fn attributes(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut map = default_attributes(false);
    for (k, v) in pairs {
        map.insert((*k).to_owned(), (*v).to_owned());
    }
    map
}

/// A store holding queue "q", created at 10 000 with `messages` sent then.
fn queue_q(messages: Vec<Message>) -> SqsStore {
    let mut store = store();
    store.apply(
        10_000,
        &Mutation::CreateQueue {
            name: "q".into(),
            attributes: attributes(&[]),
            tags: BTreeMap::new(),
        },
    );
    let queue = "q".into();
    store.apply(10_000, &Mutation::Send { queue, messages });
    store
}

fn message(now: Millis, delay_ms: Millis, group: Option<String>) -> Message {
    Message {
        seq: 0,
        id: String::new(),
        body: "b".into(),
        md5_body: String::new(),
        attributes: BTreeMap::new(),
        md5_attributes: None,
        system_attributes: BTreeMap::new(),
        sent_ms: now,
        available_ms: now + delay_ms,
        visible_ms: now + delay_ms,
        receive_count: 0,
        first_receive_ms: None,
        last_receive_ms: None,
        sender_id: String::new(),
        group_id: group,
        deduplication_id: None,
        sequence_number: None,
        dead_letter_source_arn: None,
    }
}

/// The index agrees with the messages' timestamps as of `now`.
fn check_index(queue: &Queue, now: Millis) {
    let mut visible = BTreeSet::new();
    let mut hidden = BTreeSet::new();
    for message in queue.messages.values() {
        if message.visible_ms <= now {
            visible.insert(message.seq);
        } else {
            hidden.insert((message.visible_ms, message.seq));
        }
    }
    assert_eq!(
        queue.index.visible, visible,
        "visible messages of {}",
        queue.name
    );
    assert_eq!(
        queue.index.hidden, hidden,
        "hidden messages of {}",
        queue.name
    );
    let expected = queue
        .messages
        .values()
        .map(|m| m.visible_ms)
        .filter(|t| *t > now)
        .min();
    assert_eq!(queue.next_visible_at(now), expected);
}

/// Random sends (some delayed), receives, deletes, visibility changes, redrives, purges,
/// retention changes and time steps: every receive the index plans is the one a scan of the
/// whole queue plans, and the index always matches the messages.
#[test]
fn receives_from_the_index_match_a_scan_of_the_whole_queue() {
    for (seed, fifo) in (1..=40u64).map(|s| (s * 7919, s % 2 == 0)) {
        let mut rng = Rng(seed);
        let mut store = store();
        let mut now: Millis = 1_000_000;
        let suffix = if fifo { ".fifo" } else { "" };
        let (name, dlq) = (format!("q{suffix}"), format!("dlq{suffix}"));
        let fifo_attribute: &[(&str, &str)] = if fifo { &[("FifoQueue", "true")] } else { &[] };
        store.apply(
            now,
            &Mutation::CreateQueue {
                name: dlq.clone(),
                attributes: attributes(fifo_attribute),
                tags: BTreeMap::new(),
            },
        );
        let policy = format!(
            r#"{{"deadLetterTargetArn":"{}","maxReceiveCount":3}}"#,
            store.queue_arn(&dlq)
        );
        let mut pairs = vec![("RedrivePolicy", policy.as_str())];
        pairs.extend_from_slice(fifo_attribute);
        store.apply(
            now,
            &Mutation::CreateQueue {
                name: name.clone(),
                attributes: attributes(&pairs),
                tags: BTreeMap::new(),
            },
        );
        for _ in 0..600 {
            match rng.below(10) {
                0..=2 => {
                    let messages = (0..1 + rng.below(4))
                        .map(|_| {
                            let delay = if rng.below(5) == 0 {
                                rng.below(5_000)
                            } else {
                                0
                            };
                            let group = fifo.then(|| format!("g{}", rng.below(4)));
                            message(now, delay, group)
                        })
                        .collect();
                    let queue = name.clone();
                    if rng.below(2) == 0 {
                        store.apply(now, &Mutation::Send { queue, messages });
                    } else {
                        store.apply_owned(now, Mutation::Send { queue, messages });
                    }
                }
                3..=5 => {
                    let target = if rng.below(4) == 0 { &dlq } else { &name };
                    store.queue_at(target, now).unwrap();
                    let max = 1 + rng.below(10) as usize;
                    let visibility = rng.below(3) * 2_000;
                    let fast = store.plan_receive(target, now, max, visibility).unwrap();
                    let scan = store
                        .plan_receive_by_scan(target, now, max, visibility)
                        .unwrap();
                    assert_eq!(
                        format!("{fast:?}"),
                        format!("{scan:?}"),
                        "seed {seed} at {now}"
                    );
                    store.apply(now, &fast);
                }
                6 => {
                    let queue = &store.queues[&name];
                    let seqs: Vec<u64> = queue
                        .messages
                        .keys()
                        .copied()
                        .filter(|_| rng.below(3) == 0)
                        .collect();
                    store.apply(
                        now,
                        &Mutation::Delete {
                            queue: name.clone(),
                            seqs,
                        },
                    );
                }
                7 => {
                    let queue = &store.queues[&name];
                    let mut changes: Vec<(u64, Millis)> = Vec::new();
                    for m in queue.messages.values() {
                        if m.in_flight(now) && rng.below(3) == 0 {
                            changes.push((m.seq, now + rng.below(3) * 1_000));
                        }
                    }
                    store.apply(
                        now,
                        &Mutation::ChangeVisibility {
                            queue: name.clone(),
                            changes,
                        },
                    );
                }
                8 => match rng.below(20) {
                    0 => store.apply(
                        now,
                        &Mutation::Purge {
                            queue: name.clone(),
                        },
                    ),
                    1 => store.apply(
                        now,
                        &Mutation::SetAttributes {
                            queue: name.clone(),
                            attributes: attributes(&[(
                                "MessageRetentionPeriod",
                                ["60", "345600"][rng.below(2) as usize],
                            )])
                            .into_iter()
                            .filter(|(k, _)| k == "MessageRetentionPeriod")
                            .collect(),
                        },
                    ),
                    2 => store.tick(now),
                    _ => {}
                },
                _ => now += rng.below(4_000),
            }
            for queue in [&name, &dlq] {
                store.queues.get_mut(queue.as_str()).unwrap().catch_up(now);
                check_index(&store.queues[queue.as_str()], now);
            }
        }
    }
}

#[test]
fn a_clock_that_goes_back_rebuilds_the_index() {
    let mut store = queue_q(vec![message(10_000, 2_000, None)]);
    store.queue_at("q", 12_000).unwrap();
    assert_eq!(store.queues["q"].index.visible.len(), 1);
    store.queue_at("q", 11_000).unwrap();
    check_index(&store.queues["q"], 11_000);
    let plan = store.plan_receive("q", 11_000, 10, 0).unwrap();
    let Mutation::Receive { received, .. } = plan else {
        unreachable!()
    };
    assert!(
        received.is_empty(),
        "the message is still delayed at 11 000"
    );
}

#[test]
fn a_loaded_snapshot_rebuilds_the_index() {
    let store = queue_q(vec![message(10_000, 0, None), message(10_000, 5_000, None)]);
    let bytes = postcard::to_allocvec(&store).unwrap();
    let mut loaded: SqsStore = postcard::from_bytes(&bytes).unwrap();
    loaded.queue_at("q", 11_000).unwrap();
    check_index(&loaded.queues["q"], 11_000);
    assert_eq!(loaded.queues["q"].next_visible_at(11_000), Some(15_000));
}
