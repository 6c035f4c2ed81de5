//! Scenario scripts of Kinesis mappings (see `riffle_core::testscript`): the real
//! `KinesisMapping` on a manual clock, with an in-memory stream, a scripted function and an
//! in-memory destination. No emulator, no network, no sleeping: `run` moves the clock in steps
//! and lets the tasks run until they wait on it. Each file under `kinesis/mapping/testscripts/`
//! is one test.
//!
//! Commands (labels are the records' data):
//! - `stream [shards=N]`: a new stream of N open shards (default 1); T0 again.
//! - `put SHARD DATA… [age=MS]`: records on shard number SHARD, arrived at T0 − age (records
//!   are named by their data: checkpoints and positions print as it).
//! - `close SHARD`: shard number SHARD takes no more writes.
//! - `reshard PARENT [adjacent=SHARD]`: a new shard, child of shard number PARENT (and of
//!   ADJACENT, for a merge); prints its id.
//! - `checkpoint SHARD DATA`: a checkpoint saved before the mapping starts (as after a restart).
//! - `mapping [start=TRIM_HORIZON|LATEST|AT_TIMESTAMP] [batch_size=N] [retries=N]
//!   [destination=true] [idle_poll=MS] [gated=true] [loose=true]`: starts a mapping of the
//!   stream (AT_TIMESTAMP: T0), polling an idle shard every `idle_poll` (default 100 ms);
//!   `gated`: every read after a shard's first waits for `open_gate`; `loose`: times are not
//!   printed, for scenarios where the instant depends on which ready task tokio runs first.
//! - `refuse N`: the destination refuses the next N deliveries.
//! - `answer`, `run`, `settle`, `stop`: as every mapping script (`crate::scripted`); `run`'s
//!   conditions: `until=done` (the default: every shard checkpointed at its last record put, or
//!   finished), `invocations n=N`, `records n=N` (seen by the function), `starts n=N` (shard
//!   tasks started), `caught_up` (shard 0); limit 30 s.
//! - `status SHARD`, `ages`, `checkpoints`, `starts`, `deliveries`, `received`: the status view of
//!   a shard, the IteratorAge metrics, the checkpoints, where shard tasks started, the journal's
//!   deliveries, the failure records' conditions.
//! - `open_gate`: lets the gated reads go.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::error::Error;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use riffle_clock::{Clock, ManualClock};
use riffle_core::config::{RawDestination, RawDestinationConfig};
use riffle_core::invocation::Outcome;
use riffle_core::kinesis::config::RawKinesisMapping;

use crate::scripted::{self, Function, Scene, T0};
use crate::{
    CheckpointStore, InvokeRequest, JournalKind, KinesisMapping, KinesisMappingOptions,
    MemoryCheckpoints, MemoryDestination, MemoryReader, MemoryStream, ReadBatch, ShardCheckpoint,
    ShardInfo, ShardReader, ShardStatus, SourceError, StartAt, StreamSource,
};

#[derive(goldenscript::Command)]
enum Command {
    Stream {
        #[arg(key)]
        shards: Option<usize>,
    },
    Put {
        shard: usize,
        data: Vec<String>,
        #[arg(key)]
        age: Option<u64>,
    },
    Close(usize),
    Reshard {
        parent: usize,
        #[arg(key)]
        adjacent: Option<usize>,
    },
    Checkpoint {
        shard: usize,
        data: String,
    },
    Mapping {
        #[arg(key)]
        start: Option<String>,
        #[arg(key)]
        batch_size: Option<i64>,
        #[arg(key)]
        retries: Option<i64>,
        #[arg(key)]
        destination: Option<bool>,
        #[arg(key)]
        idle_poll: Option<u64>,
        #[arg(key)]
        gated: Option<bool>,
        #[arg(key)]
        loose: Option<bool>,
    },
    Refuse(usize),
    Status(usize),
    Ages,
    Checkpoints,
    Starts,
    Deliveries,
    Received,
    OpenGate,
}

/// A stream whose reads after each shard's first wait for a permit of `gate`: a read that takes
/// as long as the script wants.
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

/// A started mapping, seen through what the scripts look at (its type depends on the source).
struct Running {
    shards: Box<dyn Fn() -> BTreeMap<String, ShardStatus>>,
    iterator_ages: Box<dyn Fn() -> BTreeMap<String, u64>>,
    journal: Box<dyn Fn() -> Vec<JournalKind>>,
}

struct Runner {
    stream: MemoryStream,
    gate: Arc<tokio::sync::Semaphore>,
    checkpoints: MemoryCheckpoints,
    destination: MemoryDestination,
    running: Option<Running>,
    /// Sequence number → data, of every record put.
    labels: BTreeMap<String, String>,
    /// Shard id → the sequence number of its last record put.
    last: BTreeMap<String, String>,
}

impl Default for Runner {
    fn default() -> Self {
        Self {
            stream: MemoryStream::new(1),
            gate: Arc::new(tokio::sync::Semaphore::new(0)),
            checkpoints: MemoryCheckpoints::default(),
            destination: MemoryDestination::default(),
            running: None,
            labels: BTreeMap::new(),
            last: BTreeMap::new(),
        }
    }
}

fn shard_id(shard: usize) -> String {
    format!("shardId-{shard:012}")
}

/// The invoker: the scripted `function`, recording each batch's data.
fn invoker(
    function: Arc<Mutex<Function>>,
    clock: ManualClock,
) -> impl tower::Service<InvokeRequest, Response = Outcome, Error = Infallible, Future = impl Send>
+ Clone
+ Send
+ Sync
+ 'static {
    tower::service_fn(move |request: InvokeRequest| {
        let (function, clock) = (Arc::clone(&function), clock.clone());
        async move {
            let event: serde_json::Value = serde_json::from_str(&request.payload).unwrap();
            let records = event["Records"].as_array().unwrap();
            let data = records
                .iter()
                .map(|r| {
                    let data = r["kinesis"]["data"].as_str().unwrap();
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(data)
                        .unwrap();
                    String::from_utf8(bytes).unwrap()
                })
                .collect();
            let ids: Vec<String> = records
                .iter()
                .map(|r| r["kinesis"]["sequenceNumber"].as_str().unwrap().to_owned())
                .collect();
            let at = clock.now_millis() - T0;
            let outcome = (function.lock().unwrap()).invoked(
                at,
                data,
                &ids,
                String::new(),
                request.payload.clone(),
            );
            Ok::<Outcome, Infallible>(outcome)
        }
    })
}

impl Runner {
    fn running(&self) -> Result<&Running, Box<dyn Error>> {
        scripted::started(self.running.as_ref())
    }

    /// A sequence number as the record's data.
    fn label(&self, sequence_number: &str) -> String {
        self.labels
            .get(sequence_number)
            .cloned()
            .unwrap_or_else(|| sequence_number.to_owned())
    }

    fn show_checkpoint(&self, checkpoint: &ShardCheckpoint) -> String {
        match checkpoint {
            ShardCheckpoint::New => "new".into(),
            ShardCheckpoint::At(at) => format!("at {}", self.label(at)),
            ShardCheckpoint::Finished => "finished".into(),
        }
    }

    fn start(
        &mut self,
        scene: &mut Scene,
        source: impl StreamSource,
        raw: RawKinesisMapping,
        idle_poll: Duration,
    ) {
        let config = raw.validate(T0).expect("a valid mapping");
        let mut options = KinesisMappingOptions::new(
            "m",
            "arn:aws:lambda:us-east-1:000000000000:function:f",
            "us-east-1",
        );
        options.idle_poll = idle_poll;
        options.shard_discovery = Duration::from_millis(500);
        let mapping = Arc::new(KinesisMapping::new(
            config,
            options,
            source,
            invoker(Arc::clone(&scene.function), scene.clock.clone()),
            self.destination.clone(),
            self.checkpoints.clone(),
            Arc::new(scene.clock.clone()),
        ));
        let running = Arc::clone(&mapping);
        scene.spawn(|stopped| async move { running.run(stopped).await.unwrap() });
        let (status, ages) = (Arc::clone(&mapping), Arc::clone(&mapping));
        self.running = Some(Running {
            shards: Box::new(move || status.metrics().shards()),
            iterator_ages: Box::new(move || ages.metrics().iterator_ages()),
            journal: Box::new(move || {
                let entries = mapping.journal().entries(None);
                entries.into_iter().map(|e| e.kind).collect()
            }),
        });
    }

    /// Where the shard tasks journaled that they started.
    fn starts(&self) -> Result<Vec<String>, Box<dyn Error>> {
        let journal = (self.running()?.journal)();
        Ok(journal
            .into_iter()
            .filter_map(|k| match k {
                JournalKind::ShardStarted { from } => Some(from),
                _ => None,
            })
            .collect())
    }

    fn status(&self, shard: usize, out: &mut String) -> Result<(), Box<dyn Error>> {
        let shards = (self.running()?.shards)();
        let status = shards.get(&shard_id(shard)).ok_or("no such shard")?;
        let label = |s: &Option<riffle_core::sequence::SequenceNumber>| {
            s.as_ref()
                .map_or("none".to_owned(), |s| self.label(&s.to_string()))
        };
        let age = status
            .iterator_age_ms
            .map_or("none".to_owned(), |ms| format!("{ms} ms"));
        writeln!(
            out,
            "iterator age {age}, caught up {}, in flight {}, buffered {}, checkpoint {}, position {}",
            status.caught_up,
            status.in_flight,
            status.buffered,
            label(&status.checkpoint),
            label(&status.position),
        )?;
        let counters = [
            ("invocations", status.invocations),
            ("errors", status.errors),
            ("retries", status.retries),
            ("bisects", status.bisects),
            ("sent to the destination", status.sent_to_destination),
            ("dropped", status.dropped),
            ("filtered", status.filtered),
        ];
        let counters: Vec<String> = counters
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(name, n)| format!("{name} {n}"))
            .collect();
        write!(out, "{}", counters.join(", "))?;
        for (flag, set) in [
            ("finished", status.finished),
            ("retry pending", status.retry_pending),
            ("read failing", status.read_failing),
        ] {
            if set {
                write!(out, ", {flag}")?;
            }
        }
        match &status.last_error {
            Some((at, error)) => writeln!(out, "; last error at +{}: {error}", at - T0)?,
            None => writeln!(out)?,
        }
        Ok(())
    }
}

impl scripted::MappingScript for Runner {
    type Own = Command;
    const UNTIL: &'static str = "done";
    const LIMIT_SECONDS: u64 = 30;

    fn holds(&self, scene: &Scene, until: &str, n: u64) -> Result<bool, Box<dyn Error>> {
        let function = scene.function.lock().unwrap();
        Ok(match until {
            "done" => {
                let snapshot = self.checkpoints.snapshot();
                self.last.iter().all(|(shard, last)| {
                    matches!(snapshot.get(shard), Some(ShardCheckpoint::At(at)) if at == last)
                        || matches!(snapshot.get(shard), Some(ShardCheckpoint::Finished))
                })
            }
            "invocations" => function.seen.len() as u64 == n,
            "records" => {
                function
                    .seen
                    .iter()
                    .map(|s| s.items.len() as u64)
                    .sum::<u64>()
                    == n
            }
            "starts" => {
                drop(function);
                self.starts()?.len() as u64 == n
            }
            "caught_up" => (self.running()?.shards)()
                .get(&shard_id(0))
                .is_some_and(|s| s.caught_up),
            other => return Err(format!("unknown condition {other}").into()),
        })
    }

    fn perform_own(
        &mut self,
        scene: &mut Scene,
        command: &Command,
        out: &mut String,
    ) -> Result<(), Box<dyn Error>> {
        match command {
            Command::Stream { shards } => {
                *scene = Scene::default();
                *self = Self {
                    stream: MemoryStream::new(shards.unwrap_or(1)),
                    ..Self::default()
                };
            }
            Command::Put { shard, data, age } => {
                for data in data {
                    let arrival = T0 - age.unwrap_or(0);
                    let seq = self.stream.put(*shard, "k", data.clone(), arrival);
                    self.labels.insert(seq.to_string(), data.clone());
                    self.last.insert(shard_id(*shard), seq.to_string());
                }
            }
            Command::Close(shard) => self.stream.close(*shard),
            Command::Reshard { parent, adjacent } => {
                let adjacent = adjacent.map(shard_id);
                let child = (self.stream).add_shard(Some(&shard_id(*parent)), adjacent.as_deref());
                writeln!(out, "{child}")?;
            }
            Command::Checkpoint { shard, data } => {
                let seq = (self.labels.iter())
                    .find_map(|(seq, d)| (d == data).then(|| seq.clone()))
                    .ok_or("no such record")?;
                let checkpoints = self.checkpoints.clone();
                (scene.rt)
                    .block_on(checkpoints.save(&shard_id(*shard), ShardCheckpoint::At(seq)))?;
            }
            Command::Mapping {
                start,
                batch_size,
                retries,
                destination,
                idle_poll,
                gated,
                loose,
            } => {
                scene.loose = loose.unwrap_or(false);
                let start = start.clone().unwrap_or_else(|| "TRIM_HORIZON".into());
                let raw = RawKinesisMapping {
                    event_source_arn: Some(
                        "arn:aws:kinesis:us-east-1:000000000000:stream/s".into(),
                    ),
                    function_name: Some("f".into()),
                    starting_position_timestamp: (start == "AT_TIMESTAMP")
                        .then_some((T0 / 1_000) as f64),
                    starting_position: Some(start),
                    batch_size: *batch_size,
                    maximum_retry_attempts: *retries,
                    destination_config: destination.unwrap_or(false).then(|| {
                        RawDestinationConfig {
                            on_failure: Some(RawDestination {
                                destination: Some("arn:aws:sqs:us-east-1:000000000000:dlq".into()),
                            }),
                            on_success: None,
                        }
                    }),
                    ..RawKinesisMapping::default()
                };
                let idle_poll = Duration::from_millis(idle_poll.unwrap_or(100));
                if gated.unwrap_or(false) {
                    let gated = GatedStream {
                        stream: self.stream.clone(),
                        gate: Arc::clone(&self.gate),
                    };
                    self.start(scene, gated, raw, idle_poll);
                } else {
                    let stream = self.stream.clone();
                    self.start(scene, stream, raw, idle_poll);
                }
            }
            Command::Refuse(n) => self.destination.refuse_next(*n),
            Command::Status(shard) => self.status(*shard, out)?,
            Command::Ages => {
                for (shard, age) in (self.running()?.iterator_ages)() {
                    writeln!(out, "{shard}: {age} ms")?;
                }
            }
            Command::Checkpoints => {
                let snapshot = self.checkpoints.snapshot();
                if snapshot.is_empty() {
                    writeln!(out, "none")?;
                }
                for (shard, checkpoint) in snapshot {
                    writeln!(out, "{shard}: {}", self.show_checkpoint(&checkpoint))?;
                }
            }
            Command::Starts => {
                // `After(SequenceNumber("…"))` shows the record's data.
                let starts: Vec<String> = (self.starts()?.into_iter())
                    .map(|from| {
                        self.labels.iter().fold(from, |from, (seq, data)| {
                            from.replace(&format!("SequenceNumber(\"{seq}\")"), data)
                        })
                    })
                    .collect();
                writeln!(out, "{}", starts.join(", "))?;
            }
            Command::Deliveries => {
                for kind in (self.running()?.journal)() {
                    match kind {
                        JournalKind::Delivered { destination } => {
                            writeln!(out, "delivered to {destination}")?;
                        }
                        JournalKind::DeliveryError { error } => {
                            writeln!(out, "delivery failed: {error}")?;
                        }
                        _ => {}
                    }
                }
            }
            Command::Received => {
                for (_, body) in self.destination.received() {
                    let body: serde_json::Value = serde_json::from_str(&body)?;
                    let (context, batch) = (&body["requestContext"], &body["KinesisBatchInfo"]);
                    let label = |field: &str| self.label(batch[field].as_str().unwrap_or_default());
                    writeln!(
                        out,
                        "{}: {}..{} ({} invocations)",
                        context["condition"].as_str().unwrap_or_default(),
                        label("startSequenceNumber"),
                        label("endSequenceNumber"),
                        context["approximateInvokeCount"]
                    )?;
                }
            }
            Command::OpenGate => self.gate.add_permits(1_000),
        }
        Ok(())
    }
}

test_each_file::test_each_path! { in "crates/riffle-runtime/src/kinesis/mapping/testscripts" as script => scripted::run::<Runner> }
