//! The Firehose API through aws-sdk-firehose: a delivery stream's lifecycle (create, describe
//! until ACTIVE, list by page, update against its version, tags, delete), puts with their
//! limits, and Firehose's error codes as the SDK parses them.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_firehose::Client;
use aws_sdk_firehose::error::ProvideErrorMetadata;
use aws_sdk_firehose::primitives::Blob;
use aws_sdk_firehose::types::{
    BufferingHints, CompressionFormat, DeliveryStreamStatus, DeliveryStreamType,
    ExtendedS3DestinationConfiguration, ExtendedS3DestinationUpdate,
    KinesisStreamSourceConfiguration, ProcessingConfiguration, Processor, ProcessorParameter,
    ProcessorParameterName, ProcessorType, Record, Tag,
};
use riffle_emulator::{Config, Emulator, ManualClock};

use crate::support::{self, T0, code, message};

const ROLE: &str = "arn:aws:iam::000000000000:role/firehose";
const LAMBDA: &str = "arn:aws:lambda:us-east-1:000000000000:function:normalize";

/// An emulator on a manual clock whose streams stay CREATING for a second, and a client.
async fn start() -> (Emulator, Client, ManualClock) {
    let clock = ManualClock::new(T0);
    let emulator = Emulator::start(Config {
        port: 0,
        clock: Arc::new(clock.clone()),
        status_delay: Duration::from_secs(1),
        ..Config::default()
    })
    .await
    .expect("emulator starts");
    let client = support::firehose_client(&emulator.endpoint_url());
    (emulator, client, clock)
}

/// An extended S3 destination to `bucket` with a Lambda transformation and buffering hints.
fn destination(bucket: &str) -> ExtendedS3DestinationConfiguration {
    let processor = Processor::builder()
        .r#type(ProcessorType::Lambda)
        .parameters(
            ProcessorParameter::builder()
                .parameter_name(ProcessorParameterName::LambdaArn)
                .parameter_value(LAMBDA)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    ExtendedS3DestinationConfiguration::builder()
        .role_arn(ROLE)
        .bucket_arn(format!("arn:aws:s3:::{bucket}"))
        .prefix("logs/")
        .buffering_hints(
            BufferingHints::builder()
                .size_in_mbs(1)
                .interval_in_seconds(60)
                .build(),
        )
        .compression_format(CompressionFormat::Gzip)
        .processing_configuration(
            ProcessingConfiguration::builder()
                .enabled(true)
                .processors(processor)
                .build(),
        )
        .build()
        .unwrap()
}

async fn create(client: &Client, name: &str) -> String {
    let out = client
        .create_delivery_stream()
        .delivery_stream_name(name)
        .extended_s3_destination_configuration(destination("archive"))
        .send()
        .await
        .unwrap();
    out.delivery_stream_arn().unwrap().to_owned()
}

/// Describes `name` until it is ACTIVE, moving the clock a second between tries (bounded).
async fn until_active(client: &Client, clock: &ManualClock, name: &str) {
    for _ in 0..5 {
        let out = client
            .describe_delivery_stream()
            .delivery_stream_name(name)
            .send()
            .await
            .unwrap();
        let status = out
            .delivery_stream_description()
            .unwrap()
            .delivery_stream_status();
        if *status == DeliveryStreamStatus::Active {
            return;
        }
        assert_eq!(*status, DeliveryStreamStatus::Creating);
        clock.advance(Duration::from_secs(1));
    }
    panic!("{name} never became ACTIVE");
}

fn record(data: &[u8]) -> Record {
    Record::builder().data(Blob::new(data)).build().unwrap()
}

#[tokio::test]
async fn a_delivery_stream_is_created_described_until_active_and_parsed_by_the_sdk() {
    let (emulator, client, clock) = start().await;
    let arn = create(&client, "logs").await;
    assert_eq!(
        arn,
        "arn:aws:firehose:us-east-1:000000000000:deliverystream/logs"
    );
    let early = client
        .put_record()
        .delivery_stream_name("logs")
        .record(record(b"too soon"))
        .send()
        .await;
    assert_eq!(code(&early), "ResourceNotFoundException");
    until_active(&client, &clock, "logs").await;
    let out = client
        .describe_delivery_stream()
        .delivery_stream_name("logs")
        .send()
        .await
        .unwrap();
    let description = out.delivery_stream_description().unwrap();
    assert_eq!(description.delivery_stream_arn(), arn);
    assert_eq!(
        *description.delivery_stream_type(),
        DeliveryStreamType::DirectPut
    );
    assert_eq!(description.version_id(), "1");
    assert_eq!(
        description.create_timestamp().unwrap().to_millis().unwrap(),
        T0 as i64
    );
    assert!(!description.has_more_destinations());
    let destination = &description.destinations()[0];
    assert_eq!(destination.destination_id(), "destinationId-000000000001");
    let s3 = destination.extended_s3_destination_description().unwrap();
    assert_eq!(s3.bucket_arn(), "arn:aws:s3:::archive");
    assert_eq!(s3.prefix(), Some("logs/"));
    assert_eq!(*s3.compression_format(), CompressionFormat::Gzip);
    let hints = s3.buffering_hints().unwrap();
    assert_eq!(
        (hints.size_in_mbs(), hints.interval_in_seconds()),
        (Some(1), Some(60))
    );
    let processor = &s3.processing_configuration().unwrap().processors()[0];
    assert_eq!(processor.parameters()[0].parameter_value(), LAMBDA);
    assert!(destination.s3_destination_description().is_some());
    // What the delivery glue reads: the same configuration as riffle-core's plain values.
    let deliveries = emulator.firehose().deliveries();
    assert_eq!(
        deliveries[0].raw.destination.compression.as_deref(),
        Some("GZIP")
    );
    assert_eq!(
        deliveries[0].raw.processor.as_ref().unwrap().parameters[0].1,
        LAMBDA
    );
}

#[tokio::test]
async fn a_batch_is_accepted_in_order_and_one_over_the_record_limit_is_refused_whole() {
    let (emulator, client, clock) = start().await;
    create(&client, "logs").await;
    until_active(&client, &clock, "logs").await;
    let oversized = client
        .put_record_batch()
        .delivery_stream_name("logs")
        .records(record(b"fine"))
        .records(record(&vec![b'x'; 1_024_001]))
        .send()
        .await;
    assert_eq!(code(&oversized), "ValidationException");
    assert!(
        message(&oversized).ends_with(
            "at 'records.2.member.data' failed to satisfy constraint: Member must have length \
             less than or equal to 1024000"
        ),
        "{}",
        message(&oversized)
    );
    let out = client
        .put_record_batch()
        .delivery_stream_name("logs")
        .records(record(b"one"))
        .records(record(b"two"))
        .records(record(&vec![b'z'; 1_024_000]))
        .send()
        .await
        .unwrap();
    assert_eq!(out.failed_put_count(), 0);
    assert_eq!(out.encrypted(), Some(false));
    let ids: Vec<&str> = out
        .request_responses()
        .iter()
        .map(|r| r.record_id().unwrap())
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.iter().all(|id| id.len() >= 100), "{ids:?}");
    assert!(
        out.request_responses()
            .iter()
            .all(|r| r.error_code().is_none())
    );
    let records = emulator.firehose().read("logs", 0, 10).await.unwrap();
    let sizes: Vec<usize> = records.iter().map(|r| r.data.len()).collect();
    assert_eq!(sizes, [3, 3, 1_024_000], "the oversized batch left nothing");
    assert_eq!(records[1].record_id, ids[1]);
    let single = client
        .put_record()
        .delivery_stream_name("logs")
        .record(record(b"three"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        emulator.firehose().read("logs", 3, 10).await.unwrap()[0].record_id,
        single.record_id()
    );
}

#[tokio::test]
async fn streams_are_listed_by_page_updated_against_their_version_tagged_and_deleted() {
    let (_emulator, client, clock) = start().await;
    for name in ["c", "a", "b"] {
        create(&client, name).await;
    }
    clock.advance(Duration::from_secs(1));
    let page = client
        .list_delivery_streams()
        .limit(2)
        .send()
        .await
        .unwrap();
    assert_eq!(page.delivery_stream_names(), ["a", "b"]);
    assert!(page.has_more_delivery_streams());
    let rest = client
        .list_delivery_streams()
        .limit(2)
        .exclusive_start_delivery_stream_name("b")
        .send()
        .await
        .unwrap();
    assert_eq!(rest.delivery_stream_names(), ["c"]);
    assert!(!rest.has_more_delivery_streams());

    let update = |version: &str| {
        client
            .update_destination()
            .delivery_stream_name("a")
            .current_delivery_stream_version_id(version)
            .destination_id("destinationId-000000000001")
            .extended_s3_destination_update(
                ExtendedS3DestinationUpdate::builder().prefix("v2/").build(),
            )
            .send()
    };
    update("1").await.unwrap();
    let stale = update("1").await;
    assert_eq!(code(&stale), "ConcurrentModificationException");
    let out = client
        .describe_delivery_stream()
        .delivery_stream_name("a")
        .send()
        .await
        .unwrap();
    let description = out.delivery_stream_description().unwrap();
    assert_eq!(description.version_id(), "2");
    assert!(description.last_update_timestamp().is_some());
    let s3 = description.destinations()[0]
        .extended_s3_destination_description()
        .unwrap();
    assert_eq!(s3.prefix(), Some("v2/"));
    assert_eq!(*s3.compression_format(), CompressionFormat::Gzip, "kept");

    let tag = |key: String| Tag::builder().key(key).value("v").build().unwrap();
    client
        .tag_delivery_stream()
        .delivery_stream_name("a")
        .set_tags(Some((0..40).map(|i| tag(format!("k{i:02}"))).collect()))
        .send()
        .await
        .unwrap();
    let over = client
        .tag_delivery_stream()
        .delivery_stream_name("a")
        .set_tags(Some((40..51).map(|i| tag(format!("k{i:02}"))).collect()))
        .send()
        .await;
    assert_eq!(code(&over), "LimitExceededException");
    client
        .untag_delivery_stream()
        .delivery_stream_name("a")
        .tag_keys("k00")
        .send()
        .await
        .unwrap();
    let tags = client
        .list_tags_for_delivery_stream()
        .delivery_stream_name("a")
        .limit(50)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags().len(), 39);
    assert_eq!(tags.tags()[0].key(), "k01");
    assert!(!tags.has_more_tags());

    client
        .delete_delivery_stream()
        .delivery_stream_name("a")
        .send()
        .await
        .unwrap();
    let gone = client
        .describe_delivery_stream()
        .delivery_stream_name("a")
        .send()
        .await;
    assert_eq!(code(&gone), "ResourceNotFoundException");
    assert_eq!(
        gone.unwrap_err().message(),
        Some("Firehose a under account 000000000000 not found.")
    );
}

#[tokio::test]
async fn refusals_carry_firehoses_error_codes() {
    let (_emulator, client, clock) = start().await;
    create(&client, "logs").await;
    let again = client
        .create_delivery_stream()
        .delivery_stream_name("logs")
        .extended_s3_destination_configuration(destination("archive"))
        .send()
        .await;
    assert_eq!(code(&again), "ResourceInUseException");
    let bad_name = client
        .create_delivery_stream()
        .delivery_stream_name("no spaces")
        .extended_s3_destination_configuration(destination("archive"))
        .send()
        .await;
    assert_eq!(code(&bad_name), "ValidationException");
    let fed = client
        .create_delivery_stream()
        .delivery_stream_name("fed")
        .delivery_stream_type(DeliveryStreamType::KinesisStreamAsSource)
        .kinesis_stream_source_configuration(
            KinesisStreamSourceConfiguration::builder()
                .kinesis_stream_arn("arn:aws:kinesis:us-east-1:000000000000:stream/orders")
                .role_arn(ROLE)
                .build()
                .unwrap(),
        )
        .extended_s3_destination_configuration(destination("archive"))
        .send()
        .await;
    assert!(fed.is_ok(), "{fed:?}");
    clock.advance(Duration::from_secs(1));
    let put = client
        .put_record()
        .delivery_stream_name("fed")
        .record(record(b"x"))
        .send()
        .await;
    assert_eq!(code(&put), "InvalidArgumentException");
    assert_eq!(
        message(&put),
        "This operation is not permitted on KinesisStreamAsSource delivery stream type."
    );
    let out = client
        .describe_delivery_stream()
        .delivery_stream_name("fed")
        .send()
        .await
        .unwrap();
    let source = out.delivery_stream_description().unwrap().source().unwrap();
    assert_eq!(
        source
            .kinesis_stream_source_description()
            .unwrap()
            .kinesis_stream_arn(),
        Some("arn:aws:kinesis:us-east-1:000000000000:stream/orders")
    );
    let unknown = client
        .put_record_batch()
        .delivery_stream_name("nope")
        .records(record(b"x"))
        .send()
        .await;
    assert_eq!(code(&unknown), "ResourceNotFoundException");
}
