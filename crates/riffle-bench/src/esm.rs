//! The Kinesis event source mapping engine end to end: records put into the emulator with the
//! SDK, read by a `riffle_runtime::KinesisMapping` through `riffle_aws::KinesisSource`, and handed to an
//! in-process `lambda_runtime::service_fn` handler through `HandlerInvoker`, exactly as
//! `tests/e2e/esm_kinesis.rs` wires it.
//!
//! Three workloads:
//! - `throughput`: records/s from PutRecords to a no-op handler, either live (the mapping runs
//!   while the producers put; timed from the first put) or from a backlog (everything put
//!   first; timed from the mapping's start), until the handler has seen every record;
//! - `latency`: put→invoke latency of single PutRecord calls at a fixed rate;
//! - `scale`: a handler that sleeps per invocation, over a pre-loaded backlog, to show how
//!   throughput grows with shards × ParallelizationFactor;
//! - `sqs`: the SQS mapping (`riffle_runtime::SqsMapping` over `riffle_aws::SqsQueueSource`),
//!   messages/s from SendMessageBatch to a no-op handler ([`sqs`]).
//!
//! Every record carries its index (little endian in its first eight bytes), so the handler
//! counts distinct records and duplicates, and the latency workload finds the send stamp.

mod sqs;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, anyhow};
use aws_lambda_events::event::kinesis::KinesisEvent;
use clap::Subcommand;
use lambda_runtime::{LambdaEvent, service_fn};
use riffle_aws::{KinesisSource, SqsDestination};
use riffle_core::kinesis::config::RawKinesisMapping;
use riffle_runtime::{
    Checkpoints, FileCheckpoints, HandlerInvoker, KinesisMapping, KinesisMappingOptions,
    KinesisMetrics, MemoryCheckpoints, SystemClock,
};
use serde_json::{Value, json};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::kinesis::{self, sdk_error};
use crate::latency::put_paced;
use crate::process::CpuWindow;
use crate::stats::{after_warmup, millis, percentile, round3};
use crate::throughput::{Produce, check_record_size, produce};

const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:000000000000:function:bench";

/// Options of the `esm` workloads.
#[derive(Debug, clap::Args)]
pub(crate) struct EsmArgs {
    #[command(subcommand)]
    workload: Workload,
}

#[derive(Debug, Subcommand)]
enum Workload {
    /// Records/s from PutRecords to a no-op in-process handler.
    Throughput(ThroughputArgs),
    /// Put→invoke latency of PutRecord calls at a fixed rate.
    Latency(LatencyArgs),
    /// Throughput of a handler that sleeps per invocation, for one shards × PF configuration.
    Scale(ScaleArgs),
    /// Messages/s from SendMessageBatch through an SQS mapping to a no-op in-process handler.
    Sqs(sqs::SqsArgs),
}

/// Runs one `esm` workload.
pub(crate) async fn run(args: EsmArgs) -> anyhow::Result<Value> {
    match args.workload {
        Workload::Throughput(args) => throughput(args).await,
        Workload::Latency(args) => latency(args).await,
        Workload::Scale(args) => scale(args).await,
        Workload::Sqs(args) => sqs::throughput(args).await,
    }
}

/// Options every `esm` workload shares.
#[derive(Debug, clap::Args)]
struct Common {
    /// Endpoint of a running emulator (e.g. the `riffle` release binary). Without it, an
    /// emulator is started inside this process and shares its runtime with the engine.
    #[arg(long)]
    endpoint: Option<String>,
    /// Process id of the emulator behind --endpoint, to report its CPU time.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Stream to create and map; it must not exist yet.
    #[arg(long, default_value = "esm-bench")]
    stream: String,
    /// The mapping's idle poll interval: the wait between polls of a caught-up shard.
    #[arg(long, default_value_t = 200)]
    idle_poll_ms: u64,
    /// Records per GetRecords call of the mapping (KinesisMappingOptions::read_limit).
    #[arg(long, default_value_t = 10_000)]
    read_limit: usize,
    /// Give up waiting for the handler after this many seconds.
    #[arg(long, default_value_t = 120)]
    timeout_secs: u64,
    /// Keep the mapping's checkpoints in files under this directory (a fresh subdirectory per
    /// run), as `riffle local --data-dir` does, instead of in memory.
    #[arg(long)]
    checkpoint_dir: Option<std::path::PathBuf>,
}

/// The emulator a workload runs against: an endpoint, and the in-process emulator if one was
/// started for it.
struct Target {
    endpoint: String,
    server_pid: Option<u32>,
    in_process: Option<riffle_emulator::Emulator>,
}

impl Target {
    async fn start(common: &Common) -> anyhow::Result<Self> {
        Self::open(common.endpoint.as_deref(), common.server_pid).await
    }

    /// The emulator of `common`, a Kinesis client of it, and the ARN of `common.stream`,
    /// created with `shards` shards.
    async fn with_stream(
        common: &Common,
        shards: i32,
    ) -> anyhow::Result<(Self, aws_sdk_kinesis::Client, String)> {
        let target = Self::start(common).await?;
        let client = kinesis::client(&target.endpoint);
        let arn = create_stream(&client, &common.stream, shards).await?;
        Ok((target, client, arn))
    }

    /// `endpoint` (whose process is `server_pid`), or an emulator started in this process.
    async fn open(endpoint: Option<&str>, server_pid: Option<u32>) -> anyhow::Result<Self> {
        match endpoint {
            Some(endpoint) => Ok(Self {
                endpoint: endpoint.to_owned(),
                server_pid,
                in_process: None,
            }),
            None => {
                let emulator = riffle_emulator::Emulator::start(riffle_emulator::Config {
                    port: 0,
                    ..riffle_emulator::Config::default()
                })
                .await
                .context("starting the in-process emulator")?;
                Ok(Self {
                    endpoint: emulator.endpoint_url(),
                    server_pid: None,
                    in_process: Some(emulator),
                })
            }
        }
    }

    fn describe(&self) -> &'static str {
        if self.in_process.is_some() {
            "in-process"
        } else {
            "external"
        }
    }

    async fn stop(self) -> anyhow::Result<()> {
        if let Some(emulator) = self.in_process {
            emulator
                .shutdown()
                .await
                .context("stopping the in-process emulator")?;
        }
        Ok(())
    }
}

/// What the handler saw. Times are nanoseconds since `base`.
struct Seen {
    base: Instant,
    /// One bit per record index.
    bits: Vec<AtomicU64>,
    target: u64,
    distinct: AtomicU64,
    records: AtomicU64,
    duplicates: AtomicU64,
    unparsable: AtomicU64,
    invocations: AtomicU64,
    first_ns: AtomicU64,
    last_ns: AtomicU64,
    /// Distinct-record counts whose crossing times are kept (the scale workload's window).
    marks: [u64; 2],
    mark_ns: [AtomicU64; 2],
    /// Handler work per invocation (the scale workload's sleep).
    sleep: Duration,
    /// Send stamps (ns since `base`, plus one) per record index, for the latency workload.
    stamps: Option<Arc<Vec<AtomicU64>>>,
    /// (index, put→invoke latency) of every record, for the latency workload.
    samples: Mutex<Vec<(u64, Duration)>>,
    complete: Notify,
}

impl Seen {
    fn new(target: u64, sleep: Duration, stamps: Option<Arc<Vec<AtomicU64>>>) -> Self {
        Self {
            base: Instant::now(),
            bits: (0..target.div_ceil(64))
                .map(|_| AtomicU64::new(0))
                .collect(),
            target,
            distinct: AtomicU64::new(0),
            records: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            unparsable: AtomicU64::new(0),
            invocations: AtomicU64::new(0),
            first_ns: AtomicU64::new(u64::MAX),
            last_ns: AtomicU64::new(0),
            marks: [target / 5, target * 4 / 5],
            mark_ns: [AtomicU64::new(0), AtomicU64::new(0)],
            sleep,
            stamps,
            samples: Mutex::new(Vec::new()),
            complete: Notify::new(),
        }
    }

    fn now_ns(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX - 1)
    }

    /// The handler's work: sleep if asked, then account for every record of the event.
    async fn handle(&self, event: KinesisEvent) {
        if !self.sleep.is_zero() {
            tokio::time::sleep(self.sleep).await;
        }
        self.account(event.records.iter().map(|record| {
            let data: &[u8] = &record.kinesis.data.0;
            data.get(..8)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_le_bytes)
        }));
    }

    /// Accounts for one invocation whose records carry these indices (`None`: unreadable).
    fn account(&self, indices: impl ExactSizeIterator<Item = Option<u64>>) {
        let now = self.now_ns();
        let count = indices.len();
        let mut fresh = 0;
        let mut samples = Vec::new();
        for index in indices {
            let Some(index) = index else {
                self.unparsable.fetch_add(1, Ordering::Relaxed);
                continue;
            };
            let word = self.bits.get((index / 64) as usize);
            let Some(word) = word.filter(|_| index < self.target) else {
                self.unparsable.fetch_add(1, Ordering::Relaxed);
                continue;
            };
            let bit = 1u64 << (index % 64);
            if word.fetch_or(bit, Ordering::Relaxed) & bit == 0 {
                fresh += 1;
            } else {
                self.duplicates.fetch_add(1, Ordering::Relaxed);
            }
            if let Some(stamp) = self
                .stamps
                .as_ref()
                .and_then(|s| s.get(index as usize))
                .map(|s| s.load(Ordering::Acquire))
                .filter(|&s| s > 0)
            {
                samples.push((index, Duration::from_nanos(now.saturating_sub(stamp - 1))));
            }
        }
        if !samples.is_empty() {
            self.samples
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend(samples);
        }
        self.invocations.fetch_add(1, Ordering::Relaxed);
        self.records.fetch_add(count as u64, Ordering::Relaxed);
        self.first_ns.fetch_min(now, Ordering::Relaxed);
        self.last_ns.fetch_max(now, Ordering::Relaxed);
        if fresh > 0 {
            let before = self.distinct.fetch_add(fresh, Ordering::Relaxed);
            let after = before + fresh;
            for (mark, at) in self.marks.iter().zip(&self.mark_ns) {
                if before < *mark && after >= *mark {
                    at.store(now, Ordering::Relaxed);
                }
            }
            if after >= self.target {
                self.complete.notify_one();
            }
        }
    }

    /// Waits until every record was seen, or `timeout`; true if all were.
    async fn wait_all(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.distinct.load(Ordering::Relaxed) < self.target {
            if tokio::time::timeout_at(deadline, self.complete.notified())
                .await
                .is_err()
            {
                return self.distinct.load(Ordering::Relaxed) >= self.target;
            }
        }
        true
    }

    fn counts(&self) -> Value {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let invocations = load(&self.invocations);
        let records = load(&self.records);
        json!({
            "records_expected": self.target,
            "records_handled": load(&self.distinct),
            "records_missing": self.target.saturating_sub(load(&self.distinct)),
            "duplicates": load(&self.duplicates),
            "unparsable": load(&self.unparsable),
            "invocations": invocations,
            "mean_batch": round3(records as f64 / invocations.max(1) as f64),
        })
    }
}

/// A running mapping: its stop switch and the task that returns its metrics once stopped.
struct RunningMapping {
    stop: watch::Sender<bool>,
    task: JoinHandle<anyhow::Result<Value>>,
}

impl RunningMapping {
    /// Starts a mapping of `event_source_arn` (a stream, polled, or a stream consumer, read
    /// with SubscribeToShard) whose handler reports to `seen`.
    fn start(
        endpoint: &str,
        event_source_arn: &str,
        raw: RawKinesisMapping,
        common: &Common,
        seen: Arc<Seen>,
    ) -> anyhow::Result<Self> {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let config = RawKinesisMapping {
            event_source_arn: Some(event_source_arn.to_owned()),
            function_name: Some("bench".into()),
            starting_position: Some("TRIM_HORIZON".into()),
            ..raw
        }
        .validate(now_ms)
        .map_err(|e| anyhow!("invalid mapping: {e}"))?;
        let (kinesis, sqs) = riffle_aws::clients(endpoint, "us-east-1");
        let handler = service_fn(move |event: LambdaEvent<KinesisEvent>| {
            let seen = seen.clone();
            async move {
                seen.handle(event.payload).await;
                Ok::<(), lambda_runtime::Error>(())
            }
        });
        // The options of a local run (`riffle local`): 200 ms idle poll, shard discovery every
        // second; the idle poll and read limit can be changed from the command line.
        let mut options = KinesisMappingOptions::local("bench", FUNCTION_ARN, "us-east-1");
        options.idle_poll = Duration::from_millis(common.idle_poll_ms);
        options.read_limit = common.read_limit;
        options.function_timeout = Duration::from_secs(60);
        let mapping = Arc::new(KinesisMapping::new(
            config,
            options,
            KinesisSource::for_event_source(kinesis, event_source_arn),
            HandlerInvoker::new(handler, Duration::from_secs(60)),
            SqsDestination::new(sqs),
            match &common.checkpoint_dir {
                Some(dir) => Checkpoints::File(FileCheckpoints::new(
                    dir.join(format!("{}-{now_ms}", common.stream)),
                    "bench",
                )),
                None => Checkpoints::Memory(MemoryCheckpoints::default()),
            },
            Arc::new(SystemClock),
        ));
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            mapping
                .run(stopped)
                .await
                .map_err(|e| anyhow!("the mapping stopped with an error: {e}"))?;
            let m = mapping.metrics();
            Ok(json!({
                "polled": KinesisMetrics::get(&m.polled),
                "invocations": KinesisMetrics::get(&m.invocations),
                "invoked_records": KinesisMetrics::get(&m.invoked_records),
                "errors": KinesisMetrics::get(&m.errors),
                "retries": KinesisMetrics::get(&m.retries),
                "dropped": KinesisMetrics::get(&m.dropped),
            }))
        });
        Ok(Self { stop, task })
    }

    /// Stops the mapping and returns its metrics.
    async fn stop(self) -> anyhow::Result<Value> {
        let _ = self.stop.send(true);
        self.task.await.context("the mapping task panicked")?
    }
}

/// Creates the stream and returns its ARN.
async fn create_stream(
    client: &aws_sdk_kinesis::Client,
    name: &str,
    shards: i32,
) -> anyhow::Result<String> {
    kinesis::wait_ready(client, Duration::from_secs(30)).await?;
    kinesis::create_stream(client, name, shards).await?;
    let summary = client
        .describe_stream_summary()
        .stream_name(name)
        .send()
        .await
        .map_err(sdk_error)
        .context("DescribeStreamSummary")?;
    Ok(summary
        .stream_description_summary()
        .context("no stream description")?
        .stream_arn()
        .to_owned())
}

/// Options of `esm throughput`.
#[derive(Debug, clap::Args)]
struct ThroughputArgs {
    #[command(flatten)]
    common: Common,
    /// Shards of the stream.
    #[arg(long, default_value_t = 4)]
    shards: i32,
    /// ParallelizationFactor of the mapping (1–10).
    #[arg(long, default_value_t = 1)]
    parallelization_factor: i64,
    /// BatchSize of the mapping.
    #[arg(long, default_value_t = 1000)]
    batch_size: i64,
    /// Concurrent producers.
    #[arg(long, default_value_t = 4)]
    producers: usize,
    /// Records per PutRecords call.
    #[arg(long, default_value_t = 500)]
    put_batch: usize,
    /// Bytes per record (at least 8: the index).
    #[arg(long, default_value_t = 100)]
    record_size: usize,
    /// Records in total.
    #[arg(long, default_value_t = 300_000)]
    records: u64,
    /// Put everything first and time from the mapping's start, instead of running the mapping
    /// while the producers put and timing from the first put.
    #[arg(long)]
    preload: bool,
}

async fn throughput(args: ThroughputArgs) -> anyhow::Result<Value> {
    check_record_size(args.record_size)?;
    let (target, client, arn) = Target::with_stream(&args.common, args.shards).await?;
    let seen = Arc::new(Seen::new(args.records, Duration::ZERO, None));
    let spec = Produce {
        producers: args.producers,
        batch: args.put_batch,
        record_size: args.record_size,
        records: args.records,
        first_index: 0,
        keys: args.put_batch.max(1) as u64,
    };
    let raw = RawKinesisMapping {
        batch_size: Some(args.batch_size),
        parallelization_factor: Some(args.parallelization_factor),
        maximum_batching_window_in_seconds: Some(0),
        ..RawKinesisMapping::default()
    };
    // The clock starts at the first put (live) or at the mapping's start (backlog).
    let (clock_start, put_elapsed, produced, cpu, mapping);
    if args.preload {
        let put_start = Instant::now();
        produced = produce(&client, &args.common.stream, &spec).await?;
        put_elapsed = put_start.elapsed();
        cpu = CpuWindow::start(target.server_pid);
        clock_start = Instant::now();
        mapping = RunningMapping::start(&target.endpoint, &arn, raw, &args.common, seen.clone())?;
    } else {
        mapping = RunningMapping::start(&target.endpoint, &arn, raw, &args.common, seen.clone())?;
        // Let the mapping find its shards and open their iterators before the clock starts.
        tokio::time::sleep(Duration::from_millis(300)).await;
        cpu = CpuWindow::start(target.server_pid);
        clock_start = Instant::now();
        produced = produce(&client, &args.common.stream, &spec).await?;
        put_elapsed = clock_start.elapsed();
    }
    let t0 = u64::try_from(clock_start.duration_since(seen.base).as_nanos())?;
    let timeout = Duration::from_secs(args.common.timeout_secs);
    let (complete, mut out, metrics) = finish(&seen, timeout, &cpu, mapping, target).await?;
    let handled = seen.distinct.load(Ordering::Relaxed);
    let elapsed = Duration::from_nanos(seen.last_ns.load(Ordering::Relaxed).saturating_sub(t0));
    let first_invoke =
        Duration::from_nanos(seen.first_ns.load(Ordering::Relaxed).saturating_sub(t0));
    if !complete {
        eprintln!(
            "riffle-bench: the handler saw {handled} of {} records",
            args.records
        );
    }
    let ok = produced.ok.load(Ordering::Relaxed);
    merge(
        &mut out,
        json!({
            "workload": "esm-throughput",
            "mode": if args.preload { "backlog" } else { "live" },
            "shards": args.shards,
            "parallelization_factor": args.parallelization_factor,
            "batch_size": args.batch_size,
            "idle_poll_ms": args.common.idle_poll_ms,
            "read_limit": args.common.read_limit,
            "checkpoints": if args.common.checkpoint_dir.is_some() { "file" } else { "memory" },
            "record_size": args.record_size,
            "producers": args.producers,
            "put_batch": args.put_batch,
            "records_put": ok,
            "put_failed": produced.failed.load(Ordering::Relaxed),
            "put_elapsed_ms": millis(put_elapsed),
            "put_records_per_sec": round3(ok as f64 / put_elapsed.as_secs_f64()),
            "first_invoke_ms": millis(first_invoke),
            "elapsed_ms": millis(elapsed),
            "records_per_sec": round3(handled as f64 / elapsed.as_secs_f64().max(1e-9)),
            "complete": complete,
            "mapping": metrics,
        }),
    );
    merge(&mut out, seen.counts());
    Ok(out)
}

/// Options of `esm latency`.
#[derive(Debug, clap::Args)]
struct LatencyArgs {
    #[command(flatten)]
    common: Common,
    /// Shards of the stream.
    #[arg(long, default_value_t = 1)]
    shards: i32,
    /// PutRecord calls per second.
    #[arg(long, default_value_t = 200)]
    rate: u32,
    /// Records to send in total.
    #[arg(long, default_value_t = 2000)]
    records: u64,
    /// Leading records left out of the statistics.
    #[arg(long, default_value_t = 50)]
    warmup: u64,
    /// BatchSize of the mapping.
    #[arg(long, default_value_t = 100)]
    batch_size: i64,
    /// Bytes per record (at least 8).
    #[arg(long, default_value_t = 100)]
    record_size: usize,
    /// Read through an enhanced fan-out consumer of this name (registered by the run) instead
    /// of polling: the mapping's EventSourceArn is the consumer's ARN.
    #[arg(long)]
    consumer: Option<String>,
}

async fn latency(args: LatencyArgs) -> anyhow::Result<Value> {
    check_record_size(args.record_size)?;
    let (target, client, arn) = Target::with_stream(&args.common, args.shards).await?;
    let source = match &args.consumer {
        Some(name) => riffle_aws::tools::kinesis::register_consumer(&client, &arn, name)
            .await
            .map_err(|e| anyhow!(e))?,
        None => arn.clone(),
    };
    let total = args.records;
    let stamps: Arc<Vec<AtomicU64>> = Arc::new((0..total).map(|_| AtomicU64::new(0)).collect());
    let seen = Arc::new(Seen::new(total, Duration::ZERO, Some(stamps.clone())));
    let raw = RawKinesisMapping {
        batch_size: Some(args.batch_size),
        parallelization_factor: Some(1),
        maximum_batching_window_in_seconds: Some(0),
        ..RawKinesisMapping::default()
    };
    let mapping =
        RunningMapping::start(&target.endpoint, &source, raw, &args.common, seen.clone())?;
    // The mapping is polling (idly, or subscribed) by the time the first record is put.
    tokio::time::sleep(Duration::from_millis(300 + args.common.idle_poll_ms)).await;
    let cpu = CpuWindow::start(target.server_pid);
    let stamp = |index: u64| stamps[index as usize].store(seen.now_ns() + 1, Ordering::Release);
    let (put_failures, put_elapsed) = put_paced(
        &client,
        &args.common.stream,
        (total, args.rate, args.record_size),
        stamp,
    )
    .await;
    let (complete, mut out, metrics) =
        finish(&seen, Duration::from_secs(10), &cpu, mapping, target).await?;
    let samples = std::mem::take(&mut *seen.samples.lock().unwrap_or_else(|p| p.into_inner()));
    let (latencies, mean) = after_warmup(samples, args.warmup)?;
    merge(
        &mut out,
        json!({
            "workload": "esm-latency",
            "read": if args.consumer.is_some() { "consumer" } else { "polling" },
            "shards": args.shards,
            "batch_size": args.batch_size,
            "maximum_batching_window_s": 0,
            "idle_poll_ms": args.common.idle_poll_ms,
            "target_rate": args.rate,
            "achieved_rate": round3(total as f64 / put_elapsed.as_secs_f64()),
            "records_sent": total,
            "put_failures": put_failures,
            "measured": latencies.len(),
            "complete": complete,
            "p50_ms": millis(percentile(&latencies, 50.0)),
            "p90_ms": millis(percentile(&latencies, 90.0)),
            "p99_ms": millis(percentile(&latencies, 99.0)),
            "max_ms": millis(latencies.last().copied().unwrap_or_default()),
            "mean_ms": millis(mean),
            "mapping": metrics,
        }),
    );
    merge(&mut out, seen.counts());
    Ok(out)
}

/// Options of `esm scale`.
#[derive(Debug, clap::Args)]
struct ScaleArgs {
    #[command(flatten)]
    common: Common,
    /// Shards of the stream.
    #[arg(long, default_value_t = 1)]
    shards: i32,
    /// ParallelizationFactor of the mapping (1–10).
    #[arg(long, default_value_t = 1)]
    parallelization_factor: i64,
    /// BatchSize of the mapping: small, so that invocations are the bottleneck.
    #[arg(long, default_value_t = 10)]
    batch_size: i64,
    /// Milliseconds the handler sleeps per invocation.
    #[arg(long, default_value_t = 10)]
    sleep_ms: u64,
    /// Size the backlog so that linear scaling would drain it in this many seconds.
    #[arg(long, default_value_t = 5.0)]
    drain_secs: f64,
    /// Records put before the mapping starts (overrides --drain-secs).
    #[arg(long)]
    records: Option<u64>,
    /// Distinct partition keys, spread over the shards and lanes.
    #[arg(long, default_value_t = 10_000)]
    keys: u64,
}

/// Pre-loads a backlog, starts the mapping, and measures the rate at which the sleeping handler
/// works through it: between 20 % and 80 % of the records handled (the steady state, without
/// the start and the last lanes' tail), and over the whole drain.
async fn scale(args: ScaleArgs) -> anyhow::Result<Value> {
    let (target, client, arn) = Target::with_stream(&args.common, args.shards).await?;
    let lanes = args.shards.max(1) as u64 * args.parallelization_factor.max(1) as u64;
    let per_lane = args.batch_size as f64 / (args.sleep_ms.max(1) as f64 / 1000.0);
    let ideal = per_lane * lanes as f64;
    let records = args
        .records
        .unwrap_or_else(|| ((ideal * args.drain_secs).ceil() as u64).max(3_000));
    let spec = Produce {
        producers: 4,
        batch: 500,
        record_size: 100,
        records,
        first_index: 0,
        keys: args.keys,
    };
    let put_start = Instant::now();
    let produced = produce(&client, &args.common.stream, &spec).await?;
    let put_elapsed = put_start.elapsed();
    let seen = Arc::new(Seen::new(
        records,
        Duration::from_millis(args.sleep_ms),
        None,
    ));
    let raw = RawKinesisMapping {
        batch_size: Some(args.batch_size),
        parallelization_factor: Some(args.parallelization_factor),
        maximum_batching_window_in_seconds: Some(0),
        ..RawKinesisMapping::default()
    };
    let cpu = CpuWindow::start(target.server_pid);
    let t0 = u64::try_from(seen.base.elapsed().as_nanos())?;
    let mapping = RunningMapping::start(&target.endpoint, &arn, raw, &args.common, seen.clone())?;
    let timeout = Duration::from_secs(args.common.timeout_secs);
    let (complete, mut out, metrics) = finish(&seen, timeout, &cpu, mapping, target).await?;
    let [lo, hi] = seen.marks;
    let [lo_ns, hi_ns] = [0, 1].map(|i| seen.mark_ns[i].load(Ordering::Relaxed));
    let window = Duration::from_nanos(hi_ns.saturating_sub(lo_ns));
    let rate = if complete && hi > lo && !window.is_zero() {
        (hi - lo) as f64 / window.as_secs_f64()
    } else {
        0.0
    };
    let drain = Duration::from_nanos(seen.last_ns.load(Ordering::Relaxed).saturating_sub(t0));
    let handled = seen.distinct.load(Ordering::Relaxed);
    if !complete {
        eprintln!("riffle-bench: the handler saw {handled} of {records} records");
    }
    merge(
        &mut out,
        json!({
            "workload": "esm-scale",
            "shards": args.shards,
            "parallelization_factor": args.parallelization_factor,
            "lanes": lanes,
            "batch_size": args.batch_size,
            "sleep_ms": args.sleep_ms,
            "idle_poll_ms": args.common.idle_poll_ms,
            "read_limit": args.common.read_limit,
            "records_put": produced.ok.load(Ordering::Relaxed),
            "put_elapsed_ms": millis(put_elapsed),
            "complete": complete,
            "window_records": hi - lo,
            "elapsed_ms": millis(window),
            "records_per_sec": round3(rate),
            "drain_ms": millis(drain),
            "drain_records_per_sec": round3(handled as f64 / drain.as_secs_f64().max(1e-9)),
            "ideal_records_per_sec": round3(ideal),
            "efficiency": round3(rate / ideal),
            "mapping": metrics,
        }),
    );
    merge(&mut out, seen.counts());
    Ok(out)
}

/// Ends a run: waits up to `timeout` for every record, closes the CPU window, stops the
/// mapping and the target; whether every record came, the result so far (CPU, emulator
/// process), and the mapping's metrics.
async fn finish(
    seen: &Seen,
    timeout: Duration,
    cpu: &CpuWindow,
    mapping: RunningMapping,
    target: Target,
) -> anyhow::Result<(bool, Value, Value)> {
    let complete = seen.wait_all(timeout).await;
    let mut out = json!({});
    cpu.finish(&mut out);
    let metrics = mapping.stop().await?;
    target_stop(target, &mut out).await?;
    Ok((complete, out, metrics))
}

/// Stops the target and notes whether the emulator ran in this process.
async fn target_stop(target: Target, out: &mut Value) -> anyhow::Result<()> {
    merge(out, json!({ "emulator_process": target.describe() }));
    target.stop().await
}

/// Adds the fields of `extra` to `out`.
fn merge(out: &mut Value, extra: Value) {
    if let (Some(out), Value::Object(extra)) = (out.as_object_mut(), extra) {
        out.extend(extra);
    }
}
