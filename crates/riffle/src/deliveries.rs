//! Wiring the embedded emulator's delivery streams to the delivery runtime: one
//! `FirehoseDelivery` per ACTIVE delivery stream (reading its records in process, writing its
//! objects to S3 through the SDK, invoking its transformation through the function router), and
//! for a Kinesis-source stream one internal Kinesis mapping feeding it.
//!
//! Invariants: at most one delivery runs per delivery stream, and a new one (after
//! UpdateDestination, or a stream deleted and created again) starts only once the old one has
//! drained and stopped, so no record is read twice at once and none is stranded in a buffer;
//! stopping drains every delivery before it returns.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use riffle_core::firehose::settings::DeliverySettings;
use riffle_core::kinesis::config::RawKinesisMapping;
use riffle_emulator::firehose::Firehose;
use riffle_emulator::firehose::store::StreamStatus;
use riffle_lambda::router::FunctionRouter;
use riffle_runtime::firehose::delivery::DeliveryStatus;
use riffle_runtime::firehose::source::RecordSource;
use riffle_runtime::firehose::{Intake, KinesisFeed, RecordIntake};
use riffle_runtime::{
    Checkpoints, Clock, FileCheckpoints, FirehoseDelivery, FirehoseOptions, KinesisMapping,
    KinesisMappingOptions, MappingController, MemoryCheckpoints,
};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// One delivery stream's records in the emulator, as the delivery runtime reads and feeds them.
#[derive(Debug, Clone)]
pub(crate) struct StreamRecords {
    firehose: Arc<Firehose>,
    name: String,
}

impl RecordSource for StreamRecords {
    async fn read(
        &self,
        from: u64,
        max: usize,
    ) -> Result<Vec<riffle_core::firehose::delivery::SourceRecord>, String> {
        self.firehose.read(&self.name, from, max).await
    }

    async fn acknowledge(&self, below: u64) -> Result<(), String> {
        self.firehose.acknowledge(&self.name, below).await
    }

    async fn arrival(&self, from: u64) {
        self.firehose.arrival(&self.name, from).await;
    }
}

impl RecordIntake for StreamRecords {
    async fn accept(&self, records: Vec<Intake>) -> Result<(), String> {
        let records = records.into_iter().map(|r| (r.data, r.kinesis)).collect();
        self.firehose.accept(&self.name, records).await
    }
}

/// The internal mapping that reads a Kinesis-source delivery stream's stream.
type Feed = MappingController<
    KinesisMapping<
        riffle_aws::KinesisSource,
        KinesisFeed<StreamRecords>,
        riffle_aws::Destinations,
        Checkpoints,
    >,
>;

/// What runs for one delivery stream.
struct Running {
    created_ms: u64,
    version: u64,
    settings: DeliverySettings,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    status: Arc<Mutex<DeliveryStatus>>,
    feed: Option<Arc<Feed>>,
}

/// A delivery stream as `riffle local`'s status, metrics and explain show it.
#[derive(Debug, Clone)]
pub(crate) struct DeliveryView {
    /// DeliveryStreamName.
    pub(crate) name: String,
    /// Its settings (destination bucket, processor, buffering).
    pub(crate) settings: DeliverySettings,
    /// Counters, buffer fill and recent decisions.
    pub(crate) status: DeliveryStatus,
}

/// Where deliveries write and what they invoke.
#[derive(Clone)]
pub(crate) struct Wiring {
    /// The emulator's Firehose service.
    pub(crate) firehose: Arc<Firehose>,
    /// Clients of the emulator's endpoint.
    pub(crate) clients: riffle_aws::Clients,
    /// The transformation invoker (`riffle local`'s functions); `None` under `riffle emulator`.
    pub(crate) processor: Option<FunctionRouter>,
    /// Where a Kinesis source's checkpoints are kept (`None`: in memory).
    pub(crate) checkpoints: Option<PathBuf>,
    /// The clock.
    pub(crate) clock: Arc<dyn Clock>,
    /// Timeout of a transformation invocation.
    pub(crate) function_timeout: Duration,
}

/// The running deliveries of one emulator.
pub(crate) struct Deliveries {
    running: Arc<tokio::sync::Mutex<BTreeMap<String, Running>>>,
    published: Published,
    stop: watch::Sender<bool>,
    reconciler: Mutex<Option<JoinHandle<()>>>,
}

impl Deliveries {
    /// Starts a delivery for every ACTIVE delivery stream, and keeps them in step with the
    /// emulator's delivery streams until [`Deliveries::stop`].
    pub(crate) async fn start(wiring: Wiring) -> Self {
        let running = Arc::new(tokio::sync::Mutex::new(BTreeMap::new()));
        let published = Published::default();
        let (stop, mut stopped) = watch::channel(false);
        let mut changes = wiring.firehose.changes();
        reconcile(&wiring, &running, &published).await;
        let reconciler = tokio::spawn({
            let running = Arc::clone(&running);
            let published = published.clone();
            async move {
                loop {
                    tokio::select! {
                        changed = changes.changed() => if changed.is_err() { break },
                        _ = stopped.changed() => break,
                    }
                    reconcile(&wiring, &running, &published).await;
                }
            }
        });
        Self {
            running,
            published,
            stop,
            reconciler: Mutex::new(Some(reconciler)),
        }
    }

    /// Every running delivery stream, by name.
    pub(crate) fn views(&self) -> Vec<DeliveryView> {
        let published = self.published.0.lock().unwrap_or_else(|e| e.into_inner());
        published
            .iter()
            .map(|(name, (settings, status))| DeliveryView {
                name: name.clone(),
                settings: settings.clone(),
                status: status.lock().unwrap_or_else(|e| e.into_inner()).clone(),
            })
            .collect()
    }

    /// Stops reconciling, stops every feed, and drains and stops every delivery.
    pub(crate) async fn stop(&self) {
        let _ = self.stop.send(true);
        let reconciler = self
            .reconciler
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(reconciler) = reconciler {
            let _ = reconciler.await;
        }
        let mut running = self.running.lock().await;
        for (name, r) in std::mem::take(&mut *running) {
            stop_one(&name, r).await;
        }
    }
}

/// What the status reads without waiting for a reconciliation: each running delivery's
/// settings and status, replaced whenever the running set changes.
#[derive(Clone, Default)]
struct Published(Arc<Mutex<BTreeMap<String, Shown>>>);

/// One delivery's settings and its live status.
type Shown = (DeliverySettings, Arc<Mutex<DeliveryStatus>>);

/// Stops what runs for one delivery stream: its feed first (nothing more comes in), then the
/// delivery, which drains what it holds.
async fn stop_one(name: &str, running: Running) {
    if let Some(feed) = &running.feed
        && let Err(error) = feed.set_enabled(false).await
    {
        eprintln!("riffle: stopping the Kinesis source of delivery stream {name}: {error}");
    }
    let _ = running.stop.send(true);
    let _ = running.task.await;
}

/// Brings the running deliveries in line with the emulator's delivery streams.
async fn reconcile(
    wiring: &Wiring,
    running: &tokio::sync::Mutex<BTreeMap<String, Running>>,
    published: &Published,
) {
    let streams = wiring.firehose.deliveries();
    let mut running = running.lock().await;
    let gone: Vec<String> = running
        .iter()
        .filter(|(name, r)| {
            !streams
                .iter()
                .any(|s| &s.name == *name && s.created_ms == r.created_ms && s.version == r.version)
        })
        .map(|(name, _)| name.clone())
        .collect();
    // A stream updated in place keeps its Kinesis source: its feed carries over to the new
    // delivery (its checkpoints may be in memory only).
    let mut kept_feeds: BTreeMap<String, Arc<Feed>> = BTreeMap::new();
    for name in gone {
        if let Some(mut r) = running.remove(&name) {
            if streams
                .iter()
                .any(|s| s.name == name && s.created_ms == r.created_ms)
                && let Some(feed) = r.feed.take()
            {
                kept_feeds.insert(name.clone(), feed);
            }
            stop_one(&name, r).await;
        }
    }
    for stream in streams {
        if stream.status != StreamStatus::Active || running.contains_key(&stream.name) {
            continue;
        }
        let settings = match DeliverySettings::new(&stream.raw) {
            Ok(settings) => settings,
            Err(error) => {
                // CreateDeliveryStream validated it; a stored one that no longer passes is a bug.
                eprintln!(
                    "riffle: delivery stream {} cannot run: {error}",
                    stream.name
                );
                continue;
            }
        };
        let records = Arc::new(StreamRecords {
            firehose: Arc::clone(&wiring.firehose),
            name: stream.name.clone(),
        });
        let options = FirehoseOptions {
            function_timeout: wiring.function_timeout,
            ..FirehoseOptions::default()
        };
        let delivery = FirehoseDelivery::new(
            settings.clone(),
            Arc::clone(&records),
            riffle_aws::S3Objects::new(wiring.clients.s3()),
            wiring.processor.clone(),
            Arc::clone(&wiring.clock),
            options,
        );
        let status = delivery.status();
        let (stop, stopped) = watch::channel(false);
        let name = stream.name.clone();
        let task = tokio::spawn(async move {
            if let Err(error) = delivery.run(stopped).await {
                eprintln!("riffle: delivery stream {name} stopped: {error}");
            }
        });
        let feed = match (kept_feeds.remove(&stream.name), &stream.source_stream_arn) {
            (Some(feed), _) => Some(feed),
            (None, Some(arn)) => Some(Arc::new(
                feed(
                    wiring,
                    &stream.name,
                    stream.created_ms,
                    arn,
                    (*records).clone(),
                )
                .await,
            )),
            (None, None) => None,
        };
        running.insert(
            stream.name.clone(),
            Running {
                created_ms: stream.created_ms,
                version: stream.version,
                settings,
                stop,
                task,
                status,
                feed,
            },
        );
    }
    for (name, feed) in kept_feeds {
        if let Err(error) = feed.set_enabled(false).await {
            eprintln!("riffle: stopping the Kinesis source of delivery stream {name}: {error}");
        }
    }
    *published.0.lock().unwrap_or_else(|e| e.into_inner()) = running
        .iter()
        .map(|(name, r)| (name.clone(), (r.settings.clone(), Arc::clone(&r.status))))
        .collect();
}

/// The internal Kinesis mapping of a Kinesis-source delivery stream: it reads the stream from
/// when the delivery stream was created (Firehose reads a source stream from LATEST at
/// creation), retries a batch until the delivery stream holds it, and keeps its checkpoints
/// with the data directory so a restart resumes where it was.
async fn feed(
    wiring: &Wiring,
    name: &str,
    created_ms: u64,
    stream_arn: &str,
    records: StreamRecords,
) -> Feed {
    let id = format!("firehose-{name}-{created_ms}");
    let raw = RawKinesisMapping {
        event_source_arn: Some(stream_arn.to_owned()),
        function_name: Some(format!("firehose:{name}")),
        batch_size: Some(10_000),
        starting_position: Some("AT_TIMESTAMP".into()),
        starting_position_timestamp: Some(created_ms as f64 / 1000.0),
        maximum_retry_attempts: Some(-1),
        maximum_record_age_in_seconds: Some(-1),
        ..RawKinesisMapping::default()
    };
    let config = raw
        .validate(wiring.clock.now_millis())
        .expect("a delivery stream's source mapping is valid");
    let region = stream_arn.split(':').nth(3).unwrap_or("us-east-1");
    let options = KinesisMappingOptions::local(&id, format!("firehose:{name}"), region);
    let checkpoints = match &wiring.checkpoints {
        Some(dir) => Checkpoints::File(FileCheckpoints::new(dir.clone(), &id)),
        None => Checkpoints::Memory(MemoryCheckpoints::default()),
    };
    let mapping = KinesisMapping::new(
        config,
        options,
        riffle_aws::KinesisSource::for_event_source(wiring.clients.kinesis(), stream_arn),
        KinesisFeed::new(records),
        riffle_aws::Destinations::new(wiring.clients.sqs(), wiring.clients.s3()),
        checkpoints,
        Arc::clone(&wiring.clock),
    );
    MappingController::create(mapping).await
}
