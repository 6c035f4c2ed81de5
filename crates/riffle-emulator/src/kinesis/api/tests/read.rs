use std::time::Duration;

use serde_json::{Value, json};

use super::Fixture;
use crate::error::ErrorCode;
use crate::kinesis::Action;

fn iterator(f: &Fixture, shard: &str, kind: &str) -> String {
    let body = format!(r#"{{"StreamName":"s","ShardId":"{shard}","ShardIteratorType":"{kind}"}}"#);
    f.ok(Action::GetShardIterator, &body)["ShardIterator"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn get_records(f: &Fixture, iterator: &str) -> Value {
    f.ok(
        Action::GetRecords,
        &format!(r#"{{"ShardIterator":"{iterator}"}}"#),
    )
}

#[test]
fn get_records_reads_from_the_trim_horizon_and_hands_on_an_iterator() {
    let f = Fixture::with_stream("s", 1);
    f.ok(
        Action::PutRecord,
        r#"{"StreamName":"s","Data":"aGk=","PartitionKey":"k\"q"}"#,
    );
    let answer = get_records(&f, &iterator(&f, "shardId-000000000000", "TRIM_HORIZON"));
    assert_eq!(answer["Records"][0]["Data"], "aGk=");
    assert_eq!(answer["Records"][0]["PartitionKey"], "k\"q");
    assert_eq!(
        answer["Records"][0]["ApproximateArrivalTimestamp"],
        json!(1_700_000_000.0)
    );
    assert_eq!(answer["MillisBehindLatest"], 0);
    let next = answer["NextShardIterator"].as_str().unwrap();
    assert_eq!(get_records(&f, next)["Records"], json!([]));
    let latest = iterator(&f, "shardId-000000000000", "LATEST");
    assert_eq!(get_records(&f, &latest)["Records"], json!([]));
}

#[test]
fn a_forged_or_old_iterator_is_refused_in_awss_words() {
    let f = Fixture::with_stream("s", 1);
    assert_eq!(
        f.refused(
            Action::GetRecords,
            r#"{"ShardIterator":"forged"}"#,
            ErrorCode::InvalidArgumentException
        ),
        "Invalid ShardIterator."
    );
    let it = iterator(&f, "shardId-000000000000", "TRIM_HORIZON");
    f.clock.advance(Duration::from_millis(300_001));
    assert_eq!(
        f.refused(
            Action::GetRecords,
            &format!(r#"{{"ShardIterator":"{it}"}}"#),
            ErrorCode::ExpiredIteratorException
        ),
        "Iterator expired. The iterator was created at time Tue Nov 14 22:13:20 UTC 2023 while \
         right now it is Tue Nov 14 22:18:20 UTC 2023 which is further in the future than the \
         tolerated delay of 300000 milliseconds."
    );
}

#[test]
fn get_shard_iterator_needs_a_sequence_number_for_the_sequence_types() {
    let f = Fixture::with_stream("s", 1);
    assert_eq!(
        f.refused(
            Action::GetShardIterator,
            r#"{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"AT_SEQUENCE_NUMBER"}"#,
            ErrorCode::InvalidArgumentException
        ),
        "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and \
         StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. \
         Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber."
    );
    assert_eq!(
        f.refused(
            Action::GetShardIterator,
            r#"{"StreamName":"s","ShardId":"shardId-000000000009","ShardIteratorType":"LATEST"}"#,
            ErrorCode::ResourceNotFoundException
        ),
        "Shard shardId-000000000009 in stream s under account 000000000000 does not exist"
    );
    let put = f.ok(
        Action::PutRecord,
        r#"{"StreamName":"s","Data":"AA==","PartitionKey":"k"}"#,
    );
    let sequence = put["SequenceNumber"].as_str().unwrap();
    let it = f.ok(
        Action::GetShardIterator,
        &format!(
            r#"{{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"AT_SEQUENCE_NUMBER","StartingSequenceNumber":"{sequence}"}}"#
        ),
    )["ShardIterator"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        get_records(&f, &it)["Records"][0]["SequenceNumber"],
        sequence
    );
}

#[test]
fn reading_a_closed_shard_to_its_end_names_its_children() {
    let f = Fixture::with_stream("s", 1);
    let it = iterator(&f, "shardId-000000000000", "TRIM_HORIZON");
    f.ok(
        Action::SplitShard,
        r#"{"StreamName":"s","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"1000"}"#,
    );
    let answer = get_records(&f, &it);
    assert!(answer.get("NextShardIterator").is_none());
    assert_eq!(
        answer["ChildShards"],
        json!([
            {
                "ShardId": "shardId-000000000001",
                "ParentShards": ["shardId-000000000000"],
                "HashKeyRange": { "StartingHashKey": "0", "EndingHashKey": "999" },
            },
            {
                "ShardId": "shardId-000000000002",
                "ParentShards": ["shardId-000000000000"],
                "HashKeyRange": {
                    "StartingHashKey": "1000",
                    "EndingHashKey": "340282366920938463463374607431768211455",
                },
            },
        ])
    );
}
