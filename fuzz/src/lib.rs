//! Harness shared by the fuzz targets: a Kinesis service seeded with a stream that has shards and
//! records (so inputs reach past "stream not found"), and the checks every answer must pass.
//!
//! The checks, after every call:
//! - an error carries an error code that the AWS API model lists for that operation (or one of
//!   the codes common to every AWS JSON operation), and a non-empty message;
//! - a success is a JSON object, and a refused request leaves the store as it was;
//! - the store's invariants hold: the open shards of every stream tile the hash key space
//!   without gaps or overlaps, shard ordinals match their index, parents precede children, and
//!   each shard's records have consecutive counters and non-decreasing arrival times.

use std::sync::{Arc, OnceLock};

use riffle_emulator::kinesis::store::{KinesisStore, StoreSettings};
use riffle_emulator::kinesis::{Action, Kinesis};
use riffle_emulator::{Clock, ManualClock};
use serde_json::{Map, Value};
use tokio::runtime::Runtime;

/// Every operation the emulator implements, then (last) one it must refuse as unknown.
pub const OPERATIONS: [&str; 20] = [
    "CreateStream",
    "DeleteStream",
    "DescribeStream",
    "DescribeStreamSummary",
    "ListStreams",
    "ListShards",
    "PutRecord",
    "PutRecords",
    "GetShardIterator",
    "GetRecords",
    "IncreaseStreamRetentionPeriod",
    "DecreaseStreamRetentionPeriod",
    "SplitShard",
    "MergeShards",
    "UpdateShardCount",
    "AddTagsToStream",
    "RemoveTagsFromStream",
    "ListTagsForStream",
    "DescribeLimits",
    "FrobnicateStream",
];

/// The operations the emulator implements (all of [`OPERATIONS`] but the last).
pub const KNOWN: &[&str] = OPERATIONS.split_last().expect("not empty").1;

/// The fixed time the harness clock starts at (epoch milliseconds).
pub const START_MS: u64 = 1_700_000_000_000;

/// Name of the stream the harness creates before every input.
pub const SEEDED_STREAM: &str = "s";

/// Error codes any AWS JSON 1.1 operation may answer with, whatever its model lists.
const COMMON_ERRORS: [&str; 3] = [
    "ValidationException",
    "SerializationException",
    "InternalFailure",
];

/// The errors the Kinesis API model (botocore `kinesis/2013-12-02/service-2.json`) lists for
/// `operation`, besides [`COMMON_ERRORS`]. KMS errors are left out: the emulator has no KMS.
pub fn modeled_errors(operation: &str) -> &'static [&'static str] {
    const NF: &str = "ResourceNotFoundException";
    const LE: &str = "LimitExceededException";
    const IA: &str = "InvalidArgumentException";
    const IU: &str = "ResourceInUseException";
    const AD: &str = "AccessDeniedException";
    const PT: &str = "ProvisionedThroughputExceededException";
    const IF: &str = "InternalFailureException";
    match operation {
        "CreateStream" => &[IU, LE, IA],
        "DeleteStream" => &[NF, LE, IU, IA, AD],
        "DescribeStream" | "DescribeStreamSummary" | "ListTagsForStream" => &[NF, LE, IA, AD],
        "ListStreams" => &[LE, "ExpiredNextTokenException", IA],
        "ListShards" => &[NF, IA, LE, "ExpiredNextTokenException", IU, AD],
        "PutRecord" | "PutRecords" | "GetShardIterator" => &[NF, IA, PT, AD, IF],
        "GetRecords" => &[NF, IA, PT, "ExpiredIteratorException", AD, IF],
        "IncreaseStreamRetentionPeriod"
        | "DecreaseStreamRetentionPeriod"
        | "SplitShard"
        | "MergeShards"
        | "UpdateShardCount"
        | "AddTagsToStream"
        | "RemoveTagsFromStream" => &[NF, IU, IA, LE, AD],
        "DescribeLimits" => &[LE],
        _ => &[],
    }
}

/// The whole store as text, for comparing two states (hash keys are `u128`, which JSON values
/// cannot hold).
fn state_text(store: &KinesisStore) -> String {
    format!("{store:?}")
}

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime")
    })
}

/// A fresh Kinesis service on a manual clock, seeded with stream [`SEEDED_STREAM`] (2 shards,
/// 6 records spread over both).
pub struct Harness {
    /// The service under test.
    pub kinesis: Kinesis,
    /// Its clock, which only moves when the input says so.
    pub clock: ManualClock,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    /// A seeded service: a copy of one seeded once per process (seeding panics if it fails).
    pub fn new() -> Self {
        static SEEDED: OnceLock<(KinesisStore, u64)> = OnceLock::new();
        let (store, now) = SEEDED.get_or_init(|| {
            let harness = Self::empty();
            harness.seed();
            let store = harness.kinesis.lock().clone();
            (store, harness.clock.now_millis())
        });
        let clock = ManualClock::new(*now);
        let kinesis = Kinesis::new(store.clone(), Arc::new(clock.clone()), None);
        Self { kinesis, clock }
    }

    /// A service with no streams, at [`START_MS`].
    pub fn empty() -> Self {
        let clock = ManualClock::new(START_MS);
        let store = KinesisStore::new(StoreSettings::new("us-east-1", "000000000000"), [7u8; 16]);
        let kinesis = Kinesis::new(store, Arc::new(clock.clone()), None);
        Self { kinesis, clock }
    }

    fn seed(&self) {
        let seed: [(&str, &str); 3] = [
            ("CreateStream", r#"{"StreamName":"s","ShardCount":2}"#),
            (
                "PutRecords",
                r#"{"StreamName":"s","Records":[
                    {"Data":"AA==","PartitionKey":"a"},
                    {"Data":"aGVsbG8=","PartitionKey":"b"},
                    {"Data":"","PartitionKey":"c"},
                    {"Data":"/w==","PartitionKey":"d","ExplicitHashKey":"0"},
                    {"Data":"eA==","PartitionKey":"e",
                     "ExplicitHashKey":"340282366920938463463374607431768211455"}]}"#,
            ),
            (
                "AddTagsToStream",
                r#"{"StreamName":"s","Tags":{"team":"riffle","env":""}}"#,
            ),
        ];
        for (operation, body) in seed {
            self.call(operation, body.as_bytes())
                .unwrap_or_else(|(code, message)| panic!("seeding {operation}: {code}: {message}"));
        }
        self.clock.advance(std::time::Duration::from_millis(1500));
        self.call(
            "PutRecord",
            br#"{"StreamName":"s","Data":"bGF0ZQ==","PartitionKey":"f"}"#,
        )
        .expect("seeding PutRecord");
    }

    /// Runs `operation` on `body` and checks the answer and the store afterwards.
    ///
    /// Returns the parsed response, or the error's code and message.
    pub fn call(&self, operation: &str, body: &[u8]) -> Result<Value, (String, String)> {
        let before = self.kinesis.lock().clone();
        let result = operation
            .parse::<Action>()
            .and_then(|action| runtime().block_on(self.kinesis.call(action, body)));
        let outcome = match result {
            Ok(bytes) => {
                let parsed: Map<String, Value> =
                    serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                        panic!(
                            "{operation} answered a body that is not a JSON object ({e}): {}",
                            String::from_utf8_lossy(&bytes)
                        )
                    });
                assert!(
                    KNOWN.contains(&operation),
                    "unknown operation {operation:?} succeeded"
                );
                Ok(Value::Object(parsed))
            }
            Err(error) => {
                let code = error.code.as_str();
                let allowed = if KNOWN.contains(&operation) {
                    COMMON_ERRORS.contains(&code) || modeled_errors(operation).contains(&code)
                } else {
                    code == "UnknownOperationException"
                };
                assert!(
                    allowed,
                    "{operation} answered {code}, which AWS does not list for it: {}",
                    error.message
                );
                assert!(
                    !error.message.trim().is_empty(),
                    "{operation} answered {code} with an empty message"
                );
                // A refused request changes nothing, apart from what the passing of time does
                // anyway (trimming expired records, finishing deletions), which `tick` applies
                // to both sides.
                let now = self.clock.now_millis();
                let mut after = self.kinesis.lock().clone();
                let mut before = before;
                before.tick(now);
                after.tick(now);
                let (before, after) = (state_text(&before), state_text(&after));
                assert!(
                    before == after,
                    "{operation} answered {code} but changed the store:\n\
                     before: {before}\nafter:  {after}"
                );
                Err((code.to_owned(), error.message))
            }
        };
        self.check_invariants();
        outcome
    }

    /// Asserts the store's structural invariants.
    pub fn check_invariants(&self) {
        let store = self.kinesis.lock();
        for (name, stream) in &store.streams {
            assert_eq!(name, &stream.name, "stream stored under another name");
            for (index, shard) in stream.shards.iter().enumerate() {
                assert_eq!(
                    shard.ordinal as usize, index,
                    "{name}: shard ordinal is not its index"
                );
                assert!(
                    shard.starting_hash_key <= shard.ending_hash_key,
                    "{name}: shard {index} has an empty hash key range"
                );
                for parent in shard.parent.iter().chain(&shard.adjacent_parent) {
                    assert!(
                        (*parent as usize) < index,
                        "{name}: shard {index} precedes its parent"
                    );
                    assert!(
                        !stream.shards[*parent as usize].is_open(),
                        "{name}: shard {index} has an open parent {parent}"
                    );
                }
                let mut expected = shard.records.front().map(|r| r.counter);
                let mut arrival = 0;
                for record in &shard.records {
                    assert_eq!(
                        Some(record.counter),
                        expected,
                        "{name}/{index}: counter gap"
                    );
                    assert!(
                        record.arrival_ms >= arrival,
                        "{name}/{index}: arrival went back"
                    );
                    expected = record.counter.checked_add(1);
                    arrival = record.arrival_ms;
                }
                if let Some(last) = shard.records.back() {
                    assert_eq!(
                        last.counter, shard.last_counter,
                        "{name}/{index}: last counter"
                    );
                }
            }
            let mut open: Vec<(u128, u128)> = stream
                .open_shards()
                .map(|s| (s.starting_hash_key, s.ending_hash_key))
                .collect();
            open.sort_unstable();
            assert!(!open.is_empty(), "{name}: no open shard");
            assert_eq!(open[0].0, 0, "{name}: hash key 0 is not covered");
            assert_eq!(
                open[open.len() - 1].1,
                u128::MAX,
                "{name}: hash key 2^128-1 not covered"
            );
            for pair in open.windows(2) {
                assert_eq!(
                    pair[0].1.checked_add(1),
                    Some(pair[1].0),
                    "{name}: open shards {pair:?} leave a gap or overlap"
                );
            }
        }
    }
}
