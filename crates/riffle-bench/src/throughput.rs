//! Write and read throughput: PutRecords batches from concurrent producers, then a drain of
//! every shard with GetRecords.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::kinesis;
use crate::process::{CpuWindow, Endpoint};
use crate::stats::{claim_batch, millis, round3};

/// Options of the `put` workload.
#[derive(Debug, clap::Args)]
pub(crate) struct PutArgs {
    #[command(flatten)]
    target: Endpoint,
    /// Stream to write to.
    #[arg(long)]
    stream: String,
    /// Create the stream (with --shards shards) and wait for ACTIVE before measuring.
    #[arg(long)]
    create: bool,
    /// Shards of the stream when --create is given.
    #[arg(long, default_value_t = 4)]
    shards: i32,
    /// Concurrent producers, each sending one PutRecords call at a time.
    #[arg(long, default_value_t = 4)]
    producers: usize,
    /// Records per PutRecords call.
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Bytes of data per record.
    #[arg(long, default_value_t = 100)]
    record_size: usize,
    /// Records to send in total.
    #[arg(long, default_value_t = 200_000)]
    records: u64,
}

/// What [`produce`] sends: `records` records of `record_size` bytes, numbered from
/// `first_index`, in `batch`-record PutRecords calls from `producers` concurrent tasks. Record
/// `i` gets partition key `pk-{i % keys}`.
#[derive(Debug, Clone)]
pub(crate) struct Produce {
    pub(crate) producers: usize,
    pub(crate) batch: usize,
    pub(crate) record_size: usize,
    pub(crate) records: u64,
    pub(crate) first_index: u64,
    pub(crate) keys: u64,
}

/// What [`produce`] achieved.
#[derive(Debug, Default)]
pub(crate) struct Produced {
    /// Entries the emulator accepted.
    pub(crate) ok: AtomicU64,
    /// Entries it rejected (`FailedRecordCount`).
    pub(crate) failed: AtomicU64,
    /// PutRecords calls.
    pub(crate) calls: AtomicU64,
}

/// Sends the records of `spec` to `stream`; counts only the entries the emulator accepted.
pub(crate) async fn produce(
    client: &aws_sdk_kinesis::Client,
    stream: &str,
    spec: &Produce,
) -> anyhow::Result<Produced> {
    let batch = spec.batch.max(1) as u64;
    let batches = spec.records.div_ceil(batch);
    let key_count = spec.keys.max(1);
    // Partition keys are reused from batch to batch; distinct keys spread a batch over shards.
    let keys: Arc<Vec<String>> = Arc::new((0..key_count).map(|i| format!("pk-{i:05}")).collect());
    let template: Arc<[u8]> = template(spec.record_size).into();
    let next = Arc::new(AtomicU64::new(0));
    let counters = Arc::new(Produced::default());
    let mut tasks = JoinSet::new();
    for _ in 0..spec.producers.max(1) {
        let (client, keys, next, counters) =
            (client.clone(), keys.clone(), next.clone(), counters.clone());
        let (stream, template, total, base) = (
            stream.to_owned(),
            template.clone(),
            spec.records,
            spec.first_index,
        );
        tasks.spawn(async move {
            loop {
                let Some((first, count)) = claim_batch(&next, batches, batch, total) else {
                    return anyhow::Ok(());
                };
                let entries = (first..first + count)
                    .map(|i| {
                        let index = base + i;
                        PutRecordsRequestEntry::builder()
                            .data(Blob::new(payload(&template, index)))
                            .partition_key(&keys[(index % key_count) as usize])
                            .build()
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let out = kinesis::put_records(&client, &stream, entries).await?;
                let failed = u64::try_from(out.failed_record_count().unwrap_or(0)).unwrap_or(0);
                counters.calls.fetch_add(1, Ordering::Relaxed);
                counters.failed.fetch_add(failed, Ordering::Relaxed);
                counters
                    .ok
                    .fetch_add(count.saturating_sub(failed), Ordering::Relaxed);
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.context("producer task panicked")??;
    }
    Arc::into_inner(counters).context("a producer task outlived the join")
}

/// Sends `records` records in batches from `producers` concurrent tasks; counts only the
/// entries the emulator accepted.
pub(crate) async fn put(args: PutArgs) -> anyhow::Result<Value> {
    let client = kinesis::client(&args.target.endpoint);
    kinesis::wait_ready(&client, Duration::from_secs(30)).await?;
    if args.create {
        kinesis::create_stream(&client, &args.stream, args.shards).await?;
    }
    let spec = Produce {
        producers: args.producers,
        batch: args.batch,
        record_size: args.record_size,
        records: args.records,
        first_index: 0,
        keys: args.batch.max(1) as u64,
    };
    let cpu = CpuWindow::start(args.target.server_pid);
    let start = Instant::now();
    let counters = produce(&client, &args.stream, &spec).await?;
    let elapsed = start.elapsed();
    let ok = counters.ok.load(Ordering::Relaxed);
    let secs = elapsed.as_secs_f64();
    let mut out = json!({
        "workload": "put",
        "stream": args.stream,
        "record_size": args.record_size,
        "producers": args.producers,
        "batch": args.batch,
        "records_sent": args.records,
        "records_ok": ok,
        "failed_record_count": counters.failed.load(Ordering::Relaxed),
        "calls": counters.calls.load(Ordering::Relaxed),
        "elapsed_ms": millis(elapsed),
        "records_per_sec": round3(ok as f64 / secs),
        "mib_per_sec": round3(ok as f64 * args.record_size as f64 / secs / 1_048_576.0),
    });
    cpu.finish(&mut out);
    Ok(out)
}

/// Refuses a record size too small for the index [`payload`] writes over a record's first
/// 8 bytes.
pub(crate) fn check_record_size(record_size: usize) -> anyhow::Result<()> {
    if record_size < 8 {
        anyhow::bail!("--record-size must be at least 8 bytes");
    }
    Ok(())
}

/// A filler pattern of `size` bytes that records are cut from.
pub(crate) fn template(size: usize) -> Vec<u8> {
    (0..size).map(|i| b'a' + (i % 26) as u8).collect()
}

/// Record `index`: the template with the index (little endian) over its first bytes.
pub(crate) fn payload(template: &[u8], index: u64) -> Vec<u8> {
    let mut data = template.to_vec();
    let id = index.to_le_bytes();
    let n = id.len().min(data.len());
    data[..n].copy_from_slice(&id[..n]);
    data
}

/// Options of the `drain` workload.
#[derive(Debug, clap::Args)]
pub(crate) struct DrainArgs {
    #[command(flatten)]
    target: Endpoint,
    /// Stream to read.
    #[arg(long)]
    stream: String,
    /// Concurrent readers; shards are dealt out to them round-robin.
    #[arg(long, default_value_t = 4)]
    readers: usize,
    /// Limit of each GetRecords call.
    #[arg(long, default_value_t = 10_000)]
    limit: i32,
    /// Records the stream is expected to hold; a shortfall is reported.
    #[arg(long)]
    expect: Option<u64>,
}

#[derive(Default)]
struct DrainCounters {
    records: AtomicU64,
    bytes: AtomicU64,
    calls: AtomicU64,
    /// Nanoseconds from the start to the last GetRecords call that returned records.
    last_data_ns: AtomicU64,
}

/// Reads every shard from TRIM_HORIZON until a GetRecords call comes back empty and caught up.
/// The rate uses the time of the last call that returned records, so the final empty poll of
/// each shard is not counted.
pub(crate) async fn drain(args: DrainArgs) -> anyhow::Result<Value> {
    let client = kinesis::client(&args.target.endpoint);
    let shards = kinesis::shard_ids(&client, &args.stream).await?;
    let readers = args.readers.clamp(1, shards.len().max(1));
    let counters = Arc::new(DrainCounters::default());
    let cpu = CpuWindow::start(args.target.server_pid);
    let start = Instant::now();
    let mut tasks = JoinSet::new();
    for r in 0..readers {
        let mine: Vec<String> = shards.iter().skip(r).step_by(readers).cloned().collect();
        let (client, counters, stream, limit) = (
            client.clone(),
            counters.clone(),
            args.stream.clone(),
            args.limit,
        );
        tasks.spawn(async move {
            for shard in mine {
                let mut iterator = Some(kinesis::trim_horizon(&client, &stream, &shard).await?);
                let mut empty_polls = 0;
                while let Some(it) = iterator.take() {
                    let out = kinesis::get_records(&client, it, limit, &shard).await?;
                    counters.calls.fetch_add(1, Ordering::Relaxed);
                    let records = out.records();
                    if records.is_empty() {
                        // An emulator may answer empty while still behind; allow a few polls.
                        empty_polls += 1;
                        if out.millis_behind_latest().unwrap_or(0) == 0 || empty_polls > 10 {
                            break;
                        }
                    } else {
                        empty_polls = 0;
                        let bytes: usize = records.iter().map(|r| r.data().as_ref().len()).sum();
                        counters
                            .records
                            .fetch_add(records.len() as u64, Ordering::Relaxed);
                        counters.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
                        let now = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
                        counters.last_data_ns.fetch_max(now, Ordering::Relaxed);
                    }
                    iterator = out.next_shard_iterator().map(str::to_owned);
                }
            }
            anyhow::Ok(())
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.context("reader task panicked")??;
    }
    let total = start.elapsed();
    let records = counters.records.load(Ordering::Relaxed);
    let data_time = Duration::from_nanos(counters.last_data_ns.load(Ordering::Relaxed));
    let secs = data_time.as_secs_f64().max(1e-9);
    let bytes = counters.bytes.load(Ordering::Relaxed);
    let missing = args.expect.map(|e| e.saturating_sub(records));
    if let Some(m) = missing.filter(|&m| m > 0) {
        eprintln!(
            "riffle-bench: drain of {} read {records} records, {m} short",
            args.stream
        );
    }
    let mut out = json!({
        "workload": "drain",
        "stream": args.stream,
        "shards": shards.len(),
        "readers": readers,
        "limit": args.limit,
        "records": records,
        "missing": missing,
        "calls": counters.calls.load(Ordering::Relaxed),
        "elapsed_ms": millis(data_time),
        "elapsed_with_final_polls_ms": millis(total),
        "records_per_sec": round3(records as f64 / secs),
        "mib_per_sec": round3(bytes as f64 / secs / 1_048_576.0),
    });
    cpu.finish(&mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{payload, template};

    #[test]
    fn payload_carries_its_index() {
        let p = payload(&template(100), 0x0102);
        assert_eq!(p.len(), 100);
        assert_eq!(u64::from_le_bytes(p[..8].try_into().unwrap()), 0x0102);
        assert_eq!(&p[8..10], b"ij");
        assert_eq!(payload(&template(4), 7).len(), 4);
    }
}
