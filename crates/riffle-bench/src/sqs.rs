//! SQS throughput: SendMessageBatch from concurrent producers, then ReceiveMessage plus
//! DeleteMessageBatch from concurrent consumers draining the same queue.
//!
//! Each message body starts with its index (twelve decimal digits), so the drain can tell
//! missing messages from duplicates; every MD5OfMessageBody the emulator returns is checked
//! against the body, as the SQS SDKs that verify checksums would.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, SendMessageBatchRequestEntry};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::kinesis::sdk_error;
use crate::process::{CpuWindow, Endpoint};
use crate::stats::{claim_batch, millis, round3};

/// Digits of the index at the start of every body.
pub(crate) const INDEX_DIGITS: usize = 12;

/// An SQS client for `endpoint`, configured exactly like the Kinesis one: plain HTTP, dummy
/// credentials, us-east-1, no retries.
pub(crate) fn client(endpoint: &str) -> Client {
    crate::kinesis::clients(endpoint).sqs()
}

/// Polls ListQueues every 10 ms until it succeeds; returns how long that took.
pub(crate) async fn wait_ready(client: &Client, timeout: Duration) -> anyhow::Result<Duration> {
    crate::kinesis::poll_until_ready(timeout, || client.list_queues().send()).await
}

/// The URL of `queue`, created first when `create` is set.
async fn queue_url(client: &Client, queue: &str, create: bool) -> anyhow::Result<String> {
    let url = if create {
        let created = client.create_queue().queue_name(queue).send().await;
        let created = created.map_err(sdk_error);
        created
            .with_context(|| format!("CreateQueue {queue}"))?
            .queue_url
    } else {
        let found = client.get_queue_url().queue_name(queue).send().await;
        let found = found.map_err(sdk_error);
        found
            .with_context(|| format!("GetQueueUrl {queue}"))?
            .queue_url
    };
    url.context("no QueueUrl in the answer")
}

/// Message `index`: its index in twelve digits, then filler up to `size` bytes.
pub(crate) fn body(index: u64, size: usize) -> String {
    let mut text = format!("{index:0INDEX_DIGITS$}");
    text.extend((0..size.saturating_sub(text.len())).map(|i| char::from(b'a' + (i % 26) as u8)));
    text
}

/// The index a body starts with.
pub(crate) fn index_of(body: &str) -> Option<u64> {
    body.get(..INDEX_DIGITS)?.parse().ok()
}

fn md5_hex(text: &str) -> String {
    riffle_core::digest::md5_hex(text.as_bytes())
}

/// Options of the `sqs-send` workload.
#[derive(Debug, clap::Args)]
pub(crate) struct SendArgs {
    #[command(flatten)]
    target: Endpoint,
    /// Queue to send to.
    #[arg(long)]
    queue: String,
    /// Create the queue (a standard queue with default attributes) before measuring.
    #[arg(long)]
    create: bool,
    /// Concurrent producers, each sending one SendMessageBatch call at a time.
    #[arg(long, default_value_t = 4)]
    producers: usize,
    /// Messages per SendMessageBatch call (SQS allows at most 10).
    #[arg(long, default_value_t = 10)]
    batch: usize,
    /// Bytes per message body (at least 12: the index).
    #[arg(long, default_value_t = 100)]
    message_size: usize,
    /// Messages to send in total.
    #[arg(long, default_value_t = 100_000)]
    messages: u64,
}

#[derive(Default)]
struct SendCounters {
    ok: AtomicU64,
    failed: AtomicU64,
    calls: AtomicU64,
    md5_mismatches: AtomicU64,
}

/// Sends `messages` messages in batches from `producers` concurrent tasks; counts only the
/// entries the emulator reported as successful.
pub(crate) async fn send(args: SendArgs) -> anyhow::Result<Value> {
    if args.message_size < INDEX_DIGITS {
        bail!("--message-size must be at least {INDEX_DIGITS} bytes");
    }
    let client = client(&args.target.endpoint);
    wait_ready(&client, Duration::from_secs(30)).await?;
    let url = queue_url(&client, &args.queue, args.create).await?;
    let batch = args.batch.clamp(1, 10) as u64;
    let batches = args.messages.div_ceil(batch);
    let ids: Arc<Vec<String>> = Arc::new((0..batch).map(|i| i.to_string()).collect());
    let next = Arc::new(AtomicU64::new(0));
    let counters = Arc::new(SendCounters::default());
    let cpu = CpuWindow::start(args.target.server_pid);
    let start = Instant::now();
    let mut tasks = JoinSet::new();
    for _ in 0..args.producers.max(1) {
        let (client, ids, next, counters, url) = (
            client.clone(),
            ids.clone(),
            next.clone(),
            counters.clone(),
            url.clone(),
        );
        let (total, size) = (args.messages, args.message_size);
        tasks.spawn(async move {
            loop {
                let Some((first, count)) = claim_batch(&next, batches, batch, total) else {
                    return anyhow::Ok(());
                };
                let bodies: Vec<String> = (first..first + count).map(|i| body(i, size)).collect();
                let entries = bodies
                    .iter()
                    .zip(ids.iter())
                    .map(|(text, id)| {
                        SendMessageBatchRequestEntry::builder()
                            .id(id)
                            .message_body(text)
                            .build()
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let out = send_batch(&client, &url, entries).await?;
                counters.calls.fetch_add(1, Ordering::Relaxed);
                counters
                    .failed
                    .fetch_add(out.failed().len() as u64, Ordering::Relaxed);
                counters
                    .ok
                    .fetch_add(out.successful().len() as u64, Ordering::Relaxed);
                let mismatches = out
                    .successful()
                    .iter()
                    .filter(|entry| {
                        let sent = entry.id().parse::<usize>().ok().and_then(|i| bodies.get(i));
                        sent.is_none_or(|text| md5_hex(text) != entry.md5_of_message_body())
                    })
                    .count();
                counters
                    .md5_mismatches
                    .fetch_add(mismatches as u64, Ordering::Relaxed);
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.context("producer task panicked")??;
    }
    let elapsed = start.elapsed();
    let ok = counters.ok.load(Ordering::Relaxed);
    let mut out = json!({
        "workload": "sqs-send",
        "queue": args.queue,
        "message_size": args.message_size,
        "producers": args.producers,
        "batch": batch,
        "messages_sent": args.messages,
        "messages_ok": ok,
        "failed": counters.failed.load(Ordering::Relaxed),
        "md5_mismatches": counters.md5_mismatches.load(Ordering::Relaxed),
        "calls": counters.calls.load(Ordering::Relaxed),
        "elapsed_ms": millis(elapsed),
        "messages_per_sec": round3(ok as f64 / elapsed.as_secs_f64()),
    });
    cpu.finish(&mut out);
    Ok(out)
}

/// Options of the `sqs-drain` workload.
#[derive(Debug, clap::Args)]
pub(crate) struct DrainArgs {
    #[command(flatten)]
    target: Endpoint,
    /// Queue to drain.
    #[arg(long)]
    queue: String,
    /// Concurrent consumers, each one ReceiveMessage then one DeleteMessageBatch at a time.
    #[arg(long, default_value_t = 4)]
    consumers: usize,
    /// MaxNumberOfMessages of each ReceiveMessage call (1–10).
    #[arg(long, default_value_t = 10)]
    max_messages: i32,
    /// WaitTimeSeconds of each ReceiveMessage call (0: short polling).
    #[arg(long, default_value_t = 0)]
    wait_secs: i32,
    /// Messages the queue holds (the number sqs-send reported as sent).
    #[arg(long)]
    expect: u64,
    /// Stop after this many consecutive empty receives of one consumer.
    #[arg(long, default_value_t = 50)]
    max_empty: u32,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 300)]
    timeout_secs: u64,
}

struct DrainState {
    expect: u64,
    seen: Vec<AtomicU64>,
    distinct: AtomicU64,
    received: AtomicU64,
    deleted: AtomicU64,
    delete_failed: AtomicU64,
    duplicates: AtomicU64,
    unparsable: AtomicU64,
    md5_mismatches: AtomicU64,
    receive_calls: AtomicU64,
    empty_receives: AtomicU64,
    delete_calls: AtomicU64,
    /// Nanoseconds from the start to the last delete of a message.
    last_delete_ns: AtomicU64,
    done: AtomicBool,
}

impl DrainState {
    fn new(expect: u64) -> Self {
        Self {
            expect,
            seen: (0..expect.div_ceil(64))
                .map(|_| AtomicU64::new(0))
                .collect(),
            distinct: AtomicU64::new(0),
            received: AtomicU64::new(0),
            deleted: AtomicU64::new(0),
            delete_failed: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            unparsable: AtomicU64::new(0),
            md5_mismatches: AtomicU64::new(0),
            receive_calls: AtomicU64::new(0),
            empty_receives: AtomicU64::new(0),
            delete_calls: AtomicU64::new(0),
            last_delete_ns: AtomicU64::new(0),
            done: AtomicBool::new(false),
        }
    }

    /// Marks `index` seen; false if it had been seen before or is not an expected index.
    fn mark(&self, index: u64) -> bool {
        if index >= self.expect {
            return false;
        }
        let Some(word) = self.seen.get((index / 64) as usize) else {
            return false;
        };
        let bit = 1u64 << (index % 64);
        word.fetch_or(bit, Ordering::Relaxed) & bit == 0
    }
}

/// Receives and deletes until every expected message was seen (or the consumers keep getting
/// nothing). The rate uses the time of the last successful delete.
pub(crate) async fn drain(args: DrainArgs) -> anyhow::Result<Value> {
    let client = client(&args.target.endpoint);
    let url = queue_url(&client, &args.queue, false).await?;
    let state = Arc::new(DrainState::new(args.expect));
    let deadline = Duration::from_secs(args.timeout_secs);
    let cpu = CpuWindow::start(args.target.server_pid);
    let start = Instant::now();
    let mut tasks = JoinSet::new();
    for _ in 0..args.consumers.max(1) {
        let (client, url, state) = (client.clone(), url.clone(), state.clone());
        let (max, wait, expect, max_empty) = (
            args.max_messages,
            args.wait_secs,
            args.expect,
            args.max_empty,
        );
        tasks.spawn(async move {
            let mut empty_in_a_row = 0;
            while !state.done.load(Ordering::Relaxed) && start.elapsed() < deadline {
                let out = client
                    .receive_message()
                    .queue_url(&url)
                    .max_number_of_messages(max)
                    .wait_time_seconds(wait)
                    .send()
                    .await
                    .map_err(sdk_error)
                    .context("ReceiveMessage")?;
                state.receive_calls.fetch_add(1, Ordering::Relaxed);
                let messages = out.messages();
                if messages.is_empty() {
                    state.empty_receives.fetch_add(1, Ordering::Relaxed);
                    empty_in_a_row += 1;
                    if empty_in_a_row >= max_empty {
                        break;
                    }
                    continue;
                }
                empty_in_a_row = 0;
                state
                    .received
                    .fetch_add(messages.len() as u64, Ordering::Relaxed);
                let mut entries = Vec::with_capacity(messages.len());
                for (i, message) in messages.iter().enumerate() {
                    let text = message.body().unwrap_or_default();
                    if message.md5_of_body() != Some(md5_hex(text).as_str()) {
                        state.md5_mismatches.fetch_add(1, Ordering::Relaxed);
                    }
                    match index_of(text).filter(|&index| index < expect) {
                        Some(index) if state.mark(index) => {
                            state.distinct.fetch_add(1, Ordering::Relaxed);
                        }
                        Some(_) => {
                            state.duplicates.fetch_add(1, Ordering::Relaxed);
                        }
                        None => {
                            state.unparsable.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    entries.push(
                        DeleteMessageBatchRequestEntry::builder()
                            .id(i.to_string())
                            .receipt_handle(message.receipt_handle().unwrap_or_default())
                            .build()?,
                    );
                }
                let request = client.delete_message_batch().queue_url(&url);
                let deleted = request.set_entries(Some(entries)).send().await;
                let deleted = deleted.map_err(sdk_error).context("DeleteMessageBatch")?;
                state.delete_calls.fetch_add(1, Ordering::Relaxed);
                state
                    .delete_failed
                    .fetch_add(deleted.failed().len() as u64, Ordering::Relaxed);
                let ok = deleted.successful().len() as u64;
                let total = state.deleted.fetch_add(ok, Ordering::Relaxed) + ok;
                let now = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
                state.last_delete_ns.fetch_max(now, Ordering::Relaxed);
                if total >= expect && state.distinct.load(Ordering::Relaxed) >= expect {
                    state.done.store(true, Ordering::Relaxed);
                }
            }
            anyhow::Ok(())
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.context("consumer task panicked")??;
    }
    let total = start.elapsed();
    let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
    let distinct = load(&state.distinct);
    let data_time = Duration::from_nanos(load(&state.last_delete_ns));
    let missing = args.expect.saturating_sub(distinct);
    if missing > 0 {
        eprintln!(
            "riffle-bench: drain of {} saw {distinct} of {} messages",
            args.queue, args.expect
        );
    }
    let deleted = load(&state.deleted);
    let mut out = json!({
        "workload": "sqs-drain",
        "queue": args.queue,
        "consumers": args.consumers,
        "max_messages": args.max_messages,
        "wait_secs": args.wait_secs,
        "expected": args.expect,
        "messages": distinct,
        "missing": missing,
        "received": load(&state.received),
        "duplicates": load(&state.duplicates),
        "unparsable": load(&state.unparsable),
        "md5_mismatches": load(&state.md5_mismatches),
        "deleted": deleted,
        "delete_failed": load(&state.delete_failed),
        "receive_calls": load(&state.receive_calls),
        "empty_receives": load(&state.empty_receives),
        "delete_calls": load(&state.delete_calls),
        "elapsed_ms": millis(data_time),
        "elapsed_with_final_polls_ms": millis(total),
        "messages_per_sec": round3(deleted as f64 / data_time.as_secs_f64().max(1e-9)),
    });
    cpu.finish(&mut out);
    Ok(out)
}

/// SendMessageBatch of `entries` to `url`.
pub(crate) async fn send_batch(
    client: &Client,
    url: &str,
    entries: Vec<SendMessageBatchRequestEntry>,
) -> anyhow::Result<aws_sdk_sqs::operation::send_message_batch::SendMessageBatchOutput> {
    let request = client.send_message_batch().queue_url(url);
    let sent = request.set_entries(Some(entries)).send().await;
    sent.map_err(sdk_error).context("SendMessageBatch")
}

#[cfg(test)]
mod tests {
    use super::{DrainState, body, index_of, md5_hex};

    #[test]
    fn bodies_carry_their_index() {
        let text = body(42, 100);
        assert_eq!(text.len(), 100);
        assert!(text.starts_with("000000000042abc"));
        assert_eq!(index_of(&text), Some(42));
        assert_eq!(index_of("short"), None);
    }

    #[test]
    fn md5_is_lowercase_hex() {
        assert_eq!(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
    }

    #[test]
    fn marks_each_index_once() {
        let state = DrainState::new(100);
        assert!(state.mark(99));
        assert!(!state.mark(99));
        assert!(state.mark(0));
        assert!(!state.mark(100), "out of range counts as not new");
    }
}
