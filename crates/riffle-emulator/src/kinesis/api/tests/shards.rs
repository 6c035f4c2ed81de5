use super::Fixture;
use crate::error::ErrorCode;
use crate::kinesis::Action;

fn shard_ids(answer: &serde_json::Value) -> Vec<&str> {
    answer["Shards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["ShardId"].as_str().unwrap())
        .collect()
}

#[test]
fn list_shards_pages_with_a_token_that_cannot_be_combined_with_a_stream_name() {
    let f = Fixture::with_stream("s", 3);
    let first = f.ok(Action::ListShards, r#"{"StreamName":"s","MaxResults":2}"#);
    assert_eq!(
        shard_ids(&first),
        ["shardId-000000000000", "shardId-000000000001"]
    );
    assert_eq!(
        first["Shards"][0]["SequenceNumberRange"]["StartingSequenceNumber"],
        // Index 0 at the shard's creation time, in AWS's layout (hex 2·creation·0·0…·00·creation·0…·2),
        // dated 4 s early as AWS's are.
        crate::kinesis::keys::SequenceParts {
            shard_created_secs: super::T0 / 1000 - 4,
            shard: 0,
            seq_ix: 0,
            record_secs: super::T0 / 1000 - 4,
        }
        .encode()
    );
    let token = first["NextToken"].as_str().unwrap();
    let rest = f.ok(Action::ListShards, &format!(r#"{{"NextToken":"{token}"}}"#));
    assert_eq!(shard_ids(&rest), ["shardId-000000000002"]);
    assert!(rest.get("NextToken").is_none());
    assert_eq!(
        f.refused(
            Action::ListShards,
            &format!(r#"{{"NextToken":"{token}","StreamName":"s"}}"#),
            ErrorCode::InvalidArgumentException
        ),
        "NextToken and StreamName cannot be provided together."
    );
}

#[test]
fn list_shards_filters_as_aws_does() {
    let f = Fixture::with_stream("s", 2);
    f.ok(
        Action::SplitShard,
        r#"{"StreamName":"s","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"1000"}"#,
    );
    let latest = f.ok(
        Action::ListShards,
        r#"{"StreamName":"s","ShardFilter":{"Type":"AT_LATEST"}}"#,
    );
    assert_eq!(
        shard_ids(&latest),
        [
            "shardId-000000000001",
            "shardId-000000000002",
            "shardId-000000000003"
        ]
    );
    let horizon = f.ok(
        Action::ListShards,
        r#"{"StreamName":"s","ShardFilter":{"Type":"AT_TRIM_HORIZON"}}"#,
    );
    assert_eq!(
        shard_ids(&horizon),
        ["shardId-000000000000", "shardId-000000000001"]
    );
    assert_eq!(
        f.refused(
            Action::ListShards,
            r#"{"StreamName":"s","ShardFilter":{"Type":"AT_TIMESTAMP"}}"#,
            ErrorCode::InvalidArgumentException
        ),
        "Timestamp must be specified for ShardFilter type AT_TIMESTAMP."
    );
    assert_eq!(
        f.refused(
            Action::ListShards,
            r#"{"StreamName":"s","ShardFilter":{"Type":"SIDEWAYS"}}"#,
            ErrorCode::ValidationException
        ),
        "1 validation error detected: Value 'SIDEWAYS' at 'shardFilter.type' failed to satisfy \
         constraint: Member must satisfy enum value set: [AFTER_SHARD_ID, AT_TRIM_HORIZON, \
         FROM_TRIM_HORIZON, AT_LATEST, AT_TIMESTAMP, FROM_TIMESTAMP]"
    );
}

#[test]
fn list_shards_without_a_stream_or_token_is_refused_in_awss_recorded_words() {
    let f = Fixture::new();
    assert_eq!(
        f.refused(
            Action::ListShards,
            "{}",
            ErrorCode::InvalidArgumentException
        ),
        "Either NextToken or StreamName should be provided."
    );
}
