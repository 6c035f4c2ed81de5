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
use std::marker::PhantomData;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lambda_events::event::kinesis::{KinesisEvent, KinesisTimeWindowEvent};
use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Diagnostic, LambdaEvent};
use riffle_clock::{Clock, ManualClock};
use riffle_core::filter::Filters;
use riffle_core::invocation::Outcome;
use riffle_core::kinesis::config::RawKinesisMapping;
use riffle_core::kinesis::response::{Verdict, judge};
use riffle_core::sequence::SequenceNumber;
use riffle_core::sqs::config::{RawSqsMapping, SqsFacts};
use riffle_core::sqs::event::QueueMessage;
use riffle_core::sqs::poller::PollerSettings;
use riffle_core::sqs::response as sqs_response;
use riffle_core::time::Millis;
use riffle_runtime::{
    HandlerInvoker, InvokeRequest, JournalEvent, Mapping, MappingOptions, MemoryCheckpoints,
    MemoryDestination, MemoryQueue, MemoryStream, QueueJournalEvent, QueueMapping, QueueOptions,
    ShardCheckpoint,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::watch;
use tower::util::BoxCloneSyncService;
use tower::{Service, ServiceExt};

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
#[derive(Debug, Clone)]
pub struct Trace {
    /// Every invocation, in completion order.
    pub invocations: Vec<TraceInvocation>,
    /// Every record put (or message sent), in order.
    pub put: Vec<TraceRecord>,
    /// On-failure invocation records sent to the destination (Kinesis), as JSON.
    pub on_failure: Vec<Value>,
    /// Bodies that ended in the dead-letter queue (SQS with a redrive policy).
    pub dead_letters: Vec<String>,
    /// Bodies still in the queue at the end (SQS).
    pub left_in_queue: Vec<String>,
    /// Ids of records the filters dropped.
    pub filtered: Vec<String>,
    /// The Kinesis mapping's decision journal.
    pub journal: Vec<JournalEvent>,
    /// The SQS mapping's decision journal.
    pub queue_journal: Vec<QueueJournalEvent>,
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

type Invoker = BoxCloneSyncService<InvokeRequest, Outcome, Infallible>;
type Judge = dyn Fn(&Outcome, &[TraceRecord]) -> Vec<bool> + Send + Sync;

/// Wraps the handler's invoker: applies faults and records every invocation.
fn recording(
    inner: Invoker,
    faults: Faults,
    clock: ManualClock,
    timeout: Duration,
    log: Arc<Mutex<Vec<TraceInvocation>>>,
    judge: Arc<Judge>,
) -> Invoker {
    let counter = Arc::new(AtomicUsize::new(0));
    BoxCloneSyncService::new(tower::service_fn(move |request: InvokeRequest| {
        let (inner, faults, clock, log, judge, counter) = (
            inner.clone(),
            faults.clone(),
            clock.clone(),
            Arc::clone(&log),
            Arc::clone(&judge),
            Arc::clone(&counter),
        );
        async move {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let at_ms = clock.now_millis() - SIMULATION_EPOCH_MS;
            let records = records_of(&request.payload);
            let fault = faults.fault_for(n, &records);
            let (request_id, payload) = (request.request_id.clone(), request.payload.clone());
            let outcome = match &fault {
                Some(Fault::Error(error_type)) => {
                    Outcome::function_error(error_type.clone(), "injected by the simulation")
                }
                Some(Fault::Timeout) => {
                    clock
                        .sleep_until(clock.now_millis() + timeout.as_millis() as Millis)
                        .await;
                    Outcome::function_error(
                        "Sandbox.Timedout",
                        format!("Task timed out after {:.2} seconds", timeout.as_secs_f64()),
                    )
                }
                Some(Fault::Throttle) => Outcome::Throttled,
                Some(Fault::Respond(body)) => Outcome::Success(body.clone().into_bytes()),
                None => inner
                    .oneshot(request)
                    .await
                    .unwrap_or_else(|never| match never {}),
            };
            let succeeded = judge(&outcome, &records);
            log.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(TraceInvocation {
                    at_ms,
                    request_id,
                    records,
                    outcome: outcome.clone(),
                    fault,
                    payload,
                    succeeded,
                });
            Ok::<_, Infallible>(outcome)
        }
    }))
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

/// Runs a mapping (`run`, given its stop switch) on a task while driving `clock` until `done`
/// or `limit`, then stops it; true if `done` held.
async fn run_to_end<F>(
    clock: &ManualClock,
    limit: Duration,
    run: impl FnOnce(watch::Receiver<bool>) -> F,
    done: impl Fn() -> bool,
) -> bool
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(run(stopped));
    let finished = drive(clock, limit, done).await;
    let _ = stop.send(true);
    ManualClock::settle().await;
    task.abort();
    let _ = task.await;
    finished
}

/// Drives `clock` from one scheduled wake-up to the next until `done` or `limit`.
async fn drive(clock: &ManualClock, limit: Duration, done: impl Fn() -> bool) -> bool {
    let end = SIMULATION_EPOCH_MS + limit.as_millis() as Millis;
    loop {
        ManualClock::settle().await;
        if done() {
            return true;
        }
        match clock.next_deadline() {
            Some(next) if next <= end => clock.set(next.max(clock.now_millis())),
            _ => return false,
        }
    }
}

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
    clock: ManualClock,
    faults: Faults,
    timeout: Duration,
    limit: Duration,
    put: Vec<TraceRecord>,
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
            clock: ManualClock::new(SIMULATION_EPOCH_MS),
            faults: Faults::new(),
            timeout: Duration::from_secs(3),
            limit: Duration::from_secs(7 * 24 * 3600),
            put: Vec::new(),
            last: BTreeMap::new(),
            event: PhantomData,
        }
    }

    /// The stream has `n` shards (call before putting records).
    pub fn shards(mut self, n: usize) -> Self {
        assert!(
            self.put.is_empty(),
            "set the shard count before putting records"
        );
        self.shards = n.max(1);
        self.stream = MemoryStream::new(self.shards);
        self
    }

    /// Injects `faults`.
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// The function's Timeout (default 3 s).
    pub fn function_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Stops the simulation after this much virtual time (default 7 days).
    pub fn time_limit(mut self, limit: Duration) -> Self {
        self.limit = limit;
        self
    }

    /// Moves virtual time forward before the next puts (so they arrive later).
    pub fn advance(&mut self, by: Duration) {
        self.clock.advance(by);
    }

    /// Puts a record, routed to a shard by the MD5 of its partition key as Kinesis routes it;
    /// returns its sequence number.
    pub fn put(&mut self, partition_key: &str, data: impl Into<Vec<u8>>) -> String {
        let hash = riffle_core::digest::md5_hex(partition_key.as_bytes());
        let high = u128::from_str_radix(&hash, 16).unwrap_or(0);
        // Kinesis splits the 128-bit hash key space evenly between the shards.
        let shard =
            ((high / (u128::MAX / self.shards as u128).max(1)) as usize).min(self.shards - 1);
        let data = data.into();
        let seq = self
            .stream
            .put(shard, partition_key, data.clone(), self.clock.now_millis());
        let id = seq.to_string();
        self.last.insert(format!("shardId-{shard:012}"), id.clone());
        self.put.push(TraceRecord {
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
            .validate(self.clock.now_millis())
            .unwrap_or_else(|errors| panic!("invalid mapping: {errors:?}"));
        let filters = Filters::compile(&config.filter_patterns).expect("validated filters");
        let filtered: Vec<String> = self
            .put
            .iter()
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
        let report = config.report_batch_item_failures;
        let judge: Arc<Judge> = Arc::new(move |outcome, records| match outcome {
            Outcome::Success(body) if report => {
                let seqs: Vec<SequenceNumber> = records
                    .iter()
                    .filter_map(|r| SequenceNumber::parse(&r.id))
                    .collect();
                match judge(body, &seqs) {
                    Verdict::Success => vec![true; records.len()],
                    Verdict::PartialFailure(from) => seqs.iter().map(|s| *s < from).collect(),
                    Verdict::CompleteFailure(_) => vec![false; records.len()],
                }
            }
            Outcome::Success(_) => vec![true; records.len()],
            _ => vec![false; records.len()],
        });
        let log: Arc<Mutex<Vec<TraceInvocation>>> = Arc::default();
        let handler = HandlerInvoker::<H, T>::new(self.handler, self.timeout);
        let invoker = recording(
            BoxCloneSyncService::new(handler),
            self.faults,
            self.clock.clone(),
            self.timeout,
            Arc::clone(&log),
            judge,
        );
        let mut options = MappingOptions::new(
            "simulation",
            format!(
                "arn:aws:lambda:us-east-1:000000000000:function:{}",
                config.function_name
            ),
            "us-east-1",
        );
        options.function_timeout = self.timeout;
        let destination = MemoryDestination::default();
        let checkpoints = MemoryCheckpoints::default();
        let mapping = Arc::new(Mapping::new(
            config,
            options,
            self.stream,
            invoker,
            destination.clone(),
            checkpoints.clone(),
            Arc::new(self.clock.clone()),
        ));
        let running = Arc::clone(&mapping);
        let last = self.last.clone();
        let finished = run_to_end(
            &self.clock,
            self.limit,
            |stopped| async move { running.run(stopped).await },
            || {
                let snapshot = checkpoints.snapshot();
                last.iter().all(|(shard, seq)| {
                    matches!(snapshot.get(shard), Some(ShardCheckpoint::At(at)) if at == seq)
                        || matches!(snapshot.get(shard), Some(ShardCheckpoint::Finished))
                })
            },
        )
        .await;
        let invocations = log.lock().unwrap_or_else(|p| p.into_inner()).clone();
        Trace {
            invocations,
            put: self.put,
            on_failure: destination
                .received()
                .into_iter()
                .filter_map(|(_, body)| serde_json::from_str(&body).ok())
                .collect(),
            dead_letters: Vec::new(),
            left_in_queue: Vec::new(),
            filtered,
            journal: mapping.journal().entries(None),
            queue_journal: Vec::new(),
            checkpoints: checkpoints.snapshot(),
            finished,
            elapsed: Duration::from_millis(self.clock.now_millis() - SIMULATION_EPOCH_MS),
        }
    }
}

/// An SQS mapping around a handler, on virtual time, over an in-memory queue with SQS's
/// visibility timeouts and, if asked, a dead-letter queue.
///
/// ```
/// use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
/// use lambda_runtime::{Error, LambdaEvent, service_fn};
/// use riffle_testkit::QueueSimulation;
/// use serde_json::json;
///
/// async fn handler(event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
///     let mut response = SqsBatchResponse::default();
///     for message in &event.payload.records {
///         if message.body.as_deref() == Some("bad") {
///             let mut failure = BatchItemFailure::default();
///             failure.item_identifier = message.message_id.clone().unwrap_or_default();
///             response.batch_item_failures.push(failure);
///         }
///     }
///     Ok(response)
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut sim = QueueSimulation::new(
///     service_fn(handler),
///     json!({"FunctionResponseTypes": ["ReportBatchItemFailures"]}),
/// )
/// .redrive(3);
/// sim.send("good");
/// sim.send("bad");
/// let trace = sim.run().await;
/// assert_eq!(trace.dead_letters, ["bad"], "three receives, then the dead-letter queue");
/// trace.assert_nothing_lost();
/// # }
/// ```
pub struct QueueSimulation<H> {
    handler: H,
    raw: RawSqsMapping,
    clock: ManualClock,
    queue: MemoryQueue,
    dead_letter: Option<MemoryQueue>,
    visibility: Duration,
    faults: Faults,
    timeout: Duration,
    limit: Duration,
    put: Vec<TraceRecord>,
}

impl<H> QueueSimulation<H> {
    /// A mapping with `properties` (EventSourceArn and FunctionName filled in if absent) around
    /// `handler` (`service_fn(handler)` taking `LambdaEvent<SqsEvent>`), on a standard queue
    /// with a 30 s visibility timeout.
    pub fn new(handler: H, mapping: Value) -> Self {
        Self::on_queue(handler, mapping, "test-queue")
    }

    /// Like [`QueueSimulation::new`] on a FIFO queue.
    pub fn fifo(handler: H, mapping: Value) -> Self {
        Self::on_queue(handler, mapping, "test-queue.fifo")
    }

    fn on_queue(handler: H, mapping: Value, name: &str) -> Self {
        let clock = ManualClock::new(SIMULATION_EPOCH_MS);
        let visibility = Duration::from_secs(30);
        let queue = MemoryQueue::new(
            name,
            visibility.as_millis() as Millis,
            Arc::new(clock.clone()),
        );
        let raw = properties(
            mapping,
            &[
                ("EventSourceArn", queue.arn().into()),
                ("FunctionName", "test-function".into()),
            ],
        );
        Self {
            handler,
            raw,
            clock,
            queue,
            dead_letter: None,
            visibility,
            faults: Faults::new(),
            timeout: Duration::from_secs(3),
            limit: Duration::from_secs(24 * 3600),
            put: Vec::new(),
        }
    }

    /// The queue's VisibilityTimeout (default 30 s; call before sending).
    pub fn visibility_timeout(mut self, timeout: Duration) -> Self {
        assert!(
            self.put.is_empty(),
            "set the visibility timeout before sending"
        );
        let name = self
            .queue
            .arn()
            .rsplit(':')
            .next()
            .unwrap_or("test-queue")
            .to_owned();
        self.visibility = timeout;
        self.queue = MemoryQueue::new(
            &name,
            timeout.as_millis() as Millis,
            Arc::new(self.clock.clone()),
        );
        self
    }

    /// Gives the queue a RedrivePolicy to a dead-letter queue after `max_receive_count` receives.
    pub fn redrive(mut self, max_receive_count: u32) -> Self {
        let dead_letter = MemoryQueue::new(
            "test-queue-dlq",
            self.visibility.as_millis() as Millis,
            Arc::new(self.clock.clone()),
        );
        self.queue.redrive_to(&dead_letter, max_receive_count);
        self.dead_letter = Some(dead_letter);
        self
    }

    /// Injects `faults`.
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// The function's Timeout (default 3 s; the queue's visibility timeout must not be shorter).
    pub fn function_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Stops the simulation after this much virtual time (default 24 h).
    pub fn time_limit(mut self, limit: Duration) -> Self {
        self.limit = limit;
        self
    }

    /// Moves virtual time forward before the next sends.
    pub fn advance(&mut self, by: Duration) {
        self.clock.advance(by);
    }

    /// Sends a message; returns its id.
    pub fn send(&mut self, body: impl Into<String>) -> String {
        self.send_to_group(body, None)
    }

    /// Sends a message whose body is `value` as JSON.
    pub fn send_json(&mut self, value: &impl Serialize) -> String {
        self.send(serde_json::to_string(value).expect("the value serializes"))
    }

    /// Sends a message to a FIFO message group.
    pub fn send_to_group(&mut self, body: impl Into<String>, group: Option<&str>) -> String {
        let body = body.into();
        let id = self.queue.send_to_group(body.clone(), group);
        self.put.push(TraceRecord {
            id: id.clone(),
            key: group.unwrap_or_default().to_owned(),
            data: body.into_bytes(),
        });
        id
    }

    /// Runs the mapping until the queue is empty (everything deleted or dead-lettered), or the
    /// time limit; returns what happened.
    pub async fn run<R, E>(self) -> Trace
    where
        H: Service<LambdaEvent<SqsEvent>, Response = R, Error = E> + Clone + Send + Sync + 'static,
        H::Future: Send + 'static,
        R: Serialize + Send + 'static,
        E: Into<Diagnostic> + Send + 'static,
    {
        let facts = SqsFacts {
            fifo: self.queue.arn().ends_with(".fifo"),
            visibility_timeout_seconds: self.visibility.as_secs(),
            function_timeout_seconds: self.timeout.as_secs(),
        };
        let config = self
            .raw
            .validate(facts)
            .unwrap_or_else(|errors| panic!("invalid mapping: {errors:?}"));
        let settings = PollerSettings::new(&config, "us-east-1", facts)
            .unwrap_or_else(|e| panic!("invalid mapping: {e}"));
        let filtered: Vec<String> = self
            .put
            .iter()
            .filter(|r| {
                !settings.filters.passes_message(&QueueMessage {
                    message_id: r.id.clone(),
                    receipt_handle: String::new(),
                    body: r.text(),
                    md5_of_body: String::new(),
                    attributes: Vec::new(),
                    message_attributes: Vec::new(),
                    md5_of_message_attributes: None,
                })
            })
            .map(|r| r.id.clone())
            .collect();
        let report = config.report_batch_item_failures;
        let judge: Arc<Judge> = Arc::new(move |outcome, records| match outcome {
            Outcome::Success(body) if report => {
                let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
                match sqs_response::judge(body, &ids) {
                    sqs_response::Verdict::Success => vec![true; records.len()],
                    sqs_response::Verdict::PartialFailure(failed) => {
                        records.iter().map(|r| !failed.contains(&r.id)).collect()
                    }
                    sqs_response::Verdict::CompleteFailure(_) => vec![false; records.len()],
                }
            }
            Outcome::Success(_) => vec![true; records.len()],
            _ => vec![false; records.len()],
        });
        let log: Arc<Mutex<Vec<TraceInvocation>>> = Arc::default();
        let handler = HandlerInvoker::<H, SqsEvent>::new(self.handler, self.timeout);
        let invoker = recording(
            BoxCloneSyncService::new(handler),
            self.faults,
            self.clock.clone(),
            self.timeout,
            Arc::clone(&log),
            judge,
        );
        let mapping = Arc::new(QueueMapping::new(
            settings,
            QueueOptions::new(
                "simulation",
                format!(
                    "arn:aws:lambda:us-east-1:000000000000:function:{}",
                    config.function_name
                ),
                self.timeout,
            ),
            self.queue.clone(),
            invoker,
            Arc::new(self.clock.clone()),
        ));
        let running = Arc::clone(&mapping);
        let queue = self.queue.clone();
        let finished = run_to_end(
            &self.clock,
            self.limit,
            |stopped| async move { running.run(stopped).await },
            || queue.bodies().is_empty(),
        )
        .await;
        let invocations = log.lock().unwrap_or_else(|p| p.into_inner()).clone();
        Trace {
            invocations,
            put: self.put,
            on_failure: Vec::new(),
            dead_letters: self.dead_letter.map(|q| q.bodies()).unwrap_or_default(),
            left_in_queue: self.queue.bodies(),
            filtered,
            journal: Vec::new(),
            queue_journal: mapping.journal(),
            checkpoints: BTreeMap::new(),
            finished,
            elapsed: Duration::from_millis(self.clock.now_millis() - SIMULATION_EPOCH_MS),
        }
    }
}
