use serde_json::json;

use super::Fixture;
use crate::error::ErrorCode;
use crate::kinesis::Action;

#[test]
fn split_shard_refuses_a_key_outside_the_shard_and_an_unknown_shard() {
    let f = Fixture::with_stream("s", 2);
    assert_eq!(
        f.refused(
            Action::SplitShard,
            r#"{"StreamName":"s","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"0"}"#,
            ErrorCode::InvalidArgumentException
        ),
        "NewStartingHashKey 0 used in SplitShard() on shard shardId-000000000000 in stream s \
         under account 000000000000 is not both greater than one plus the shard's \
         StartingHashKey 0 and less than the shard's EndingHashKey \
         170141183460469231731687303715884105727."
    );
    assert_eq!(
        f.refused(
            Action::SplitShard,
            r#"{"StreamName":"s","ShardToSplit":"shardId-x","NewStartingHashKey":"5"}"#,
            ErrorCode::ResourceNotFoundException
        ),
        "Could not find shard shardId-x in stream s under account 000000000000."
    );
    assert_eq!(
        f.ok(
            Action::SplitShard,
            r#"{"StreamName":"s","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"5"}"#,
        ),
        serde_json::Value::Null
    );
}

/// MergeShards of `shard` with `adjacent` is refused in AWS's words: not an adjacent pair.
fn assert_not_adjacent(f: &Fixture, shard: &str, adjacent: &str) {
    let body = format!(
        r#"{{"StreamName":"s","ShardToMerge":"{shard}","AdjacentShardToMerge":"{adjacent}"}}"#
    );
    assert_eq!(
        f.refused(
            Action::MergeShards,
            &body,
            ErrorCode::InvalidArgumentException
        ),
        format!(
            "Shards {shard} and {adjacent} in stream s under account 000000000000 are not an \
             adjacent pair of shards eligible for merging"
        )
    );
}

#[test]
fn merge_shards_needs_an_adjacent_pair() {
    let f = Fixture::with_stream("s", 3);
    assert_not_adjacent(&f, "shardId-000000000000", "shardId-000000000002");
    f.ok(
        Action::MergeShards,
        r#"{"StreamName":"s","ShardToMerge":"shardId-000000000000","AdjacentShardToMerge":"shardId-000000000001"}"#,
    );
    let summary = f.ok(Action::DescribeStreamSummary, r#"{"StreamName":"s"}"#);
    assert_eq!(summary["StreamDescriptionSummary"]["OpenShardCount"], 2);
}

#[test]
fn update_shard_count_scales_within_a_factor_of_two() {
    let f = Fixture::with_stream("s", 2);
    assert_eq!(
        f.refused(
            Action::UpdateShardCount,
            r#"{"StreamName":"s","TargetShardCount":5,"ScalingType":"UNIFORM_SCALING"}"#,
            ErrorCode::InvalidArgumentException
        ),
        "UpdateShardCount cannot scale up over double your current open shard count or scale \
         down below half your current open shard count. Current open shard count: 2, \
         requested: 5."
    );
    assert_eq!(
        f.ok(
            Action::UpdateShardCount,
            r#"{"StreamName":"s","TargetShardCount":4,"ScalingType":"UNIFORM_SCALING"}"#,
        ),
        json!({
            "StreamName": "s",
            "StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/s",
            "CurrentShardCount": 2,
            "TargetShardCount": 4,
        })
    );
}

#[test]
fn split_shard_keys_must_be_more_than_one_above_the_start_and_below_the_end() {
    let f = Fixture::with_stream("s", 2);
    let split = |shard: &str, key: &str| {
        f.refused(
            Action::SplitShard,
            &format!(
                r#"{{"StreamName":"s","ShardToSplit":"{shard}","NewStartingHashKey":"{key}"}}"#
            ),
            ErrorCode::InvalidArgumentException,
        )
    };
    let end = "170141183460469231731687303715884105727";
    for key in ["1", end] {
        assert_eq!(
            split("shard-0", key),
            format!(
                "NewStartingHashKey {key} used in SplitShard() on shard shardId-000000000000 in \
                 stream s under account 000000000000 is not both greater than one plus the \
                 shard's StartingHashKey 0 and less than the shard's EndingHashKey {end}."
            )
        );
    }
    // 39 digits pass the model's pattern but exceed 2^128 - 1: named as given.
    let key = "999999999999999999999999999999999999999";
    assert!(split("shard-1", key).starts_with(&format!(
        "NewStartingHashKey {key} used in SplitShard() on shard shardId-000000000001 "
    )));
    f.ok(
        Action::SplitShard,
        r#"{"StreamName":"s","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"2"}"#,
    );
}

#[test]
fn merge_shards_refuses_the_pair_the_other_way_round() {
    let f = Fixture::with_stream("s", 2);
    assert_not_adjacent(&f, "shardId-000000000001", "shardId-000000000000");
    assert_eq!(
        f.refused(
            Action::MergeShards,
            r#"{"StreamName":"s","ShardToMerge":"shardId-5","AdjacentShardToMerge":"x-0"}"#,
            ErrorCode::ResourceNotFoundException
        ),
        "Could not find shard shardId-000000000005 in stream s under account 000000000000."
    );
}
