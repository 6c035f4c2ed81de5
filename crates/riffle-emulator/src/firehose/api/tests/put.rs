//! PutRecord and PutRecordBatch.

use std::collections::BTreeSet;
use std::time::Duration;

use base64::Engine as _;
use serde_json::json;

use super::{ACCOUNT, Fixture, T0};
use crate::error::ErrorCode;
use crate::firehose::Action;

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

#[tokio::test]
async fn records_are_accepted_in_order_with_long_unique_record_ids() {
    let f = Fixture::with_stream("logs").await;
    let one = json!({ "DeliveryStreamName": "logs", "Record": { "Data": b64(b"first") } });
    let answer = f.ok(Action::PutRecord, one).await;
    assert_eq!(answer["Encrypted"], false);
    let first = answer["RecordId"].as_str().unwrap().to_owned();
    assert_eq!(first.len(), 160);
    let batch = json!({ "DeliveryStreamName": "logs", "Records": [
        { "Data": b64(b"second") }, { "Data": b64(b"third") },
    ]});
    let answer = f.ok(Action::PutRecordBatch, batch).await;
    assert_eq!(answer["FailedPutCount"], 0);
    assert_eq!(answer["Encrypted"], false);
    let responses = answer["RequestResponses"].as_array().unwrap();
    let ids: BTreeSet<&str> = responses
        .iter()
        .map(|r| r["RecordId"].as_str().unwrap())
        .chain([first.as_str()])
        .collect();
    assert_eq!(ids.len(), 3, "unique");
    let records = f.firehose.read("logs", 0, 10).await.unwrap();
    let data: Vec<&[u8]> = records.iter().map(|r| r.data.as_slice()).collect();
    assert_eq!(data, [&b"first"[..], b"second", b"third"]);
    assert_eq!(records[0].record_id, first);
    assert_eq!(records[2].record_id, responses[1]["RecordId"]);
    assert!(
        records
            .iter()
            .all(|r| r.arrival == T0 && r.kinesis.is_none())
    );
    assert_eq!(
        records.iter().map(|r| r.position).collect::<Vec<_>>(),
        [0, 1, 2]
    );
}

#[tokio::test]
async fn a_batch_over_the_limits_is_refused_whole() {
    let f = Fixture::with_stream("logs").await;
    let records: Vec<_> = (0..501).map(|_| json!({ "Data": "AA==" })).collect();
    let over = json!({ "DeliveryStreamName": "logs", "Records": records });
    let message = f
        .refused(Action::PutRecordBatch, over, ErrorCode::ValidationException)
        .await;
    assert!(
        message.ends_with("Member must have length less than or equal to 500"),
        "{message}"
    );
    let big = b64(&vec![b'x'; 1_000 * 1024]);
    let records: Vec<_> = (0..5).map(|_| json!({ "Data": big })).collect();
    let heavy = json!({ "DeliveryStreamName": "logs", "Records": records });
    let message = f
        .refused(
            Action::PutRecordBatch,
            heavy,
            ErrorCode::InvalidArgumentException,
        )
        .await;
    assert!(message.contains("4 MiB"), "{message}");
    let oversized = json!({ "DeliveryStreamName": "logs", "Records": [
        { "Data": "AA==" }, { "Data": b64(&vec![0; 1_024_001]) },
    ]});
    f.refused(
        Action::PutRecordBatch,
        oversized,
        ErrorCode::ValidationException,
    )
    .await;
    assert!(f.firehose.read("logs", 0, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_put_needs_an_active_direct_put_stream() {
    let f = Fixture::new(Duration::from_secs(1));
    f.create("logs", json!({})).await;
    let put = |name: &str| json!({ "DeliveryStreamName": name, "Record": { "Data": "AA==" } });
    let message = f
        .refused(
            Action::PutRecord,
            put("logs"),
            ErrorCode::ResourceNotFoundException,
        )
        .await;
    assert_eq!(
        message,
        format!("Firehose logs under account {ACCOUNT} not found.")
    );
    f.refused(
        Action::PutRecord,
        put("nope"),
        ErrorCode::ResourceNotFoundException,
    )
    .await;
    let fed = json!({
        "DeliveryStreamName": "fed",
        "DeliveryStreamType": "KinesisStreamAsSource",
        "KinesisStreamSourceConfiguration": {
            "KinesisStreamARN": format!("arn:aws:kinesis:eu-west-1:{ACCOUNT}:stream/orders"),
            "RoleARN": format!("arn:aws:iam::{ACCOUNT}:role/reader"),
        },
        "ExtendedS3DestinationConfiguration": super::extended(json!({})),
    });
    f.ok(Action::CreateDeliveryStream, fed).await;
    f.clock.advance(Duration::from_millis(1_000));
    assert_eq!(
        f.refused(
            Action::PutRecord,
            put("fed"),
            ErrorCode::InvalidArgumentException
        )
        .await,
        "This operation is not permitted on KinesisStreamAsSource delivery stream type."
    );
    f.ok(Action::PutRecord, put("logs")).await;
}

#[tokio::test]
async fn a_stream_with_server_side_encryption_says_its_records_are_encrypted() {
    let f = Fixture::new(Duration::ZERO);
    let body = json!({
        "DeliveryStreamName": "sse",
        "DeliveryStreamEncryptionConfigurationInput": { "KeyType": "AWS_OWNED_CMK" },
        "ExtendedS3DestinationConfiguration": super::extended(json!({})),
    });
    f.ok(Action::CreateDeliveryStream, body).await;
    let put = json!({ "DeliveryStreamName": "sse", "Record": { "Data": "AA==" } });
    assert_eq!(f.ok(Action::PutRecord, put).await["Encrypted"], true);
    assert_eq!(
        f.describe("sse").await["DeliveryStreamEncryptionConfiguration"],
        json!({ "KeyType": "AWS_OWNED_CMK", "Status": "ENABLED" })
    );
}
