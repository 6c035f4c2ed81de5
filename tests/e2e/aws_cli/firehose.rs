//! The AWS CLI against the emulator's Firehose: a delivery stream driven end to end, and
//! Firehose's error codes as the CLI reports them.

use super::*;

const DESTINATION: &str = r#"{"RoleARN":"arn:aws:iam::000000000000:role/firehose","BucketARN":"arn:aws:s3:::archive","Prefix":"cli/","BufferingHints":{"SizeInMBs":2,"IntervalInSeconds":30}}"#;

#[tokio::test(flavor = "multi_thread")]
async fn cli_drives_a_delivery_stream_and_sees_firehose_error_codes() {
    let (emulator, cli) = start().await;
    for name in ["cli-logs", "cli-other"] {
        let created = cli
            .firehose_json(&[
                "create-delivery-stream",
                "--delivery-stream-name",
                name,
                "--extended-s3-destination-configuration",
                DESTINATION,
                "--tags",
                "Key=team,Value=data",
            ])
            .await;
        assert_eq!(
            str_of(&created, "/DeliveryStreamARN"),
            format!("arn:aws:firehose:us-east-1:000000000000:deliverystream/{name}")
        );
    }
    let described = cli
        .firehose_json(&[
            "describe-delivery-stream",
            "--delivery-stream-name",
            "cli-logs",
        ])
        .await;
    let description = &described["DeliveryStreamDescription"];
    assert_eq!(str_of(description, "/DeliveryStreamStatus"), "ACTIVE");
    assert_eq!(str_of(description, "/VersionId"), "1");
    let s3 = &description["Destinations"][0]["ExtendedS3DestinationDescription"];
    assert_eq!(str_of(s3, "/Prefix"), "cli/");
    assert_eq!(s3["BufferingHints"]["IntervalInSeconds"], 30);
    assert_eq!(str_of(s3, "/CompressionFormat"), "UNCOMPRESSED");

    let one = cli
        .firehose_json(&[
            "put-record",
            "--delivery-stream-name",
            "cli-logs",
            "--record",
            "Data=héllo",
        ])
        .await;
    assert!(str_of(&one, "/RecordId").len() >= 100);
    let batch = cli
        .firehose_json(&[
            "put-record-batch",
            "--delivery-stream-name",
            "cli-logs",
            "--records",
            r#"[{"Data":"two"},{"Data":"three"}]"#,
        ])
        .await;
    assert_eq!(batch["FailedPutCount"], 0);
    assert_eq!(batch["RequestResponses"].as_array().unwrap().len(), 2);
    let records = emulator.firehose().read("cli-logs", 0, 10).await.unwrap();
    let data: Vec<&[u8]> = records.iter().map(|r| r.data.as_slice()).collect();
    assert_eq!(data, ["héllo".as_bytes(), b"two", b"three"]);

    let page = cli
        .firehose_json(&["list-delivery-streams", "--limit", "1"])
        .await;
    assert_eq!(page["DeliveryStreamNames"], serde_json::json!(["cli-logs"]));
    assert_eq!(page["HasMoreDeliveryStreams"], true);

    let update = |version: &'static str| {
        cli.firehose(&[
            "update-destination",
            "--delivery-stream-name",
            "cli-logs",
            "--current-delivery-stream-version-id",
            version,
            "--destination-id",
            "destinationId-000000000001",
            "--extended-s3-destination-update",
            r#"{"CompressionFormat":"GZIP"}"#,
        ])
    };
    update("1").await.json();
    let stale = update("1").await.failure();
    assert!(
        stale.contains("(ConcurrentModificationException)"),
        "{stale}"
    );

    cli.firehose_json(&[
        "untag-delivery-stream",
        "--delivery-stream-name",
        "cli-logs",
        "--tag-keys",
        "team",
    ])
    .await;
    let tags = cli
        .firehose_json(&[
            "list-tags-for-delivery-stream",
            "--delivery-stream-name",
            "cli-other",
        ])
        .await;
    assert_eq!(str_of(&tags, "/Tags/0/Value"), "data");

    cli.firehose_json(&[
        "delete-delivery-stream",
        "--delivery-stream-name",
        "cli-logs",
    ])
    .await;
    let gone = cli
        .firehose(&[
            "put-record",
            "--delivery-stream-name",
            "cli-logs",
            "--record",
            "Data=x",
        ])
        .await
        .failure();
    assert!(
        gone.contains(
            "(ResourceNotFoundException) when calling the PutRecord operation: Firehose \
             cli-logs under account 000000000000 not found."
        ),
        "{gone}"
    );
    let invalid = cli
        .firehose(&[
            "create-delivery-stream",
            "--delivery-stream-name",
            "bad name",
            "--extended-s3-destination-configuration",
            DESTINATION,
        ])
        .await
        .failure();
    assert!(invalid.contains("(ValidationException)"), "{invalid}");
}
