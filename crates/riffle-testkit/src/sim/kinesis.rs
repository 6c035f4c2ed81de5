//! [`KinesisSimulation`]: a Kinesis mapping around a handler, on virtual time.

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::kinesis::{KinesisEvent, KinesisTimeWindowEvent};
use lambda_runtime::{Diagnostic, LambdaEvent};
use riffle_clock::Clock;
use riffle_core::destination::DestinationKind;
use riffle_core::filter::Filters;
use riffle_core::kinesis::config::RawKinesisMapping;
use riffle_core::kinesis::response::{Verdict, judge};
use riffle_core::sequence::SequenceNumber;
use riffle_runtime::{
    HandlerInvoker, KinesisMapping, KinesisMappingOptions, MemoryCheckpoints, MemoryDestination,
    MemoryStream, ShardCheckpoint,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tower::Service;
use tower::util::BoxCloneSyncService;

use crate::faults::Faults;

use super::setup::{Setup, setup_builders};
use super::*;

/// A Kinesis mapping around a handler, on virtual time.
///
/// ```
/// use aws_lambda_events::event::kinesis::KinesisEvent;
/// use lambda_runtime::{Error, LambdaEvent, service_fn};
/// use riffle_testkit::KinesisSimulation;
/// use serde_json::json;
///
/// async fn handler(event: LambdaEvent<KinesisEvent>) -> Result<(), Error> {
///     if event.payload.records.iter().any(|r| r.kinesis.data.0 == b"poison") {
///         return Err("poison record".into());
///     }
///     Ok(())
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut sim = KinesisSimulation::new(
///     service_fn(handler),
///     json!({
///         "BatchSize": 10,
///         "BisectBatchOnFunctionError": true,
///         "MaximumRetryAttempts": 1,
///         "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:failures"}},
///     }),
/// );
/// let poison = sim.put("user-1", "poison");
/// for n in 0..5 {
///     sim.put("user-1", format!("ok {n}"));
/// }
/// let trace = sim.run().await;
/// trace.assert_in_destination(&[&poison], "RetryAttemptsExhausted");
/// trace.assert_nothing_lost();
/// trace.assert_order_per_key();
/// # }
/// ```
pub struct KinesisSimulation<H, T = KinesisEvent> {
    handler: H,
    raw: RawKinesisMapping,
    shards: usize,
    stream: MemoryStream,
    setup: Setup,
    last: BTreeMap<String, String>,
    event: PhantomData<fn() -> T>,
}

impl<H> KinesisSimulation<H, KinesisEvent> {
    /// A mapping with `properties` (the template's or CreateEventSourceMapping's names;
    /// EventSourceArn, FunctionName and StartingPosition `TRIM_HORIZON` are filled in if absent)
    /// around `handler` (`service_fn(handler)` taking `LambdaEvent<KinesisEvent>`), on one shard.
    pub fn new(handler: H, mapping: Value) -> Self {
        Self::with_event(handler, mapping)
    }
}

impl<H> KinesisSimulation<H, KinesisTimeWindowEvent> {
    /// Like [`KinesisSimulation::new`] for a tumbling-window handler taking
    /// `LambdaEvent<KinesisTimeWindowEvent>`.
    pub fn windowed(handler: H, mapping: Value) -> Self {
        Self::with_event(handler, mapping)
    }
}

impl<H, T> KinesisSimulation<H, T> {
    fn with_event(handler: H, mapping: Value) -> Self {
        let raw = properties(
            mapping,
            &[
                (
                    "EventSourceArn",
                    "arn:aws:kinesis:us-east-1:000000000000:stream/test-stream".into(),
                ),
                ("FunctionName", "test-function".into()),
                ("StartingPosition", "TRIM_HORIZON".into()),
            ],
        );
        Self {
            handler,
            raw,
            shards: 1,
            stream: MemoryStream::new(1),
            setup: Setup::new(Duration::from_secs(7 * 24 * 3600)),
            last: BTreeMap::new(),
            event: PhantomData,
        }
    }

    /// The stream has `n` shards (call before putting records).
    pub fn shards(mut self, n: usize) -> Self {
        assert!(
            self.setup.put.is_empty(),
            "set the shard count before putting records"
        );
        self.shards = n.max(1);
        self.stream = MemoryStream::new(self.shards);
        self
    }

    setup_builders!();

    /// Puts a record, routed to a shard by the MD5 of its partition key as Kinesis routes it;
    /// returns its sequence number.
    pub fn put(&mut self, partition_key: &str, data: impl Into<Vec<u8>>) -> String {
        let hash = riffle_core::digest::md5_hex(partition_key.as_bytes());
        let high = u128::from_str_radix(&hash, 16).unwrap_or(0);
        // Kinesis splits the 128-bit hash key space evenly between the shards.
        let shard =
            ((high / (u128::MAX / self.shards as u128).max(1)) as usize).min(self.shards - 1);
        let data = data.into();
        let seq = self.stream.put(
            shard,
            partition_key,
            data.clone(),
            self.setup.clock.now_millis(),
        );
        let id = seq.to_string();
        self.last.insert(format!("shardId-{shard:012}"), id.clone());
        self.setup.put.push(TraceRecord {
            id: id.clone(),
            key: partition_key.to_owned(),
            data,
        });
        id
    }

    /// Puts a record whose data is `value` as JSON.
    pub fn put_json(&mut self, partition_key: &str, value: &impl Serialize) -> String {
        let data = serde_json::to_vec(value).expect("the value serializes");
        self.put(partition_key, data)
    }

    /// Runs the mapping until every record put is finished (processed, filtered or sent to the
    /// destination), or the time limit; returns what happened.
    pub async fn run<R, E>(self) -> Trace
    where
        T: DeserializeOwned + Send + 'static,
        H: Service<LambdaEvent<T>, Response = R, Error = E> + Clone + Send + Sync + 'static,
        H::Future: Send + 'static,
        R: Serialize + Send + 'static,
        E: Into<Diagnostic> + Send + 'static,
    {
        let config = self
            .raw
            .validate(self.setup.clock.now_millis())
            .unwrap_or_else(|errors| panic!("invalid mapping: {errors:?}"));
        let filters = Filters::compile(&config.filter_patterns).expect("validated filters");
        let filtered: Vec<String> = (self.setup.put.iter())
            .filter(|r| {
                let record = riffle_core::record::StreamRecord {
                    sequence_number: SequenceNumber::parse(&r.id).expect("our own"),
                    partition_key: r.key.clone(),
                    data: bytes::Bytes::from(r.data.clone()),
                    arrival_ms: 0,
                };
                !filters.passes(&record)
            })
            .map(|r| r.id.clone())
            .collect();
        let handler = HandlerInvoker::<H, T>::new(self.handler, self.setup.timeout);
        let judge = |body: &[u8], records: &[TraceRecord]| {
            let seqs: Vec<SequenceNumber> = records
                .iter()
                .filter_map(|r| SequenceNumber::parse(&r.id))
                .collect();
            match judge(body, &seqs) {
                Verdict::Success => vec![true; records.len()],
                Verdict::PartialFailure(from) => seqs.iter().map(|s| *s < from).collect(),
                Verdict::CompleteFailure(_) => vec![false; records.len()],
            }
        };
        let reports = config.report_batch_item_failures;
        let (invoker, log) =
            (self.setup).invoker(BoxCloneSyncService::new(handler), reports, judge);
        let mut options = KinesisMappingOptions::new(
            "simulation",
            Setup::function_arn(&config.function_name),
            "us-east-1",
        );
        options.function_timeout = self.setup.timeout;
        let destination = MemoryDestination::default();
        let checkpoints = MemoryCheckpoints::default();
        let mapping = Arc::new(KinesisMapping::new(
            config,
            options,
            self.stream,
            invoker,
            destination.clone(),
            checkpoints.clone(),
            Arc::new(self.setup.clock.clone()),
        ));
        let running = Arc::clone(&mapping);
        let last = self.last.clone();
        let watched = checkpoints.clone();
        let finished = (self.setup)
            .run_to_end(
                |stopped| async move { running.run(stopped).await },
                move || {
                    let snapshot = watched.snapshot();
                    last.iter().all(|(shard, seq)| {
                        matches!(snapshot.get(shard), Some(ShardCheckpoint::At(at)) if at == seq)
                            || matches!(snapshot.get(shard), Some(ShardCheckpoint::Finished))
                    })
                },
            )
            .await;
        Trace {
            on_failure: destination
                .received()
                .into_iter()
                .filter_map(|(_, body)| serde_json::from_str(&body).ok())
                .collect(),
            on_failure_objects: destination
                .messages()
                .into_iter()
                .filter(|m| DestinationKind::of(&m.destination) == Some(DestinationKind::S3))
                .filter_map(|m| Some((m.object_key, serde_json::from_str(&m.body).ok()?)))
                .collect(),
            filtered,
            journal: mapping.journal().entries(None),
            checkpoints: checkpoints.snapshot(),
            ..self.setup.trace(&log, finished)
        }
    }
}
