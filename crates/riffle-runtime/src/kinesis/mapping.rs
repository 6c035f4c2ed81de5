//! Running one Kinesis mapping: shard discovery, one task per shard, and the effects of the
//! shard state machines.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use riffle_clock::Clock;
use riffle_core::invocation::{Invocation, Outcome};
use riffle_core::kinesis::config::{KinesisMappingConfig, StartingPosition};
use riffle_core::kinesis::event::EventSource;
use riffle_core::kinesis::shard::{Decision, Effect, Shard, ShardSettings};
use riffle_core::time::Millis;
use tokio::sync::{mpsc, watch};
use tower::ServiceExt;

use crate::checkpoint::{CheckpointError, CheckpointStore, ShardCheckpoint};
use crate::invoke::{InvokeRequest, Invoker};
use crate::journal::{Journal, JournalKind, KinesisJournalEvent, KinesisMetrics};
use crate::kinesis::source::{ShardInfo, StartAt, StreamSource};
use crate::source::SourceError;

mod checkpoint_writer;
mod read_ahead;
use checkpoint_writer::CheckpointWriter;
use read_ahead::ReadAhead;

/// Where failure records go (an SQS queue or an S3 bucket, over the SDK).
pub trait FailureDestination: Send + Sync + 'static {
    /// Sends `message` to its destination; `Err` with a reason if it was not accepted.
    fn send(&self, message: FailureMessage) -> impl Future<Output = Result<(), String>> + Send;
}

/// One on-failure invocation record on its way to its destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureMessage {
    /// The destination's ARN (an SQS queue, an S3 bucket).
    pub destination: String,
    /// The record's JSON: a queue's message body, a bucket's object.
    pub body: String,
    /// The object's key in an S3 destination (AWS's layout, the same for every attempt to
    /// deliver one record); queues ignore it.
    pub object_key: String,
}

/// How a mapping runs, beyond its AWS configuration.
#[derive(Debug, Clone)]
pub struct KinesisMappingOptions {
    /// The mapping's id (UUID on AWS), used for checkpoints and logs.
    pub mapping_id: String,
    /// The function's ARN.
    pub function_arn: String,
    /// The function's execution role ARN (`invokeIdentityArn`).
    pub role_arn: String,
    /// Region of the stream.
    pub region: String,
    /// Wait between polls of a caught-up shard. AWS polls about once a second; local runs can
    /// poll faster within the 5 reads/s per shard limit.
    pub idle_poll: Duration,
    /// How often the shard list is refreshed to find new shards.
    pub shard_discovery: Duration,
    /// The function's timeout, for invocation deadlines.
    pub function_timeout: Duration,
    /// Records per GetRecords call.
    pub read_limit: usize,
}

impl KinesisMappingOptions {
    /// Options for a local run (`riffle local`, tests): like [`KinesisMappingOptions::new`] but polling a
    /// caught-up shard every 200 ms — the fastest rate within Kinesis's five reads per second per
    /// shard — and looking for new shards every second.
    pub fn local(
        mapping_id: impl Into<String>,
        function_arn: impl Into<String>,
        region: impl Into<String>,
    ) -> Self {
        Self {
            idle_poll: Duration::from_millis(200),
            shard_discovery: Duration::from_secs(1),
            ..Self::new(mapping_id, function_arn, region)
        }
    }

    /// Options for mapping `mapping_id` of function `function_arn`, with AWS's one-second idle poll.
    pub fn new(
        mapping_id: impl Into<String>,
        function_arn: impl Into<String>,
        region: impl Into<String>,
    ) -> Self {
        let function_arn = function_arn.into();
        let account = function_arn
            .split(':')
            .nth(4)
            .unwrap_or("000000000000")
            .to_owned();
        Self {
            mapping_id: mapping_id.into(),
            role_arn: format!("arn:aws:iam::{account}:role/riffle-local"),
            function_arn,
            region: region.into(),
            idle_poll: Duration::from_secs(1),
            shard_discovery: Duration::from_secs(10),
            function_timeout: Duration::from_secs(3),
            read_limit: 10_000,
        }
    }
}

/// Why a mapping stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The stream could not be read at start.
    #[error("reading the stream: {0}")]
    Source(#[from] SourceError),
    /// Checkpoints could not be read.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
}

/// A running (or runnable) Kinesis mapping.
pub struct KinesisMapping<S, I, D, C> {
    inner: Arc<Inner<S, I, D, C>>,
}

struct Inner<S, I, D, C> {
    /// Read by each shard task when it starts; replaced by [`KinesisMapping::set_config`].
    config: std::sync::RwLock<KinesisMappingConfig>,
    options: KinesisMappingOptions,
    source: S,
    invoker: I,
    destination: D,
    checkpoints: C,
    clock: Arc<dyn Clock>,
    journal: Journal<KinesisJournalEvent>,
    metrics: KinesisMetrics,
    request_ids: AtomicU64,
}

enum Completion {
    Invoked {
        lane: usize,
        batch: u64,
        last_arrival_ms: Option<Millis>,
        invocation: Invocation,
    },
    Delivered {
        lane: usize,
        delivery: u64,
        result: Result<(), String>,
    },
}

impl<S, I, D, C> KinesisMapping<S, I, D, C>
where
    S: StreamSource,
    I: Invoker,
    D: FailureDestination,
    C: CheckpointStore,
{
    /// A mapping of `config` reading `source`, invoking `invoker`, sending failure records to
    /// `destination`, keeping checkpoints in `checkpoints`, on `clock`.
    pub fn new(
        config: KinesisMappingConfig,
        options: KinesisMappingOptions,
        source: S,
        invoker: I,
        destination: D,
        checkpoints: C,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                config: std::sync::RwLock::new(config),
                options,
                source,
                invoker,
                destination,
                checkpoints,
                clock,
                journal: Journal::default(),
                metrics: KinesisMetrics::default(),
                request_ids: AtomicU64::new(0),
            }),
        }
    }

    /// The configuration shard tasks start with.
    pub fn config(&self) -> KinesisMappingConfig {
        self.inner.config()
    }

    /// Replaces the configuration; shard tasks started afterwards use it (the controller stops
    /// and restarts the mapping around an update, as AWS applies updates asynchronously).
    pub fn set_config(&self, config: KinesisMappingConfig) {
        *self.inner.config.write().unwrap_or_else(|p| p.into_inner()) = config;
    }

    /// The decision journal.
    pub fn journal(&self) -> &Journal<KinesisJournalEvent> {
        &self.inner.journal
    }

    /// The metrics.
    pub fn metrics(&self) -> &KinesisMetrics {
        &self.inner.metrics
    }

    /// Runs until `shutdown` turns true: discovers shards and runs each (children after their
    /// parents) until it ends.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) -> Result<(), RuntimeError> {
        let inner = &self.inner;
        let retention = inner.source.retention_ms().await?;
        let mut finished: BTreeSet<String> = BTreeSet::new();
        let mut running: BTreeMap<String, tokio::task::JoinHandle<bool>> = BTreeMap::new();
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<()>();
        // The shards a first read opens at the configured StartingPosition; every other shard
        // without a checkpoint opens at TRIM_HORIZON. Set by the first listing.
        let mut at_configured: Option<BTreeSet<String>> = None;
        loop {
            if *shutdown.borrow() {
                break;
            }
            match inner.source.list_shards().await {
                Ok(shards) => {
                    let listed: BTreeSet<&str> =
                        shards.iter().map(|s| s.shard_id.as_str()).collect();
                    if at_configured.is_none() {
                        at_configured = Some(inner.open_at_configured(&shards).await?);
                    }
                    let at_configured = at_configured.as_ref().expect("set above");
                    for shard in &shards {
                        let id = &shard.shard_id;
                        if running.contains_key(id) || finished.contains(id) {
                            continue;
                        }
                        if inner.checkpoints.load(id).await? == ShardCheckpoint::Finished {
                            finished.insert(id.clone());
                            continue;
                        }
                        let parents_done = [&shard.parent, &shard.adjacent_parent]
                            .into_iter()
                            .flatten()
                            .all(|p| finished.contains(p) || !listed.contains(p.as_str()));
                        if parents_done {
                            let task = Arc::clone(inner);
                            let (id_for_task, shutdown, done) =
                                (id.clone(), shutdown.clone(), done_tx.clone());
                            let configured = at_configured.contains(id);
                            running.insert(
                                id.clone(),
                                tokio::spawn(async move {
                                    let ended = task
                                        .run_shard(&id_for_task, configured, retention, shutdown)
                                        .await;
                                    let _ = done.send(());
                                    ended
                                }),
                            );
                        }
                    }
                }
                Err(e) => inner.note(
                    inner.clock.now_millis(),
                    "",
                    JournalKind::PollFailed {
                        error: e.to_string(),
                    },
                ),
            }
            // Collect shards that ended so their children can start.
            let ended: Vec<String> = running
                .iter()
                .filter(|(_, h)| h.is_finished())
                .map(|(id, _)| id.clone())
                .collect();
            for id in ended {
                if let Some(handle) = running.remove(&id)
                    && handle.await.unwrap_or(false)
                {
                    finished.insert(id);
                }
            }
            let next =
                inner.clock.now_millis() + inner.options.shard_discovery.as_millis() as Millis;
            tokio::select! {
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
                _ = done_rx.recv() => {}
                () = inner.clock.sleep_until(next) => {}
            }
        }
        for (_, handle) in running {
            let _ = handle.await;
        }
        Ok(())
    }
}

impl<S, I, D, C> Inner<S, I, D, C>
where
    S: StreamSource,
    I: Invoker,
    D: FailureDestination,
    C: CheckpointStore,
{
    /// Of the shards listed when a run starts, those whose first read (no checkpoint) opens at
    /// the configured StartingPosition: every one but the children of a shard the mapping has
    /// read (a parent with a checkpoint). A child of a shard read by this mapping, or a shard
    /// that appears later (a reshard while running), opens at TRIM_HORIZON, as the Kinesis
    /// Client Library does: a LATEST (or AT_TIMESTAMP) child would skip every record written
    /// to it between the split or merge and the moment its parent was finished.
    async fn open_at_configured(
        &self,
        shards: &[ShardInfo],
    ) -> Result<BTreeSet<String>, RuntimeError> {
        let mut configured = BTreeSet::new();
        for shard in shards {
            let mut parent_read = false;
            for parent in [&shard.parent, &shard.adjacent_parent]
                .into_iter()
                .flatten()
            {
                parent_read |= self.checkpoints.load(parent).await? != ShardCheckpoint::New;
            }
            if !parent_read {
                configured.insert(shard.shard_id.clone());
            }
        }
        Ok(configured)
    }

    /// Runs one shard until it ends (true) or shutdown (false). Without a checkpoint it starts
    /// at the configured StartingPosition if `configured`, else at TRIM_HORIZON.
    async fn run_shard(
        self: Arc<Self>,
        shard_id: &str,
        configured: bool,
        retention: Millis,
        mut shutdown: watch::Receiver<bool>,
    ) -> bool {
        let checkpoint = loop {
            match self.checkpoints.load(shard_id).await {
                Ok(checkpoint) => break checkpoint,
                Err(e) => {
                    let failed = JournalKind::CheckpointFailed {
                        error: e.to_string(),
                    };
                    if !self.pause_after(shard_id, failed, &mut shutdown).await {
                        return false;
                    }
                }
            }
        };
        if checkpoint == ShardCheckpoint::Finished {
            return true;
        }
        let config = self.config();
        let resume = checkpoint.sequence_number();
        let start = match &resume {
            Some(seq) => StartAt::After(seq.clone()),
            None if !configured => StartAt::TrimHorizon,
            None => match config.starting_position {
                StartingPosition::TrimHorizon => StartAt::TrimHorizon,
                StartingPosition::Latest => StartAt::Latest,
                StartingPosition::AtTimestamp(at) => StartAt::AtTimestamp(at),
            },
        };
        self.note(
            self.clock.now_millis(),
            shard_id,
            JournalKind::ShardStarted {
                from: format!("{start:?}"),
            },
        );
        let reader = loop {
            match self.source.open(shard_id, start.clone()).await {
                Ok(reader) => break reader,
                Err(SourceError::NotFound(_)) => return true,
                Err(e) => {
                    let failed = JournalKind::PollFailed {
                        error: e.to_string(),
                    };
                    if !self.pause_after(shard_id, failed, &mut shutdown).await {
                        return false;
                    }
                }
            }
        };
        // Read through a consumer or not, the records come from the stream: the events and
        // failure records name the stream (docs/semantics.md, enhanced fan-out).
        let stream_arn =
            riffle_core::kinesis::config::consumer_stream_arn(&config.event_source_arn)
                .unwrap_or(&config.event_source_arn);
        let source = EventSource {
            stream_arn: stream_arn.to_owned(),
            region: self.options.region.clone(),
            invoke_identity_arn: self.options.role_arn.clone(),
            shard_id: shard_id.to_owned(),
        };
        let settings = ShardSettings::new(
            &config,
            source,
            self.options.function_arn.clone(),
            retention,
        );
        let mut machine = Shard::new(settings, resume, self.clock.now_millis());
        let mut writer = self.checkpoint_writer(shard_id);
        let (tx, mut rx) = mpsc::unbounded_channel::<Completion>();
        // The stream is read on a task of its own, one read ahead, so that parsing a large
        // GetRecords response never holds up the lanes' completions.
        let (mut reads, _reader) = ReadAhead::spawn(
            reader,
            Arc::clone(&self.clock),
            self.options.read_limit,
            self.options.idle_poll.as_millis() as Millis,
        );
        let mut ended = false;
        let mut in_flight = 0usize;
        // The last record read, and when an invocation or delivery last finished: what tells a
        // caught-up shard (below).
        let (mut last_read, mut last_finished) = (None, 0);
        loop {
            if *shutdown.borrow() {
                self.drain(shard_id, &mut machine, &mut rx, &mut writer, in_flight)
                    .await;
                return false;
            }
            if ended && machine.is_finished() {
                writer.save(ShardCheckpoint::Finished);
                tokio::select! {
                    () = writer.flush() => {}
                    _ = shutdown.changed() => return false,
                }
                self.note(
                    self.clock.now_millis(),
                    shard_id,
                    JournalKind::ShardFinished,
                );
                return true;
            }
            let wake = machine.next_wake().unwrap_or(Millis::MAX);
            let reading = !ended && machine.wants_records();
            let effects = tokio::select! {
                Some((read_started, read)) = reads.recv(), if reading => {
                    let now = self.clock.now_millis();
                    match read {
                        Ok(batch) => {
                            let count = batch.records.len();
                            if let Some(last) = batch.records.last() {
                                last_read = Some(last.sequence_number.clone());
                            }
                            // Caught up: a read that started after the last batch finished found
                            // nothing behind the tip, and every record read is done. IteratorAge
                            // is about records read (as AWS's), so it is 0, not the last batch's.
                            let caught_up = count == 0
                                && batch.millis_behind == 0
                                && read_started >= last_finished
                                && in_flight == 0
                                && machine.buffered() == 0
                                && (last_read.is_none() || machine.checkpoint() == last_read.as_ref());
                            let position = batch.records.last().map(|r| r.sequence_number.clone());
                            self.metrics.update_shard(shard_id, |s| {
                                s.read_failing = false;
                                if position.is_some() {
                                    s.position = position;
                                    s.caught_up = false;
                                }
                                if caught_up {
                                    (s.caught_up, s.iterator_age_ms) = (true, Some(0));
                                }
                            });
                            if count > 0 {
                                self.note(
                                    now,
                                    shard_id,
                                    JournalKind::Polled {
                                        records: count,
                                        millis_behind: batch.millis_behind,
                                    },
                                );
                            }
                            let mut effects = machine.records_polled(batch.records, now);
                            if batch.millis_behind == 0 {
                                effects.extend(machine.caught_up(read_started, now));
                            }
                            if batch.end_of_shard {
                                ended = true;
                                effects.extend(machine.shard_ended(now));
                            }
                            effects
                        }
                        Err(e) => {
                            self.note(
                                now,
                                shard_id,
                                JournalKind::PollFailed {
                                    error: e.to_string(),
                                },
                            );
                            Vec::new()
                        }
                    }
                }
                Some(completion) = rx.recv() => {
                    let now = self.clock.now_millis();
                    in_flight = in_flight.saturating_sub(1);
                    last_finished = now;
                    match completion {
                        Completion::Invoked { lane, batch, last_arrival_ms, invocation } => {
                            // IteratorAge: how old the batch's last record was when it finished.
                            if let (Some(arrival), Outcome::Success(_)) = (last_arrival_ms, &invocation.outcome) {
                                self.metrics.set_iterator_age(shard_id, now.saturating_sub(arrival));
                            }
                            if invocation.outcome == Outcome::Throttled {
                                self.metrics.throttled(shard_id);
                            }
                            machine.invocation_finished(lane, batch, invocation, now)
                        }
                        Completion::Delivered { lane, delivery, result } => {
                            if let Err(error) = &result {
                                self.note(now, shard_id, JournalKind::DeliveryError { error: error.clone() });
                            }
                            machine.delivery_finished(lane, delivery, result.is_ok(), now)
                        }
                    }
                }
                () = self.clock.sleep_until(wake) => machine.tick(self.clock.now_millis()),
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        // The switch was dropped: treat it as a shutdown.
                        self.drain(shard_id, &mut machine, &mut rx, &mut writer, in_flight)
                    .await;
                        return false;
                    }
                    continue;
                }
            };
            self.perform(shard_id, effects, &tx, &writer, &mut in_flight);
            let buffered = machine.buffered() as u64;
            self.metrics.update_shard(shard_id, |s| {
                s.in_flight = in_flight as u64;
                s.buffered = buffered;
            });
        }
    }

    /// On shutdown: waits (at most the function timeout plus a margin) for the invocations and
    /// deliveries already started, so their checkpoints are saved; starts nothing new. Anything
    /// it cannot finish is redelivered after a restart (at least once).
    async fn drain(
        &self,
        shard_id: &str,
        machine: &mut Shard,
        rx: &mut mpsc::UnboundedReceiver<Completion>,
        writer: &mut CheckpointWriter,
        mut in_flight: usize,
    ) {
        let bound = self.options.function_timeout + Duration::from_secs(5);
        let drained = async {
            while in_flight > 0 {
                let Some(completion) = rx.recv().await else {
                    return;
                };
                in_flight -= 1;
                let now = self.clock.now_millis();
                let effects = match completion {
                    Completion::Invoked {
                        lane,
                        batch,
                        invocation,
                        ..
                    } => machine.invocation_finished(lane, batch, invocation, now),
                    Completion::Delivered {
                        lane,
                        delivery,
                        result,
                    } => machine.delivery_finished(lane, delivery, result.is_ok(), now),
                };
                for effect in effects {
                    match effect {
                        Effect::Checkpoint(seq) => {
                            writer.save(ShardCheckpoint::At(seq.to_string()));
                        }
                        Effect::Journal(entry) => {
                            self.note(now, shard_id, JournalKind::Decision(entry))
                        }
                        Effect::Invoke { .. } | Effect::Deliver { .. } => {}
                    }
                }
            }
        };
        let deadline = tokio::time::Instant::now() + bound;
        let _ = tokio::time::timeout_at(deadline, drained).await;
        let _ = tokio::time::timeout_at(deadline, writer.flush()).await;
        let buffered = machine.buffered() as u64;
        self.metrics.update_shard(shard_id, |s| {
            s.in_flight = in_flight as u64;
            s.buffered = buffered;
        });
    }

    /// Performs effects: invocations and deliveries start as tasks, checkpoints go to the
    /// shard's writer; nothing here waits.
    fn perform(
        self: &Arc<Self>,
        shard_id: &str,
        effects: Vec<Effect>,
        tx: &mpsc::UnboundedSender<Completion>,
        writer: &CheckpointWriter,
        in_flight: &mut usize,
    ) {
        for effect in effects {
            let now = self.clock.now_millis();
            match effect {
                Effect::Invoke {
                    lane,
                    batch,
                    payload,
                    records,
                    range,
                    previous_invocations,
                    last_arrival_ms,
                } => {
                    self.note(
                        now,
                        shard_id,
                        JournalKind::Invoked {
                            lane,
                            records,
                            range,
                            previous_invocations,
                        },
                    );
                    *in_flight += 1;
                    let request_id = self.request_id();
                    let request = InvokeRequest {
                        function_arn: self.options.function_arn.clone(),
                        request_id: request_id.clone(),
                        payload,
                        deadline_ms: now + self.options.function_timeout.as_millis() as Millis,
                    };
                    let (invoker, tx) = (self.invoker.clone(), tx.clone());
                    tokio::spawn(async move {
                        let outcome = match invoker.oneshot(request).await {
                            Ok(outcome) => outcome,
                            Err(never) => match never {},
                        };
                        let _ = tx.send(Completion::Invoked {
                            lane,
                            batch,
                            last_arrival_ms,
                            invocation: Invocation {
                                request_id,
                                outcome,
                            },
                        });
                    });
                }
                Effect::Deliver {
                    lane,
                    delivery,
                    record,
                } => {
                    let Some(arn) = self.config().on_failure_destination else {
                        continue;
                    };
                    *in_flight += 1;
                    let (task, tx) = (Arc::clone(self), tx.clone());
                    let message = FailureMessage {
                        object_key: record.s3_key(&self.options.mapping_id),
                        body: record.to_json(),
                        destination: arn.clone(),
                    };
                    let shard = shard_id.to_owned();
                    tokio::spawn(async move {
                        let result = task.destination.send(message).await;
                        if result.is_ok() {
                            task.note(
                                task.clock.now_millis(),
                                &shard,
                                JournalKind::Delivered { destination: arn },
                            );
                        }
                        let _ = tx.send(Completion::Delivered {
                            lane,
                            delivery,
                            result,
                        });
                    });
                }
                Effect::Checkpoint(seq) => writer.save(ShardCheckpoint::At(seq.to_string())),
                Effect::Journal(entry) => {
                    if let Decision::Discarded {
                        delivered: false,
                        records,
                        range,
                        ..
                    } = &entry
                    {
                        tracing::warn!(shard_id, first = %range.0, last = %range.1, records, "records dropped: no on-failure destination");
                    }
                    self.note(now, shard_id, JournalKind::Decision(entry));
                }
            }
        }
    }

    /// Starts the task that persists `shard_id`'s checkpoints.
    fn checkpoint_writer(self: &Arc<Self>, shard_id: &str) -> CheckpointWriter {
        let (latest, mut wanted) = watch::channel((0u64, None::<ShardCheckpoint>));
        let (saved_tx, saved) = watch::channel(0u64);
        let (inner, shard) = (Arc::clone(self), shard_id.to_owned());
        let task = tokio::spawn(async move {
            loop {
                let (version, checkpoint) = wanted.borrow_and_update().clone();
                if let Some(checkpoint) = checkpoint
                    && *saved_tx.borrow() < version
                {
                    match inner.checkpoints.save(&shard, checkpoint.clone()).await {
                        Ok(()) => {
                            if let Some(sequence_number) = checkpoint.sequence_number() {
                                let now = inner.clock.now_millis();
                                inner.note(
                                    now,
                                    &shard,
                                    JournalKind::Checkpointed { sequence_number },
                                );
                            }
                            saved_tx.send_replace(version);
                        }
                        Err(e) => {
                            let now = inner.clock.now_millis();
                            inner.note(
                                now,
                                &shard,
                                JournalKind::CheckpointFailed {
                                    error: e.to_string(),
                                },
                            );
                            // Then save the newest checkpoint there is.
                            inner.clock.sleep_until(now + 1_000).await;
                            continue;
                        }
                    }
                }
                if wanted.changed().await.is_err() {
                    return;
                }
            }
        });
        CheckpointWriter {
            latest,
            saved,
            task,
        }
    }

    /// Journals `kind` and counts it in the metrics.
    fn note(&self, at: Millis, shard_id: &str, kind: JournalKind) {
        self.metrics.observe(at, shard_id, &kind);
        self.journal.record(at, shard_id, kind);
    }

    /// Notes `failed` and waits a second before the shard tries again: false if shutdown
    /// came first.
    async fn pause_after(
        &self,
        shard_id: &str,
        failed: JournalKind,
        shutdown: &mut watch::Receiver<bool>,
    ) -> bool {
        let now = self.clock.now_millis();
        self.note(now, shard_id, failed);
        tokio::select! {
            _ = shutdown.changed() => false,
            () = self.clock.sleep_until(self.clock.now_millis() + 1_000) => true,
        }
    }

    fn config(&self) -> KinesisMappingConfig {
        self.config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn request_id(&self) -> String {
        let n = self.request_ids.fetch_add(1, Ordering::Relaxed);
        crate::invoke::request_id(&self.options.mapping_id, n)
    }
}

#[cfg(test)]
mod tests;
