//! Resharding with a status delay, on a manual clock: until the stream's `UPDATING` time ends
//! it lists, and writes to, its old shards, open and childless; then the parents close at that
//! time and the children appear.

use std::time::Duration;

use serde_json::{Value, json};

use super::{Fixture, T0};
use crate::error::ErrorCode;
use crate::kinesis::Action;
use crate::kinesis::keys::ParsedSequence;

const DELAY_MS: u64 = 500;
const MAX: &str = "340282366920938463463374607431768211455";

/// Stream `s` with `shards` shards, `ACTIVE`, resharding with a 500 ms status delay.
fn delayed(shards: u32) -> Fixture {
    let f = Fixture::with_settings(|s| s.update_delay_ms = DELAY_MS);
    f.ok(
        Action::CreateStream,
        &format!(r#"{{"StreamName":"s","ShardCount":{shards}}}"#),
    );
    f
}

fn describe(f: &Fixture) -> Value {
    f.ok(Action::DescribeStream, r#"{"StreamName":"s"}"#)["StreamDescription"].clone()
}

/// Each listed shard: its id, parents and hash key range, and whether it has an end.
fn lineage(shards: &Value) -> Vec<Value> {
    shards
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            json!([
                s["ShardId"],
                s["ParentShardId"],
                s["AdjacentParentShardId"],
                s["HashKeyRange"]["StartingHashKey"],
                s["HashKeyRange"]["EndingHashKey"],
                s["SequenceNumberRange"]
                    .get("EndingSequenceNumber")
                    .is_some(),
            ])
        })
        .collect()
}

fn listed(f: &Fixture) -> Vec<Value> {
    lineage(&f.ok(Action::ListShards, r#"{"StreamName":"s"}"#)["Shards"])
}

fn open_count(f: &Fixture) -> Value {
    f.ok(Action::DescribeStreamSummary, r#"{"StreamName":"s"}"#)["StreamDescriptionSummary"]
        ["OpenShardCount"]
        .clone()
}

/// The shard a record with explicit hash key `hash` lands on.
fn put_at(f: &Fixture, hash: &str) -> String {
    let put = f.ok(
        Action::PutRecord,
        &format!(r#"{{"StreamName":"s","PartitionKey":"k","Data":"","ExplicitHashKey":"{hash}"}}"#),
    );
    put["ShardId"].as_str().unwrap().to_owned()
}

#[test]
fn a_split_keeps_the_old_shard_open_and_childless_until_updating_ends() {
    let f = delayed(1);
    let parent = json!(["shardId-000000000000", null, null, "0", MAX, false]);
    f.ok(
        Action::SplitShard,
        r#"{"StreamName":"s","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"2"}"#,
    );
    f.clock.advance(Duration::from_millis(DELAY_MS - 1));
    let during = describe(&f);
    assert_eq!(during["StreamStatus"], "UPDATING");
    assert_eq!(lineage(&during["Shards"]), std::slice::from_ref(&parent));
    assert_eq!(listed(&f), [parent]);
    assert_eq!(open_count(&f), 1);
    assert_eq!(put_at(&f, "1"), "shardId-000000000000");
    // A reader at the parent's tip is told to keep reading it.
    let it = f.iterator("shardId-000000000000", "TRIM_HORIZON");
    let read = f.get_records(&it);
    assert_eq!(read["Records"].as_array().unwrap().len(), 1);
    assert!(read.get("ChildShards").is_none());
    let next = read["NextShardIterator"].as_str().unwrap().to_owned();
    assert_eq!(
        f.refused(
            Action::SplitShard,
            r#"{"StreamName":"s","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"5"}"#,
            ErrorCode::ResourceInUseException
        ),
        "Stream s under account 000000000000 not ACTIVE, instead in state UPDATING"
    );

    f.clock.advance(Duration::from_millis(1));
    let after = describe(&f);
    assert_eq!(after["StreamStatus"], "ACTIVE");
    let expected = [
        json!(["shardId-000000000000", null, null, "0", MAX, true]),
        json!([
            "shardId-000000000001",
            "shardId-000000000000",
            null,
            "0",
            "1",
            false
        ]),
        json!([
            "shardId-000000000002",
            "shardId-000000000000",
            null,
            "2",
            MAX,
            false
        ]),
    ];
    assert_eq!(lineage(&after["Shards"]), expected);
    assert_eq!(listed(&f), expected);
    assert_eq!(open_count(&f), 2);
    // Closed at the end of UPDATING (not at the request, nor at this read); the children one
    // second after it, as AWS dates them.
    let parse = |v: &Value| ParsedSequence::parse(v.as_str().unwrap()).unwrap();
    let end = parse(&after["Shards"][0]["SequenceNumberRange"]["EndingSequenceNumber"]);
    let end_secs = (T0 + DELAY_MS) / 1000;
    assert_eq!(end.record_secs, Some(end_secs));
    let child = parse(&after["Shards"][1]["SequenceNumberRange"]["StartingSequenceNumber"]);
    assert_eq!(child.shard_created_secs, end_secs + 1);
    assert_eq!(put_at(&f, "1"), "shardId-000000000001");
    assert_eq!(put_at(&f, "2"), "shardId-000000000002");
    // The reader at the parent's end now gets its children and no further iterator.
    let read = f.get_records(&next);
    assert!(read.get("NextShardIterator").is_none());
    assert_eq!(read["ChildShards"].as_array().unwrap().len(), 2);
}

#[test]
fn a_merge_takes_effect_when_updating_ends() {
    let f = delayed(3);
    let before = listed(&f);
    f.ok(
        Action::MergeShards,
        r#"{"StreamName":"s","ShardToMerge":"shardId-000000000000","AdjacentShardToMerge":"shardId-000000000001"}"#,
    );
    assert_eq!(listed(&f), before);
    assert_eq!(open_count(&f), 3);
    assert_eq!(put_at(&f, "0"), "shardId-000000000000");

    f.clock.advance(Duration::from_millis(DELAY_MS));
    let after = listed(&f);
    assert_eq!(after.len(), 4);
    assert_eq!(after[0][5], true);
    assert_eq!(after[1][5], true);
    assert_eq!(after[2][5], false);
    assert_eq!(
        after[3],
        json!([
            "shardId-000000000003",
            "shardId-000000000000",
            "shardId-000000000001",
            "0",
            before[1][4],
            false
        ])
    );
    assert_eq!(open_count(&f), 2);
    assert_eq!(put_at(&f, "0"), "shardId-000000000003");
}

#[test]
fn update_shard_count_takes_effect_when_updating_ends() {
    let f = delayed(2);
    let answer = f.ok(
        Action::UpdateShardCount,
        r#"{"StreamName":"s","TargetShardCount":4,"ScalingType":"UNIFORM_SCALING"}"#,
    );
    assert_eq!(answer["TargetShardCount"], 4);
    assert_eq!(open_count(&f), 2);
    assert_eq!(listed(&f).len(), 2);
    // The account's shard limit counts the shards the accepted request will make.
    let limits = f.ok(Action::DescribeLimits, "{}");
    assert_eq!(limits["OpenShardCount"], 2);
    f.kinesis.lock().settings.shard_limit = 5;
    f.refused(
        Action::CreateStream,
        r#"{"StreamName":"t","ShardCount":2}"#,
        ErrorCode::LimitExceededException,
    );

    f.clock.advance(Duration::from_millis(DELAY_MS));
    assert_eq!(open_count(&f), 4);
    let limits = f.ok(Action::DescribeLimits, "{}");
    assert_eq!(limits["OpenShardCount"], 4);
}

#[test]
fn the_periodic_tick_completes_a_resharding_and_says_so() {
    let f = delayed(1);
    f.ok(
        Action::SplitShard,
        r#"{"StreamName":"s","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"2"}"#,
    );
    let now = T0 + DELAY_MS;
    assert!(!f.kinesis.lock().tick(now - 1));
    assert!(f.kinesis.lock().tick(now), "the tick performed it");
    assert!(!f.kinesis.lock().tick(now), "once");
    assert_eq!(f.kinesis.lock().streams["s"].shards.len(), 3);
}
