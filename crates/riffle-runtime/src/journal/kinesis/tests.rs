use riffle_core::kinesis::event::FailureCondition;
use riffle_core::sequence::SequenceNumber;

use super::*;
use crate::journal::Journal;

#[test]
fn observing_the_journal_counts_per_mapping_and_per_shard() {
    let metrics = KinesisMetrics::default();
    let (s0, s1) = ("shardId-000000000000", "shardId-000000000001");
    let invoked = JournalKind::Invoked {
        lane: 0,
        records: 3,
        range: None,
        previous_invocations: 0,
    };
    let decision = |entry| JournalKind::Decision(entry);
    metrics.observe(1, s0, &invoked);
    metrics.observe(
        2,
        s0,
        &decision(Decision::Failed {
            lane: 0,
            reason: "Function.Error: boom".into(),
            attempts: 1,
        }),
    );
    metrics.observe(
        2,
        s0,
        &decision(Decision::Bisected {
            lane: 0,
            left: 1,
            right: 2,
        }),
    );
    metrics.observe(
        2,
        s0,
        &decision(Decision::RetryScheduled {
            lane: 0,
            at: 3,
            reason: "Function.Error".into(),
        }),
    );
    metrics.observe(3, s1, &decision(Decision::Filtered { records: 4 }));
    assert!(metrics.shards()[s0].retry_pending);
    metrics.observe(4, s0, &invoked);
    metrics.observe(
        5,
        s0,
        &decision(Decision::Discarded {
            lane: 0,
            condition: FailureCondition::RetryAttemptsExhausted,
            range: (
                SequenceNumber::parse("1").unwrap(),
                SequenceNumber::parse("2").unwrap(),
            ),
            records: 2,
            delivered: true,
        }),
    );
    metrics.observe(
        6,
        s0,
        &JournalKind::Checkpointed {
            sequence_number: SequenceNumber::parse("2").unwrap(),
        },
    );
    let shards = metrics.shards();
    let first = &shards[s0];
    assert_eq!(
        (
            first.invocations,
            first.errors,
            first.bisects,
            first.retries,
            first.sent_to_destination,
            first.retry_pending,
            first.checkpoint.as_ref().map(SequenceNumber::as_str),
        ),
        (2, 1, 1, 1, 2, false, Some("2"))
    );
    let gave_up = "2 record(s) sent to the on-failure destination: RetryAttemptsExhausted";
    assert_eq!(first.last_error, Some((5, gave_up.to_owned())));
    assert_eq!((shards[s1].filtered, shards[s1].invocations), (4, 0));
    assert_eq!(
        (
            KinesisMetrics::get(&metrics.invocations),
            KinesisMetrics::get(&metrics.invoked_records),
            KinesisMetrics::get(&metrics.errors),
            KinesisMetrics::get(&metrics.sent_to_destination),
            KinesisMetrics::get(&metrics.filtered),
        ),
        (2, 6, 1, 2, 4),
        "the mapping's counters add up its shards'"
    );
    assert_eq!(
        metrics.last_error(),
        Some((5, s0.to_owned(), gave_up.to_owned()))
    );
}

#[test]
fn a_failing_checkpoint_store_is_the_shards_last_error_not_a_read_error() {
    let metrics = KinesisMetrics::default();
    let shard = "shardId-000000000000";
    metrics.observe(
        7,
        shard,
        &JournalKind::CheckpointFailed {
            error: "disk full".into(),
        },
    );
    let status = &metrics.shards()[shard];
    assert!(!status.read_failing);
    assert_eq!(status.last_error, Some((7, "checkpoint: disk full".into())));
}

#[test]
fn a_failed_shard_listing_is_the_mappings_error_not_a_shard() {
    let metrics = KinesisMetrics::default();
    let failed = JournalKind::PollFailed {
        error: "ListShards: throttled".into(),
    };
    metrics.observe(9, "", &failed);
    assert!(metrics.shards().is_empty(), "no shard named \"\"");
    assert_eq!(
        metrics.last_error(),
        Some((9, String::new(), "read: ListShards: throttled".into()))
    );
}

#[test]
fn a_batch_given_up_while_waiting_for_its_retry_is_no_longer_retrying() {
    let metrics = KinesisMetrics::default();
    let shard = "shardId-000000000000";
    let retry = Decision::RetryScheduled {
        lane: 0,
        at: 5,
        reason: "Error".into(),
    };
    metrics.observe(1, shard, &JournalKind::Decision(retry));
    assert!(metrics.shards()[shard].retry_pending);
    let discarded = Decision::Discarded {
        lane: 0,
        condition: FailureCondition::RecordAgeExceeded,
        range: (
            SequenceNumber::parse("1").unwrap(),
            SequenceNumber::parse("1").unwrap(),
        ),
        records: 1,
        delivered: false,
    };
    metrics.observe(2, shard, &JournalKind::Decision(discarded));
    assert!(!metrics.shards()[shard].retry_pending);
}

#[test]
fn the_journal_stays_in_time_order() {
    let journal = Journal::<KinesisJournalEvent>::default();
    journal.record(10, "s", JournalKind::ShardFinished);
    // Stamped earlier by a task that recorded later.
    journal.record(7, "s", JournalKind::ShardFinished);
    let times: Vec<Millis> = journal.entries(None).iter().map(|e| e.at).collect();
    assert_eq!(times, [10, 10]);
}

#[test]
fn entries_serialize_with_the_control_apis_names_and_read_back_the_same() {
    let n = |s| SequenceNumber::parse(s).unwrap();
    let kinds = [
        JournalKind::ShardStarted {
            from: "TRIM_HORIZON".into(),
        },
        JournalKind::Polled {
            records: 2,
            millis_behind: 5,
        },
        JournalKind::PollFailed { error: "e".into() },
        JournalKind::CheckpointFailed { error: "e".into() },
        JournalKind::Invoked {
            lane: 1,
            records: 2,
            range: Some((n("9"), n("10"))),
            previous_invocations: 0,
        },
        JournalKind::Invoked {
            lane: 0,
            records: 0,
            range: None,
            previous_invocations: 3,
        },
        JournalKind::Checkpointed {
            sequence_number: n("10"),
        },
        JournalKind::Delivered {
            destination: "arn:aws:sqs:us-east-1:000000000000:dlq".into(),
        },
        JournalKind::DeliveryError { error: "e".into() },
        JournalKind::ShardFinished,
        JournalKind::Decision(Decision::Succeeded {
            lane: 0,
            records: 1,
        }),
        JournalKind::Decision(Decision::PartiallyFailed {
            lane: 0,
            resume_at: n("10"),
            succeeded: 1,
        }),
        JournalKind::Decision(Decision::Failed {
            lane: 0,
            reason: "Function.Error".into(),
            attempts: 2,
        }),
        JournalKind::Decision(Decision::Bisected {
            lane: 0,
            left: 1,
            right: 1,
        }),
        JournalKind::Decision(Decision::RetryScheduled {
            lane: 0,
            at: 1_700_000_001_000,
            reason: "Function.Error".into(),
        }),
        JournalKind::Decision(Decision::Filtered { records: 3 }),
        JournalKind::Decision(Decision::WindowStateDropped { lane: 0 }),
        JournalKind::Decision(Decision::Discarded {
            lane: 0,
            condition: FailureCondition::RecordAgeExceeded,
            range: (n("9"), n("10")),
            records: 2,
            delivered: false,
        }),
        JournalKind::Decision(Decision::DeliveryFailed {
            lane: 0,
            retry_at: 1_700_000_002_000,
        }),
    ];
    for kind in kinds {
        let event = KinesisJournalEvent {
            at: 1_700_000_000_123,
            shard_id: "shardId-000000000000".into(),
            kind,
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["at"], 1_700_000_000_123u64);
        assert_eq!(json["time"], "2023-11-14T22:13:20.123Z");
        assert_eq!(json["shard"], "shardId-000000000000");
        assert!(json["kind"].is_string(), "{json}");
        let back: KinesisJournalEvent = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, event, "{json}");
    }
    let partial = serde_json::to_value(JournalKind::Decision(Decision::PartiallyFailed {
        lane: 0,
        resume_at: n("10"),
        succeeded: 1,
    }))
    .unwrap();
    assert_eq!(
        partial,
        serde_json::json!({"kind": "partially_failed", "lane": 0, "resume_at": "10", "succeeded": 1})
    );
    let delivery = serde_json::to_value(JournalKind::Decision(Decision::DeliveryFailed {
        lane: 0,
        retry_at: 1_700_000_001_000,
    }))
    .unwrap();
    assert_eq!(
        delivery,
        serde_json::json!({"kind": "delivery_failed", "lane": 0,
            "retry_at": 1_700_000_001_000u64, "retry_time": "2023-11-14T22:13:21.000Z"})
    );
}
