//! Bad requests get AWS's error types and messages through the SDK, and change nothing.

use std::time::Duration;

use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use aws_sdk_kinesis::types::ShardIteratorType::{self, AtSequenceNumber, AtTimestamp, Latest};
use riffle_emulator::{Config, Limits};

use crate::support::kinesis;
use crate::support::{self, code, create_stream, message};

#[tokio::test]
async fn missing_streams_are_resource_not_found() {
    let (_emulator, client) = support::start().await;
    let out = client.describe_stream().stream_name("nope").send().await;
    assert_eq!(code(&out), "ResourceNotFoundException");
    assert_eq!(
        message(&out),
        "Stream nope under account 000000000000 not found."
    );
    let out = kinesis::try_put(&client, "nope", "k", "x").await;
    assert_eq!(code(&out), "ResourceNotFoundException");
    let out = client.delete_stream().stream_name("nope").send().await;
    assert_eq!(code(&out), "ResourceNotFoundException");
}

#[tokio::test]
async fn constraint_violations_are_validation_exceptions_listing_every_field() {
    let (_emulator, client) = support::start().await;
    let out = kinesis::try_create(&client, "bad name!", 0).await;
    assert_eq!(code(&out), "ValidationException");
    assert_eq!(
        message(&out),
        "2 validation errors detected: Value 'bad name!' at 'streamName' failed to satisfy \
         constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value '0' \
         at 'shardCount' failed to satisfy constraint: Member must have value greater than or \
         equal to 1"
    );
    let long = "x".repeat(129);
    let out = kinesis::try_create(&client, long, 1).await;
    assert_eq!(code(&out), "ValidationException");
    assert!(kinesis::stream_names(&client).await.is_empty());
}

#[tokio::test]
async fn creating_an_existing_stream_is_resource_in_use() {
    let (_emulator, client) = support::start().await;
    create_stream(&client, "s", 1).await;
    let out = kinesis::try_create(&client, "s", 2).await;
    assert_eq!(code(&out), "ResourceInUseException");
    let summary = kinesis::description(&client, "s").await;
    assert_eq!(summary.open_shard_count(), 1);
}

#[tokio::test]
async fn shard_limit_is_limit_exceeded() {
    let (_emulator, client) = support::start_with(Config {
        shard_limit: 3,
        ..Config::default()
    })
    .await;
    create_stream(&client, "a", 2).await;
    let out = kinesis::try_create(&client, "b", 2).await;
    assert_eq!(code(&out), "LimitExceededException");
}

#[tokio::test]
async fn put_record_validates_key_data_and_hash_key() {
    let (_emulator, client) = support::start().await;
    create_stream(&client, "s", 1).await;
    let out = kinesis::try_put(&client, "s", "", "x").await;
    assert_eq!(code(&out), "ValidationException");
    let out = kinesis::try_put(&client, "s", "k".repeat(257), "x").await;
    assert_eq!(code(&out), "ValidationException");
    let out = kinesis::try_put(&client, "s", "k", vec![0u8; 1024 * 1024 + 1]).await;
    assert_eq!(code(&out), "ValidationException");
    let out = kinesis::try_put_at(
        &client,
        "s",
        "k",
        "340282366920938463463374607431768211456",
        "x",
    )
    .await;
    // 2^128 matches the model's pattern; AWS refuses it as out of range.
    assert_eq!(code(&out), "InvalidArgumentException");
    // A full-size record is fine.
    kinesis::put(&client, "s", "k", vec![7u8; 1024 * 1024]).await;
}

#[tokio::test]
async fn put_records_enforces_count_and_size_limits_atomically() {
    let (_emulator, client) = support::start().await;
    create_stream(&client, "s", 1).await;
    let entry = |size: usize| kinesis::entry("k", vec![1u8; size]);
    let out = kinesis::put_records(&client, "s", vec![entry(1); 501]).await;
    assert_eq!(code(&out), "ValidationException");
    let out = kinesis::put_records(&client, "s", vec![]).await;
    assert_eq!(code(&out), "ValidationException");
    let out = kinesis::put_records(&client, "s", vec![entry(1024 * 1024); 6]).await;
    assert_eq!(code(&out), "InvalidArgumentException");
    assert_eq!(message(&out), "Records size exceeds 5 MB limit");
    let read = kinesis::read_from_start(&client, "s").await;
    assert!(read.records().is_empty(), "rejected requests wrote nothing");
}

#[tokio::test]
async fn shard_iterators_reject_tampering_and_expire_after_five_minutes() {
    let (_emulator, client, clock) = support::start_manual().await;
    create_stream(&client, "s", 1).await;
    let it = kinesis::trim_horizon(&client, "s").await;

    let token = it.clone();
    let mut tampered: Vec<char> = token.chars().collect();
    let middle = tampered.len() / 2;
    tampered[middle] = if tampered[middle] == 'A' { 'B' } else { 'A' };
    let out = kinesis::try_records(&client, tampered.into_iter().collect::<String>(), None).await;
    assert_eq!(code(&out), "InvalidArgumentException");
    clock.advance(Duration::from_secs(300));
    kinesis::records(&client, &token).await;
    clock.advance(Duration::from_millis(1));
    let out = client.get_records().shard_iterator(&token).send().await;
    assert_eq!(code(&out), "ExpiredIteratorException");
}

#[tokio::test]
async fn iterators_of_a_deleted_and_recreated_stream_are_not_found() {
    let (_emulator, client, clock) = support::start_manual().await;
    create_stream(&client, "s", 1).await;
    let it = kinesis::trim_horizon(&client, "s").await;

    kinesis::delete(&client, "s").await;
    clock.advance(Duration::from_secs(2));
    create_stream(&client, "s", 1).await;
    let out = kinesis::try_records(&client, &it, None).await;
    assert_eq!(code(&out), "ResourceNotFoundException");
}

#[tokio::test]
async fn get_shard_iterator_checks_type_sequence_number_and_shard() {
    let (_emulator, client) = support::start().await;
    create_stream(&client, "s", 2).await;
    let put = kinesis::try_put_at(&client, "s", "k", "0", "x")
        .await
        .unwrap();
    let future = aws_sdk_kinesis::primitives::DateTime::from_secs(4_000_000_000);
    let at = |sequence_number: &str| Some(sequence_number.to_owned());
    let cases = [
        (
            "no such shard",
            "shardId-000000000009",
            Latest,
            None,
            None,
            "ResourceNotFoundException",
        ),
        (
            "no sequence number",
            kinesis::SHARD_0,
            AtSequenceNumber,
            None,
            None,
            "InvalidArgumentException",
        ),
        (
            "a sequence number of another shard",
            "shardId-000000000001",
            AtSequenceNumber,
            at(put.sequence_number()),
            None,
            "InvalidArgumentException",
        ),
        (
            "a sequence number of no shard",
            kinesis::SHARD_0,
            AtSequenceNumber,
            at("12345"),
            None,
            "InvalidArgumentException",
        ),
        (
            "not a number",
            kinesis::SHARD_0,
            AtSequenceNumber,
            at("not-a-number"),
            None,
            "ValidationException",
        ),
        (
            "a timestamp in the future",
            kinesis::SHARD_0,
            AtTimestamp,
            None,
            Some(future),
            "InvalidArgumentException",
        ),
    ];
    for (case, shard, kind, sequence_number, timestamp, expected) in cases {
        let out = client
            .get_shard_iterator()
            .stream_name("s")
            .shard_id(shard)
            .shard_iterator_type(kind)
            .set_starting_sequence_number(sequence_number)
            .set_timestamp(timestamp)
            .send()
            .await;
        assert_eq!(code(&out), expected, "{case}: {}", message(&out));
        if case == "a sequence number of another shard" {
            assert!(message(&out).contains("It encodes shardId-000000000000"));
        }
    }
}

#[tokio::test]
async fn get_records_limit_outside_one_to_ten_thousand_is_a_validation_error() {
    let (_emulator, client) = support::start().await;
    create_stream(&client, "s", 1).await;
    let it = kinesis::iterator(&client, "s", kinesis::SHARD_0, ShardIteratorType::Latest).await;

    // The API reference's prose says InvalidArgumentException, but AWS's model bounds Limit to
    // 1..=10000 and AWS's recorded answer (kinesalite's getRecords.js) is a ValidationException.
    let out = kinesis::try_records(&client, &it, Some(10_001)).await;
    assert_eq!(code(&out), "ValidationException");
    let out = kinesis::try_records(&client, &it, Some(0)).await;
    assert_eq!(code(&out), "ValidationException");
}

#[tokio::test]
async fn retention_changes_check_direction_and_bounds() {
    let (_emulator, client) = support::start().await;
    create_stream(&client, "s", 1).await;
    let cases = [
        ("under a day", true, 23, "InvalidArgumentException"),
        ("over a year", true, 8761, "InvalidArgumentException"),
        ("to three days", true, 72, "<succeeded>"),
        (
            "an increase that shortens",
            true,
            48,
            "InvalidArgumentException",
        ),
        (
            "a decrease that lengthens",
            false,
            96,
            "InvalidArgumentException",
        ),
    ];
    for (case, increase, hours, expected) in cases {
        let (code, message) = if increase {
            let out = kinesis::increase_retention(&client, "s", hours).await;
            (code(&out), message(&out))
        } else {
            let request = client.decrease_stream_retention_period().stream_name("s");
            let out = request.retention_period_hours(hours).send().await;
            (code(&out), message(&out))
        };
        assert_eq!(code, expected, "{case}: {message}");
        if case == "an increase that shortens" {
            assert!(message.contains("Use DecreaseRetentionPeriod API"));
        }
    }
}

#[tokio::test]
async fn stream_arn_of_another_account_is_not_found_and_malformed_arn_is_invalid() {
    let (_emulator, client) = support::start().await;
    create_stream(&client, "s", 1).await;
    let cases = [
        (
            "another account",
            Some("arn:aws:kinesis:us-east-1:111111111111:stream/s"),
            "ResourceNotFoundException",
        ),
        (
            "not a stream ARN",
            Some("arn:aws:sqs:us-east-1:000000000000:s"),
            "ValidationException",
        ),
        // As AWS's recorded answers (kinesalite's suite): StreamName is reported missing.
        ("neither a name nor an ARN", None, "ValidationException"),
    ];
    for (case, arn, expected) in cases {
        let out = client
            .describe_stream_summary()
            .set_stream_arn(arn.map(str::to_owned))
            .send()
            .await;
        assert_eq!(code(&out), expected, "{case}");
    }
}

#[tokio::test]
async fn aws_limits_throttle_writes_per_entry_and_reads_per_call() {
    let clock = riffle_emulator::ManualClock::new(support::T0);
    let (_emulator, client) = support::start_with(Config {
        limits: Limits::Aws,
        clock: std::sync::Arc::new(clock.clone()),
        ..Config::default()
    })
    .await;
    create_stream(&client, "s", 1).await;
    let batch: Vec<PutRecordsRequestEntry> = (0..500).map(|_| kinesis::entry("k", "x")).collect();
    for _ in 0..2 {
        let out = kinesis::put_records(&client, "s", batch.clone())
            .await
            .unwrap();
        assert_eq!(out.failed_record_count(), Some(0));
    }
    // The shard took 1,000 records this second; the next batch is refused entry by entry.
    let out = kinesis::put_records(&client, "s", batch.clone())
        .await
        .unwrap();
    assert_eq!(out.failed_record_count(), Some(500));
    assert_eq!(
        out.records()[0].error_code(),
        Some("ProvisionedThroughputExceededException")
    );
    let single = kinesis::try_put(&client, "s", "k", "x").await;
    assert_eq!(code(&single), "ProvisionedThroughputExceededException");
    clock.advance(Duration::from_secs(1));
    kinesis::put(&client, "s", "k", "x").await;

    let it = kinesis::trim_horizon(&client, "s").await;

    let mut token = it.clone();
    for _ in 0..5 {
        let out = kinesis::try_records(&client, &token, Some(1))
            .await
            .unwrap();
        token = out.next_shard_iterator().unwrap().to_owned();
    }
    let out = client.get_records().shard_iterator(&token).send().await;
    assert_eq!(code(&out), "ProvisionedThroughputExceededException");
    clock.advance(Duration::from_millis(200));
    kinesis::records(&client, &token).await;
}

/// Regression: fuzzing found GetShardIterator overflowing on a counter of u64::MAX and
/// GetRecords panicking on an iterator past the newest record.
#[tokio::test]
async fn sequence_numbers_past_the_newest_record_read_from_the_tip() {
    let (_emulator, client) = support::start().await;
    create_stream(&client, "s", 1).await;
    let put = kinesis::put(&client, "s", "k", "x").await;
    // The sequence index sits at bits 80..144 of AWS's layout: adding `k << 80` names the
    // record `k` places later in the stream.
    let later = |k: u128| {
        let text = put.sequence_number();
        let (high, low) = text.split_at(text.len() - 30);
        let low = low.parse::<u128>().unwrap() + (k << 80);
        let high = high.parse::<u128>().unwrap() + low / 10u128.pow(30);
        format!("{high}{:030}", low % 10u128.pow(30))
    };
    for (kind, sequence_number) in [
        (ShardIteratorType::AtSequenceNumber, later(9)),
        (ShardIteratorType::AfterSequenceNumber, later(1)),
        (ShardIteratorType::AfterSequenceNumber, later(1 << 40)),
    ] {
        let it = kinesis::iterator_at(&client, "s", kinesis::SHARD_0, kind, sequence_number).await;
        let out = kinesis::records(&client, &it).await;
        assert!(out.records().is_empty());
        let next = out.next_shard_iterator().unwrap();
        kinesis::put(&client, "s", "k", "later").await;
        let later = kinesis::records(&client, next).await;
        assert_eq!(
            later.records().len(),
            1,
            "the iterator continues at the tip"
        );
    }
}
