//! The in-process handle: deliveries, changes, read, acknowledge, arrival, accept, and their
//! durability across a restart.

use std::sync::Arc;
use std::time::Duration;

use riffle_core::firehose::transform::KinesisRecordMetadata;
use serde_json::json;

use super::{ACCOUNT, Fixture, T0, extended};
use crate::clock::ManualClock;
use crate::firehose::Action;
use crate::firehose::Firehose;
use crate::firehose::store::{FirehoseStore, StoreSettings, StreamStatus};
use crate::persist::{self, State, StateRef};

async fn put(f: &Fixture, name: &str, data: &[&str]) {
    use base64::Engine as _;
    let records: Vec<_> = data
        .iter()
        .map(|d| json!({ "Data": base64::engine::general_purpose::STANDARD.encode(d) }))
        .collect();
    let body = json!({ "DeliveryStreamName": name, "Records": records });
    f.ok(Action::PutRecordBatch, body).await;
}

fn metadata(sequence: &str) -> KinesisRecordMetadata {
    KinesisRecordMetadata {
        shard_id: "shardId-000000000000".into(),
        partition_key: "pk".into(),
        approximate_arrival_timestamp: T0 - 5,
        sequence_number: sequence.into(),
        subsequence_number: 0,
    }
}

async fn create_fed(f: &Fixture, name: &str) {
    let body = json!({
        "DeliveryStreamName": name,
        "DeliveryStreamType": "KinesisStreamAsSource",
        "KinesisStreamSourceConfiguration": {
            "KinesisStreamARN": format!("arn:aws:kinesis:eu-west-1:{ACCOUNT}:stream/orders"),
            "RoleARN": format!("arn:aws:iam::{ACCOUNT}:role/reader"),
        },
        "ExtendedS3DestinationConfiguration": extended(json!({ "S3BackupMode": "Enabled",
            "S3BackupConfiguration": { "RoleARN": format!("arn:aws:iam::{ACCOUNT}:role/firehose"),
              "BucketARN": "arn:aws:s3:::backup" } })),
    });
    f.ok(Action::CreateDeliveryStream, body).await;
}

#[tokio::test]
async fn deliveries_carry_what_the_glue_runs_a_stream_with() {
    let f = Fixture::new(Duration::from_secs(1));
    f.create(
        "logs",
        json!({ "Prefix": "p/", "BufferingHints": { "SizeInMBs": 1 } }),
    )
    .await;
    create_fed(&f, "fed").await;
    let deliveries = f.firehose.deliveries();
    assert_eq!(
        deliveries
            .iter()
            .map(|d| d.name.as_str())
            .collect::<Vec<_>>(),
        ["fed", "logs"]
    );
    let (fed, logs) = (&deliveries[0], &deliveries[1]);
    assert_eq!(logs.status, StreamStatus::Creating);
    assert_eq!(
        logs.arn,
        "arn:aws:firehose:eu-west-1:111122223333:deliverystream/logs"
    );
    assert_eq!((logs.version, logs.created_ms), (1, T0));
    assert_eq!(logs.raw.stream_arn, logs.arn);
    assert_eq!(logs.raw.region, "eu-west-1");
    assert_eq!(logs.raw.destination.bucket_arn, "arn:aws:s3:::archive");
    assert_eq!(logs.raw.destination.prefix.as_deref(), Some("p/"));
    assert_eq!(logs.raw.destination.buffer_size_mb, Some(1));
    assert_eq!(logs.source_stream_arn, None);
    let orders = format!("arn:aws:kinesis:eu-west-1:{ACCOUNT}:stream/orders");
    assert_eq!(fed.source_stream_arn.as_deref(), Some(orders.as_str()));
    assert_eq!(fed.raw.source_stream_arn.as_deref(), Some(orders.as_str()));
    assert_eq!(
        fed.raw.backup.as_ref().unwrap().bucket_arn,
        "arn:aws:s3:::backup"
    );
    f.clock.advance(Duration::from_millis(1_000));
    assert_eq!(f.firehose.deliveries()[1].status, StreamStatus::Active);
}

#[tokio::test]
async fn an_update_and_a_delete_are_changes_but_puts_and_acknowledgements_are_not() {
    let f = Fixture::with_stream("logs").await;
    let mut changes = f.firehose.changes();
    put(&f, "logs", &["a"]).await;
    f.firehose.acknowledge("logs", 1).await.unwrap();
    assert!(!changes.has_changed().unwrap());
    let update = json!({
        "DeliveryStreamName": "logs",
        "CurrentDeliveryStreamVersionId": "1",
        "DestinationId": "destinationId-000000000001",
        "ExtendedS3DestinationUpdate": { "Prefix": "v2/" },
    });
    f.ok(Action::UpdateDestination, update).await;
    assert!(changes.has_changed().unwrap());
    changes.borrow_and_update();
    assert_eq!(f.firehose.deliveries()[0].version, 2);
    let delete = json!({ "DeliveryStreamName": "logs" });
    f.ok(Action::DeleteDeliveryStream, delete).await;
    assert!(changes.has_changed().unwrap());
    assert!(f.firehose.deliveries().is_empty());
}

#[tokio::test]
async fn records_are_read_from_a_position_and_forgotten_once_acknowledged() {
    let f = Fixture::with_stream("logs").await;
    put(&f, "logs", &["a", "b", "c", "d"]).await;
    let read = f.firehose.read("logs", 1, 2).await.unwrap();
    assert_eq!(
        read.iter()
            .map(|r| (r.position, r.data.clone()))
            .collect::<Vec<_>>(),
        [(1, b"b".to_vec()), (2, b"c".to_vec())]
    );
    f.firehose.acknowledge("logs", 3).await.unwrap();
    let rest = f.firehose.read("logs", 0, 10).await.unwrap();
    assert_eq!(rest.iter().map(|r| r.position).collect::<Vec<_>>(), [3]);
    f.firehose.acknowledge("logs", 2).await.unwrap();
    assert_eq!(f.firehose.read("logs", 0, 10).await.unwrap().len(), 1);
    assert_eq!(
        f.firehose.read("nope", 0, 10).await.unwrap_err(),
        format!("Firehose nope under account {ACCOUNT} not found.")
    );
    assert!(f.firehose.acknowledge("nope", 1).await.is_err());
}

#[tokio::test]
async fn arrival_resolves_on_a_record_at_or_after_the_position_or_on_deletion() {
    let f = Arc::new(Fixture::with_stream("logs").await);
    put(&f, "logs", &["a"]).await;
    // A record is there: at once.
    tokio::time::timeout(Duration::from_secs(5), f.firehose.arrival("logs", 0))
        .await
        .expect("a record at 0 is there");
    let waiting = {
        let f = Arc::clone(&f);
        tokio::spawn(async move { f.firehose.arrival("logs", 1).await })
    };
    tokio::task::yield_now().await;
    assert!(!waiting.is_finished(), "nothing at 1 yet");
    put(&f, "logs", &["b"]).await;
    tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("the put wakes it")
        .unwrap();
    let waiting = {
        let f = Arc::clone(&f);
        tokio::spawn(async move { f.firehose.arrival("logs", 5).await })
    };
    tokio::task::yield_now().await;
    assert!(!waiting.is_finished());
    f.ok(
        Action::DeleteDeliveryStream,
        json!({ "DeliveryStreamName": "logs" }),
    )
    .await;
    tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("the deletion wakes it")
        .unwrap();
    tokio::time::timeout(Duration::from_secs(5), f.firehose.arrival("gone", 0))
        .await
        .expect("an unknown stream resolves at once");
}

#[tokio::test]
async fn a_kinesis_source_stream_accepts_records_with_their_metadata() {
    let f = Fixture::with_stream("logs").await;
    create_fed(&f, "fed").await;
    let records = vec![
        (b"one".to_vec(), metadata("49600")),
        (b"two".to_vec(), metadata("49601")),
    ];
    f.firehose.accept("fed", records).await.unwrap();
    f.firehose.accept("fed", Vec::new()).await.unwrap();
    let read = f.firehose.read("fed", 0, 10).await.unwrap();
    assert_eq!(read.len(), 2);
    assert_eq!(read[1].record_id, "49601", "the sequence number");
    assert_eq!(read[1].kinesis, Some(metadata("49601")));
    assert_eq!((read[1].position, read[1].arrival), (1, T0));
    let refused = f
        .firehose
        .accept("logs", vec![(b"x".to_vec(), metadata("1"))])
        .await
        .unwrap_err();
    assert!(refused.contains("DirectPut"), "{refused}");
    assert!(f.firehose.read("logs", 0, 10).await.unwrap().is_empty());
    assert!(f.firehose.accept("nope", Vec::new()).await.is_err());
}

struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "riffle-firehose-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn open(dir: &TempDir, clock: &ManualClock) -> (Fixture, Arc<persist::Wal>, State) {
    let fresh = || State {
        kinesis: crate::kinesis::store::KinesisStore::new(
            crate::kinesis::store::StoreSettings::new("eu-west-1", ACCOUNT),
            [7; 16],
        ),
        sqs: crate::sqs::store::SqsStore::new(crate::sqs::store::StoreSettings {
            region: "eu-west-1".into(),
            account_id: ACCOUNT.into(),
        }),
        firehose: FirehoseStore::new(StoreSettings::new("eu-west-1", ACCOUNT), [7; 16]),
        dynamodb: crate::dynamodb::store::DynamoStore::new(
            crate::dynamodb::store::StoreSettings::new("eu-west-1", ACCOUNT),
        ),
    };
    let (state, wal) = persist::open(&dir.0, fresh).unwrap();
    let firehose = Firehose::new(
        state.firehose.clone(),
        Arc::new(clock.clone()),
        Some(Arc::clone(&wal)),
    );
    let fixture = Fixture {
        firehose,
        clock: clock.clone(),
    };
    (fixture, wal, state)
}

#[tokio::test]
async fn records_and_acknowledgements_survive_a_restart_from_the_log_and_the_snapshot() {
    let dir = TempDir::new("restart");
    let clock = ManualClock::new(T0);
    let (f, wal, state) = open(&dir, &clock);
    f.create("logs", json!({})).await;
    put(&f, "logs", &["a", "b", "c"]).await;
    f.firehose.acknowledge("logs", 1).await.unwrap();
    // Without a clean stop: the log is replayed.
    drop((f, wal, state));
    let (f, wal, state) = open(&dir, &clock);
    let positions = |records: Vec<riffle_core::firehose::delivery::SourceRecord>| {
        records.iter().map(|r| r.position).collect::<Vec<_>>()
    };
    assert_eq!(
        positions(f.firehose.read("logs", 0, 10).await.unwrap()),
        [1, 2]
    );
    put(&f, "logs", &["d"]).await;
    assert_eq!(
        positions(f.firehose.read("logs", 0, 10).await.unwrap()),
        [1, 2, 3]
    );
    // A clean stop writes a snapshot that holds them.
    wal.close(&StateRef {
        kinesis: &state.kinesis,
        sqs: &state.sqs,
        firehose: &f.firehose.lock(),
        dynamodb: &state.dynamodb,
    })
    .unwrap();
    drop((f, wal, state));
    let (f, _wal, _state) = open(&dir, &clock);
    let records = f.firehose.read("logs", 0, 10).await.unwrap();
    assert_eq!(positions(records.clone()), [1, 2, 3]);
    assert_eq!(records[2].data, b"d");
    assert_eq!(f.describe("logs").await["DeliveryStreamStatus"], "ACTIVE");
}

/// riffle-runtime's `RecordSource` and `RecordIntake` ask for `Send` futures: the handle's are.
#[test]
fn the_handles_futures_are_send_as_the_runtimes_traits_require() {
    fn send<T: Send>(_: &T) {}
    let f = Fixture::new(Duration::ZERO);
    let firehose = &f.firehose;
    send(&firehose.read("logs", 0, 1));
    send(&firehose.acknowledge("logs", 1));
    send(&firehose.arrival("logs", 0));
    send(&firehose.accept("logs", Vec::new()));
}
