//! Runtime tests: the real `KinesisMapping` driven on a manual clock, with an in-memory stream, a
//! scripted function double and an in-memory destination. No emulator, no network, no sleeping:
//! the test moves the clock and lets the runtime's tasks run until they have nothing left to do.

mod resharding;

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use riffle_clock::{Clock, ManualClock};
use riffle_core::config::{RawDestination, RawDestinationConfig};
use riffle_core::invocation::Outcome;
use riffle_core::kinesis::config::RawKinesisMapping;
use tokio::sync::watch;

use crate::{
    InvokeRequest, KinesisMapping, KinesisMappingOptions, MemoryCheckpoints, MemoryDestination,
    MemoryReader, MemoryStream, ReadBatch, ShardCheckpoint, ShardInfo, ShardReader, ShardStatus,
    SourceError, StartAt, StreamSource,
};

const T0: u64 = 1_700_000_000_000;

/// One invocation the scripted function saw: when, and the data of its records.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    at: u64,
    data: Vec<String>,
}

fn config(
    extra: impl FnOnce(&mut RawKinesisMapping),
) -> riffle_core::kinesis::config::KinesisMappingConfig {
    let mut raw = RawKinesisMapping {
        event_source_arn: Some("arn:aws:kinesis:us-east-1:000000000000:stream/s".into()),
        function_name: Some("f".into()),
        starting_position: Some("TRIM_HORIZON".into()),
        ..RawKinesisMapping::default()
    };
    extra(&mut raw);
    raw.validate(T0).unwrap()
}

struct Harness {
    clock: ManualClock,
    seen: Arc<Mutex<Vec<Seen>>>,
    checkpoints: MemoryCheckpoints,
    destination: MemoryDestination,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    iterator_ages: Box<dyn Fn() -> std::collections::BTreeMap<String, u64>>,
    shards: Box<dyn Fn() -> std::collections::BTreeMap<String, ShardStatus>>,
    journal: Box<dyn Fn() -> Vec<crate::JournalKind>>,
}

/// Starts a mapping over `stream` whose function answers with `script` (given the call number).
fn start(
    stream: impl StreamSource,
    config: riffle_core::kinesis::config::KinesisMappingConfig,
    script: impl Fn(usize) -> Outcome + Send + Sync + 'static,
) -> Harness {
    start_with(stream, config, MemoryCheckpoints::default(), script)
}

/// [`start`] with checkpoints saved before (as after a restart).
fn start_with(
    stream: impl StreamSource,
    config: riffle_core::kinesis::config::KinesisMappingConfig,
    checkpoints: MemoryCheckpoints,
    script: impl Fn(usize) -> Outcome + Send + Sync + 'static,
) -> Harness {
    start_polling(
        stream,
        config,
        checkpoints,
        Duration::from_millis(100),
        script,
    )
}

/// [`start_with`] polling an idle shard every `idle_poll`.
fn start_polling(
    stream: impl StreamSource,
    config: riffle_core::kinesis::config::KinesisMappingConfig,
    checkpoints: MemoryCheckpoints,
    idle_poll: Duration,
    script: impl Fn(usize) -> Outcome + Send + Sync + 'static,
) -> Harness {
    let clock = ManualClock::new(T0);
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let script = Arc::new(script);
    let (recorder, call_clock) = (Arc::clone(&seen), clock.clone());
    let invoker = tower::service_fn(move |request: InvokeRequest| {
        let (recorder, call_clock, script) = (
            Arc::clone(&recorder),
            call_clock.clone(),
            Arc::clone(&script),
        );
        async move {
            let event: serde_json::Value = serde_json::from_str(&request.payload).unwrap();
            let data = event["Records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    use base64::Engine as _;
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(r["kinesis"]["data"].as_str().unwrap())
                        .unwrap();
                    String::from_utf8(bytes).unwrap()
                })
                .collect();
            let number = {
                let mut seen = recorder.lock().unwrap();
                seen.push(Seen {
                    at: call_clock.now_millis() - T0,
                    data,
                });
                seen.len() - 1
            };
            Ok::<Outcome, Infallible>(script(number))
        }
    });
    let destination = MemoryDestination::default();
    let mut options = KinesisMappingOptions::new(
        "m",
        "arn:aws:lambda:us-east-1:000000000000:function:f",
        "us-east-1",
    );
    options.idle_poll = idle_poll;
    options.shard_discovery = Duration::from_millis(500);
    let mapping = KinesisMapping::new(
        config,
        options,
        stream,
        invoker,
        destination.clone(),
        checkpoints.clone(),
        Arc::new(clock.clone()),
    );
    let (stop, stopped) = watch::channel(false);
    let mapping = Arc::new(mapping);
    let running = Arc::clone(&mapping);
    let task = tokio::spawn(async move { running.run(stopped).await.unwrap() });
    let status = Arc::clone(&mapping);
    let shards = Box::new(move || status.metrics().shards());
    let decisions = Arc::clone(&mapping);
    let journal = Box::new(move || {
        decisions
            .journal()
            .entries(None)
            .into_iter()
            .map(|e| e.kind)
            .collect()
    });
    let iterator_ages = Box::new(move || mapping.metrics().iterator_ages());
    Harness {
        shards,
        journal,
        clock,
        seen,
        checkpoints,
        destination,
        stop,
        task,
        iterator_ages,
    }
}

impl Harness {
    /// Moves the clock in `step` increments until `done` holds, or panics after `limit`.
    async fn run_until(&self, step: Duration, limit: Duration, done: impl Fn(&Self) -> bool) {
        let finished = self.clock.run_until(step, limit, || done(self)).await;
        assert!(
            finished,
            "not done after {limit:?} of virtual time; seen: {:?}",
            self.seen.lock().unwrap()
        );
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    async fn stop(self) {
        self.stop.send(true).unwrap();
        ManualClock::settle().await;
        self.task.await.unwrap();
    }
}

fn error() -> Outcome {
    Outcome::function_error("Error", "")
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn retries_wait_for_their_back_off_on_the_injected_clock() {
    let stream = MemoryStream::new(1);
    let last = stream.put(0, "k", "a", T0);
    let script = |n| {
        if n < 2 {
            error()
        } else {
            Outcome::Success(Vec::new())
        }
    };
    // Idle polls every 700 ms, so none lands in the millisecond the batch finishes (1 500 ms),
    // where the shard task's select would pick between the read and the completion at random.
    let harness = start_polling(
        stream,
        config(|_| {}),
        MemoryCheckpoints::default(),
        Duration::from_millis(700),
        script,
    );
    let done = ShardCheckpoint::At(last.to_string());
    harness
        .run_until(Duration::from_millis(100), Duration::from_secs(10), |h| {
            h.checkpoints.snapshot().get("shardId-000000000000") == Some(&done)
        })
        .await;
    let times: Vec<u64> = harness.seen().iter().map(|s| s.at).collect();
    assert_eq!(
        times,
        [0, 500, 1_500],
        "back-off of 0.5 s then 1 s, on the manual clock"
    );
    assert_eq!(
        (harness.iterator_ages)()["shardId-000000000000"],
        1_500,
        "IteratorAge: the last record's age when its batch finished"
    );
    harness.stop().await;
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_discarded_batch_is_checkpointed_only_after_the_destination_accepts_it() {
    let stream = MemoryStream::new(1);
    stream.put(0, "k", "poison", T0);
    let last = stream.put(0, "k", "fine", T0);
    let config = config(|raw| {
        raw.batch_size = Some(1);
        raw.maximum_retry_attempts = Some(0);
        raw.destination_config = Some(RawDestinationConfig {
            on_failure: Some(RawDestination {
                destination: Some("arn:aws:sqs:us-east-1:000000000000:dlq".into()),
            }),
            on_success: None,
        });
    });
    let harness = start(stream, config, |n| {
        if n == 0 {
            error()
        } else {
            Outcome::Success(Vec::new())
        }
    });
    harness.destination.refuse_next(2);
    ManualClock::settle().await;
    assert_eq!(
        harness.seen().len(),
        1,
        "the next record waits behind the undelivered failure"
    );
    assert!(harness.checkpoints.snapshot().is_empty());
    let done = ShardCheckpoint::At(last.to_string());
    harness
        .run_until(Duration::from_millis(100), Duration::from_secs(30), |h| {
            h.checkpoints.snapshot().get("shardId-000000000000") == Some(&done)
        })
        .await;
    let received = harness.destination.received();
    assert_eq!(received.len(), 1);
    let body: serde_json::Value = serde_json::from_str(&received[0].1).unwrap();
    assert_eq!(
        body["requestContext"]["condition"],
        "RetryAttemptsExhausted"
    );
    let deliveries: Vec<_> = (harness.journal)()
        .into_iter()
        .filter(|k| {
            matches!(
                k,
                crate::JournalKind::Delivered { .. } | crate::JournalKind::DeliveryError { .. }
            )
        })
        .collect();
    assert_eq!(
        deliveries.len(),
        3,
        "two refusals, then the delivery: {deliveries:?}"
    );
    assert_eq!(
        deliveries[2],
        crate::JournalKind::Delivered {
            destination: "arn:aws:sqs:us-east-1:000000000000:dlq".into()
        }
    );
    assert_eq!(harness.seen().len(), 2);
    assert_eq!(harness.seen()[1].data, ["fine"]);
    harness.stop().await;
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn child_shards_start_only_after_their_parent_is_finished() {
    let stream = MemoryStream::new(1);
    stream.put(0, "k", "parent-1", T0);
    stream.put(0, "k", "parent-2", T0);
    stream.close(0);
    let left = stream.add_shard(Some("shardId-000000000000"), None);
    let right = stream.add_shard(Some("shardId-000000000000"), None);
    stream.put(1, "k", "left-1", T0);
    stream.put(2, "k", "right-1", T0);
    // The parent's function call fails twice, so the children have time to start early if
    // the runtime ignored the lineage.
    let harness = start(stream, config(|_| {}), |n| {
        if n < 2 {
            error()
        } else {
            Outcome::Success(Vec::new())
        }
    });
    harness
        .run_until(Duration::from_millis(100), Duration::from_secs(30), |h| {
            h.seen().len() == 5
        })
        .await;
    let order: Vec<Vec<String>> = harness.seen().into_iter().map(|s| s.data).collect();
    assert_eq!(order[..3], vec![vec!["parent-1", "parent-2"]; 3]);
    let mut children: Vec<String> = order[3..].iter().flatten().cloned().collect();
    children.sort();
    assert_eq!(children, ["left-1", "right-1"]);
    assert_eq!(
        harness.checkpoints.snapshot()["shardId-000000000000"],
        ShardCheckpoint::Finished
    );
    assert!(harness.checkpoints.snapshot().contains_key(&left));
    assert!(harness.checkpoints.snapshot().contains_key(&right));
    harness.stop().await;
}

/// A stream whose reads after each shard's first wait for a permit of `gate`: a read that takes
/// as long as the test wants.
#[derive(Clone)]
struct GatedStream {
    stream: MemoryStream,
    gate: Arc<tokio::sync::Semaphore>,
}

struct GatedReader {
    inner: MemoryReader,
    reads: usize,
    gate: Arc<tokio::sync::Semaphore>,
}

impl StreamSource for GatedStream {
    type Reader = GatedReader;

    async fn list_shards(&self) -> Result<Vec<ShardInfo>, SourceError> {
        self.stream.list_shards().await
    }

    async fn retention_ms(&self) -> Result<u64, SourceError> {
        self.stream.retention_ms().await
    }

    async fn open(&self, shard_id: &str, start: StartAt) -> Result<GatedReader, SourceError> {
        Ok(GatedReader {
            inner: self.stream.open(shard_id, start).await?,
            reads: 0,
            gate: Arc::clone(&self.gate),
        })
    }
}

impl ShardReader for GatedReader {
    async fn read(&mut self, limit: usize) -> Result<ReadBatch, SourceError> {
        self.reads += 1;
        if self.reads > 1 {
            self.gate.acquire().await.expect("gate open").forget();
        }
        self.inner.read(limit).await
    }
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_slow_read_does_not_hold_up_finished_invocations() {
    let stream = MemoryStream::new(1);
    stream.put(0, "k", "a", T0);
    let last = stream.put(0, "k", "b", T0);
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let gated = GatedStream {
        stream,
        gate: Arc::clone(&gate),
    };
    let harness = start(gated, config(|_| {}), |_| Outcome::Success(Vec::new()));
    let done = ShardCheckpoint::At(last.to_string());
    // The second read never returns while the gate is shut; the batch of the first read must
    // still finish and be checkpointed.
    harness
        .run_until(Duration::from_millis(100), Duration::from_secs(5), |h| {
            h.checkpoints.snapshot().get("shardId-000000000000") == Some(&done)
        })
        .await;
    assert_eq!(harness.seen().len(), 1);
    let status = (harness.shards)()["shardId-000000000000"].clone();
    assert_eq!(
        status,
        ShardStatus {
            iterator_age_ms: Some(0),
            in_flight: 0,
            buffered: 0,
            checkpoint: Some(last.clone()),
            position: Some(last.clone()),
            invocations: 1,
            ..ShardStatus::default()
        },
        "the status view's numbers: read up to b, checkpointed at b, nothing under way"
    );
    gate.add_permits(1_000);
    harness.stop().await;
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn an_idle_caught_up_shard_has_iterator_age_zero_not_its_last_batchs() {
    let stream = MemoryStream::new(1);
    let last = stream.put(0, "k", "a", T0);
    // One error, then success after the 0.5 s back-off: the batch finishes 500 ms old. Idle
    // polls every 300 ms (at 0, 300, 600 ms), so none lands in the millisecond the batch
    // finishes, where which of the two the shard task sees first is the select's pick.
    let script = |n| {
        if n == 0 {
            error()
        } else {
            Outcome::Success(Vec::new())
        }
    };
    let harness = start_polling(
        stream,
        config(|_| {}),
        MemoryCheckpoints::default(),
        Duration::from_millis(300),
        script,
    );
    let shard = "shardId-000000000000";
    let done = ShardCheckpoint::At(last.to_string());
    harness
        .run_until(Duration::from_millis(100), Duration::from_secs(10), |h| {
            h.checkpoints.snapshot().get(shard) == Some(&done)
        })
        .await;
    let status = (harness.shards)()[shard].clone();
    assert_eq!(
        (status.iterator_age_ms, status.caught_up),
        (Some(500), false),
        "the batch's age when it finished"
    );
    // The next poll (at 600 ms) finds nothing new, millisBehindLatest 0.
    harness
        .run_until(Duration::from_millis(100), Duration::from_secs(2), |h| {
            (h.shards)()[shard].caught_up
        })
        .await;
    assert_eq!((harness.shards)()[shard].iterator_age_ms, Some(0));
    assert_eq!((harness.iterator_ages)()[shard], 0);
    harness.stop().await;
}
