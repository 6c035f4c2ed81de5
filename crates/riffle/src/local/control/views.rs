//! The JSON of the control API's views: a mapping's counters, and its journal entries.
//!
//! Invariant: the runtime's journal types become JSON here, and only here (the engine crates
//! know nothing of this API).

use std::sync::atomic::{AtomicU64, Ordering};

use riffle_core::kinesis::shard::Decision;
use riffle_core::sqs::poller;
use riffle_core::time::{Millis, iso8601_millis};
use riffle_runtime::{JournalEvent, JournalKind, Metrics, QueueJournalEvent, QueueMetrics};
use serde_json::{Map, Value, json};

/// A Kinesis mapping's counters.
pub(super) fn kinesis_counters(m: &Metrics) -> Value {
    serde_json::to_value(m.counters()).unwrap_or_default()
}

/// An SQS mapping's counters.
pub(super) fn queue_counters(m: &QueueMetrics) -> Value {
    let get = |v: &AtomicU64| v.load(Ordering::Relaxed);
    json!({
        "received": get(&m.polled),
        "invocations": get(&m.invocations),
        "invoked_messages": get(&m.invoked_messages),
        "deleted": get(&m.deleted),
        "failed": get(&m.failed),
        "filtered": get(&m.filtered),
        "errors": get(&m.errors),
        "throttles": get(&m.throttles),
        "pollers": m.pollers.load(Ordering::Relaxed),
        "in_flight": m.in_flight.load(Ordering::Relaxed),
        "oldest_message_age_ms": get(&m.oldest_message_age_ms),
        "last_error": m.last_error().map(|(_, error)| error),
    })
}

fn entry(at: Millis, kind: &str) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("at".into(), json!(at));
    object.insert("time".into(), json!(iso8601_millis(at)));
    object.insert("kind".into(), json!(kind));
    object
}

fn range(object: &mut Map<String, Value>, first: &str, last: &str) {
    object.insert("first_sequence_number".into(), json!(first));
    object.insert("last_sequence_number".into(), json!(last));
}

/// One Kinesis journal entry: `at` (epoch ms), `time` (ISO 8601), `shard`, `kind` (snake case)
/// and the kind's fields; a lane's entries carry `lane`, ranges `first_sequence_number` and
/// `last_sequence_number`, and times the engine scheduled both as ms and as ISO text.
pub(super) fn journal_json(event: &JournalEvent) -> Value {
    let at = event.at;
    let mut o = match &event.kind {
        JournalKind::ShardStarted { from } => {
            let mut o = entry(at, "shard_started");
            o.insert("from".into(), json!(from));
            o
        }
        JournalKind::Polled {
            records,
            millis_behind,
        } => {
            let mut o = entry(at, "polled");
            o.insert("records".into(), json!(records));
            o.insert("millis_behind".into(), json!(millis_behind));
            o
        }
        JournalKind::PollFailed { error } => {
            let mut o = entry(at, "poll_failed");
            o.insert("error".into(), json!(error));
            o
        }
        JournalKind::CheckpointFailed { error } => {
            let mut o = entry(at, "checkpoint_failed");
            o.insert("error".into(), json!(error));
            o
        }
        JournalKind::Invoked {
            lane,
            records,
            range: sequence_range,
            previous_invocations,
        } => {
            let mut o = entry(at, "invoked");
            o.insert("lane".into(), json!(lane));
            o.insert("records".into(), json!(records));
            if let Some((first, last)) = sequence_range {
                range(&mut o, first, last);
            }
            o.insert("previous_invocations".into(), json!(previous_invocations));
            o
        }
        JournalKind::Decision(decision) => decision_json(at, decision),
        JournalKind::Checkpointed { sequence_number } => {
            let mut o = entry(at, "checkpointed");
            o.insert("sequence_number".into(), json!(sequence_number));
            o
        }
        JournalKind::Delivered { destination } => {
            let mut o = entry(at, "delivered");
            o.insert("destination".into(), json!(destination));
            o
        }
        JournalKind::DeliveryError { error } => {
            let mut o = entry(at, "delivery_error");
            o.insert("error".into(), json!(error));
            o
        }
        JournalKind::ShardFinished => entry(at, "shard_finished"),
    };
    o.insert("shard".into(), json!(event.shard_id));
    Value::Object(o)
}

fn decision_json(at: Millis, decision: &Decision) -> Map<String, Value> {
    let lane_entry = |kind: &str, lane: usize| {
        let mut o = entry(at, kind);
        o.insert("lane".into(), json!(lane));
        o
    };
    match decision {
        Decision::Succeeded { lane, records } => {
            let mut o = lane_entry("succeeded", *lane);
            o.insert("records".into(), json!(records));
            o
        }
        Decision::PartiallyFailed {
            lane,
            resume_at,
            succeeded,
        } => {
            let mut o = lane_entry("partially_failed", *lane);
            o.insert("resume_at".into(), json!(resume_at.as_str()));
            o.insert("succeeded".into(), json!(succeeded));
            o
        }
        Decision::Failed {
            lane,
            reason,
            attempts,
        } => {
            let mut o = lane_entry("failed", *lane);
            o.insert("reason".into(), json!(reason));
            o.insert("attempts".into(), json!(attempts));
            o
        }
        Decision::Bisected { lane, left, right } => {
            let mut o = lane_entry("bisected", *lane);
            o.insert("left".into(), json!(left));
            o.insert("right".into(), json!(right));
            o
        }
        Decision::RetryScheduled {
            lane,
            at: retry_at,
            reason,
        } => {
            let mut o = lane_entry("retry_scheduled", *lane);
            o.insert("retry_at".into(), json!(retry_at));
            o.insert("retry_time".into(), json!(iso8601_millis(*retry_at)));
            o.insert("reason".into(), json!(reason));
            o
        }
        Decision::Filtered { records } => {
            let mut o = entry(at, "filtered");
            o.insert("records".into(), json!(records));
            o
        }
        Decision::WindowStateDropped { lane } => lane_entry("window_state_dropped", *lane),
        Decision::Discarded {
            lane,
            condition,
            range: (first, last),
            records,
            delivered,
        } => {
            let mut o = lane_entry("discarded", *lane);
            o.insert("condition".into(), json!(condition.as_str()));
            range(&mut o, first.as_str(), last.as_str());
            o.insert("records".into(), json!(records));
            o.insert("delivered".into(), json!(delivered));
            o
        }
        Decision::DeliveryFailed { lane, retry_at } => {
            let mut o = lane_entry("delivery_failed", *lane);
            o.insert("retry_at".into(), json!(retry_at));
            o.insert("retry_time".into(), json!(iso8601_millis(*retry_at)));
            o
        }
    }
}

/// One SQS journal entry: `at`, `time`, `poller` (SQS mappings have pollers, not shards),
/// `kind` and its fields.
pub(super) fn queue_journal_json(event: &QueueJournalEvent) -> Value {
    let at = event.at;
    let mut o = match &event.kind {
        poller::Decision::Received { messages } => {
            let mut o = entry(at, "received");
            o.insert("messages".into(), json!(messages));
            o
        }
        poller::Decision::SourceFailed { call, error } => {
            let mut o = entry(at, "source_failed");
            o.insert("call".into(), json!(call));
            o.insert("error".into(), json!(error));
            o
        }
        poller::Decision::Filtered { messages } => {
            let mut o = entry(at, "filtered");
            o.insert("messages".into(), json!(messages));
            o
        }
        poller::Decision::Invoked {
            messages,
            first_message_id,
            throttles,
        } => {
            let mut o = entry(at, "invoked");
            o.insert("messages".into(), json!(messages));
            o.insert("first_message_id".into(), json!(first_message_id));
            o.insert("throttles".into(), json!(throttles));
            o
        }
        poller::Decision::Throttled { retry_in_ms } => {
            let mut o = entry(at, "throttled");
            o.insert("retry_in_ms".into(), json!(retry_in_ms));
            o
        }
        poller::Decision::Settled {
            settled,
            deleted,
            returned,
        } => {
            let mut o = entry(at, "settled");
            let (outcome, detail) = match settled {
                poller::Settled::Success => ("success", None),
                poller::Settled::PartialFailure(ids) => {
                    o.insert("failed_message_ids".into(), json!(ids));
                    ("partial_failure", None)
                }
                poller::Settled::InvalidResponse(reason) => {
                    ("invalid_response", Some(reason))
                }
                poller::Settled::FunctionError(reason) => {
                    ("function_error", Some(reason))
                }
                poller::Settled::GaveUp(reason) => ("gave_up", Some(reason)),
            };
            o.insert("outcome".into(), json!(outcome));
            if let Some(reason) = detail {
                o.insert("reason".into(), json!(reason));
            }
            o.insert("deleted".into(), json!(deleted));
            o.insert("returned".into(), json!(returned));
            o
        }
        poller::Decision::DeleteFailed { failures } => {
            let mut o = entry(at, "delete_failed");
            let failures: Vec<Value> = failures
                .iter()
                .map(|f| {
                    json!({
                        "message_id": f.message_id,
                        "code": f.code,
                        "sender_fault": f.sender_fault,
                    })
                })
                .collect();
            o.insert("failures".into(), json!(failures));
            o
        }
        poller::Decision::Released { messages } => {
            let mut o = entry(at, "released");
            o.insert("messages".into(), json!(messages));
            o
        }
        poller::Decision::Scaled { pollers } => {
            let mut o = entry(at, "scaled");
            o.insert("pollers".into(), json!(pollers));
            o
        }
    };
    o.insert("poller".into(), json!(event.poller));
    Value::Object(o)
}

#[cfg(test)]
mod tests {
    use riffle_core::kinesis::event::FailureCondition;
    use riffle_core::sequence::SequenceNumber;

    use super::*;

    fn kinesis(kind: JournalKind) -> Value {
        journal_json(&JournalEvent {
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
                range: Some(("49".into(), "51".into())),
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
        let settled = queue_journal_json(&QueueJournalEvent {
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
