use serde_json::{Value, json};

use super::{Fixture, T0};
use crate::error::ErrorCode;
use crate::kinesis::Action;
use crate::kinesis::keys::SequenceParts;

/// The sequence number with sequence index `seq_ix` on `shard`, for a record written at `T0`
/// in a stream created at `T0` (which its sequence numbers date 4 s earlier, as AWS's do).
fn sequence_number(shard: u32, seq_ix: u64) -> String {
    SequenceParts {
        shard_created_secs: T0 / 1000 - 4,
        shard,
        seq_ix,
        record_secs: T0 / 1000,
    }
    .encode()
}

#[test]
fn put_record_reports_every_missing_member_at_once() {
    let f = Fixture::with_stream("s", 1);
    assert_eq!(
        f.refused(
            Action::PutRecord,
            r#"{"StreamName":"s"}"#,
            ErrorCode::ValidationException
        ),
        "2 validation errors detected: Value null at 'data' failed to satisfy constraint: Member \
         must not be null; Value null at 'partitionKey' failed to satisfy constraint: Member must \
         not be null"
    );
    let answer = f.ok(
        Action::PutRecord,
        r#"{"StreamName":"s","Data":"aGk=","PartitionKey":"k"}"#,
    );
    assert_eq!(
        answer,
        json!({
            "ShardId": "shardId-000000000000",
            "SequenceNumber": sequence_number(0, 1),
        })
    );
}

#[test]
fn put_records_names_the_member_that_is_wrong() {
    let f = Fixture::with_stream("s", 1);
    assert_eq!(
        f.refused(
            Action::PutRecords,
            r#"{"StreamName":"s","Records":[{"Data":"aGk=","PartitionKey":"k"},{"Data":"!!","PartitionKey":"k"}]}"#,
            ErrorCode::SerializationException
        ),
        "'!!' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 \
         bytes but found: 2",
        "AWS refuses bad base64 while reading the body, before any constraint"
    );
    assert_eq!(
        f.refused(
            Action::PutRecords,
            r#"{"StreamName":"s","Records":[{"Data":"aGk=","PartitionKey":"k"},{"Data":"aGk=","PartitionKey":"","ExplicitHashKey":"01"}]}"#,
            ErrorCode::ValidationException
        ),
        "2 validation errors detected: Value '01' at 'records.2.member.explicitHashKey' failed \
         to satisfy constraint: Member must satisfy regular expression pattern: \
         0|([1-9]\\d{0,38}); Value '' at 'records.2.member.partitionKey' failed to satisfy \
         constraint: Member must have length greater than or equal to 1"
    );
    assert_eq!(
        f.refused(
            Action::PutRecords,
            r#"{"StreamName":"s","Records":[]}"#,
            ErrorCode::ValidationException
        ),
        "1 validation error detected: Value '[]' at 'records' failed to satisfy \
         constraint: Member must have length greater than or equal to 1"
    );
    assert_eq!(
        f.kinesis.lock().streams["s"].shards[0].last_counter,
        0,
        "nothing stored"
    );
}

#[test]
fn put_records_routes_by_hash_key_and_numbers_a_shards_records_consecutively() {
    let f = Fixture::with_stream("s", 2);
    let answer = f.ok(
        Action::PutRecords,
        r#"{"StreamName":"s","Records":[
            {"Data":"AA==","PartitionKey":"a","ExplicitHashKey":"0"},
            {"Data":"AQ==","PartitionKey":"b","ExplicitHashKey":"340282366920938463463374607431768211455"},
            {"Data":"Ag==","PartitionKey":"c","ExplicitHashKey":"1"}]}"#,
    );
    assert_eq!(
        answer,
        json!({
            "FailedRecordCount": 0,
            "Records": [
                // Indexes are the stream's, taken shard by shard (as AWS's are).
                { "SequenceNumber": sequence_number(0, 1), "ShardId": "shardId-000000000000" },
                { "SequenceNumber": sequence_number(1, 3), "ShardId": "shardId-000000000001" },
                { "SequenceNumber": sequence_number(0, 2), "ShardId": "shardId-000000000000" },
            ],
        })
    );
    let store = f.kinesis.lock();
    let shard = &store.streams["s"].shards[0];
    assert_eq!(shard.records[1].partition_key, "c");
    assert_eq!(&shard.records[1].data[..], [2]);
}

#[test]
fn put_records_over_the_write_limit_refuses_only_the_excess_and_stores_none_of_it() {
    let f = Fixture::with_stream("s", 1);
    f.kinesis.lock().settings.enforce_throughput = true;
    let batch = |n: usize| {
        let records: Vec<Value> = (0..n)
            .map(|i| json!({ "Data": "", "PartitionKey": format!("k{i}") }))
            .collect();
        json!({ "StreamName": "s", "Records": records }).to_string()
    };
    assert_eq!(
        f.ok(Action::PutRecords, &batch(500))["FailedRecordCount"],
        0
    );
    assert_eq!(
        f.ok(Action::PutRecords, &batch(500))["FailedRecordCount"],
        0
    );
    let third = f.ok(Action::PutRecords, &batch(2));
    assert_eq!(third["FailedRecordCount"], 2);
    assert_eq!(
        third["Records"][0],
        json!({
            "ErrorCode": "ProvisionedThroughputExceededException",
            "ErrorMessage": "Rate exceeded for shard shardId-000000000000 in stream s under \
                             account 000000000000.",
        })
    );
    assert_eq!(f.kinesis.lock().streams["s"].shards[0].last_counter, 1000);
}

#[test]
fn put_record_to_a_missing_stream_is_not_found() {
    let f = Fixture::new();
    assert_eq!(
        f.refused(
            Action::PutRecord,
            r#"{"StreamName":"nope","Data":"","PartitionKey":"k"}"#,
            ErrorCode::ResourceNotFoundException
        ),
        "Stream nope under account 000000000000 not found."
    );
}

#[test]
fn hash_keys_past_the_range_are_invalid_arguments_after_the_stream_is_found() {
    let f = Fixture::with_stream("s", 1);
    let two_to_128 = "340282366920938463463374607431768211456";
    let message = format!(
        "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified \
         value was {two_to_128}"
    );
    let put = format!(
        r#"{{"StreamName":"s","Data":"","PartitionKey":"a","ExplicitHashKey":"{two_to_128}"}}"#
    );
    assert_eq!(
        f.refused(Action::PutRecord, &put, ErrorCode::InvalidArgumentException),
        message
    );
    let batch = format!(
        r#"{{"StreamName":"s","Records":[{{"Data":"","PartitionKey":"a"}},{{"Data":"","PartitionKey":"a","ExplicitHashKey":"{two_to_128}"}}]}}"#
    );
    assert_eq!(
        f.refused(
            Action::PutRecords,
            &batch,
            ErrorCode::InvalidArgumentException
        ),
        message
    );
    let missing = put.replace(r#""s""#, r#""t""#);
    f.refused(
        Action::PutRecord,
        &missing,
        ErrorCode::ResourceNotFoundException,
    );
    assert_eq!(f.kinesis.lock().streams["s"].shards[0].last_counter, 0);
}

#[test]
fn ordering_sequence_numbers_must_be_readable_and_not_in_the_future() {
    let f = Fixture::with_stream("s", 1);
    let put = |seq: &str| {
        format!(
            r#"{{"StreamName":"s","Data":"","PartitionKey":"a","SequenceNumberForOrdering":"{seq}"}}"#
        )
    };
    let written = f.ok(Action::PutRecord, &put("0"))["SequenceNumber"]
        .as_str()
        .unwrap()
        .to_owned();
    f.ok(Action::PutRecord, &put(&written));
    let future = SequenceParts {
        shard_created_secs: T0 / 1000,
        shard: 0,
        seq_ix: 1,
        record_secs: T0 / 1000 + 60,
    }
    .encode();
    // Version 3 in the long layout: 2, 45 zeros, 3.
    let version_3 = "49039857307708443467467104868809893875799651909875269635";
    for refused in [future.as_str(), version_3] {
        assert_eq!(
            f.refused(
                Action::PutRecord,
                &put(refused),
                ErrorCode::InvalidArgumentException
            ),
            format!(
                "ExclusiveMinimumSequenceNumber {refused} used in PutRecord on stream s under \
                 account 000000000000 is invalid."
            )
        );
    }
}
