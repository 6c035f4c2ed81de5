//! Put→read latency: one producer sends single records with PutRecord at a fixed rate while one
//! consumer per shard polls GetRecords in a tight loop. Each record carries its index; the
//! producer stamps the index just before calling PutRecord, and the consumer measures from that
//! stamp to the moment the GetRecords response holding the record has been parsed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;

use crate::kinesis;
use crate::process::{CpuWindow, Endpoint};
use crate::stats::{after_warmup, millis, percentile, round3};
use crate::throughput::{check_record_size, payload, template};

/// Options of the `latency` workload.
#[derive(Debug, clap::Args)]
pub(crate) struct LatencyArgs {
    #[command(flatten)]
    target: Endpoint,
    /// Stream to create and use; it must not exist yet.
    #[arg(long)]
    stream: String,
    /// Shards of the stream; one consumer polls each.
    #[arg(long, default_value_t = 1)]
    shards: i32,
    /// PutRecord calls per second.
    #[arg(long, default_value_t = 200)]
    rate: u32,
    /// Records to send in total.
    #[arg(long, default_value_t = 3000)]
    records: u64,
    /// Leading records left out of the statistics (connection set-up, first allocations).
    #[arg(long, default_value_t = 50)]
    warmup: u64,
    /// Bytes of data per record (at least 8: the index).
    #[arg(long, default_value_t = 100)]
    record_size: usize,
}

/// Runs the workload and reports p50/p99/max over the records after the warm-up.
pub(crate) async fn run(args: LatencyArgs) -> anyhow::Result<Value> {
    check_record_size(args.record_size)?;
    let client = kinesis::client(&args.target.endpoint);
    kinesis::wait_ready(&client, Duration::from_secs(30)).await?;
    kinesis::create_stream(&client, &args.stream, args.shards).await?;
    let shards = kinesis::shard_ids(&client, &args.stream).await?;
    let total = args.records;
    // Send stamps in nanoseconds since `base`, plus one so that zero means "not sent".
    let stamps: Arc<Vec<AtomicU64>> = Arc::new((0..total).map(|_| AtomicU64::new(0)).collect());
    let cpu = CpuWindow::start(args.target.server_pid);
    let base = Instant::now();
    let received = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));

    let mut consumers = JoinSet::new();
    for shard in shards {
        let iterator = kinesis::trim_horizon(&client, &args.stream, &shard).await?;
        let (client, stamps, received, stop) = (
            client.clone(),
            stamps.clone(),
            received.clone(),
            stop.clone(),
        );
        consumers.spawn(async move {
            let mut samples: Vec<(u64, Duration)> = Vec::new();
            let mut iterator = Some(iterator);
            let mut polls = 0u64;
            while let Some(it) = iterator.take() {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let out = kinesis::get_records(&client, it, 10_000, &shard).await?;
                let now = base.elapsed();
                polls += 1;
                for record in out.records() {
                    let data = record.data().as_ref();
                    let index = data
                        .get(..8)
                        .and_then(|b| b.try_into().ok())
                        .map(u64::from_le_bytes)
                        .context("record without an index")?;
                    let stamp = stamps
                        .get(usize::try_from(index)?)
                        .context("record index out of range")?
                        .load(Ordering::Acquire);
                    if stamp == 0 {
                        bail!("record {index} arrived before it was sent");
                    }
                    samples.push((index, now.saturating_sub(Duration::from_nanos(stamp - 1))));
                }
                if received.fetch_add(out.records().len() as u64, Ordering::Relaxed)
                    + out.records().len() as u64
                    >= total
                {
                    stop.store(true, Ordering::Relaxed);
                }
                iterator = out.next_shard_iterator().map(str::to_owned);
            }
            anyhow::Ok((samples, polls))
        });
    }

    let stamp = |index: u64| {
        let stamp = u64::try_from(base.elapsed().as_nanos()).unwrap_or(u64::MAX - 1) + 1;
        stamps[index as usize].store(stamp, Ordering::Release);
    };
    let (put_failures, put_elapsed) = put_paced(
        &client,
        &args.stream,
        (total, args.rate, args.record_size),
        stamp,
    )
    .await;

    // Give stragglers up to five seconds, then stop the consumers.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut samples = Vec::new();
    let mut polls = 0;
    while let Some(joined) = consumers.join_next().await {
        let (s, p) = joined.context("consumer task panicked")??;
        samples.extend(s);
        polls += p;
    }
    let arrived = samples.len() as u64;
    let (latencies, mean) = after_warmup(samples, args.warmup)?;
    let mut out = json!({
        "workload": "latency",
        "stream": args.stream,
        "shards": args.shards,
        "target_rate": args.rate,
        "achieved_rate": round3(total as f64 / put_elapsed.as_secs_f64()),
        "records_sent": total,
        "put_failures": put_failures,
        "records_arrived": arrived,
        "measured": latencies.len(),
        "get_records_calls": polls,
        "p50_ms": millis(percentile(&latencies, 50.0)),
        "p99_ms": millis(percentile(&latencies, 99.0)),
        "max_ms": millis(latencies.last().copied().unwrap_or_default()),
        "mean_ms": millis(mean),
    });
    cpu.finish(&mut out);
    Ok(out)
}

/// Puts records `0..total` of `record_size` bytes with PutRecord, `rate` a second, calling
/// `stamp` with each index just before its put; the puts that failed, and how long it took.
pub(crate) async fn put_paced(
    client: &aws_sdk_kinesis::Client,
    stream: &str,
    (total, rate, record_size): (u64, u32, usize),
    mut stamp: impl FnMut(u64),
) -> (u64, Duration) {
    let template = template(record_size);
    let mut ticker = paced(rate);
    let mut put_failures = 0u64;
    let put_start = Instant::now();
    for index in 0..total {
        ticker.tick().await;
        stamp(index);
        kinesis::put_counting_failures(
            client,
            stream,
            index,
            payload(&template, index),
            &mut put_failures,
        )
        .await;
    }
    (put_failures, put_start.elapsed())
}

/// A ticker of `rate` ticks a second (at least one) that catches up in a burst when it falls
/// behind, so the puts keep the asked-for rate on average.
pub(crate) fn paced(rate: u32) -> tokio::time::Interval {
    let mut ticker = tokio::time::interval(Duration::from_secs(1) / rate.max(1));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
    ticker
}
