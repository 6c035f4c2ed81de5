//! `riffle tail`: prints a stream's records as they arrive, from every shard, following new
//! shards after a reshard; with `--consumer NAME` through that enhanced fan-out consumer
//! (SubscribeToShard, resubscribing after each continuation when a subscription ends).
//!
//! Invariant: each shard is read in order from where the command started (or the oldest
//! record with `--from-start`); a shard created after the start is read from its beginning, so
//! nothing written after the command started is missed across a split or merge.

use std::collections::BTreeSet;
use std::time::Duration;

use base64::Engine as _;

use super::output::out;
use riffle_aws::KinesisClient;
use riffle_aws::tools::consumer::{self, StartAt, SubscribeError};
use riffle_aws::tools::kinesis::{self, PageRecord, Position, StreamRef};

use super::Endpoint;

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
    /// Read through this registered enhanced fan-out consumer (SubscribeToShard) instead of
    /// polling GetRecords.
    #[arg(long, value_name = "NAME")]
    consumer: Option<String>,
    #[command(flatten)]
    endpoint: Endpoint,
}

/// Wait between reads of a caught-up shard (five reads a second per shard, Kinesis's limit).
const POLL: Duration = Duration::from_millis(200);

pub(crate) async fn run(args: TailArgs) -> anyhow::Result<()> {
    let kinesis = args.endpoint.clients().kinesis();
    let consumer_arn = match &args.consumer {
        Some(name) => Some(
            consumer::consumer_arn(&kinesis, &args.stream, name)
                .await
                .map_err(|e| anyhow::anyhow!("consumer {name} of {}: {e}", args.stream))?,
        ),
        None => None,
    };
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<String>(1024);
    let mut started: BTreeSet<String> = BTreeSet::new();
    let mut first_listing = true;
    let mut printed = 0usize;
    let mut next_listing = tokio::time::Instant::now();
    loop {
        if tokio::time::Instant::now() >= next_listing {
            let shards = kinesis::list_shards(&kinesis, &args.stream)
                .await
                .map_err(|e| anyhow::anyhow!("ListShards of {}: {e}", args.stream))?;
            for shard in shards {
                let id = shard.shard_id;
                if !started.insert(id.clone()) {
                    continue;
                }
                if first_listing && shard.closed && !args.from_start {
                    continue;
                }
                let start = if first_listing && !args.from_start {
                    Position::Latest
                } else {
                    Position::TrimHorizon
                };
                let reader = ShardReader {
                    kinesis: kinesis.clone(),
                    shard_id: id,
                    json: args.json,
                    out: sender.clone(),
                };
                match &consumer_arn {
                    Some(arn) => {
                        let start = match start {
                            Position::Latest => StartAt::Latest,
                            _ => StartAt::TrimHorizon,
                        };
                        tokio::spawn(reader.subscribe(arn.clone(), start));
                    }
                    None => {
                        tokio::spawn(reader.poll(args.stream.clone(), start));
                    }
                }
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

/// One shard's reader, by GetRecords ([`ShardReader::poll`]) or through a consumer
/// ([`ShardReader::subscribe`]): where it reads and where it sends what it prints (its errors go
/// to stderr).
struct ShardReader {
    kinesis: KinesisClient,
    shard_id: String,
    json: bool,
    out: tokio::sync::mpsc::Sender<String>,
}

impl ShardReader {
    /// Sends `records` as lines; false once the command has stopped printing.
    async fn print(&self, records: &[PageRecord]) -> bool {
        for record in records {
            let line = line(&self.shard_id, record, self.json);
            if self.out.send(line).await.is_err() {
                return false;
            }
        }
        true
    }

    fn failed(&self, error: impl std::fmt::Display) {
        eprintln!("riffle tail: {}: {error}", self.shard_id);
    }

    /// Reads the shard with GetRecords from `start`, waiting [`POLL`] whenever it has caught
    /// up, until the shard's end.
    async fn poll(self, stream: String, start: Position<'static>) {
        let (kinesis, shard_id) = (&self.kinesis, &self.shard_id);
        let iterator =
            kinesis::shard_iterator(kinesis, StreamRef::Name(&stream), shard_id, start).await;
        let mut iterator = match iterator {
            Ok(iterator) => iterator,
            Err(e) => return self.failed(e),
        };
        while let Some(current) = iterator {
            let page = match kinesis::get_records(kinesis, current, None).await {
                Ok(page) => page,
                Err(e) => return self.failed(e),
            };
            if !self.print(&page.records).await {
                return;
            }
            let caught_up = page.records.is_empty() && page.millis_behind == Some(0);
            iterator = page.next_iterator;
            if caught_up {
                tokio::time::sleep(POLL).await;
            }
        }
    }

    /// Reads the shard through consumer `consumer_arn` from `start`: one subscription after
    /// another (each ends after five minutes), each resuming after the last continuation, until
    /// the shard's end.
    async fn subscribe(self, consumer_arn: String, start: StartAt<'static>) {
        let (kinesis, shard_id) = (&self.kinesis, &self.shard_id);
        let mut continuation: Option<String> = None;
        loop {
            let from = continuation.as_deref().map_or(start, StartAt::After);
            let mut subscription =
                match consumer::subscribe(kinesis, &consumer_arn, shard_id, from).await {
                    Ok(subscription) => subscription,
                    Err(SubscribeError::InUse(_)) => {
                        tokio::time::sleep(RESUBSCRIBE).await;
                        continue;
                    }
                    Err(e) => return self.failed(e),
                };
            loop {
                match subscription.next().await {
                    Ok(Some(event)) => {
                        if !self.print(&event.records).await {
                            return;
                        }
                        match event.continuation {
                            Some(next) => continuation = Some(next),
                            // The end of a closed shard: its children are found by the listing.
                            None => return,
                        }
                    }
                    Ok(None) => break,
                    Err(e) => return self.failed(e),
                }
            }
        }
    }
}

/// Wait before subscribing again when the last subscription is less than five seconds old.
const RESUBSCRIBE: Duration = Duration::from_secs(1);

/// A record as `riffle tail` prints it.
fn line(shard_id: &str, record: &PageRecord, json: bool) -> String {
    let data = record.data.as_slice();
    if json {
        serde_json::json!({
            "shardId": shard_id,
            "sequenceNumber": record.sequence_number,
            "partitionKey": record.partition_key,
            "approximateArrivalTimestamp": record.arrival_ms,
            "data": base64::engine::general_purpose::STANDARD.encode(data),
        })
        .to_string()
    } else {
        format!(
            "{shard_id} {} {}: {}",
            record.sequence_number,
            record.partition_key.as_deref().unwrap_or_default(),
            String::from_utf8_lossy(data)
        )
    }
}
