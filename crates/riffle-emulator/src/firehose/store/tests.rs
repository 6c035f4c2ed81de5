use super::*;
use crate::error::ErrorCode;

fn store(create_delay_ms: Millis) -> FirehoseStore {
    let mut settings = StoreSettings::new("us-east-1", "111122223333");
    settings.create_delay_ms = create_delay_ms;
    FirehoseStore::new(settings, [7; 16])
}

fn config() -> StreamConfig {
    StreamConfig {
        source: None,
        encryption: None,
        kind: DestinationKind::ExtendedS3,
        destination: S3Config {
            bucket_arn: Some("arn:aws:s3:::archive".into()),
            ..S3Config::default()
        },
    }
}

fn create(store: &mut FirehoseStore, name: &str, now: Millis) {
    let mutation = Mutation::Create {
        name: name.into(),
        config: config(),
        tags: BTreeMap::new(),
    };
    store.apply(now, mutation, 0).unwrap();
}

fn record(position: u64, data: &str) -> Record {
    Record {
        position,
        record_id: format!("id-{position}"),
        arrival: 1_000,
        data: data.as_bytes().to_vec(),
        kinesis: None,
        lsn: 0,
    }
}

fn append(store: &mut FirehoseStore, name: &str, records: Vec<Record>) -> ApiResult<()> {
    let mutation = Mutation::Append {
        name: name.into(),
        records,
    };
    store.apply(2_000, mutation, 9)
}

#[test]
fn a_stream_is_creating_for_the_delay_then_active() {
    let mut store = store(500);
    create(&mut store, "logs", 1_000);
    let stream = store.stream("logs").unwrap();
    assert_eq!(store.status(stream, 1_499), StreamStatus::Creating);
    assert_eq!(store.status(stream, 1_500), StreamStatus::Active);
    assert_eq!(stream.version, 1);
    assert_eq!(
        store.arn("logs"),
        "arn:aws:firehose:us-east-1:111122223333:deliverystream/logs"
    );
}

#[test]
fn a_name_in_use_or_unknown_is_refused_in_firehoses_words() {
    let mut store = store(0);
    create(&mut store, "logs", 0);
    let again = Mutation::Create {
        name: "logs".into(),
        config: config(),
        tags: BTreeMap::new(),
    };
    let err = store.apply(1, again, 0).unwrap_err();
    assert_eq!(err.code, ErrorCode::ResourceInUseException);
    assert_eq!(
        err.message,
        "Firehose logs under accountId 111122223333 already exists"
    );
    let err = store
        .apply(
            1,
            Mutation::Delete {
                name: "nope".into(),
            },
            0,
        )
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::ResourceNotFoundException);
    assert_eq!(
        err.message,
        "Firehose nope under account 111122223333 not found."
    );
}

#[test]
fn appended_records_continue_the_positions_and_acknowledging_forgets_them() {
    let mut store = store(0);
    create(&mut store, "logs", 0);
    append(&mut store, "logs", vec![record(0, "a"), record(1, "b")]).unwrap();
    let err = append(&mut store, "logs", vec![record(5, "gap")]).unwrap_err();
    assert_eq!(err.code, ErrorCode::InternalFailure);
    append(&mut store, "logs", vec![record(2, "c")]).unwrap();
    let stream = store.stream("logs").unwrap();
    assert_eq!(stream.next_position, 3);
    assert!(
        stream.records.iter().all(|r| r.lsn == 9),
        "stamped with the log position"
    );
    let ack = |below| Mutation::Acknowledge {
        name: "logs".into(),
        below,
    };
    store.apply(3_000, ack(2), 0).unwrap();
    let stream = store.stream("logs").unwrap();
    assert_eq!(stream.records.len(), 1);
    assert_eq!(stream.records[0].data, b"c");
    assert_eq!(stream.acknowledged, 2);
    // An acknowledgement past the end cannot skip positions not yet given out.
    store.apply(3_000, ack(10), 0).unwrap();
    let stream = store.stream("logs").unwrap();
    assert_eq!((stream.acknowledged, stream.records.len()), (3, 0));
    store.apply(3_000, ack(1), 0).unwrap();
    assert_eq!(
        store.stream("logs").unwrap().acknowledged,
        3,
        "never moves back"
    );
}

#[test]
fn an_update_needs_the_current_version_and_bumps_it() {
    let mut store = store(0);
    create(&mut store, "logs", 0);
    let update = |version| Mutation::UpdateDestination {
        name: "logs".into(),
        version,
        destination: S3Config {
            bucket_arn: Some("arn:aws:s3:::other".into()),
            ..S3Config::default()
        },
    };
    store.apply(5_000, update(1), 0).unwrap();
    let stream = store.stream("logs").unwrap();
    assert_eq!((stream.version, stream.updated_ms), (2, Some(5_000)));
    let err = store.apply(6_000, update(1), 0).unwrap_err();
    assert_eq!(err.code, ErrorCode::ConcurrentModificationException);
    assert_eq!(store.stream("logs").unwrap().version, 2, "unchanged");
}

#[test]
fn tags_are_limited_to_fifty_and_a_refused_tagging_changes_none() {
    let mut store = store(0);
    create(&mut store, "logs", 0);
    let tags = |range: std::ops::Range<usize>| Mutation::Tag {
        name: "logs".into(),
        tags: range.map(|i| (format!("k{i}"), "v".to_owned())).collect(),
    };
    store.apply(0, tags(0..49), 0).unwrap();
    let err = store.apply(0, tags(45..51), 0).unwrap_err();
    assert_eq!(err.code, ErrorCode::LimitExceededException);
    assert_eq!(store.stream("logs").unwrap().tags.len(), 49);
    store.apply(0, tags(0..50), 0).unwrap();
    let untag = Mutation::Untag {
        name: "logs".into(),
        keys: vec!["k0".into(), "absent".into()],
    };
    store.apply(0, untag, 0).unwrap();
    assert_eq!(store.stream("logs").unwrap().tags.len(), 49);
}

#[test]
fn deleting_a_stream_drops_its_records_and_frees_the_name() {
    let mut store = store(0);
    create(&mut store, "logs", 0);
    append(&mut store, "logs", vec![record(0, "a")]).unwrap();
    store
        .apply(
            1,
            Mutation::Delete {
                name: "logs".into(),
            },
            0,
        )
        .unwrap();
    assert!(store.streams.is_empty());
    create(&mut store, "logs", 2);
    let stream = store.stream("logs").unwrap();
    assert_eq!((stream.records.len(), stream.next_position), (0, 0));
}

#[test]
fn the_store_survives_postcard_as_the_log_writes_it() {
    let mut store = store(0);
    create(&mut store, "logs", 0);
    let mut with_metadata = record(0, "a");
    with_metadata.kinesis = Some(KinesisRecordMetadata {
        shard_id: "shardId-000000000000".into(),
        partition_key: "k".into(),
        approximate_arrival_timestamp: 5,
        sequence_number: "49".into(),
        subsequence_number: 0,
    });
    append(&mut store, "logs", vec![with_metadata.clone()]).unwrap();
    let bytes = postcard::to_allocvec(&store).unwrap();
    let back: FirehoseStore = postcard::from_bytes(&bytes).unwrap();
    let stream = back.stream("logs").unwrap();
    assert_eq!(stream.config, config());
    with_metadata.lsn = 0;
    assert_eq!(stream.records[0], with_metadata, "lsn is not stored");
}
