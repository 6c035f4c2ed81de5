//! The SQS event source mapping end to end: messages sent with SendMessageBatch by concurrent
//! producers, received, invoked and deleted by a `riffle_runtime::SqsMapping` over
//! `riffle_aws::SqsQueueSource`, and handed to an in-process `lambda_runtime::service_fn`
//! handler taking `LambdaEvent<SqsEvent>` through `HandlerInvoker`, as `tests/e2e/esm_sqs.rs`
//! wires it (with the system clock).
//!
//! Every body starts with its index in twelve digits (`crate::sqs::body`), so the handler counts
//! distinct messages and duplicates. A FIFO queue gets its messages spread round-robin over
//! `--groups` message groups.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_sqs::types::{QueueAttributeName, SendMessageBatchRequestEntry};
use lambda_runtime::{LambdaEvent, service_fn};
use riffle_aws::{SqsQueueSource, queue_facts};
use riffle_core::sqs::config::{RawScalingConfig, RawSqsMapping};
use riffle_core::sqs::event::QueueMessage;
use riffle_core::sqs::poller::PollerSettings;
use riffle_core::sqs::poller::{EntryFailure, ReceiptEntry, ReceiveRequest};
use riffle_runtime::{
    HandlerInvoker, QueueSource, SourceError, SqsMapping, SqsMappingOptions, SystemClock,
};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::{FUNCTION_ARN, Seen, Target, merge, target_stop};
use crate::kinesis::sdk_error;
use crate::process::CpuWindow;
use crate::sqs::{INDEX_DIGITS, body, index_of};
use crate::stats::{millis, round3};

/// The function's timeout; the queue's visibility timeout (30 s, SQS's default) must not be
/// shorter.
const FUNCTION_TIMEOUT: Duration = Duration::from_secs(30);

/// Options of `esm sqs`.
#[derive(Debug, clap::Args)]
pub(super) struct SqsArgs {
    /// Endpoint of a running emulator (e.g. the `riffle` release binary). Without it, an
    /// emulator is started inside this process and shares its runtime with the engine.
    #[arg(long)]
    endpoint: Option<String>,
    /// Process id of the emulator behind --endpoint, to report its CPU time.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Queue to create and map (`.fifo` is appended with --fifo); it must not exist yet.
    #[arg(long, default_value = "esm-sqs-bench")]
    queue: String,
    /// Map a FIFO queue.
    #[arg(long)]
    fifo: bool,
    /// Message groups of a FIFO queue; message i goes to group i mod this.
    #[arg(long, default_value_t = 1000)]
    groups: u64,
    /// BatchSize of the mapping.
    #[arg(long, default_value_t = 10)]
    batch_size: i64,
    /// MaximumBatchingWindowInSeconds of the mapping.
    #[arg(long, default_value_t = 0)]
    window_secs: i64,
    /// ScalingConfig.MaximumConcurrency of the mapping.
    #[arg(long)]
    maximum_concurrency: Option<i64>,
    /// Concurrent producers, each one SendMessageBatch call at a time.
    #[arg(long, default_value_t = 4)]
    producers: usize,
    /// Bytes per message body (at least 12: the index).
    #[arg(long, default_value_t = 100)]
    message_size: usize,
    /// Messages in total.
    #[arg(long, default_value_t = 200_000)]
    messages: u64,
    /// Send everything first and time from the mapping's start, instead of running the mapping
    /// while the producers send and timing from the first send.
    #[arg(long)]
    preload: bool,
    /// Give up waiting for the handler after this many seconds.
    #[arg(long, default_value_t = 120)]
    timeout_secs: u64,
}

/// Counts the calls the mapping makes to its queue.
struct Counted<Q> {
    inner: Q,
    receives: AtomicU64,
    empty_receives: AtomicU64,
    deletes: AtomicU64,
    releases: AtomicU64,
    entry_failures: AtomicU64,
}

impl<Q> Counted<Q> {
    /// Counts one delete or release call in `calls`, and its failed entries.
    fn count_entries(&self, calls: &AtomicU64, failed: &[EntryFailure]) {
        calls.fetch_add(1, Ordering::Relaxed);
        self.entry_failures
            .fetch_add(failed.len() as u64, Ordering::Relaxed);
    }
}

impl<Q: QueueSource> QueueSource for Counted<Q> {
    async fn receive(&self, request: ReceiveRequest) -> Result<Vec<QueueMessage>, SourceError> {
        let messages = self.inner.receive(request).await?;
        self.receives.fetch_add(1, Ordering::Relaxed);
        if messages.is_empty() {
            self.empty_receives.fetch_add(1, Ordering::Relaxed);
        }
        Ok(messages)
    }

    async fn delete(&self, entries: Vec<ReceiptEntry>) -> Result<Vec<EntryFailure>, SourceError> {
        let failed = self.inner.delete(entries).await?;
        self.count_entries(&self.deletes, &failed);
        Ok(failed)
    }

    async fn release(&self, entries: Vec<ReceiptEntry>) -> Result<Vec<EntryFailure>, SourceError> {
        let failed = self.inner.release(entries).await?;
        self.count_entries(&self.releases, &failed);
        Ok(failed)
    }
}

/// What the producers did.
#[derive(Default)]
struct Sent {
    ok: AtomicU64,
    failed: AtomicU64,
    calls: AtomicU64,
}

/// Sends `args.messages` messages in batches of ten from `args.producers` tasks.
async fn send_all(
    client: &aws_sdk_sqs::Client,
    url: &str,
    args: &SqsArgs,
) -> anyhow::Result<Arc<Sent>> {
    let total = args.messages;
    let batches = total.div_ceil(10);
    let next = Arc::new(AtomicU64::new(0));
    let sent = Arc::new(Sent::default());
    let mut tasks = JoinSet::new();
    for _ in 0..args.producers.max(1) {
        let (client, url, next, sent) =
            (client.clone(), url.to_owned(), next.clone(), sent.clone());
        let (fifo, groups, size) = (args.fifo, args.groups.max(1), args.message_size);
        tasks.spawn(async move {
            loop {
                let b = next.fetch_add(1, Ordering::Relaxed);
                if b >= batches {
                    return anyhow::Ok(());
                }
                let first = b * 10;
                let entries = (first..(first + 10).min(total))
                    .map(|index| {
                        let entry = SendMessageBatchRequestEntry::builder()
                            .id((index - first).to_string())
                            .message_body(body(index, size));
                        let entry = if fifo {
                            entry
                                .message_group_id(format!("g{}", index % groups))
                                .message_deduplication_id(index.to_string())
                        } else {
                            entry
                        };
                        entry.build()
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let out = crate::sqs::send_batch(&client, &url, entries).await?;
                sent.calls.fetch_add(1, Ordering::Relaxed);
                sent.ok
                    .fetch_add(out.successful().len() as u64, Ordering::Relaxed);
                sent.failed
                    .fetch_add(out.failed().len() as u64, Ordering::Relaxed);
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.context("producer task panicked")??;
    }
    Ok(sent)
}

/// Messages/s from SendMessageBatch to a no-op handler, through an SQS mapping.
pub(super) async fn throughput(args: SqsArgs) -> anyhow::Result<Value> {
    if args.message_size < INDEX_DIGITS {
        bail!("--message-size must be at least {INDEX_DIGITS} bytes");
    }
    let target = Target::open(args.endpoint.as_deref(), args.server_pid).await?;
    let client = crate::sqs::client(&target.endpoint);
    crate::sqs::wait_ready(&client, Duration::from_secs(30)).await?;
    let name = if args.fifo {
        format!("{}.fifo", args.queue)
    } else {
        args.queue.clone()
    };
    let mut create = client.create_queue().queue_name(&name);
    if args.fifo {
        create = create.attributes(QueueAttributeName::FifoQueue, "true");
    }
    let url = create
        .send()
        .await
        .map_err(sdk_error)
        .with_context(|| format!("CreateQueue {name}"))?
        .queue_url
        .context("no QueueUrl in the answer")?;

    // The mapping, wired as a user would: its own SDK client, the queue's facts, validation.
    let (_, sqs) = riffle_aws::clients(&target.endpoint, "us-east-1");
    let facts = queue_facts(&sqs, &url)
        .await
        .map_err(|e| anyhow::anyhow!("GetQueueAttributes: {e}"))?;
    let raw = RawSqsMapping {
        event_source_arn: Some(facts.queue_arn.clone()),
        function_name: Some("bench".into()),
        batch_size: Some(args.batch_size),
        maximum_batching_window_in_seconds: Some(args.window_secs),
        scaling_config: args.maximum_concurrency.map(|c| RawScalingConfig {
            maximum_concurrency: Some(c),
        }),
        ..RawSqsMapping::default()
    };
    let sqs_facts = facts.sqs_facts(FUNCTION_TIMEOUT.as_secs());
    let config = raw
        .validate(sqs_facts)
        .map_err(|e| anyhow::anyhow!("invalid mapping: {e:?}"))?;
    let settings = PollerSettings::new(&config, "us-east-1", sqs_facts)
        .map_err(|e| anyhow::anyhow!("invalid settings: {e}"))?;
    let seen = Arc::new(Seen::new(args.messages, Duration::ZERO, None));
    let handler_seen = seen.clone();
    let handler = service_fn(move |event: LambdaEvent<SqsEvent>| {
        let seen = handler_seen.clone();
        async move {
            seen.account(
                event
                    .payload
                    .records
                    .iter()
                    .map(|m| m.body.as_deref().and_then(index_of)),
            );
            Ok::<(), lambda_runtime::Error>(())
        }
    });
    let source = Arc::new(Counted {
        inner: SqsQueueSource::new(sqs, url.clone()),
        receives: AtomicU64::new(0),
        empty_receives: AtomicU64::new(0),
        deletes: AtomicU64::new(0),
        releases: AtomicU64::new(0),
        entry_failures: AtomicU64::new(0),
    });
    let mapping = Arc::new(SqsMapping::new(
        settings,
        SqsMappingOptions::new("bench-sqs", FUNCTION_ARN, FUNCTION_TIMEOUT),
        SharedSource(source.clone()),
        HandlerInvoker::<_, SqsEvent>::new(handler, FUNCTION_TIMEOUT),
        Arc::new(SystemClock),
    ));
    let (stop, stopped) = watch::channel(false);
    let peak_pollers = Arc::new(AtomicUsize::new(0));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (mapping, peak, sampling) = (mapping.clone(), peak_pollers.clone(), sampling.clone());
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                let now = mapping.metrics().pollers.load(Ordering::Relaxed);
                peak.fetch_max(now, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let start_mapping = || {
        let (mapping, stopped) = (mapping.clone(), stopped.clone());
        tokio::spawn(async move { mapping.run(stopped).await })
    };

    // The clock starts at the first send (live) or at the mapping's start (backlog).
    let (clock_start, send_elapsed, sent, cpu, task);
    if args.preload {
        let send_start = Instant::now();
        sent = send_all(&client, &url, &args).await?;
        send_elapsed = send_start.elapsed();
        cpu = CpuWindow::start(target.server_pid);
        clock_start = Instant::now();
        task = start_mapping();
    } else {
        task = start_mapping();
        // Let the pollers start their long polls of the empty queue before the clock starts.
        tokio::time::sleep(Duration::from_millis(300)).await;
        cpu = CpuWindow::start(target.server_pid);
        clock_start = Instant::now();
        sent = send_all(&client, &url, &args).await?;
        send_elapsed = clock_start.elapsed();
    }
    let t0 = u64::try_from(clock_start.duration_since(seen.base).as_nanos())?;
    let timeout = Duration::from_secs(args.timeout_secs);
    let complete = seen.wait_all(timeout).await;
    // Deletes follow each invocation; wait for the last of them too.
    let ok = sent.ok.load(Ordering::Relaxed);
    let deleted_by = clock_start + timeout;
    while mapping.metrics().deleted.load(Ordering::Relaxed) < ok && Instant::now() < deleted_by {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let deleted_elapsed = clock_start.elapsed();
    let mut out = json!({});
    cpu.finish(&mut out);
    let _ = stop.send(true);
    task.await.context("the mapping task panicked")?;
    sampling.store(false, Ordering::Relaxed);
    let _ = sampler.await;
    target_stop(target, &mut out).await?;
    let handled = seen.distinct.load(Ordering::Relaxed);
    if !complete {
        eprintln!(
            "riffle-bench: the handler saw {handled} of {} messages",
            args.messages
        );
    }
    let elapsed = Duration::from_nanos(seen.last_ns.load(Ordering::Relaxed).saturating_sub(t0));
    let first_invoke =
        Duration::from_nanos(seen.first_ns.load(Ordering::Relaxed).saturating_sub(t0));
    let m = mapping.metrics();
    let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
    merge(
        &mut out,
        json!({
            "workload": "esm-sqs-throughput",
            "mode": if args.preload { "backlog" } else { "live" },
            "queue_type": if args.fifo { "fifo" } else { "standard" },
            "groups": if args.fifo { Some(args.groups) } else { None },
            "batch_size": args.batch_size,
            "window_s": args.window_secs,
            "maximum_concurrency": args.maximum_concurrency,
            "message_size": args.message_size,
            "producers": args.producers,
            "messages_sent": ok,
            "send_failed": sent.failed.load(Ordering::Relaxed),
            "send_calls": sent.calls.load(Ordering::Relaxed),
            "send_elapsed_ms": millis(send_elapsed),
            "send_messages_per_sec": round3(ok as f64 / send_elapsed.as_secs_f64().max(1e-9)),
            "first_invoke_ms": millis(first_invoke),
            "elapsed_ms": millis(elapsed),
            "messages_per_sec": round3(handled as f64 / elapsed.as_secs_f64().max(1e-9)),
            "deleted_elapsed_ms": millis(deleted_elapsed),
            "complete": complete,
            "peak_pollers": peak_pollers.load(Ordering::Relaxed),
            "mapping": {
                "polled": load(&m.polled),
                "invocations": load(&m.invocations),
                "invoked_messages": load(&m.invoked_messages),
                "deleted": load(&m.deleted),
                "failed": load(&m.failed),
                "errors": load(&m.errors),
                "throttles": load(&m.throttles),
                "receives": load(&source.receives),
                "empty_receives": load(&source.empty_receives),
                "delete_calls": load(&source.deletes),
                "release_calls": load(&source.releases),
                "entry_failures": load(&source.entry_failures),
            },
        }),
    );
    merge(&mut out, seen.counts());
    Ok(out)
}

/// A [`Counted`] source shared with the workload, which reads its counters afterwards.
struct SharedSource<Q>(Arc<Counted<Q>>);

impl<Q: QueueSource> QueueSource for SharedSource<Q> {
    async fn receive(&self, request: ReceiveRequest) -> Result<Vec<QueueMessage>, SourceError> {
        self.0.receive(request).await
    }

    async fn delete(&self, entries: Vec<ReceiptEntry>) -> Result<Vec<EntryFailure>, SourceError> {
        self.0.delete(entries).await
    }

    async fn release(&self, entries: Vec<ReceiptEntry>) -> Result<Vec<EntryFailure>, SourceError> {
        self.0.release(entries).await
    }
}
