use super::*;
use crate::kinesis::keys::{MAX_HASH_KEY, parse_hash_key, partition_key_hash};

const T0: Millis = 1_700_000_000_000;

fn store() -> KinesisStore {
    KinesisStore::new(StoreSettings::new("us-east-1", "000000000000"), [1; 16])
}

/// A store on the default settings as `adjust` changes them.
fn store_with(adjust: impl FnOnce(&mut StoreSettings)) -> KinesisStore {
    let mut settings = StoreSettings::new("us-east-1", "000000000000");
    adjust(&mut settings);
    KinesisStore::new(settings, [0; 16])
}

fn create(store: &mut KinesisStore, name: &str, shards: u32) {
    let m = Mutation::CreateStream {
        name: name.into(),
        shard_count: shards,
        mode: StreamMode::Provisioned,
        tags: BTreeMap::new(),
    };
    store.apply(T0, m.clone(), 0).unwrap();
}

fn put(store: &mut KinesisStore, now: Millis, stream: &str, key: &str) -> Appended {
    let record = NewRecord {
        partition_key: key.into(),
        explicit_hash_key: None,
        data: "x".into(),
    };
    let m = Mutation::PutRecords {
        stream: stream.into(),
        records: vec![record],
    };
    store.apply(now, m.clone(), 0).unwrap().remove(0)
}

fn split(stream: &str, shard: u32, new_starting_hash_key: u128) -> Mutation {
    Mutation::SplitShard {
        stream: stream.into(),
        shard,
        new_starting_hash_key,
    }
}

fn merge(stream: &str, shard: u32, adjacent: u32) -> Mutation {
    Mutation::MergeShards {
        stream: stream.into(),
        shard,
        adjacent,
    }
}

fn resize(stream: &str, target: u32) -> Mutation {
    Mutation::UpdateShardCount {
        stream: stream.into(),
        target,
    }
}

/// The code `store` refuses `m` with at `now`.
fn refusal(store: &mut KinesisStore, now: Millis, m: Mutation) -> ErrorCode {
    store.apply(now, m, 0).unwrap_err().code
}

fn assert_covers_key_space(ranges: &[(u128, u128)]) {
    assert_eq!(ranges.first().unwrap().0, 0);
    assert_eq!(ranges.last().unwrap().1, MAX_HASH_KEY);
    for pair in ranges.windows(2) {
        assert_eq!(pair[0].1 + 1, pair[1].0, "ranges are contiguous: {pair:?}");
    }
}

fn open_ranges(stream: &Stream) -> Vec<(u128, u128)> {
    let mut ranges: Vec<_> = stream
        .open_shards()
        .map(|s| (s.starting_hash_key, s.ending_hash_key))
        .collect();
    ranges.sort();
    ranges
}

#[test]
fn create_stream_splits_the_key_space_evenly_like_aws() {
    let two = even_ranges(2);
    // AWS's two-shard stream: the boundary is 2^127.
    assert_eq!(
        two[0].1,
        parse_hash_key("170141183460469231731687303715884105727").unwrap()
    );
    assert_eq!(two[1].0, 1u128 << 127);
    for n in [1, 3, 4, 7, 500] {
        assert_covers_key_space(&even_ranges(n));
    }
}

#[test]
fn records_go_to_the_shard_holding_the_md5_of_their_partition_key() {
    let mut store = store();
    create(&mut store, "s", 4);
    for key in ["a", "b", "c", "pk-17", "üñí"] {
        let appended = put(&mut store, T0, "s", key);
        let stream = &store.streams["s"];
        let shard = stream.shard(&appended.shard_id(), T0, "0").unwrap();
        assert!(
            shard.holds(partition_key_hash(key)),
            "{key} landed in {}",
            appended.shard_id()
        );
    }
}

#[test]
fn explicit_hash_key_overrides_the_partition_key() {
    let mut store = store();
    create(&mut store, "s", 4);
    let record = NewRecord {
        partition_key: "a".into(),
        explicit_hash_key: Some(MAX_HASH_KEY),
        data: "x".into(),
    };
    let m = Mutation::PutRecords {
        stream: "s".into(),
        records: vec![record],
    };
    let appended = store.apply(T0, m.clone(), 0).unwrap();
    assert_eq!(appended[0].shard_id(), "shardId-000000000003");
}

#[test]
fn sequence_numbers_strictly_increase_within_a_shard() {
    let mut store = store();
    create(&mut store, "s", 1);
    let seqs: Vec<String> = (0..100)
        .map(|i| {
            let appended = put(&mut store, T0 + i, "s", "k");
            store.streams["s"].sequence_number(appended.shard, appended.counter)
        })
        .collect();
    for pair in seqs.windows(2) {
        assert!(pair[0] < pair[1]);
        assert_eq!(pair[0].len(), pair[1].len());
    }
}

#[test]
fn arrival_times_never_go_backwards_within_a_shard() {
    let mut store = store();
    create(&mut store, "s", 1);
    put(&mut store, T0 + 1000, "s", "k");
    put(&mut store, T0, "s", "k");
    let records = &store.streams["s"].shards[0].records;
    assert_eq!(records[1].arrival_ms, T0 + 1000);
}

#[test]
fn retention_trims_old_records_and_moves_the_trim_horizon() {
    let mut store = store();
    create(&mut store, "s", 1);
    put(&mut store, T0, "s", "k");
    put(&mut store, T0 + HOUR_MS, "s", "k");
    let stream = store.stream("s", T0 + 24 * HOUR_MS + 1).unwrap();
    assert_eq!(stream.shards[0].records.len(), 1);
    assert_eq!(stream.shards[0].first_counter(), 2);
    let stream = store.stream("s", T0 + 25 * HOUR_MS + 1).unwrap();
    assert!(stream.shards[0].records.is_empty());
    assert_eq!(
        stream.shards[0].first_counter(),
        3,
        "an empty shard's horizon is after the tip"
    );
}

#[test]
fn split_shard_closes_the_parent_and_creates_two_children() {
    let mut store = store();
    create(&mut store, "s", 1);
    put(&mut store, T0, "s", "k");
    store.apply(T0 + 1, split("s", 0, 1 << 127), 0).unwrap();
    let stream = &store.streams["s"];
    assert_eq!(stream.shards.len(), 3);
    assert_eq!(stream.shards[0].closed_ms, Some(T0 + 1));
    assert_eq!(
        stream.shards[0].last_counter, 1,
        "the parent keeps its records"
    );
    for child in &stream.shards[1..] {
        assert_eq!(child.parent, Some(0));
        assert_eq!(child.adjacent_parent, None);
    }
    assert_eq!(
        open_ranges(stream),
        vec![(0, (1 << 127) - 1), (1 << 127, MAX_HASH_KEY)]
    );
}

#[test]
fn invalid_split_changes_nothing() {
    let mut store = store();
    create(&mut store, "s", 2);
    let before = format!("{:?}", store.streams["s"].shards);
    for key in [0, MAX_HASH_KEY] {
        assert_eq!(
            refusal(&mut store, T0, split("s", 0, key)),
            ErrorCode::InvalidArgumentException
        );
    }
    assert_eq!(
        refusal(&mut store, T0, split("s", 9, 5)),
        ErrorCode::ResourceNotFoundException
    );
    assert_eq!(before, format!("{:?}", store.streams["s"].shards));
}

#[test]
fn merge_requires_adjacent_open_shards_and_records_both_parents() {
    let mut store = store();
    create(&mut store, "s", 3);
    assert_eq!(
        refusal(&mut store, T0, merge("s", 0, 2)),
        ErrorCode::InvalidArgumentException
    );
    // AWS merges a shard with the one right above it, not the other way round.
    assert_eq!(
        refusal(&mut store, T0, merge("s", 1, 0)),
        ErrorCode::InvalidArgumentException
    );
    store.apply(T0, merge("s", 0, 1), 0).unwrap();
    let stream = &store.streams["s"];
    let child = stream.shards.last().unwrap();
    assert_eq!((child.parent, child.adjacent_parent), (Some(0), Some(1)));
    assert_covers_key_space(&open_ranges(stream));
    assert_eq!(stream.open_shards().count(), 2);
}

#[test]
fn update_shard_count_builds_a_lineage_of_splits_and_merges() {
    for (from, to) in [
        (1, 2),
        (2, 4),
        (4, 2),
        (5, 3),
        (3, 5),
        (7, 4),
        (4, 7),
        (10, 20),
    ] {
        let mut store = store();
        create(&mut store, "s", from);
        store.apply(T0, resize("s", to), 0).unwrap();
        let stream = &store.streams["s"];
        assert_eq!(open_ranges(stream), even_ranges(to), "{from} -> {to}");
        for shard in &stream.shards {
            // Every child's parents are closed, and their ranges cover exactly the child's.
            let parents: Vec<&Shard> = shard
                .parent
                .into_iter()
                .chain(shard.adjacent_parent)
                .map(|p| &stream.shards[p as usize])
                .collect();
            assert!(parents.iter().all(|p| !p.is_open()));
            if let [a, b] = parents[..] {
                let (lo, hi) = if a.starting_hash_key < b.starting_hash_key {
                    (a, b)
                } else {
                    (b, a)
                };
                assert_eq!(lo.ending_hash_key + 1, hi.starting_hash_key);
                assert_eq!(
                    (shard.starting_hash_key, shard.ending_hash_key),
                    (lo.starting_hash_key, hi.ending_hash_key)
                );
            }
        }
    }
}

#[test]
fn update_shard_count_refuses_more_than_double_or_less_than_half() {
    let mut store = store();
    create(&mut store, "s", 4);
    for target in [9, 1] {
        assert_eq!(
            refusal(&mut store, T0, resize("s", target)),
            ErrorCode::InvalidArgumentException
        );
    }
    assert_eq!(store.streams["s"].shards.len(), 4);
}

#[test]
fn closed_shards_disappear_once_their_records_expire() {
    let mut store = store();
    create(&mut store, "s", 1);
    store.apply(T0, split("s", 0, 10), 0).unwrap();
    let stream = store.stream("s", T0 + 23 * HOUR_MS).unwrap();
    assert_eq!(stream.live_shards(T0 + 23 * HOUR_MS).count(), 3);
    let later = T0 + 24 * HOUR_MS + 1;
    let stream = store.stream("s", later).unwrap();
    assert_eq!(stream.live_shards(later).count(), 2);
    assert_eq!(
        stream
            .shard("shardId-000000000000", later, "0")
            .unwrap_err()
            .code,
        ErrorCode::ResourceNotFoundException
    );
}

#[test]
fn shard_limit_is_enforced_on_create_split_and_update() {
    let mut store = store_with(|settings| settings.shard_limit = 4);
    create(&mut store, "a", 3);
    let m = Mutation::CreateStream {
        name: "b".into(),
        shard_count: 2,
        mode: StreamMode::Provisioned,
        tags: BTreeMap::new(),
    };
    assert_eq!(
        refusal(&mut store, T0, m),
        ErrorCode::LimitExceededException
    );
    store.apply(T0, split("a", 0, 10), 0).unwrap();
    assert_eq!(
        refusal(&mut store, T0, split("a", 1, 1 << 127)),
        ErrorCode::LimitExceededException
    );
    assert_eq!(
        refusal(&mut store, T0, resize("a", 5)),
        ErrorCode::LimitExceededException
    );
}

#[test]
fn status_goes_creating_then_active_and_deleting_then_gone() {
    let mut store =
        store_with(|settings| (settings.create_delay_ms, settings.delete_delay_ms) = (500, 500));
    create(&mut store, "s", 1);
    assert_eq!(
        store.stream("s", T0 + 499).unwrap().status(T0 + 499),
        StreamStatus::Creating
    );
    let m = Mutation::PutRecords {
        stream: "s".into(),
        records: vec![],
    };
    assert_eq!(
        refusal(&mut store, T0 + 1, m),
        ErrorCode::ResourceNotFoundException
    );
    assert_eq!(
        store.stream("s", T0 + 500).unwrap().status(T0 + 500),
        StreamStatus::Active
    );
    store
        .apply(T0 + 1000, Mutation::DeleteStream { name: "s".into() }, 0)
        .unwrap();
    assert_eq!(
        store.stream("s", T0 + 1200).unwrap().status(T0 + 1200),
        StreamStatus::Deleting
    );
    assert_eq!(
        store.stream("s", T0 + 1500).unwrap_err().code,
        ErrorCode::ResourceNotFoundException
    );
}

#[test]
fn tags_are_limited_to_fifty_per_stream() {
    let mut store = store();
    create(&mut store, "s", 1);
    let add = |tags: BTreeMap<String, String>| Mutation::AddTags {
        stream: "s".into(),
        tags,
    };
    let tags = (0..50).map(|i| (format!("k{i}"), "v".into())).collect();
    store.apply(T0, add(tags), 0).unwrap();
    let overwrite = [("k1".to_owned(), "w".to_owned())].into();
    store.apply(T0, add(overwrite), 0).unwrap();
    let extra = [("new".to_owned(), "v".to_owned())].into();
    assert_eq!(
        refusal(&mut store, T0, add(extra)),
        ErrorCode::InvalidArgumentException
    );
    assert_eq!(store.streams["s"].tags["k1"], "w");
}

#[test]
fn asking_for_the_current_retention_leaves_the_stream_active() {
    let mut store = store_with(|settings| settings.update_delay_ms = 500);
    create(&mut store, "s", 1);
    let set = |hours| Mutation::SetRetention {
        stream: "s".into(),
        hours,
    };
    store.apply(T0, set(24), 0).unwrap();
    assert_eq!(
        store.stream("s", T0).unwrap().status(T0),
        StreamStatus::Active
    );
    store.apply(T0, set(25), 0).unwrap();
    assert_eq!(
        store.stream("s", T0).unwrap().status(T0),
        StreamStatus::Updating
    );
}
