//! `riffle tail`: prints a stream's records as they arrive, from every shard, following new
//! shards after a reshard.
//!
//! Invariant: each shard is read in order from where the command started (or the oldest
//! record with `--from-start`); a shard created after the start is read from its beginning, so
//! nothing written after the command started is missed across a split or merge.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_kinesis::types::ShardIteratorType;
use base64::Engine as _;

use super::output::out;
use super::{Endpoint, sdk_error};

/// Options of `riffle tail`.
#[derive(Debug, clap::Args)]
pub(crate) struct TailArgs {
    /// Stream name.
    #[arg(long)]
    stream: String,
    /// Start with the oldest record in the stream instead of new ones.
    #[arg(long)]
    from_start: bool,
    /// Print each record as a JSON line (data base64, as Kinesis returns it).
    #[arg(long)]
    json: bool,
    /// Stop after this many records.
    #[arg(long)]
    limit: Option<usize>,
    #[command(flatten)]
    endpoint: Endpoint,
}

/// Wait between reads of a caught-up shard (five reads a second per shard, Kinesis's limit).
const POLL: Duration = Duration::from_millis(200);

pub(crate) async fn run(args: TailArgs) -> anyhow::Result<()> {
    let (kinesis, _) = args.endpoint.clients();
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<String>(1024);
    let mut started: BTreeSet<String> = BTreeSet::new();
    let mut first_listing = true;
    let mut printed = 0usize;
    let mut next_listing = tokio::time::Instant::now();
    loop {
        if tokio::time::Instant::now() >= next_listing {
            let shards = kinesis
                .list_shards()
                .stream_name(&args.stream)
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("ListShards of {}: {}", args.stream, sdk_error(&e)))?;
            for shard in shards.shards() {
                let id = shard.shard_id().to_owned();
                if !started.insert(id.clone()) {
                    continue;
                }
                let closed = shard
                    .sequence_number_range()
                    .and_then(|r| r.ending_sequence_number())
                    .is_some();
                if first_listing && closed && !args.from_start {
                    continue;
                }
                let start = if first_listing && !args.from_start {
                    ShardIteratorType::Latest
                } else {
                    ShardIteratorType::TrimHorizon
                };
                tokio::spawn(read_shard(
                    kinesis.clone(),
                    args.stream.clone(),
                    id,
                    start,
                    args.json,
                    sender.clone(),
                ));
            }
            first_listing = false;
            next_listing = tokio::time::Instant::now() + Duration::from_secs(1);
        }
        tokio::select! {
            line = receiver.recv() => {
                let Some(line) = line else { return Ok(()) };
                out!("{line}")?;
                printed += 1;
                if args.limit.is_some_and(|limit| printed >= limit) {
                    return Ok(());
                }
            }
            () = tokio::time::sleep_until(next_listing) => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

async fn read_shard(
    kinesis: aws_sdk_kinesis::Client,
    stream: String,
    shard_id: String,
    start: ShardIteratorType,
    json: bool,
    out: tokio::sync::mpsc::Sender<String>,
) {
    let iterator = kinesis
        .get_shard_iterator()
        .stream_name(&stream)
        .shard_id(&shard_id)
        .shard_iterator_type(start)
        .send()
        .await;
    let mut iterator = match iterator {
        Ok(out) => out.shard_iterator,
        Err(e) => {
            eprintln!("riffle tail: {shard_id}: {}", sdk_error(&e));
            return;
        }
    };
    while let Some(current) = iterator {
        let page = match kinesis.get_records().shard_iterator(current).send().await {
            Ok(page) => page,
            Err(e) => {
                eprintln!("riffle tail: {shard_id}: {}", sdk_error(&e));
                return;
            }
        };
        for record in page.records() {
            let data = record.data().as_ref();
            let line = if json {
                serde_json::json!({
                    "shardId": shard_id,
                    "sequenceNumber": record.sequence_number(),
                    "partitionKey": record.partition_key(),
                    "approximateArrivalTimestamp": record
                        .approximate_arrival_timestamp()
                        .and_then(|t| t.to_millis().ok()),
                    "data": base64::engine::general_purpose::STANDARD.encode(data),
                })
                .to_string()
            } else {
                format!(
                    "{shard_id} {} {}: {}",
                    record.sequence_number(),
                    record.partition_key().unwrap_or_default(),
                    String::from_utf8_lossy(data)
                )
            };
            if out.send(line).await.is_err() {
                return;
            }
        }
        let caught_up = page.records().is_empty() && page.millis_behind_latest() == Some(0);
        iterator = page.next_shard_iterator;
        if caught_up {
            tokio::time::sleep(POLL).await;
        }
    }
}
