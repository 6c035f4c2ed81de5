//! S3 throughput: PutObject from concurrent writers, then GetObject of every object from
//! concurrent readers.
//!
//! Object `i` is `obj-<i in twelve digits>` and its body starts with the same twelve digits, then
//! a fixed filler: the put checks every ETag against the body's MD5 (what S3 answers for a
//! single-part put), the get checks every body byte for byte, so an emulator that loses, mixes
//! up or truncates objects shows it in the counts instead of in a faster number.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::kinesis::sdk_error;
use crate::process::{CpuWindow, Endpoint};
use crate::sqs::INDEX_DIGITS;
use crate::stats::{millis, round3};

/// An S3 client for `endpoint` (path-style), configured like the Kinesis one.
pub(crate) fn client(endpoint: &str) -> Client {
    crate::kinesis::clients(endpoint).s3()
}

/// Polls ListBuckets every 10 ms until it succeeds; returns how long that took.
pub(crate) async fn wait_ready(client: &Client, timeout: Duration) -> anyhow::Result<Duration> {
    crate::kinesis::poll_until_ready(timeout, || client.list_buckets().send()).await
}

/// Object `index`'s key.
fn key(index: u64) -> String {
    format!("obj-{index:0INDEX_DIGITS$}")
}

/// Object `index`'s body: its index in twelve digits, then `filler` up to its size.
fn body(index: u64, filler: &[u8]) -> Bytes {
    let mut bytes = filler.to_vec();
    let digits = format!("{index:0INDEX_DIGITS$}");
    let n = digits.len().min(bytes.len());
    bytes[..n].copy_from_slice(&digits.as_bytes()[..n]);
    Bytes::from(bytes)
}

/// `size` bytes of filler, the same for every object.
fn filler(size: usize) -> Vec<u8> {
    (0..size).map(|i| b'a' + (i % 26) as u8).collect()
}

/// What both workloads take.
#[derive(Debug, clap::Args)]
pub(crate) struct ObjectArgs {
    #[command(flatten)]
    target: Endpoint,
    /// Bucket to use.
    #[arg(long)]
    bucket: String,
    /// Concurrent clients, each one request at a time.
    #[arg(long, default_value_t = 4)]
    workers: usize,
    /// Bytes per object (at least 12: the index).
    #[arg(long, default_value_t = 64 * 1024)]
    object_size: usize,
    /// Objects in total.
    #[arg(long, default_value_t = 2_000)]
    objects: u64,
}

/// Options of the `s3-put` workload.
#[derive(Debug, clap::Args)]
pub(crate) struct PutArgs {
    #[command(flatten)]
    objects: ObjectArgs,
    /// Create the bucket before measuring.
    #[arg(long)]
    create: bool,
}

#[derive(Default)]
struct Counters {
    ok: AtomicU64,
    failed: AtomicU64,
    mismatches: AtomicU64,
}

/// Runs `work(index)` for every object index from `workers` concurrent tasks.
async fn each_object<F, Fut>(args: &ObjectArgs, work: F) -> anyhow::Result<Duration>
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = JoinSet::new();
    for _ in 0..args.workers.max(1) {
        let (next, work, total) = (next.clone(), work.clone(), args.objects);
        tasks.spawn(async move {
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= total {
                    return anyhow::Ok(());
                }
                work(index).await?;
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.context("worker task panicked")??;
    }
    Ok(start.elapsed())
}

/// Puts every object; counts the puts S3 acknowledged and those whose ETag is not the body's MD5.
pub(crate) async fn put(args: PutArgs) -> anyhow::Result<Value> {
    let objects = &args.objects;
    anyhow::ensure!(
        objects.object_size >= INDEX_DIGITS,
        "--object-size must be at least {INDEX_DIGITS} bytes"
    );
    let client = client(&objects.target.endpoint);
    wait_ready(&client, Duration::from_secs(30)).await?;
    if args.create {
        let created = client.create_bucket().bucket(&objects.bucket).send().await;
        created
            .map_err(sdk_error)
            .with_context(|| format!("CreateBucket {}", objects.bucket))?;
    }
    let filler = Arc::new(filler(objects.object_size));
    let counters = Arc::new(Counters::default());
    let cpu = CpuWindow::start(objects.target.server_pid);
    let work = {
        let (client, bucket, filler, counters) = (
            client.clone(),
            objects.bucket.clone(),
            filler.clone(),
            counters.clone(),
        );
        move |index: u64| {
            let (client, bucket, filler, counters) = (
                client.clone(),
                bucket.clone(),
                filler.clone(),
                counters.clone(),
            );
            async move {
                let body = body(index, &filler);
                let expected = format!("\"{}\"", riffle_core::digest::md5_hex(&body[..]));
                let put = client
                    .put_object()
                    .bucket(bucket)
                    .key(key(index))
                    .body(ByteStream::from(body))
                    .send()
                    .await;
                match put {
                    Ok(out) => {
                        counters.ok.fetch_add(1, Ordering::Relaxed);
                        if out.e_tag() != Some(expected.as_str()) {
                            counters.mismatches.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(_) => {
                        counters.failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
                anyhow::Ok(())
            }
        }
    };
    let elapsed = each_object(objects, work).await?;
    let ok = counters.ok.load(Ordering::Relaxed);
    let mut out = json!({
        "workload": "s3-put",
        "bucket": objects.bucket,
        "object_size": objects.object_size,
        "workers": objects.workers,
        "objects": objects.objects,
        "objects_ok": ok,
        "failed": counters.failed.load(Ordering::Relaxed),
        "etag_mismatches": counters.mismatches.load(Ordering::Relaxed),
        "elapsed_ms": millis(elapsed),
        "objects_per_sec": round3(ok as f64 / elapsed.as_secs_f64()),
        "mib_per_sec": round3(mib(ok, objects.object_size) / elapsed.as_secs_f64()),
    });
    cpu.finish(&mut out);
    Ok(out)
}

/// Gets every object `s3-put` wrote; counts the missing and the ones whose bytes differ.
pub(crate) async fn get(args: ObjectArgs) -> anyhow::Result<Value> {
    let client = client(&args.target.endpoint);
    wait_ready(&client, Duration::from_secs(30)).await?;
    let filler = Arc::new(filler(args.object_size.max(INDEX_DIGITS)));
    let counters = Arc::new(Counters::default());
    let cpu = CpuWindow::start(args.target.server_pid);
    let work = {
        let (client, bucket, filler, counters) = (
            client.clone(),
            args.bucket.clone(),
            filler.clone(),
            counters.clone(),
        );
        move |index: u64| {
            let (client, bucket, filler, counters) = (
                client.clone(),
                bucket.clone(),
                filler.clone(),
                counters.clone(),
            );
            async move {
                let got = client
                    .get_object()
                    .bucket(bucket)
                    .key(key(index))
                    .send()
                    .await;
                let bytes = match got {
                    Ok(out) => out.body.collect().await.map(|b| b.into_bytes()).ok(),
                    Err(_) => None,
                };
                match bytes {
                    Some(bytes) => {
                        counters.ok.fetch_add(1, Ordering::Relaxed);
                        if bytes != body(index, &filler) {
                            counters.mismatches.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    None => {
                        counters.failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
                anyhow::Ok(())
            }
        }
    };
    let elapsed = each_object(&args, work).await?;
    let ok = counters.ok.load(Ordering::Relaxed);
    let mut out = json!({
        "workload": "s3-get",
        "bucket": args.bucket,
        "object_size": args.object_size,
        "workers": args.workers,
        "objects": args.objects,
        "objects_ok": ok,
        "failed": counters.failed.load(Ordering::Relaxed),
        "body_mismatches": counters.mismatches.load(Ordering::Relaxed),
        "elapsed_ms": millis(elapsed),
        "objects_per_sec": round3(ok as f64 / elapsed.as_secs_f64()),
        "mib_per_sec": round3(mib(ok, args.object_size) / elapsed.as_secs_f64()),
    });
    cpu.finish(&mut out);
    Ok(out)
}

fn mib(objects: u64, size: usize) -> f64 {
    objects as f64 * size as f64 / (1024.0 * 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_carry_their_index_and_differ_only_there() {
        let filler = filler(40);
        let (a, b) = (body(7, &filler), body(8, &filler));
        assert_eq!(&a[..INDEX_DIGITS], b"000000000007");
        assert_eq!(a.len(), 40);
        assert_eq!(a[INDEX_DIGITS..], b[INDEX_DIGITS..]);
        assert_ne!(a, b);
        assert_eq!(key(7), "obj-000000000007");
    }
}
