use std::time::Duration;

use serde_json::json;

use super::Fixture;
use crate::error::ErrorCode;
use crate::kinesis::Action;

#[test]
fn get_records_reads_from_the_trim_horizon_and_hands_on_an_iterator() {
    let f = Fixture::with_stream("s", 1);
    f.ok(
        Action::PutRecord,
        r#"{"StreamName":"s","Data":"aGk=","PartitionKey":"k\"q"}"#,
    );
    let answer = f.get_records(&f.iterator("shardId-000000000000", "TRIM_HORIZON"));
    assert_eq!(answer["Records"][0]["Data"], "aGk=");
    assert_eq!(answer["Records"][0]["PartitionKey"], "k\"q");
    assert_eq!(
        answer["Records"][0]["ApproximateArrivalTimestamp"],
        json!(1_700_000_000.0)
    );
    assert_eq!(answer["MillisBehindLatest"], 0);
    let next = answer["NextShardIterator"].as_str().unwrap();
    assert_eq!(f.get_records(next)["Records"], json!([]));
    let latest = f.iterator("shardId-000000000000", "LATEST");
    assert_eq!(f.get_records(&latest)["Records"], json!([]));
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
    let it = f.iterator("shardId-000000000000", "TRIM_HORIZON");
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
    assert_eq!(f.get_records(&it)["Records"][0]["SequenceNumber"], sequence);
}

#[test]
fn reading_a_closed_shard_to_its_end_names_its_children() {
    let f = Fixture::with_stream("s", 1);
    let it = f.iterator("shardId-000000000000", "TRIM_HORIZON");
    f.ok(
        Action::SplitShard,
        r#"{"StreamName":"s","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"1000"}"#,
    );
    let answer = f.get_records(&it);
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

/// A GetShardIterator body for shard 0 of stream `s` starting at `sequence`.
fn at_sequence(kind: &str, sequence: &str) -> String {
    format!(
        r#"{{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"{kind}","StartingSequenceNumber":"{sequence}"}}"#
    )
}

#[test]
fn sequence_numbers_carry_the_arrival_time_and_position_iterators() {
    let f = Fixture::with_stream("s", 2);
    let put = |key: &str| {
        let body = format!(
            r#"{{"StreamName":"s","Data":"","PartitionKey":"{key}","ExplicitHashKey":"{key}"}}"#
        );
        f.ok(Action::PutRecord, &body)["SequenceNumber"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let first = put("0");
    f.clock.advance(Duration::from_millis(2_500));
    put("340282366920938463463374607431768211455"); // shard 1 takes index 2
    let second = put("1");
    let parsed = |text: &str| crate::kinesis::keys::ParsedSequence::parse(text).unwrap();
    assert_eq!(
        parsed(&second).seq_ix,
        3,
        "indexes are counted across the stream"
    );
    assert_eq!(parsed(&second).record_secs, Some(super::T0 / 1000 + 2));
    let read = |body: String| {
        let it = f.ok(Action::GetShardIterator, &body)["ShardIterator"]
            .as_str()
            .unwrap()
            .to_owned();
        let records = f.get_records(&it)["Records"].clone();
        let seqs: Vec<String> = records
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["SequenceNumber"].as_str().unwrap().to_owned())
            .collect();
        seqs
    };
    assert_eq!(
        read(at_sequence("AT_SEQUENCE_NUMBER", &first)),
        [first.clone(), second.clone()]
    );
    assert_eq!(
        read(at_sequence("AFTER_SEQUENCE_NUMBER", &first)),
        std::slice::from_ref(&second)
    );
    assert!(read(at_sequence("AFTER_SEQUENCE_NUMBER", &second)).is_empty());
    let described = f.ok(Action::DescribeStream, r#"{"StreamName":"s"}"#);
    let start = described["StreamDescription"]["Shards"][0]["SequenceNumberRange"]
        ["StartingSequenceNumber"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        read(at_sequence("AT_SEQUENCE_NUMBER", &start)),
        [first, second]
    );
}

#[test]
fn starting_sequence_numbers_are_refused_in_aws_words() {
    let f = Fixture::with_stream("s", 2);
    let refused = |sequence: &str, code| {
        f.refused(
            Action::GetShardIterator,
            &at_sequence("AT_SEQUENCE_NUMBER", sequence),
            code,
        )
    };
    let other_shard = |encoded: &str| {
        format!(
            "Invalid StartingSequenceNumber. It encodes {encoded}, while it was used in a call \
             to a shard with shardId-000000000000"
        )
    };
    // Small numbers are AWS's oldest layout: "5" encodes shard 5; one of shard 0 fails inside.
    assert_eq!(
        refused("5", ErrorCode::InvalidArgumentException),
        other_shard("shardId-000000000005")
    );
    assert_eq!(refused("0", ErrorCode::InternalFailure), "");
    // Hex 2·0…·8000000·2: a shard index with its top bit set.
    assert_eq!(
        refused(
            "49039857307708443467467104868809893875799651944235008002",
            ErrorCode::InvalidArgumentException
        ),
        other_shard("shardId--02147483648")
    );
    let invalid = |sequence: &str| {
        format!(
            "StartingSequenceNumber {sequence} used in GetShardIterator on shard \
             shardId-000000000000 in stream s under account 000000000000 is invalid"
        )
    };
    // A creation time past 2477 (hex 13bb2cc3d8 followed by zeros).
    let large_date = "26227199374822427428162556223570313216";
    assert_eq!(
        refused(large_date, ErrorCode::InvalidArgumentException),
        format!("{}.", invalid(large_date))
    );
    // Well formed, but of a shard created at another time.
    let elsewhere = crate::kinesis::keys::SequenceParts {
        shard_created_secs: super::T0 / 1000 - 1,
        shard: 0,
        seq_ix: 1,
        record_secs: super::T0 / 1000,
    }
    .encode();
    assert_eq!(
        refused(&elsewhere, ErrorCode::InvalidArgumentException),
        format!(
            "{} because it did not come from this stream.",
            invalid(&elsewhere)
        )
    );
}
