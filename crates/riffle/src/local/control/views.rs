//! The JSON of the control API's views: a mapping's counters, and its journal entries.
//!
//! Invariant: the runtime's journal types become JSON here, and only here (the engine crates
//! know nothing of this API).

use riffle_runtime::{KinesisJournalEvent, KinesisMetrics, SqsJournalEvent, SqsMetrics};
use serde_json::Value;

/// A Kinesis mapping's counters.
pub(super) fn kinesis_counters(m: &KinesisMetrics) -> Value {
    serde_json::to_value(m.counters()).unwrap_or_default()
}

/// An SQS mapping's counters.
pub(super) fn queue_counters(m: &SqsMetrics) -> Value {
    serde_json::to_value(m.counters()).unwrap_or_default()
}

/// One Kinesis journal entry: `at` (epoch ms), `time` (ISO 8601), `shard`, `kind` (snake case)
/// and the kind's fields (the runtime's serde shape; see `riffle_runtime::KinesisJournalEvent`).
pub(super) fn journal_json(event: &KinesisJournalEvent) -> Value {
    serde_json::to_value(event).unwrap_or_default()
}

/// One SQS journal entry: `at`, `time`, `poller` (SQS mappings have pollers, not shards),
/// `kind` and its fields (see `riffle_runtime::SqsJournalEvent`).
pub(super) fn queue_journal_json(event: &SqsJournalEvent) -> Value {
    serde_json::to_value(event).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use riffle_core::kinesis::event::FailureCondition;
    use riffle_core::kinesis::shard::Decision;
    use riffle_core::sequence::SequenceNumber;
    use riffle_core::sqs::poller;
    use riffle_runtime::JournalKind;
    use serde_json::json;

    use super::*;

    fn kinesis(kind: JournalKind) -> Value {
        journal_json(&KinesisJournalEvent {
            at: 1_700_000_000_123,
            shard_id: "shardId-000000000000".into(),
            kind,
        })
    }

    #[test]
    fn kinesis_entries_carry_time_shard_kind_and_fields() {
        assert_eq!(
            kinesis(JournalKind::Invoked {
                lane: 1,
                records: 2,
                range: Some((
                    SequenceNumber::parse("49").unwrap(),
                    SequenceNumber::parse("51").unwrap(),
                )),
                previous_invocations: 1,
            }),
            json!({
                "at": 1_700_000_000_123u64,
                "time": "2023-11-14T22:13:20.123Z",
                "kind": "invoked",
                "shard": "shardId-000000000000",
                "lane": 1,
                "records": 2,
                "first_sequence_number": "49",
                "last_sequence_number": "51",
                "previous_invocations": 1,
            })
        );
        let discarded = kinesis(JournalKind::Decision(Decision::Discarded {
            lane: 0,
            condition: FailureCondition::RetryAttemptsExhausted,
            range: (
                SequenceNumber::parse("49").unwrap(),
                SequenceNumber::parse("51").unwrap(),
            ),
            records: 2,
            delivered: true,
        }));
        assert_eq!(discarded["kind"], "discarded");
        assert_eq!(discarded["condition"], "RetryAttemptsExhausted");
        assert_eq!(discarded["first_sequence_number"], "49");
        assert_eq!(discarded["last_sequence_number"], "51");
        assert_eq!(discarded["delivered"], true);
        let retry = kinesis(JournalKind::Decision(Decision::RetryScheduled {
            lane: 0,
            at: 1_700_000_001_000,
            reason: "OrderRejected".into(),
        }));
        assert_eq!(retry["kind"], "retry_scheduled");
        assert_eq!(retry["retry_at"], 1_700_000_001_000u64);
        assert_eq!(retry["retry_time"], "2023-11-14T22:13:21.000Z");
        assert_eq!(
            retry["at"], 1_700_000_000_123u64,
            "the entry's own time is kept"
        );
        assert_eq!(
            kinesis(JournalKind::ShardFinished),
            json!({
                "at": 1_700_000_000_123u64,
                "time": "2023-11-14T22:13:20.123Z",
                "kind": "shard_finished",
                "shard": "shardId-000000000000",
            })
        );
    }

    #[test]
    fn queue_entries_name_their_poller_and_outcome() {
        let settled = queue_journal_json(&SqsJournalEvent {
            at: 1_700_000_000_000,
            poller: 3,
            kind: poller::Decision::Settled {
                settled: poller::Settled::PartialFailure(vec!["m-2".into()]),
                deleted: 1,
                returned: 1,
            },
        });
        assert_eq!(
            settled,
            json!({
                "at": 1_700_000_000_000u64,
                "time": "2023-11-14T22:13:20.000Z",
                "kind": "settled",
                "poller": 3,
                "outcome": "partial_failure",
                "failed_message_ids": ["m-2"],
                "deleted": 1,
                "returned": 1,
            })
        );
    }
}
