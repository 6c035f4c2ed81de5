//! CreateDeliveryStream, DescribeDeliveryStream, ListDeliveryStreams, DeleteDeliveryStream and
//! UpdateDestination.

use std::time::Duration;

use serde_json::json;

use super::{ACCOUNT, Fixture, T0, extended};
use crate::error::ErrorCode;
use crate::firehose::Action;

const ARN: &str = "arn:aws:firehose:eu-west-1:111122223333:deliverystream/logs";

#[tokio::test]
async fn a_created_stream_is_described_with_firehoses_defaults_filled_in() {
    let f = Fixture::new(Duration::ZERO);
    let created = f.create("logs", json!({ "Prefix": "raw/" })).await;
    assert_eq!(created, json!({ "DeliveryStreamARN": ARN }));
    let s3 = json!({
        "RoleARN": format!("arn:aws:iam::{ACCOUNT}:role/firehose"),
        "BucketARN": "arn:aws:s3:::archive",
        "Prefix": "raw/",
        "BufferingHints": { "SizeInMBs": 5, "IntervalInSeconds": 300 },
        "CompressionFormat": "UNCOMPRESSED",
        "EncryptionConfiguration": { "NoEncryptionConfig": "NoEncryption" },
        "CloudWatchLoggingOptions": { "Enabled": false },
    });
    let mut extended = s3.clone();
    extended["S3BackupMode"] = json!("Disabled");
    assert_eq!(
        f.describe("logs").await,
        json!({
            "DeliveryStreamName": "logs",
            "DeliveryStreamARN": ARN,
            "DeliveryStreamStatus": "ACTIVE",
            "DeliveryStreamEncryptionConfiguration": { "Status": "DISABLED" },
            "DeliveryStreamType": "DirectPut",
            "VersionId": "1",
            "CreateTimestamp": 1_700_000_000.0,
            "Destinations": [{
                "DestinationId": "destinationId-000000000001",
                "ExtendedS3DestinationDescription": extended,
                "S3DestinationDescription": s3,
            }],
            "HasMoreDestinations": false,
        })
    );
    let after = json!({
        "DeliveryStreamName": "logs",
        "ExclusiveStartDestinationId": "destinationId-000000000001",
    });
    let page = f.ok(Action::DescribeDeliveryStream, after).await;
    assert_eq!(page["DeliveryStreamDescription"]["Destinations"], json!([]));
}

#[tokio::test]
async fn a_stream_is_creating_for_the_status_delay_and_the_change_is_signalled() {
    let f = Fixture::new(Duration::from_secs(2));
    let mut changes = f.firehose.changes();
    f.create("logs", json!({})).await;
    assert!(changes.has_changed().unwrap(), "creation is a change");
    changes.borrow_and_update();
    assert_eq!(f.describe("logs").await["DeliveryStreamStatus"], "CREATING");
    f.clock.advance(Duration::from_millis(1_999));
    f.firehose.tick();
    assert!(!changes.has_changed().unwrap());
    f.clock.advance(Duration::from_millis(1));
    assert_eq!(f.describe("logs").await["DeliveryStreamStatus"], "ACTIVE");
    f.firehose.tick();
    assert!(
        changes.has_changed().unwrap(),
        "becoming ACTIVE is a change"
    );
    changes.borrow_and_update();
    f.firehose.tick();
    assert!(!changes.has_changed().unwrap(), "only once");
}

#[tokio::test]
async fn a_kinesis_source_is_described_and_must_be_configured_with_its_type() {
    let f = Fixture::new(Duration::ZERO);
    let source = json!({
        "KinesisStreamARN": format!("arn:aws:kinesis:eu-west-1:{ACCOUNT}:stream/orders"),
        "RoleARN": format!("arn:aws:iam::{ACCOUNT}:role/reader"),
    });
    let body = |kind: Option<&str>, source: Option<&serde_json::Value>| {
        let mut body = json!({
            "DeliveryStreamName": "fed",
            "ExtendedS3DestinationConfiguration": extended(json!({})),
        });
        if let Some(kind) = kind {
            body["DeliveryStreamType"] = json!(kind);
        }
        if let Some(source) = source {
            body["KinesisStreamSourceConfiguration"] = source.clone();
        }
        body
    };
    let code = ErrorCode::InvalidArgumentException;
    let create = Action::CreateDeliveryStream;
    f.refused(create, body(Some("KinesisStreamAsSource"), None), code)
        .await;
    f.refused(create, body(None, Some(&source)), code).await;
    let msk = f
        .refused(create, body(Some("MSKAsSource"), None), code)
        .await;
    assert!(msk.contains("MSKAsSource is not supported"), "{msk}");
    f.ok(create, body(Some("KinesisStreamAsSource"), Some(&source)))
        .await;
    let description = f.describe("fed").await;
    assert_eq!(description["DeliveryStreamType"], "KinesisStreamAsSource");
    let mut expected = source.clone();
    expected["DeliveryStartTimestamp"] = json!(T0 as f64 / 1000.0);
    assert_eq!(
        description["Source"],
        json!({ "KinesisStreamSourceDescription": expected })
    );
}

#[tokio::test]
async fn destinations_other_than_s3_are_refused_saying_why() {
    let f = Fixture::new(Duration::ZERO);
    let code = ErrorCode::InvalidArgumentException;
    let create = Action::CreateDeliveryStream;
    let http = json!({
        "DeliveryStreamName": "logs",
        "HttpEndpointDestinationConfiguration": {
            "EndpointConfiguration": { "Url": "https://example.com" },
            "S3Configuration": extended(json!({})),
        },
    });
    assert_eq!(
        f.refused(create, http, code).await,
        "Riffle delivers to Amazon S3 only: HttpEndpointDestinationConfiguration is not \
         supported; use ExtendedS3DestinationConfiguration."
    );
    let none = json!({ "DeliveryStreamName": "logs" });
    f.refused(create, none, code).await;
    let both = json!({
        "DeliveryStreamName": "logs",
        "S3DestinationConfiguration": extended(json!({})),
        "ExtendedS3DestinationConfiguration": extended(json!({})),
    });
    f.refused(create, both, code).await;
    let legacy = json!({
        "DeliveryStreamName": "logs",
        "S3DestinationConfiguration": extended(json!({ "CompressionFormat": "GZIP" })),
    });
    f.ok(create, legacy).await;
    let description = f.describe("logs").await;
    let destination = &description["Destinations"][0];
    assert_eq!(
        destination["S3DestinationDescription"]["CompressionFormat"],
        "GZIP"
    );
    assert_eq!(
        destination["ExtendedS3DestinationDescription"]["CompressionFormat"],
        "GZIP"
    );
}

#[tokio::test]
async fn a_configuration_is_checked_by_the_delivery_settings_rules() {
    let f = Fixture::new(Duration::ZERO);
    let code = ErrorCode::InvalidArgumentException;
    let lambda = |name: &str, value: &str| {
        json!({ "ProcessingConfiguration": { "Enabled": true, "Processors": [{
            "Type": "Lambda",
            "Parameters": [
                { "ParameterName": "LambdaArn", "ParameterValue": "arn:aws:lambda:eu-west-1:111122223333:function:f" },
                { "ParameterName": name, "ParameterValue": value },
            ],
        }]}})
    };
    let body = |extra| {
        json!({
            "DeliveryStreamName": "logs",
            "ExtendedS3DestinationConfiguration": extended(extra),
        })
    };
    let create = Action::CreateDeliveryStream;
    assert_eq!(
        f.refused(create, body(lambda("BufferSizeInMBs", "5")), code)
            .await,
        "Processor parameter BufferSizeInMBs has an invalid value 5: it must be a number \
         between 0.2 and 3."
    );
    let other = json!({ "ProcessingConfiguration": { "Enabled": true, "Processors": [
        { "Type": "AppendDelimiterToRecord" },
    ]}});
    let message = f.refused(create, body(other), code).await;
    assert!(message.contains("AppendDelimiterToRecord"), "{message}");
    let conversion = json!({ "DataFormatConversionConfiguration": { "Enabled": true } });
    f.refused(create, body(conversion), code).await;
    let backup = json!({ "S3BackupMode": "Enabled" });
    f.refused(create, body(backup), code).await;
    let prefix = json!({ "Prefix": "!{timestamp:yyyy}/" });
    let message = f.refused(create, body(prefix), code).await;
    assert!(message.contains("ErrorOutputPrefix"), "{message}");
    assert!(f.firehose.deliveries().is_empty(), "nothing was created");
    f.ok(create, body(lambda("BufferSizeInMBs", "0.5"))).await;
    let processing = &f.describe("logs").await["Destinations"][0]["ExtendedS3DestinationDescription"]
        ["ProcessingConfiguration"];
    assert_eq!(processing["Enabled"], true);
    assert_eq!(
        processing["Processors"][0]["Parameters"][1]["ParameterValue"],
        "0.5"
    );
}

#[tokio::test]
async fn a_name_in_use_is_refused() {
    let f = Fixture::with_stream("logs").await;
    let body = json!({
        "DeliveryStreamName": "logs",
        "ExtendedS3DestinationConfiguration": extended(json!({})),
    });
    let message = f
        .refused(
            Action::CreateDeliveryStream,
            body,
            ErrorCode::ResourceInUseException,
        )
        .await;
    assert_eq!(
        message,
        format!("Firehose logs under accountId {ACCOUNT} already exists")
    );
}

#[tokio::test]
async fn streams_are_listed_in_name_order_by_page_and_type() {
    let f = Fixture::new(Duration::ZERO);
    for name in ["c", "a", "b"] {
        f.create(name, json!({})).await;
    }
    let list = Action::ListDeliveryStreams;
    assert_eq!(
        f.ok(list, json!({ "Limit": 2 })).await,
        json!({ "DeliveryStreamNames": ["a", "b"], "HasMoreDeliveryStreams": true })
    );
    assert_eq!(
        f.ok(
            list,
            json!({ "Limit": 2, "ExclusiveStartDeliveryStreamName": "b" })
        )
        .await,
        json!({ "DeliveryStreamNames": ["c"], "HasMoreDeliveryStreams": false })
    );
    assert_eq!(
        f.ok(
            list,
            json!({ "DeliveryStreamType": "KinesisStreamAsSource" })
        )
        .await["DeliveryStreamNames"],
        json!([])
    );
    assert_eq!(
        f.ok(list, json!({ "DeliveryStreamType": "DirectPut" }))
            .await["DeliveryStreamNames"],
        json!(["a", "b", "c"])
    );
}

#[tokio::test]
async fn a_stream_is_deleted_once_active_and_then_not_found() {
    let f = Fixture::new(Duration::from_secs(1));
    f.create("logs", json!({})).await;
    let delete = Action::DeleteDeliveryStream;
    let body = json!({ "DeliveryStreamName": "logs" });
    f.refused(delete, body.clone(), ErrorCode::ResourceInUseException)
        .await;
    f.clock.advance(Duration::from_millis(1_000));
    assert_eq!(f.ok(delete, body.clone()).await, json!({}));
    let message = f
        .refused(delete, body.clone(), ErrorCode::ResourceNotFoundException)
        .await;
    assert_eq!(
        message,
        format!("Firehose logs under account {ACCOUNT} not found.")
    );
    f.refused(
        Action::DescribeDeliveryStream,
        body,
        ErrorCode::ResourceNotFoundException,
    )
    .await;
}

fn update(version: &str, destination: serde_json::Value) -> serde_json::Value {
    json!({
        "DeliveryStreamName": "logs",
        "CurrentDeliveryStreamVersionId": version,
        "DestinationId": "destinationId-000000000001",
        "ExtendedS3DestinationUpdate": destination,
    })
}

#[tokio::test]
async fn an_update_merges_into_the_destination_and_needs_the_current_version() {
    let f = Fixture::with_stream("logs").await;
    f.clock.advance(Duration::from_millis(5_000));
    let change = json!({ "Prefix": "new/", "BufferingHints": { "IntervalInSeconds": 60 } });
    let update_destination = Action::UpdateDestination;
    assert_eq!(
        f.ok(update_destination, update("1", change.clone())).await,
        json!({})
    );
    let description = f.describe("logs").await;
    assert_eq!(description["VersionId"], "2");
    assert_eq!(
        description["LastUpdateTimestamp"],
        json!((T0 + 5_000) as f64 / 1000.0)
    );
    let s3 = &description["Destinations"][0]["ExtendedS3DestinationDescription"];
    assert_eq!(s3["Prefix"], "new/");
    assert_eq!(s3["BucketARN"], "arn:aws:s3:::archive", "kept");
    assert_eq!(
        s3["BufferingHints"],
        json!({ "SizeInMBs": 5, "IntervalInSeconds": 60 })
    );
    let stale = f
        .refused(
            update_destination,
            update("1", change),
            ErrorCode::ConcurrentModificationException,
        )
        .await;
    assert!(stale.contains("VersionId is 2"), "{stale}");
    let invalid = json!({ "BufferingHints": { "SizeInMBs": 64 }, "ProcessingConfiguration": {
        "Enabled": true, "Processors": [{ "Type": "Lambda", "Parameters": [] }] } });
    f.refused(
        update_destination,
        update("2", invalid),
        ErrorCode::InvalidArgumentException,
    )
    .await;
    assert_eq!(
        f.describe("logs").await["VersionId"],
        "2",
        "a refused update changes nothing"
    );
    let mut elsewhere = update("2", json!({}));
    elsewhere["DestinationId"] = json!("destinationId-000000000002");
    f.refused(
        update_destination,
        elsewhere,
        ErrorCode::InvalidArgumentException,
    )
    .await;
    let mut redshift = update("2", json!({}));
    redshift
        .as_object_mut()
        .unwrap()
        .remove("ExtendedS3DestinationUpdate");
    redshift["RedshiftDestinationUpdate"] = json!({ "Username": "u" });
    let message = f
        .refused(
            update_destination,
            redshift,
            ErrorCode::InvalidArgumentException,
        )
        .await;
    assert!(message.contains("ExtendedS3DestinationUpdate"), "{message}");
}

#[tokio::test]
async fn a_creating_stream_cannot_be_updated() {
    let f = Fixture::new(Duration::from_secs(1));
    f.create("logs", json!({})).await;
    let message = f
        .refused(
            Action::UpdateDestination,
            update("1", json!({})),
            ErrorCode::ResourceInUseException,
        )
        .await;
    assert_eq!(
        message,
        format!("Firehose logs under account {ACCOUNT} is not ACTIVE: it is CREATING.")
    );
    f.refused(
        Action::UpdateDestination,
        update("abc", json!({})),
        ErrorCode::ValidationException,
    )
    .await;
}
