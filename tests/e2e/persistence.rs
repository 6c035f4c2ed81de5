//! Durability with a data directory: restarts, kill -9, and refusing foreign data.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use riffle_emulator::{Config, Emulator, ManualClock};

use crate::support::{self, create_stream};
use crate::support::{kinesis, sqs};

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "riffle-e2e-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl TempDir {
    /// An emulator configuration keeping its data here.
    fn config(&self) -> Config {
        Config {
            data_dir: Some(self.0.clone()),
            ..Config::default()
        }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn read_shard(client: &Client, stream: &str, shard: &str) -> Vec<Vec<u8>> {
    let records = kinesis::read_to_tip(client, stream, shard).await;
    records.iter().map(|r| r.data().as_ref().to_vec()).collect()
}

#[tokio::test]
async fn streams_records_lineage_and_tags_survive_a_restart() {
    let dir = TempDir::new();
    let (emulator, client) = support::start_with(dir.config()).await;
    create_stream(&client, "s", 1).await;
    kinesis::add_tags(&client, "s", &[("team", "a")]).await;
    kinesis::increase_retention(&client, "s", 48).await.unwrap();
    kinesis::put(&client, "s", "k", "one").await;
    kinesis::split(&client, "s", "shardId-000000000000", "1000").await;
    let before = kinesis::try_put_at(&client, "s", "k", "0", "pre")
        .await
        .unwrap();
    emulator.shutdown().await.unwrap();

    let (_emulator, client) = support::start_with(dir.config()).await;
    let shards = client.list_shards().stream_name("s").send().await.unwrap();
    assert_eq!(shards.shards().len(), 3);
    assert_eq!(
        shards.shards()[2].parent_shard_id(),
        Some("shardId-000000000000")
    );
    assert_eq!(
        read_shard(&client, "s", "shardId-000000000000").await,
        [b"one".to_vec()]
    );
    let tags = kinesis::tags(&client, "s").await;
    assert_eq!(tags.tags()[0].value(), Some("a"));
    let summary = kinesis::description(&client, "s").await;
    assert_eq!(summary.retention_period_hours(), 48);
    // Sequence numbers keep increasing within a shard after the restart.
    let put = kinesis::try_put_at(&client, "s", "k", "0", "two")
        .await
        .unwrap();
    assert_eq!(put.shard_id(), before.shard_id());
    let number = |text: &str| riffle_core::sequence::SequenceNumber::parse(text).unwrap();
    assert!(number(before.sequence_number()) < number(put.sequence_number()));
}

/// Each listed shard: id, parent, hash key range, and its sequence number range.
async fn lineage(client: &Client, stream: &str) -> Vec<[Option<String>; 6]> {
    let out = kinesis::list_shards(client, stream).await;
    out.shards()
        .iter()
        .map(|s| {
            let range = s.sequence_number_range();
            [
                Some(s.shard_id().to_owned()),
                s.parent_shard_id().map(str::to_owned),
                s.hash_key_range().map(|r| r.starting_hash_key().to_owned()),
                s.hash_key_range().map(|r| r.ending_hash_key().to_owned()),
                range.map(|r| r.starting_sequence_number().to_owned()),
                range.and_then(|r| r.ending_sequence_number().map(str::to_owned)),
            ]
        })
        .collect()
}

#[tokio::test]
async fn a_restart_while_a_split_is_updating_completes_it_when_updating_ends() {
    let dir = TempDir::new();
    let clock = ManualClock::new(support::T0);
    let config = || Config {
        clock: Arc::new(clock.clone()),
        status_delay: Duration::from_millis(500),
        ..dir.config()
    };
    let (emulator, client) = support::start_with(config()).await;
    create_stream(&client, "s", 1).await;
    clock.advance(Duration::from_millis(500));
    kinesis::split(&client, "s", "shardId-000000000000", "1000").await;
    let during = kinesis::try_put_at(&client, "s", "k", "0", "during")
        .await
        .unwrap();
    assert_eq!(during.shard_id(), "shardId-000000000000");
    emulator.shutdown().await.unwrap();

    // Still UPDATING after the restart: the old shard, open and childless, takes the writes.
    let (emulator, client) = support::start_with(config()).await;
    let shards = lineage(&client, "s").await;
    assert_eq!(shards.len(), 1);
    assert_eq!(shards[0][5], None, "still open");
    let summary = kinesis::description(&client, "s").await;
    assert_eq!(summary.stream_status().as_str(), "UPDATING");
    let put = kinesis::try_put_at(&client, "s", "k", "0", "still")
        .await
        .unwrap();
    assert_eq!(put.shard_id(), "shardId-000000000000");

    // UPDATING ends: the parent closes with both records, the children take the writes.
    clock.advance(Duration::from_millis(500));
    let after = lineage(&client, "s").await;
    assert_eq!(after.len(), 3);
    assert!(after[0][5].is_some(), "closed");
    assert_eq!(after[1][1].as_deref(), Some("shardId-000000000000"));
    assert_eq!(after[1][3].as_deref(), Some("999"));
    assert_eq!(
        read_shard(&client, "s", "shardId-000000000000").await,
        [b"during".to_vec(), b"still".to_vec()]
    );
    let put = kinesis::try_put_at(&client, "s", "k", "0", "after")
        .await
        .unwrap();
    assert_eq!(put.shard_id(), "shardId-000000000001");
    emulator.shutdown().await.unwrap();

    // And once more: the same shards, to the sequence number.
    let (_emulator, client) = support::start_with(config()).await;
    assert_eq!(lineage(&client, "s").await, after);
}

#[tokio::test]
async fn a_log_replays_under_the_status_delay_it_was_written_with() {
    let dir = TempDir::new();
    let clock = ManualClock::new(support::T0);
    let config = |delay_ms| Config {
        clock: Arc::new(clock.clone()),
        status_delay: Duration::from_millis(delay_ms),
        ..dir.config()
    };
    let (emulator, client) = support::start_with(config(500)).await;
    create_stream(&client, "s", 1).await;
    clock.advance(Duration::from_millis(500));
    emulator.shutdown().await.unwrap();

    // Restarted without a status delay: the split takes effect at once and the write after it
    // lands on a child; then the process dies without a snapshot.
    let (emulator, client) = support::start_with(config(0)).await;
    kinesis::split(&client, "s", "shardId-000000000000", "1000").await;
    let put = kinesis::try_put_at(&client, "s", "k", "0", "x")
        .await
        .unwrap();
    assert_eq!(put.shard_id(), "shardId-000000000001");
    drop(emulator);

    // Replaying that run's log gives what it answered, not a split still UPDATING.
    let (state, _wal) = riffle_emulator::persist::open(&dir.0, || unreachable!()).unwrap();
    let stream = &state.kinesis.streams["s"];
    assert_eq!(stream.shards.len(), 3);
    assert_eq!(stream.shards[1].last_counter, 1);
}

/// Starts `riffle emulator` on a free port with `dir`; returns the child and its endpoint.
fn spawn_riffle(dir: &Path) -> (Child, String) {
    crate::support::cli::spawn_emulator(dir, Stdio::null())
}

/// What four writers running at once (so group commit batches several requests per fsync)
/// had acknowledged when they finished; `writer(w)` returns what writer `w` had acknowledged.
async fn acknowledged_by_four_writers<F>(writer: impl Fn(usize) -> F) -> Vec<String>
where
    F: std::future::Future<Output = Vec<String>> + Send + 'static,
{
    let writers: Vec<_> = (0..4).map(|w| tokio::spawn(writer(w))).collect();
    let mut acknowledged = Vec::new();
    for writer in writers {
        acknowledged.extend(writer.await.unwrap());
    }
    acknowledged
}

/// Kills `child` with SIGKILL (no shutdown, no snapshot) and starts another on the same data.
fn kill_dash_nine_and_restart(mut child: Child, dir: &Path) -> (Child, String) {
    child.kill().unwrap();
    child.wait().unwrap();
    spawn_riffle(dir)
}

/// Stops `child`, then checks that `found` is exactly what was `acknowledged`: `count` items.
fn assert_all_found(
    mut child: Child,
    mut found: Vec<String>,
    mut acknowledged: Vec<String>,
    count: usize,
) {
    child.kill().unwrap();
    child.wait().unwrap();
    acknowledged.sort();
    found.sort();
    assert_eq!(found.len(), count);
    assert_eq!(found, acknowledged);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_dash_nine() {
    let dir = TempDir::new();
    let (child, endpoint) = spawn_riffle(&dir.0);
    let client = support::client(&endpoint);
    create_stream(&client, "s", 2).await;
    let acknowledged = acknowledged_by_four_writers(|w| {
        let client = client.clone();
        async move {
            let mut acknowledged = Vec::new();
            for batch in 0..25 {
                let entries: Vec<PutRecordsRequestEntry> = (0..20)
                    .map(|i| kinesis::entry(format!("{w}-{i}"), format!("{w}/{batch}/{i}")))
                    .collect();
                let out = kinesis::put_records(&client, "s", entries).await.unwrap();
                assert_eq!(out.failed_record_count(), Some(0));
                acknowledged.extend((0..20).map(|i| format!("{w}/{batch}/{i}")));
            }
            acknowledged
        }
    })
    .await;
    let (child, endpoint) = kill_dash_nine_and_restart(child, &dir.0);
    let client = support::client(&endpoint);
    let mut found = Vec::new();
    for shard in ["shardId-000000000000", "shardId-000000000001"] {
        found.extend(
            read_shard(&client, "s", shard)
                .await
                .into_iter()
                .map(|d| String::from_utf8(d).unwrap()),
        );
    }
    assert_all_found(child, found, acknowledged, 2000);
}

#[tokio::test]
async fn data_of_another_format_version_is_refused_with_a_clear_message() {
    let dir = TempDir::new();
    let mut bytes = b"RIFFLEDB".to_vec();
    bytes.extend_from_slice(&99u32.to_le_bytes());
    std::fs::write(dir.0.join("snapshot.bin"), bytes).unwrap();
    let err = Emulator::start(dir.config()).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("format version 99"), "{text}");
    let expected = format!("reads version {}", riffle_emulator::persist::FORMAT_VERSION);
    assert!(text.contains(&expected), "{text}");
}

#[tokio::test]
async fn a_torn_write_at_the_end_of_the_log_is_discarded() {
    let dir = TempDir::new();
    let (emulator, client) = support::start_with(dir.config()).await;
    create_stream(&client, "s", 1).await;
    kinesis::put(&client, "s", "k", "kept").await;
    // Simulate a crash in the middle of the next frame: no shutdown, half a frame appended.
    drop(emulator);
    let log = dir.0.join("wal.log");
    let mut bytes = std::fs::read(&log).unwrap();
    bytes.extend_from_slice(&[200, 0, 0, 0, 1, 2, 3, 4, 5]);
    std::fs::write(&log, bytes).unwrap();
    let (_emulator, client) = support::start_with(dir.config()).await;
    assert_eq!(
        read_shard(&client, "s", "shardId-000000000000").await,
        [b"kept".to_vec()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_flushes_a_snapshot_and_exits_cleanly() {
    let dir = TempDir::new();
    let (mut child, endpoint) = spawn_riffle(&dir.0);
    let client = support::client(&endpoint);
    create_stream(&client, "s", 1).await;
    kinesis::put(&client, "s", "k", "x").await;
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "riffle exits 0 after SIGTERM, got {exit}");
    // A clean stop leaves everything in the snapshot and an empty log (header only).
    assert_eq!(std::fs::metadata(dir.0.join("wal.log")).unwrap().len(), 12);
    let (mut child, endpoint) = spawn_riffle(&dir.0);
    let client = support::client(&endpoint);
    assert_eq!(
        read_shard(&client, "s", "shardId-000000000000").await,
        [b"x".to_vec()]
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn queues_messages_and_in_flight_state_survive_a_restart() {
    let dir = TempDir::new();
    let (emulator, _) = support::start_with(dir.config()).await;
    let sqs = support::sqs_client(&emulator.endpoint_url());
    let url = sqs::queue_tagged(&sqs, "q", "team", "a").await;
    for body in ["first", "second"] {
        sqs.send_message()
            .queue_url(&url)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }
    let received = sqs.receive_message().queue_url(&url).send().await.unwrap();
    let handle = received.messages()[0].receipt_handle().unwrap().to_owned();
    emulator.shutdown().await.unwrap();

    let (emulator, _) = support::start_with(dir.config()).await;
    let sqs = support::sqs_client(&emulator.endpoint_url());
    let url = sqs
        .get_queue_url()
        .queue_name("q")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let tags = sqs.list_queue_tags().queue_url(&url).send().await.unwrap();
    assert_eq!(tags.tags().unwrap()["team"], "a");
    // "first" is still in flight; only "second" can be received.
    let visible = sqs::receive_ten(&sqs, &url).await;
    let bodies = sqs::bodies(visible.messages());
    assert_eq!(bodies, ["second"]);
    // The receipt handle issued before the restart still deletes its message.
    sqs::delete(&sqs, &url, &handle).await;
    let not_visible = &sqs::in_flight(&sqs, &url).await;
    assert_eq!(
        not_visible, "1",
        "only \"second\", received after the restart, is in flight"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_sends_survive_kill_dash_nine() {
    let dir = TempDir::new();
    let (child, endpoint) = spawn_riffle(&dir.0);
    let sqs = support::sqs_client(&endpoint);
    let url = sqs::queue(&sqs, "q", &[]).await;
    let acknowledged = acknowledged_by_four_writers(|s| {
        let (sqs, url) = (sqs.clone(), url.clone());
        async move {
            let mut acknowledged = Vec::new();
            for batch in 0..10 {
                let entries: Vec<aws_sdk_sqs::types::SendMessageBatchRequestEntry> = (0..10)
                    .map(|i| sqs::batch_entry(format!("e{i}"), format!("{s}/{batch}/{i}")))
                    .collect();
                let out = sqs::send_batch(&sqs, &url, entries).await.unwrap();
                assert!(out.failed().is_empty());
                acknowledged.extend((0..10).map(|i| format!("{s}/{batch}/{i}")));
            }
            acknowledged
        }
    })
    .await;
    let (child, endpoint) = kill_dash_nine_and_restart(child, &dir.0);
    let sqs = support::sqs_client(&endpoint);
    let mut found = Vec::new();
    loop {
        let out = sqs::receive_ten(&sqs, &url).await;
        if out.messages().is_empty() {
            break;
        }
        found.extend(
            out.messages()
                .iter()
                .filter_map(|m| m.body())
                .map(str::to_owned),
        );
    }
    assert_all_found(child, found, acknowledged, 400);
}

#[tokio::test]
async fn delivery_streams_and_their_undelivered_records_survive_a_restart() {
    use aws_sdk_firehose::primitives::Blob;
    use aws_sdk_firehose::types::{
        ExtendedS3DestinationConfiguration, ExtendedS3DestinationUpdate, Record, Tag,
    };
    let dir = TempDir::new();
    let (emulator, _) = support::start_with(dir.config()).await;
    let client = support::firehose_client(&emulator.endpoint_url());
    let destination = ExtendedS3DestinationConfiguration::builder()
        .role_arn("arn:aws:iam::000000000000:role/firehose")
        .bucket_arn("arn:aws:s3:::archive")
        .build()
        .unwrap();
    client
        .create_delivery_stream()
        .delivery_stream_name("logs")
        .extended_s3_destination_configuration(destination)
        .tags(Tag::builder().key("team").value("data").build().unwrap())
        .send()
        .await
        .unwrap();
    let record = |data: &str| Record::builder().data(Blob::new(data)).build().unwrap();
    let put = client
        .put_record_batch()
        .delivery_stream_name("logs")
        .records(record("a"))
        .records(record("b"))
        .records(record("c"))
        .send()
        .await
        .unwrap();
    let ids: Vec<String> = put
        .request_responses()
        .iter()
        .map(|r| r.record_id().unwrap().to_owned())
        .collect();
    client
        .update_destination()
        .delivery_stream_name("logs")
        .current_delivery_stream_version_id("1")
        .destination_id("destinationId-000000000001")
        .extended_s3_destination_update(
            ExtendedS3DestinationUpdate::builder().prefix("v2/").build(),
        )
        .send()
        .await
        .unwrap();
    // The delivery glue settled the first record before the stop.
    emulator.firehose().acknowledge("logs", 1).await.unwrap();
    emulator.shutdown().await.unwrap();

    let (emulator, _) = support::start_with(dir.config()).await;
    let client = support::firehose_client(&emulator.endpoint_url());
    let out = client
        .describe_delivery_stream()
        .delivery_stream_name("logs")
        .send()
        .await
        .unwrap();
    let description = out.delivery_stream_description().unwrap();
    assert_eq!(description.version_id(), "2");
    let s3 = description.destinations()[0]
        .extended_s3_destination_description()
        .unwrap();
    assert_eq!(s3.prefix(), Some("v2/"));
    let tags = client
        .list_tags_for_delivery_stream()
        .delivery_stream_name("logs")
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags()[0].value(), Some("data"));
    let records = emulator.firehose().read("logs", 0, 10).await.unwrap();
    let kept: Vec<(u64, &[u8], &str)> = records
        .iter()
        .map(|r| (r.position, r.data.as_slice(), r.record_id.as_str()))
        .collect();
    assert_eq!(
        kept,
        [
            (1, &b"b"[..], ids[1].as_str()),
            (2, &b"c"[..], ids[2].as_str())
        ]
    );
    client
        .put_record()
        .delivery_stream_name("logs")
        .record(record("d"))
        .send()
        .await
        .unwrap();
    let after = emulator.firehose().read("logs", 3, 10).await.unwrap();
    assert_eq!(after[0].data, b"d", "positions continue after the restart");
}
