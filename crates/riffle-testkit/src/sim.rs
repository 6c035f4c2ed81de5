//! The real mapping semantics around a handler, in a unit test: the `riffle-runtime` mapping (or
//! queue poller) with an in-memory stream (or queue), an in-memory on-failure destination and a
//! manual clock that jumps from one scheduled wake-up to the next, so hours of retries run in
//! milliseconds. Nothing here decides what the mapping does; it records what happened.
//!
//! Invariant: every invocation that reached the function, or was throttled or failed by an
//! injected fault, is in the trace with its batch and outcome, in completion order.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use riffle_clock::{Clock, ManualClock};
use riffle_core::invocation::Outcome;
use riffle_core::sequence::SequenceNumber;
use riffle_core::time::Millis;
use riffle_runtime::{InvokeRequest, KinesisJournalEvent, ShardCheckpoint, SqsJournalEvent};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::watch;
use tower::ServiceExt;
use tower::util::BoxCloneSyncService;

use crate::faults::{Fault, Faults, records_of};

/// Where simulations start: 2024-11-25T16:00:00Z.
pub const SIMULATION_EPOCH_MS: Millis = crate::events::FIXTURE_EPOCH_MS;

/// One record as the trace shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceRecord {
    /// Sequence number (Kinesis) or message id (SQS).
    pub id: String,
    /// Partition key (Kinesis) or message group id (SQS FIFO; empty otherwise).
    pub key: String,
    /// Data (Kinesis, decoded) or body (SQS).
    pub data: Vec<u8>,
}

impl TraceRecord {
    /// The data as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// One invocation: its batch, what came back, and which records it settled.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceInvocation {
    /// Virtual milliseconds since the simulation started.
    pub at_ms: Millis,
    /// Lambda's request id.
    pub request_id: String,
    /// The batch, in event order.
    pub records: Vec<TraceRecord>,
    /// The outcome as the engine saw it.
    pub outcome: Outcome,
    /// The injected fault that produced it, if any.
    pub fault: Option<Fault>,
    /// The exact event JSON.
    pub payload: String,
    /// Per record, whether this invocation succeeded for it (by the mapping's response rules).
    pub succeeded: Vec<bool>,
}

impl TraceInvocation {
    /// Ids of the batch's records.
    pub fn ids(&self) -> Vec<&str> {
        self.records.iter().map(|r| r.id.as_str()).collect()
    }

    /// The batch's data as text.
    pub fn texts(&self) -> Vec<String> {
        self.records.iter().map(TraceRecord::text).collect()
    }

    /// The event as JSON.
    pub fn event(&self) -> Value {
        serde_json::from_str(&self.payload).unwrap_or(Value::Null)
    }

    /// The function's response as JSON, if it succeeded (`Value::Null` for an empty body).
    pub fn response(&self) -> Option<Value> {
        match &self.outcome {
            Outcome::Success(body) => Some(serde_json::from_slice(body).unwrap_or(Value::Null)),
            _ => None,
        }
    }

    /// Whether this was the final invocation of a tumbling window.
    pub fn is_final_for_window(&self) -> bool {
        self.event()["isFinalInvokeForWindow"] == true
    }
}

/// Everything a simulation did.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    /// Every invocation, in completion order.
    pub invocations: Vec<TraceInvocation>,
    /// Every record put (or message sent), in order.
    pub put: Vec<TraceRecord>,
    /// On-failure invocation records sent to the destination (Kinesis), as JSON.
    pub on_failure: Vec<Value>,
    /// The objects an S3 on-failure destination received (Kinesis): each key (AWS's
    /// `aws/lambda/<mapping>/<shard>/YYYY/MM/DD/…` layout) and the record, which also carries
    /// the discarded batch's event as `payload`. These records are in `on_failure` too.
    pub on_failure_objects: Vec<(String, Value)>,
    /// Bodies that ended in the dead-letter queue (SQS with a redrive policy).
    pub dead_letters: Vec<String>,
    /// Bodies still in the queue at the end (SQS).
    pub left_in_queue: Vec<String>,
    /// Ids of records the filters dropped.
    pub filtered: Vec<String>,
    /// The Kinesis mapping's decision journal.
    pub journal: Vec<KinesisJournalEvent>,
    /// The SQS mapping's decision journal.
    pub queue_journal: Vec<SqsJournalEvent>,
    /// Final checkpoints per shard (Kinesis).
    pub checkpoints: BTreeMap<String, ShardCheckpoint>,
    /// Whether every record was finished before the time limit.
    pub finished: bool,
    /// Virtual time the simulation ran.
    pub elapsed: Duration,
}

impl Trace {
    fn position(&self, id: &str) -> Option<usize> {
        self.put.iter().position(|r| r.id == id)
    }

    /// Each record's first successful processing, in the order it happened.
    pub fn processed(&self) -> Vec<&TraceRecord> {
        let mut seen = std::collections::HashSet::new();
        self.invocations
            .iter()
            .flat_map(|i| i.records.iter().zip(&i.succeeded))
            .filter(|(r, ok)| **ok && seen.insert(r.id.clone()))
            .map(|(r, _)| r)
            .collect()
    }

    /// Records covered by on-failure records, with the condition (`RetryAttemptsExhausted`,
    /// `RecordAgeExceeded`).
    pub fn in_destination(&self) -> Vec<(TraceRecord, String)> {
        let mut covered = Vec::new();
        for record in &self.on_failure {
            let info = &record["KinesisBatchInfo"];
            let condition = record["requestContext"]["condition"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let shard = info["shardId"].as_str().unwrap_or_default();
            let parse = |v: &Value| SequenceNumber::parse(v.as_str().unwrap_or_default());
            let (Some(start), Some(end)) = (
                parse(&info["startSequenceNumber"]),
                parse(&info["endSequenceNumber"]),
            ) else {
                continue;
            };
            for put in &self.put {
                let Some(seq) = SequenceNumber::parse(&put.id) else {
                    continue;
                };
                if shard_of(&put.id) == shard && seq >= start && seq <= end {
                    covered.push((put.clone(), condition.clone()));
                }
            }
        }
        covered
    }

    /// The records S3 on-failure objects carry in their `payload`, decoded, in object order.
    pub fn in_destination_payloads(&self) -> Vec<TraceRecord> {
        let records = self
            .on_failure_objects
            .iter()
            .flat_map(|(_, object)| object["payload"]["Records"].as_array().cloned())
            .flatten();
        records
            .map(|record| {
                let kinesis = &record["kinesis"];
                let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
                TraceRecord {
                    id: text(&kinesis["sequenceNumber"]),
                    key: text(&kinesis["partitionKey"]),
                    data: base64::engine::general_purpose::STANDARD
                        .decode(text(&kinesis["data"]))
                        .unwrap_or_default(),
                }
            })
            .collect()
    }

    /// Asserts that exactly the records with these ids went to the on-failure destination, all
    /// with `condition`.
    #[track_caller]
    pub fn assert_in_destination(&self, ids: &[&str], condition: &str) {
        let covered = self.in_destination();
        let mut got: Vec<&str> = covered.iter().map(|(r, _)| r.id.as_str()).collect();
        got.sort_unstable();
        let mut want = ids.to_vec();
        want.sort_unstable();
        assert_eq!(got, want, "records in the on-failure destination");
        for (record, got_condition) in &covered {
            assert_eq!(got_condition, condition, "condition of {}", record.id);
        }
    }

    /// Asserts that, for every partition key (or message group), records were first processed
    /// successfully in the order they were put.
    #[track_caller]
    pub fn assert_order_per_key(&self) {
        let mut last: HashMap<&str, (usize, &str)> = HashMap::new();
        for record in self.processed() {
            let position = self.position(&record.id).unwrap_or(usize::MAX);
            if let Some((previous, previous_id)) = last.get(record.key.as_str()) {
                assert!(
                    position > *previous,
                    "key {:?}: {} was processed after {} although it was put before it",
                    record.key,
                    record.id,
                    previous_id
                );
            }
            last.insert(&record.key, (position, &record.id));
        }
    }

    /// Asserts that every record put was processed, filtered, sent to the on-failure destination
    /// or moved to the dead-letter queue: nothing vanished.
    #[track_caller]
    pub fn assert_nothing_lost(&self) {
        let processed: std::collections::HashSet<&str> =
            self.processed().iter().map(|r| r.id.as_str()).collect();
        let destination: std::collections::HashSet<String> = self
            .in_destination()
            .into_iter()
            .map(|(r, _)| r.id)
            .collect();
        let mut dead = self.dead_letters.clone();
        for record in &self.put {
            let accounted = processed.contains(record.id.as_str())
                || destination.contains(&record.id)
                || self.filtered.contains(&record.id)
                || take(&mut dead, &record.text());
            assert!(
                accounted,
                "record {} ({:?}) was lost",
                record.id,
                record.text()
            );
        }
    }

    /// How many times the mapping bisected a batch.
    pub fn bisects(&self) -> usize {
        self.journal
            .iter()
            .filter(|e| {
                matches!(
                    &e.kind,
                    riffle_runtime::JournalKind::Decision(
                        riffle_core::kinesis::shard::Decision::Bisected { .. }
                    )
                )
            })
            .count()
    }
}

fn take(bodies: &mut Vec<String>, body: &str) -> bool {
    match bodies.iter().position(|b| b == body) {
        Some(at) => {
            bodies.remove(at);
            true
        }
        None => false,
    }
}

/// `shardId-000000000003` for a sequence number the simulation's stream assigned
/// (`1<shard:04><n:020>`).
fn shard_of(sequence_number: &str) -> String {
    let shard: usize = sequence_number
        .get(1..5)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    format!("shardId-{shard:012}")
}

fn properties<T: DeserializeOwned>(mut properties: Value, defaults: &[(&str, Value)]) -> T {
    let map = properties
        .as_object_mut()
        .expect("mapping properties are a JSON object, e.g. json!({\"BatchSize\": 10})");
    for (name, value) in defaults {
        map.entry(*name).or_insert_with(|| value.clone());
    }
    serde_json::from_value(properties).unwrap_or_else(|e| panic!("mapping properties: {e}"))
}

mod firehose;
mod kinesis;
mod setup;
mod sqs;

pub use firehose::{FirehoseInvocation, FirehoseSimulation, FirehoseTrace, SimObject};
pub use kinesis::KinesisSimulation;
pub use sqs::SqsSimulation;
