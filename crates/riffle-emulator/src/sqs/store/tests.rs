//! The store's tests: a property test of the index against a scan of the whole queue over
//! random histories (failures are kept in `proptest-regressions/` and replayed first), and the
//! index's rebuilds.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::*;
use crate::sqs::attributes::default_attributes;

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

/// One step of a random history of a queue and its dead-letter queue.
#[derive(Debug, Clone)]
enum Step {
    /// Sends messages (delay in ms, FIFO group), applying the fact by reference or by value.
    Send {
        messages: Vec<(Millis, u8)>,
        owned: bool,
    },
    /// Receives from the queue (or its dead-letter queue) and checks the plan against a scan.
    Receive {
        dlq: bool,
        max: usize,
        visibility_ms: Millis,
    },
    /// Deletes the messages whose position in the queue `pick` (cycled) selects.
    Delete {
        pick: Vec<bool>,
    },
    /// Changes the visibility of in-flight messages `pick` (cycled) selects, to `now` plus
    /// that many seconds.
    ChangeVisibility {
        pick: Vec<Option<u8>>,
    },
    Purge,
    /// Sets the retention period to 60 s (`true`) or the default.
    SetRetention(bool),
    Tick,
    Advance(Millis),
}

fn step() -> impl Strategy<Value = Step> {
    let message = (prop_oneof![4 => Just(0), 1 => 0..5_000u64], 0..4u8);
    prop_oneof![
        60 => (prop::collection::vec(message, 1..=4), any::<bool>())
            .prop_map(|(messages, owned)| Step::Send { messages, owned }),
        60 => (prop::bool::weighted(0.25), 1..=10usize, 0..3u64).prop_map(
            |(dlq, max, visibility)| Step::Receive { dlq, max, visibility_ms: visibility * 2_000 }
        ),
        20 => prop::collection::vec(prop::bool::weighted(1.0 / 3.0), 1..8)
            .prop_map(|pick| Step::Delete { pick }),
        20 => prop::collection::vec(prop::option::weighted(1.0 / 3.0, 0..3u8), 1..8)
            .prop_map(|pick| Step::ChangeVisibility { pick }),
        1 => Just(Step::Purge),
        1 => any::<bool>().prop_map(Step::SetRetention),
        1 => Just(Step::Tick),
        20 => (0..4_000u64).prop_map(Step::Advance),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Random sends (some delayed), receives, deletes, visibility changes, redrives, purges,
    /// retention changes and time steps: every receive the index plans is the one a scan of the
    /// whole queue plans, and the index always matches the messages.
    #[test]
    fn receives_from_the_index_match_a_scan_of_the_whole_queue(
        fifo in any::<bool>(),
        steps in prop::collection::vec(step(), 1..600),
    ) {
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
        for step in steps {
            match step {
                Step::Send { messages, owned } => {
                    let messages = messages
                        .into_iter()
                        .map(|(delay, group)| {
                            message(now, delay, fifo.then(|| format!("g{group}")))
                        })
                        .collect();
                    let queue = name.clone();
                    if owned {
                        store.apply_owned(now, Mutation::Send { queue, messages });
                    } else {
                        store.apply(now, &Mutation::Send { queue, messages });
                    }
                }
                Step::Receive { dlq: to_dlq, max, visibility_ms } => {
                    let target = if to_dlq { &dlq } else { &name };
                    store.queue_at(target, now).unwrap();
                    let fast = store.plan_receive(target, now, max, visibility_ms).unwrap();
                    let scan = store
                        .plan(target, now + visibility_ms, |plan, queue| {
                            plan.by_scan(queue, now, max);
                        })
                        .unwrap();
                    prop_assert_eq!(format!("{fast:?}"), format!("{scan:?}"), "at {}", now);
                    store.apply(now, &fast);
                }
                Step::Delete { pick } => {
                    let seqs: Vec<u64> = store.queues[&name]
                        .messages
                        .keys()
                        .zip(pick.iter().cycle())
                        .filter(|(_, picked)| **picked)
                        .map(|(seq, _)| *seq)
                        .collect();
                    store.apply(now, &Mutation::Delete { queue: name.clone(), seqs });
                }
                Step::ChangeVisibility { pick } => {
                    let changes: Vec<(u64, Millis)> = store.queues[&name]
                        .messages
                        .values()
                        .filter(|m| m.in_flight(now))
                        .zip(pick.iter().cycle())
                        .filter_map(|(m, seconds)| {
                            seconds.map(|s| (m.seq, now + u64::from(s) * 1_000))
                        })
                        .collect();
                    store.apply(
                        now,
                        &Mutation::ChangeVisibility { queue: name.clone(), changes },
                    );
                }
                Step::Purge => store.apply(now, &Mutation::Purge { queue: name.clone() }),
                Step::SetRetention(short) => store.apply(
                    now,
                    &Mutation::SetAttributes {
                        queue: name.clone(),
                        attributes: [(
                            "MessageRetentionPeriod".to_owned(),
                            if short { "60" } else { "345600" }.to_owned(),
                        )]
                        .into_iter()
                        .collect(),
                    },
                ),
                Step::Tick => store.tick(now),
                Step::Advance(ms) => now += ms,
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
