//! The SDK client every workload uses, and the few control-plane helpers they share.

use std::error::Error as StdError;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::error::DisplayErrorContext;
use aws_sdk_kinesis::types::StreamStatus;

/// An SDK client for `endpoint`: plain HTTP, dummy credentials, us-east-1, no retries (a
/// benchmark must see every failure rather than hide it behind back-off).
pub(crate) fn client(endpoint: &str) -> Client {
    clients(endpoint).kinesis()
}

/// How every workload's clients reach `endpoint`.
pub(crate) fn clients(endpoint: &str) -> riffle_aws::Clients {
    riffle_aws::Clients::new(endpoint, "us-east-1")
        .credentials("bench", "riffle-bench")
        .without_retries()
        .without_stalled_stream_protection()
        .timeouts(Duration::from_secs(5), Duration::from_secs(120))
}

/// Turns an SDK error into one that prints the service's code and message.
pub(crate) fn sdk_error<E: StdError + Send + Sync + 'static>(e: E) -> anyhow::Error {
    anyhow!("{}", DisplayErrorContext(e))
}

/// Polls ListStreams every 10 ms until it succeeds; returns how long that took.
pub(crate) async fn wait_ready(client: &Client, timeout: Duration) -> anyhow::Result<Duration> {
    poll_until_ready(timeout, || client.list_streams().send()).await
}

/// Calls `probe` every 10 ms until it succeeds (or `timeout` has passed, with its last error);
/// returns how long that took.
pub(crate) async fn poll_until_ready<T, E: StdError, F: Future<Output = Result<T, E>>>(
    timeout: Duration,
    mut probe: impl FnMut() -> F,
) -> anyhow::Result<Duration> {
    let start = Instant::now();
    loop {
        match probe().await {
            Ok(_) => return Ok(start.elapsed()),
            Err(e) if start.elapsed() > timeout => {
                bail!(
                    "endpoint not ready after {timeout:?}: {}",
                    DisplayErrorContext(e)
                )
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

/// Creates `name` with `shards` shards and waits until it is ACTIVE.
pub(crate) async fn create_stream(client: &Client, name: &str, shards: i32) -> anyhow::Result<()> {
    client
        .create_stream()
        .stream_name(name)
        .shard_count(shards)
        .send()
        .await
        .map_err(sdk_error)
        .with_context(|| format!("CreateStream {name}"))?;
    let start = Instant::now();
    loop {
        let out = client
            .describe_stream()
            .stream_name(name)
            .send()
            .await
            .map_err(sdk_error)
            .with_context(|| format!("DescribeStream {name}"))?;
        let status = out.stream_description().map(|d| d.stream_status().clone());
        if status == Some(StreamStatus::Active) {
            return Ok(());
        }
        if start.elapsed() > Duration::from_secs(60) {
            bail!("stream {name} still {status:?} after 60 s");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The ids of every shard of `name` (DescribeStream, which all three emulators implement).
pub(crate) async fn shard_ids(client: &Client, name: &str) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::new();
    loop {
        let mut request = client.describe_stream().stream_name(name);
        if let Some(last) = ids.last() {
            request = request.exclusive_start_shard_id(String::clone(last));
        }
        let out = request
            .send()
            .await
            .map_err(sdk_error)
            .with_context(|| format!("DescribeStream {name}"))?;
        let description = out
            .stream_description()
            .context("DescribeStream without a description")?;
        let before = ids.len();
        ids.extend(description.shards().iter().map(|s| s.shard_id().to_owned()));
        if !description.has_more_shards() || ids.len() == before {
            return Ok(ids);
        }
    }
}

/// A TRIM_HORIZON iterator for one shard.
pub(crate) async fn trim_horizon(
    client: &Client,
    stream: &str,
    shard: &str,
) -> anyhow::Result<String> {
    let out = client
        .get_shard_iterator()
        .stream_name(stream)
        .shard_id(shard)
        .shard_iterator_type(aws_sdk_kinesis::types::ShardIteratorType::TrimHorizon)
        .send()
        .await
        .map_err(sdk_error)
        .with_context(|| format!("GetShardIterator {stream}/{shard}"))?;
    out.shard_iterator()
        .map(str::to_owned)
        .context("GetShardIterator returned no iterator")
}

/// PutRecords of `entries` to `stream`.
pub(crate) async fn put_records(
    client: &Client,
    stream: &str,
    entries: Vec<aws_sdk_kinesis::types::PutRecordsRequestEntry>,
) -> anyhow::Result<aws_sdk_kinesis::operation::put_records::PutRecordsOutput> {
    client
        .put_records()
        .stream_name(stream)
        .set_records(Some(entries))
        .send()
        .await
        .map_err(sdk_error)
        .context("PutRecords")
}

/// PutRecord of `data` under `pk-{index}`; a failure is counted in `failures`, and the first
/// one printed, so a latency run goes on and reports how many puts failed.
pub(crate) async fn put_counting_failures(
    client: &Client,
    stream: &str,
    index: u64,
    data: Vec<u8>,
    failures: &mut u64,
) {
    let sent = client
        .put_record()
        .stream_name(stream)
        .partition_key(format!("pk-{index}"))
        .data(aws_sdk_kinesis::primitives::Blob::new(data))
        .send()
        .await;
    if let Err(e) = sent {
        *failures += 1;
        if *failures == 1 {
            eprintln!("riffle-bench: PutRecord failed: {}", sdk_error(e));
        }
    }
}

/// GetRecords of up to `limit` records at `iterator` of `shard`.
pub(crate) async fn get_records(
    client: &Client,
    iterator: String,
    limit: i32,
    shard: &str,
) -> anyhow::Result<aws_sdk_kinesis::operation::get_records::GetRecordsOutput> {
    client
        .get_records()
        .shard_iterator(iterator)
        .limit(limit)
        .send()
        .await
        .map_err(sdk_error)
        .with_context(|| format!("GetRecords {shard}"))
}
