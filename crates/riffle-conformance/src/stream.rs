//! The stream source suite: what the shard tasks of a Kinesis mapping rely on from a
//! `StreamSource` and its `ShardReader`s.
//!
//! A fixture is a stream of [`SHARDS`] open, empty shards (`shardId-000000000000` …) with 24 h
//! retention, created at [`T0`](crate::T0) on a manual clock.

use std::time::Duration;

use riffle_clock::ManualClock;
use riffle_core::record::StreamRecord;
use riffle_core::sequence::SequenceNumber;
use riffle_runtime::{ReadBatch, ShardInfo, ShardReader, SourceError, StartAt, StreamSource};

/// Open shards of a fresh fixture.
pub const SHARDS: usize = 2;

/// A stream under test and the means to change it.
pub trait StreamFixture {
    /// The implementation under test.
    type Source: StreamSource;

    /// The stream, as the mapping reads it.
    fn source(&self) -> &Self::Source;

    /// The clock the stream reads time from.
    fn clock(&self) -> &ManualClock;

    /// Writes a record to the open shard `shard_id` now; returns its sequence number.
    async fn put(&self, shard_id: &str, partition_key: &str, data: &[u8]) -> SequenceNumber;

    /// Splits the open shard `shard_id` into two children that share its hash range; returns
    /// the children's ids.
    async fn split(&self, shard_id: &str) -> [String; 2];
}

/// Runs the suite's checks as tests, each on a fresh fixture from `$make()` (an async fn).
#[macro_export]
macro_rules! stream_source_suite {
    ($make:expr) => {
        $crate::__checks!($make; stream:
            a_new_stream_lists_its_shards_without_parents,
            trim_horizon_reads_every_record_of_the_shard_in_put_order,
            a_read_returns_at_most_its_limit,
            after_a_sequence_number_resumes_right_after_it,
            latest_reads_only_what_arrives_after_opening,
            at_timestamp_starts_at_the_first_record_arriving_then,
            a_caught_up_reader_is_zero_millis_behind,
            a_split_parent_ends_after_its_last_record_and_its_children_name_it,
            a_child_shard_reads_what_is_written_after_the_split,
            an_unknown_shard_is_not_found,
            retention_is_a_day,
        );
    };
}

fn shard_id(index: usize) -> String {
    format!("shardId-{index:012}")
}

/// Reads `reader` until `count` records came (at most 50 reads), then once more, which must
/// find nothing: the reader is at the tip.
async fn read_exactly(
    reader: &mut impl ShardReader,
    limit: usize,
    count: usize,
) -> Vec<StreamRecord> {
    let mut records = Vec::new();
    for _ in 0..50 {
        if records.len() >= count {
            break;
        }
        let batch = reader.read(limit).await.expect("read");
        assert!(
            batch.records.len() <= limit,
            "a read returned more than its limit"
        );
        records.extend(batch.records);
    }
    assert_eq!(records.len(), count, "records read");
    let tip = reader.read(limit).await.expect("read at the tip");
    assert!(
        tip.records.is_empty(),
        "a read at the tip found {:?}",
        tip.records
    );
    records
}

async fn put_many<F: StreamFixture>(fixture: &F, shard_id: &str, n: usize) -> Vec<SequenceNumber> {
    let mut sequence_numbers = Vec::with_capacity(n);
    for i in 0..n {
        let data = format!("record {i}");
        sequence_numbers.push(
            fixture
                .put(shard_id, &format!("key-{i}"), data.as_bytes())
                .await,
        );
    }
    sequence_numbers
}

async fn open<F: StreamFixture>(
    fixture: &F,
    shard_id: &str,
    start: StartAt,
) -> <F::Source as StreamSource>::Reader {
    fixture.source().open(shard_id, start).await.expect("open")
}

/// Every shard of a new stream is listed, in order, with no parents.
pub async fn a_new_stream_lists_its_shards_without_parents<F: StreamFixture>(fixture: &F) {
    let shards = fixture.source().list_shards().await.expect("list");
    let expected: Vec<ShardInfo> = (0..SHARDS)
        .map(|i| ShardInfo {
            shard_id: shard_id(i),
            parent: None,
            adjacent_parent: None,
        })
        .collect();
    assert_eq!(shards, expected);
}

/// TRIM_HORIZON reads the shard's records and no other shard's, in put order, with the
/// sequence numbers the puts returned, their keys, data and arrival time.
pub async fn trim_horizon_reads_every_record_of_the_shard_in_put_order<F: StreamFixture>(
    fixture: &F,
) {
    let first = put_many(fixture, &shard_id(0), 5).await;
    fixture.put(&shard_id(1), "elsewhere", b"other shard").await;
    let mut reader = open(fixture, &shard_id(0), StartAt::TrimHorizon).await;
    let records = read_exactly(&mut reader, 100, 5).await;
    for (i, record) in records.iter().enumerate() {
        assert_eq!(record.sequence_number, first[i]);
        assert_eq!(record.partition_key, format!("key-{i}"));
        assert_eq!(&record.data[..], format!("record {i}").as_bytes());
        assert_eq!(record.arrival_ms, crate::T0, "arrival is the put's time");
    }
    assert!(
        first.windows(2).all(|w| w[0] < w[1]),
        "sequence numbers increase within a shard: {first:?}"
    );
}

/// A read returns at most its limit, and successive reads continue where the last ended.
pub async fn a_read_returns_at_most_its_limit<F: StreamFixture>(fixture: &F) {
    let written = put_many(fixture, &shard_id(0), 5).await;
    let mut reader = open(fixture, &shard_id(0), StartAt::TrimHorizon).await;
    let records = read_exactly(&mut reader, 2, 5).await;
    let read: Vec<SequenceNumber> = records.into_iter().map(|r| r.sequence_number).collect();
    assert_eq!(read, written);
}

/// `After(n)` (resuming from a checkpoint) starts with the record after `n`.
pub async fn after_a_sequence_number_resumes_right_after_it<F: StreamFixture>(fixture: &F) {
    let written = put_many(fixture, &shard_id(0), 5).await;
    let mut reader = open(fixture, &shard_id(0), StartAt::After(written[2].clone())).await;
    let records = read_exactly(&mut reader, 100, 2).await;
    let read: Vec<SequenceNumber> = records.into_iter().map(|r| r.sequence_number).collect();
    assert_eq!(read, written[3..]);
}

/// LATEST is fixed when the reader opens: records written before are not read, records
/// written after are, even if they arrive before the first read.
pub async fn latest_reads_only_what_arrives_after_opening<F: StreamFixture>(fixture: &F) {
    put_many(fixture, &shard_id(0), 2).await;
    let mut reader = open(fixture, &shard_id(0), StartAt::Latest).await;
    let later = fixture.put(&shard_id(0), "later", b"after opening").await;
    let records = read_exactly(&mut reader, 100, 1).await;
    assert_eq!(records[0].sequence_number, later);
}

/// AT_TIMESTAMP starts at the first record that arrived at or after the timestamp.
pub async fn at_timestamp_starts_at_the_first_record_arriving_then<F: StreamFixture>(fixture: &F) {
    put_many(fixture, &shard_id(0), 2).await;
    fixture.clock().advance(Duration::from_secs(10));
    let later = fixture.put(&shard_id(0), "later", b"ten seconds on").await;
    let at = crate::T0 + 10_000;
    let mut reader = open(fixture, &shard_id(0), StartAt::AtTimestamp(at)).await;
    let records = read_exactly(&mut reader, 100, 1).await;
    assert_eq!(records[0].sequence_number, later);
    assert_eq!(records[0].arrival_ms, at);
}

/// A reader that read everything is 0 ms behind the tip, and an open shard does not end.
pub async fn a_caught_up_reader_is_zero_millis_behind<F: StreamFixture>(fixture: &F) {
    put_many(fixture, &shard_id(0), 3).await;
    let mut reader = open(fixture, &shard_id(0), StartAt::TrimHorizon).await;
    read_exactly(&mut reader, 100, 3).await;
    let ReadBatch {
        records,
        millis_behind,
        end_of_shard,
    } = reader.read(100).await.expect("read");
    assert!(records.is_empty());
    assert_eq!(millis_behind, 0);
    assert!(!end_of_shard, "an open shard never ends");
}

/// After a split, the parent reads to its last record and then ends; the children are listed
/// with the parent as theirs; the parent stays listed (its records are still retained).
pub async fn a_split_parent_ends_after_its_last_record_and_its_children_name_it<
    F: StreamFixture,
>(
    fixture: &F,
) {
    let written = put_many(fixture, &shard_id(0), 3).await;
    let children = fixture.split(&shard_id(0)).await;
    let mut reader = open(fixture, &shard_id(0), StartAt::TrimHorizon).await;
    let mut read = Vec::new();
    let mut ended = false;
    for _ in 0..50 {
        let batch = reader.read(100).await.expect("read");
        read.extend(batch.records.into_iter().map(|r| r.sequence_number));
        if batch.end_of_shard {
            ended = true;
            break;
        }
    }
    assert!(ended, "a closed shard read to its end ends");
    assert_eq!(read, written);
    let shards = fixture.source().list_shards().await.expect("list");
    assert!(
        shards.iter().any(|s| s.shard_id == shard_id(0)),
        "the parent is still listed"
    );
    for child in &children {
        let info = shards
            .iter()
            .find(|s| &s.shard_id == child)
            .unwrap_or_else(|| panic!("child {child} is listed: {shards:?}"));
        assert_eq!(info.parent.as_deref(), Some(shard_id(0).as_str()));
        assert_eq!(info.adjacent_parent, None);
    }
}

/// A child shard is read like any other.
pub async fn a_child_shard_reads_what_is_written_after_the_split<F: StreamFixture>(fixture: &F) {
    let children = fixture.split(&shard_id(0)).await;
    let written = put_many(fixture, &children[1], 2).await;
    let mut reader = open(fixture, &children[1], StartAt::TrimHorizon).await;
    let records = read_exactly(&mut reader, 100, 2).await;
    let read: Vec<SequenceNumber> = records.into_iter().map(|r| r.sequence_number).collect();
    assert_eq!(read, written);
}

/// Opening a shard the stream does not have is `NotFound`.
pub async fn an_unknown_shard_is_not_found<F: StreamFixture>(fixture: &F) {
    let opened = fixture
        .source()
        .open(&shard_id(99), StartAt::TrimHorizon)
        .await;
    assert!(
        matches!(opened, Err(SourceError::NotFound(_))),
        "opening an unknown shard: {:?}",
        opened.err()
    );
}

/// A new stream retains records for 24 hours.
pub async fn retention_is_a_day<F: StreamFixture>(fixture: &F) {
    let retention = fixture.source().retention_ms().await.expect("retention");
    assert_eq!(retention, 24 * 3_600_000);
}
